//! Country allowlist for recipients: a defence against SMS pumping (bots sending verification
//! codes to premium-rate numbers abroad), checked before any request.
//!
//! The country of a number comes from libphonenumber's metadata (through `rlibphonenumber`, a
//! port of Google's libphonenumber with its metadata embedded), not from the calling
//! code: +1 is the US, Canada and a score of Caribbean countries (+1 876 Jamaica, +1 268
//! Antigua and Barbuda, …), told apart only by the area code ranges in the metadata. A number
//! the metadata says is no valid number at all (an unassigned area code, a wrong length) is
//! refused too: it cannot be a valid number of any allowed country.

use std::collections::BTreeSet;
use std::fmt;

use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, Region, PHONE_NUMBER_UTIL};

use crate::error::excerpt;

/// Every code `allowedCountries` accepts, sorted: the regions libphonenumber's metadata has a
/// numbering plan for (a test keeps the two equal). Written out so that listing them (the
/// Console's choices) does not decode the metadata, which is loaded only when a config has an
/// allowlist. ISO 3166-1 alpha-2, plus AC (Ascension), TA (Tristan da Cunha) and XK (Kosovo),
/// which libphonenumber numbers separately.
pub const COUNTRY_CODES: &[&str] = &[
    "AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO",
    "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG",
    "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG",
    "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GT", "GU", "GW", "GY", "HK", "HN", "HR", "HT",
    "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE",
    "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR",
    "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN",
    "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF",
    "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL",
    "PM", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
    "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY",
    "SZ", "TA", "TC", "TD", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK",
    "YE", "YT", "ZA", "ZM", "ZW",
];

/// The countries a tenant lets the connector text, as upper-case ISO 3166-1 alpha-2 codes that
/// libphonenumber has a numbering plan for. Never empty: an empty list means no restriction and
/// is represented by `None` (see `parse_allowed_countries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedCountries(BTreeSet<String>);

impl AllowedCountries {
    pub fn contains(&self, iso: &str) -> bool {
        self.0.contains(iso)
    }

    /// The codes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// "CA, GB, US": for messages.
    pub fn list(&self) -> String {
        self.iter().collect::<Vec<_>>().join(", ")
    }
}

/// One bad entry of the configured list: its index (for the config path) and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCodeError {
    pub index: usize,
    pub message: String,
}

/// Normalises (trims, upper-cases, removes duplicates) and checks each code against the
/// metadata. `Ok(None)` for an empty list: no restriction. Every bad entry is reported.
pub fn parse_allowed_countries<S: AsRef<str>>(
    codes: &[S],
) -> Result<Option<AllowedCountries>, Vec<CountryCodeError>> {
    let mut set = BTreeSet::new();
    let mut errors = Vec::new();
    for (index, code) in codes.iter().enumerate() {
        match normalise_code(code.as_ref()) {
            Ok(code) => {
                set.insert(code);
            }
            Err(message) => errors.push(CountryCodeError { index, message }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((!set.is_empty()).then_some(AllowedCountries(set)))
}

/// One code trimmed and upper-cased, or what to fix: the check `parse_allowed_countries` runs
/// on each entry.
pub fn normalise_code(code: &str) -> Result<String, String> {
    let upper = code.trim().to_ascii_uppercase();
    let two_letters = upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase());
    if two_letters && region(&upper).is_some() {
        return Ok(upper);
    }
    // The usual mix-ups: the UK's ISO code is GB, Greece's is GR (EL is the EU's).
    let hint = match upper.as_str() {
        "UK" => " (the United Kingdom is GB)",
        "EL" => " (Greece is GR)",
        _ => "",
    };
    Err(if two_letters {
        format!(
            "{:?} is not an ISO 3166-1 alpha-2 code of a country or territory with phone \
             numbers{hint}; use codes such as US, GB, DE",
            excerpt(code)
        )
    } else {
        format!(
            "{:?} is not an ISO 3166-1 alpha-2 code (two letters, such as US, GB, DE)",
            excerpt(code)
        )
    })
}

/// The country a recipient number belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2, upper case.
    pub iso: String,
    /// The ITU calling code, e.g. 1 for Jamaica.
    pub calling_code: u16,
}

/// A recipient the allowlist let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub country: Country,
    /// The number that was checked, in E.164 (`+` and digits only): what a send puts in `To`.
    pub e164: String,
}

