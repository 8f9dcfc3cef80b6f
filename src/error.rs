//! Failures as Logto understands them: a connector-kit error code plus data.

use std::fmt;

// The subset of `@logto/connector-kit`'s `ConnectorErrorCodes` this connector produces; the
// typings and the module export it, the values being connector-kit's snake_case names.
/// Connector-kit error codes this connector rejects with (`error.code`).
#[cfg_attr(
    all(feature = "node", not(test)),
    napi_derive::napi(string_enum = "snake_case")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorErrorCode {
    General,
    InvalidConfig,
    InvalidRequestParameters,
    InvalidResponse,
    TemplateNotFound,
    RateLimitExceeded,
    /// connector-kit 5.1.1 and later; the Logto module sends `rate_limit_exceeded` instead to a
    /// Logto whose connector-kit lacks it.
    UsageLimitExceeded,
}

impl ConnectorErrorCode {
    /// The string value connector-kit uses, which is what Logto's error middleware maps to a status.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorErrorCode::General => "general",
            ConnectorErrorCode::InvalidConfig => "invalid_config",
            ConnectorErrorCode::InvalidRequestParameters => "invalid_request_parameters",
            ConnectorErrorCode::InvalidResponse => "invalid_response",
            ConnectorErrorCode::TemplateNotFound => "template_not_found",
            ConnectorErrorCode::RateLimitExceeded => "rate_limit_exceeded",
            ConnectorErrorCode::UsageLimitExceeded => "usage_limit_exceeded",
        }
    }
}

impl fmt::Display for ConnectorErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong, as the core tells failures apart. [`ErrorKind::code`] is the one mapping to
/// connector-kit's codes, and the constructors below are the one place each kind's message is
/// worded; tests assert on kinds, JS sees the code and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The config failed validation (the issues are in `data`).
    InvalidConfig,
    /// The embedder's options, or the proxy environment, cannot be used.
    InvalidOptions,
    /// A valid config whose `accountSID` cannot address an account (`.`, `..`).
    UnusableAccountSid,
    /// An `accountSID` too long for any URL hyper accepts.
    AccountSidTooLong,
    /// An argument of the call: `to`, the payload, `startFrom`.
    InvalidArgument,
    /// `to` is not a valid number of a country in `allowedCountries`: refused before any
    /// request (SMS pumping defence).
    CountryNotAllowed,
    TemplateNotFound,
    /// A velocity limit of `smsPumping.limits` has no room for this send.
    SendLimitReached,
    /// `smsPumping.dailySegments` has no room for this message's segments.
    DailySegmentsSpent,
    /// The counters' store could not decide and `smsPumping.onStoreError` is `refuse`.
    CounterStoreUnavailable,
    /// Twilio Lookup scores the recipient above `smsPumping.riskScore.maxScore`, or blocks it.
    RiskTooHigh,
    /// Lookup could not score the recipient and `smsPumping.riskScore.onError` is `refuse`.
    RiskUnknown,
    /// The rendered body would be over the body cap (`template::MAX_BODY_BYTES`).
    BodyTooLong,
    /// The call's deadline passed while it was waiting for this.
    Timeout(Waiting),
    /// No answer: could not connect, TLS refused, the connection broke.
    Transport,
    /// Twilio's host answered 3xx, which is never followed.
    Redirect,
    /// Twilio answered with this non-2xx, non-3xx status.
    TwilioStatus(u16),
    /// The answer was larger than any Twilio answer.
    TooLarge,
    /// A usage answer that is not a usage record list, or that pages outside the account.
    BadUsagePage,
    /// A 2xx answer to a send that is not a Message resource (a JSON object with a string
    /// `sid`): not Twilio's answer, so not a success.
    NotAMessage,
    /// The HTTP client could not be set up (TLS, the extra CA file).
    Setup,
    /// A caught panic: a bug.
    Internal,
    /// The JS environment that made the call was torn down first (a terminated worker).
    Cancelled,

    // Twilio Lookup's SMS pumping risk, asked before a send (the pumping defence). None of
    // these is the send's own failure: the defence decides whether the send goes ahead.
    /// Lookup answered with this non-2xx, non-3xx status (Twilio's error JSON in the message).
    LookupStatus(u16),
    /// A 2xx answer from Lookup that is not a phone number resource with `sms_pumping_risk`.
    LookupAnswer,
    /// The configured `host`'s region has no Lookup (AU1).
    LookupUnavailable,
}

