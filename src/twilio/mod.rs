//! The Twilio Messages API call: the request the JS connector would send, sent under the
//! delivery policy. The pieces shared with usage are beside it: the embedder's `options`, the
//! authorized `request`, and `response` classification.

pub mod options;
pub mod request;
pub mod response;

use crate::config::{Config, Template};
use crate::delivery::{self, Attempt, CredentialKey, Phase, Policy};
use crate::error::ConnectorFailure;
use crate::pumping;
use crate::template::{self, Payload, UsageType};

pub use options::{ConnectorOptions, SendOptions};
pub use request::AccountRequest;
pub use response::{classify_message, Delivered};
use response::{header, never_written, read_capped};

const MAX_URL_LEN: usize = 65_534;

/// A Messages API request, ready to go: built synchronously (template, payload) so only the
/// network part runs on the async runtime.
#[derive(Debug)]
pub struct Outgoing {
    pub request: AccountRequest,
    /// `application/x-www-form-urlencoded`, fields in the JS connector's order.
    pub form: String,
    /// The in-flight limit applies per credential and host.
    limiter_key: CredentialKey,
    /// `smsPumping`'s check, run before the first attempt; `None` without `smsPumping`.
    screening: Option<pumping::Screening>,
}

impl Outgoing {
    /// The end user's IP address (Logto's `ip`), for `smsPumping`'s per-IP limits.
    pub fn set_client_ip(&mut self, ip: Option<&str>) {
        if let Some(screening) = &mut self.screening {
            screening.set_ip(ip);
        }
    }
}

/// Builds the request the JS connector would send for `(to, usage_type, payload)`.
///
pub fn prepare(
    config: &Config,
    options: &SendOptions,
    to: &str,
    usage_type: UsageType,
    payload: &dyn Payload,
) -> Result<Outgoing, ConnectorFailure> {
    // First, so a refused recipient costs no rendering and reveals nothing about templates.
    // With an allowlist, `To` is the E.164 number that was checked, never other digits;
    // without one, it is the JS connector's: as given, with a `+` when it has none.
    let to = match &config.allowed_countries {
        Some(allowed) => {
            crate::country::check(to, allowed)
                .map_err(|rejection| ConnectorFailure::country_not_allowed(&rejection))?
                .e164
        }
        None if to.starts_with('+') => to.to_owned(),
        None => format!("+{to}"),
    };
    let template = select(config, usage_type, payload.locale().as_deref())?;
    let body = template::render_capped(&template.content, payload, template::MAX_BODY_BYTES)
        .ok_or_else(body_too_long)?;
    let risk_check = if config.disable_risk_check {
        "disable"
    } else {
        "enable"
    };
    // The JS connector's four fields in its order, then the optional ones (absent by default),
    // so a config without them produces the JS connector's bytes.
    let validity_period = config.validity_period.map(|s| s.to_string());
    let fields = [
        ("To", Some(to.as_str())),
        ("MessagingServiceSid", config.sender.messaging_service_sid()),
        ("Body", Some(body.as_str())),
        ("RiskCheck", Some(risk_check)),
        (
            "From",
            config.sender.sent_as_from().map(|from| from.as_str()),
        ),
        ("ValidityPeriod", validity_period.as_deref()),
        (
            "SmartEncoded",
            config
                .smart_encoded
                .map(|on| if on { "true" } else { "false" }),
        ),
    ];
    let present = fields
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)));
    let form = request::form(present, body.len() + 128);
    let screening = match &config.sms_pumping {
        Some(_) => pumping::Screening::new(
            config,
            options,
            &to,
            crate::segments::segment(&body).segments,
        )?,
        None => None,
    };

    let request = AccountRequest::new(config, options, "Messages.json")?;
    // hyper refuses longer URIs. The host is at most 253 characters (the config's host rule,
    // `options.baseUrl`'s check), so only an absurd accountSID gets there.
    if request.url.len() > MAX_URL_LEN {
        return Err(ConnectorFailure::account_sid_too_long(
            config.account_sid.chars().count(),
        ));
    }
    Ok(Outgoing {
        limiter_key: {
            let (user, secret) = config.credentials();
            CredentialKey::new(&request.origin, &config.account_sid, user, secret.expose())
        },
        request,
        form,
        screening,
    })
}

