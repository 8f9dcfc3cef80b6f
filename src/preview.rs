//! What a send would look like, without sending: the chosen template, the rendered body and
//! what it costs in SMS segments. No network, no credentials involved.

use crate::config::{Config, Template};
use crate::country;
use crate::error::ConnectorFailure;
use crate::segments::{self, Segmentation};
use crate::template::{self, Payload, UsageType};
use crate::twilio;

#[derive(Debug, Clone, PartialEq)]
pub struct Preview<'c> {
    pub template: &'c Template,
    pub body: String,
    pub segmentation: Segmentation,
    /// What the connector makes of the recipient, when one was given.
    pub recipient: Option<Recipient>,
}

/// The country of a previewed recipient and whether `allowedCountries` lets a send reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// ISO 3166-1 alpha-2, from the phone-number metadata; `None` for a number of no country.
    pub country: Option<String>,
    /// Whether a send to it would pass `allowedCountries` (always, without the field).
    pub allowed: bool,
    /// The send's error message when it would not.
    pub rejection: Option<String>,
}

/// The recipient as a send would judge it: the allowlist's check when one is configured, else
/// only the metadata's country (nothing is refused).
pub fn recipient(config: &Config, to: &str) -> Recipient {
    let Some(allowed) = &config.allowed_countries else {
        return Recipient {
            country: country::detect(to).map(|c| c.iso),
            allowed: true,
            rejection: None,
        };
    };
    match country::check(to, allowed) {
        Ok(found) => Recipient {
            country: Some(found.country.iso),
            allowed: true,
            rejection: None,
        },
        Err(rejection) => Recipient {
            country: match &rejection {
                country::Rejection::CountryNotAllowed { country, .. }
                | country::Rejection::NotAsWritten { country, .. } => Some(country.iso.clone()),
                _ => None,
            },
            allowed: false,
            rejection: Some(ConnectorFailure::country_not_allowed(&rejection).into_message()),
        },
    }
}

/// Selects and renders exactly as a send would. `locale` overrides `payload.locale`, so a
/// template can be previewed for a language without building a payload for it.
pub fn preview<'c>(
    config: &'c Config,
    usage_type: UsageType,
    payload: &dyn Payload,
    locale: Option<&str>,
    to: Option<&str>,
) -> Result<Preview<'c>, ConnectorFailure> {
    let locale = locale.map(str::to_owned).or_else(|| payload.locale());
    let template = twilio::select(config, usage_type, locale.as_deref())?;
    let body = template::render_capped(&template.content, payload, template::MAX_BODY_BYTES)
        .ok_or_else(twilio::body_too_long)?;
    let segmentation = segments::segment(&body);
    Ok(Preview {
        template,
        body,
        segmentation,
        recipient: to.map(|to| recipient(config, to)),
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
            UsageType::string("SignIn"),
            &json!({ "code": "123456" }),
            None,
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
        let p = preview(
            &config,
            UsageType::string("SignIn"),
            &payload,
            Some("fr-CA"),
            None,
        )
        .unwrap();
        assert_eq!(p.template.locale.as_deref(), Some("fr"));
        assert_eq!(p.segmentation.encoding, Encoding::Ucs2, "— is not GSM-7");
        let p = preview(
            &config,
            UsageType::string("SignIn"),
            &json!({ "locale": "FR" }),
            None,
            None,
        )
        .unwrap();
        assert_eq!(p.template.locale.as_deref(), Some("fr"));
    }

    #[test]
    fn reports_the_recipients_country_and_the_allowlists_verdict() {
        let open = config();
        let r = recipient(&open, "+18769299200");
        assert_eq!((r.country.as_deref(), r.allowed), (Some("JM"), true));
        assert_eq!(recipient(&open, "+19999999999").country, None);

        let listed = fixture::config(json!({ "allowedCountries": ["US", "CA"] }));
        let r = recipient(&listed, "+18769299200");
        assert_eq!((r.country.as_deref(), r.allowed), (Some("JM"), false));
        let rejection = r.rejection.unwrap();
        assert!(rejection.contains("allowed: CA, US"), "{rejection}");
        let r = recipient(&listed, "+16135802400");
        assert_eq!((r.country.as_deref(), r.allowed), (Some("CA"), true));
        let r = recipient(&listed, "+19999999999");
        assert_eq!((r.country, r.allowed), (None, false));

        let p = preview(
            &listed,
            UsageType::string("SignIn"),
            &json!({}),
            None,
            Some("+447400123456"),
        )
        .unwrap();
        assert_eq!(p.recipient.unwrap().country.as_deref(), Some("GB"));
    }

    #[test]
    fn missing_template_is_template_not_found() {
        let mut config = config();
        config.templates.retain(|t| t.usage_type != "Generic");
        let err = preview(
            &config,
            UsageType::string("BindMfa"),
            &json!({}),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TemplateNotFound);
    }
}
