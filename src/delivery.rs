//! Delivery policy: how many requests one Twilio account has in flight, and when a failed
//! attempt may be tried again.
//!
//! Twilio caps the concurrent REST requests of an account and answers the excess with HTTP 429
//! (error 20429), stating those requests were not processed. So a 429, and a connection that
//! failed before the request was written, are the only outcomes retried: anything else may
//! have sent an SMS, and a verification code must never be sent twice by us.
//!
//! A 429 is retried until the send's deadline leaves no room for another wait, however many
//! it takes: the account's limit is shared with other processes, so a burst may take several
//! rounds to drain, and each retry is safe. The in-flight limit adapts to the 429s
//! (`limiter`), so the retries do not keep the account overloaded.

mod limiter;
mod limiters;

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::error::{ConnectorFailure, Waiting};

pub use limiter::Limiter;
pub use limiters::{limiter, CredentialKey};

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What one attempt ended with, as far as retrying is concerned.
pub enum Attempt<T> {
    Done(Result<T, ConnectorFailure>),
    /// No request was written (the connection failed): retried at most `max_retries` times.
    NotSent {
        failure: ConnectorFailure,
        retry_after: Option<Duration>,
    },
    /// Twilio answered 429, did not process the request, and asks to slow down: retried until
    /// the deadline; `retry_after` is the server's wish, honoured as a floor.
    Throttled {
        failure: ConnectorFailure,
        retry_after: Option<Duration>,
    },
}

/// Where a send is, so a timeout can say what it was waiting for: the `Waiting` it is in, held
/// as its discriminant so the attempts can update it while the caller's timeout reads it.
pub struct Phase(AtomicU8);

impl Default for Phase {
    /// A send starts waiting for a slot.
    fn default() -> Self {
        Phase(AtomicU8::new(Waiting::Slot as u8))
    }
}

impl Phase {
    fn set(&self, waiting: Waiting) {
        self.0.store(waiting as u8, Ordering::Relaxed);
    }

