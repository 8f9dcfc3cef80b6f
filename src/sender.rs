//! The three forms of sender (`From`) Twilio accepts for SMS, told apart and checked before any
//! request, so that a typo is a config error naming the expected form rather than a Twilio 21212.
//!
//! - an E.164 phone number: `+`, a non-zero digit, then 1 to 14 more digits;
//! - a short code: 5 or 6 digits (no `+`);
//! - an alphanumeric sender ID: 1 to 11 of the ASCII letters, digits, space and `+ - _ &`, at
//!   least one letter, so never digits only (Twilio's "Alphanumeric Sender ID" support article).
//!   Not allowed to the US and Canada, and one-way: recipients cannot reply.

use std::fmt;

/// Short codes are 5 or 6 digits.
const SHORT_CODE_DIGITS: std::ops::RangeInclusive<usize> = 5..=6;
/// Alphanumeric sender IDs are at most 11 characters.
pub const MAX_ALPHANUMERIC_LEN: usize = 11;
/// The characters an alphanumeric sender ID may hold besides ASCII letters and digits.
const ALPHANUMERIC_EXTRAS: &str = " +-_&";

/// A validated `From` value (a phone number, short code or alphanumeric sender ID), held
/// unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromAddress {
    PhoneNumber(String),
    ShortCode(String),
    Alphanumeric(String),
}

impl FromAddress {
    /// The `From` value.
    pub fn as_str(&self) -> &str {
        match self {
            FromAddress::PhoneNumber(s)
            | FromAddress::ShortCode(s)
            | FromAddress::Alphanumeric(s) => s,
        }
    }

    /// Which form it is, in words for messages and `preview`.
    pub fn kind(&self) -> &'static str {
        match self {
            FromAddress::PhoneNumber(_) => "E.164 phone number",
            FromAddress::ShortCode(_) => "short code",
            FromAddress::Alphanumeric(_) => "alphanumeric sender ID",
        }
    }
}

impl fmt::Display for FromAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// E.164: `+`, a non-zero digit, then 1 to 14 more digits (`^\+[1-9]\d{1,14}$`).
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Which form `value` is, or a message that says which form it looked like and what that form
/// requires. The value is taken as given: no trimming, no reformatting.
pub fn classify(value: &str) -> Result<FromAddress, String> {
    const FORMS: &str = "an E.164 phone number (+ and country code, digits only, e.g. \
                         +14155552671), a short code (5 or 6 digits) or an alphanumeric sender \
                         ID (1 to 11 letters, digits, spaces and + - _ &, at least one letter)";
    if value.is_empty() {
        return Err(format!("Empty: expected {FORMS}"));
    }
    if value.trim() != value {
        return Err(format!(
            "Starts or ends with whitespace: remove it (expected {FORMS})"
        ));
    }
    if let Some(rest) = value.strip_prefix('+') {
        if rest.bytes().all(|b| b.is_ascii_digit()) {
            return if is_e164(value) {
                Ok(FromAddress::PhoneNumber(value.to_owned()))
            } else {
                Err(
                    "Starts with + but is not an E.164 phone number: the country code \
                     cannot start with 0 and the number has 2 to 15 digits (e.g. +14155552671)"
                        .to_owned(),
                )
            };
        }
        // `+` is allowed in an alphanumeric sender ID (`+ACME`); without a letter the value
        // can only have been meant as a phone number.
        if !rest.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(
                "Starts with + but is not an E.164 phone number: after + only digits \
                 are allowed, no spaces or dashes (e.g. +14155552671)"
                    .to_owned(),
            );
        }
        return alphanumeric(value).map_err(|why| {
            let why = why.trim_start_matches(NOT_ALPHANUMERIC);
            format!(
                "Starts with + but is not an E.164 phone number (after + only digits are \
                 allowed, e.g. +14155552671), nor an alphanumeric sender ID: {why}"
            )
        });
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return if SHORT_CODE_DIGITS.contains(&value.len()) {
            Ok(FromAddress::ShortCode(value.to_owned()))
        } else {
            Err(format!(
                "Digits only, so expected a short code, which has 5 or 6 digits (this has {}); \
                 a phone number must be in E.164 form with + and country code (e.g. \
                 +14155552671), and an alphanumeric sender ID needs at least one letter",
                value.len()
            ))
        };
    }
    alphanumeric(value)
}

/// How every refusal of [`alphanumeric`] starts.
const NOT_ALPHANUMERIC: &str = "Not a valid alphanumeric sender ID: ";

