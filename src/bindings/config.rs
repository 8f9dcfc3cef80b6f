//! Reading the config from JS: the engine serializes it, the core validates it (cached).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::{Env, ValueType};

use super::js::json_stringify;
use crate::config::{self, Config, ConfigError};
use crate::error::{excerpt, ConnectorFailure};

/// Config values reach Rust as JSON text from the engine's own `JSON.stringify`, so getters and
/// `toJSON` behave the way JS code expects.
pub(super) fn parse_config(
    env: &Env,
    config: Unknown,
) -> std::result::Result<Arc<Config>, ConnectorFailure> {
    let kind = config.get_type().unwrap_or(ValueType::Unknown);
    let not_an_object =
        |found: &str| ConfigError::whole(format!("Expected object, received {found}")).to_failure();
    match kind {
        ValueType::Object => {}
        ValueType::Null => return Err(not_an_object("null")),
        other => return Err(not_an_object(&other.to_string().to_lowercase())),
    }
    let text = json_stringify(env, config).map_err(|reason| {
        ConfigError::whole(format!(
            "Cannot be serialized as JSON ({})",
            excerpt(&reason)
        ))
        .to_failure()
    })?;
    config::cache::cached_from_json(&text).map_err(|err| err.to_failure())
}
