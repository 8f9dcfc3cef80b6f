//! Connector config: the same shape and the same acceptance rules as the JS connector's zod
//! guard (plus upstream's optional `host`), validated once into a typed value.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

use crate::error::{ConnectorFailure, ErrorCode};

/// The usage types Logto needs for its complete flow; a config without one of them is rejected
/// up front rather than failing a user's sign-in later.
pub const REQUIRED_USAGE_TYPES: [&str; 4] = ["Register", "SignIn", "ForgotPassword", "Generic"];
pub const GENERIC_USAGE_TYPE: &str = "Generic";
pub const DEFAULT_HOST: &str = "api.twilio.com";
/// Every key the validator reads, at any depth. The bindings serialize only these, so an
/// unknown key, which the JS guard ignores, cannot fail a config by being deep, cyclic or a
/// BigInt, and a large unknown value costs nothing.
pub const KNOWN_KEYS: &[&str] = &[
    "host",
    "accountSID",
    "authToken",
    "fromMessagingServiceSID",
    "disableRiskCheck",
    "templates",
    "usageType",
    "content",
];
const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// A credential: kept out of every `Debug`/`Display` so a stray `{:?}` cannot log it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub usage_type: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Lower-cased, as Twilio host names are; `None` means `api.twilio.com`.
    pub host: Option<String>,
    pub account_sid: String,
    pub auth_token: Secret,
    pub from_messaging_service_sid: String,
    pub disable_risk_check: bool,
    pub templates: Vec<Template>,
}

impl Config {
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or(DEFAULT_HOST)
    }

    /// The first template for `usage_type`, else the first `Generic` one (connector-kit's
    /// `getConfigTemplateByType`). `None` as the usage type only ever matches `Generic`.
    pub fn template_for(&self, usage_type: Option<&str>) -> Option<&Template> {
        usage_type
            .and_then(|wanted| self.templates.iter().find(|t| t.usage_type == wanted))
            .or_else(|| {
                self.templates
                    .iter()
                    .find(|t| t.usage_type == GENERIC_USAGE_TYPE)
            })
    }

    /// `from_json` behind a small process-wide cache. Logto hands the config to every send, so
    /// a repeat send with the same config costs a hash lookup instead of a validation. Bounded,
    /// since configs change over a server's life; only valid configs are kept.
    pub fn cached_from_json(text: &str) -> Result<Arc<Config>, ConfigError> {
        const CAPACITY: usize = 64;
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<Config>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let lock = || {
            cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some(config) = lock().get(text) {
            return Ok(config.clone());
        }
        let config = Arc::new(Config::from_json(text)?);
        let mut cache = lock();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(text.to_owned(), config.clone());
        Ok(config)
    }

    /// Parses JSON text (what the bindings get from `JSON.stringify`) and validates it.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        match serde_json::from_str::<Value>(&replace_lone_surrogates(text)) {
            Ok(value) => Config::from_value(&value),
            Err(err) => Err(ConfigError::single(
                Vec::new(),
                "invalid_type",
                format!("Expected a JSON object (config could not be parsed: {err})"),
            )),
        }
    }

    pub fn from_value(value: &Value) -> Result<Config, ConfigError> {
        let mut issues = Issues::default();
        let Some(object) = value.as_object() else {
            issues.type_mismatch(Vec::new(), "object", value);
            return Err(issues.into_error());
        };
        let host = optional_host(object, &mut issues);
        let account_sid = required_string(object, "accountSID", &mut issues);
        let auth_token = required_string(object, "authToken", &mut issues);
        let from_sid = required_string(object, "fromMessagingServiceSID", &mut issues);
        let disable_risk_check = optional_bool(object, "disableRiskCheck", &mut issues);
        let templates = templates(object, &mut issues);
        match (account_sid, auth_token, from_sid, templates) {
            (Some(account_sid), Some(auth_token), Some(from_sid), Some(templates))
                if issues.is_empty() =>
            {
                Ok(Config {
                    host,
                    account_sid,
                    auth_token: Secret(auth_token),
                    from_messaging_service_sid: from_sid,
                    disable_risk_check: disable_risk_check.unwrap_or(false),
                    templates,
                })
            }
            _ => Err(issues.into_error()),
        }
    }
}

