//! Twilio Lookup v2's SMS pumping risk of one number: the request (`GET
//! /v2/PhoneNumbers/{number}?Fields=sms_pumping_risk` with the connector's credential), its
//! answer typed as Twilio's OpenAPI description has it, a bounded cache of answers, and the
//! decision whether a risk refuses the send. The send path asks it before a send; nothing here
//! sends a message or decides fail-open or fail-closed.
//!
//! Where Lookup lives. Twilio's OpenAPI description (`twilio_lookups_v2.json`) names one server,
//! `https://lookups.twilio.com`, which processes in US1. Twilio's helper libraries reach a
//! region by rewriting each product's host as `<product>.<edge>.<region>.twilio.com` (the
//! Messages host `api.dublin.ie1.twilio.com` goes with `lookups.dublin.ie1.twilio.com`), and
//! Twilio runs Lookup v2 in US1 and IE1 only ("Using Lookup with Twilio Regions"; "Regional
//! product availability" lists no Lookup in AU1). Credentials are regional, so the Lookup host
//! must be in the configured host's region:
//!
//! | `host` | Lookup origin |
//! |---|---|
//! | `api.twilio.com`, `api.us1.twilio.com`, `api.ashburn.us1.twilio.com` (US1) | `https://lookups.twilio.com` |
//! | `api.dublin.ie1.twilio.com` (IE1) | `https://lookups.dublin.ie1.twilio.com` |
//! | `api.sydney.au1.twilio.com` (AU1) | none: [`ErrorKind::LookupUnavailable`](crate::error::ErrorKind) |
//!
//! With the embedder's `baseUrl` (tests, a Twilio-compatible server) it replaces the origin, as
//! it does for Messages. Whether a package answers in IE1 is Twilio's to say: a package it does
//! not run there comes back as an HTTP error or as `sms_pumping_risk.error_code` (60619), both
//! of which this module reports.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::config::Config;
use crate::error::{ConnectorFailure, Waiting};
use crate::secret::Secret;
use crate::twilio::request::{basic_authorization, path_segment_encode, redact_request};
use crate::twilio::response::get;
use crate::twilio::SendOptions;

/// Lookup's US1 origin, the one server Twilio's OpenAPI description names.
pub const LOOKUP_ORIGIN: &str = "https://lookups.twilio.com";

/// The Lookup origin for a configured REST API `host` (see the module's table), or the
/// failure naming the region that has no Lookup.
pub fn lookup_origin(api_host: &str) -> Result<String, ConnectorFailure> {
    let rest = api_host.strip_prefix("api.").unwrap_or(api_host);
    let labels: Vec<&str> = rest.split('.').collect();
    // `<edge>.<region>.twilio.com` or `<region>.twilio.com`; the region is the label before
    // `twilio.com`.
    let region = labels
        .len()
        .checked_sub(3)
        .and_then(|i| labels.get(i))
        .copied();
    match region {
        None | Some("us1") => Ok(LOOKUP_ORIGIN.to_owned()),
        Some("au1") => Err(ConnectorFailure::lookup_unavailable(api_host, "AU1")),
        Some(_) => Ok(format!("https://lookups.{rest}")),
    }
}

/// One Lookup request, ready to go. `Debug` shows where it goes, never the credential.
pub struct LookupRequest {
    /// `https://lookups.twilio.com` (or the region's), or the embedder's base URL: what errors
    /// name.
    pub origin: String,
    /// `<origin>/v2/PhoneNumbers/<number>?Fields=sms_pumping_risk`.
    pub url: String,
    authorization: Secret,
    /// What must never appear in an error this request produces.
    secrets: Vec<Secret>,
    key: LookupKey,
}

impl LookupRequest {
    /// The request for `e164` (`+` and 1 to 15 digits: the number the send goes to, as the
    /// country check wrote it), with the config's credential.
    pub fn new(
        config: &Config,
        options: &SendOptions,
        e164: &str,
    ) -> Result<Self, ConnectorFailure> {
        if !is_e164(e164) {
            return Err(ConnectorFailure::lookup_number_not_e164(e164));
        }
        let origin = match &options.base_url {
            Some(base_url) => base_url.clone(),
            None => lookup_origin(config.host())?,
        };
        // `+` is a sub-delimiter, legal in a path segment, and Twilio's own `url` field keeps it
        // (`/v2/PhoneNumbers/+14159929960`); the digits need no encoding either. Encoding
        // anyway keeps the number one segment whatever a caller passes.
        let url = format!(
            "{origin}/v2/PhoneNumbers/{}?Fields=sms_pumping_risk",
            path_segment_encode(e164)
        );
        let (authorization, secrets) = basic_authorization(config);
        let (user, _) = config.credentials();
        let key = LookupKey {
            origin: origin.clone(),
            user: user.to_owned(),
            number: e164.to_owned(),
        };
        Ok(LookupRequest {
            origin,
            url,
            authorization,
            secrets,
            key,
        })
    }

