//! Calls in flight when their JS environment is torn down (a terminated worker). Nobody will
//! read their answers, yet on the process-wide runtime they would keep their account's request
//! slots (and connections) until their deadline, queueing the other threads' sends behind
//! them. So each environment's calls run as tasks that the environment's cleanup hook aborts:
//! dropping a call frees its slot at once. A request Twilio already received may still be
//! delivered; it is not retried, and nobody is told.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use napi::Env;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::error::ConnectorFailure;

/// The calls of one environment still running; `None` once its teardown aborted them.
struct Calls {
    running: Mutex<Option<Running>>,
}

#[derive(Default)]
struct Running {
    next: u64,
    tasks: HashMap<u64, AbortHandle>,
}

impl Calls {
    fn finished(&self, id: u64) {
        if let Some(running) = lock(&self.running).as_mut() {
            running.tasks.remove(&id);
        }
    }

    fn abort_all(&self) {
        if let Some(running) = lock(&self.running).take() {
            for task in running.tasks.into_values() {
                task.abort();
            }
        }
    }
}

fn lock(running: &Mutex<Option<Running>>) -> std::sync::MutexGuard<'_, Option<Running>> {
    // A panic never happens under this lock; should one have, the map is still consistent.
    running
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    // Keyed by environment: Node runs each on a thread of its own, but an embedder may run
    // several on one thread, and tearing one down must not abort another's calls.
    static CALLS: RefCell<HashMap<usize, Arc<Calls>>> = RefCell::new(HashMap::new());
}

/// `env`'s calls, with the cleanup hook that aborts them registered on first use; `None` if
/// the hook cannot be registered (the calls then run untracked, as they would without this).
fn calls(env: &Env) -> Option<Arc<Calls>> {
    let key = env.raw() as usize;
    CALLS.with(|cell| {
        if let Some(calls) = cell.borrow().get(&key) {
            return Some(calls.clone());
        }
        let calls = Arc::new(Calls {
            running: Mutex::new(Some(Running::default())),
        });
        env.add_env_cleanup_hook(calls.clone(), move |calls| {
            calls.abort_all();
            // The hook runs in an `extern "C"` callback: no panic, even with the thread's
            // locals already gone. A later environment at this address starts afresh.
            let _ = CALLS.try_with(|cell| cell.borrow_mut().remove(&key));
        })
        .ok()?;
        cell.borrow_mut().insert(key, calls.clone());
        Some(calls)
    })
}

/// Runs `call` as a task of `env`'s, aborted if `env` is torn down first; the returned future
/// gives its outcome (a `Cancelled` failure if it was aborted, which no one can observe).
pub fn run<T: Send + 'static>(
    env: &Env,
    call: impl Future<Output = std::result::Result<T, ConnectorFailure>> + Send + 'static,
) -> impl Future<Output = std::result::Result<T, ConnectorFailure>> + Send + 'static {
    let (sender, outcome) = oneshot::channel();
    let task = async move {
        let _ = sender.send(call.await);
    };
    match calls(env) {
        Some(calls) => {
            let mut running = lock(&calls.running);
            if let Some(running) = running.as_mut() {
                let id = running.next;
                running.next += 1;
                let owner = calls.clone();
                // Spawned under the lock, so the task cannot finish before it is on the list.
                let handle = napi::bindgen_prelude::spawn(async move {
                    task.await;
                    owner.finished(id);
                });
                running.tasks.insert(id, handle.abort_handle());
            }
        }
        None => {
            napi::bindgen_prelude::spawn(task);
        }
    }
    async move {
        outcome
            .await
            .unwrap_or_else(|_| Err(ConnectorFailure::cancelled()))
    }
}