/// JavaScript strings may hold lone UTF-16 surrogates, which `JSON.stringify` writes as
/// `\udXXX` escapes and serde_json rejects. The JS connector would send them as U+FFFD (what
/// `URLSearchParams` does), so they become U+FFFD here instead of failing the config.
pub fn replace_lone_surrogates(json: &str) -> std::borrow::Cow<'_, str> {
    let bytes = json.as_bytes();
    let escape_at = |i: usize| -> Option<u16> {
        let hex = bytes.get(i..i + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(i) else {
            // Any other escape is two bytes; skipping both keeps `\\u…` from reading as `\u…`.
            i += 2;
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&unit)
            && escape_at(i + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired {
            i += 12;
        } else if (0xD800..0xE000).contains(&unit) {
            let out = out.get_or_insert_with(|| String::with_capacity(json.len()));
            out.push_str(&json[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(json),
        Some(mut out) => {
            out.push_str(&json[copied..]);
            std::borrow::Cow::Owned(out)
        }
    }
}

fn required_string(object: &Map<String, Value>, key: &str, issues: &mut Issues) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            issues.type_mismatch(vec![key.into()], "string", other);
            None
        }
        None => {
            issues.missing(key, "string");
            None
        }
    }
}

fn optional_bool(object: &Map<String, Value>, key: &str, issues: &mut Issues) -> Option<bool> {
    match object.get(key)? {
        Value::Bool(b) => Some(*b),
        other => {
            issues.type_mismatch(vec![key.into()], "boolean", other);
            None
        }
    }
}

fn optional_host(object: &Map<String, Value>, issues: &mut Issues) -> Option<String> {
    match object.get("host")? {
        Value::String(host) if is_twilio_api_host(host) => Some(host.to_ascii_lowercase()),
        Value::String(_) => {
            issues.push(
                vec!["host".into()],
                "invalid_string",
                "Must be a Twilio REST API host name: api.twilio.com or a regional one such as \
                 api.dublin.ie1.twilio.com (no scheme, port, path or trailing dot); leave it out \
                 to use api.twilio.com",
            );
            None
        }
        other => {
            issues.type_mismatch(vec!["host".into()], "string", other);
            None
        }
    }
}

fn templates(object: &Map<String, Value>, issues: &mut Issues) -> Option<Vec<Template>> {
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
                issues.push(path(key), "invalid_type", "Required: expected a string");
                None
            }
        };
        let usage_type = field("usageType");
        let content = field("content");
        if let (Some(usage_type), Some(content)) = (usage_type, content) {
            templates.push(Template {
                usage_type,
                content,
            });
        }
    }
    if issues.len() > before {
        return None;
    }
    let missing: Vec<&str> = REQUIRED_USAGE_TYPES
        .into_iter()
        .filter(|required| !templates.iter().any(|t| t.usage_type == *required))
        .collect();
    if !missing.is_empty() {
        // The JS connector's exact sentence: operators and their scripts already know it.
        issues.push(
            vec!["templates".into()],
            "custom",
            format!(
                "Template with UsageType ({}) should be provided!",
                missing.join(", ")
            ),
        );
        return None;
    }
    Some(templates)
}

/// `^api(?:\.[\da-z](?:[\da-z-]{0,61}[\da-z])?)*\.twilio\.com$`, case-insensitive, at most
/// 253 characters. Written out by hand: a regex engine is a lot of binary for one pattern.
pub fn is_twilio_api_host(host: &str) -> bool {
    if host.len() > MAX_HOST_LEN || !host.is_ascii() {
        return false;
    }
    let lower = host.to_ascii_lowercase();
    let Some(middle) = lower
        .strip_prefix("api")
        .and_then(|rest| rest.strip_suffix(".twilio.com"))
    else {
        return false;
    };
    if middle.is_empty() {
        return true;
    }
    let Some(labels) = middle.strip_prefix('.') else {
        return false;
    };
    labels.split('.').all(is_dns_label)
}

fn is_dns_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_LEN
        && alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        PathSegment::Key(key.to_owned())
    }
}

impl From<usize> for PathSegment {
    fn from(index: usize) -> Self {
        PathSegment::Index(index)
    }
}

/// One problem with the config, shaped like a zod issue so Logto's Console can show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: Vec<PathSegment>,
    /// zod's issue code (`invalid_type`, `invalid_string`, `custom`).
    pub code: &'static str,
    pub message: String,
}

