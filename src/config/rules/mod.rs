//! The acceptance rules: the JS connector's zod guard (plus upstream's optional `host`) for its
//! fields, and the rules of the fields added beyond it. Every problem is collected, not just
//! the first.

use serde_json::{Map, Value};

use super::issues::{json_type, Issues, PathSegment};
use super::{ApiKey, Config, ConfigError, Credential, Sender, Template, REQUIRED_USAGE_TYPES};
use crate::country::{self, AllowedCountries};
use crate::secret::Secret;

mod countries;
mod credential;
mod host;
mod pumping;
mod sender;
mod templates;

use countries::*;
use credential::*;
use host::*;
use pumping::*;
use sender::*;
use templates::*;

pub(super) fn validate(value: &Value) -> Result<Config, ConfigError> {
    let mut issues = Issues::default();
    let Some(object) = value.as_object() else {
        issues.type_mismatch(Vec::new(), "object", value);
        return Err(issues.into_error());
    };
    let host = optional_host(object, &mut issues);
    let account_sid = required_string(object, "accountSID", &mut issues);
    let credential = credential(object, &mut issues);
    let sender = sender(object, &mut issues);
    let disable_risk_check = optional_bool(object, "disableRiskCheck", &mut issues);
    let validity_period = optional_validity_period(object, &mut issues);
    let smart_encoded = smart_encoded(object, &mut issues);
    let templates = templates(object, &mut issues);
    let allowed_countries = allowed_countries(object, &mut issues);
    let sms_pumping = sms_pumping(object, &mut issues);
    // Lookup is not offered in every region: a risk check the host's region cannot answer is
    // refused here rather than on every send.
    if sms_pumping.as_ref().is_some_and(|p| p.risk_score.is_some()) {
        let api_host = host.as_deref().unwrap_or(super::DEFAULT_HOST);
        if let Err(failure) = crate::pumping::lookup::lookup_origin(api_host) {
            issues.push(
                vec!["smsPumping".into(), "riskScore".into()],
                "custom",
                failure.into_message(),
            );
        }
    }
    match (account_sid, credential, sender, templates) {
        (Some(account_sid), Some(credential), Some(sender), Some(templates))
            if issues.is_empty() =>
        {
            Ok(Config {
                host,
                account_sid,
                credential,
                sender,
                disable_risk_check: disable_risk_check.unwrap_or(false),
                validity_period,
                smart_encoded,
                templates,
                allowed_countries,
                sms_pumping: sms_pumping.map(std::sync::Arc::new),
            })
        }
        _ => {
            // Every rule that leaves a field unset records why.
            debug_assert!(!issues.is_empty());
            Err(issues.into_error())
        }
    }
}

/// An optional field added beyond the JS connector: `null` and `''` count as not set, because
/// that is what a cleared Console field saves, and clearing a field should turn it off.
fn new_optional<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    match object.get(key)? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        value => Some(value),
    }
}

/// `smartEncoded`: a boolean, or the Console's Select value (`on`, `off`, `default`), since a
/// Switch the Console saves as `false` is dropped before saving and cannot turn it off.
fn smart_encoded(object: &Map<String, Value>, issues: &mut Issues) -> Option<bool> {
    match new_optional(object, "smartEncoded")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "on" => Some(true),
        Value::String(s) if s == "off" => Some(false),
        Value::String(s) if s == "default" => None,
        Value::String(_) => {
            issues.push(
                vec!["smartEncoded".into()],
                "invalid_enum_value",
                "Expected 'on', 'off' or 'default' (or a boolean)",
            );
            None
        }
        other => {
            issues.type_mismatch(vec!["smartEncoded".into()], "boolean", other);
            None
        }
    }
}

/// An explicit choice between ways of configuring one thing (`authMethod`, `senderType`,
/// `validityPeriodMode`): the Console's Select. `None` when absent (or cleared), so configs
/// without it keep the rules by presence of fields; `Some(Err(()))` when invalid.
fn choice<'a>(
    object: &Map<String, Value>,
    key: &str,
    options: &[&'a str],
    issues: &mut Issues,
) -> Option<Result<&'a str, ()>> {
    let found = match new_optional(object, key)? {
        Value::String(s) => options
            .iter()
            .find(|option| **option == s.as_str())
            .copied(),
        other => {
            issues.type_mismatch(vec![key.into()], "string", other);
            return Some(Err(()));
        }
    };
    Some(found.ok_or_else(|| {
        let quoted: Vec<String> = options.iter().map(|o| format!("'{o}'")).collect();
        issues.push(
            vec![key.into()],
            "invalid_enum_value",
            format!("Expected {}", quoted.join(" or ")),
        );
    }))
}

/// A field the explicit choice `because` (e.g. `authMethod is apiKey`) makes required: a
/// non-empty string. The other choice's fields are not read at all, so what the Console hides
/// cannot fail or change the config.
fn chosen_string(
    object: &Map<String, Value>,
    key: &str,
    because: &str,
    issues: &mut Issues,
) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::String(_)) => {
            issues.push(
                vec![key.into()],
                "too_small",
                format!("Required when {because}: must not be empty"),
            );
            None
        }
        Some(Value::Null) | None => {
            let received = object.get(key).map_or("undefined", json_type);
            issues.required(
                vec![key.into()],
                "string",
                received,
                format!("Required when {because}"),
            );
            None
        }
        Some(other) => {
            issues.type_mismatch(vec![key.into()], "string", other);
            None
        }
    }
}

