//! Native Twilio SMS connector for Logto: a Rust core usable and testable without Node, and
//! N-API bindings behind the `node` feature. docs/ARCHITECTURE.md walks one send through the
//! modules.

// The core's users are the bindings, which unit tests (and builds without `node`) leave out:
// there the dead-code lint would report the whole core. It runs on the addon's build.
#![cfg_attr(any(test, not(feature = "node")), allow(dead_code))]

pub(crate) mod config;
pub(crate) mod country;
pub(crate) mod delivery;
pub(crate) mod error;
pub(crate) mod js_json;
pub(crate) mod panic_guard;
pub(crate) mod preview;
pub(crate) mod pumping;
pub(crate) mod redact;
pub(crate) mod secret;
pub(crate) mod segments;
pub(crate) mod sender;
pub(crate) mod stderr;
pub(crate) mod template;
pub(crate) mod transport;
pub(crate) mod twilio;
pub(crate) mod usage;

// musl's allocator costs about twice glibc's CPU per send under load (bench, Node 22 musl):
// the musl builds, Logto's Docker image among them, allocate with mimalloc (version 2: see
// Cargo.toml for why not 3).
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Unit tests run the core without a Node process, where N-API symbols do not exist.
#[cfg(all(feature = "node", not(test)))]
mod bindings;

// The crate's public face: what the integration tests, examples and fuzz suite drive. Everything
// else is the crate's own, so the compiler reports what nothing uses.
pub use config::{Config, ConfigError, REQUIRED_USAGE_TYPES};
pub use country::{check as check_country, parse_allowed_countries};
pub use error::{ConnectorErrorCode, ConnectorFailure, ErrorKind, Waiting};
pub use js_json::replace_lone_surrogates;
pub use pumping::lookup::{
    cached_sms_pumping_risk, lookup_origin, sms_pumping_risk, LookupKey, LookupRequest,
    PumpingRisk, Reason, RiskCache, SmsPumpingRisk, LOOKUP_ORIGIN, MAX_TTL,
};
pub use template::{choose, render, UsageType};
pub use transport::build_client;
pub use twilio::{prepare, send, ConnectorOptions, Outgoing, SendOptions};

/// The one valid config the tests start from.
#[cfg(feature = "test-support")]
pub use config::fixture;
