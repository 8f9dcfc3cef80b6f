//! `templates`: each usage type, content and locale.

use super::*;

/// Loose BCP 47: a 2-8 letter language, then `-`-separated 1-8 character alphanumeric subtags.
/// Enough to catch `pt_BR`, `fr,en` or a stray space without a full registry of subtags.
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    (2..=8).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub(super) fn templates(object: &Map<String, Value>, issues: &mut Issues) -> Option<Vec<Template>> {
    let items = match object.get("templates") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            issues.type_mismatch(vec!["templates".into()], "array", other);
            return None;
        }
        None => {
            issues.missing("templates", "array");
            return None;
        }
    };
    let before = issues.len();
    let mut templates = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = |key: &str| vec![PathSegment::from("templates"), index.into(), key.into()];
        let Some(fields) = item.as_object() else {
            issues.type_mismatch(vec!["templates".into(), index.into()], "object", item);
            continue;
        };
        let mut field = |key: &str| match fields.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                issues.type_mismatch(path(key), "string", other);
                None
            }
            None => {
                issues.required(
                    path(key),
                    "string",
                    "undefined",
                    "Required: expected a string",
                );
                None
            }
        };
        let usage_type = field("usageType");
        let content = field("content");
        let locale = template_locale(fields, path("locale"), issues);
        if let (Some(usage_type), Some(content), Ok(locale)) = (usage_type, content, locale) {
            templates.push(Template {
                usage_type,
                content,
                locale,
            });
        }
    }
    if issues.len() > before {
        return None;
    }
    // Only templates without a locale count: every language then has something to fall back to.
    let missing: Vec<&str> = REQUIRED_USAGE_TYPES
        .into_iter()
        .filter(|required| {
            !templates
                .iter()
                .any(|t| t.usage_type == *required && t.locale.is_none())
        })
        .collect();
    if !missing.is_empty() {
        // The JS connector's exact sentence: operators and their scripts already know it.
        let mut message = format!(
            "Template with UsageType ({}) should be provided!",
            missing.join(", ")
        );
        if missing
            .iter()
            .any(|m| templates.iter().any(|t| t.usage_type == *m))
        {
            message.push_str(
                " Templates with a locale do not count: add one without a locale as the fallback \
                 for other languages.",
            );
        }
        issues.push(vec!["templates".into()], "custom", message);
        return None;
    }
    Some(templates)
}

/// A template's optional `locale`: `Ok(None)` when absent (or `null` / `''`), `Err` when invalid.
pub(super) fn template_locale(
    fields: &Map<String, Value>,
    path: Vec<PathSegment>,
    issues: &mut Issues,
) -> Result<Option<String>, ()> {
    match new_optional(fields, "locale") {
        None => Ok(None),
        Some(Value::String(tag)) if is_language_tag(tag) => Ok(Some(tag.clone())),
        Some(Value::String(_)) => {
            issues.push(
                path,
                "invalid_string",
                "Must be a BCP 47 language tag such as fr, pt-BR or zh-Hant-TW (letters and \
                 digits, parts joined with -), or left out for the fallback template",
            );
            Err(())
        }
        Some(other) => {
            issues.type_mismatch(path, "string", other);
            Err(())
        }
    }
}
