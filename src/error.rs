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
    /// The rendered body would be over [`crate::template::MAX_BODY_BYTES`].
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
}

impl ErrorKind {
    pub fn code(self) -> ConnectorErrorCode {
        match self {
            ErrorKind::InvalidConfig
            | ErrorKind::InvalidOptions
            | ErrorKind::UnusableAccountSid => ConnectorErrorCode::InvalidConfig,
            // The recipient is an argument of the call that this config refuses: the request,
            // not the config, is what is wrong (Logto answers 400, as for a malformed `to`).
            ErrorKind::InvalidArgument | ErrorKind::BodyTooLong | ErrorKind::CountryNotAllowed => {
                ConnectorErrorCode::InvalidRequestParameters
            }
            ErrorKind::TemplateNotFound => ConnectorErrorCode::TemplateNotFound,
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
            | ErrorKind::Internal => ConnectorErrorCode::General,
        }
    }
}

/// What the JS side turns into `ConnectorError(code, data)`.
///
/// `data` is either a JSON string (connector-kit wraps it as `{ message }`, exactly as the JS
/// connector does with Twilio's raw response body) or a structured object (config issues).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorFailure {
    pub kind: ErrorKind,
    /// Always `kind.code()`.
    pub code: ConnectorErrorCode,
    /// A human-readable sentence that says what went wrong and, where possible, what to fix.
    pub message: String,
    pub data: serde_json::Value,
}

impl ConnectorFailure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        ConnectorFailure {
            kind,
            code: kind.code(),
            data: serde_json::Value::String(message.clone()),
            message,
        }
    }

    pub fn with_data(kind: ErrorKind, message: impl Into<String>, data: serde_json::Value) -> Self {
        ConnectorFailure {
            kind,
            code: kind.code(),
            message: message.into(),
            data,
        }
    }

    pub fn template_not_found(type_label: &str) -> Self {
        Self::new(
            ErrorKind::TemplateNotFound,
            format!("Cannot find template for type: {}", excerpt(type_label)),
        )
    }

    /// `to` is outside `allowedCountries`; the rejection's text names the number, what it is
    /// and the allowed countries.
    pub fn country_not_allowed(rejection: &crate::country::Rejection) -> Self {
        Self::new(
            ErrorKind::CountryNotAllowed,
            format!("Recipient refused by allowedCountries: {rejection}"),
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
                crate::twilio::options::env_var("connectTimeoutMs")
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

    /// Removes every occurrence of `secrets` from the message and data.
    ///
    /// Error text can come from places we do not control (a server echoing a header, a
    /// transport error naming a URL), so this is the last gate before anything leaves the core.
    pub fn redacted(mut self, secrets: &[&str]) -> Self {
        self.message = redact(&self.message, secrets);
        redact_value(&mut self.data, secrets);
        self
    }
}

impl fmt::Display for ConnectorFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ConnectorFailure {}

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

/// Shorter secrets are not redacted: replacing a 1-3 character token would mangle unrelated
/// text while hiding nothing an attacker could not guess anyway.
const MIN_REDACTABLE_LEN: usize = 4;
pub const REDACTED: &str = "[redacted]";

/// Removes every occurrence of `secrets` from `text`, also where the text carries them encoded.
///
/// Each secret is searched in the text as it is and in the text decoded the ways a server may
/// have encoded what it echoes: JSON string escapes (`\"`, `\\`, `\/`, `\uXXXX`; once or
/// twice), percent encoding (once or twice, `+` as space, any hex case) and line breaks inside a value (a
/// wrapped base64 credential). Each secret is also searched as its base64 and base64url, padded
/// or not, so passing a `user:secret` pair covers its Basic credential (see
/// `twilio::basic_authorization`). A match in a decoded view redacts the span of the original
/// text it came from; longest first, so a credential that contains a shorter secret is redacted
/// whole.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    // Spans are `u32` offsets; anything longer than 4 GiB never reaches an error.
    if u32::try_from(text.len()).is_err() {
        return text.to_owned();
    }
    let mut secrets: Vec<Vec<u8>> = secrets
        .iter()
        .filter(|s| s.len() >= MIN_REDACTABLE_LEN)
        .flat_map(|s| encoded_forms(s))
        .collect();
    if secrets.is_empty() {
        return text.to_owned();
    }
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    let finders: Vec<memchr::memmem::Finder> =
        secrets.iter().map(memchr::memmem::Finder::new).collect();
    let original = View {
        bytes: text.as_bytes().to_vec(),
        starts: (0..text.len() as u32).collect(),
    };
    let mut spans = Vec::new();
    search(&original, 0, &finders, text.len(), &mut spans);
    if spans.is_empty() {
        return text.to_owned();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end) in spans {
        // A decoded match may begin or end inside a multi-byte character: widen to whole ones.
        let start = (0..=start)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let end = (end..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        if end <= done {
            continue;
        }
        if start >= done {
            out.push_str(&text[done..start]);
            out.push_str(REDACTED);
        }
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// A secret as it is and as base64 and base64url, padded or not: a `user:secret` pair's base64
/// is the Basic credential.
fn encoded_forms(secret: &str) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    let mut forms = vec![secret.as_bytes().to_vec()];
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        forms.push(engine.encode(secret).into_bytes());
    }
    forms
}

/// The text, or a decoding of it, with where each byte starts in the original text.
struct View {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

type Step = fn(&[u8], usize) -> Option<(u8, usize)>;

/// The decodings tried, in order; every subset of them is applied (32 views at most, only the
/// ones that change something, at most 6 alive at once). Twice each: JSON in JSON and double
/// percent-encoding are common in echoes.
const STEPS: [Step; 5] = [
    json_unescape,
    json_unescape,
    percent_decode,
    percent_decode,
    line_break,
];

/// Records the original span of every secret found in `view` and in its further decodings.
fn search(
    view: &View,
    next_step: usize,
    finders: &[memchr::memmem::Finder],
    original_len: usize,
    spans: &mut Vec<(usize, usize)>,
) {
    let end_of = |i: usize| view.starts.get(i).map_or(original_len, |&s| s as usize);
    for finder in finders {
        let len = finder.needle().len();
        for at in finder.find_iter(&view.bytes) {
            spans.push((view.starts[at] as usize, end_of(at + len)));
        }
    }
    for (index, step) in STEPS.iter().enumerate().skip(next_step) {
        if let Some(decoded) = view.decode(*step) {
            search(&decoded, index + 1, finders, original_len, spans);
        }
    }
}

impl View {
    /// `None` when the step changes nothing, so no view is searched twice.
    fn decode(&self, step: Step) -> Option<View> {
        let mut out = View {
            bytes: Vec::with_capacity(self.bytes.len()),
            starts: Vec::with_capacity(self.bytes.len()),
        };
        let mut changed = false;
        let mut i = 0;
        while i < self.bytes.len() {
            match step(&self.bytes, i) {
                // A decoded byte, or nothing (a line break dropped).
                Some((byte, len)) => {
                    changed = true;
                    if len > 0 {
                        out.bytes.push(byte);
                        out.starts.push(self.starts[i]);
                    }
                    i += len.max(1);
                }
                None => {
                    out.bytes.push(self.bytes[i]);
                    out.starts.push(self.starts[i]);
                    i += 1;
                }
            }
        }
        changed.then_some(out)
    }
}

/// CR and LF are dropped (reported as zero bytes long), as in a wrapped base64 credential.
fn line_break(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    matches!(bytes[i], b'\r' | b'\n').then_some((0, 0))
}

fn redact_value(value: &mut serde_json::Value, secrets: &[&str]) {
    match value {
        serde_json::Value::String(s) => *s = redact(s, secrets),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, secrets)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_value(v, secrets)),
        _ => {}
    }
}

