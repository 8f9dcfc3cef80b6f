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
