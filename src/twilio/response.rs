//! Reading and classifying Twilio's answers, shared by messages and usage: the body read
//! under a cap, every status class mapped to a failure kind, and which transport errors mean
//! the request was never written.

use serde_json::Value;

use crate::error::ConnectorFailure;

/// Twilio's answers are a few kB; anything far bigger is not Twilio.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// True when the request cannot have reached Twilio: the connection was never established.
/// A certificate Twilio's name does not match is not transient, so it is not retried.
pub(crate) fn never_written(err: &reqwest::Error) -> bool {
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
/// An authorized GET of one of Twilio's JSON resources (usage records, Lookup): its status,
/// its `Location` (never followed) and its body read under the cap.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    authorization: &crate::secret::Secret,
    origin: &str,
) -> Result<(u16, Option<String>, String), ConnectorFailure> {
    let response = client
        .get(url)
        .header(reqwest::header::AUTHORIZATION, authorization.expose())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| ConnectorFailure::transport(origin, &err))?;
    let status = response.status().as_u16();
    let location = header(&response, reqwest::header::LOCATION);
    let body = read_capped(response, origin).await?;
    Ok((status, location, body))
}

pub fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub async fn read_capped(
    mut response: reqwest::Response,
    target: &str,
) -> Result<String, ConnectorFailure> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| ConnectorFailure::transport(target, &err))?
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
    /// The Message resource; a body that is not JSON gives what is known, `{ status, body }`
    /// (never for a send, whose answer [`classify_message`] checked).
    pub fn message(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| serde_json::json!({ "status": self.status, "body": self.body }))
    }
}

/// Maps an HTTP answer to the outcome by its status alone (2xx delivered, 3xx never followed,
/// else Twilio's error); public so the mapping is testable without a server. Usage pages are
/// judged by this and then by their own shape; sends by [`classify_message`].
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

/// The answer to a send: [`classify`], and a 2xx must be a Message resource, a JSON object
/// with a string `sid` (Twilio answers 201 with `sid` `SM…`). Anything else (a captive portal's
/// page, another API's JSON behind a wrong `host` or base URL) is `invalid_response`, never a
/// success: the code it was to carry may not have been sent.
pub fn classify_message(
    status: u16,
    location: Option<&str>,
    body: String,
    target: &str,
) -> Result<Delivered, ConnectorFailure> {
    let delivered = classify(status, location, body, target)?;
    match not_a_message(&delivered.body) {
        None => Ok(delivered),
        Some(what) => Err(ConnectorFailure::not_a_message(target, status, what)),
    }
}

/// What a 2xx body is instead of a Message resource, or `None` when it is one. Parsed in full:
/// a Message resource is a few kB, and this keeps the rule the one `JSON.parse` applies.
fn not_a_message(body: &str) -> Option<&'static str> {
    if body.trim().is_empty() {
        return Some("an empty body");
    }
    match serde_json::from_str::<Value>(body) {
        Err(_) => Some("a body that is not JSON"),
        Ok(Value::Object(resource)) => match resource.get("sid") {
            Some(Value::String(_)) => None,
            _ => Some("a JSON object without a string sid"),
        },
        Ok(_) => Some("JSON that is not an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ConnectorErrorCode, ErrorKind};
    use serde_json::json;

    #[test]
    fn empty_error_bodies_name_the_status() {
        for (status, code) in [
            (502, ConnectorErrorCode::General),
            (407, ConnectorErrorCode::General),
            (429, ConnectorErrorCode::RateLimitExceeded),
        ] {
            let err = classify(status, None, " \r\n".into(), "https://h").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TwilioStatus(status));
            assert_eq!(err.code(), code);
            assert_eq!(
                err.message(),
                format!("https://h answered HTTP {status} with an empty body")
            );
        }
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
        assert_eq!(
            classify_message(201, None, r#"{"sid":"SM1","status":"queued"}"#.into(), "t")
                .unwrap()
                .message()["sid"],
            "SM1"
        );
        let redirect = classify(302, Some("https://evil"), String::new(), "t").unwrap_err();
        assert_eq!(redirect.kind(), ErrorKind::Redirect);
        assert_eq!(redirect.code(), ConnectorErrorCode::General);
        assert!(redirect.message().contains("https://evil"));
        assert_eq!(
            classify(429, None, "{}".into(), "t").unwrap_err().code(),
            ConnectorErrorCode::RateLimitExceeded
        );
        let bad = classify(400, None, r#"{"code":21211}"#.into(), "t").unwrap_err();
        assert_eq!(
            (bad.kind(), bad.code(), bad.data().clone()),
            (
                ErrorKind::TwilioStatus(400),
                ConnectorErrorCode::General,
                json!(r#"{"code":21211}"#)
            )
        );
        assert_eq!(
            classify(503, None, "x".into(), "t").unwrap_err().code(),
            ConnectorErrorCode::General
        );
    }

    #[test]
    fn a_send_succeeds_only_with_a_message_resource() {
        let resource = format!(
            r#"{{"sid":"SM{}","status":"queued","to":"+15551234567","body":"x","num_segments":"1","price":null,"error_code":null,"error_message":null}}"#,
            "0".repeat(32)
        );
        for status in [200, 201, 202] {
            assert!(classify_message(status, None, resource.clone(), "t").is_ok());
        }
        for (body, what) in [
            ("", "an empty body"),
            (" \r\n", "an empty body"),
            (
                "<html>Sign in to the Wi-Fi</html>",
                "a body that is not JSON",
            ),
            ("accepted, not JSON", "a body that is not JSON"),
            (r#"{"sid":"SM1""#, "a body that is not JSON"),
            ("[]", "JSON that is not an object"),
            (r#"["SM1"]"#, "JSON that is not an object"),
            (r#""SM1""#, "JSON that is not an object"),
            ("null", "JSON that is not an object"),
            ("{}", "a JSON object without a string sid"),
            (
                r#"{"status":"queued"}"#,
                "a JSON object without a string sid",
            ),
            (r#"{"sid":null}"#, "a JSON object without a string sid"),
            (r#"{"sid":12}"#, "a JSON object without a string sid"),
            (
                r#"{"usage_records":[]}"#,
                "a JSON object without a string sid",
            ),
        ] {
            let err = classify_message(200, None, body.into(), "https://h").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotAMessage, "{body:?}");
            assert_eq!(err.code(), ConnectorErrorCode::InvalidResponse, "{body:?}");
            assert!(
                err.message()
                    .starts_with(&format!("https://h answered HTTP 200 with {what}")),
                "{body:?}: {}",
                err.message()
            );
            assert!(
                err.message().contains("may not have been sent"),
                "{}",
                err.message()
            );
        }
        // Errors keep their own mapping: the body check is for 2xx only.
        assert_eq!(
            classify_message(400, None, "{}".into(), "t")
                .unwrap_err()
                .kind(),
            ErrorKind::TwilioStatus(400)
        );
        assert_eq!(
            classify_message(302, None, String::new(), "t")
                .unwrap_err()
                .kind(),
            ErrorKind::Redirect
        );
        // A usage page has no sid and is not judged by this rule.
        assert!(classify(200, None, r#"{"usage_records":[]}"#.into(), "t").is_ok());
    }
}