/// The rendered body would be over [`template::MAX_BODY_BYTES`].
pub(crate) fn body_too_long() -> ConnectorFailure {
    ConnectorFailure::body_too_long(template::MAX_BODY_BYTES)
}

/// The template for a send or a preview, or the JS connector's `template_not_found` error.
pub fn select<'c>(
    config: &'c Config,
    usage_type: UsageType,
    locale: Option<&str>,
) -> Result<&'c Template, ConnectorFailure> {
    template::choose(&config.templates, usage_type.name(), locale)
        .ok_or_else(|| ConnectorFailure::template_not_found(usage_type.label()))
}

/// Sends one prepared request: resolves with Twilio's Message resource, or fails with the
/// code Logto needs. Waits for a free slot of the credential's in-flight limit, never follows a
/// redirect, and retries only attempts Twilio cannot have processed, all within
/// `options.timeout`.
pub async fn send(
    client: &reqwest::Client,
    request: Outgoing,
    options: &SendOptions,
    started: tokio::time::Instant,
) -> Result<Delivered, ConnectorFailure> {
    let deadline = started + options.timeout;
    // Before any slot is taken or byte sent: a refused send costs Twilio nothing.
    if let Some(screening) = &request.screening {
        pumping::admit(client, screening, options, deadline)
            .await
            .map_err(|failure| request.request.redact(failure))?;
    }
    let limiter = delivery::limiter(&request.limiter_key, options.max_concurrency);
    let phase = Phase::default();
    let policy = Policy {
        deadline,
        max_retries: options.max_retries,
    };
    let attempts = delivery::run(&limiter, policy, &phase, || exchange(client, &request));
    let result = match tokio::time::timeout_at(deadline, attempts).await {
        Ok(result) => result,
        Err(_) => Err(ConnectorFailure::timeout(
            &request.request.origin,
            options.timeout,
            phase.waiting(),
        )),
    };
    result.map_err(|failure| request.request.redact(failure))
}