/// Why a recipient was refused. `Display` gives the whole message, allowed countries included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not a phone number at all (letters, nothing after the `+`, …).
    NotANumber { to: String, allowed: String },
    /// A valid number, of a country outside the list.
    CountryNotAllowed {
        to: String,
        country: Country,
        allowed: String,
    },
    /// A valid number of a non-geographic service (+800 freephone, +882 networks, …), which
    /// belongs to no country.
    NonGeographic {
        to: String,
        calling_code: u16,
        allowed: String,
    },
    /// A number the metadata reads as a valid number of an allowed country only after dropping
    /// digits that were written (a national trunk prefix such as the 0 in `+44 0 20…` or the 8
    /// in `+7 8 7172…`, a carrier code such as the UK's 180020, a +1 after +1): the number
    /// checked would not be the number Twilio is sent.
    NotAsWritten {
        to: String,
        e164: String,
        country: Country,
        allowed: String,
    },
    /// The metadata knows no valid number like it (unassigned range, wrong length), so it is a
    /// valid number of no country, allowed ones included.
    NotAValidNumber {
        to: String,
        calling_code: Option<u16>,
        allowed: String,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotANumber { to, allowed } => write!(
                f,
                "{to} is not a phone number, so it cannot be checked against the allowed \
                 countries ({allowed})"
            ),
            Rejection::CountryNotAllowed {
                to,
                country,
                allowed,
            } => write!(
                f,
                "{to} is a phone number of {} (+{}), which is not an allowed country \
                 (allowed: {allowed})",
                country.iso, country.calling_code
            ),
            Rejection::NotAsWritten {
                to,
                e164,
                country,
                allowed,
            } => write!(
                f,
                "{to} is read as {e164}, a phone number of {} (+{}) and an allowed country \
                 (allowed: {allowed}), only once digits written after the country code are \
                 dropped (a national prefix or a carrier code); Twilio would be sent the digits \
                 as written, so it is refused: write the number in E.164 form, {e164}",
                country.iso, country.calling_code
            ),
            Rejection::NonGeographic {
                to,
                calling_code,
                allowed,
            } => write!(
                f,
                "{to} is a non-geographic number (+{calling_code}) that belongs to no country \
                 (allowed: {allowed})"
            ),
            Rejection::NotAValidNumber {
                to,
                calling_code,
                allowed,
            } => {
                write!(f, "{to} is not a valid phone number")?;
                if let Some(code) = calling_code {
                    write!(f, " for calling code +{code}")?;
                }
                write!(
                    f,
                    " in any country, so not of an allowed country (allowed: {allowed})"
                )
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// The country of `to` (E.164, with or without the leading `+`) and its E.164 form, if it is
/// allowed. Spaces, dashes, dots and parentheses between digits are ignored; anything else is
/// not a number.
///
/// libphonenumber reads a number the way a person would dial it: it drops a national trunk
/// prefix or a carrier code written after the country code (`+44 0 20…` is +44 20…), so the
/// number it judges can have fewer digits than the one written, which is what Twilio would be
/// sent. A number is accepted only when its digits are exactly the E.164 form of the number
/// judged; otherwise it is refused ([`Rejection::NotAsWritten`]) rather than rewritten, since
/// the sender's number is the user's to write and a rewrite would text a number nobody typed.
pub fn check(to: &str, allowed: &AllowedCountries) -> Result<Accepted, Rejection> {
    let shown = if to.starts_with('+') {
        excerpt(to).into_owned()
    } else {
        format!("+{}", excerpt(to))
    };
    let digits: String = to
        .strip_prefix('+')
        .unwrap_or(to)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let written = format!("+{digits}");
    let number = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| PHONE_NUMBER_UTIL.parse(&written, None).ok())
        .flatten();
    let Some(number) = number else {
        return Err(Rejection::NotANumber {
            to: shown,
            allowed: allowed.list(),
        });
    };
    let calling_code = calling_code(&number);
    match resolve(&number) {
        Resolved::Country(country) if allowed.contains(&country.iso) => {
            let e164 = e164(&number);
            if e164 != written {
                return Err(Rejection::NotAsWritten {
                    to: shown,
                    e164,
                    country,
                    allowed: allowed.list(),
                });
            }
            Ok(Accepted { country, e164 })
        }
        Resolved::Country(country) => Err(Rejection::CountryNotAllowed {
            to: shown,
            country,
            allowed: allowed.list(),
        }),
        Resolved::NonGeographic => Err(Rejection::NonGeographic {
            to: shown,
            calling_code,
            allowed: allowed.list(),
        }),
        Resolved::Invalid => Err(Rejection::NotAValidNumber {
            to: shown,
            calling_code: (calling_code != 0).then_some(calling_code),
            allowed: allowed.list(),
        }),
    }
}

/// `+`, the calling code and the national significant number (an Italian leading zero kept).
fn e164(number: &PhoneNumber) -> String {
    PHONE_NUMBER_UTIL
        .format(number, PhoneNumberFormat::E164)
        .into_owned()
}

/// The country of `to` without any allowlist, for `preview`: `None` when the metadata knows no
/// valid number of a country like it.
pub fn detect(to: &str) -> Option<Country> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = PHONE_NUMBER_UTIL.parse(format!("+{digits}"), None).ok()?;
    match resolve(&number) {
        Resolved::Country(country) => Some(country),
        Resolved::NonGeographic | Resolved::Invalid => None,
    }
}

