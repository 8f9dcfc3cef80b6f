//! `smsPumping`: velocity limits, a daily segment budget and the store-error policy. Unknown
//! keys are refused here (unlike the JS connector's fields): a misspelt limit would otherwise
//! leave an operator believing a defence is on that is not.

use std::collections::BTreeMap;

use super::*;
use crate::pumping::policy::{
    By, DailySegments, Limit, OnFailure, RiskScore, SmsPumping, ANY_COUNTRY,
};

/// The largest count or budget accepted: far beyond any real limit, and exact in a JS number
/// and in Redis' integers.
const MAX_COUNT: u64 = 1_000_000_000;
/// Thirty days: a window longer than that is a budget, which `dailySegments` is for.
const MAX_WINDOW_SECONDS: u64 = 30 * 24 * 3600;

type Path = Vec<PathSegment>;

fn at(path: &Path, segment: impl Into<PathSegment>) -> Path {
    let mut path = path.clone();
    path.push(segment.into());
    path
}

pub(super) fn sms_pumping(object: &Map<String, Value>, issues: &mut Issues) -> Option<SmsPumping> {
    let value = new_optional(object, "smsPumping")?;
    // The policy's own keys are read from `map`, not `map`: `map` is the config's.
    let path: Path = vec!["smsPumping".into()];
    let map = object_at(value, &path, issues)?;
    let before = issues.len();
    known_keys(
        map,
        &path,
        &["limits", "dailySegments", "riskScore", "onStoreError"],
        issues,
    );
    let limits = match map.get("limits") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| limit(item, &at(&at(&path, "limits"), index), issues))
            .collect(),
        Some(other) => {
            issues.type_mismatch(at(&path, "limits"), "array", other);
            Vec::new()
        }
    };
    let daily_segments = match map.get("dailySegments") {
        None | Some(Value::Null) => None,
        Some(value) => daily_segments(value, &at(&path, "dailySegments"), issues),
    };
    let risk_score = match map.get("riskScore") {
        None | Some(Value::Null) => None,
        Some(value) => risk_score(value, &at(&path, "riskScore"), issues),
    };
    let on_store_error = on_failure(map, "onStoreError", &path, issues);
    // Nothing to check (`{}`, the Console's empty JSON): off, as when absent.
    if limits.is_empty() && daily_segments.is_none() && risk_score.is_none() {
        return None;
    }
    (issues.len() == before).then_some(SmsPumping {
        limits,
        daily_segments,
        risk_score,
        on_store_error,
    })
}

fn on_failure(map: &Map<String, Value>, key: &str, path: &Path, issues: &mut Issues) -> OnFailure {
    match map.get(key) {
        None | Some(Value::Null) => OnFailure::Allow,
        Some(Value::String(s)) if s == "allow" => OnFailure::Allow,
        Some(Value::String(s)) if s == "refuse" => OnFailure::Refuse,
        Some(Value::String(_)) => {
            issues.push(
                at(path, key),
                "invalid_enum_value",
                "Expected 'allow' or 'refuse'",
            );
            OnFailure::Allow
        }
        Some(other) => {
            issues.type_mismatch(at(path, key), "string", other);
            OnFailure::Allow
        }
    }
}

/// `riskScore`: which countries' numbers Lookup is asked about, and what refuses a send.
fn risk_score(value: &Value, path: &Path, issues: &mut Issues) -> Option<RiskScore> {
    let map = object_at(value, path, issues)?;
    let before = issues.len();
    known_keys(
        map,
        path,
        &[
            "countries",
            "maxScore",
            "refuseBlocked",
            "cacheSeconds",
            "onError",
        ],
        issues,
    );
    let mut countries = std::collections::BTreeSet::new();
    match map.get("countries") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                let item_path = at(&at(path, "countries"), index);
                match item {
                    Value::String(code) if code == ANY_COUNTRY => {
                        countries.insert(ANY_COUNTRY.to_owned());
                    }
                    Value::String(code) => match country::normalise_code(code) {
                        Ok(code) => {
                            countries.insert(code);
                        }
                        Err(message) => issues.push(item_path, "invalid_string", format!("{message} (or * for every country)")),
                    },
                    other => issues.type_mismatch(item_path, "string", other),
                }
            }
        }
        Some(Value::Array(_)) => issues.push(
            at(path, "countries"),
            "too_small",
            "List at least one country (or * for every country); Twilio advises Lookup for numbers outside the US and Canada",
        ),
        Some(other) if !other.is_null() => issues.type_mismatch(at(path, "countries"), "array", other),
        _ => issues.required(at(path, "countries"), "array", "undefined", "Required: the countries whose numbers Lookup is asked about (or [\"*\"])"),
    }
    let max_score = required_integer(map, "maxScore", path, 0, 100, issues);
    let refuse_blocked = match map.get("refuseBlocked") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            issues.type_mismatch(at(path, "refuseBlocked"), "boolean", other);
            true
        }
    };
    let cache_seconds =
        integer(map, "cacheSeconds", path, 0, MAX_WINDOW_SECONDS, issues).unwrap_or(86_400);
    let on_error = on_failure(map, "onError", path, issues);
    match max_score {
        Some(max_score) if issues.len() == before => Some(RiskScore {
            countries,
            max_score: max_score as u8,
            refuse_blocked,
            cache_seconds,
            on_error,
        }),
        _ => None,
    }
}

