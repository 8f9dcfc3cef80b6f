//! The process's in-flight limiters: one per credential, host and ceiling, and never more idle
//! ones than [`CAPACITY`].
//!
//! **Keyed by the credential**, not by the account SID alone. Anyone can type an account SID
//! into a config; only the holder of a valid credential can make Twilio process a request. A
//! config with a victim's SID and a wrong token (another tenant's typo, or a hostile one) has
//! its own limiter: its 429s cannot halve the victim's window, its slow 401s cannot hold the
//! victim's slots, and its retries cannot take places in the victim's line. A 429 answered to
//! a credential still cuts that credential's window, shared by every send of the process that
//! uses it: the adaptation to the account's limit that `limiter` describes. Two valid
//! credentials of one account (the auth token and an API key) get two limiters: nothing tells
//! a valid credential from a wrong one before Twilio answers, so sharing by account would
//! share with the wrong ones too. They then behave like two replicas of one account: each
//! window adapts to the 429s it sees, and together they converge to shares of the account's
//! limit.
//!
//! The key is an HMAC-SHA256 of the origin, the account SID, the Basic user and its secret,
//! under a key drawn at random per process: 32 bytes whatever the config's strings, no
//! credential kept in clear, and two credentials share a limiter only by a collision of
//! 256-bit tags, out of reach by chance and unsteerable by anyone who lacks the key.
//!
//! **Bounded** without ever letting a credential exceed its ceiling. A limiter in use (a slot
//! taken, a send waiting, a send between two attempts) is never dropped: a fresh one for the
//! same key would admit a second `ceiling` of requests beside it. Every send holds its
//! limiter's `Arc` from before it takes its place in line until after it gives its last slot
//! back, and only this map hands new ones out, under its lock; so a limiter held only by the
//! map is idle. Idle limiters at rest (the window at its ceiling) go first: a fresh one
//! behaves the same. Then, while the map is over half its capacity, the least recently used
//! idle ones (windows a 429 cut) go: their next send starts again at the ceiling, and the
//! next 429 cuts it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ring::hmac;
use ring::rand::SystemRandom;

use super::Limiter;

/// Idle limiters kept at most. Busy ones are never dropped, so the map holds at most
/// `max(CAPACITY, 2 × busy)` limiters; each is a few hundred bytes.
const CAPACITY: usize = 1024;

/// Which limiter a request belongs to: a keyed hash of where it goes and what it
/// authenticates with. `Debug` shows nothing of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialKey([u8; 32]);

impl CredentialKey {
    /// `user` and `secret` are the Basic credential: the account SID and its auth token, or an
    /// API key SID and its secret.
    pub fn new(origin: &str, account_sid: &str, user: &str, secret: &str) -> CredentialKey {
        static KEY: OnceLock<hmac::Key> = OnceLock::new();
        let key = KEY.get_or_init(|| {
            hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
                // Without randomness it is still SHA-256: collisions stay out of reach.
                .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, b"limiter"))
        });
        let mut context = hmac::Context::with_key(key);
        for part in [origin, account_sid, user, secret] {
            // Length-prefixed, so no two lists of parts hash the same bytes.
            context.update(&(part.len() as u64).to_le_bytes());
            context.update(part.as_bytes());
        }
        let mut tag = [0; 32];
        tag.copy_from_slice(context.sign().as_ref());
        CredentialKey(tag)
    }
}

impl std::fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialKey(..)")
    }
}

/// The in-flight limit for one credential on one host, shared by every send of this process
/// that uses it. Keyed with the ceiling too, so an embedder that asks for a different limit
/// gets exactly what it asked for.
pub fn limiter(key: &CredentialKey, max_concurrency: usize) -> Arc<Limiter> {
    static LIMITERS: OnceLock<Mutex<Limiters>> = OnceLock::new();
    LIMITERS
        .get_or_init(|| Mutex::new(Limiters::new(CAPACITY)))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(key, max_concurrency)
}

type Id = (CredentialKey, usize);

struct Entry {
    limiter: Arc<Limiter>,
    /// When it was last handed out, on the map's own clock.
    used: u64,
}

impl Entry {
    /// Held by the map only: no slot, no waiter, no send between attempts (see the module
    /// docs), and none can appear while the map is locked.
    fn idle(&self) -> bool {
        Arc::strong_count(&self.limiter) == 1
    }
}

struct Limiters {
    capacity: usize,
    entries: HashMap<Id, Entry>,
    clock: u64,
    /// The size at which the next new key sweeps first: sweeping costs a pass over the map,
    /// so it waits until the map has doubled since the last one (or reached the capacity).
    sweep_at: usize,
}

impl Limiters {
    fn new(capacity: usize) -> Limiters {
        Limiters {
            capacity,
            entries: HashMap::new(),
            clock: 0,
            sweep_at: capacity,
        }
    }