    /// What the cache files this request's answer under: the origin (regions answer apart),
    /// the credential's user (API key SID or account SID) and the number.
    pub fn key(&self) -> &LookupKey {
        &self.key
    }

    /// Removes every secret of this request from `failure`, the proxies' credentials included
    /// (read again: the client may have been built after this request).
    pub fn redact(&self, failure: ConnectorFailure) -> ConnectorFailure {
        redact_request(&self.secrets, failure)
    }
}

impl std::fmt::Debug for LookupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupRequest")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// `+` followed by 1 to 15 ASCII digits (ITU-T E.164's longest number).
fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// What a cached answer is filed under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupKey {
    origin: String,
    user: String,
    number: String,
}

impl LookupKey {
    /// A digest of the key, for a shared cache that must not hold the number itself.
    pub fn digest(&self) -> String {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [&self.origin, &self.user, &self.number] {
            context.update(part.as_bytes());
            context.update(b"\0");
        }
        context.finish().as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Lookup's answer: the parts of the phone number resource the defence reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PumpingRisk {
    /// The number in E.164 form, as Lookup read it.
    pub phone_number: Option<String>,
    /// Whether the number is in a range a carrier can assign (Lookup answers 200 with `false`
    /// and `validation_errors` for a number of the wrong length).
    pub valid: Option<bool>,
    /// `None` when Lookup sent `null`: the package gave no answer (an invalid number, a package
    /// not enabled). That is "unknown", never a refusal by itself.
    pub sms_pumping_risk: Option<SmsPumpingRisk>,
}

/// `sms_pumping_risk`, Twilio's `SmsPumpingRiskInfo`. Its OpenAPI schema marks no field
/// nullable, yet Twilio's own examples answer `null` for `number_blocked_date`,
/// `number_blocked_last_3_months` and `error_code`, so every field is read as optional; a score
/// and `number_blocked` are required unless `error_code` says why they are missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsPumpingRisk {
    /// Twilio's word for the carrier's risk, e.g. `low`, `moderate`, `high` (kept as sent: the
    /// set is Twilio's to grow).
    pub carrier_risk_category: Option<String>,
    /// Verify Fraud Guard blocks this number now.
    pub number_blocked: Option<bool>,
    /// When it was blocked (ISO 8601, as Twilio sent it).
    pub number_blocked_date: Option<String>,
    pub number_blocked_last_3_months: Option<bool>,
    /// 0 (no risk) to 100.
    pub sms_pumping_risk_score: Option<u8>,
    /// Why the package could not answer (e.g. 60606 package not available, 60619 region).
    pub error_code: Option<i64>,
}

/// Why a risk refuses a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The score is above the configured maximum.
    ScoreAbove { score: u8, max_score: u8 },
    /// Verify Fraud Guard blocks the number (since `since`, when Twilio said).
    NumberBlocked { since: Option<String> },
}

impl PumpingRisk {
    /// Whether this answer refuses the send: `number_blocked` (when `refuse_blocked`) or a
    /// score above `max_score`. A `null` package, or one that answered only an `error_code`,
    /// is unknown and refuses nothing: what to do then is the caller's fail-open or
    /// fail-closed policy, read from [`PumpingRisk::unknown`].
    pub fn refuses(&self, max_score: u8, refuse_blocked: bool) -> Option<Reason> {
        let risk = self.sms_pumping_risk.as_ref()?;
        if refuse_blocked && risk.number_blocked == Some(true) {
            return Some(Reason::NumberBlocked {
                since: risk.number_blocked_date.clone(),
            });
        }
        match risk.sms_pumping_risk_score {
            Some(score) if score > max_score => Some(Reason::ScoreAbove { score, max_score }),
            _ => None,
        }
    }

    /// What a shared cache keeps of an answer: the verdict's fields, not the number (the key
    /// is a hash of it). [`PumpingRisk::from_cache_json`] reads it back.
    pub fn to_cache_json(&self) -> String {
        let risk = self.sms_pumping_risk.as_ref().map(|risk| {
            serde_json::json!({
                "carrier_risk_category": risk.carrier_risk_category,
                "number_blocked": risk.number_blocked,
                "number_blocked_date": risk.number_blocked_date,
                "number_blocked_last_3_months": risk.number_blocked_last_3_months,
                "sms_pumping_risk_score": risk.sms_pumping_risk_score,
                "error_code": risk.error_code,
            })
        });
        serde_json::json!({ "valid": self.valid, "sms_pumping_risk": risk }).to_string()
    }