fn limit(value: &Value, path: &Path, issues: &mut Issues) -> Option<Limit> {
    let map = object_at(value, path, issues)?;
    let before = issues.len();
    let by = match map.get("by") {
        Some(Value::String(s)) if s == "ip" => {
            known_keys(
                map,
                path,
                &[
                    "by",
                    "max",
                    "windowSeconds",
                    "perCountry",
                    "ipv4Prefix",
                    "ipv6Prefix",
                ],
                issues,
            );
            let ipv4_prefix = integer(map, "ipv4Prefix", path, 1, 32, issues).unwrap_or(32) as u8;
            let ipv6_prefix = integer(map, "ipv6Prefix", path, 1, 128, issues).unwrap_or(64) as u8;
            Some(By::Ip {
                ipv4_prefix,
                ipv6_prefix,
            })
        }
        Some(Value::String(s)) if s == "numberRange" => {
            known_keys(
                map,
                path,
                &["by", "max", "windowSeconds", "perCountry", "hiddenDigits"],
                issues,
            );
            let hidden_digits = integer(map, "hiddenDigits", path, 1, 8, issues).unwrap_or(3) as u8;
            Some(By::NumberRange { hidden_digits })
        }
        Some(Value::String(s)) if s == "country" => {
            known_keys(
                map,
                path,
                &["by", "max", "windowSeconds", "perCountry"],
                issues,
            );
            Some(By::Country)
        }
        Some(Value::String(_)) => {
            issues.push(
                at(path, "by"),
                "invalid_enum_value",
                "Expected 'ip', 'numberRange' or 'country'",
            );
            None
        }
        Some(other) => {
            issues.type_mismatch(at(path, "by"), "string", other);
            None
        }
        None => {
            issues.required(
                at(path, "by"),
                "string",
                "undefined",
                "Required: 'ip', 'numberRange' or 'country'",
            );
            None
        }
    };
    let max = required_integer(map, "max", path, 0, MAX_COUNT, issues);
    let window_seconds =
        required_integer(map, "windowSeconds", path, 1, MAX_WINDOW_SECONDS, issues);
    let per_country = per_country(map, path, false, issues);
    match (by, max, window_seconds) {
        (Some(by), Some(max), Some(window_seconds)) if issues.len() == before => Some(Limit {
            by,
            max,
            window_seconds,
            per_country,
        }),
        _ => None,
    }
}

fn daily_segments(value: &Value, path: &Path, issues: &mut Issues) -> Option<DailySegments> {
    let map = object_at(value, path, issues)?;
    let before = issues.len();
    known_keys(map, path, &["total", "perCountry"], issues);
    let total = integer(map, "total", path, 0, MAX_COUNT, issues);
    let per_country = per_country(map, path, true, issues);
    if issues.len() > before {
        return None;
    }
    if total.is_none() && per_country.is_empty() {
        issues.push(
            path.clone(),
            "custom",
            "Set total, perCountry or both (or remove dailySegments)",
        );
        return None;
    }
    Some(DailySegments { total, per_country })
}

