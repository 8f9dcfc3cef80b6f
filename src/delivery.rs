//! Delivery policy: how many requests one Twilio account has in flight, and when a failed
//! attempt may be tried again.
//!
//! Twilio caps the concurrent REST requests of an account and answers the excess with HTTP 429
//! (error 20429), stating those requests were not processed. So a 429, and a connection that
//! failed before the request was written, are the only outcomes retried: anything else may
//! have sent an SMS, and a verification code must never be sent twice by us.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::error::{ConnectorFailure, ErrorCode};

/// Half of Twilio's common per-account limit of 100, leaving room for other clients of the
/// same account (a second Logto instance, a back-office tool).
pub const DEFAULT_MAX_CONCURRENCY: usize = 50;
pub const DEFAULT_MAX_RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The in-flight limit for one account on one host. Keyed with the limit itself, so an
/// embedder that asks for a different limit gets exactly what it asked for.
///
/// tokio's semaphore is fair: waiting sends are admitted in the order they arrived.
pub fn limiter(account_key: &str, max_concurrency: usize) -> Arc<Semaphore> {
    // Looked up by `&str`, so a send finds its account's limiter without allocating.
    type Limiters = HashMap<String, Vec<(usize, Arc<Semaphore>)>>;
    static LIMITERS: OnceLock<Mutex<Limiters>> = OnceLock::new();
    let mut limiters = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let known = limiters.get(account_key).and_then(|by_limit| {
        by_limit
            .iter()
            .find(|(limit, _)| *limit == max_concurrency)
            .map(|(_, semaphore)| semaphore.clone())
    });
    known.unwrap_or_else(|| {
        let semaphore = Arc::new(Semaphore::new(max_concurrency));
        limiters
            .entry(account_key.to_owned())
            .or_default()
            .push((max_concurrency, semaphore.clone()));
        semaphore
    })
}

/// What one attempt ended with, as far as retrying is concerned.
pub enum Attempt<T> {
    Done(Result<T, ConnectorFailure>),
    /// Not processed by Twilio (429, or no request written); `retry_after` is the server's wish.
    Retriable {
        failure: ConnectorFailure,
        retry_after: Option<Duration>,
    },
}

/// Where a send is, so a timeout can say what it was waiting for.
#[derive(Default)]
pub struct Phase(AtomicU8);

impl Phase {
    const QUEUED: u8 = 0;
    const IN_FLIGHT: u8 = 1;
    const BACKING_OFF: u8 = 2;

    fn set(&self, phase: u8) {
        self.0.store(phase, Ordering::Relaxed);
    }

    pub fn describe(&self) -> &'static str {
        match self.0.load(Ordering::Relaxed) {
            Self::QUEUED => {
                "waiting for a free request slot for this account (too many sends in flight)"
            }
            Self::BACKING_OFF => "backing off after Twilio asked to slow down",
            _ => "waiting for Twilio's answer",
        }
    }
}

pub struct Policy {
    pub deadline: Instant,
    pub max_retries: u32,
}

/// Runs `attempt` under the account's in-flight limit, retrying what is safe to retry, until
/// success, a final failure, the retry budget or the deadline. The caller bounds the whole
/// future by the same deadline; this only avoids sleeping past it.
pub async fn run<T, F, Fut>(
    limiter: &Semaphore,
    policy: Policy,
    phase: &Phase,
    mut attempt: F,
) -> Result<T, ConnectorFailure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt<T>>,
{
    // Held across retries: a request that is backing off keeps its place instead of going to
    // the back of the queue, and the account's load drops while it waits.
    let _permit = limiter.acquire().await.map_err(|_| {
        ConnectorFailure::new(ErrorCode::General, "the request limiter was shut down")
    })?;
    let mut retries = 0;
    loop {
        phase.set(Phase::IN_FLIGHT);
        let (failure, retry_after) = match attempt().await {
            Attempt::Done(outcome) => return outcome,
            Attempt::Retriable {
                failure,
                retry_after,
            } => (failure, retry_after),
        };
        if retries >= policy.max_retries {
            return Err(failure);
        }
        let wait = backoff(retries, retry_after);
        // Sleeping past the deadline only to time out would waste the caller's time: answer now.
        if Instant::now() + wait >= policy.deadline {
            return Err(failure);
        }
        phase.set(Phase::BACKING_OFF);
        tokio::time::sleep(wait).await;
        retries += 1;
    }
}

