//! The Twilio Messages API call: request building identical to the JS connector's, and the
//! mapping of every outcome to a connector-kit error code.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::config::{Config, Template};
use crate::delivery::{self, Attempt, Phase, Policy};
use crate::error::{ConnectorFailure, ErrorKind};
use crate::secret::Secret;
use crate::template::{self, Payload};
use crate::transport;

/// Long enough for Twilio on a slow day, short enough that a sign-in page does not hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Twilio's answers are a few kB; anything far bigger is not Twilio.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const MAX_TIMEOUT_MS: f64 = 600_000.0;
const MAX_URL_LEN: usize = 65_534;

/// Per-connector transport options (the config is Logto's; these are the embedder's).
#[derive(Debug, Clone, PartialEq)]
pub struct SendOptions {
    /// `scheme://host[:port]` replacing `https://<host>`, for Twilio-compatible test servers.
    pub base_url: Option<String>,
    /// The whole call: queueing, every attempt and every backoff.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The ceiling of requests in flight per Twilio account (the limit adapts below it on
    /// 429s); the rest wait in order.
    pub max_concurrency: usize,
    /// Retries of attempts that were never written; a 429 is retried until the deadline.
    pub max_retries: u32,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: transport::DEFAULT_CONNECT_TIMEOUT,
            max_concurrency: delivery::DEFAULT_MAX_CONCURRENCY,
            max_retries: delivery::DEFAULT_MAX_RETRIES,
        }
    }
}

/// The embedder's options as numbers from JS, before their ranges are checked.
#[derive(Debug, Clone, Default)]
pub struct RawOptions {
    pub base_url: Option<String>,
    pub timeout_ms: Option<f64>,
    pub connect_timeout_ms: Option<f64>,
    pub max_concurrency: Option<f64>,
    pub max_retries: Option<f64>,
}

impl SendOptions {
    pub fn new(raw: RawOptions) -> Result<Self, ConnectorFailure> {
        let defaults = SendOptions::default();
        let millis = |name, value: Option<f64>, default: Duration| {
            ranged(name, "a number of milliseconds", value, 1.0, MAX_TIMEOUT_MS)
                .map(|ms| ms.map_or(default, |ms| Duration::from_millis(ms as u64)))
        };
        Ok(SendOptions {
            base_url: raw
                .base_url
                .map(|url| validate_base_url(&url))
                .transpose()?,
            timeout: millis("timeoutMs", raw.timeout_ms, defaults.timeout)?,
            connect_timeout: millis(
                "connectTimeoutMs",
                raw.connect_timeout_ms,
                defaults.connect_timeout,
            )?,
            max_concurrency: ranged(
                "maxConcurrency",
                "an integer",
                raw.max_concurrency,
                1.0,
                1000.0,
            )?
            .map_or(defaults.max_concurrency, |n| n as usize),
            max_retries: ranged("maxRetries", "an integer", raw.max_retries, 0.0, 10.0)?
                .map_or(defaults.max_retries, |n| n as u32),
        })
    }
}

/// Checks an optional numeric option; integers only, since a fractional count or millisecond
/// would be silently rounded.
fn ranged(
    name: &str,
    what: &str,
    value: Option<f64>,
    min: f64,
    max: f64,
) -> Result<Option<f64>, ConnectorFailure> {
    match value {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && (min..=max).contains(&v) => Ok(Some(v)),
        Some(_) => Err(ConnectorFailure::new(
            ErrorKind::InvalidOptions,
            format!("options.{name} must be {what} between {min} and {max}"),
        )),
    }
}

fn validate_base_url(text: &str) -> Result<String, ConnectorFailure> {
    let invalid = || {
        ConnectorFailure::new(
            ErrorKind::InvalidOptions,
            "options.baseUrl must be an origin like https://127.0.0.1:8443 (http or https, a host, \
             an optional port; no credentials, path, query or fragment)",
        )
    };
    let url = reqwest::Url::parse(text).map_err(|_| invalid())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

/// A Messages API request, ready to go: built synchronously (template, payload) so only the
/// network part runs on the async runtime.
pub struct Outgoing {
    pub url: String,
    pub authorization: Secret,
    /// `application/x-www-form-urlencoded`, fields in the JS connector's order.
    pub form: String,
    /// What must never appear in an error that this request produces.
    secrets: Vec<Secret>,
    target: String,
    /// The in-flight limit applies per account and host.
    account_key: String,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("url", &self.url)
            .field("form", &self.form)
            .finish_non_exhaustive()
    }
}

