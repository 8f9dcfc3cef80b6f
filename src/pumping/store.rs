//! Where the counters live: in this process, or in Redis for every replica. Both apply a
//! send's counters all or nothing: a send refused by one counter adds to none.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::counters::Counter;

/// What the store decided for one send's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every counter had room: each was added to.
    Admitted,
    /// `counters[index]` had no room (its count was `count`): nothing was added.
    Refused { index: usize, count: u64 },
}

/// The store could not decide; the policy (`onStoreError`) says what the send does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// What an operator reads: never a credential.
    pub reason: String,
}

/// The most keys the in-process store holds; at the bound, expired keys are dropped first, and
/// if none has expired the store reports an error rather than forget a count.
const MAX_MEMORY_KEYS: usize = 100_000;

/// The counters of this process (no Redis configured): every limit is per process, so replicas
/// each allow the whole limit.
#[derive(Default)]
pub struct MemoryStore {
    /// key → (expiry in Unix milliseconds, count)
    counts: Mutex<HashMap<String, (u64, u64)>>,
}

impl MemoryStore {
    pub fn apply(&self, counters: &[Counter], now_ms: u64) -> Result<Verdict, StoreError> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = |counts: &HashMap<String, (u64, u64)>, key: &str| match counts.get(key) {
            Some(&(expires, count)) if expires > now_ms => count,
            _ => 0,
        };
        for (index, counter) in counters.iter().enumerate() {
            let count = current(&counts, &counter.key);
            if count + counter.add > counter.max {
                return Ok(Verdict::Refused { index, count });
            }
        }
        let new_keys = counters
            .iter()
            .filter(|c| !counts.contains_key(&c.key))
            .count();
        if counts.len() + new_keys > MAX_MEMORY_KEYS {
            counts.retain(|_, &mut (expires, _)| expires > now_ms);
            if counts.len() + new_keys > MAX_MEMORY_KEYS {
                return Err(StoreError {
                    reason: format!(
                        "the in-process counters hold {MAX_MEMORY_KEYS} keys, none expired"
                    ),
                });
            }
        }
        for counter in counters {
            let count = current(&counts, &counter.key);
            let expires = match counts.get(&counter.key) {
                Some(&(expires, _)) if expires > now_ms => expires,
                _ => now_ms + counter.ttl_ms,
            };
            counts.insert(counter.key.clone(), (expires, count + counter.add));
        }
        Ok(Verdict::Admitted)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.counts.lock().unwrap().len()
    }
}

/// The process's in-memory counters, shared by every config of every tenant (keys carry the
/// account's scope).
pub static MEMORY: LazyLock<MemoryStore> = LazyLock::new(MemoryStore::default);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pumping::counters::Rule;

    fn counter(key: &str, add: u64, max: u64) -> Counter {
        Counter {
            key: key.into(),
            add,
            max,
            ttl_ms: 1000,
            resets_at: 0,
            rule: Rule::DailyTotal,
        }
    }

    #[test]
    fn all_or_nothing_within_a_window() {
        let store = MemoryStore::default();
        let send = [counter("a", 1, 2), counter("b", 3, 4)];
        assert_eq!(store.apply(&send, 0), Ok(Verdict::Admitted));
        // b would be 6 of 4: refused, and a is not counted either.
        assert_eq!(
            store.apply(&send, 10),
            Ok(Verdict::Refused { index: 1, count: 3 })
        );
        assert_eq!(
            store.apply(&[counter("a", 1, 2)], 10),
            Ok(Verdict::Admitted)
        );
        assert_eq!(
            store.apply(&[counter("a", 1, 2)], 10),
            Ok(Verdict::Refused { index: 0, count: 2 })
        );
        // The window's keys expire with it.
        assert_eq!(store.apply(&send, 1000), Ok(Verdict::Admitted));
    }

    #[test]
    fn bounded_and_expired_keys_go_first() {
        let store = MemoryStore::default();
        for i in 0..MAX_MEMORY_KEYS {
            store.apply(&[counter(&i.to_string(), 1, 1)], 0).unwrap();
        }
        let error = store.apply(&[counter("one more", 1, 1)], 10).unwrap_err();
        assert!(error.reason.contains("100000 keys"), "{}", error.reason);
        assert_eq!(
            store.apply(&[counter("one more", 1, 1)], 1000),
            Ok(Verdict::Admitted)
        );
        assert_eq!(store.len(), 1);
    }
}