fn hex(bytes: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(bytes).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// `%XX` as the byte, `+` as a space.
fn percent_decode(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match bytes[i] {
        b'%' => hex(bytes.get(i + 1..i + 3)?).map(|b| (b as u8, 3)),
        b'+' => Some((b' ', 1)),
        _ => None,
    }
}

/// A JSON string escape as the byte it stands for; `\uXXXX` only for ASCII, which is what a
/// secret's escapes are in practice (non-ASCII secrets are matched raw or percent-encoded).
fn json_unescape(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    if bytes[i] != b'\\' {
        return None;
    }
    let byte = match *bytes.get(i + 1)? {
        b'u' => {
            let unit = hex(bytes.get(i + 2..i + 6)?)?;
            return (unit < 0x80).then_some((unit as u8, 6));
        }
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'f' => 0x0c,
        other @ (b'"' | b'\\' | b'/') => other,
        _ => return None,
    };
    Some((byte, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_covers_message_and_nested_data() {
        let failure = ConnectorFailure::with_data(
            ErrorKind::Internal,
            "token s3cr3t-token leaked",
            serde_json::json!({ "a": ["x s3cr3t-token y"], "b": "s3cr3t-token" }),
        )
        .redacted(&["s3cr3t-token"]);
        let text = format!("{failure} {:?}", failure.data);
        assert!(!text.contains("s3cr3t-token"), "{text}");
        assert!(text.contains(REDACTED));
    }

    #[test]
    fn encoded_echoes_are_redacted() {
        let secret = r#"to"k\e/n+x y"#;
        let base = "QUMxOnRvImtcZS9uK3ggeQ==";
        let cases = [
            secret.to_owned(),
            serde_json::to_string(secret)
                .unwrap()
                .trim_matches('"')
                .to_owned(),
            secret
                .replace('\\', "\\\\")
                .replace('/', "\\/")
                .replace('"', "\\\""),
            "to%22k%5Ce%2Fn%2Bx%20y".to_owned(),
            "to%22k%5ce%2fn%2bx+y".to_owned(),
            "to%2522k%255Ce%252Fn%252Bx%2520y".to_owned(),
            r"to\u0022k\u005ce\u002fn+x y".to_owned(),
            base.replace('=', "%3D"),
            format!("{}\r\n{}", &base[..10], &base[10..]),
            format!("{}\\n{}", &base[..10], &base[10..]),
        ];
        for echoed in cases {
            let text = format!("before {echoed} after é");
            let out = redact(&text, &[secret, "AC1:to\"k\\e/n+x y"]);
            assert_eq!(out, format!("before {REDACTED} after é"), "{echoed}");
        }
        assert_eq!(redact("a%", &["abcd"]), "a%");
        assert_eq!(redact("\\u00e9 %zz \\", &["abcd"]), "\\u00e9 %zz \\");
    }

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

    #[test]
    fn short_secrets_are_left_alone() {
        assert_eq!(redact("abc", &["a"]), "abc");
    }
}
