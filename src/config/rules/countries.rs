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
