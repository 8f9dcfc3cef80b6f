//! The counters one send adds to: one per velocity limit that applies and one per daily
//! budget, each under its key, window and maximum. The stores only add up what this decides.

use std::net::IpAddr;

use super::mask;
use super::policy::{By, Limit, SmsPumping, UNKNOWN_COUNTRY};

/// Every key starts with this (documented for operators who share a Redis): the stores' keys
/// are `twilio-sms-native:{<scope>}:…`, the braces a Redis Cluster hash tag so one account's
/// counters share a slot.
pub const KEY_PREFIX: &str = "twilio-sms-native:";
const DAY_SECONDS: u64 = 86_400;
/// Kept this long past its window's end, so replicas whose clocks differ a little still find
/// the same count.
const TTL_SLACK_SECONDS: u64 = 60;

/// Who a send is for and from, as the counters see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// `+` and digits: the number `To` carries.
    pub e164: String,
    /// ISO 3166-1 alpha-2, or [`UNKNOWN_COUNTRY`]; `None` when no rule needs it.
    pub country: Option<String>,
    pub calling_code: Option<u16>,
    pub ip: Option<IpAddr>,
}

impl Subject {
    pub fn country(&self) -> &str {
        self.country.as_deref().unwrap_or(UNKNOWN_COUNTRY)
    }

    /// With its country looked up if no rule needed it: for a refusal's log line (the first
    /// one loads the phone-number metadata, which no send without a country rule does).
    pub fn with_country(&self) -> Subject {
        let mut subject = self.clone();
        if subject.country.is_none() {
            let country = crate::country::detect(&subject.e164);
            subject.calling_code = country.as_ref().map(|c| c.calling_code);
            subject.country = Some(country.map_or_else(|| UNKNOWN_COUNTRY.to_owned(), |c| c.iso));
        }
        subject
    }

    pub fn masked_number(&self) -> String {
        mask::number(&self.e164, self.calling_code)
    }

    pub fn masked_ip(&self) -> Option<String> {
        self.ip.map(mask::ip)
    }
}

/// Which rule a counter belongs to, to word a refusal.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `smsPumping.limits[index]`, counting `subject` (masked: an IP network, a number range, a
    /// country).
    Limit {
        index: usize,
        by: By,
        window_seconds: u64,
        subject: String,
    },
    /// `smsPumping.dailySegments.total`.
    DailyTotal,
    /// `smsPumping.dailySegments.perCountry` for this country.
    DailyCountry(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    pub key: String,
    /// 1 for a limit, the message's segments for a budget.
    pub add: u64,
    pub max: u64,
    /// How long the key lives (its window's rest plus slack), in milliseconds.
    pub ttl_ms: u64,
    /// When the window ends, Unix seconds.
    pub resets_at: u64,
    pub rule: Rule,
}

/// The counters of one send at `now` (Unix seconds). `scope` keeps accounts apart.
pub fn counters(
    policy: &SmsPumping,
    scope: &str,
    subject: &Subject,
    segments: u64,
    now: u64,
) -> Vec<Counter> {
    let mut counters = Vec::new();
    for (index, limit) in policy.limits.iter().enumerate() {
        let Some(counted) = counted(limit.by, subject) else {
            continue;
        };
        let max = limit_max(limit, subject);
        let window = limit.window_seconds;
        let key = format!(
            "{KEY_PREFIX}{{{scope}}}:{}:{window}:{}:{}",
            limit.by.name(),
            now / window,
            counted.key
        );
        counters.push(counter(
            key,
            1,
            max,
            window,
            now,
            Rule::Limit {
                index,
                by: limit.by,
                window_seconds: window,
                subject: counted.shown,
            },
        ));
    }
    if let Some(budget) = &policy.daily_segments {
        let day = now / DAY_SECONDS;
        if let Some(max) = budget.total {
            let key = format!("{KEY_PREFIX}{{{scope}}}:day:{day}:total");
            counters.push(counter(
                key,
                segments,
                max,
                DAY_SECONDS,
                now,
                Rule::DailyTotal,
            ));
        }
        let country = subject.country();
        if let Some(max) = budget.of_country(country) {
            let key = format!("{KEY_PREFIX}{{{scope}}}:day:{day}:{country}");
            counters.push(counter(
                key,
                segments,
                max,
                DAY_SECONDS,
                now,
                Rule::DailyCountry(country.to_owned()),
            ));
        }
    }
    counters
}

fn counter(key: String, add: u64, max: u64, window: u64, now: u64, rule: Rule) -> Counter {
    let resets_at = (now / window + 1) * window;
    Counter {
        key,
        add,
        max,
        ttl_ms: (resets_at - now + TTL_SLACK_SECONDS) * 1000,
        resets_at,
        rule,
    }
}

