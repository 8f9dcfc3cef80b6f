//! Failures as Logto understands them: a connector-kit error code plus data.

use std::fmt;

/// The subset of `@logto/connector-kit`'s `ConnectorErrorCodes` this connector produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    General,
    InvalidConfig,
    InvalidRequestParameters,
    InvalidResponse,
    TemplateNotFound,
    RateLimitExceeded,
}

impl ErrorCode {
    /// The string value connector-kit uses, which is what Logto's error middleware maps to a status.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::General => "general",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::InvalidRequestParameters => "invalid_request_parameters",
            ErrorCode::InvalidResponse => "invalid_response",
            ErrorCode::TemplateNotFound => "template_not_found",
            ErrorCode::RateLimitExceeded => "rate_limit_exceeded",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the JS side turns into `ConnectorError(code, data)`.
///
/// `data` is either a JSON string (connector-kit wraps it as `{ message }`, exactly as the JS
/// connector does with Twilio's raw response body) or a structured object (config issues).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorFailure {
    pub code: ErrorCode,
    /// A human-readable sentence that says what went wrong and, where possible, what to fix.
    pub message: String,
    pub data: serde_json::Value,
}

impl ConnectorFailure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        ConnectorFailure {
            code,
            data: serde_json::Value::String(message.clone()),
            message,
        }
    }

    pub fn with_data(code: ErrorCode, message: impl Into<String>, data: serde_json::Value) -> Self {
        ConnectorFailure {
            code,
            message: message.into(),
            data,
        }
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

/// Shorter secrets are not redacted: replacing a 1-3 character token would mangle unrelated
/// text while hiding nothing an attacker could not guess anyway.
const MIN_REDACTABLE_LEN: usize = 4;
pub const REDACTED: &str = "[redacted]";

pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= MIN_REDACTABLE_LEN && out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

fn redact_value(value: &mut serde_json::Value, secrets: &[&str]) {
    match value {
        serde_json::Value::String(s) => *s = redact(s, secrets),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, secrets)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_value(v, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_covers_message_and_nested_data() {
        let failure = ConnectorFailure::with_data(
            ErrorCode::General,
            "token s3cr3t-token leaked",
            serde_json::json!({ "a": ["x s3cr3t-token y"], "b": "s3cr3t-token" }),
        )
        .redacted(&["s3cr3t-token"]);
        let text = format!("{failure} {:?}", failure.data);
        assert!(!text.contains("s3cr3t-token"), "{text}");
        assert!(text.contains(REDACTED));
    }

    #[test]
    fn short_secrets_are_left_alone() {
        assert_eq!(redact("abc", &["a"]), "abc");
    }
}