    /// An answer kept by [`PumpingRisk::to_cache_json`], read with Lookup's own rules; `None`
    /// for anything else (a value some other program wrote under the key).
    pub fn from_cache_json(text: &str) -> Option<PumpingRisk> {
        parse_answer(text).ok()
    }

    /// Worth keeping for a TTL: anything but a package that reported an `error_code`.
    pub fn cacheable(&self) -> bool {
        self.sms_pumping_risk
            .as_ref()
            .is_none_or(|risk| risk.error_code.is_none())
    }

    /// True when Lookup gave no score: `sms_pumping_risk` is `null`, or it carries only an
    /// `error_code`.
    pub fn unknown(&self) -> bool {
        self.sms_pumping_risk
            .as_ref()
            .is_none_or(|risk| risk.sms_pumping_risk_score.is_none())
    }
}

/// Asks Lookup for `request`'s number, by `deadline`. Never follows a redirect (the shared
/// client follows none), reads the body under the Twilio answer cap, does not retry (the
/// send's own deadline is what it spends), and returns only redacted failures.
pub async fn sms_pumping_risk(
    client: &reqwest::Client,
    request: &LookupRequest,
    deadline: Instant,
) -> Result<PumpingRisk, ConnectorFailure> {
    let allowed = deadline.saturating_duration_since(Instant::now());
    let result = match tokio::time::timeout_at(deadline, exchange(client, request)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectorFailure::timeout(
            &request.origin,
            allowed,
            Waiting::Lookup,
        )),
    };
    result.map_err(|failure| request.redact(failure))
}

/// [`sms_pumping_risk`] through `cache`: a fresh cached answer costs no request, and a new
/// successful answer is cached for `ttl`. Failures never are, nor an answer whose package reports an
/// `error_code`: that can be Twilio's passing trouble, and caching it would leave the number
/// unknown for a whole TTL.
pub async fn cached_sms_pumping_risk(
    client: &reqwest::Client,
    request: &LookupRequest,
    deadline: Instant,
    cache: &RiskCache,
    ttl: Duration,
) -> Result<PumpingRisk, ConnectorFailure> {
    if let Some(risk) = cache.get(request.key(), Instant::now()) {
        return Ok(risk);
    }
    let risk = sms_pumping_risk(client, request, deadline).await?;
    if risk.cacheable() {
        cache.insert(request.key().clone(), risk.clone(), ttl, Instant::now());
    }
    Ok(risk)
}

async fn exchange(
    client: &reqwest::Client,
    request: &LookupRequest,
) -> Result<PumpingRisk, ConnectorFailure> {
    let (status, location, body) = get(
        client,
        &request.url,
        &request.authorization,
        &request.origin,
    )
    .await?;
    classify(status, location.as_deref(), &body, &request.origin)
}

/// Maps Lookup's answer to the risk or a failure by status and shape; public to the crate so
/// every shape is testable without a server.
pub(crate) fn classify(
    status: u16,
    location: Option<&str>,
    body: &str,
    target: &str,
) -> Result<PumpingRisk, ConnectorFailure> {
    match status {
        200..=299 => {
            parse_answer(body).map_err(|what| ConnectorFailure::lookup_answer(target, status, what))
        }
        300..=399 => Err(ConnectorFailure::redirect(target, status, location)),
        _ => {
            let error = twilio_error(body);
            let parts = error
                .as_ref()
                .map(|e| (e.code, e.message.as_deref(), e.more_info.as_deref()));
            Err(ConnectorFailure::lookup_status(target, status, parts, body))
        }
    }
}

/// Twilio's error JSON: `{ code, message, more_info, status }`.
#[derive(Debug, Default, PartialEq)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

/// The body as Twilio's error JSON, when it is a JSON object with a code or a message.
fn twilio_error(body: &str) -> Option<TwilioError> {
    let Ok(Value::Object(error)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    let text = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
    let error = TwilioError {
        code: error.get("code").and_then(Value::as_i64),
        message: text("message"),
        more_info: text("more_info"),
    };
    (error.code.is_some() || error.message.is_some()).then_some(error)
}

/// A 2xx body as a phone number resource with `sms_pumping_risk`, or what it is instead.
fn parse_answer(body: &str) -> Result<PumpingRisk, &'static str> {
    if body.trim().is_empty() {
        return Err("an empty body");
    }
    let resource = match serde_json::from_str::<Value>(body) {
        Err(_) => return Err("a body that is not JSON"),
        Ok(Value::Object(resource)) => resource,
        Ok(_) => return Err("JSON that is not an object"),
    };
    let phone_number = optional(&resource, "phone_number", Value::as_str)
        .map_err(|()| "a phone_number that is not a string")?
        .map(str::to_owned);
    let valid = optional(&resource, "valid", Value::as_bool)
        .map_err(|()| "a valid that is not a boolean")?;
    let sms_pumping_risk = match resource.get("sms_pumping_risk") {
        None => return Err("no sms_pumping_risk field"),
        Some(Value::Null) => None,
        Some(Value::Object(risk)) => Some(parse_risk(risk)?),
        Some(_) => return Err("an sms_pumping_risk that is not an object"),
    };
    Ok(PumpingRisk {
        phone_number,
        valid,
        sms_pumping_risk,
    })
}

