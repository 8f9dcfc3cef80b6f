//! What a send would look like, without sending: the chosen template, the rendered body and
//! what it costs in SMS segments. No network, no credentials involved.

use crate::config::{Config, Template};
use crate::error::ConnectorFailure;
use crate::segments::{self, Segmentation};
use crate::template::{self, Payload};
use crate::twilio;

#[derive(Debug, Clone, PartialEq)]
pub struct Preview<'c> {
    pub template: &'c Template,
    pub body: String,
    pub segmentation: Segmentation,
}

/// Selects and renders exactly as a send would. `locale` overrides `payload.locale`, so a
/// template can be previewed for a language without building a payload for it.
pub fn preview<'c>(
    config: &'c Config,
    usage_type: Option<&str>,
    type_label: &str,
    payload: &dyn Payload,
    locale: Option<&str>,
) -> Result<Preview<'c>, ConnectorFailure> {
    let locale = locale.map(str::to_owned).or_else(|| payload.locale());
    let template = twilio::select(config, usage_type, type_label, locale.as_deref())?;
    let body = template::render_capped(&template.content, payload, template::MAX_BODY_BYTES)
        .ok_or_else(twilio::body_too_long)?;
    let segmentation = segments::segment(&body);
    Ok(Preview {
        template,
        body,
        segmentation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fixture;
    use crate::error::ErrorKind;
    use crate::segments::Encoding;
    use serde_json::json;

    /// The fixture with a French SignIn template.
    fn config() -> Config {
        let mut config = fixture::config(json!({}));
        config.templates.push(Template {
            usage_type: "SignIn".into(),
            content: "Votre code : {{code}} — à bientôt".into(),
            locale: Some("fr".into()),
        });
        config
    }

    #[test]
    fn renders_and_counts_like_a_send() {
        let config = config();
        let p = preview(
            &config,
            Some("SignIn"),
            "SignIn",
            &json!({ "code": "123456" }),
            None,
        )
        .unwrap();
        assert_eq!(
            (p.body.as_str(), p.template.locale.as_deref()),
            ("Your code: 123456 & more", None)
        );
        assert_eq!(
            (p.segmentation.encoding, p.segmentation.segments),
            (Encoding::Gsm7, 1)
        );
    }

    #[test]
    fn explicit_locale_wins_over_the_payload_one() {
        let config = config();
        let payload = json!({ "code": "1", "locale": "en" });
        let p = preview(&config, Some("SignIn"), "SignIn", &payload, Some("fr-CA")).unwrap();
        assert_eq!(p.template.locale.as_deref(), Some("fr"));
        assert_eq!(p.segmentation.encoding, Encoding::Ucs2, "— is not GSM-7");
        let p = preview(
            &config,
            Some("SignIn"),
            "SignIn",
            &json!({ "locale": "FR" }),
            None,
        )
        .unwrap();
        assert_eq!(p.template.locale.as_deref(), Some("fr"));
    }

    #[test]
    fn missing_template_is_template_not_found() {
        let mut config = config();
        config.templates.retain(|t| t.usage_type != "Generic");
        let err = preview(&config, Some("BindMfa"), "BindMfa", &json!({}), None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TemplateNotFound);
    }
}
