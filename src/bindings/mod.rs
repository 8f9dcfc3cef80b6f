//! N-API surface: converts JS values in and out and nothing else; every rule lives in the core.
//! One file per role: the class, the module-level functions, the options and config readers,
//! the payload walker, the engine helpers, the shapes the typings declare, and the calls a torn-down
//! environment leaves in flight.

mod config;
mod connector;
mod functions;
mod js;
mod options;
mod payload;
mod shapes;
mod teardown;

use crate::panic_guard;

/// One runtime thread for the whole process. Sends wait on Twilio, not on the CPU: one thread
/// drives thousands of sends per second (far past Twilio's per-account limits), keeps
/// sequential latency steady (no hand-offs between workers), and doesn't start one thread per
/// core on a large Logto host as tokio's default would.
#[napi_derive::module_init]
fn init() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("twilio-sms-native")
        .enable_all()
        .build();
    // Should the thread not start, napi-rs builds its default runtime on first use instead.
    if let Ok(runtime) = runtime {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
    // Panics are caught and reported as `general` errors (see `panic_guard`); nothing on stderr.
    panic_guard::install_quiet_hook();
}