/// Exponential backoff with "equal jitter" (half fixed, half random), so a burst of 429s does
/// not come back as a synchronized burst. A `Retry-After` from the server is a floor.
pub fn backoff(retry: u32, retry_after: Option<Duration>) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1 << retry.min(16))
        .min(MAX_BACKOFF);
    let half = ceiling / 2;
    let jittered = half + half.mul_f64(random_unit());
    retry_after.map_or(jittered, |floor| floor.max(jittered))
}

/// A uniformly distributed number in [0, 1); `RandomState` is randomly seeded per process and
/// per call, which is all jitter needs.
fn random_unit() -> f64 {
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The IMF-fixdate form, `Sun, 06 Nov 1994 08:49:37 GMT`, which is what servers send.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = value.split_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" || parts.next().is_some() {
        return None;
    }
    let day: u64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if year < 1970 || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm), for years from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after(" 2 ", now), Some(Duration::from_secs(2)));
        // RFC 9110's own example date is 784111777 seconds after the epoch.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        for bad in ["", "soon", "-1", "1.5", "Sun, 06 Nov 1994 08:49:37 PST"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        for retry in 0..6 {
            let ceiling = (FIRST_BACKOFF * (1 << retry)).min(MAX_BACKOFF);
            let wait = backoff(retry, None);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{retry}: {wait:?}");
        }
        assert!(backoff(40, None) <= MAX_BACKOFF);
        assert!(backoff(0, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        let samples: std::collections::HashSet<_> = (0..20).map(|_| backoff(3, None)).collect();
        assert!(samples.len() > 1, "no jitter");
    }

    #[tokio::test]
    async fn retries_only_what_is_retriable_and_stops_at_the_budget() {
        let limiter = Semaphore::new(1);
        let phase = Phase::default();
        let policy = || Policy {
            deadline: Instant::now() + Duration::from_secs(30),
            max_retries: 2,
        };
        let mut calls = 0;
        let outcome: Result<(), _> = run(&limiter, policy(), &phase, || {
            calls += 1;
            async {
                Attempt::Retriable {
                    failure: ConnectorFailure::new(ErrorCode::RateLimitExceeded, "429"),
                    retry_after: Some(Duration::from_millis(1)),
                }
            }
        })
        .await;
        assert_eq!(outcome.unwrap_err().code, ErrorCode::RateLimitExceeded);
        assert_eq!(calls, 3);

        let mut calls = 0;
        let outcome: Result<(), _> = run(&limiter, policy(), &phase, || {
            calls += 1;
            async { Attempt::Done(Err(ConnectorFailure::new(ErrorCode::General, "500"))) }
        })
        .await;
        assert_eq!(outcome.unwrap_err().code, ErrorCode::General);
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_fails_at_once() {
        let limiter = Semaphore::new(1);
        let started = Instant::now();
        let outcome: Result<(), _> = run(
            &limiter,
            Policy {
                deadline: started + Duration::from_secs(1),
                max_retries: 5,
            },
            &Phase::default(),
            || async {
                Attempt::Retriable {
                    failure: ConnectorFailure::new(ErrorCode::RateLimitExceeded, "429"),
                    retry_after: Some(Duration::from_secs(60)),
                }
            },
        )
        .await;
        assert!(outcome.is_err());
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn limiters_are_shared_per_account_and_limit() {
        let a = limiter("https://h AC1", 5);
        assert!(Arc::ptr_eq(&a, &limiter("https://h AC1", 5)));
        assert!(!Arc::ptr_eq(&a, &limiter("https://h AC2", 5)));
        assert_eq!(limiter("https://h AC1", 7).available_permits(), 7);
    }
}