fn parse_risk(risk: &Map<String, Value>) -> Result<SmsPumpingRisk, &'static str> {
    let score = optional(risk, "sms_pumping_risk_score", Value::as_u64)
        .map_err(|()| "an sms_pumping_risk_score that is not an integer from 0 to 100")?;
    let sms_pumping_risk_score = match score {
        None => None,
        Some(score @ 0..=100) => Some(score as u8),
        Some(_) => return Err("an sms_pumping_risk_score that is not an integer from 0 to 100"),
    };
    let parsed = SmsPumpingRisk {
        carrier_risk_category: optional(risk, "carrier_risk_category", Value::as_str)
            .map_err(|()| "a carrier_risk_category that is not a string")?
            .map(str::to_owned),
        number_blocked: optional(risk, "number_blocked", Value::as_bool)
            .map_err(|()| "a number_blocked that is not a boolean")?,
        number_blocked_date: optional(risk, "number_blocked_date", Value::as_str)
            .map_err(|()| "a number_blocked_date that is not a string")?
            .map(str::to_owned),
        number_blocked_last_3_months: optional(
            risk,
            "number_blocked_last_3_months",
            Value::as_bool,
        )
        .map_err(|()| "a number_blocked_last_3_months that is not a boolean")?,
        sms_pumping_risk_score,
        error_code: optional(risk, "error_code", Value::as_i64)
            .map_err(|()| "an error_code that is not an integer")?,
    };
    // An answer without an error must carry what the decision reads: an empty object, or
    // another package's fields, is not Lookup's answer.
    if parsed.error_code.is_none()
        && (parsed.sms_pumping_risk_score.is_none() || parsed.number_blocked.is_none())
    {
        return Err("an sms_pumping_risk without a score or number_blocked and no error_code");
    }
    Ok(parsed)
}

/// A field that may be absent or `null`; `Err` when present with another type.
fn optional<'v, T>(
    object: &'v Map<String, Value>,
    name: &str,
    read: impl Fn(&'v Value) -> Option<T>,
) -> Result<Option<T>, ()> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => read(value).map(Some).ok_or(()),
    }
}

/// Lookup's answers, each kept for the TTL its caller gave, at most `capacity` of them: when
/// full, the expired go first, then the oldest. Only successful answers go in (the rule of
/// [`cached_sms_pumping_risk`]). For one process; the send path shares answers across
/// replicas through its own store.
///
/// The TTL is per answer, so a config whose TTL changes needs no new cache. Insertion order
/// is a queue; expiry order is not, so the expired are found by a sweep, run only when the
/// cache is full and the earliest expiry it knows of has passed.
pub struct RiskCache {
    capacity: usize,
    inner: Mutex<CacheInner>,
}

/// The longest an answer is kept, whatever the caller asks: a year.
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

struct CacheInner {
    entries: HashMap<LookupKey, CacheEntry>,
    /// Insertion order: `(serial, key)`; an entry replaced later has a newer serial, and its
    /// old place is skipped.
    order: VecDeque<(u64, LookupKey)>,
    next_serial: u64,
    /// No entry expires before this (a lower bound: evictions may leave it early).
    earliest_expiry: Option<Instant>,
}

struct CacheEntry {
    risk: PumpingRisk,
    expires: Instant,
    serial: u64,
}

