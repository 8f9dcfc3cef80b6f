//! The one valid config every Rust test starts from (test support, never in a build).

use serde_json::{json, Value};

use super::Config;

/// A valid config in the JS connector's shape: auth token, Messaging Service, the four
/// required templates (SignIn's with characters form encoding must escape).
pub fn valid() -> Value {
    json!({
        "accountSID": "AC0123",
        "authToken": "secret-token-xyz",
        "fromMessagingServiceSID": "MG99",
        "templates": [
            { "usageType": "Register", "content": "r {{code}}" },
            { "usageType": "SignIn", "content": "Your code: {{code}} & more" },
            { "usageType": "ForgotPassword", "content": "f" },
            { "usageType": "Generic", "content": "g {{code}}" },
        ],
    })
}

/// [`valid`] with `key` set to `value`.
pub fn with(key: &str, value: Value) -> Value {
    let mut config = valid();
    config[key] = value;
    config
}

/// [`valid`] with every field of `extra` set, validated.
pub fn config(extra: Value) -> Config {
    let mut value = valid();
    for (k, v) in extra.as_object().expect("an object of fields") {
        value[k] = v.clone();
    }
    Config::from_value(&value).expect("a valid config")
}
