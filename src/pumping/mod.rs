//! The SMS-pumping defence (`smsPumping`): velocity limits per client IP, number range and
//! country, and a daily segment budget, counted in this process or on a Redis every replica
//! shares, all checked before any request to Twilio. A send over any of them is refused and
//! logged; one that passes adds to every counter at once.

pub(crate) mod counters;
pub(crate) mod lookup;
pub(crate) mod mask;
pub(crate) mod policy;
pub(crate) mod redis_store;
pub(crate) mod report;
pub(crate) mod store;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;

use crate::config::Config;
use crate::error::ConnectorFailure;
use crate::twilio::SendOptions;
use counters::{Rule, Subject};
use policy::{OnFailure, SmsPumping, UNKNOWN_COUNTRY};
use store::{StoreError, Verdict};

/// One send as the defence sees it, built with the request (no I/O) and checked on the
/// runtime before the first attempt.
#[derive(Debug, Clone)]
pub struct Screening {
    policy: Arc<SmsPumping>,
    /// Keeps one account's counters apart from another's: a hash of its SID, so a shared
    /// Redis holds no account SID.
    scope: String,
    subject: Subject,
    segments: u64,
    /// Lookup's question about this number, when `riskScore` covers its country.
    lookup: Option<Arc<lookup::LookupRequest>>,
}

impl Screening {
    /// `None` without `smsPumping`. `to` is the number `To` carries.
    pub fn new(
        config: &Config,
        options: &SendOptions,
        to: &str,
        segments: usize,
    ) -> Result<Option<Screening>, ConnectorFailure> {
        let Some(policy) = config.sms_pumping.clone() else {
            return Ok(None);
        };
        let e164: String = std::iter::once('+')
            .chain(to.chars().filter(char::is_ascii_digit))
            .collect();
        let country = policy
            .needs_country()
            .then(|| crate::country::detect(&e164));
        let calling_code = country
            .as_ref()
            .and_then(|c| c.as_ref())
            .map(|c| c.calling_code);
        let country = country.map(|c| c.map_or_else(|| UNKNOWN_COUNTRY.to_owned(), |c| c.iso));
        let asks_lookup = policy
            .risk_score
            .as_ref()
            .is_some_and(|risk| risk.applies_to(country.as_deref().unwrap_or(UNKNOWN_COUNTRY)));
        let lookup = asks_lookup
            .then(|| lookup::LookupRequest::new(config, options, &e164).map(Arc::new))
            .transpose()?;
        Ok(Some(Screening {
            scope: scope(&config.account_sid),
            subject: Subject {
                e164,
                country,
                calling_code,
                ip: None,
            },
            segments: segments.max(1) as u64,
            lookup,
            policy,
        }))
    }

    /// The end user's address as Logto passes it (`::ffff:`-mapped IPv4 counted as IPv4);
    /// text that is no address counts as none.
    pub fn set_ip(&mut self, ip: Option<&str>) {
        self.subject.ip = ip
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical());
    }
}

fn scope(account_sid: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, account_sid.as_bytes());
    digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks and counts one send; `Err` refuses it. Never waits past `deadline`, and at most the
/// Redis budget of `options` on the counters. With a Lookup to ask, the velocity limits are
/// counted first (a Lookup costs money, so a send they refuse costs none), then Lookup, then
/// the daily budget (a send Lookup refuses spends none of it).
pub async fn admit(
    client: &reqwest::Client,
    screening: &Screening,
    options: &SendOptions,
    deadline: tokio::time::Instant,
) -> Result<(), ConnectorFailure> {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = elapsed.as_secs();
    let counters = counters::counters(
        &screening.policy,
        &screening.scope,
        &screening.subject,
        screening.segments,
        now,
    );
    let Some(lookup) = &screening.lookup else {
        return count(screening, &counters, options, deadline).await;
    };
    let (budgets, limits): (Vec<_>, Vec<_>) = counters
        .into_iter()
        .partition(|counter| !matches!(counter.rule, Rule::Limit { .. }));
    count(screening, &limits, options, deadline).await?;
    ask_lookup(client, screening, lookup, options, deadline).await?;
    count(screening, &budgets, options, deadline).await
}

