//! Native Twilio SMS connector for Logto: a Rust core usable and testable without Node, and
//! N-API bindings behind the `node` feature. docs/ARCHITECTURE.md walks one send through the
//! modules.

pub mod config;
pub mod country;
pub mod delivery;
pub mod error;
pub mod guard;
pub mod js;
pub mod preview;
pub mod redact;
pub mod secret;
pub mod segments;
pub mod sender;
pub mod template;
pub mod transport;
pub mod twilio;
pub mod usage;

// musl's allocator costs about twice glibc's CPU per send under load (bench, Node 22 musl):
// the musl builds, Logto's Docker image among them, allocate with mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Unit tests run the core without a Node process, where N-API symbols do not exist.
#[cfg(all(feature = "node", not(test)))]
mod bindings;

pub use config::{Config, ConfigError};
pub use error::{ConnectorErrorCode, ConnectorFailure, ErrorKind};
pub use twilio::{ConnectorOptions, Outgoing, SendOptions};