/// What a timed-out call was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// A free request slot of the account's in-flight limit.
    Slot,
    /// Twilio's answer to a message.
    Answer,
    /// The end of a backoff after a 429.
    Backoff,
    /// The usage answer (Logto waits 3 s for it).
    Usage,
    /// Twilio Lookup's answer about the recipient's SMS pumping risk.
    Lookup,
}

impl ErrorKind {
    pub fn code(self) -> ConnectorErrorCode {
        match self {
            ErrorKind::InvalidConfig
            | ErrorKind::InvalidOptions
            | ErrorKind::UnusableAccountSid
            | ErrorKind::LookupUnavailable => ConnectorErrorCode::InvalidConfig,
            // The recipient is an argument of the call that this config refuses: the request,
            // not the config, is what is wrong (Logto answers 400, as for a malformed `to`).
            ErrorKind::InvalidArgument
            | ErrorKind::BodyTooLong
            | ErrorKind::CountryNotAllowed
            | ErrorKind::RiskTooHigh => ConnectorErrorCode::InvalidRequestParameters,
            ErrorKind::TemplateNotFound => ConnectorErrorCode::TemplateNotFound,
            // Logto answers both with 429, as it does for its own per-recipient limit.
            ErrorKind::SendLimitReached => ConnectorErrorCode::RateLimitExceeded,
            ErrorKind::DailySegmentsSpent => ConnectorErrorCode::UsageLimitExceeded,
            // Twilio's 20429 (too many concurrent requests): Logto answers 429 instead of 400.
            ErrorKind::TwilioStatus(429) => ConnectorErrorCode::RateLimitExceeded,
            ErrorKind::TooLarge | ErrorKind::BadUsagePage | ErrorKind::NotAMessage => {
                ConnectorErrorCode::InvalidResponse
            }
            ErrorKind::AccountSidTooLong
            | ErrorKind::Timeout(_)
            | ErrorKind::Cancelled
            | ErrorKind::Transport
            | ErrorKind::Redirect
            | ErrorKind::TwilioStatus(_)
            | ErrorKind::Setup
            | ErrorKind::CounterStoreUnavailable
            | ErrorKind::RiskUnknown
            | ErrorKind::Internal
            | ErrorKind::LookupStatus(_)
            | ErrorKind::LookupAnswer => ConnectorErrorCode::General,
        }
    }
}

/// What the JS side turns into `ConnectorError(code, data)`.
///
/// `data` is either a JSON string (connector-kit wraps it as `{ message }`, exactly as the JS
/// connector does with Twilio's raw response body) or a structured object (config issues).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorFailure {
    kind: ErrorKind,
    /// A human-readable sentence that says what went wrong and, where possible, what to fix.
    message: String,
    data: serde_json::Value,
}