/// Builds the request the JS connector would send for `(to, usage_type, payload)`.
///
/// `usage_type` is `None` when the caller passed something that is not a string; `type_label`
/// is how that value prints, for the error message.
pub fn prepare(
    config: &Config,
    options: &SendOptions,
    to: &str,
    usage_type: Option<&str>,
    type_label: &str,
    payload: &dyn Payload,
) -> Result<Outgoing, ConnectorFailure> {
    let template = select(config, usage_type, type_label, payload.locale().as_deref())?;
    let body = template::render_capped(&template.content, payload, template::MAX_BODY_BYTES)
        .ok_or_else(body_too_long)?;
    let to = if to.starts_with('+') {
        to.to_owned()
    } else {
        format!("+{to}")
    };
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
        ("From", config.sender.phone_number()),
        ("ValidityPeriod", validity_period.as_deref()),
        (
            "SmartEncoded",
            config
                .smart_encoded
                .map(|on| if on { "true" } else { "false" }),
        ),
    ];
    let mut form = String::with_capacity(body.len() + 128);
    for (key, value) in fields {
        let Some(value) = value else { continue };
        if !form.is_empty() {
            form.push('&');
        }
        form_encode_into(&mut form, key);
        form.push('=');
        form_encode_into(&mut form, value);
    }

    let origin = origin(config, options);
    let url = format!(
        "{origin}/2010-04-01/Accounts/{}/Messages.json",
        account_segment(config)?
    );
    // hyper refuses longer URIs; only an absurd accountSID gets there.
    if url.len() > MAX_URL_LEN {
        return Err(ConnectorFailure::new(
            ErrorKind::AccountSidTooLong,
            format!(
                "accountSID is {} characters long; a Twilio Account SID is AC followed by 32 hex digits",
                config.account_sid.chars().count()
            ),
        ));
    }
    let (authorization, secrets) = basic_authorization(config);
    Ok(Outgoing {
        url,
        authorization,
        form,
        secrets,
        account_key: format!("{origin} {}", config.account_sid),
        target: origin,
    })
}

/// The rendered body would be over [`template::MAX_BODY_BYTES`].
pub(crate) fn body_too_long() -> ConnectorFailure {
    ConnectorFailure::body_too_long(template::MAX_BODY_BYTES)
}

/// The account SID as one URL path segment. `.` and `..` are refused: URL parsers (WHATWG's,
/// reqwest's, fetch's) resolve them, and their encodings `%2E`/`%2e%2E`, as dot segments, so
/// the authenticated request would leave the account's path whatever we write.
pub(crate) fn account_segment(config: &Config) -> Result<String, ConnectorFailure> {
    if matches!(config.account_sid.as_str(), "." | "..") {
        return Err(ConnectorFailure::new(
            ErrorKind::UnusableAccountSid,
            format!(
                "accountSID `{}` would be read as a relative path, not an account; a Twilio \
                 Account SID is AC followed by 32 hex digits",
                config.account_sid
            ),
        ));
    }
    Ok(path_segment_encode(&config.account_sid))
}

/// The template for a send or a preview, or the JS connector's `template_not_found` error.
pub fn select<'c>(
    config: &'c Config,
    usage_type: Option<&str>,
    type_label: &str,
    locale: Option<&str>,
) -> Result<&'c Template, ConnectorFailure> {
    template::choose(&config.templates, usage_type, locale)
        .ok_or_else(|| ConnectorFailure::template_not_found(type_label))
}

/// `https://<host>`, or the embedder's base URL.
pub(crate) fn origin(config: &Config, options: &SendOptions) -> String {
    match &options.base_url {
        Some(origin) => origin.clone(),
        None => format!("https://{}", config.host()),
    }
}