/// Twilio Lookup's verdict on the recipient, from the cache when fresh.
async fn ask_lookup(
    client: &reqwest::Client,
    screening: &Screening,
    request: &lookup::LookupRequest,
    options: &SendOptions,
    deadline: tokio::time::Instant,
) -> Result<(), ConnectorFailure> {
    static CACHE: std::sync::LazyLock<lookup::RiskCache> =
        std::sync::LazyLock::new(|| lookup::RiskCache::new(RISK_CACHE_CAPACITY));
    let Some(policy) = &screening.policy.risk_score else {
        return Ok(());
    };
    let ttl = std::time::Duration::from_secs(policy.cache_seconds);
    // With Redis, every replica shares the answers (under a digest of the number); without it,
    // each process keeps its own.
    let shared = match &options.redis {
        Some(redis) => shared_store(redis, options, deadline).await.ok(),
        None => None,
    };
    let answer = match shared {
        None => lookup::cached_sms_pumping_risk(client, request, deadline, &CACHE, ttl).await,
        Some(store) => {
            let key = format!(
                "{}{{{}}}:lookup:{}",
                counters::KEY_PREFIX,
                screening.scope,
                request.key().digest()
            );
            let cached = store.cached(&key, redis_budget(options, deadline)).await;
            match cached.and_then(|text| lookup::PumpingRisk::from_cache_json(&text)) {
                Some(risk) => Ok(risk),
                None => {
                    let answer = lookup::sms_pumping_risk(client, request, deadline).await;
                    if let Some(risk) = answer
                        .as_ref()
                        .ok()
                        .filter(|risk| risk.cacheable() && policy.cache_seconds > 0)
                    {
                        let json = risk.to_cache_json();
                        let budget = redis_budget(options, deadline);
                        store.cache(&key, &json, policy.cache_seconds, budget).await;
                    }
                    answer
                }
            }
        }
    };
    let subject = screening.subject.with_country();
    let masked = subject.masked_number();
    let unknown = |reason: String| -> Result<(), ConnectorFailure> {
        // Lookup's own messages may quote the number whole.
        let digits = subject.e164.trim_start_matches('+');
        let reason = reason.replace(digits, &masked.replace('+', ""));
        report::risk_unknown(&subject, &reason, policy.on_error == OnFailure::Refuse);
        match policy.on_error {
            OnFailure::Allow => Ok(()),
            OnFailure::Refuse => Err(ConnectorFailure::risk_unknown(&masked, &reason)),
        }
    };
    match answer {
        Err(failure) => unknown(failure.into_message()),
        Ok(risk) => match risk.refuses(policy.max_score, policy.refuse_blocked) {
            Some(reason) => {
                let why = match &reason {
                    lookup::Reason::ScoreAbove { score, max_score } => {
                        format!("scores the SMS pumping risk {score} (the maximum is {max_score})")
                    }
                    lookup::Reason::NumberBlocked { .. } => {
                        "says Fraud Guard blocks the number".to_owned()
                    }
                };
                report::risk_refused(&subject, &reason);
                Err(ConnectorFailure::risk_too_high(&masked, &why))
            }
            None if risk.unknown() => {
                let code = risk
                    .sms_pumping_risk
                    .as_ref()
                    .and_then(|r| r.error_code)
                    .map_or_else(
                        || "no score in the answer".to_owned(),
                        |code| format!("error {code}"),
                    );
                unknown(code)
            }
            None => Ok(()),
        },
    }
}

/// Answers kept per process (each a few hundred bytes).
const RISK_CACHE_CAPACITY: usize = 10_000;

