//! Property-based fuzzing of what untrusted input reaches: config parsing and template
//! rendering. `cargo test` runs a short pass (proptest's 256 cases per property);
//! `scripts/fuzz.sh` runs a long one (PROPTEST_CASES).

use connector_twilio_sms_native::{
    choose, fixture, render, replace_lone_surrogates, Config, REQUIRED_USAGE_TYPES,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Any JSON value, nested a few levels, with strings that look like config and template text.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        prop_oneof![
            any::<String>(),
            "(Register|SignIn|ForgotPassword|Generic|Test|api\\.[a-z0-9.-]{0,20}\\.twilio\\.com)",
            "[{} a-z.0-9_]{0,24}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        "(host|accountSID|authToken|fromMessagingServiceSID|disableRiskCheck|templates|usageType|content|locale|apiKeySID|apiKeySecret|fromPhoneNumber|validityPeriod|smartEncoded|__proto__|constructor)",
                        any::<String>(),
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The fixture with one field replaced by `value`.
fn config_with(field: &str, value: Value) -> Value {
    fixture::with(field, value)
}

proptest! {
    #[test]
    fn config_text_never_panics(text in any::<String>()) {
        let _ = Config::from_json(&text);
    }

    #[test]
    fn config_values_never_panic_and_valid_ones_keep_their_promises(
        value in json_value(),
        field in "(host|accountSID|authToken|fromMessagingServiceSID|disableRiskCheck|templates|apiKeySID|apiKeySecret|fromPhoneNumber|validityPeriod|smartEncoded|extra)",
        whole in any::<bool>(),
    ) {
        let candidate = if whole { value } else { config_with(&field, value) };
        if let Ok(config) = Config::from_value(&candidate) {
            for required in REQUIRED_USAGE_TYPES {
                prop_assert!(config.templates.iter().any(|t| t.usage_type == required));
            }
            prop_assert!(choose(&config.templates, Some("anything"), Some("fr-CA")).is_some());
            prop_assert!(config.host().ends_with(".twilio.com"));
        }
    }

    #[test]
    fn lone_surrogates_always_parse_as_replacement_characters(units in prop::collection::vec(any::<u16>(), 0..32)) {
        let literal: String = units.iter().map(|u| format!("\\u{u:04x}")).collect();
        let json = format!("\"{literal}\"");
        let parsed: String = serde_json::from_str(&replace_lone_surrogates(&json)).unwrap();
        prop_assert_eq!(parsed, String::from_utf16_lossy(&units));
    }

    #[test]
    fn rendering_never_panics(template in any::<String>(), payload in json_value()) {
        let _ = render(&template, &payload);
    }

    #[test]
    fn text_without_placeholders_renders_as_is(template in "[^{]*", payload in json_value()) {
        prop_assert_eq!(render(&template, &payload), template);
    }

    #[test]
    fn a_missing_root_leaves_the_placeholder(key in "[A-Za-z_][A-Za-z0-9_.]{0,12}", pad in " {0,3}") {
        let template = format!("a {{{{{pad}{key}{pad}}}}} b");
        prop_assert_eq!(render(&template, &json!({})), template);
    }

    #[test]
    fn a_string_value_renders_verbatim(key in "[A-Za-z_][A-Za-z0-9_]{0,12}", value in any::<String>()) {
        let template = format!("<{{{{ {key} }}}}>");
        let payload = Value::Object(Map::from_iter([(key, Value::String(value.clone()))]));
        prop_assert_eq!(render(&template, &payload), format!("<{value}>"));
    }
}
