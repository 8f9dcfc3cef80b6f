//! The counters on Redis (or Valkey), shared by every replica: one script per send checks every
//! counter and adds to all of them or to none, atomically, in one round trip.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::counters::Counter;
use super::store::{StoreError, Verdict};
use crate::secret::Secret;

/// KEYS are the counters; ARGV holds, for each, what to add, the maximum and the key's time to
/// live in milliseconds. Returns `{0, 0}` when every counter was added to, or `{i, count}` for
/// the first counter (1-based) without room, in which case nothing was added.
const APPLY: &str = r"
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then
    return {i, count}
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  if redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
  end
end
return {0, 0}
";

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(APPLY));

/// One Redis server's connection, shared by every send that names its URL.
pub struct RedisStore {
    /// The URL without its credentials: what logs and errors name.
    pub shown: String,
    manager: ConnectionManager,
    /// Set while the store fails, so an outage is logged once, not once per send.
    down: AtomicBool,
}

/// A store's health changed: what the caller logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    WentDown,
    CameBack,
}

impl RedisStore {
    fn new(url: &Secret, shown: &str, extra_roots_pem: Option<Vec<u8>>) -> Result<Self, String> {
        let client = match extra_roots_pem {
            Some(root_cert) => redis::Client::build_with_tls(
                url.expose(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                },
            ),
            None => redis::Client::open(url.expose()),
        }
        .map_err(|err| describe(&err))?;
        // Connects on first use and reconnects by itself after a failure; each send bounds its
        // own wait (`apply`'s budget), so no timeout of the client's needs to be shorter.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|err| describe(&err))?;
        Ok(RedisStore {
            shown: shown.to_owned(),
            manager,
            down: AtomicBool::new(false),
        })
    }

    /// Applies one send's counters within `budget`.
    pub async fn apply(
        &self,
        counters: &[Counter],
        budget: Duration,
    ) -> Result<Verdict, StoreError> {
        let mut invocation = SCRIPT.prepare_invoke();
        for counter in counters {
            invocation
                .key(&counter.key)
                .arg(counter.add)
                .arg(counter.max)
                .arg(counter.ttl_ms);
        }
        let mut connection = self.manager.clone();
        let answer = tokio::time::timeout(
            budget,
            invocation.invoke_async::<(u64, u64)>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok((0, _))) => Ok(Verdict::Admitted),
            Ok(Ok((index, count))) if index as usize <= counters.len() => Ok(Verdict::Refused {
                index: index as usize - 1,
                count,
            }),
            Ok(Ok((index, _))) => Err(StoreError {
                reason: format!(
                    "the counting script answered counter {index} of {}",
                    counters.len()
                ),
            }),
            Ok(Err(err)) => Err(StoreError {
                reason: describe(&err),
            }),
            Err(_) => Err(StoreError {
                reason: format!("no answer within {} ms", budget.as_millis()),
            }),
        }
    }

    /// A cached value (Lookup's answers), within `budget`; `None` when absent or unreachable:
    /// a cache miss is never an error.
    pub async fn cached(&self, key: &str, budget: Duration) -> Option<String> {
        let mut connection = self.manager.clone();
        let mut command = redis::cmd("GET");
        command.arg(key);
        let get = command.query_async::<Option<String>>(&mut connection);
        tokio::time::timeout(budget, get).await.ok()?.ok()?
    }

    /// Keeps `value` under `key` for `ttl_seconds`, within `budget`; a failure only costs a
    /// later cache miss.
    pub async fn cache(&self, key: &str, value: &str, ttl_seconds: u64, budget: Duration) {
        let mut connection = self.manager.clone();
        let mut command = redis::cmd("SET");
        command
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(ttl_seconds.max(1));
        let set = command.query_async::<()>(&mut connection);
        let _ = tokio::time::timeout(budget, set).await;
    }

    /// Records the outcome of a call; says when the store's health changed.
    pub fn record(&self, healthy: bool) -> Option<Health> {
        let was_down = self.down.swap(!healthy, Ordering::Relaxed);
        match (was_down, healthy) {
            (false, false) => Some(Health::WentDown),
            (true, true) => Some(Health::CameBack),
            _ => None,
        }
    }
}

/// A Redis error as an operator reads it. redis-rs never puts the URL's password in its
/// errors; the caller redacts it anyway.
fn describe(err: &redis::RedisError) -> String {
    err.to_string()
}

/// Stores kept per process: one per Redis URL (an operator has one; a test a few).
const MAX_STORES: usize = 4;

/// The store of `url`, made on first use; `extra_roots_pem` are the CAs `rediss://` trusts
/// (those of `NODE_EXTRA_CA_CERTS`, else the system's).
pub fn store(
    url: &Secret,
    shown: &str,
    extra_roots_pem: impl FnOnce() -> Option<Vec<u8>>,
) -> Result<Arc<RedisStore>, String> {
    static STORES: Mutex<Vec<(Secret, Arc<RedisStore>)>> = Mutex::new(Vec::new());
    let mut stores = STORES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, store)) = stores.iter().find(|(known, _)| known == url) {
        return Ok(store.clone());
    }
    let tls = url.expose().starts_with("rediss:");
    let store = Arc::new(RedisStore::new(
        url,
        shown,
        if tls { extra_roots_pem() } else { None },
    )?);
    if stores.len() == MAX_STORES {
        stores.remove(0);
    }
    stores.push((url.clone(), store.clone()));
    Ok(store)
}
