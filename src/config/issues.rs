//! The config's problems in zod's issue shape, so Logto's Console and code written against
//! the JS connector's ZodError read them unchanged.

use std::fmt;

use serde_json::Value;

use crate::error::{ConnectorFailure, ErrorKind};
use crate::js_json::JS_TYPE_MARKER;

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
    /// zod's issue code (`invalid_type`, `invalid_string`, `invalid_enum_value`, `too_small`,
    /// `custom`).
    pub code: &'static str,
    pub message: String,
    /// zod's `expected` and `received` type names; set exactly for `invalid_type`, which
    /// Logto core prints as "Expected <expected> but received <received>".
    pub types: Option<(&'static str, &'static str)>,
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
        ConfigError::single(Vec::new(), "custom", message.into())
    }

    pub(super) fn single(path: Vec<PathSegment>, code: &'static str, message: String) -> Self {
        ConfigError {
            issues: vec![Issue {
                path,
                code,
                message,
                types: None,
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
                let mut json =
                    serde_json::json!({ "code": issue.code, "path": path, "message": issue.message });
                if let Some((expected, received)) = issue.types {
                    json["expected"] = expected.into();
                    json["received"] = received.into();
                }
                json
            })
            .collect();
        ConnectorFailure::with_data(
            ErrorKind::InvalidConfig,
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
pub(super) struct Issues(Vec<Issue>);

impl Issues {
    /// Any issue but `invalid_type`, which carries its types: see [`Issues::required`].
    pub(super) fn push(
        &mut self,
        path: Vec<PathSegment>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        debug_assert_ne!(code, "invalid_type");
        self.0.push(Issue {
            path,
            code,
            message: message.into(),
            types: None,
        });
    }

    /// An `invalid_type` issue: `received` is `undefined` for a missing key, as in zod.
    pub(super) fn required(
        &mut self,
        path: Vec<PathSegment>,
        expected: &'static str,
        received: &'static str,
        message: impl Into<String>,
    ) {
        self.0.push(Issue {
            path,
            code: "invalid_type",
            message: message.into(),
            types: Some((expected, received)),
        });
    }

    pub(super) fn missing(&mut self, key: &str, expected: &'static str) {
        self.required(
            vec![key.into()],
            expected,
            "undefined",
            format!("Required: expected {} {expected}", article(expected)),
        );
    }

    /// Names the type found, never the value: a misplaced secret must not end up in an error.
    pub(super) fn type_mismatch(
        &mut self,
        path: Vec<PathSegment>,
        expected: &'static str,
        found: &Value,
    ) {
        let received = json_type(found);
        self.required(
            path,
            expected,
            received,
            format!("Expected {expected}, received {received}"),
        );
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn into_error(self) -> ConfigError {
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

pub(super) fn json_type(value: &Value) -> &'static str {
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
