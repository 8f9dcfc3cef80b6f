//! The module-level functions: a send with the config given per call (Logto's way), and
//! config validation without a connector.

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

use super::config::parse_config;
use super::connector::{prepare, spawn_send};
use super::options::parse_options;
use super::shapes::ConfigCheck;
use crate::{panic_guard, twilio};

/// One send with a config given per call, as Logto hands it to the connector: the same as
/// `new TwilioSmsConnector(config, options).sendMessage(to, usageType, payload)` without an
/// object to build and collect for every send. Never throws synchronously: an invalid config
/// rejects with `invalid_config`. Validated configs are cached by content.
#[napi(
    js_name = "sendMessage",
    ts_args_type = "config: TwilioSmsConfig, to: string, usageType: string, payload?: Record<string, unknown>, options?: ConnectorOptions, context?: SendContext",
    ts_return_type = "Promise<MessageResource>"
)]
pub fn send_message<'env>(
    env: &'env Env,
    config: Unknown,
    to: Unknown,
    usage_type: Unknown,
    payload: Option<Unknown>,
    options: Option<Unknown>,
    context: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let built =
        panic_guard::catch_sync(|| Ok((parse_config(env, config)?, parse_options(options)?)));
    match built {
        Ok((config, options)) => {
            let prepared = panic_guard::catch_sync(|| {
                prepare(&config, &options, to, usage_type, payload, context)
            });
            spawn_send(env, prepared, options)
        }
        Err(failure) => spawn_send(env, Err(failure), twilio::SendOptions::default()),
    }
}

/// Checks a config without building a connector (backs the Logto module's `configGuard`).
#[napi(ts_args_type = "config: unknown")]
pub fn validate_config(env: Env, config: Unknown) -> ConfigCheck {
    match panic_guard::catch_sync(|| parse_config(&env, config)) {
        Ok(_) => ConfigCheck {
            success: true,
            message: None,
            issues: None,
        },
        Err(failure) => ConfigCheck {
            success: false,
            message: Some(failure.message().to_owned()),
            issues: failure.data().get("issues").cloned(),
        },
    }
}

/// The codes `allowedCountries` accepts (ISO 3166-1 alpha-2, sorted), for the Console's list.
/// Does not load the phone-number metadata.
#[napi]
pub fn country_codes() -> Vec<&'static str> {
    crate::country::COUNTRY_CODES.to_vec()
}
