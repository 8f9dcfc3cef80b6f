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
use crate::transport;
use crate::twilio::request::{basic_authorization, path_segment_encode};
use crate::twilio::response::{header, read_capped};
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
        let proxy = transport::proxy_secrets();
        let secrets: Vec<&str> = self
            .secrets
            .iter()
            .chain(&proxy)
            .map(Secret::expose)
            .collect();
        failure.redacted(&secrets)
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
    /// `low`, `mild`, `moderate` or `high` (kept as Twilio's text: the set may grow).
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
/// successful answer is cached (failures never are).
pub async fn cached_sms_pumping_risk(
    client: &reqwest::Client,
    request: &LookupRequest,
    deadline: Instant,
    cache: &RiskCache,
) -> Result<PumpingRisk, ConnectorFailure> {
    if let Some(risk) = cache.get(request.key(), Instant::now()) {
        return Ok(risk);
    }
    let risk = sms_pumping_risk(client, request, deadline).await?;
    cache.insert(request.key().clone(), risk.clone(), Instant::now());
    Ok(risk)
}

async fn exchange(
    client: &reqwest::Client,
    request: &LookupRequest,
) -> Result<PumpingRisk, ConnectorFailure> {
    let response = client
        .get(&request.url)
        .header(
            reqwest::header::AUTHORIZATION,
            request.authorization.expose(),
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| ConnectorFailure::transport(&request.origin, &err))?;
    let status = response.status().as_u16();
    let location = header(&response, reqwest::header::LOCATION);
    let body = read_capped(response, &request.origin).await?;
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

/// Lookup's answers, kept `ttl` each, at most `capacity` of them: when full, the expired go
/// first, then the oldest. One TTL for every entry makes insertion order expiry order, so both
/// are the front of one queue. Only successful answers go in (the callers' rule:
/// [`cached_sms_pumping_risk`]). For one process; the send path shares answers across
/// replicas through its own store.
pub struct RiskCache {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    entries: HashMap<LookupKey, CacheEntry>,
    /// Insertion order: `(serial, key)`; an entry replaced later has a newer serial, and its
    /// old place is skipped.
    order: VecDeque<(u64, LookupKey)>,
    next_serial: u64,
}

struct CacheEntry {
    risk: PumpingRisk,
    expires: Instant,
    serial: u64,
}

impl RiskCache {
    /// A cache keeping each answer `ttl`, at most `capacity` answers (at least one).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        RiskCache {
            ttl,
            capacity: capacity.max(1),
            inner: Mutex::new(CacheInner::default()),
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

    /// Caches `risk` for `key` from `now`, evicting the expired, then the oldest, to stay
    /// within the capacity.
    pub fn insert(&self, key: LookupKey, risk: PumpingRisk, now: Instant) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *inner;
        let serial = inner.next_serial;
        inner.next_serial += 1;
        let replaced = inner
            .entries
            .insert(
                key.clone(),
                CacheEntry {
                    risk,
                    expires: now + self.ttl,
                    serial,
                },
            )
            .is_some();
        inner.order.push_back((serial, key));
        // Expired entries first: they are the oldest, at the front.
        while let Some((serial, key)) = inner.order.front() {
            let current = inner.entries.get(key).filter(|e| e.serial == *serial);
            match current {
                // A replaced entry's old place: nothing to evict.
                None => {
                    inner.order.pop_front();
                }
                Some(entry) if entry.expires <= now => {
                    let (_, key) = inner.order.pop_front().expect("front exists");
                    inner.entries.remove(&key);
                }
                Some(_) if inner.entries.len() > self.capacity => {
                    let (_, key) = inner.order.pop_front().expect("front exists");
                    inner.entries.remove(&key);
                }
                Some(_) => break,
            }
        }
        // Replacements leave old places behind the front; bound them too.
        if replaced && inner.order.len() > 2 * self.capacity {
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
