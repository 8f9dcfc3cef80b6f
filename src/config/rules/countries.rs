//! `allowedCountries`: the countries a recipient may belong to.

use super::*;

/// `allowedCountries`: ISO 3166-1 alpha-2 codes (`country::parse_allowed_countries`, checked
/// against the phone-number metadata). Absent, `null` or empty: no restriction. A bad entry is
/// an issue at its index, so the Console shows which one.
pub(super) fn allowed_countries(
    object: &Map<String, Value>,
    issues: &mut Issues,
) -> Option<AllowedCountries> {
    let items = match new_optional(object, "allowedCountries")? {
        Value::Array(items) => items,
        other => {
            issues.type_mismatch(vec!["allowedCountries".into()], "array", other);
            return None;
        }
    };
    let before = issues.len();
    let mut codes = Vec::with_capacity(items.len());
    // Item by item, so the issues come in list order whatever is wrong with each.
    for (index, item) in items.iter().enumerate() {
        let path = || vec![PathSegment::from("allowedCountries"), index.into()];
        match item {
            Value::String(code) => match country::normalise_code(code) {
                Ok(_) => codes.push(code.as_str()),
                Err(message) => issues.push(path(), "invalid_string", message),
            },
            other => issues.type_mismatch(path(), "string", other),
        }
    }
    if issues.len() > before {
        return None;
    }
    // Every code passed alone, so the list does too.
    country::parse_allowed_countries(&codes).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::super::tests::messages;
    use super::*;
    use crate::config::fixture::with;
    use serde_json::json;

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
}