/// Checks and adds to `counters` in the store, all or nothing.
async fn count(
    screening: &Screening,
    counters: &[counters::Counter],
    options: &SendOptions,
    deadline: tokio::time::Instant,
) -> Result<(), ConnectorFailure> {
    if counters.is_empty() {
        return Ok(());
    }
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (now, now_ms) = (elapsed.as_secs(), elapsed.as_millis() as u64);
    let refuse = screening.policy.on_store_error == OnFailure::Refuse;
    let (decided, store_name): (Result<Verdict, StoreError>, String) = match &options.redis {
        None => (
            store::MEMORY.apply(counters, now_ms),
            "the in-process counters".to_owned(),
        ),
        Some(redis) => match shared_store(redis, options, deadline).await {
            Ok(store) => {
                let decided = store.apply(counters, redis_budget(options, deadline)).await;
                if let Some(health) = store.record(decided.is_ok()) {
                    let reason = decided.as_ref().err().map(|e| redact(&e.reason, redis));
                    report::store_health(&store.shown, health, reason.as_deref(), refuse);
                }
                (decided, store.shown.clone())
            }
            Err(error) => (Err(error), redis.shown.clone()),
        },
    };
    match decided {
        Ok(Verdict::Admitted) => Ok(()),
        Ok(Verdict::Refused { index, count }) => {
            let counter = &counters[index];
            report::refused(counter, count, &screening.subject.with_country(), now);
            Err(refusal(counter, count, now))
        }
        Err(_) if !refuse => Ok(()),
        Err(error) => {
            let reason = match &options.redis {
                Some(redis) => redact(&error.reason, redis),
                None => error.reason,
            };
            Err(ConnectorFailure::counter_store_unavailable(
                &store_name,
                &reason,
            ))
        }
    }
}

/// The wait a Redis call may take: the configured budget, within the send's deadline.
fn redis_budget(options: &SendOptions, deadline: tokio::time::Instant) -> std::time::Duration {
    options
        .redis_timeout
        .min(deadline.saturating_duration_since(tokio::time::Instant::now()))
}

/// The process's connection to `redis`, made on first use (`rediss://` trusting the CAs of
/// `NODE_EXTRA_CA_CERTS` when set).
async fn shared_store(
    redis: &crate::twilio::options::RedisUrl,
    options: &SendOptions,
    deadline: tokio::time::Instant,
) -> Result<Arc<redis_store::RedisStore>, StoreError> {
    let extra_roots = if redis.url.expose().starts_with("rediss:") {
        crate::transport::extra_root_certificates(deadline, options.timeout)
            .await
            .map_err(|failure| StoreError {
                reason: failure.into_message(),
            })?
    } else {
        Vec::new()
    };
    let pem = move || (!extra_roots.is_empty()).then(|| pem_bundle(&extra_roots));
    redis_store::store(&redis.url, &redis.shown, pem).map_err(|reason| StoreError { reason })
}

fn refusal(counter: &counters::Counter, count: u64, now: u64) -> ConnectorFailure {
    let rule = report::rule_path(&counter.rule);
    let resets_in = counter.resets_at.saturating_sub(now);
    match &counter.rule {
        Rule::Limit {
            by,
            window_seconds,
            subject,
            ..
        } => ConnectorFailure::send_limit_reached(
            &rule,
            counter.max,
            *window_seconds,
            &format!("{} {subject}", by_words(*by)),
            resets_in,
        ),
        Rule::DailyTotal => ConnectorFailure::daily_segments_spent(
            &rule,
            "in total",
            counter.max,
            count,
            counter.add,
            resets_in,
        ),
        Rule::DailyCountry(country) => ConnectorFailure::daily_segments_spent(
            &rule,
            &format!("to {country}"),
            counter.max,
            count,
            counter.add,
            resets_in,
        ),
    }
}

fn by_words(by: policy::By) -> &'static str {
    match by {
        policy::By::Ip { .. } => "the client network",
        policy::By::NumberRange { .. } => "the number range",
        policy::By::Country => "the country",
    }
}

/// The store's errors never carry the URL's password; this makes sure.
fn redact(reason: &str, redis: &crate::twilio::options::RedisUrl) -> String {
    let secrets: Vec<String> = reqwest::Url::parse(redis.url.expose())
        .ok()
        .map(|url| {
            [
                url.password().map(str::to_owned),
                Some(url.username().to_owned()),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect()
        })
        .unwrap_or_default();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    crate::redact::redact(reason, &secrets)
}

fn pem_bundle(certs: &[rustls_pki_types::CertificateDer<'static>]) -> Vec<u8> {
    let mut pem = String::new();
    for cert in certs {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let encoded = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}