impl RiskCache {
    /// A cache of at most `capacity` answers (at least one).
    pub fn new(capacity: usize) -> Self {
        RiskCache {
            capacity: capacity.max(1),
            inner: Mutex::new(CacheInner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                next_serial: 0,
                earliest_expiry: None,
            }),
        }
    }

    /// The answer cached for `key`, unless it expired by `now`.
    pub fn get(&self, key: &LookupKey, now: Instant) -> Option<PumpingRisk> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .entries
            .get(key)
            .filter(|entry| entry.expires > now)
            .map(|entry| entry.risk.clone())
    }

    /// Caches `risk` for `key` from `now` for `ttl`, evicting the expired, then the oldest,
    /// to stay within the capacity.
    pub fn insert(&self, key: LookupKey, risk: PumpingRisk, ttl: Duration, now: Instant) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *inner;
        let serial = inner.next_serial;
        inner.next_serial += 1;
        // Clamped: `Instant + Duration` panics past the clock's range.
        let expires = now + ttl.min(MAX_TTL);
        inner.earliest_expiry = Some(inner.earliest_expiry.map_or(expires, |e| e.min(expires)));
        let entry = CacheEntry {
            risk,
            expires,
            serial,
        };
        inner.entries.insert(key.clone(), entry);
        inner.order.push_back((serial, key));
        if inner.entries.len() > self.capacity && inner.earliest_expiry.is_some_and(|e| e <= now) {
            inner.entries.retain(|_, entry| entry.expires > now);
            inner.earliest_expiry = inner.entries.values().map(|entry| entry.expires).min();
        }
        while inner.entries.len() > self.capacity {
            // Every entry has its place in the queue, so this ends with the capacity met.
            let Some((serial, key)) = inner.order.pop_front() else {
                break;
            };
            // A replaced or swept entry's old place holds nothing to evict.
            if inner.entries.get(&key).is_some_and(|e| e.serial == serial) {
                inner.entries.remove(&key);
            }
        }
        // Replacements and sweeps leave old places behind; bound them too.
        if inner.order.len() > 2 * self.capacity {
            let entries = &inner.entries;
            inner
                .order
                .retain(|(serial, key)| entries.get(key).is_some_and(|e| e.serial == *serial));
        }
    }

    /// How many answers are held (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fixture::config;
    use crate::error::{ConnectorErrorCode, ErrorKind};
    use serde_json::json;

    /// Twilio's `fetchSmsPumpingRisk` example (twilio_lookups_v2.json), with `risk` as its
    /// `sms_pumping_risk`.
    fn resource(risk: Value) -> String {
        json!({
            "calling_country_code": "1",
            "country_code": "US",
            "phone_number": "+14159929960",
            "national_format": "(415) 992-9960",
            "valid": true,
            "validation_errors": [],
            "caller_name": null,
            "sim_swap": null,
            "call_forwarding": null,
            "line_status": null,
            "line_type_intelligence": null,
            "identity_match": null,
            "reassigned_number": null,
            "sms_pumping_risk": risk,
            "phone_number_quality_score": null,
            "pre_fill": null,
            "url": "https://lookups.twilio.com/v2/PhoneNumbers/+14159929960"
        })
        .to_string()
    }

    fn example_risk() -> Value {
        json!({
            "carrier_risk_category": "moderate",
            "number_blocked": false,
            "number_blocked_date": null,
            "number_blocked_last_3_months": null,
            "sms_pumping_risk_score": 61,
            "error_code": null
        })
    }

    fn parsed(body: &str) -> PumpingRisk {
        classify(200, None, body, "https://lookups.twilio.com").unwrap()
    }

    #[test]
    fn reads_twilios_example_answer() {
        let risk = parsed(&resource(example_risk()));
        assert_eq!(
            risk,
            PumpingRisk {
                phone_number: Some("+14159929960".into()),
                valid: Some(true),
                sms_pumping_risk: Some(SmsPumpingRisk {
                    carrier_risk_category: Some("moderate".into()),
                    number_blocked: Some(false),
                    number_blocked_date: None,
                    number_blocked_last_3_months: None,
                    sms_pumping_risk_score: Some(61),
                    error_code: None,
                }),
            }
        );
        assert!(!risk.unknown());
        assert_eq!(
            risk.refuses(60, true),
            Some(Reason::ScoreAbove {
                score: 61,
                max_score: 60
            })
        );
        assert_eq!(risk.refuses(61, true), None);
    }

    #[test]
    fn reads_a_blocked_number() {
        let risk = parsed(&resource(json!({
            "carrier_risk_category": "high",
            "number_blocked": true,
            "number_blocked_date": "2024-03-01T17:20:05Z",
            "number_blocked_last_3_months": true,
            "sms_pumping_risk_score": 100,
            "error_code": null
        })));
        let info = risk.sms_pumping_risk.as_ref().unwrap();
        assert_eq!(
            info.number_blocked_date.as_deref(),
            Some("2024-03-01T17:20:05Z")
        );
        assert_eq!(info.number_blocked_last_3_months, Some(true));
        assert_eq!(
            risk.refuses(100, true),
            Some(Reason::NumberBlocked {
                since: Some("2024-03-01T17:20:05Z".into())
            })
        );
        // Blocked but allowed by the caller: the score still decides.
        assert_eq!(risk.refuses(100, false), None);
        assert_eq!(
            risk.refuses(99, false),
            Some(Reason::ScoreAbove {
                score: 100,
                max_score: 99
            })
        );
    }

    #[test]
    fn a_null_package_or_an_error_code_is_unknown_not_a_refusal() {
        // Twilio's `fetchInvalid` example: an invalid number, every package null.
        let invalid = json!({
            "calling_country_code": null, "country_code": null, "phone_number": "+141599299600",
            "national_format": null, "valid": false, "validation_errors": ["TOO_LONG"],
            "caller_name": null, "sim_swap": null, "call_forwarding": null, "line_status": null,
            "line_type_intelligence": null, "identity_match": null, "reassigned_number": null,
            "sms_pumping_risk": null, "phone_number_quality_score": null, "pre_fill": null,
            "url": "https://lookups.twilio.com/v2/PhoneNumbers/+141599299600"
        })
        .to_string();
        let risk = parsed(&invalid);
        assert_eq!(risk.valid, Some(false));
        assert_eq!(risk.sms_pumping_risk, None);
        assert!(risk.unknown());
        assert_eq!(risk.refuses(0, true), None);
        // The package failed and says why; the other fields may then be null.
        let risk = parsed(&resource(json!({
            "carrier_risk_category": null, "number_blocked": null, "number_blocked_date": null,
            "number_blocked_last_3_months": null, "sms_pumping_risk_score": null,
            "error_code": 60606
        })));
        assert_eq!(
            risk.sms_pumping_risk.as_ref().unwrap().error_code,
            Some(60606)
        );
        assert!(risk.unknown());
        assert_eq!(risk.refuses(0, true), None);
        // A score of 0 is known and refuses nothing, even with max 0.
        let mut zero = example_risk();
        zero["sms_pumping_risk_score"] = json!(0);
        let risk = parsed(&resource(zero));
        assert!(!risk.unknown());
        assert_eq!(risk.refuses(0, true), None);
    }

    #[test]
    fn anything_else_in_a_2xx_is_not_lookups_answer() {
        let with = |field: &str, value: Value| {
            let mut risk = example_risk();
            risk[field] = value;
            resource(risk)
        };
        let mut no_field: Value = serde_json::from_str(&resource(example_risk())).unwrap();
        no_field.as_object_mut().unwrap().remove("sms_pumping_risk");
        for (body, what) in [
            (String::new(), "an empty body"),
            ("<html>portal</html>".into(), "a body that is not JSON"),
            ("[]".into(), "JSON that is not an object"),
            (no_field.to_string(), "no sms_pumping_risk field"),
            (r#"{"sid":"SM1"}"#.into(), "no sms_pumping_risk field"),
            (
                resource(json!(61)),
                "an sms_pumping_risk that is not an object",
            ),
            (resource(json!({})), "an sms_pumping_risk without a score"),
            (
                with("sms_pumping_risk_score", json!(101)),
                "an sms_pumping_risk_score that is not",
            ),
            (
                with("sms_pumping_risk_score", json!(-1)),
                "an sms_pumping_risk_score that is not",
            ),
            (
                with("sms_pumping_risk_score", json!(6.5)),
                "an sms_pumping_risk_score that is not",
            ),
            (
                with("sms_pumping_risk_score", json!("61")),
                "an sms_pumping_risk_score that is not",
            ),
            (
                with("sms_pumping_risk_score", Value::Null),
                "an sms_pumping_risk without a score",
            ),
            (
                with("number_blocked", json!("no")),
                "a number_blocked that is not a boolean",
            ),
            (
                with("number_blocked", Value::Null),
                "an sms_pumping_risk without a score",
            ),
            (
                with("number_blocked_date", json!(1)),
                "a number_blocked_date that is not",
            ),
            (
                with("number_blocked_last_3_months", json!(0)),
                "a number_blocked_last_3_months",
            ),
            (
                with("carrier_risk_category", json!(2)),
                "a carrier_risk_category that is not",
            ),
            (
                with("error_code", json!("60606")),
                "an error_code that is not an integer",
            ),
        ] {
            let err = classify(200, None, &body, "https://h").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LookupAnswer, "{body}");
            assert_eq!(err.code(), ConnectorErrorCode::General);
            assert!(
                err.message().starts_with(&format!(
                    "Twilio Lookup at https://h answered HTTP 200 with {what}"
                )),
                "{body}: {}",
                err.message()
            );
        }
    }

    #[test]
    fn error_statuses_name_twilios_code_and_message() {
        let body = json!({
            "code": 20404,
            "message": "The requested resource /v2/PhoneNumbers/abc was not found",
            "more_info": "https://www.twilio.com/docs/errors/20404",
            "status": 404
        })
        .to_string();
        let err = classify(404, None, &body, "https://h").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LookupStatus(404));
        assert_eq!(err.code(), ConnectorErrorCode::General);
        assert_eq!(
            err.message(),
            "Twilio Lookup at https://h answered HTTP 404 with Twilio error 20404: The requested \
             resource /v2/PhoneNumbers/abc was not found (https://www.twilio.com/docs/errors/20404)"
        );
        for (status, body, expected) in [
            (401, r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#,
             "HTTP 401 with Twilio error 20003: Authenticate (https://www.twilio.com/docs/errors/20003): check accountSID"),
            (429, r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
             "HTTP 429 with Twilio error 20429: Too Many Requests: Lookup's rate limit"),
            (500, "", "HTTP 500 with an empty body"),
            (502, "<html>bad gateway</html>", "HTTP 502 with a body that is not Twilio's error JSON: <html>bad gateway</html>"),
        ] {
            let err = classify(status, None, body, "https://h").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LookupStatus(status));
            // A throttled Lookup is not a throttled send: the policy decides, Logto sees general.
            assert_eq!(err.code(), ConnectorErrorCode::General);
            assert!(err.message().contains(expected), "{}", err.message());
        }
        let err = classify(301, Some("https://elsewhere"), "", "https://h").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert!(err.message().contains("https://elsewhere"));
    }

    #[test]
    fn lookup_goes_to_the_configured_hosts_region() {
        for (host, origin) in [
            ("api.twilio.com", "https://lookups.twilio.com"),
            ("api.us1.twilio.com", "https://lookups.twilio.com"),
            ("api.ashburn.us1.twilio.com", "https://lookups.twilio.com"),
            (
                "api.dublin.ie1.twilio.com",
                "https://lookups.dublin.ie1.twilio.com",
            ),
        ] {
            assert_eq!(lookup_origin(host).unwrap(), origin, "{host}");
            let request = LookupRequest::new(
                &config(json!({ "host": host })),
                &SendOptions::default(),
                "+447700900123",
            )
            .unwrap();
            assert_eq!(
                request.url,
                format!("{origin}/v2/PhoneNumbers/+447700900123?Fields=sms_pumping_risk")
            );
        }
        let err = LookupRequest::new(
            &config(json!({ "host": "api.sydney.au1.twilio.com" })),
            &SendOptions::default(),
            "+61491570006",
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LookupUnavailable);
        assert_eq!(err.code(), ConnectorErrorCode::InvalidConfig);
        assert!(err.message().contains("AU1"), "{}", err.message());
    }

    #[test]
    fn the_request_carries_the_configured_credential_and_only_an_e164_number() {
        let options = SendOptions {
            base_url: Some("http://127.0.0.1:9".into()),
            ..SendOptions::default()
        };
        let request = LookupRequest::new(&config(json!({})), &options, "+15551234567").unwrap();
        assert_eq!(
            request.url,
            "http://127.0.0.1:9/v2/PhoneNumbers/+15551234567?Fields=sms_pumping_risk"
        );
        assert_eq!(
            request.authorization.expose(),
            "Basic QUMwMTIzOnNlY3JldC10b2tlbi14eXo="
        );
        assert!(!format!("{request:?}").contains("secret-token-xyz"));
        assert!(!format!("{request:?}").contains("QUMw"));
        let keyed = config(json!({ "apiKeySID": "SK1", "apiKeySecret": "key-secret-abc" }));
        let request = LookupRequest::new(&keyed, &options, "+15551234567").unwrap();
        assert_eq!(request.key().user, "SK1");
        // Both secrets stay out of any error, the unused token too.
        let leaky = ConnectorFailure::new(ErrorKind::Transport, "key-secret-abc secret-token-xyz");
        let redacted = request.redact(leaky);
        assert!(
            !redacted.message().contains("secret"),
            "{}",
            redacted.message()
        );
        for number in [
            "",
            "+",
            "15551234567",
            "+1555123456789012",
            "+1 555",
            "+1/../x",
            "+１",
        ] {
            let err = LookupRequest::new(&config(json!({})), &options, number).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{number:?}");
        }
    }

    fn key(number: &str) -> LookupKey {
        LookupKey {
            origin: LOOKUP_ORIGIN.into(),
            user: "AC0123".into(),
            number: number.into(),
        }
    }

    fn scored(score: u8) -> PumpingRisk {
        PumpingRisk {
            phone_number: None,
            valid: Some(true),
            sms_pumping_risk: Some(SmsPumpingRisk {
                carrier_risk_category: None,
                number_blocked: Some(false),
                number_blocked_date: None,
                number_blocked_last_3_months: None,
                sms_pumping_risk_score: Some(score),
                error_code: None,
            }),
        }
    }

    #[test]
    fn the_cache_keeps_answers_for_their_ttl() {
        let cache = RiskCache::new(10);
        let minute = Duration::from_secs(60);
        let t0 = Instant::now();
        assert_eq!(cache.get(&key("+1"), t0), None);
        cache.insert(key("+1"), scored(5), minute, t0);
        assert_eq!(
            cache.get(&key("+1"), t0 + Duration::from_secs(59)),
            Some(scored(5))
        );
        assert_eq!(cache.get(&key("+1"), t0 + minute), None);
        // Another credential or origin is another entry.
        let mut other = key("+1");
        other.user = "SK9".into();
        assert_eq!(cache.get(&other, t0), None);
        other = key("+1");
        other.origin = "https://lookups.dublin.ie1.twilio.com".into();
        assert_eq!(cache.get(&other, t0), None);
        // A replacement starts its own TTL.
        cache.insert(key("+1"), scored(7), minute, t0 + Duration::from_secs(30));
        assert_eq!(
            cache.get(&key("+1"), t0 + Duration::from_secs(80)),
            Some(scored(7))
        );
        assert_eq!(cache.len(), 1);
        // Each answer has the TTL it was given.
        cache.insert(key("+2"), scored(2), Duration::from_secs(5), t0);
        assert_eq!(
            cache.get(&key("+2"), t0 + Duration::from_secs(4)),
            Some(scored(2))
        );
        assert_eq!(cache.get(&key("+2"), t0 + Duration::from_secs(5)), None);
    }

    #[test]
    fn the_cache_evicts_the_expired_then_the_oldest() {
        let cache = RiskCache::new(3);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let ten = Duration::from_secs(10);
        cache.insert(key("+1"), scored(1), ten, at(0));
        cache.insert(key("+2"), scored(2), ten, at(5));
        cache.insert(key("+3"), scored(3), ten, at(6));
        // +1 has expired at 11: it goes, and nothing else does.
        cache.insert(key("+4"), scored(4), ten, at(11));
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&key("+2"), at(11)), Some(scored(2)));
        // Full, none expired: the oldest (+2) goes.
        cache.insert(key("+5"), scored(5), ten, at(12));
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&key("+2"), at(12)), None);
        for n in ["+3", "+4", "+5"] {
            assert!(cache.get(&key(n), at(12)).is_some(), "{n}");
        }
        // Refreshing +3 makes it the newest: +4 is now the oldest.
        cache.insert(key("+3"), scored(33), ten, at(13));
        cache.insert(key("+6"), scored(6), ten, at(13));
        assert_eq!(cache.get(&key("+4"), at(13)), None);
        assert_eq!(cache.get(&key("+3"), at(13)), Some(scored(33)));
        // Many refreshes of one key keep the queue bounded.
        for i in 0..1000 {
            cache.insert(key("+7"), scored(7), ten, at(14 + i));
        }
        assert!(cache.inner.lock().unwrap().order.len() <= 2 * 3);
        assert!(cache.len() <= 3);

        // A TTL past the clock's range is kept for MAX_TTL, not a panic.
        cache.insert(key("+8"), scored(8), Duration::MAX, at(0));
        assert!(cache
            .get(&key("+8"), at(0) + MAX_TTL - Duration::from_secs(1))
            .is_some());
        assert!(cache.get(&key("+8"), at(0) + MAX_TTL).is_none());

        let single = RiskCache::new(0);
        single.insert(key("+1"), scored(1), ten, at(0));
        single.insert(key("+2"), scored(2), ten, at(0));
        assert_eq!(single.len(), 1);
        assert_eq!(single.get(&key("+2"), at(0)), Some(scored(2)));
    }

    #[test]
    fn an_answer_with_a_short_ttl_expires_before_older_ones() {
        let cache = RiskCache::new(3);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let hour = Duration::from_secs(3600);
        cache.insert(key("+1"), scored(1), hour, at(0));
        cache.insert(key("+2"), scored(2), hour, at(1));
        cache.insert(key("+3"), scored(3), Duration::from_secs(5), at(2));
        // Full at 10 with +3 expired: +3 goes, not the oldest.
        cache.insert(key("+4"), scored(4), hour, at(10));
        assert_eq!(cache.len(), 3);
        for n in ["+1", "+2", "+4"] {
            assert!(cache.get(&key(n), at(10)).is_some(), "{n}");
        }
        // Full again, none expired: now the oldest, +1.
        cache.insert(key("+5"), scored(5), hour, at(11));
        assert_eq!(cache.get(&key("+1"), at(11)), None);
        assert!(cache.get(&key("+2"), at(11)).is_some());
        assert_eq!(cache.len(), 3);
    }
}