    pub fn waiting(&self) -> Waiting {
        const SLOT: u8 = Waiting::Slot as u8;
        const BACKOFF: u8 = Waiting::Backoff as u8;
        match self.0.load(Ordering::Relaxed) {
            SLOT => Waiting::Slot,
            BACKOFF => Waiting::Backoff,
            _ => Waiting::Answer,
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
    limiter: &Limiter,
    policy: Policy,
    phase: &Phase,
    mut attempt: F,
) -> Result<T, ConnectorFailure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt<T>>,
{
    // One place in line for the whole send: a retry goes back in before later arrivals.
    let place = limiter.enqueue();
    let mut slot = limiter.admit(place).await;
    // How many times this send backed off (the backoff grows with it), and how many of those
    // were for a connection failure (bounded by `max_retries`).
    let (mut retries, mut unwritten) = (0, 0);
    loop {
        phase.set(Waiting::Answer);
        let (failure, retry_after) = match attempt().await {
            Attempt::Done(Ok(delivered)) => {
                slot.delivered();
                return Ok(delivered);
            }
            Attempt::Done(Err(failure)) => return Err(failure),
            Attempt::NotSent {
                failure,
                retry_after,
            } => {
                if unwritten >= policy.max_retries {
                    return Err(failure);
                }
                unwritten += 1;
                drop(slot);
                (failure, retry_after)
            }
            Attempt::Throttled {
                failure,
                retry_after,
            } => {
                slot.throttled();
                (failure, retry_after)
            }
        };
        // The slot is given back while this send sleeps (see `limiter`): `failure` is what
        // the caller gets if the deadline leaves no room to try again.
        let wait = backoff(retries, retry_after);
        retries += 1;
        // Sleeping past the deadline only to time out would waste the caller's time: answer
        // now. A wait too large to add to a clock (a hostile Retry-After) is past it too.
        if Instant::now()
            .checked_add(wait)
            .is_none_or(|wake| wake >= policy.deadline)
        {
            return Err(failure);
        }
        phase.set(Waiting::Backoff);
        tokio::time::sleep(wait).await;
        phase.set(Waiting::Slot);
        slot = match tokio::time::timeout_at(policy.deadline, limiter.admit(place)).await {
            Ok(slot) => slot,
            // Still no room at the deadline: Twilio's refusal is the reason, not the queue.
            Err(_) => return Err(failure),
        };
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

/// `Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3). A value too
/// large to represent means "much later than any deadline", not an error; the caller compares
/// it with the deadline without overflowing.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    // All three forms RFC 9110 asks a recipient to accept (IMF-fixdate, RFC 850, asctime), for
    // years up to 9999: a later one is not a date, and the 429 gets the plain backoff.
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ConnectorErrorCode, ErrorKind};
    use std::sync::Arc;

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
        // The two obsolete forms a recipient must accept too.
        for obsolete in ["Sunday, 06-Nov-94 08:49:40 GMT", "Sun Nov  6 08:49:40 1994"] {
            assert_eq!(
                parse_retry_after(obsolete, now),
                Some(Duration::from_secs(3)),
                "{obsolete}"
            );
        }
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

    fn refused() -> ConnectorFailure {
        ConnectorFailure::new(ErrorKind::Transport, "could not connect")
    }

    fn too_many() -> ConnectorFailure {
        ConnectorFailure::new(ErrorKind::TwilioStatus(429), "429")
    }

    /// Tokio's timers round a wake-up to the next millisecond, so a sleep that ends before the
    /// deadline can wake up to a millisecond after it, paused clock or not.
    const TIMER_TICK: Duration = Duration::from_millis(1);

    fn policy(deadline: Duration, max_retries: u32) -> Policy {
        Policy {
            deadline: Instant::now() + deadline,
            max_retries,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn connection_failures_stop_at_the_budget_other_failures_at_once() {
        let limiter = Limiter::new(1);
        let phase = Phase::default();
        let mut calls = 0;
        let outcome: Result<(), _> =
            run(&limiter, policy(Duration::from_secs(30), 2), &phase, || {
                calls += 1;
                async {
                    Attempt::NotSent {
                        failure: refused(),
                        retry_after: None,
                    }
                }
            })
            .await;
        assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Transport);
        assert_eq!(calls, 3);

        let mut calls = 0;
        let outcome: Result<(), _> =
            run(&limiter, policy(Duration::from_secs(30), 2), &phase, || {
                calls += 1;
                async {
                    Attempt::Done(Err(ConnectorFailure::new(
                        ErrorKind::TwilioStatus(500),
                        "500",
                    )))
                }
            })
            .await;
        assert_eq!(outcome.unwrap_err().code(), ConnectorErrorCode::General);
        assert_eq!(calls, 1);
        assert_eq!(limiter.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_is_retried_until_the_deadline_whatever_max_retries_says() {
        let limiter = Limiter::new(50);
        let started = Instant::now();
        let deadline = Duration::from_secs(10);
        let mut calls = 0;
        let outcome: Result<(), _> = run(&limiter, policy(deadline, 0), &Phase::default(), || {
            calls += 1;
            async {
                Attempt::Throttled {
                    failure: too_many(),
                    retry_after: None,
                }
            }
        })
        .await;
        assert_eq!(
            outcome.unwrap_err().code(),
            ConnectorErrorCode::RateLimitExceeded
        );
        // Backoffs of at most 0.2, 0.4, 0.8, 1.6 and 3.2 s fit in 10 s: at least six tries.
        assert!(calls >= 6, "{calls} attempts");
        assert!(
            started.elapsed() < deadline + TIMER_TICK,
            "slept past the deadline"
        );
        // Each refusal came in a new round, so each one cut the window, down to its floor.
        assert_eq!(limiter.window(), 1);

        // Then a delivery: the 429s were retried, and the window grows back.
        let mut calls = 0;
        let outcome = run(&limiter, policy(deadline, 0), &Phase::default(), || {
            calls += 1;
            let answer = if calls < 3 {
                Attempt::Throttled {
                    failure: too_many(),
                    retry_after: None,
                }
            } else {
                Attempt::Done(Ok("delivered"))
            };
            async { answer }
        })
        .await;
        assert_eq!((outcome.unwrap(), calls), ("delivered", 3));
        assert_eq!(limiter.window(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_send_gives_its_slot_back_while_it_sleeps() {
        let limiter = Arc::new(Limiter::new(2));
        let sleeper = tokio::spawn({
            let limiter = limiter.clone();
            async move {
                let mut calls = 0;
                run(
                    &limiter,
                    policy(Duration::from_secs(10), 0),
                    &Phase::default(),
                    || {
                        calls += 1;
                        let answer = if calls == 1 {
                            Attempt::Throttled {
                                failure: too_many(),
                                retry_after: Some(Duration::from_secs(1)),
                            }
                        } else {
                            Attempt::Done(Ok(calls))
                        };
                        async { answer }
                    },
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!((limiter.in_flight(), limiter.window()), (0, 1));
        assert_eq!(sleeper.await.unwrap().unwrap(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_deadline_fails_at_once() {
        let limiter = Limiter::new(1);
        let started = Instant::now();
        let mut calls = 0;
        let outcome: Result<(), _> = run(
            &limiter,
            policy(Duration::from_secs(1), 5),
            &Phase::default(),
            || {
                calls += 1;
                async {
                    Attempt::Throttled {
                        failure: too_many(),
                        retry_after: Some(Duration::from_secs(60)),
                    }
                }
            },
        )
        .await;
        assert_eq!(
            outcome.unwrap_err().code(),
            ConnectorErrorCode::RateLimitExceeded
        );
        assert_eq!((calls, started.elapsed()), (1, Duration::ZERO));
    }

    /// Values a hostile or broken server may send. None may panic (overflowing `Instant +
    /// Duration` did), and each ends as Twilio's 429 within the deadline.
    #[tokio::test(start_paused = true)]
    async fn hostile_retry_after_values_never_panic() {
        let now = SystemTime::now();
        let far = Some(Duration::from_secs(u64::MAX));
        // 9999-12-31T23:59:59Z, the last second an HTTP-date can name (four-digit years).
        let until_9999 = (SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799))
            .duration_since(now)
            .unwrap();
        let table: [(&str, Option<Duration>); 12] = [
            ("18446744073709551615", far),
            ("18446744073709551616", far),
            ("99999999999999999999999999999999", far),
            (
                "9223372036854775807",
                Some(Duration::from_secs(i64::MAX as u64)),
            ),
            ("1e19", None),
            ("-1", None),
            ("0x10", None),
            ("NaN", None),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(until_9999)),
            ("Sat, 01 Jan 99999 00:00:00 GMT", None),
            ("Mon, 01 Jan 584554051223 00:00:00 GMT", None),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(Duration::ZERO)),
        ];
        for (value, expected) in table {
            let parsed = parse_retry_after(value, now);
            assert_eq!(parsed, expected, "{value}");
            let started = Instant::now();
            let limiter = Limiter::new(4);
            let outcome: Result<(), _> = run(
                &limiter,
                policy(Duration::from_secs(2), 3),
                &Phase::default(),
                || async move {
                    Attempt::Throttled {
                        failure: too_many(),
                        retry_after: parsed,
                    }
                },
            )
            .await;
            assert_eq!(
                outcome.unwrap_err().code(),
                ConnectorErrorCode::RateLimitExceeded,
                "{value}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(2) + TIMER_TICK,
                "{value}"
            );
            assert_eq!(limiter.in_flight(), 0);
        }
        assert!(backoff(u32::MAX, Some(Duration::MAX)) == Duration::MAX);
    }
}