/// `perCountry`: ISO 3166-1 alpha-2 codes (any case) to counts; `*` (every other country) only
/// where `any` allows it.
fn per_country(
    map: &Map<String, Value>,
    path: &Path,
    any: bool,
    issues: &mut Issues,
) -> BTreeMap<String, u64> {
    let path = at(path, "perCountry");
    let mut counts = BTreeMap::new();
    let entries = match map.get("perCountry") {
        None | Some(Value::Null) => return counts,
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            issues.type_mismatch(path, "object", other);
            return counts;
        }
    };
    for (code, count) in entries {
        let code = if any && code == ANY_COUNTRY {
            ANY_COUNTRY.to_owned()
        } else {
            match country::normalise_code(code) {
                Ok(code) => code,
                Err(message) => {
                    let message = if any {
                        format!("{message} (or * for every other country)")
                    } else {
                        message
                    };
                    issues.push(at(&path, code.as_str()), "invalid_string", message);
                    continue;
                }
            }
        };
        match count_in(count, 0, MAX_COUNT) {
            Some(count) => {
                counts.insert(code, count);
            }
            None => range_issue(at(&path, code.as_str()), count, 0, MAX_COUNT, issues),
        }
    }
    counts
}

/// `value` as an object, or an issue at `path` saying what it is instead.
fn object_at<'v>(
    value: &'v Value,
    path: &Path,
    issues: &mut Issues,
) -> Option<&'v Map<String, Value>> {
    let map = value.as_object();
    if map.is_none() {
        issues.type_mismatch(path.clone(), "object", value);
    }
    map
}

fn known_keys(map: &Map<String, Value>, path: &Path, known: &[&str], issues: &mut Issues) {
    for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
        issues.push(
            at(path, key.as_str()),
            "unrecognized_keys",
            format!("Unrecognized key (expected one of: {})", known.join(", ")),
        );
    }
}

fn required_integer(
    map: &Map<String, Value>,
    key: &str,
    path: &Path,
    min: u64,
    max: u64,
    issues: &mut Issues,
) -> Option<u64> {
    if map.get(key).is_none_or(Value::is_null) {
        let received = map.get(key).map_or("undefined", json_type);
        issues.required(
            at(path, key),
            "number",
            received,
            format!("Required: an integer from {min} to {max}"),
        );
        return None;
    }
    integer(map, key, path, min, max, issues)
}

fn integer(
    map: &Map<String, Value>,
    key: &str,
    path: &Path,
    min: u64,
    max: u64,
    issues: &mut Issues,
) -> Option<u64> {
    let value = map.get(key).filter(|value| !value.is_null())?;
    let found = count_in(value, min, max);
    if found.is_none() {
        range_issue(at(path, key), value, min, max, issues);
    }
    found
}

fn count_in(value: &Value, min: u64, max: u64) -> Option<u64> {
    value.as_u64().filter(|n| (min..=max).contains(n))
}

