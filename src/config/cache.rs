//! The process-wide cache of validated configs. Logto hands the config to every send, so a
//! repeat send with the same config costs a hash lookup instead of a validation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::{Config, ConfigError};

/// Bounded, since configs change over a server's life; only valid configs are kept.
const CAPACITY: usize = 64;

/// [`Config::from_json`], cached by the JSON text.
pub fn cached_from_json(text: &str) -> Result<Arc<Config>, ConfigError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Config>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(config) = lock().get(text) {
        return Ok(config.clone());
    }
    let config = Arc::new(Config::from_json(text)?);
    let mut cache = lock();
    if cache.len() >= CAPACITY {
        cache.clear();
    }
    cache.insert(text.to_owned(), config.clone());
    Ok(config)
}