impl ConnectorFailure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        ConnectorFailure {
            kind,
            data: serde_json::Value::String(message.clone()),
            message,
        }
    }

    pub fn with_data(kind: ErrorKind, message: impl Into<String>, data: serde_json::Value) -> Self {
        ConnectorFailure {
            kind,
            message: message.into(),
            data,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// connector-kit's code: `kind().code()`.
    pub fn code(&self) -> ConnectorErrorCode {
        self.kind.code()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn into_message(self) -> String {
        self.message
    }

    /// A JSON string (the message, or Twilio's raw body) or a structured value (config issues).
    pub fn data(&self) -> &serde_json::Value {
        &self.data
    }

    pub fn template_not_found(type_label: &str) -> Self {
        Self::new(
            ErrorKind::TemplateNotFound,
            format!("Cannot find template for type: {}", excerpt(type_label)),
        )
    }

    /// `to` is outside `allowedCountries`; the rejection's text names the number, what it is
    /// and the allowed countries.
    pub fn country_not_allowed(rejection: &impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::CountryNotAllowed,
            format!("Recipient refused by allowedCountries: {rejection}"),
        )
    }

    /// A velocity limit refused the send: which one, what it allows and when it resets.
    pub fn send_limit_reached(
        rule: &str,
        max: u64,
        window_seconds: u64,
        counted: &str,
        resets_in_seconds: u64,
    ) -> Self {
        let sends = if max == 1 { "send" } else { "sends" };
        Self::new(
            ErrorKind::SendLimitReached,
            format!(
                "Refused before sending by smsPumping.{rule}: at most {max} {sends} per \
                 {window_seconds} s for {counted}; it resets in {resets_in_seconds} s"
            ),
        )
    }

    /// The daily segment budget (`of` is `in total` or `to GB`) has no room for this message.
    pub fn daily_segments_spent(
        rule: &str,
        of: &str,
        max: u64,
        spent: u64,
        needed: u64,
        resets_in_seconds: u64,
    ) -> Self {
        Self::new(
            ErrorKind::DailySegmentsSpent,
            format!(
                "Refused before sending by smsPumping.{rule}: at most {max} SMS segments per UTC \
                 day {of}; {spent} are spent and this message needs {needed}; it resets at \
                 00:00 UTC, in {resets_in_seconds} s"
            ),
        )
    }

    /// `store` is the counters' store as logs name it (a Redis URL without its credentials).
    pub fn counter_store_unavailable(store: &str, reason: &str) -> Self {
        Self::new(
            ErrorKind::CounterStoreUnavailable,
            format!(
                "Refused before sending: the send counters ({store}) could not be reached \
                 ({reason}) and smsPumping.onStoreError is refuse"
            ),
        )
    }

    /// `number` is masked; `why` says what Lookup answered (a score, a block).
    pub fn risk_too_high(number: &str, why: &str) -> Self {
        Self::new(
            ErrorKind::RiskTooHigh,
            format!("Recipient refused before sending by smsPumping.riskScore: Twilio Lookup {why} for {number}"),
        )
    }

    /// Lookup gave no score (`reason`), and the config refuses unscored sends.
    pub fn risk_unknown(number: &str, reason: &str) -> Self {
        Self::new(
            ErrorKind::RiskUnknown,
            format!(
                "Refused before sending: Twilio Lookup could not score {number} ({reason}) and \
                 smsPumping.riskScore.onError is refuse"
            ),
        )
    }

    pub fn redis_url_invalid(reason: &str) -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!(
                "options.redisUrl ({} for the Logto module) must be a redis:// or rediss:// URL \
                 like redis://:password@127.0.0.1:6379/0 ({reason})",
                env_var("redisUrl")
            ),
        )
    }

    /// Twilio refuses such a body anyway, and building it could take any amount of memory.
    pub fn body_too_long(max_bytes: usize) -> Self {
        Self::new(
            ErrorKind::BodyTooLong,
            format!(
                "The message body would be longer than {max_bytes} bytes (Twilio accepts at most \
                 1,600 characters); shorten the template or the payload values"
            ),
        )
    }

    pub fn timeout(target: &str, after: std::time::Duration, waiting: Waiting) -> Self {
        let ms = after.as_millis();
        let message = match waiting {
            Waiting::Usage => format!(
                "Twilio usage request to {target} timed out after {ms} ms (Logto waits 3 s for \
                 usage)"
            ),
            Waiting::Slot => format!(
                "Twilio request to {target} timed out after {ms} ms, waiting for a free request \
                 slot for this account (too many sends in flight)"
            ),
            Waiting::Backoff => format!(
                "Twilio request to {target} timed out after {ms} ms, backing off after Twilio \
                 asked to slow down"
            ),
            Waiting::Answer => format!(
                "Twilio request to {target} timed out after {ms} ms, waiting for Twilio's answer"
            ),
            Waiting::Lookup => format!(
                "Twilio Lookup request to {target} timed out after {ms} ms, waiting for the \
                 recipient's SMS pumping risk"
            ),
        };
        Self::new(ErrorKind::Timeout(waiting), message)
    }

    /// The request got no answer; `err`'s causes are listed, each once.
    pub fn transport(target: &str, err: &reqwest::Error) -> Self {
        use std::fmt::Write as _;
        let mut causes = String::new();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !causes.contains(&text) {
                let _ = write!(causes, ": {text}");
            }
            source = cause.source();
        }
        // A connect timeout is both; name the option that bounds it, so the operator knows
        // which limit ran out (the send's own deadline has its own wording).
        let what = if err.is_timeout() && err.is_connect() {
            format!(
                "could not connect within connectTimeoutMs ({})",
                env_var("connectTimeoutMs")
            )
        } else if err.is_timeout() {
            "timed out".to_owned()
        } else if err.is_connect() {
            "could not connect".to_owned()
        } else if err.is_body() || err.is_decode() {
            "failed while reading the response".to_owned()
        } else {
            "failed".to_owned()
        };
        Self::new(
            ErrorKind::Transport,
            format!("Twilio request to {target} {what}{causes}"),
        )
    }

    pub fn redirect(target: &str, status: u16, location: Option<&str>) -> Self {
        Self::new(
            ErrorKind::Redirect,
            format!(
                "{target} answered HTTP {status} redirecting to {}; redirects are not followed, \
                 so credentials only ever go to the configured host. Check `host`.",
                location.unwrap_or("(no Location header)")
            ),
        )
    }

    /// A non-2xx answer: the raw body, as the JS connector reports it (Twilio's JSON names
    /// code and message), or, when there is none, the status (a proxy's 407, a bare 502).
    pub fn twilio_status(target: &str, status: u16, body: String) -> Self {
        let message = if body.trim().is_empty() {
            format!("{target} answered HTTP {status} with an empty body")
        } else {
            body
        };
        Self::new(ErrorKind::TwilioStatus(status), message)
    }

    pub fn too_large(target: &str, max_bytes: usize) -> Self {
        Self::new(
            ErrorKind::TooLarge,
            format!("Response from {target} is larger than {max_bytes} bytes; not a Twilio answer"),
        )
    }

    /// A 2xx answer to a send that is `what` instead of a Message resource. The body is not
    /// quoted: a portal's page says nothing useful and could be anything.
    pub fn not_a_message(target: &str, status: u16, what: &str) -> Self {
        Self::new(
            ErrorKind::NotAMessage,
            format!(
                "{target} answered HTTP {status} with {what}, not a Twilio Message resource (a \
                 JSON object with a string sid): the message may not have been sent. Check \
                 `host`, the baseUrl option if set, and any proxy between this server and Twilio"
            ),
        )
    }

    pub fn bad_usage_page(what: &str) -> Self {
        Self::new(
            ErrorKind::BadUsagePage,
            format!("Twilio usage answer {what}"),
        )
    }

    /// A numeric option outside its range, or not an integer.
    pub fn option_out_of_range(name: &str, what: &str, min: f64, max: f64) -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!(
                "options.{name} ({} for the Logto module) must be {what} between {min} and {max}",
                env_var(name)
            ),
        )
    }

    pub fn base_url_not_an_origin() -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!(
                "options.baseUrl ({} for the Logto module) must be an origin like \
                 https://127.0.0.1:8443 (http or https, a host, an optional port; no \
                 credentials, path, query or fragment)",
                env_var("baseUrl")
            ),
        )
    }

    pub fn base_url_host_too_long(host_len: usize, max_len: usize) -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!(
                "options.baseUrl ({} for the Logto module) has a host name {host_len} \
                 characters long; a host name has at most {max_len}",
                env_var("baseUrl")
            ),
        )
    }

    /// `options` itself is not an object.
    pub fn options_not_an_object() -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            "options must be an object like { baseUrl, timeoutMs, maxConcurrency }",
        )
    }

    /// `options` claims to be an object but cannot be read as one.
    pub fn options_unreadable() -> Self {
        Self::new(ErrorKind::InvalidOptions, "options must be an object")
    }

    /// Reading `options.<name>` threw `reason`.
    pub fn option_unreadable(name: &str, reason: &str) -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!("options.{name} could not be read: {}", excerpt(reason)),
        )
    }

    pub fn base_url_not_a_string() -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            "options.baseUrl must be a string like https://127.0.0.1:8443",
        )
    }

    pub fn option_not_a_number(name: &str) -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!("options.{name} must be a number"),
        )
    }

    /// A proxy variable that cannot be honoured. It quotes nothing of the value (a credential,
    /// or 64 KiB of anything); `why` names at most one character of it.
    pub fn invalid_proxy(name: &str, why: &str) -> Self {
        Self::new(
            ErrorKind::InvalidOptions,
            format!(
                "{name} is not a usable proxy URL ({why}); expected http://[user:password@]host:port, \
                 with `#`, `/`, `?`, `@` and spaces in the user or password percent-encoded"
            ),
        )
    }

    /// `what` (TLS, the HTTP client) could not be set up.
    pub fn setup(what: &str, err: &impl fmt::Display) -> Self {
        Self::new(ErrorKind::Setup, format!("{what} setup failed: {err}"))
    }

    /// The CA file named by NODE_EXTRA_CA_CERTS (`path`) was still being read after `waited`.
    pub fn extra_ca_still_loading(path: &str, waited: std::time::Duration) -> Self {
        Self::new(
            ErrorKind::Setup,
            format!(
                "Still reading the CA file named by NODE_EXTRA_CA_CERTS (`{path}`) after {} ms; \
                 point it at a PEM file of CA certificates",
                waited.as_millis()
            ),
        )
    }

    /// An account SID of `chars` characters makes a URL longer than any the HTTP client sends.
    pub fn account_sid_too_long(chars: usize) -> Self {
        Self::new(
            ErrorKind::AccountSidTooLong,
            format!(
                "accountSID is {chars} characters long; a Twilio Account SID is AC followed by 32 hex digits"
            ),
        )
    }

    /// `.` or `..`: a relative path, not an account.
    pub fn account_sid_is_a_dot_segment(account_sid: &str) -> Self {
        Self::new(
            ErrorKind::UnusableAccountSid,
            format!(
                "accountSID `{account_sid}` would be read as a relative path, not an account; a \
                 Twilio Account SID is AC followed by 32 hex digits"
            ),
        )
    }

    pub fn to_unreadable() -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            "`to` could not be read as a string",
        )
    }

    pub fn to_not_a_string() -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            "`to` must be a phone number string, e.g. +15551234567",
        )
    }

    pub fn start_from_invalid() -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            "startFrom must be a valid Date (years 1 to 9999), or left out for the first of the \
             current month (UTC)",
        )
    }

    /// Reading `payload.<field>` threw `reason` (`None`: it threw nothing readable).
    pub fn payload_unreadable(field: &str, reason: Option<&str>) -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            format!(
                "payload.{field} could not be read: {}",
                reason.map_or("it threw".into(), excerpt)
            ),
        )
    }

    /// A caught panic, with what it said.
    pub fn internal(message: &str) -> Self {
        Self::new(
            ErrorKind::Internal,
            format!(
                "Internal error in connector-twilio-sms-native (a bug, please report it): {message}. \
                 The SMS may or may not have been sent."
            ),
        )
    }

    pub fn cancelled() -> Self {
        Self::new(
            ErrorKind::Cancelled,
            "cancelled: the JavaScript environment that made this call was shut down",
        )
    }

    /// Lookup answered `status` (4xx, 5xx). `twilio_error` is Twilio's error JSON read as
    /// `(code, message, more_info)` when the body is one; otherwise the body is quoted. Quoted
    /// whole, as `twilio_status` quotes a send's (the read cap bounds it): an excerpt could cut
    /// an echoed credential in half, and redaction cannot recognise half of one.
    pub fn lookup_status(
        target: &str,
        status: u16,
        twilio_error: Option<(Option<i64>, Option<&str>, Option<&str>)>,
        body: &str,
    ) -> Self {
        let what = match twilio_error {
            Some((code, message, more_info)) => {
                let mut what = format!(
                    "Twilio error {}",
                    code.map_or("(no code)".to_owned(), |c| c.to_string())
                );
                if let Some(message) = message {
                    what.push_str(&format!(": {message}"));
                }
                if let Some(more_info) = more_info {
                    what.push_str(&format!(" ({more_info})"));
                }
                what
            }
            None if body.trim().is_empty() => "an empty body".to_owned(),
            None => format!("a body that is not Twilio's error JSON: {body}"),
        };
        let hint = match status {
            401 | 403 => ": check accountSID and the credential, and that Lookup is enabled for it",
            429 => ": Lookup's rate limit for this account",
            _ => "",
        };
        Self::new(
            ErrorKind::LookupStatus(status),
            format!("Twilio Lookup at {target} answered HTTP {status} with {what}{hint}"),
        )
    }

    /// A 2xx answer from Lookup that is `what` instead of a phone number resource with a
    /// well-formed `sms_pumping_risk`.
    pub fn lookup_answer(target: &str, status: u16, what: &str) -> Self {
        Self::new(
            ErrorKind::LookupAnswer,
            format!(
                "Twilio Lookup at {target} answered HTTP {status} with {what}, not a phone \
                 number resource with sms_pumping_risk. Check `host`, and the baseUrl option if set"
            ),
        )
    }

    /// The configured `host` is in `region`, where Twilio offers no Lookup.
    pub fn lookup_unavailable(host: &str, region: &str) -> Self {
        Self::new(
            ErrorKind::LookupUnavailable,
            format!(
                "Twilio Lookup is not available in {region} (host {host}); the SMS pumping risk \
                 check needs a US1 or IE1 host"
            ),
        )
    }

    /// The number to look up is not `+` and 1 to 15 digits.
    pub fn lookup_number_not_e164(number: &str) -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            format!(
                "The number to look up must be in E.164 form (+ and 1 to 15 digits), not `{}`",
                excerpt(number)
            ),
        )
    }

    /// The same failure with every string of its message and data passed through `f` (the
    /// redaction gate, `redact.rs`).
    pub(crate) fn map_text(mut self, f: &impl Fn(&str) -> String) -> Self {
        self.message = f(&self.message);
        map_strings(&mut self.data, f);
        self
    }
}

