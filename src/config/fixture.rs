//! The one valid config the unit tests start from.

use serde_json::{json, Value};

use super::Config;

/// A valid config in the JS connector's shape: auth token, Messaging Service, the four
/// required templates.
pub fn valid() -> Value {
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
