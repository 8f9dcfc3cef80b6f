//! The embedder's options object, read field by field into the core's `ConnectorOptions`.

use napi::bindgen_prelude::*;
use napi::{Env, JsValue, ValueType};

use super::js::{js_to_string, take_pending_exception};
use crate::error::ConnectorFailure;
use crate::twilio;

/// `options` (absent, `null` or an object) checked into the send options.
pub(super) fn parse_options(
    options: Option<Unknown>,
) -> std::result::Result<twilio::SendOptions, ConnectorFailure> {
    let Some(options) = options else {
        return Ok(twilio::SendOptions::default());
    };
    match options.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => return Ok(twilio::SendOptions::default()),
        Ok(ValueType::Object) => {}
        _ => return Err(ConnectorFailure::options_not_an_object()),
    }
    let object: Object =
        unsafe { options.cast() }.map_err(|_| ConnectorFailure::options_unreadable())?;
    // A throwing getter fails the options: skipping it would send with a default (the real
    // Twilio for `baseUrl`) and leave the exception pending for the next N-API call.
    let field = |name: &str| -> std::result::Result<Option<Unknown>, ConnectorFailure> {
        match object.get_named_property::<Unknown>(name) {
            Ok(value) => {
                Ok(Some(value).filter(|v| !matches!(v.get_type(), Ok(ValueType::Undefined))))
            }
            Err(err) => {
                let env = Env::from_raw(object.value().env);
                let reason = take_pending_exception(&env).unwrap_or(err.reason);
                Err(ConnectorFailure::option_unreadable(name, &reason))
            }
        }
    };
    let base_url = match field("baseUrl")? {
        None => None,
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => js_to_string(v).ok(),
        Some(_) => return Err(ConnectorFailure::base_url_not_a_string()),
    };
    let redis_url = match field("redisUrl")? {
        None => None,
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => js_to_string(v).ok(),
        Some(_) => return Err(ConnectorFailure::redis_url_invalid("not a string")),
    };
    let number = |name: &str| -> std::result::Result<Option<f64>, ConnectorFailure> {
        match field(name)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => unsafe { v.cast::<f64>() }
                .map(Some)
                .map_err(|_| ConnectorFailure::option_not_a_number(name)),
            Some(_) => Err(ConnectorFailure::option_not_a_number(name)),
        }
    };
    twilio::SendOptions::new(twilio::ConnectorOptions {
        base_url,
        timeout_ms: number("timeoutMs")?,
        connect_timeout_ms: number("connectTimeoutMs")?,
        max_concurrency: number("maxConcurrency")?,
        max_retries: number("maxRetries")?,
        redis_url,
        redis_timeout_ms: number("redisTimeoutMs")?,
    })
}