impl fmt::Display for ConnectorFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for ConnectorFailure {}

fn map_strings(value: &mut serde_json::Value, f: &impl Fn(&str) -> String) {
    match value {
        serde_json::Value::String(s) => *s = f(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| map_strings(v, f)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| map_strings(v, f)),
        _ => {}
    }
}

/// The Logto module's environment variable for an option (`lib/index.js` names them by this
/// rule): `maxConcurrency` → `TWILIO_SMS_NATIVE_MAX_CONCURRENCY`. In Logto the operator sets
/// only these, so a message about an option names its variable too.
pub fn env_var(option: &str) -> String {
    let mut name = String::from("TWILIO_SMS_NATIVE_");
    for c in option.chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// The most of an outside value (a recipient, a config entry, a thrown message) a message
/// quotes: enough to recognise it, never the megabyte a hostile caller can pass.
pub const MAX_EXCERPT_CHARS: usize = 64;

/// An outside value as messages quote it: whole when it has at most [`MAX_EXCERPT_CHARS`]
/// characters, else that many followed by `… (<n> characters)`. The one way every message
/// quotes a value it did not write itself.
///
/// Only for values that hold no secret: a cut could split one, and redaction then no longer
/// recognises the half that is left.
pub fn excerpt(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(MAX_EXCERPT_CHARS) {
        None => std::borrow::Cow::Borrowed(value),
        Some((cut, _)) => std::borrow::Cow::Owned(format!(
            "{}… ({} characters)",
            &value[..cut],
            value.chars().count()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded_and_cut_between_characters() {
        assert_eq!(excerpt("+12024561111"), "+12024561111");
        let exact = "é".repeat(MAX_EXCERPT_CHARS);
        assert_eq!(excerpt(&exact), exact);
        let long = format!(
            "{}😀{}",
            "9".repeat(MAX_EXCERPT_CHARS - 1),
            "x".repeat(1 << 20)
        );
        assert_eq!(
            excerpt(&long),
            format!(
                "{}😀… ({} characters)",
                "9".repeat(MAX_EXCERPT_CHARS - 1),
                MAX_EXCERPT_CHARS + (1 << 20)
            )
        );
        let failure = ConnectorFailure::template_not_found(&"T".repeat(1 << 20));
        assert!(failure.message.len() < 200, "{}", failure.message);
    }
}
