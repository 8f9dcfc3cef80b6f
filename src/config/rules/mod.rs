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
mod sender;
mod templates;

use countries::*;
use credential::*;
use host::*;
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
    use crate::sender::is_e164;
    use serde_json::json;

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
        let malformed = messages(&with("host", json!("https://api.twilio.com")));
        assert!(
            malformed[0].contains(
                "api.twilio.com (US1), api.dublin.ie1.twilio.com (IE1) or \
                 api.sydney.au1.twilio.com (AU1)"
            ),
            "{}",
            malformed[0]
        );
    }

    #[test]
    fn only_the_hosts_twilio_documents_are_accepted() {
        for (host, region) in DOCUMENTED_HOSTS {
            let config = Config::from_value(&with("host", json!(host.to_ascii_uppercase())))
                .unwrap_or_else(|err| panic!("{host} ({region}): {err}"));
            assert_eq!(config.host(), host);
        }
        // Well-formed (upstream's rule accepts them) but not a documented REST API host.
        for (host, says) in [
            (
                "api.frankfurt.de1.twilio.com",
                "Twilio does not document REST API processing in DE1",
            ),
            (
                "api.tokyo.jp1.twilio.com",
                "Twilio does not document REST API processing in JP1",
            ),
            (
                "api.dublin.us1.twilio.com",
                "US1 processing is reached through api.twilio.com",
            ),
            (
                "api.sydney.ie1.twilio.com",
                "IE1 processing is reached through api.dublin.ie1.twilio.com",
            ),
            (
                "API.Dublin.AU1.twilio.com",
                "AU1 processing is reached through api.sydney.au1.twilio.com",
            ),
            ("api.edge.twilio.com", "is not a Twilio REST API host."),
            ("api.a-b.twilio.com", "is not a Twilio REST API host."),
        ] {
            assert!(is_twilio_api_host(host), "{host}");
            let errors = messages(&with("host", json!(host)));
            assert_eq!(errors.len(), 1, "{host}");
            assert!(errors[0].starts_with("host: "), "{}", errors[0]);
            assert!(errors[0].contains(says), "{host}: {}", errors[0]);
            assert!(
                errors[0].ends_with(
                    "Use api.twilio.com (US1), api.dublin.ie1.twilio.com (IE1) or \
                     api.sydney.au1.twilio.com (AU1)"
                ),
                "{}",
                errors[0]
            );
        }
        let err = Config::from_value(&with("host", json!("api.frankfurt.de1.twilio.com")))
            .unwrap_err()
            .to_failure();
        assert_eq!(err.data()["issues"][0]["path"], json!(["host"]));
        assert_eq!(err.data()["issues"][0]["code"], json!("invalid_string"));
    }

    #[test]
    fn retired_region_hosts_are_refused_with_their_replacement() {
        for (host, replacement) in [
            ("api.ie1.twilio.com", "api.dublin.ie1.twilio.com"),
            ("API.AU1.twilio.com", "api.sydney.au1.twilio.com"),
            ("api.br1.twilio.com", "api.twilio.com"),
            ("api.de1.twilio.com", "api.twilio.com"),
            ("api.jp1.twilio.com", "api.twilio.com"),
            ("api.sg1.twilio.com", "api.twilio.com"),
            ("api.us2.twilio.com", "api.twilio.com"),
        ] {
            let errors = messages(&with("host", json!(host)));
            assert_eq!(errors.len(), 1, "{host}");
            assert!(errors[0].contains("no longer works"), "{}", errors[0]);
            assert!(errors[0].contains("2026-04-28"), "{}", errors[0]);
            assert!(errors[0].contains(replacement), "{}", errors[0]);
        }
        for still_valid in [
            "api.us1.twilio.com",
            "api.dublin.ie1.twilio.com",
            "api.sydney.au1.twilio.com",
        ] {
            assert!(Config::from_value(&with("host", json!(still_valid))).is_ok());
        }
    }

    #[test]
    fn allowed_countries_rules() {
        for off in [json!(null), json!(""), json!([])] {
            let config = Config::from_value(&with("allowedCountries", off.clone())).unwrap();
            assert_eq!(config.allowed_countries, None, "{off}");
        }
        let config = Config::from_value(&with("allowedCountries", json!(["us", "CA"]))).unwrap();
        assert_eq!(config.allowed_countries.unwrap().list(), "CA, US");
        assert_eq!(
            messages(&with("allowedCountries", json!("US"))),
            vec!["allowedCountries: Expected array, received string"]
        );
        let errors = messages(&with("allowedCountries", json!(["US", "UK", 7, "USA"])));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("allowedCountries[1]: \"UK\""),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].contains("the United Kingdom is GB"),
            "{}",
            errors[0]
        );
        assert_eq!(
            errors[1],
            "allowedCountries[2]: Expected string, received number"
        );
        assert!(
            errors[2].starts_with("allowedCountries[3]: "),
            "{}",
            errors[2]
        );
        let err = Config::from_value(&with("allowedCountries", json!(["ZZ"]))).unwrap_err();
        let failure = err.to_failure();
        let data = failure.data();
        assert_eq!(data["issues"][0]["path"], json!(["allowedCountries", 0]));
        assert_eq!(data["issues"][0]["code"], json!("invalid_string"));
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
    fn api_key_pair_replaces_the_token() {
        let mut value = valid();
        value.as_object_mut().unwrap().remove("authToken");
        value["apiKeySID"] = json!("SK123");
        value["apiKeySecret"] = json!("key-secret-456");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.credentials().0, "SK123");
        assert_eq!(config.credentials().1.expose(), "key-secret-456");
        assert!(matches!(
            config.credential,
            Credential::ApiKey {
                unused_token: None,
                ..
            }
        ));
        // Both present: the key wins, and both are redaction secrets.
        value["authToken"] = json!("secret-token-xyz");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.credentials().0, "SK123");
        assert_eq!(config.credential_pairs().len(), 2);
        let text = format!("{config:?}");
        assert!(
            !text.contains("key-secret-456") && !text.contains("secret-token-xyz"),
            "{text}"
        );
        // Without a key: the account SID and the token, as the JS connector does.
        let config = Config::from_value(&valid()).unwrap();
        assert_eq!(config.credentials().0, "AC0123");
        assert_eq!(config.credentials().1.expose(), "secret-token-xyz");
    }

    #[test]
    fn credential_errors_name_the_missing_field() {
        let without_token = |extra: Value| {
            let mut value = valid();
            value.as_object_mut().unwrap().remove("authToken");
            for (k, v) in extra.as_object().unwrap() {
                value[k] = v.clone();
            }
            messages(&value)
        };
        assert_eq!(
            without_token(json!({ "apiKeySID": "SK1" })),
            vec!["apiKeySecret: Required when apiKeySID is set: the API key's secret"]
        );
        assert_eq!(
            without_token(json!({ "apiKeySecret": "s3cret-value" })),
            vec!["apiKeySID: Required when apiKeySecret is set: the API key's SID (SK…)"]
        );
        assert!(without_token(json!({}))[0].starts_with("authToken: Required: expected a string"));
        // Cleared Console fields (null, '') count as not set.
        assert!(
            without_token(json!({ "apiKeySID": "", "apiKeySecret": null }))[0]
                .starts_with("authToken: Required")
        );
        // A half pair is an error even with a token: it was meant to be used.
        assert_eq!(messages(&with("apiKeySID", json!("SK1"))).len(), 1);
        let wrong = without_token(json!({ "apiKeySID": "AC1", "apiKeySecret": "s3cret-value" }));
        assert_eq!(wrong.len(), 1);
        assert!(wrong[0].starts_with("apiKeySID: Must be an API Key SID, which starts with SK"));
        let typed = without_token(json!({ "apiKeySID": "SK1", "apiKeySecret": 5 }));
        assert_eq!(
            typed,
            vec!["apiKeySecret: Expected string, received number"]
        );
    }

    #[test]
    fn a_sender_number_can_replace_the_messaging_service() {
        let mut value = valid();
        value
            .as_object_mut()
            .unwrap()
            .remove("fromMessagingServiceSID");
        assert!(messages(&value)[0].starts_with("fromMessagingServiceSID: Required"));
        value["fromPhoneNumber"] = json!("+15551234567");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.sender.messaging_service_sid(), None);
        assert_eq!(
            config.sender.sent_as_from().map(|f| f.as_str()),
            Some("+15551234567")
        );
        // An empty service SID next to a number is a cleared field, not a sender.
        value["fromMessagingServiceSID"] = json!("");
        assert_eq!(
            Config::from_value(&value)
                .unwrap()
                .sender
                .messaging_service_sid(),
            None
        );
        // Both: both are sent (Twilio then wants the number in the service's sender pool).
        value["fromMessagingServiceSID"] = json!("MG1");
        assert_eq!(
            Config::from_value(&value)
                .unwrap()
                .sender
                .messaging_service_sid(),
            Some("MG1")
        );
        for (bad, says) in [
            (
                "15551234567",
                "expected a short code, which has 5 or 6 digits",
            ),
            ("+0123", "not an E.164 phone number"),
            ("+1", "not an E.164 phone number"),
            ("+1234567890123456", "not an E.164 phone number"),
            ("+1 555", "only digits"),
            ("+1-555-0100", "only digits"),
            ("++15", "only digits"),
            ("ACME Bank Ltd", "at most 11"),
            ("ACME.Bank", "is not allowed"),
            ("12-34", "at least one letter"),
        ] {
            let errors = messages(&with("fromPhoneNumber", json!(bad)));
            assert_eq!(errors.len(), 1, "{bad}");
            assert!(errors[0].starts_with("fromPhoneNumber: "), "{bad}");
            assert!(errors[0].contains(says), "{bad}: {}", errors[0]);
        }
        // Short codes and alphanumeric sender IDs are senders too, sent as `From` unchanged.
        for (good, kind) in [
            ("12345", "short code"),
            ("ACME", "alphanumeric sender ID"),
            ("ACME-Bank", "alphanumeric sender ID"),
            ("ACME_2FA", "alphanumeric sender ID"),
            ("+4930123456", "E.164 phone number"),
        ] {
            let config = Config::from_value(&with("fromPhoneNumber", json!(good))).unwrap();
            let from = config.sender.sent_as_from().unwrap();
            assert_eq!((from.as_str(), from.kind()), (good, kind));
        }
        for good in ["+12", "+123456789012345", "+4930123456"] {
            assert!(is_e164(good), "{good}");
        }
        assert_eq!(
            messages(&with("fromPhoneNumber", json!(15551234567u64))),
            vec!["fromPhoneNumber: Expected string, received number"]
        );
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
    fn locale_rules() {
        for good in ["fr", "pt-BR", "zh-Hant-TW", "es-419", "EN", "yue"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in [
            "f",
            "pt_BR",
            "fr,en",
            " fr",
            "fr-",
            "-fr",
            "fr--CA",
            "123",
            "en-toolongsubtag",
            "français",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
        let templates = |locale: Value| {
            let mut t = valid()["templates"].clone();
            t.as_array_mut()
                .unwrap()
                .push(json!({ "usageType": "SignIn", "content": "x", "locale": locale }));
            messages(&with("templates", t))
        };
        assert!(templates(json!("pt_BR"))[0]
            .starts_with("templates[4].locale: Must be a BCP 47 language tag"));
        assert_eq!(
            templates(json!(7)),
            vec!["templates[4].locale: Expected string, received number"]
        );
        assert!(templates(json!(null)).is_empty());
        assert!(templates(json!("")).is_empty());
    }

    #[test]
    fn required_usage_types_need_a_template_without_locale() {
        let config = with(
            "templates",
            json!([
                { "usageType": "Register", "content": "r", "locale": "en" },
                { "usageType": "SignIn", "content": "s" },
                { "usageType": "ForgotPassword", "content": "f" },
                { "usageType": "Generic", "content": "g" },
            ]),
        );
        assert_eq!(
            messages(&config),
            vec![
                "templates: Template with UsageType (Register) should be provided! Templates with \
                  a locale do not count: add one without a locale as the fallback for other \
                  languages."
            ]
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