/// The `Authorization` header value, and every secret an error must never show: each configured
/// credential (used or not), the `user:secret` pairs they form and the proxies' credentials.
/// `error::redact` also finds each as base64 and base64url (so the Basic credential), and
/// JSON-escaped, percent-encoded or wrapped across lines.
pub(crate) fn basic_authorization(config: &Config) -> (Secret, Vec<Secret>) {
    use base64::Engine as _;

    let (user, password) = config.credentials();
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    let pairs = config.credential_pairs();
    let mut secrets: Vec<Secret> = pairs.iter().map(|(_, secret)| (*secret).clone()).collect();
    for (user, secret) in pairs {
        secrets.push(Secret::new(format!("{user}:{}", secret.expose())));
    }
    secrets.extend(transport::proxy_secrets());
    (Secret::new(format!("Basic {credentials}")), secrets)
}

/// Sends one prepared request: resolves with Twilio's Message resource, or fails with the
/// code Logto needs. Waits for a free slot of the account's in-flight limit, never follows a
/// redirect, and retries only attempts Twilio cannot have processed, all within
/// `options.timeout`.
pub async fn send(
    client: &reqwest::Client,
    request: Outgoing,
    options: &SendOptions,
) -> Result<Delivered, ConnectorFailure> {
    let secrets: Vec<&str> = request.secrets.iter().map(Secret::expose).collect();
    let deadline = tokio::time::Instant::now() + options.timeout;
    let limiter = delivery::limiter(&request.account_key, options.max_concurrency);
    let phase = Phase::default();
    let policy = Policy {
        deadline,
        max_retries: options.max_retries,
    };
    let attempts = delivery::run(&limiter, policy, &phase, || exchange(client, &request));
    let result = match tokio::time::timeout_at(deadline, attempts).await {
        Ok(result) => result,
        Err(_) => Err(ConnectorFailure::timeout(
            &request.target,
            options.timeout,
            phase.waiting(),
        )),
    };
    result.map_err(|failure| failure.redacted(&secrets))
}

async fn exchange(client: &reqwest::Client, request: &Outgoing) -> Attempt<Delivered> {
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
        .body(request.form.clone())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            let failure = transport_failure(&request.target, &err);
            return if never_written(&err) {
                Attempt::Retriable {
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
    let outcome = match read_capped(response, &request.target).await {
        Ok(body) => classify(status, location.as_deref(), body, &request.target),
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

/// True when the request cannot have reached Twilio: the connection was never established.
/// A certificate Twilio's name does not match is not transient, so it is not retried.
fn never_written(err: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if is_tls_error(cause) {
            return false;
        }
        source = cause.source();
    }
    err.is_connect()
}

/// True for a rustls error, also inside io::Errors: hyper-util's connect error holds
/// `io::Error(Other, io::Error(InvalidData, rustls::Error))`, and `io::Error::source()` skips
/// the error it wraps, so only `get_ref` reaches it.
fn is_tls_error(mut cause: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if cause.is::<rustls::Error>() {
            return true;
        }
        match cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => cause = inner,
            None => return false,
        }
    }
}

/// A response header as text, when it is present and printable.
pub(crate) fn header(
    response: &reqwest::Response,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    target: &str,
) -> Result<String, ConnectorFailure> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| transport_failure(target, &err))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ConnectorFailure::too_large(target, MAX_RESPONSE_BYTES));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A 2xx answer, kept as the text Twilio sent: the bindings hand it to V8's `JSON.parse`,
/// which builds the JS object far cheaper than a Rust value converted field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub status: u16,
    /// Twilio's Message resource as JSON text.
    pub body: String,
}

impl Delivered {
    /// The Message resource; a body that is not JSON gives what is known, `{ status, body }`.
    pub fn message(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| serde_json::json!({ "status": self.status, "body": self.body }))
    }
}

/// Maps an HTTP answer to the outcome; public so the mapping is testable without a server.
pub fn classify(
    status: u16,
    location: Option<&str>,
    body: String,
    target: &str,
) -> Result<Delivered, ConnectorFailure> {
    match status {
        200..=299 => Ok(Delivered { status, body }),
        300..=399 => Err(ConnectorFailure::redirect(target, status, location)),
        _ => Err(ConnectorFailure::twilio_status(target, status, body)),
    }
}

