//! Outbound SMS count from Twilio's Usage Records API, for Logto's optional `getUsage`.
//!
//! `GET /2010-04-01/Accounts/<sid>/Usage/Records.json?Category=sms-outbound&StartDate=…`:
//! the plain Records list sums the whole range into one record per category, so one page is
//! the normal answer; `next_page_uri` is still followed (same host, same account) in case.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::config::Config;
use crate::error::{ConnectorFailure, Waiting};
use crate::twilio::{response, AccountRequest, SendOptions};

/// Logto gives `getUsage` 3 s; failing at 2.5 s leaves room to report why.
pub const USAGE_TIMEOUT: Duration = Duration::from_millis(2500);
/// Twilio's usage category for SMS sent (`sms` would add inbound messages).
pub const CATEGORY: &str = "sms-outbound";
/// A loop guard: with a Category filter Twilio answers with one record.
const MAX_PAGES: usize = 10;

/// A calendar day in UTC, what Twilio's `StartDate` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// The UTC day of a JavaScript time value (milliseconds since the epoch); `None` for NaN,
    /// infinities and years Twilio's `YYYY-MM-DD` cannot write.
    pub fn from_unix_millis(ms: f64) -> Option<Day> {
        if !ms.is_finite() {
            return None;
        }
        let days = (ms / 86_400_000.0).floor() as i64;
        let day = civil_from_days(days);
        (1..=9999).contains(&day.year).then_some(day)
    }

    pub fn today() -> Day {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        civil_from_days((secs / 86_400) as i64)
    }

    pub fn first_of_month(self) -> Day {
        Day { day: 1, ..self }
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> Day {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Day { year, month, day }
}

/// A Usage Records request, ready to go. Its `request` is the account's Usage Records list,
/// the path a `next_page_uri` must resolve to (after normalisation) to be followed.
#[derive(Debug)]
pub struct UsageRequest {
    pub request: AccountRequest,
    /// The first page: the list filtered to outbound SMS since the start day.
    pub url: String,
}

pub fn prepare(
    config: &Config,
    options: &SendOptions,
    start: Day,
) -> Result<UsageRequest, ConnectorFailure> {
    let request = AccountRequest::new(config, options, "Usage/Records.json")?;
    Ok(UsageRequest {
        url: format!(
            "{}?Category={CATEGORY}&IncludeSubaccounts=false&StartDate={start}",
            request.url
        ),
        request,
    })
}

/// The number of outbound SMS in the range, summed over every page. The whole call, paging
/// included, is bounded by `timeout` from when it `started`.
pub async fn fetch(
    client: &reqwest::Client,
    request: UsageRequest,
    started: tokio::time::Instant,
    timeout: Duration,
) -> Result<u64, ConnectorFailure> {
    let deadline = started + timeout;
    let result = match tokio::time::timeout_at(deadline, fetch_all(client, &request)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectorFailure::timeout(
            &request.request.origin,
            timeout,
            Waiting::Usage,
        )),
    };
    result.map_err(|failure| request.request.redact(failure))
}

async fn fetch_all(
    client: &reqwest::Client,
    request: &UsageRequest,
) -> Result<u64, ConnectorFailure> {
    let mut total: u64 = 0;
    let mut url = request.url.clone();
    for _ in 0..MAX_PAGES {
        let body = get(client, request, &url).await?;
        let (count, next) = parse_page(&body)?;
        total = total.saturating_add(count);
        match next {
            None => return Ok(total),
            Some(next) => url = next_page(request, &next)?,
        }
    }
    Err(ConnectorFailure::bad_usage_page(&format!(
        "has more than {MAX_PAGES} pages; expected one record"
    )))
}

/// The next page's URL, only when it is this account's Usage Records list on the same origin
/// once resolved the way the HTTP client will resolve it (dot segments, `%2e`, backslashes):
/// the URL that is checked is the URL that is requested.
fn next_page(request: &UsageRequest, next: &str) -> Result<String, ConnectorFailure> {
    let outside = || {
        ConnectorFailure::bad_usage_page(&format!(
            "points its next page outside this account's usage records ({next}); not followed"
        ))
    };
    let base = reqwest::Url::parse(&request.url).map_err(|_| outside())?;
    let url = base.join(next).map_err(|_| outside())?;
    let same_place = url.origin() == base.origin()
        && url.path() == request.request.path()
        && url.username().is_empty()
        && url.password().is_none();
    if !same_place {
        return Err(outside());
    }
    Ok(url.into())
}