impl Issue {
    pub fn path_text(&self) -> String {
        let mut text = String::new();
        for segment in &self.path {
            match segment {
                PathSegment::Key(key) if text.is_empty() => text.push_str(key),
                PathSegment::Key(key) => {
                    text.push('.');
                    text.push_str(key);
                }
                PathSegment::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        if text.is_empty() {
            text.push_str("config");
        }
        text
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub issues: Vec<Issue>,
}

impl ConfigError {
    /// A problem with the config as a whole (not an object, not serializable).
    pub fn whole(message: impl Into<String>) -> Self {
        ConfigError::single(Vec::new(), "invalid_type", message.into())
    }

    fn single(path: Vec<PathSegment>, code: &'static str, message: String) -> Self {
        ConfigError {
            issues: vec![Issue {
                path,
                code,
                message,
            }],
        }
    }

    /// `data` carries `issues` in zod's shape (`path` as an array of keys and indexes) so code
    /// written against the JS connector's ZodError keeps working.
    pub fn to_failure(&self) -> ConnectorFailure {
        let issues: Vec<Value> = self
            .issues
            .iter()
            .map(|issue| {
                let path: Vec<Value> = issue
                    .path
                    .iter()
                    .map(|segment| match segment {
                        PathSegment::Key(key) => Value::String(key.clone()),
                        PathSegment::Index(index) => Value::from(*index),
                    })
                    .collect();
                serde_json::json!({ "code": issue.code, "path": path, "message": issue.message })
            })
            .collect();
        ConnectorFailure::with_data(
            ErrorCode::InvalidConfig,
            self.to_string(),
            serde_json::json!({ "name": "ConfigError", "issues": issues }),
        )
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Invalid Twilio SMS connector config: ")?;
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", issue.path_text(), issue.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[derive(Default)]
struct Issues(Vec<Issue>);

impl Issues {
    fn push(&mut self, path: Vec<PathSegment>, code: &'static str, message: impl Into<String>) {
        self.0.push(Issue {
            path,
            code,
            message: message.into(),
        });
    }

    fn missing(&mut self, key: &str, expected: &str) {
        self.push(
            vec![key.into()],
            "invalid_type",
            format!("Required: expected {} {expected}", article(expected)),
        );
    }

    /// Names the type found, never the value: a misplaced secret must not end up in an error.
    fn type_mismatch(&mut self, path: Vec<PathSegment>, expected: &str, found: &Value) {
        self.push(
            path,
            "invalid_type",
            format!("Expected {expected}, received {}", json_type(found)),
        );
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_error(self) -> ConfigError {
        ConfigError { issues: self.0 }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The key of the object the bindings put where a JS value has no JSON form:
/// `{ "\0jsType": "function" | "symbol" | "bigint" }`.
pub const JS_TYPE_MARKER: &str = "\0jsType";

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(map) => match map.get(JS_TYPE_MARKER).and_then(Value::as_str) {
            Some("function") if map.len() == 1 => "function",
            Some("symbol") if map.len() == 1 => "symbol",
            Some("bigint") if map.len() == 1 => "bigint",
            _ => "object",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "accountSID": "AC123",
            "authToken": "token-value-123",
            "fromMessagingServiceSID": "MG123",
            "templates": [
                { "usageType": "Register", "content": "r {{code}}" },
                { "usageType": "SignIn", "content": "s {{code}}" },
                { "usageType": "ForgotPassword", "content": "f {{code}}" },
                { "usageType": "Generic", "content": "g {{code}}" },
            ],
        })
    }

    fn with(key: &str, value: Value) -> Value {
        let mut config = valid();
        config[key] = value;
        config
    }

    fn messages(value: &Value) -> Vec<String> {
        match Config::from_value(value) {
            Ok(_) => Vec::new(),
            Err(err) => err
                .issues
                .iter()
                .map(|i| format!("{}: {}", i.path_text(), i.message))
                .collect(),
        }
    }

    #[test]
    fn accepts_valid_config_and_unknown_keys() {
        let config = Config::from_value(&with("somethingElse", json!(1))).unwrap();
        assert_eq!(config.host(), "api.twilio.com");
        assert!(!config.disable_risk_check);
        assert_eq!(config.templates.len(), 4);
    }

    #[test]
    fn empty_strings_pass_like_the_js_guard() {
        let mut config = valid();
        config["accountSID"] = json!("");
        config["authToken"] = json!("");
        config["fromMessagingServiceSID"] = json!("");
        assert!(Config::from_value(&config).is_ok());
    }

    #[test]
    fn reports_every_problem_at_once() {
        let config = json!({ "accountSID": 1, "templates": "x", "disableRiskCheck": "yes" });
        assert_eq!(
            messages(&config),
            vec![
                "accountSID: Expected string, received number",
                "authToken: Required: expected a string",
                "fromMessagingServiceSID: Required: expected a string",
                "disableRiskCheck: Expected boolean, received string",
                "templates: Expected array, received string",
            ]
        );
    }

    #[test]
    fn non_object_config_is_invalid() {
        for value in [json!(null), json!("x"), json!([1]), json!(3)] {
            assert_eq!(messages(&value).len(), 1, "{value}");
        }
        assert!(Config::from_json("not json").is_err());
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
    fn host_rules() {
        let long_label = format!("api.{}.twilio.com", "a".repeat(64));
        let ok_label = format!("api.{}.twilio.com", "a".repeat(63));
        let too_long = format!("api{}.twilio.com", ".abcdefghi".repeat(25));
        for good in [
            "api.twilio.com",
            "API.Twilio.COM",
            "api.dublin.ie1.twilio.com",
            "api.sydney.au1.twilio.com",
            "api.a-b.twilio.com",
            ok_label.as_str(),
        ] {
            assert!(is_twilio_api_host(good), "{good}");
        }
        for bad in [
            "",
            " ",
            "https://api.twilio.com",
            "api.twilio.com:443",
            "api.twilio.com/x",
            "api.twilio.com?x",
            "api.twilio.com#x",
            "user@api.twilio.com",
            "api.twilio.com\n",
            "api.twilio.com.",
            "api.twilio.com.example.com",
            "api.example.com",
            "127.0.0.1",
            "api..twilio.com",
            "api.-a.twilio.com",
            "api.a-.twilio.com",
            "api.a_b.twilio.com",
            long_label.as_str(),
            too_long.as_str(),
            "twilio.com",
            "apix.twilio.com",
            "api.twilio.cöm",
        ] {
            assert!(!is_twilio_api_host(bad), "{bad:?}");
        }
        let config = Config::from_value(&with("host", json!("API.Dublin.IE1.twilio.com"))).unwrap();
        assert_eq!(config.host(), "api.dublin.ie1.twilio.com");
        for value in [json!(null), json!(1), json!(""), json!(true)] {
            assert_eq!(messages(&with("host", value.clone())).len(), 1, "{value}");
        }
    }

    #[test]
    fn template_selection_falls_back_to_generic() {
        let config = Config::from_value(&valid()).unwrap();
        assert_eq!(
            config.template_for(Some("SignIn")).unwrap().content,
            "s {{code}}"
        );
        assert_eq!(
            config
                .template_for(Some("MfaVerification"))
                .unwrap()
                .content,
            "g {{code}}"
        );
        assert_eq!(config.template_for(None).unwrap().content, "g {{code}}");
    }

    #[test]
    fn debug_output_hides_the_token() {
        let config = Config::from_value(&valid()).unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains("token-value-123"), "{text}");
        assert_eq!(config.auth_token.to_string(), "[redacted]");
    }

    #[test]
    fn failure_data_has_zod_shaped_issues() {
        let err = Config::from_value(&json!({})).unwrap_err();
        let failure = err.to_failure();
        assert_eq!(failure.code, ErrorCode::InvalidConfig);
        assert_eq!(failure.data["issues"][0]["path"], json!(["accountSID"]));
        assert!(failure.message.contains("accountSID: Required"));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let cases = [
            (r#""a\ud800b""#, r#""a\ufffdb""#),
            (r#""\udc00""#, r#""\ufffd""#),
            (r#""\ud83d\ude00""#, r#""\ud83d\ude00""#),
            (r#""\ud800\ud800\udc00""#, r#""\ufffd\ud800\udc00""#),
            (r#""\\ud800""#, r#""\\ud800""#),
            (r#""\\\ud800""#, r#""\\\ufffd""#),
            (r#""\ud800""#, r#""\ufffd""#),
            (r#""\u0041\ud8""#, r#""\u0041\ud8""#),
        ];
        for (input, expected) in cases {
            assert_eq!(replace_lone_surrogates(input), expected, "{input}");
        }
        let config = Config::from_json(&format!(
            r#"{{"accountSID":"a","authToken":"t","fromMessagingServiceSID":"m","templates":[{}]}}"#,
            ["Register", "SignIn", "ForgotPassword", "Generic"]
                .map(|u| format!(r#"{{"usageType":"{u}","content":"x\ud800"}}"#))
                .join(",")
        ))
        .unwrap();
        assert_eq!(config.templates[0].content, "x\u{fffd}");
    }
}