enum Resolved {
    Country(Country),
    /// A valid number of a non-geographic calling code (+800, +882, …: region "001").
    NonGeographic,
    Invalid,
}

/// libphonenumber's own answers: `isValidNumber`, then `getRegionCodeForNumber`, which among
/// the regions sharing the calling code picks the one whose leading digits or number patterns
/// hold the number (+1 876 → JM, +44 7911 1… → GG). Regions of one calling code do not overlap,
/// so a valid number is a valid number of exactly that region and of no other.
fn resolve(number: &PhoneNumber) -> Resolved {
    if !PHONE_NUMBER_UTIL.is_valid_number(number) {
        return Resolved::Invalid;
    }
    // Non-geographic codes (+800, +882, …) have the pseudo-region "001".
    match PHONE_NUMBER_UTIL
        .get_region_for_number(number)
        .map(|region| region.to_string())
    {
        Some(iso) if iso != "001" => Resolved::Country(Country {
            iso,
            calling_code: calling_code(number),
        }),
        _ => Resolved::NonGeographic,
    }
}

fn calling_code(number: &PhoneNumber) -> u16 {
    u16::try_from(number.country_code).unwrap_or(0)
}

/// The region of an upper-case ISO code, if libphonenumber has a numbering plan for it.
fn region(iso: &str) -> Option<Region> {
    let region = Region::from_code(iso).ok()?;
    PHONE_NUMBER_UTIL
        .get_country_code_for_region(region)
        .map(|_| region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(codes: &[&str]) -> AllowedCountries {
        parse_allowed_countries(codes).unwrap().unwrap()
    }

    /// Real numbers, one or more per country: numbers published by governments, airports,
    /// embassies and utilities, and Ofcom's drama range for the UK.
    const NUMBERS: &[(&str, &str)] = &[
        ("+12024561111", "US"),   // White House comment line, Washington DC
        ("+12126399675", "US"),   // New York 311 from outside the city
        ("+16135802400", "CA"),   // City of Ottawa
        ("+14163922489", "CA"),   // Toronto City Hall
        ("+18769299200", "JM"),   // Kingston, Jamaica 876
        ("+12684620214", "AG"),   // St John's, Antigua and Barbuda 268
        ("+18094120000", "DO"),   // Dominican Republic 809
        ("+17873430000", "PR"),   // Puerto Rico 787
        ("+12464262000", "BB"),   // Barbados 246
        ("+18682250000", "TT"),   // Trinidad and Tobago 868
        ("+447911123456", "GG"),  // Guernsey mobile: +44 like the UK, told apart by the range
        ("+447400123456", "GB"),  // UK mobile 07400
        ("+442079304433", "GB"),  // 10 Downing Street, London 020
        ("+33142682000", "FR"),   // Paris 01
        ("+33612345678", "FR"),   // French mobile 06
        ("+4930227320", "DE"),    // Berlin 030
        ("+4915123456789", "DE"), // German mobile 0151
        ("+390639967700", "IT"),  // Rome 06, leading zero kept in Italy
        ("+390669881022", "VA"),  // Vatican City: +39 06 698, inside Rome's 06
        ("+34915550000", "ES"),   // Madrid 91
        ("+81312345678", "JP"),   // Tokyo 03
        ("+61291234567", "AU"),   // Sydney 02
        ("+61412345678", "AU"),   // Australian mobile 04
        ("+5511912345678", "BR"), // São Paulo mobile
        ("+919876543210", "IN"),  // Indian mobile
        ("+8613812345678", "CN"), // Chinese mobile
        ("+2348031234567", "NG"), // Nigerian mobile
        ("+74957394400", "RU"),   // Moscow 495
        ("+77172740000", "KZ"),   // Astana, Kazakhstan shares +7
    ];

    #[test]
    fn real_numbers_resolve_to_their_country() {
        for (number, iso) in NUMBERS {
            assert_eq!(
                detect(number).map(|c| c.iso),
                Some(iso.to_string()),
                "{number}"
            );
            let accepted = check(number, &allowed(&[iso])).unwrap();
            assert_eq!(accepted.country.iso, *iso, "{number}");
            assert_eq!(accepted.e164, *number);
        }
    }

    #[test]
    fn nanp_numbers_are_not_all_us() {
        let us = allowed(&["US"]);
        for (number, iso) in [
            ("+18769299200", "JM"),
            ("+12684620214", "AG"),
            ("+16135802400", "CA"),
        ] {
            match check(number, &us) {
                Err(Rejection::CountryNotAllowed { country, .. }) => {
                    assert_eq!((country.iso.as_str(), country.calling_code), (iso, 1));
                }
                other => panic!("{number}: {other:?}"),
            }
        }
        let us_ca = allowed(&["us", " CA "]);
        assert_eq!(check("+16135802400", &us_ca).unwrap().country.iso, "CA");
        assert_eq!(check("12024561111", &us_ca).unwrap().country.iso, "US");
    }

    #[test]
    fn the_rejection_says_what_and_which_countries_are_allowed() {
        let a = allowed(&["US", "CA", "GB"]);
        let err = check("18769299200", &a).unwrap_err();
        assert_eq!(
            err.to_string(),
            "+18769299200 is a phone number of JM (+1), which is not an allowed country \
             (allowed: CA, GB, US)"
        );
        // NANP exchange codes never start with 1, so this is no country's number.
        let err = check("+12021234567", &a).unwrap_err();
        assert!(matches!(err, Rejection::NotAValidNumber { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "+12021234567 is not a valid phone number for calling code +1 in any country, so \
             not of an allowed country (allowed: CA, GB, US)"
        );
        let err = check("+abc", &a).unwrap_err();
        assert!(matches!(err, Rejection::NotANumber { .. }), "{err:?}");
        assert!(err.to_string().contains("(CA, GB, US)"), "{err}");
    }

    #[test]
    fn numbers_no_allowed_country_can_have_are_refused() {
        let a = allowed(&["US", "CA", "GB"]);
        for bad in [
            "+1202456111",   // one digit short
            "+120245611111", // one digit long
            "+11234567890",  // area codes never start with 1
            "+19999999999",  // unassigned area code 999
            "+447700900123", // Ofcom's range for drama: no real UK number
            "+999123456789", // no such calling code
            "",
            "+",
            "+1 202 abc 1111",
        ] {
            assert!(check(bad, &a).is_err(), "{bad}");
        }
        let err = check("+80012345678", &a).unwrap_err();
        assert!(
            matches!(
                err,
                Rejection::NonGeographic {
                    calling_code: 800,
                    ..
                }
            ),
            "{err:?}"
        );
        // Separators between digits are fine, and are not part of the number checked.
        let accepted = check("+1 (202) 456-1111", &a).unwrap();
        assert_eq!(accepted.country.iso, "US");
        assert_eq!(accepted.e164, "+12024561111");
    }

    /// Numbers written with digits libphonenumber drops when it reads them: a national trunk
    /// prefix or a carrier code after the country code. Each is read as a valid number of an
    /// allowed country, which is not the number Twilio would be sent.
    const NOT_AS_WRITTEN: &[(&str, &str, &str)] = &[
        ("+1 1 202 456 1111", "+12024561111", "US"),   // +1 twice
        ("+44 0 20 7930 4433", "+442079304433", "GB"), // UK trunk prefix 0
        ("+44 180020 20 7930 4433", "+442079304433", "GB"), // UK text relay prefix
        ("+7 8 7172 740000", "+77172740000", "KZ"),    // Kazakhstan trunk prefix 8
        ("+61 0 2 9123 4567", "+61291234567", "AU"),   // Australian trunk prefix 0
        ("+54 0 11 15 2345 6789", "+5491123456789", "AR"), // Argentina 0 and mobile 15
        ("+55 0 15 11 91234 5678", "+5511912345678", "BR"), // Brazil 0 and carrier 15
        ("+57 03 321 234 5678", "+573212345678", "CO"), // Colombia 0 and carrier 3
    ];

    #[test]
    fn a_number_read_only_after_dropping_written_digits_is_refused() {
        for (to, e164, iso) in NOT_AS_WRITTEN {
            // The number libphonenumber reads is a valid one of the country, written as E.164.
            let a = allowed(&[iso]);
            assert_eq!(check(e164, &a).unwrap().e164, *e164, "{to}");
            match check(to, &a) {
                Err(Rejection::NotAsWritten {
                    e164: read,
                    country,
                    ..
                }) => {
                    assert_eq!((read.as_str(), country.iso.as_str()), (*e164, *iso), "{to}");
                }
                other => panic!("{to}: {other:?}"),
            }
            let message = check(&to.replace(' ', ""), &a).unwrap_err().to_string();
            assert!(
                message.contains(&format!("is read as {e164}, a phone number of {iso}")),
                "{message}"
            );
            assert!(
                message.ends_with(&format!("in E.164 form, {e164}")),
                "{message}"
            );
        }
    }

    #[test]
    fn a_refused_recipient_is_quoted_in_part() {
        let a = allowed(&["US"]);
        let huge = format!("+{}", "1".repeat(1 << 20));
        let message = check(&huge, &a).unwrap_err().to_string();
        assert!(message.len() < 300, "{} bytes", message.len());
        assert!(message.contains("… (1048577 characters)"), "{message}");
        let message = check(&"x".repeat(1 << 20), &a).unwrap_err().to_string();
        assert!(message.len() < 300, "{} bytes", message.len());
        let errors = parse_allowed_countries(&["U".repeat(1 << 20)]).unwrap_err();
        assert!(errors[0].message.len() < 300, "{}", errors[0].message.len());
    }

    #[test]
    fn the_written_out_codes_are_the_metadatas_regions() {
        let mut regions: Vec<String> = PHONE_NUMBER_UTIL
            .get_supported_regions()
            .map(|r| r.to_string())
            .collect();
        regions.sort();
        assert_eq!(regions, COUNTRY_CODES);
        assert!(parse_allowed_countries(COUNTRY_CODES).is_ok());
    }

    #[test]
    fn the_list_is_normalised_and_unknown_codes_are_refused() {
        let a = allowed(&["gb", "GB", " de", "Us"]);
        assert_eq!(a.list(), "DE, GB, US");
        assert_eq!(parse_allowed_countries::<&str>(&[]), Ok(None));
        let errors = parse_allowed_countries(&["US", "UK", "USA", "ZZ", "001", "EL"]).unwrap_err();
        let indices: Vec<usize> = errors.iter().map(|e| e.index).collect();
        assert_eq!(indices, [1, 2, 3, 4, 5]);
        assert!(
            errors[0].message.contains("the United Kingdom is GB"),
            "{:?}",
            errors[0]
        );
        assert!(errors[1].message.contains("two letters"), "{:?}", errors[1]);
        assert!(
            errors[2].message.contains("\"ZZ\" is not an ISO 3166-1"),
            "{:?}",
            errors[2]
        );
        assert!(
            errors[4].message.contains("Greece is GR"),
            "{:?}",
            errors[4]
        );
    }
}