    fn get(&mut self, key: &CredentialKey, ceiling: usize) -> Arc<Limiter> {
        self.clock += 1;
        let id = (*key, ceiling);
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.used = self.clock;
            return entry.limiter.clone();
        }
        if self.entries.len() >= self.sweep_at {
            self.sweep();
        }
        let limiter = Arc::new(Limiter::new(ceiling));
        let entry = Entry {
            limiter: limiter.clone(),
            used: self.clock,
        };
        self.entries.insert(id, entry);
        limiter
    }

    /// Drops idle limiters at rest, then the least recently used idle ones while the map is
    /// over half its capacity. Never a busy one.
    fn sweep(&mut self) {
        self.entries
            .retain(|_, entry| !(entry.idle() && entry.limiter.at_rest()));
        let keep = self.capacity / 2;
        if self.entries.len() > keep {
            let mut idle: Vec<(u64, Id)> = self
                .entries
                .iter()
                .filter(|(_, entry)| entry.idle())
                .map(|(id, entry)| (entry.used, *id))
                .collect();
            idle.sort_unstable_by_key(|&(used, _)| used);
            let excess = self.entries.len() - keep;
            for (_, id) in idle.into_iter().take(excess) {
                self.entries.remove(&id);
            }
        }
        self.sweep_at = self.capacity.max(2 * self.entries.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn key(account_sid: &str, secret: &str) -> CredentialKey {
        CredentialKey::new("https://h", account_sid, account_sid, secret)
    }

    fn poll<F: Future>(future: &mut std::pin::Pin<&mut F>) -> Option<F::Output> {
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => Some(value),
            Poll::Pending => None,
        }
    }

    #[test]
    fn limiters_are_shared_per_credential_and_limit() {
        let mut limiters = Limiters::new(CAPACITY);
        let a = limiters.get(&key("AC1", "token"), 5);
        assert!(Arc::ptr_eq(&a, &limiters.get(&key("AC1", "token"), 5)));
        assert!(!Arc::ptr_eq(&a, &limiters.get(&key("AC2", "token"), 5)));
        // The same account with another secret (a wrong token, or another valid credential).
        assert!(!Arc::ptr_eq(&a, &limiters.get(&key("AC1", "wrong"), 5)));
        let api_key = CredentialKey::new("https://h", "AC1", "SK1", "token");
        assert!(!Arc::ptr_eq(&a, &limiters.get(&api_key, 5)));
        let other_host = CredentialKey::new("https://g", "AC1", "AC1", "token");
        assert!(!Arc::ptr_eq(&a, &limiters.get(&other_host, 5)));
        assert_eq!(limiters.get(&key("AC1", "token"), 7).ceiling(), 7);
        // The parts are length-prefixed: moving a character across a boundary is another key.
        assert_ne!(
            key("AC1", "token"),
            CredentialKey::new("https://h", "AC1A", "C1", "token")
        );
        assert_eq!(format!("{:?}", key("AC1", "token")), "CredentialKey(..)");
    }

    #[test]
    fn the_map_stays_bounded_under_churn() {
        let mut limiters = Limiters::new(CAPACITY);
        for i in 0..8 * CAPACITY {
            // A SID of thousands of characters costs the map no more than a short one.
            let sid = format!("AC{i:0>5000}");
            let limiter = limiters.get(&key(&sid, "token"), 50);
            let slot = limiter.admit_now();
            // Every third one is answered 429: its window is cut, so it is not at rest.
            if i % 3 == 0 {
                slot.throttled();
            } else {
                slot.delivered();
            }
            assert!(
                limiters.entries.len() <= CAPACITY,
                "{} after {i}",
                limiters.entries.len()
            );
        }
    }

    #[test]
    fn a_busy_limiter_is_never_dropped() {
        let mut limiters = Limiters::new(8);
        // A slot in use.
        let holding = limiters.get(&key("holding", "t"), 1);
        let slot = holding.admit_now();
        // A send waiting in line behind it.
        let queued = limiters.get(&key("queued", "t"), 1);
        let first = queued.admit_now();
        let mut waiting = pin!(queued.admit(queued.enqueue()));
        assert!(poll(&mut waiting).is_none());
        // Sends between two attempts, holding no slot: one after a 429 (its window cut), one
        // after a connection failure (its window untouched: at rest, but not idle).
        let retrying = limiters.get(&key("retrying", "t"), 2);
        retrying.admit_now().throttled();
        assert_eq!((retrying.in_flight(), retrying.window()), (0, 1));
        let reconnecting = limiters.get(&key("reconnecting", "t"), 1);
        drop(reconnecting.admit_now());
        assert!(reconnecting.at_rest());

        // Idle limiters, every other one cut by a 429 (not at rest).
        for i in 0..10_000 {
            let limiter = limiters.get(&key(&format!("AC{i}"), "t"), 2);
            let slot = limiter.admit_now();
            if i % 2 == 0 {
                slot.throttled();
            }
        }
        assert!(limiters.entries.len() <= 8);

        let again = limiters.get(&key("holding", "t"), 1);
        assert!(Arc::ptr_eq(&again, &holding));
        // The limit holds: a second send of the credential waits for the first one's slot.
        assert!(poll(&mut pin!(again.admit(again.enqueue()))).is_none());
        assert!(Arc::ptr_eq(&limiters.get(&key("queued", "t"), 1), &queued));
        assert!(Arc::ptr_eq(
            &limiters.get(&key("retrying", "t"), 2),
            &retrying
        ));
        assert!(Arc::ptr_eq(
            &limiters.get(&key("reconnecting", "t"), 1),
            &reconnecting
        ));
        drop(slot);
        drop(first);
        assert!(poll(&mut waiting).is_some());
    }

    #[test]
    fn an_idle_cut_window_outlives_churn_of_idle_limiters_at_rest() {
        let mut limiters = Limiters::new(8);
        let cut = limiters.get(&key("cut", "t"), 4);
        cut.admit_now().throttled();
        drop(cut);
        // Console test sends of other configs, each delivered: at rest, so they go first.
        for i in 0..1000 {
            limiters
                .get(&key(&format!("AC{i}"), "t"), 4)
                .admit_now()
                .delivered();
        }
        assert_eq!(limiters.get(&key("cut", "t"), 4).window(), 2);
    }
}
