//! What a JS value looks like once the bindings have turned it into JSON text. Kept free of
//! N-API so its rules are tested without Node.

/// Every key the validator reads, at any depth. The bindings serialize only these, so an
/// unknown key, which the JS guard ignores, cannot fail a config by being deep, cyclic or a
/// BigInt, and a large unknown value costs nothing.
pub const KNOWN_KEYS: &[&str] = &[
    "host",
    "accountSID",
    "authToken",
    "fromMessagingServiceSID",
    "disableRiskCheck",
    "templates",
    "usageType",
    "content",
    "locale",
    "apiKeySID",
    "apiKeySecret",
    "fromPhoneNumber",
    "validityPeriod",
    "smartEncoded",
    "authMethod",
    "senderType",
    "validityPeriodMode",
    "allowedCountries",
    "smsPumping",
];

/// Keys whose value the bindings pass on whole, every key at every depth: the validator refuses
/// an unknown key inside them (a misspelt limit must not pass as no limit).
pub const WHOLE_KEYS: &[&str] = &["smsPumping"];

/// The key of the object the bindings put where a JS value has no JSON form:
/// `{ "\0jsType": "function" | "symbol" | "bigint" }`.
pub const JS_TYPE_MARKER: &str = "\0jsType";

/// JavaScript strings may hold lone UTF-16 surrogates, which `JSON.stringify` writes as
/// `\udXXX` escapes and serde_json rejects. The JS connector would send them as U+FFFD (what
/// `URLSearchParams` does), so they become U+FFFD here instead of failing the config.
pub fn replace_lone_surrogates(json: &str) -> std::borrow::Cow<'_, str> {
    let bytes = json.as_bytes();
    let escape_at = |i: usize| -> Option<u16> {
        let hex = bytes.get(i..i + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(i) else {
            // Any other escape is two bytes; skipping both keeps `\\u…` from reading as `\u…`.
            i += 2;
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&unit)
            && escape_at(i + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired {
            i += 12;
        } else if (0xD800..0xE000).contains(&unit) {
            let out = out.get_or_insert_with(|| String::with_capacity(json.len()));
            out.push_str(&json[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(json),
        Some(mut out) => {
            out.push_str(&json[copied..]);
            std::borrow::Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let cases = [
            (r#""a\ud800b""#, r#""a\ufffdb""#),
            (r#""\udc00""#, r#""\ufffd""#),
            (r#""\ud83d\ude00""#, r#""\ud83d\ude00""#),
            (r#""\ud800\ud800\udc00""#, r#""\ufffd\ud800\udc00""#),
            (r#""\\ud800""#, r#""\\ud800""#),
            (r#""\\\ud800""#, r#""\\\ufffd""#),
            (r#""\ud800""#, r#""\ufffd""#),
            (r#""\u0041\ud8""#, r#""\u0041\ud8""#),
        ];
        for (input, expected) in cases {
            assert_eq!(replace_lone_surrogates(input), expected, "{input}");
        }
        let config = crate::Config::from_json(&format!(
            r#"{{"accountSID":"a","authToken":"t","fromMessagingServiceSID":"m","templates":[{}]}}"#,
            ["Register", "SignIn", "ForgotPassword", "Generic"]
                .map(|u| format!(r#"{{"usageType":"{u}","content":"x\ud800"}}"#))
                .join(",")
        ))
        .unwrap();
        assert_eq!(config.templates[0].content, "x\u{fffd}");
    }
}
