//! How requests authenticate: `authMethod`, `authToken`, `apiKeySID` and `apiKeySecret`.

use super::*;

pub(super) fn api_key_sid_issue(issues: &mut Issues) {
    issues.push(
        vec!["apiKeySID".into()],
        "invalid_string",
        "Must be an API Key SID, which starts with SK (Twilio Console → API keys & tokens); \
         the Account SID (AC…) belongs in accountSID",
    );
}

/// `authMethod` picks the credential; without it, `authToken` or the `apiKeySID` +
/// `apiKeySecret` pair (which wins when both are set). `None` only with an issue recorded.
pub(super) fn credential(object: &Map<String, Value>, issues: &mut Issues) -> Option<Credential> {
    match credentials(object, issues) {
        (token, Some(key)) => Some(Credential::ApiKey {
            key,
            unused_token: token.map(Secret::new),
        }),
        (Some(token), None) => Some(Credential::AuthToken(Secret::new(token))),
        (None, None) => None,
    }
}

pub(super) fn credentials(
    object: &Map<String, Value>,
    issues: &mut Issues,
) -> (Option<String>, Option<ApiKey>) {
    match choice(object, "authMethod", &["authToken", "apiKey"], issues) {
        None => credentials_by_presence(object, issues),
        Some(Err(())) => (None, None),
        Some(Ok("authToken")) => {
            let because = "authMethod is authToken";
            (chosen_string(object, "authToken", because, issues), None)
        }
        Some(Ok(_)) => {
            let because = "authMethod is apiKey";
            let sid = chosen_string(object, "apiKeySID", because, issues);
            let secret = chosen_string(object, "apiKeySecret", because, issues);
            if sid.as_deref().is_some_and(|sid| !sid.starts_with("SK")) {
                api_key_sid_issue(issues);
            }
            match (sid, secret) {
                (Some(sid), Some(secret)) if sid.starts_with("SK") => (
                    None,
                    Some(ApiKey {
                        sid,
                        secret: Secret::new(secret),
                    }),
                ),
                _ => (None, None),
            }
        }
    }
}

/// Without `authMethod`: `authToken`, or the API key pair, which wins when both are set. A
/// half-set pair is always an error: it is a credential someone meant to use.
pub(super) fn credentials_by_presence(
    object: &Map<String, Value>,
    issues: &mut Issues,
) -> (Option<String>, Option<ApiKey>) {
    let before = issues.len();
    let key_sid = new_optional_string(object, "apiKeySID", issues);
    let key_secret = new_optional_string(object, "apiKeySecret", issues);
    if key_sid.as_deref().is_some_and(|sid| !sid.starts_with("SK")) {
        api_key_sid_issue(issues);
    }
    let api_key = match (key_sid, key_secret) {
        (Some(sid), Some(secret)) => Some(ApiKey {
            sid,
            secret: Secret::new(secret),
        }),
        // A present but wrong-typed half already has its issue; "required" would only add noise.
        (Some(_), None) if new_optional(object, "apiKeySecret").is_some() => None,
        (None, Some(_)) if new_optional(object, "apiKeySID").is_some() => None,
        (Some(_), None) => {
            issues.required(
                vec!["apiKeySecret".into()],
                "string",
                "undefined",
                "Required when apiKeySID is set: the API key's secret",
            );
            None
        }
        (None, Some(_)) => {
            issues.required(
                vec!["apiKeySID".into()],
                "string",
                "undefined",
                "Required when apiKeySecret is set: the API key's SID (SK…)",
            );
            None
        }
        (None, None) => None,
    };
    let key_problem = issues.len() > before;
    // The JS connector's rule (a string, the empty one too) when no API key is configured.
    let auth_token = match object.get("authToken") {
        Some(Value::String(token)) => Some(token.clone()),
        Some(other) => {
            issues.type_mismatch(vec!["authToken".into()], "string", other);
            None
        }
        None if api_key.is_some() || key_problem => None,
        None => {
            issues.required(
                vec!["authToken".into()],
                "string",
                "undefined",
                "Required: expected a string (or set apiKeySID and apiKeySecret to authenticate \
                 with an API key)",
            );
            None
        }
    };
    (auth_token, api_key)
}

#[cfg(test)]
mod tests {
    use super::super::tests::messages;
    use super::*;
    use crate::config::fixture::{valid, with};
    use serde_json::json;

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
}