/// An alphanumeric sender ID, or why not: the first bad character, a missing letter, the length.
fn alphanumeric(value: &str) -> Result<FromAddress, String> {
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ALPHANUMERIC_EXTRAS.contains(*c)))
    {
        return Err(format!(
            "{NOT_ALPHANUMERIC}{bad:?} is not allowed (only ASCII letters \
             A-Z and a-z, digits, spaces and + - _ &); a phone number must be in E.164 form \
             (e.g. +14155552671)"
        ));
    }
    // Digits-only was taken as a short code above; digits and punctuation alone are no ID
    // either (Twilio refuses an ID without a letter).
    if !value.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "{NOT_ALPHANUMERIC}it needs at least one letter; a phone number must be in E.164 \
             form (e.g. +14155552671)"
        ));
    }
    let len = value.chars().count();
    if len > MAX_ALPHANUMERIC_LEN {
        return Err(format!(
            "{NOT_ALPHANUMERIC}{len} characters, at most {MAX_ALPHANUMERIC_LEN} are allowed"
        ));
    }
    Ok(FromAddress::Alphanumeric(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms() {
        assert_eq!(
            classify("+14155552671"),
            Ok(FromAddress::PhoneNumber("+14155552671".into()))
        );
        assert_eq!(
            classify("+447700900123").unwrap().kind(),
            "E.164 phone number"
        );
        assert_eq!(
            classify("12345"),
            Ok(FromAddress::ShortCode("12345".into()))
        );
        assert_eq!(
            classify("123456"),
            Ok(FromAddress::ShortCode("123456".into()))
        );
        for id in ["ACME", "A", "Acme Bank", "ACME2FA", "Logto 12345", "a1"] {
            assert_eq!(
                classify(id),
                Ok(FromAddress::Alphanumeric(id.into())),
                "{id}"
            );
        }
        assert_eq!(classify("Acme Bank").unwrap().as_str(), "Acme Bank");
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        for bad in ["+", "+1", "+0123456789", "+1234567890123456"] {
            let err = classify(bad).unwrap_err();
            assert!(err.contains("not an E.164 phone number"), "{bad}: {err}");
            assert!(err.contains("2 to 15 digits"), "{bad}: {err}");
        }
        for bad in ["+1 415 555 2671", "+1-415-5552671", "+1415555267a"] {
            let err = classify(bad).unwrap_err();
            assert!(err.contains("only digits"), "{bad}: {err}");
        }
        assert!(is_e164("+12"));
        assert!(is_e164("+123456789012345"));
    }

    #[test]
    fn digits_without_plus_are_a_short_code_or_nothing() {
        for bad in ["1234", "1234567", "14155552671"] {
            let err = classify(bad).unwrap_err();
            assert!(
                err.contains("short code, which has 5 or 6 digits"),
                "{bad}: {err}"
            );
            assert!(err.contains("E.164"), "{bad}: {err}");
        }
    }

    #[test]
    fn alphanumeric_ids_follow_twilios_rules() {
        let err = classify("ACME Bank Ltd").unwrap_err();
        assert!(err.contains("13 characters, at most 11"), "{err}");
        // Letters, digits, spaces and + - _ &, up to 11, at least one letter.
        for id in [
            "ABCDEFGHIJK",
            "ACME-Bank",
            "ACME_2FA",
            "A&B",
            "+ACME",
            "ACME+",
            "Logto-Auth1",
            "a-_&+ 1",
        ] {
            assert_eq!(
                classify(id),
                Ok(FromAddress::Alphanumeric(id.into())),
                "{id}"
            );
        }
        for bad in ["Café", "ACME!", "ACME.com", "A/B", "ＡＣＭＥ", "A\tB"] {
            let err = classify(bad).unwrap_err();
            assert!(err.contains("is not allowed"), "{bad}: {err}");
            assert!(err.contains("+ - _ &"), "{bad}: {err}");
        }
        for no_letter in ["12 34", "12-34", "1_2&3", "-_&"] {
            let err = classify(no_letter).unwrap_err();
            assert!(err.contains("at least one letter"), "{no_letter}: {err}");
        }
        let err = classify("ACME-Bank-Ltd").unwrap_err();
        assert!(err.contains("13 characters, at most 11"), "{err}");
        // A + with letters is an ID attempt; the message names both forms it could have been.
        let err = classify("+ACME-Bank-Ltd").unwrap_err();
        assert!(err.contains("not an E.164 phone number"), "{err}");
        assert!(
            err.ends_with("nor an alphanumeric sender ID: 14 characters, at most 11 are allowed"),
            "{err}"
        );
    }

    #[test]
    fn empty_and_padded_values_are_refused() {
        assert!(classify("").unwrap_err().starts_with("Empty"));
        for bad in [" ACME", "ACME ", " +14155552671", "12345\n"] {
            assert!(classify(bad).unwrap_err().contains("whitespace"), "{bad:?}");
        }
    }
}