fn range_issue(path: Path, value: &Value, min: u64, max: u64, issues: &mut Issues) {
    match value {
        // A number is no secret, so it is shown; other types are named, never printed.
        Value::Number(n) => issues.push(
            path,
            "invalid_number",
            format!("Expected an integer from {min} to {max}, received {n}"),
        ),
        other => issues.type_mismatch(path, "number", other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::messages;
    use super::*;
    use crate::config::fixture::with;
    use serde_json::json;

    fn pumping(value: Value) -> SmsPumping {
        (*Config::from_value(&with("smsPumping", value))
            .unwrap()
            .sms_pumping
            .unwrap())
        .clone()
    }

    #[test]
    fn absent_or_cleared_is_off() {
        for off in [json!(null), json!("")] {
            assert_eq!(
                Config::from_value(&with("smsPumping", off))
                    .unwrap()
                    .sms_pumping,
                None
            );
        }
        for nothing in [json!({}), json!({ "limits": [], "onStoreError": "refuse" })] {
            assert_eq!(
                Config::from_value(&with("smsPumping", nothing))
                    .unwrap()
                    .sms_pumping,
                None
            );
        }
    }

    #[test]
    fn limits_with_their_defaults() {
        let policy = pumping(json!({
            "limits": [
                { "by": "ip", "max": 5, "windowSeconds": 3600 },
                { "by": "ip", "max": 20, "windowSeconds": 86400, "ipv4Prefix": 24, "ipv6Prefix": 48, "perCountry": { "gb": 2 } },
                { "by": "numberRange", "max": 10, "windowSeconds": 3600 },
                { "by": "country", "max": 0, "windowSeconds": 60, "perCountry": { "US": 1000 } }
            ],
            "dailySegments": { "total": 10000, "perCountry": { "*": 500, "GB": 50 } },
            "onStoreError": "refuse"
        }));
        assert_eq!(
            policy.limits[0].by,
            By::Ip {
                ipv4_prefix: 32,
                ipv6_prefix: 64
            }
        );
        assert_eq!(
            policy.limits[1].by,
            By::Ip {
                ipv4_prefix: 24,
                ipv6_prefix: 48
            }
        );
        assert_eq!(policy.limits[1].per_country.get("GB"), Some(&2));
        assert_eq!(policy.limits[2].by, By::NumberRange { hidden_digits: 3 });
        assert_eq!(policy.limits[3].max, 0);
        let budget = policy.daily_segments.as_ref().unwrap();
        assert_eq!(budget.total, Some(10000));
        assert_eq!(budget.of_country("GB"), Some(50));
        assert_eq!(budget.of_country("FR"), Some(500));
        assert_eq!(policy.on_store_error, OnFailure::Refuse);
        assert!(policy.needs_country());
        assert!(
            !pumping(json!({ "limits": [{ "by": "ip", "max": 1, "windowSeconds": 1 }] }))
                .needs_country()
        );
    }

    #[test]
    fn every_problem_is_named_at_its_path() {
        let errors = messages(&with(
            "smsPumping",
            json!({
                "limit": [],
                "limits": [
                    { "by": "ips", "max": 5, "windowSeconds": 3600 },
                    { "by": "ip", "windowSeconds": 0, "ipv4Prefix": 33 },
                    { "by": "numberRange", "max": -1, "windowSeconds": 60, "hiddenDigits": "3" },
                    { "by": "country", "max": 1, "windowSeconds": 60, "perCountry": { "UK": 1, "*": 2 } },
                    "ip"
                ],
                "dailySegments": {},
                "onStoreError": "open"
            }),
        ));
        let expected = [
            "smsPumping.limit: Unrecognized key (expected one of: limits, dailySegments, riskScore, onStoreError)",
            "smsPumping.limits[0].by: Expected 'ip', 'numberRange' or 'country'",
            "smsPumping.limits[1].ipv4Prefix: Expected an integer from 1 to 32, received 33",
            "smsPumping.limits[1].max: Required: an integer from 0 to 1000000000",
            "smsPumping.limits[1].windowSeconds: Expected an integer from 1 to 2592000, received 0",
            "smsPumping.limits[2].hiddenDigits: Expected number, received string",
            "smsPumping.limits[2].max: Expected an integer from 0 to 1000000000, received -1",
            "smsPumping.limits[4]: Expected object, received string",
            "smsPumping.dailySegments: Set total, perCountry or both (or remove dailySegments)",
            "smsPumping.onStoreError: Expected 'allow' or 'refuse'",
        ];
        for line in expected {
            assert!(
                errors.iter().any(|e| e == line),
                "missing {line:?} in {errors:#?}"
            );
        }
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("smsPumping.limits[3].perCountry.UK: ")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("smsPumping.limits[3].perCountry.*: ")),
            "{errors:#?}"
        );
        assert_eq!(
            messages(&with("smsPumping", json!([]))),
            vec!["smsPumping: Expected object, received array"]
        );
    }

    #[test]
    fn risk_score_rules() {
        let policy = pumping(json!({ "riskScore": { "countries": ["gb", "*"], "maxScore": 60 } }));
        let risk = policy.risk_score.unwrap();
        assert!(risk.applies_to("GB") && risk.applies_to("FR"));
        assert_eq!(
            (
                risk.max_score,
                risk.refuse_blocked,
                risk.cache_seconds,
                risk.on_error
            ),
            (60, true, 86_400, OnFailure::Allow)
        );
        let errors = messages(&with(
            "smsPumping",
            json!({ "riskScore": { "countries": [], "maxScore": 101, "onError": 1 } }),
        ));
        for expected in [
            "smsPumping.riskScore.countries: List at least one country",
            "smsPumping.riskScore.maxScore: Expected an integer from 0 to 100, received 101",
            "smsPumping.riskScore.onError: Expected string, received number",
        ] {
            assert!(
                errors.iter().any(|e| e.starts_with(expected)),
                "{expected:?} not in {errors:#?}"
            );
        }
        // AU1 has no Lookup: refused with the config, not on every send.
        let mut au1 = with(
            "smsPumping",
            json!({ "riskScore": { "countries": ["AU"], "maxScore": 60 } }),
        );
        au1["host"] = json!("api.sydney.au1.twilio.com");
        let errors = messages(&au1);
        assert!(
            errors
                .iter()
                .any(|e| e
                    .starts_with("smsPumping.riskScore: Twilio Lookup is not available in AU1")),
            "{errors:#?}"
        );
    }
}
