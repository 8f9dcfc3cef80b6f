//! `host`: the Twilio REST API hosts Twilio documents, and nothing else.

use super::*;

pub(super) const MAX_HOST_LEN: usize = 253;

pub(super) const MAX_LABEL_LEN: usize = 63;

pub(super) fn optional_host(object: &Map<String, Value>, issues: &mut Issues) -> Option<String> {
    match object.get("host")? {
        Value::String(host) if is_twilio_api_host(host) => {
            let host = host.to_ascii_lowercase();
            if let Some(replacement) = retired_host_replacement(&host) {
                issues.push(
                    vec!["host".into()],
                    "invalid_string",
                    format!(
                        "{host} no longer works: Twilio stopped accepting api.<region>.twilio.com \
                         host names on 2026-04-28 (they always processed in US1). Use \
                         {replacement}"
                    ),
                );
                return None;
            }
            if !DOCUMENTED_HOSTS.iter().any(|(known, _)| *known == host) {
                issues.push(
                    vec!["host".into()],
                    "invalid_string",
                    undocumented_host_message(&host),
                );
                return None;
            }
            Some(host)
        }
        Value::String(_) => {
            issues.push(
                vec!["host".into()],
                "invalid_string",
                format!(
                    "Must be a Twilio REST API host name: {} (no scheme, port, path or trailing \
                     dot); leave it out to use api.twilio.com",
                    documented_hosts_text()
                ),
            );
            None
        }
        other => {
            issues.type_mismatch(vec!["host".into()], "string", other);
            None
        }
    }
}

/// The hosts Twilio documents for its REST API, with the region each processes in: US1 through
/// `api.twilio.com` (`api.us1.twilio.com` stays valid, and `api.ashburn.us1.twilio.com` is the
/// explicit form of the same route: Twilio routes its legacy host to US1 through the ashburn
/// edge, and its helper libraries build this host from `edge: 'ashburn', region: 'us1'`), IE1
/// and AU1 through their one edge form (Twilio's "Using the Twilio REST API in a non-US Region"
/// and "Legacy Edge Location IDs").
/// REST requests do not choose an edge: any other `api.<edge>.<region>.twilio.com` either does
/// not resolve (`api.frankfurt.de1`, fails only at send time) or silently processes somewhere
/// else (`api.dublin.us1` is US1), so the guard refuses them.
pub const DOCUMENTED_HOSTS: [(&str, &str); 5] = [
    ("api.twilio.com", "US1"),
    ("api.us1.twilio.com", "US1"),
    ("api.ashburn.us1.twilio.com", "US1"),
    ("api.dublin.ie1.twilio.com", "IE1"),
    ("api.sydney.au1.twilio.com", "AU1"),
];

/// `api.twilio.com (US1), … or …`: each region's first documented host, for messages.
pub(super) fn documented_hosts_text() -> String {
    let hosts: Vec<String> = DOCUMENTED_HOSTS
        .iter()
        .enumerate()
        .filter(|(i, (_, region))| !DOCUMENTED_HOSTS[..*i].iter().any(|(_, r)| r == region))
        .map(|(_, (host, region))| format!("{host} ({region})"))
        .collect();
    match hosts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Why a well-formed `api.….twilio.com` outside [`DOCUMENTED_HOSTS`] is refused, naming the
/// documented host of its region when it has one.
pub(super) fn undocumented_host_message(host: &str) -> String {
    let region = host
        .strip_suffix(".twilio.com")
        .and_then(|rest| rest.rsplit_once('.'))
        .map(|(_, region)| region)
        .filter(|region| region.len() == 3 && region.as_bytes()[2].is_ascii_digit());
    let documented = region.and_then(|region| {
        DOCUMENTED_HOSTS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(region))
    });
    let why = match (region, documented) {
        (Some(region), Some((replacement, _))) => format!(
            ": REST API requests do not choose an edge location, and {} processing is reached \
             through {replacement}",
            region.to_ascii_uppercase()
        ),
        (Some(region), None) => format!(
            ": Twilio does not document REST API processing in {}",
            region.to_ascii_uppercase()
        ),
        _ => String::new(),
    };
    format!(
        "{host} is not a Twilio REST API host{why}. Use {}",
        documented_hosts_text()
    )
}

/// The replacement for a host form Twilio retired on 2026-04-28 (`api.<region>.twilio.com`
/// without an edge location), or `None` for any other host. Those hosts always processed in
/// US1; IE1 and AU1 processing needs the edge form (Twilio's "Legacy Edge IDs" table).
pub fn retired_host_replacement(host: &str) -> Option<&'static str> {
    let region = host
        .strip_prefix("api.")?
        .strip_suffix(".twilio.com")?
        .to_ascii_lowercase();
    Some(match region.as_str() {
        "ie1" => "api.dublin.ie1.twilio.com for IE1 (Ireland) processing, or api.twilio.com",
        "au1" => "api.sydney.au1.twilio.com for AU1 (Australia) processing, or api.twilio.com",
        "br1" | "de1" | "jp1" | "sg1" | "us2" => "api.twilio.com",
        _ => return None,
    })
}

/// `^api(?:\.[\da-z](?:[\da-z-]{0,61}[\da-z])?)*\.twilio\.com$`, case-insensitive, at most
/// 253 characters: upstream's shape of a host, checked first so a malformed one gets the message
/// about form; the guard then accepts only [`DOCUMENTED_HOSTS`]. Written out by hand: a regex
/// engine is a lot of binary for one pattern.
pub fn is_twilio_api_host(host: &str) -> bool {
    if host.len() > MAX_HOST_LEN || !host.is_ascii() {
        return false;
    }
    let lower = host.to_ascii_lowercase();
    let Some(middle) = lower
        .strip_prefix("api")
        .and_then(|rest| rest.strip_suffix(".twilio.com"))
    else {
        return false;
    };
    if middle.is_empty() {
        return true;
    }
    let Some(labels) = middle.strip_prefix('.') else {
        return false;
    };
    labels.split('.').all(is_dns_label)
}

pub(super) fn is_dns_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_LEN
        && alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::super::tests::messages;
    use super::*;
    use crate::config::fixture::with;
    use serde_json::json;

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
}