async fn get(
    client: &reqwest::Client,
    request: &UsageRequest,
    url: &str,
) -> Result<String, ConnectorFailure> {
    let request = &request.request;
    let (status, location, body) =
        response::get(client, url, &request.authorization, &request.origin).await?;
    // Same mapping as a send: 2xx answers, 3xx not followed, 429 rate limited, else general.
    response::classify(status, location.as_deref(), body, &request.origin)
        .map(|delivered| delivered.body)
}

/// One page's `count` sum and its `next_page_uri`. Twilio prints `count` as a string.
pub fn parse_page(body: &str) -> Result<(u64, Option<String>), ConnectorFailure> {
    let invalid = |what: &str| {
        ConnectorFailure::bad_usage_page(&format!("is not a usage record list: {what}"))
    };
    let page: Value = serde_json::from_str(body).map_err(|_| invalid("not JSON"))?;
    let records = page
        .get("usage_records")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no usage_records array"))?;
    let mut total: u64 = 0;
    for record in records {
        let count = match record.get("count") {
            None | Some(Value::Null) => 0,
            Some(Value::String(text)) => {
                parse_count(text).ok_or_else(|| invalid("a count is not a number"))?
            }
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| invalid("a count is not a whole number"))?,
            Some(_) => return Err(invalid("a count is not a number")),
        };
        total = total.saturating_add(count);
    }
    let next = page
        .get("next_page_uri")
        .and_then(Value::as_str)
        .filter(|uri| !uri.is_empty())
        .map(str::to_owned);
    Ok((total, next))
}