async fn exchange(client: &reqwest::Client, outgoing: &Outgoing) -> Attempt<Delivered> {
    let request = &outgoing.request;
    let sent = client
        .post(&request.url)
        .header(
            reqwest::header::AUTHORIZATION,
            request.authorization.expose(),
        )
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(outgoing.form.clone())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            let failure = ConnectorFailure::transport(&request.origin, &err);
            return if never_written(&err) {
                Attempt::NotSent {
                    failure,
                    retry_after: None,
                }
            } else {
                Attempt::Done(Err(failure))
            };
        }
    };
    let status = response.status().as_u16();
    let location = header(&response, reqwest::header::LOCATION);
    let retry_after = header(&response, reqwest::header::RETRY_AFTER)
        .and_then(|v| delivery::parse_retry_after(&v, std::time::SystemTime::now()));
    let outcome = match read_capped(response, &request.origin).await {
        Ok(body) => classify_message(status, location.as_deref(), body, &request.origin),
        Err(failure) => Err(failure),
    };
    match outcome {
        // Twilio did not process a 429 (error 20429): safe to try again.
        Err(failure) if status == 429 => Attempt::Throttled {
            failure,
            retry_after,
        },
        outcome => Attempt::Done(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fixture::config;
    use crate::error::ConnectorErrorCode;
    use crate::error::ErrorKind;
    use serde_json::{json, Value};

    /// A SignIn code to +1 with the default options.
    fn sign_in(config: &Config, payload: &Value) -> Outgoing {
        prepare(
            config,
            &SendOptions::default(),
            "1",
            UsageType::string("SignIn"),
            payload,
        )
        .unwrap()
    }

    #[test]
    fn the_allowlist_refuses_before_anything_is_built_and_lets_allowed_numbers_through() {
        let to = |config: &Config, to: &str, usage: &str| {
            prepare(
                config,
                &SendOptions::default(),
                to,
                UsageType::string(usage),
                &json!({ "code": "1" }),
            )
        };
        let listed = config(json!({ "allowedCountries": ["US", "CA"] }));
        // Refused even for a usage type without a template: the recipient is checked first.
        for usage in ["SignIn", "NoSuchType"] {
            let err = to(&listed, "18769299200", usage).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::CountryNotAllowed);
            assert_eq!(err.code(), ConnectorErrorCode::InvalidRequestParameters);
            assert!(err.message().contains("JM (+1)"), "{}", err.message());
            assert!(
                err.message().contains("(allowed: CA, US)"),
                "{}",
                err.message()
            );
            assert!(!err.message().contains("secret-token-xyz"));
        }
        let allowed = to(&listed, "16135802400", "SignIn").unwrap();
        let open = to(&config(json!({})), "16135802400", "SignIn").unwrap();
        assert_eq!(
            allowed.form, open.form,
            "the allowlist changes no byte of the request"
        );
        // `To` is the number checked: separators go, and digits the check dropped refuse it.
        let formatted = to(&listed, "+1 (202) 456-1111", "SignIn").unwrap();
        assert!(
            formatted.form.starts_with("To=%2B12024561111&"),
            "{}",
            formatted.form
        );
        let open = to(&config(json!({})), "+1 (202) 456-1111", "SignIn").unwrap();
        assert!(
            open.form.starts_with("To=%2B1+%28202%29+456-1111&"),
            "{}",
            open.form
        );
        let err = to(&listed, "+1 1 202 456 1111", "SignIn").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CountryNotAllowed);
        assert!(
            err.message().contains("is read as +12024561111"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn senders_of_every_form_are_sent_as_from() {
        for from in ["+15017122661", "12345", "ACME Bank"] {
            let out = sign_in(&config(json!({ "fromPhoneNumber": from })), &json!({}));
            let expected = form_urlencoded::Serializer::new(String::new())
                .append_pair("From", from)
                .finish();
            assert!(out.form.ends_with(&format!("&{expected}")), "{}", out.form);
        }
    }

    #[test]
    fn builds_the_js_connectors_request() {
        let out = prepare(
            &config(json!({})),
            &SendOptions::default(),
            "15551234567",
            UsageType::string("SignIn"),
            &json!({ "code": "123456" }),
        )
        .unwrap();
        assert_eq!(
            out.request.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json"
        );
        assert_eq!(
            out.form,
            "To=%2B15551234567&MessagingServiceSid=MG99&Body=Your+code%3A+123456+%26+more&RiskCheck=enable"
        );
        assert_eq!(
            out.request.authorization.expose(),
            "Basic QUMwMTIzOnNlY3JldC10b2tlbi14eXo="
        );
        assert!(!format!("{out:?}").contains("secret-token-xyz"));
    }

    #[test]
    fn host_base_url_risk_check_and_plus() {
        let cfg = config(
            json!({ "host": "api.dublin.ie1.twilio.com", "disableRiskCheck": true, "accountSID": "A/B?#" }),
        );
        let out = prepare(
            &cfg,
            &SendOptions::default(),
            "+1",
            UsageType::string("X"),
            &json!({}),
        )
        .unwrap();
        assert_eq!(
            out.request.url,
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/A%2FB%3F%23/Messages.json"
        );
        assert!(out.form.starts_with("To=%2B1&"));
        assert!(out
            .form
            .ends_with("Body=g+%7B%7Bcode%7D%7D&RiskCheck=disable"));
        let options = SendOptions::new(ConnectorOptions {
            base_url: Some("http://127.0.0.1:9/".into()),
            timeout_ms: Some(50.0),
            ..ConnectorOptions::default()
        })
        .unwrap();
        let out = prepare(
            &cfg,
            &options,
            "1",
            UsageType::string("Register"),
            &json!({}),
        )
        .unwrap();
        assert!(out
            .request
            .url
            .starts_with("http://127.0.0.1:9/2010-04-01/"));
    }

    #[test]
    fn missing_template_is_template_not_found() {
        let mut cfg = config(json!({}));
        cfg.templates.retain(|t| t.usage_type != "Generic");
        let err = prepare(
            &cfg,
            &SendOptions::default(),
            "1",
            UsageType::string("Mfa"),
            &json!({}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TemplateNotFound);
        assert_eq!(err.code(), ConnectorErrorCode::TemplateNotFound);
        assert_eq!(err.message(), "Cannot find template for type: Mfa");
    }

    #[test]
    fn bodies_past_the_cap_and_dot_account_sids_are_refused() {
        let err = prepare(
            &config(json!({})),
            &SendOptions::default(),
            "1",
            UsageType::string("SignIn"),
            &json!({ "code": "x".repeat(template::MAX_BODY_BYTES) }),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BodyTooLong);
        assert_eq!(err.code(), ConnectorErrorCode::InvalidRequestParameters);
        for sid in [".", ".."] {
            let err = prepare(
                &config(json!({ "accountSID": sid })),
                &SendOptions::default(),
                "1",
                UsageType::string("SignIn"),
                &json!({}),
            )
            .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnusableAccountSid);
            assert_eq!(err.code(), ConnectorErrorCode::InvalidConfig);
        }
        // Other dots stay: `...` and `.x` are ordinary segments.
        let out = sign_in(&config(json!({ "accountSID": "..." })), &json!({}));
        assert!(
            out.request.url.ends_with("/Accounts/.../Messages.json"),
            "{}",
            out.request.url
        );
    }

    #[test]
    fn optional_fields_are_appended_after_the_js_ones() {
        let cfg = config(json!({
            "fromPhoneNumber": "+15550001111",
            "validityPeriod": 300,
            "smartEncoded": true,
        }));
        let out = sign_in(&cfg, &json!({ "code": "9" }));
        assert_eq!(
            out.form,
            "To=%2B1&MessagingServiceSid=MG99&Body=Your+code%3A+9+%26+more&RiskCheck=enable\
             &From=%2B15550001111&ValidityPeriod=300&SmartEncoded=true"
        );
        let cfg = config(
            json!({ "fromMessagingServiceSID": "", "fromPhoneNumber": "+15550001111", "smartEncoded": false }),
        );
        let out = sign_in(&cfg, &json!({ "code": "9" }));
        assert_eq!(
            out.form,
            "To=%2B1&Body=Your+code%3A+9+%26+more&RiskCheck=enable&From=%2B15550001111&SmartEncoded=false"
        );
    }

    #[test]
    fn an_api_key_authenticates_while_the_url_keeps_the_account() {
        let cfg = config(json!({ "apiKeySID": "SK77", "apiKeySecret": "key-secret-abc" }));
        let out = sign_in(&cfg, &json!({}));
        assert_eq!(
            out.request.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json"
        );
        assert_eq!(
            out.request.authorization.expose(),
            "Basic U0s3NzprZXktc2VjcmV0LWFiYw=="
        );
        let exposed = out.request.secrets();
        assert!(exposed.contains(&"key-secret-abc") && exposed.contains(&"secret-token-xyz"));
        assert!(!format!("{out:?}").contains("key-secret-abc"));
    }

    #[test]
    fn payload_locale_picks_the_localized_template() {
        let mut cfg = config(json!({}));
        cfg.templates.push(crate::config::Template {
            usage_type: "SignIn".into(),
            content: "Code {{code}} (fr)".into(),
            locale: Some("fr".into()),
        });
        let body = |payload: Value| {
            let out = sign_in(&cfg, &payload);
            out.form
                .split('&')
                .find(|f| f.starts_with("Body="))
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            body(json!({ "code": "1", "locale": "fr-CA" })),
            "Body=Code+1+%28fr%29"
        );
        assert_eq!(
            body(json!({ "code": "1", "locale": "en" })),
            "Body=Your+code%3A+1+%26+more"
        );
        assert_eq!(
            body(json!({ "code": "1", "locale": 5 })),
            "Body=Your+code%3A+1+%26+more"
        );
    }
}