pub(crate) fn transport_failure(target: &str, err: &reqwest::Error) -> ConnectorFailure {
    ConnectorFailure::transport(target, err)
}

/// `URLSearchParams` serialization: alphanumerics and `*-._` stay, space becomes `+`,
/// every other UTF-8 byte is `%XX`.
pub fn form_encode_into(out: &mut String, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
}

/// Keeps a path segment a single segment: an account SID with `/`, `?` or `#` cannot point
/// the authenticated request at another path.
pub(crate) fn path_segment_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(byte as char),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    /// A SignIn code to +1 with the default options.
    fn sign_in(config: &Config, payload: &Value) -> Outgoing {
        prepare(
            config,
            &SendOptions::default(),
            "1",
            Some("SignIn"),
            "SignIn",
            payload,
        )
        .unwrap()
    }

    fn config(extra: Value) -> Config {
        let mut value = json!({
            "accountSID": "AC0123",
            "authToken": "secret-token-xyz",
            "fromMessagingServiceSID": "MG99",
            "templates": [
                { "usageType": "Register", "content": "r {{code}}" },
                { "usageType": "SignIn", "content": "Your code: {{code}} & more" },
                { "usageType": "ForgotPassword", "content": "f" },
                { "usageType": "Generic", "content": "g {{code}}" },
            ],
        });
        for (k, v) in extra.as_object().unwrap() {
            value[k] = v.clone();
        }
        Config::from_value(&value).unwrap()
    }

    #[test]
    fn builds_the_js_connectors_request() {
        let out = prepare(
            &config(json!({})),
            &SendOptions::default(),
            "15551234567",
            Some("SignIn"),
            "SignIn",
            &json!({ "code": "123456" }),
        )
        .unwrap();
        assert_eq!(
            out.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json"
        );
        assert_eq!(
            out.form,
            "To=%2B15551234567&MessagingServiceSid=MG99&Body=Your+code%3A+123456+%26+more&RiskCheck=enable"
        );
        assert_eq!(
            out.authorization.expose(),
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
            Some("X"),
            "X",
            &json!({}),
        )
        .unwrap();
        assert_eq!(
            out.url,
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/A%2FB%3F%23/Messages.json"
        );
        assert!(out.form.starts_with("To=%2B1&"));
        assert!(out
            .form
            .ends_with("Body=g+%7B%7Bcode%7D%7D&RiskCheck=disable"));
        let options = SendOptions::new(RawOptions {
            base_url: Some("http://127.0.0.1:9/".into()),
            timeout_ms: Some(50.0),
            ..RawOptions::default()
        })
        .unwrap();
        let out = prepare(
            &cfg,
            &options,
            "1",
            Some("Register"),
            "Register",
            &json!({}),
        )
        .unwrap();
        assert!(out.url.starts_with("http://127.0.0.1:9/2010-04-01/"));
    }

    #[test]
    fn missing_template_is_template_not_found() {
        let mut cfg = config(json!({}));
        cfg.templates.retain(|t| t.usage_type != "Generic");
        let err = prepare(
            &cfg,
            &SendOptions::default(),
            "1",
            Some("Mfa"),
            "Mfa",
            &json!({}),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::TemplateNotFound);
        assert_eq!(err.code, ErrorCode::TemplateNotFound);
        assert_eq!(err.message, "Cannot find template for type: Mfa");
    }

    #[test]
    fn base_url_and_timeout_are_checked() {
        for bad in [
            "ftp://x",
            "http://u:p@x",
            "http://x/path",
            "http://x?q",
            "nope",
            "http://x#f",
        ] {
            let raw = RawOptions {
                base_url: Some(bad.into()),
                ..RawOptions::default()
            };
            assert!(SendOptions::new(raw).is_err(), "{bad}");
        }
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 1e9] {
            for raw in [
                RawOptions {
                    timeout_ms: Some(bad),
                    ..RawOptions::default()
                },
                RawOptions {
                    connect_timeout_ms: Some(bad),
                    ..RawOptions::default()
                },
                RawOptions {
                    max_concurrency: Some(bad),
                    ..RawOptions::default()
                },
            ] {
                assert!(SendOptions::new(raw).is_err(), "{bad}");
            }
        }
        for bad in [-1.0, 0.5, 11.0] {
            let raw = RawOptions {
                max_retries: Some(bad),
                ..RawOptions::default()
            };
            assert!(SendOptions::new(raw).is_err(), "{bad}");
        }
        let options = SendOptions::new(RawOptions {
            max_retries: Some(0.0),
            max_concurrency: Some(1000.0),
            ..RawOptions::default()
        })
        .unwrap();
        assert_eq!((options.max_retries, options.max_concurrency), (0, 1000));
        assert_eq!(
            SendOptions::new(RawOptions {
                base_url: Some("HTTPS://LOCALHOST:8443".into()),
                ..RawOptions::default()
            })
            .unwrap()
            .base_url
            .as_deref(),
            Some("https://localhost:8443")
        );
    }

    #[test]
    fn empty_error_bodies_name_the_status() {
        for (status, code) in [
            (502, ErrorCode::General),
            (407, ErrorCode::General),
            (429, ErrorCode::RateLimitExceeded),
        ] {
            let err = classify(status, None, " \r\n".into(), "https://h").unwrap_err();
            assert_eq!(err.kind, ErrorKind::TwilioStatus(status));
            assert_eq!(err.code, code);
            assert_eq!(
                err.message,
                format!("https://h answered HTTP {status} with an empty body")
            );
        }
    }

    #[test]
    fn bodies_past_the_cap_and_dot_account_sids_are_refused() {
        let err = prepare(
            &config(json!({})),
            &SendOptions::default(),
            "1",
            Some("SignIn"),
            "SignIn",
            &json!({ "code": "x".repeat(template::MAX_BODY_BYTES) }),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::BodyTooLong);
        assert_eq!(err.code, ErrorCode::InvalidRequestParameters);
        for sid in [".", ".."] {
            let err = prepare(
                &config(json!({ "accountSID": sid })),
                &SendOptions::default(),
                "1",
                Some("SignIn"),
                "SignIn",
                &json!({}),
            )
            .unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnusableAccountSid);
            assert_eq!(err.code, ErrorCode::InvalidConfig);
        }
        // Other dots stay: `...` and `.x` are ordinary segments.
        let out = sign_in(&config(json!({ "accountSID": "..." })), &json!({}));
        assert!(
            out.url.ends_with("/Accounts/.../Messages.json"),
            "{}",
            out.url
        );
    }

    #[test]
    fn status_classes() {
        assert_eq!(
            classify(201, None, r#"{"sid":"SM1"}"#.into(), "t")
                .unwrap()
                .message()["sid"],
            "SM1"
        );
        assert_eq!(
            classify(200, None, "plain".into(), "t").unwrap().message()["body"],
            "plain"
        );
        let redirect = classify(302, Some("https://evil"), String::new(), "t").unwrap_err();
        assert_eq!(redirect.kind, ErrorKind::Redirect);
        assert_eq!(redirect.code, ErrorCode::General);
        assert!(redirect.message.contains("https://evil"));
        assert_eq!(
            classify(429, None, "{}".into(), "t").unwrap_err().code,
            ErrorCode::RateLimitExceeded
        );
        let bad = classify(400, None, r#"{"code":21211}"#.into(), "t").unwrap_err();
        assert_eq!(
            (bad.kind, bad.code, bad.data.clone()),
            (
                ErrorKind::TwilioStatus(400),
                ErrorCode::General,
                json!(r#"{"code":21211}"#)
            )
        );
        assert_eq!(
            classify(503, None, "x".into(), "t").unwrap_err().code,
            ErrorCode::General
        );
    }

    #[test]
    fn encodings() {
        let mut out = String::new();
        form_encode_into(&mut out, "a b+c*-._~!é😀");
        assert_eq!(out, "a+b%2Bc*-._%7E%21%C3%A9%F0%9F%98%80");
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
            out.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json"
        );
        assert_eq!(
            out.authorization.expose(),
            "Basic U0s3NzprZXktc2VjcmV0LWFiYw=="
        );
        let exposed: Vec<&str> = out.secrets.iter().map(Secret::expose).collect();
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