fn limit_max(limit: &Limit, subject: &Subject) -> u64 {
    match &subject.country {
        Some(country) => limit.per_country.get(country).copied().unwrap_or(limit.max),
        None => limit.max,
    }
}

/// What a limit counts for this send: its key part and how a message shows it. `None` when
/// the send has no such subject (no client IP: the class called without one).
struct Counted {
    key: String,
    shown: String,
}

fn counted(by: By, subject: &Subject) -> Option<Counted> {
    match by {
        By::Ip {
            ipv4_prefix,
            ipv6_prefix,
        } => {
            let ip = subject.ip?;
            let network = match ip {
                IpAddr::V4(v4) => {
                    let bits = u32::from(v4) & prefix_mask_32(ipv4_prefix);
                    format!("{}/{ipv4_prefix}", std::net::Ipv4Addr::from(bits))
                }
                IpAddr::V6(v6) => {
                    let bits = u128::from(v6) & prefix_mask_128(ipv6_prefix);
                    format!("{}/{ipv6_prefix}", std::net::Ipv6Addr::from(bits))
                }
            };
            let prefix = if ip.is_ipv4() {
                ipv4_prefix
            } else {
                ipv6_prefix
            };
            Some(Counted {
                key: network,
                shown: format!("{}/{prefix}", mask::ip(ip)),
            })
        }
        By::NumberRange { hidden_digits } => {
            let digits = subject.e164.trim_start_matches('+');
            let kept = digits.len().saturating_sub(hidden_digits as usize);
            let range = format!("+{}{}", &digits[..kept], "x".repeat(digits.len() - kept));
            Some(Counted {
                shown: range.clone(),
                key: range,
            })
        }
        By::Country => {
            let country = subject.country().to_owned();
            Some(Counted {
                shown: country.clone(),
                key: country,
            })
        }
    }
}

fn prefix_mask_32(bits: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0)
}

fn prefix_mask_128(bits: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pumping::policy::DailySegments;
    use std::collections::BTreeMap;

    fn subject(ip: Option<&str>) -> Subject {
        Subject {
            e164: "+447700900123".into(),
            country: Some("GB".into()),
            calling_code: Some(44),
            ip: ip.map(|ip| ip.parse().unwrap()),
        }
    }

    fn limit(by: By, max: u64, window_seconds: u64) -> Limit {
        Limit {
            by,
            max,
            window_seconds,
            per_country: BTreeMap::new(),
        }
    }

    #[test]
    fn keys_windows_and_maxima() {
        let mut range = limit(By::NumberRange { hidden_digits: 3 }, 10, 3600);
        range.per_country.insert("GB".into(), 2);
        let policy = SmsPumping {
            limits: vec![
                limit(
                    By::Ip {
                        ipv4_prefix: 24,
                        ipv6_prefix: 64,
                    },
                    5,
                    60,
                ),
                range,
                limit(By::Country, 100, 86_400),
            ],
            daily_segments: Some(DailySegments {
                total: Some(1000),
                per_country: BTreeMap::from([("*".into(), 50)]),
            }),
            ..SmsPumping::default()
        };
        let now = 1_800_000_030;
        let all = counters(&policy, "abc", &subject(Some("203.0.113.7")), 2, now);
        let keys: Vec<&str> = all.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "twilio-sms-native:{abc}:ip:60:30000000:203.0.113.0/24",
                "twilio-sms-native:{abc}:numberRange:3600:500000:+447700900xxx",
                "twilio-sms-native:{abc}:country:86400:20833:GB",
                "twilio-sms-native:{abc}:day:20833:total",
                "twilio-sms-native:{abc}:day:20833:GB",
            ]
        );
        assert_eq!(all[0].resets_at, 1_800_000_060);
        assert_eq!(all[0].ttl_ms, 90_000);
        assert_eq!(all[1].max, 2, "the per-country value replaces max");
        assert_eq!(all[3].add, 2, "a budget counts segments");
        assert_eq!(all[4].max, 50);
        assert_eq!(
            all[0].rule,
            Rule::Limit {
                index: 0,
                by: By::Ip {
                    ipv4_prefix: 24,
                    ipv6_prefix: 64
                },
                window_seconds: 60,
                subject: "203.0.•.•/24".into()
            }
        );
        // No IP (the class called without one): the IP limit does not apply.
        assert_eq!(counters_of(&policy, None).len(), 4);
        let v6 = counters(&policy, "abc", &subject(Some("2001:db8:1:2:3::9")), 1, now);
        assert_eq!(
            v6[0].key,
            "twilio-sms-native:{abc}:ip:60:30000000:2001:db8:1:2::/64"
        );
    }

    fn counters_of(policy: &SmsPumping, ip: Option<&str>) -> Vec<Counter> {
        counters(policy, "abc", &subject(ip), 1, 1_800_000_030)
    }
}