/// `"12"`, and `"12.0"` should Twilio ever print a count like its `usage` amounts.
fn parse_count(text: &str) -> Option<u64> {
    let text = text.trim();
    let whole = text
        .split_once('.')
        .filter(|(_, fraction)| fraction.bytes().all(|b| b == b'0'))
        .map_or(text, |(whole, _)| whole);
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fixture::config;
    use crate::error::{ConnectorErrorCode, ErrorKind};
    use serde_json::json;

    #[test]
    fn days_from_javascript_time_values() {
        let day = |ms: f64| Day::from_unix_millis(ms).map(|d| d.to_string());
        assert_eq!(day(0.0).as_deref(), Some("1970-01-01"));
        assert_eq!(day(-1.0).as_deref(), Some("1969-12-31"));
        // 2024-02-29T23:59:59.999Z and the next millisecond.
        assert_eq!(day(1_709_251_199_999.0).as_deref(), Some("2024-02-29"));
        assert_eq!(day(1_709_251_200_000.0).as_deref(), Some("2024-03-01"));
        assert_eq!(day(951_782_400_000.0).as_deref(), Some("2000-02-29"));
        assert_eq!(day(f64::NAN), None);
        assert_eq!(day(8.64e15), None); // year 275760
        let first = Day::from_unix_millis(1_718_000_000_000.0)
            .unwrap()
            .first_of_month();
        assert_eq!(first.to_string(), "2024-06-01");
        assert_eq!(Day::today().first_of_month().day, 1);
    }

    #[test]
    fn request_url_and_auth() {
        let start = Day {
            year: 2024,
            month: 5,
            day: 1,
        };
        let request = prepare(&config(json!({})), &SendOptions::default(), start).unwrap();
        assert_eq!(
            request.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Usage/Records.json?Category=sms-outbound&IncludeSubaccounts=false&StartDate=2024-05-01"
        );
        assert_eq!(
            request.request.authorization.expose(),
            format!("Basic {}", twilio_base64("AC0123:secret-token-xyz"))
        );
        assert!(!format!("{request:?}").contains("secret-token-xyz"));
        let keyed = config(
            json!({ "apiKeySID": "SK1", "apiKeySecret": "key-secret-value", "host": "api.dublin.ie1.twilio.com" }),
        );
        let request = prepare(&keyed, &SendOptions::default(), start).unwrap();
        assert!(request
            .url
            .starts_with("https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC0123/"));
        assert_eq!(
            request.request.authorization.expose(),
            format!("Basic {}", twilio_base64("SK1:key-secret-value"))
        );
        let exposed = request.request.secrets();
        for secret in ["key-secret-value", "SK1:key-secret-value"] {
            assert!(exposed.contains(&secret), "{secret}");
        }
    }

    fn twilio_base64(text: &str) -> String {
        // Independent encoder for the test: standard alphabet with padding.
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                out.push(if i <= chunk.len() {
                    A[(n >> (18 - 6 * i) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    }

    #[test]
    fn pages_are_summed_from_string_counts() {
        let body = json!({
            "usage_records": [
                { "category": "sms-outbound", "count": "41", "usage": "41" },
                { "category": "sms-outbound", "count": "1" },
                { "category": "sms-outbound", "count": null },
            ],
            "next_page_uri": null,
        })
        .to_string();
        assert_eq!(parse_page(&body).unwrap(), (42, None));
        let body = json!({ "usage_records": [{ "count": 3 }, { "count": "2.0" }], "next_page_uri": "/next" }).to_string();
        assert_eq!(parse_page(&body).unwrap(), (5, Some("/next".to_owned())));
        assert_eq!(parse_page(r#"{"usage_records":[]}"#).unwrap(), (0, None));
    }

    #[test]
    fn next_pages_must_stay_on_the_accounts_usage_records() {
        let start = Day {
            year: 2024,
            month: 5,
            day: 1,
        };
        let request = prepare(&config(json!({})), &SendOptions::default(), start).unwrap();
        let records = "/2010-04-01/Accounts/AC0123/Usage/Records.json";
        assert_eq!(
            next_page(&request, &format!("{records}?Page=1&PageToken=PA1")).unwrap(),
            format!("https://api.twilio.com{records}?Page=1&PageToken=PA1")
        );
        for outside in [
            "/2010-04-01/Accounts/AC0123/Usage/Records/../../../OTHER/Usage/Records.json",
            "/2010-04-01/Accounts/AC0123/Usage/Records.json/../../../../OTHER/x.json",
            "/2010-04-01/Accounts/AC0123/Usage/Records/%2e%2e/%2E%2E/%2e%2e/OTHER.json",
            "/2010-04-01/Accounts/AC0123/Usage/Records\\..\\..\\..\\OTHER.json",
            "/2010-04-01/Accounts/AC0123/Usage/Records/Daily.json",
            "//evil.example/2010-04-01/Accounts/AC0123/Usage/Records.json",
            "https://evil.example/2010-04-01/Accounts/AC0123/Usage/Records.json",
            "http://api.twilio.com/2010-04-01/Accounts/AC0123/Usage/Records.json",
            "/2010-04-01/Accounts/AC9999/Usage/Records.json",
        ] {
            let err = next_page(&request, outside).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadUsagePage, "{outside}");
        }
    }

    #[test]
    fn dot_account_sids_are_refused() {
        for sid in [".", ".."] {
            let err = prepare(
                &config(json!({ "accountSID": sid })),
                &SendOptions::default(),
                Day::today(),
            )
            .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnusableAccountSid, "{sid}");
        }
    }

    #[test]
    fn unparsable_answers_are_invalid_response() {
        for body in [
            "not json",
            "{}",
            r#"{"usage_records":{}}"#,
            r#"{"usage_records":[{"count":"many"}]}"#,
            r#"{"usage_records":[{"count":-1}]}"#,
            r#"{"usage_records":[{"count":"1.5"}]}"#,
            r#"{"usage_records":[{"count":true}]}"#,
        ] {
            let err = parse_page(body).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadUsagePage, "{body}");
            assert_eq!(err.code(), ConnectorErrorCode::InvalidResponse, "{body}");
        }
    }
}
