//! Which template a send uses: by usage type and the recipient's locale.

use crate::config::{Template, GENERIC_USAGE_TYPE};

/// The usage type a call asked for, as one value: only a string names a template (anything
/// else gets the `Generic` one, as in the JS connector), and how the value prints is what the
/// `template_not_found` message quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageType<'a> {
    label: &'a str,
    is_string: bool,
}

impl<'a> UsageType<'a> {
    /// A string usage type.
    pub fn string(text: &'a str) -> Self {
        UsageType {
            label: text,
            is_string: true,
        }
    }

    /// A value that is not a string, printed as `label`.
    pub fn other(label: &'a str) -> Self {
        UsageType {
            label,
            is_string: false,
        }
    }

    /// The name templates are matched by; `None` when the value was not a string.
    pub fn name(self) -> Option<&'a str> {
        self.is_string.then_some(self.label)
    }

    /// How the value prints, for messages.
    pub fn label(self) -> &'a str {
        self.label
    }
}

/// The template for `usage_type` in `locale`, else the `Generic` one through the same chain
/// (see [`of_type`]). `None` as the usage type only ever matches `Generic`.
///
/// Without `locale` fields in the config this is connector-kit's `getConfigTemplateByType`:
/// the first template of the type, else the first `Generic` one.
pub fn choose<'t>(
    templates: &'t [Template],
    usage_type: Option<&str>,
    locale: Option<&str>,
) -> Option<&'t Template> {
    usage_type
        .and_then(|wanted| of_type(templates, wanted, locale))
        .or_else(|| of_type(templates, GENERIC_USAGE_TYPE, locale))
}

/// For one usage type: the exact locale (case-insensitive), then the bare primary language
/// (`fr-CA` → `fr`), then any template of that primary language (`fr-CA` → `fr-FR`), then
/// the template without a locale. First match in config order at each step.
pub fn of_type<'t>(
    templates: &'t [Template],
    usage_type: &str,
    locale: Option<&str>,
) -> Option<&'t Template> {
    let of_type = || templates.iter().filter(move |t| t.usage_type == usage_type);
    let localized = locale.filter(|l| !l.is_empty()).and_then(|wanted| {
        let primary = primary_language(wanted);
        let has =
            |pred: &dyn Fn(&str) -> bool| of_type().find(|t| t.locale.as_deref().is_some_and(pred));
        has(&|l| l.eq_ignore_ascii_case(wanted))
            .or_else(|| has(&|l| l.eq_ignore_ascii_case(primary)))
            .or_else(|| has(&|l| primary_language(l).eq_ignore_ascii_case(primary)))
    });
    localized.or_else(|| of_type().find(|t| t.locale.is_none()))
}

/// The language subtag of a BCP 47 tag: `pt` for `pt-BR`.
pub fn primary_language(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fixture::{config, with};
    use crate::config::Config;
    use serde_json::json;

    fn content_for(config: &Config, usage_type: &str, locale: Option<&str>) -> String {
        choose(&config.templates, Some(usage_type), locale)
            .map(|t| t.content.clone())
            .unwrap_or_default()
    }

    #[test]
    fn template_selection_falls_back_to_generic() {
        let config = config(json!({}));
        assert_eq!(
            choose(&config.templates, Some("SignIn"), None)
                .unwrap()
                .content,
            "Your code: {{code}} & more"
        );
        assert_eq!(
            choose(&config.templates, Some("MfaVerification"), None)
                .unwrap()
                .content,
            "g {{code}}"
        );
        assert_eq!(
            choose(&config.templates, None, None).unwrap().content,
            "g {{code}}"
        );
    }

    fn localized() -> Config {
        Config::from_value(&with(
            "templates",
            json!([
                { "usageType": "Register", "content": "r" },
                { "usageType": "SignIn", "content": "s-pt-br", "locale": "pt-BR" },
                { "usageType": "SignIn", "content": "s-fr-fr", "locale": "fr-FR" },
                { "usageType": "SignIn", "content": "s-fr", "locale": "fr" },
                { "usageType": "SignIn", "content": "s" },
                { "usageType": "ForgotPassword", "content": "f" },
                { "usageType": "Generic", "content": "g-de", "locale": "de" },
                { "usageType": "Generic", "content": "g" },
                { "usageType": "BindMfa", "content": "b-es", "locale": "es" },
            ]),
        ))
        .unwrap()
    }

    #[test]
    fn locale_selection_chain() {
        let c = localized();
        // 1. exact, case-insensitive
        assert_eq!(content_for(&c, "SignIn", Some("pt-BR")), "s-pt-br");
        assert_eq!(content_for(&c, "SignIn", Some("PT-br")), "s-pt-br");
        assert_eq!(content_for(&c, "SignIn", Some("fr-FR")), "s-fr-fr");
        // 2. the bare primary language, before another region of it
        assert_eq!(content_for(&c, "SignIn", Some("fr-CA")), "s-fr");
        assert_eq!(content_for(&c, "SignIn", Some("fr")), "s-fr");
        // 2b. another region of the same language
        assert_eq!(content_for(&c, "SignIn", Some("pt")), "s-pt-br");
        assert_eq!(content_for(&c, "SignIn", Some("pt-PT")), "s-pt-br");
        // 3. the usage type without a locale
        assert_eq!(content_for(&c, "SignIn", Some("ja")), "s");
        assert_eq!(content_for(&c, "SignIn", None), "s");
        assert_eq!(content_for(&c, "SignIn", Some("")), "s");
        // 4. Generic through the same chain
        assert_eq!(content_for(&c, "MfaVerification", Some("de-AT")), "g-de");
        assert_eq!(content_for(&c, "MfaVerification", Some("fr")), "g");
        // A localized-only type never serves another language: Generic does.
        assert_eq!(content_for(&c, "BindMfa", Some("es-MX")), "b-es");
        assert_eq!(content_for(&c, "BindMfa", Some("en")), "g");
        assert_eq!(content_for(&c, "BindMfa", None), "g");
        assert_eq!(content_for(&c, "Register", Some("fr")), "r");
    }

    #[test]
    fn without_locales_selection_is_the_js_connectors() {
        let c = Config::from_value(&with(
            "templates",
            json!([
                { "usageType": "Generic", "content": "g1" },
                { "usageType": "Register", "content": "r1" },
                { "usageType": "SignIn", "content": "s1" },
                { "usageType": "SignIn", "content": "s2" },
                { "usageType": "ForgotPassword", "content": "f1" },
                { "usageType": "Generic", "content": "g2" },
            ]),
        ))
        .unwrap();
        for locale in [None, Some("fr"), Some("en-US")] {
            assert_eq!(content_for(&c, "SignIn", locale), "s1");
            assert_eq!(content_for(&c, "BindMfa", locale), "g1");
            assert_eq!(choose(&c.templates, None, locale).unwrap().content, "g1");
        }
    }
}