fn new_optional_string(
    object: &Map<String, Value>,
    key: &str,
    issues: &mut Issues,
) -> Option<String> {
    match new_optional(object, key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            issues.type_mismatch(vec![key.into()], "string", other);
            None
        }
    }
}

/// `validityPeriodMode` `twilioDefault` turns the period off whatever `validityPeriod` holds
/// (the Console cannot clear a number field), `custom` requires it; absent: used when set.
fn optional_validity_period(object: &Map<String, Value>, issues: &mut Issues) -> Option<u32> {
    let modes = ["twilioDefault", "custom"];
    let value = match choice(object, "validityPeriodMode", &modes, issues) {
        Some(Err(())) | Some(Ok("twilioDefault")) => return None,
        Some(Ok(_)) => match new_optional(object, "validityPeriod") {
            Some(value) => value,
            None => {
                let received = object.get("validityPeriod").map_or("undefined", json_type);
                issues.required(
                    vec!["validityPeriod".into()],
                    "number",
                    received,
                    "Required when validityPeriodMode is custom: seconds from 1 to 36000",
                );
                return None;
            }
        },
        None => new_optional(object, "validityPeriod")?,
    };
    match value.as_u64().filter(|s| (1..=36_000).contains(s)) {
        Some(seconds) => Some(seconds as u32),
        None => {
            // A number is no secret, so it is shown; other types are named, never printed.
            let message = |found: &str| {
                format!(
                    "Expected a whole number of seconds from 1 to 36000 (Twilio's limit), \
                     received {found}"
                )
            };
            let path = vec!["validityPeriod".into()];
            match value {
                Value::Number(n) => issues.push(path, "custom", message(&n.to_string())),
                other => {
                    let found = json_type(other);
                    issues.required(path, "number", found, message(found));
                }
            }
            None
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fixture::{valid, with};
    use crate::error::ConnectorErrorCode;
    use serde_json::json;

    pub(super) fn messages(value: &Value) -> Vec<String> {
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
                "authToken: Required: expected a string (or set apiKeySID and apiKeySecret to \
                 authenticate with an API key)",
                "fromMessagingServiceSID: Required: expected a string (or set fromPhoneNumber to \
                 send from a phone number)",
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
    fn debug_output_hides_the_token() {
        let config = Config::from_value(&valid()).unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains("secret-token-xyz"), "{text}");
        assert_eq!(config.credentials().1.to_string(), "[redacted]");
    }

    #[test]
    fn failure_data_has_zod_shaped_issues() {
        let err = Config::from_value(&json!({})).unwrap_err();
        let failure = err.to_failure();
        assert_eq!(failure.code(), ConnectorErrorCode::InvalidConfig);
        assert_eq!(failure.data()["issues"][0]["path"], json!(["accountSID"]));
        assert!(failure.message().contains("accountSID: Required"));
    }

    #[test]
    fn validity_period_and_smart_encoded() {
        let config = Config::from_value(&with("validityPeriod", json!(600))).unwrap();
        assert_eq!(config.validity_period, Some(600));
        for ok in [1, 36_000] {
            assert!(Config::from_value(&with("validityPeriod", json!(ok))).is_ok());
        }
        for bad in [
            json!(0),
            json!(36_001),
            json!(-5),
            json!(1.5),
            json!("600"),
            json!(true),
        ] {
            let errors = messages(&with("validityPeriod", bad.clone()));
            assert_eq!(errors.len(), 1, "{bad}");
            assert!(
                errors[0].contains("whole number of seconds from 1 to 36000"),
                "{bad}"
            );
        }
        assert_eq!(
            Config::from_value(&with("validityPeriod", json!(null)))
                .unwrap()
                .validity_period,
            None
        );
        assert_eq!(
            Config::from_value(&with("smartEncoded", json!(true)))
                .unwrap()
                .smart_encoded,
            Some(true)
        );
        assert_eq!(
            Config::from_value(&with("smartEncoded", json!(false)))
                .unwrap()
                .smart_encoded,
            Some(false)
        );
        assert_eq!(Config::from_value(&valid()).unwrap().smart_encoded, None);
        assert_eq!(
            messages(&with("smartEncoded", json!(5))),
            vec!["smartEncoded: Expected boolean, received number"]
        );
    }

    #[test]
    fn explicit_choices_win_over_presence() {
        let mut value = valid();
        value["apiKeySID"] = json!("SK1");
        value["apiKeySecret"] = json!("key-secret");
        // Without a choice the key wins (unchanged); the choice picks the token instead.
        assert_eq!(Config::from_value(&value).unwrap().credentials().0, "SK1");
        value["authMethod"] = json!("authToken");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.credentials().0, "AC0123");
        assert!(matches!(config.credential, Credential::AuthToken(_)));
        // The unchosen fields are not read: a stale, even broken, API key cannot fail the config.
        value["apiKeySID"] = json!("AC-wrong");
        assert!(Config::from_value(&value).is_ok());
        value["authToken"] = json!("");
        assert_eq!(
            messages(&value),
            vec!["authToken: Required when authMethod is authToken: must not be empty"]
        );
        value["authMethod"] = json!("apiKey");
        assert!(messages(&value)[0].starts_with("apiKeySID: Must be an API Key SID"));
        value["apiKeySID"] = json!("SK2");
        assert_eq!(Config::from_value(&value).unwrap().credentials().0, "SK2");
        value.as_object_mut().unwrap().remove("apiKeySecret");
        assert_eq!(
            messages(&value),
            vec!["apiKeySecret: Required when authMethod is apiKey"]
        );
        value["authMethod"] = json!("password");
        assert_eq!(
            messages(&value),
            vec!["authMethod: Expected 'authToken' or 'apiKey'"]
        );

        let mut value = with("fromPhoneNumber", json!("+15551234567"));
        assert!(Config::from_value(&value)
            .unwrap()
            .sender
            .messaging_service_sid()
            .is_some());
        value["senderType"] = json!("phoneNumber");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.sender.messaging_service_sid(), None);
        assert_eq!(
            config.sender.sent_as_from().map(|f| f.as_str()),
            Some("+15551234567")
        );
        value["senderType"] = json!("messagingService");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.sender.messaging_service_sid(), Some("MG99"));
        assert_eq!(config.sender.sent_as_from().map(|f| f.as_str()), None);
        // The explicit choice wants a Messaging Service SID (MG…); without it any string
        // passes, as in the JS guard (`empty_strings_pass_like_the_js_guard`).
        for wrong in ["+15551234567", "AC0123", "mg99", "PN99"] {
            let mut value = value.clone();
            value["fromMessagingServiceSID"] = json!(wrong);
            let errors = messages(&value);
            assert_eq!(errors.len(), 1, "{wrong}");
            assert!(
                errors[0].starts_with(
                    "fromMessagingServiceSID: Must be a Messaging Service SID, which starts with MG"
                ),
                "{}",
                errors[0]
            );
            let failure = Config::from_value(&value).unwrap_err().to_failure();
            assert_eq!(
                failure.data()["issues"][0],
                json!({ "code": "invalid_string", "path": ["fromMessagingServiceSID"],
                        "message": errors[0].trim_start_matches("fromMessagingServiceSID: ") })
            );
            value.as_object_mut().unwrap().remove("senderType");
            assert!(
                Config::from_value(&value).is_ok(),
                "{wrong} without senderType"
            );
        }
        value["fromPhoneNumber"] = json!("not a number");
        assert!(Config::from_value(&value).is_ok());
        value["senderType"] = json!("phoneNumber");
        assert!(messages(&value)[0].starts_with("fromPhoneNumber: Not a valid alphanumeric"));

        let mut value = with("validityPeriod", json!(600));
        value["validityPeriodMode"] = json!("twilioDefault");
        assert_eq!(Config::from_value(&value).unwrap().validity_period, None);
        value["validityPeriodMode"] = json!("custom");
        assert_eq!(
            Config::from_value(&value).unwrap().validity_period,
            Some(600)
        );
        value.as_object_mut().unwrap().remove("validityPeriod");
        assert!(messages(&value)[0].starts_with("validityPeriod: Required when validityPeriodMode"));

        for (select, meaning) in [("on", Some(true)), ("off", Some(false)), ("default", None)] {
            let config = Config::from_value(&with("smartEncoded", json!(select))).unwrap();
            assert_eq!(config.smart_encoded, meaning, "{select}");
        }
        assert_eq!(
            messages(&with("smartEncoded", json!("yes"))),
            vec!["smartEncoded: Expected 'on', 'off' or 'default' (or a boolean)"]
        );
    }

    #[test]
    fn type_issues_carry_expected_and_received() {
        let mut value = valid();
        value.as_object_mut().unwrap().remove("authToken");
        value["accountSID"] = json!(5);
        let failure = Config::from_value(&value).unwrap_err().to_failure();
        let issues = failure.data()["issues"].as_array().unwrap();
        assert_eq!(
            issues[0],
            json!({ "code": "invalid_type", "path": ["accountSID"], "expected": "string",
                    "received": "number", "message": "Expected string, received number" })
        );
        assert_eq!(issues[1]["path"], json!(["authToken"]));
        assert_eq!(issues[1]["received"], json!("undefined"));
        // Every invalid_type issue has both; no other issue has them.
        let all = Config::from_value(&json!({ "templates": [1, {}], "validityPeriod": "x" }))
            .unwrap_err()
            .to_failure();
        for issue in all.data()["issues"].as_array().unwrap() {
            let typed = issue["code"] == "invalid_type";
            assert_eq!(issue.get("expected").is_some(), typed, "{issue}");
            assert_eq!(issue.get("received").is_some(), typed, "{issue}");
        }
    }
}
