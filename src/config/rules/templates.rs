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

#[cfg(test)]
mod tests {
    use super::super::tests::messages;
    use super::*;
    use crate::config::fixture::{valid, with};
    use serde_json::json;

    #[test]
    fn locale_rules() {
        for good in ["fr", "pt-BR", "zh-Hant-TW", "es-419", "EN", "yue"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in [
            "f",
            "pt_BR",
            "fr,en",
            " fr",
            "fr-",
            "-fr",
            "fr--CA",
            "123",
            "en-toolongsubtag",
            "français",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
        let templates = |locale: Value| {
            let mut t = valid()["templates"].clone();
            t.as_array_mut()
                .unwrap()
                .push(json!({ "usageType": "SignIn", "content": "x", "locale": locale }));
            messages(&with("templates", t))
        };
        assert!(templates(json!("pt_BR"))[0]
            .starts_with("templates[4].locale: Must be a BCP 47 language tag"));
        assert_eq!(
            templates(json!(7)),
            vec!["templates[4].locale: Expected string, received number"]
        );
        assert!(templates(json!(null)).is_empty());
        assert!(templates(json!("")).is_empty());
    }

    #[test]
    fn required_usage_types_need_a_template_without_locale() {
        let config = with(
            "templates",
            json!([
                { "usageType": "Register", "content": "r", "locale": "en" },
                { "usageType": "SignIn", "content": "s" },
                { "usageType": "ForgotPassword", "content": "f" },
                { "usageType": "Generic", "content": "g" },
            ]),
        );
        assert_eq!(
            messages(&config),
            vec![
                "templates: Template with UsageType (Register) should be provided! Templates with \
                  a locale do not count: add one without a locale as the fallback for other \
                  languages."
            ]
        );
    }

    #[test]
    fn template_items_are_checked_with_their_index() {
        let config = with(
            "templates",
            json!([{ "usageType": "Register" }, 5, { "usageType": 1, "content": "c", "extra": true }]),
        );
        assert_eq!(
            messages(&config),
            vec![
                "templates[0].content: Required: expected a string",
                "templates[1]: Expected object, received number",
                "templates[2].usageType: Expected string, received number",
            ]
        );
    }

    #[test]
    fn names_missing_usage_types_in_js_order() {
        let config = with(
            "templates",
            json!([{ "usageType": "SignIn", "content": "x" }, { "usageType": "ForgotPassword", "content": "y" }]),
        );
        assert_eq!(
            messages(&config),
            vec!["templates: Template with UsageType (Register, Generic) should be provided!"]
        );
    }
}
