//! Calls in flight when their JS environment is torn down (a terminated worker, a closing
//! process). Nobody will read their answers, yet on the process-wide runtime they would keep
//! their account's request slots (and connections) until their deadline, queueing the other
//! threads' sends behind them. So each environment's calls run as tasks that the
//! environment's cleanup hook aborts: dropping a call frees its slot at once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use napi::{Env, Result};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::error::{ConnectorFailure, ErrorKind};

/// The calls of one environment still running; `None` once its teardown aborted them.
#[derive(Default)]
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
    // Node runs each environment (the main one, each worker) on a thread of its own.
    static CALLS: RefCell<Option<Arc<Calls>>> = const { RefCell::new(None) };
}

/// This thread's environment's calls, with the cleanup hook that aborts them registered on
/// first use.
fn calls(env: &Env) -> Result<Arc<Calls>> {
    CALLS.with(|cell| {
        if let Some(calls) = cell.borrow().as_ref() {
            return Ok(calls.clone());
        }
        let calls = Arc::new(Calls {
            running: Mutex::new(Some(Running::default())),
        });
        env.add_env_cleanup_hook(calls.clone(), |calls| {
            calls.abort_all();
            // A later environment on this thread starts with a list of its own.
            CALLS.with(|cell| cell.borrow_mut().take());
        })?;
        *cell.borrow_mut() = Some(calls.clone());
        Ok(calls)
    })
}

/// Runs `call` as a task of `env`'s, aborted if `env` is torn down first; the returned future
/// gives its outcome (a `Cancelled` failure if it was aborted, which no one can observe).
pub fn run<T: Send + 'static>(
    env: &Env,
    call: impl Future<Output = std::result::Result<T, ConnectorFailure>> + Send + 'static,
) -> Result<impl Future<Output = std::result::Result<T, ConnectorFailure>> + Send + 'static> {
    let calls = calls(env)?;
    let (sender, outcome) = oneshot::channel();
    let mut running = lock(&calls.running);
    if let Some(running) = running.as_mut() {
        let id = running.next;
        running.next += 1;
        let owner = calls.clone();
        // Spawned under the lock, so the task cannot finish before it is on the list.
        let task = napi::bindgen_prelude::spawn(async move {
            let _ = sender.send(call.await);
            owner.finished(id);
        });
        running.tasks.insert(id, task.abort_handle());
    }
    drop(running);
    Ok(async move {
        outcome.await.unwrap_or_else(|_| {
            Err(ConnectorFailure::new(
                ErrorKind::Cancelled,
                "cancelled: the JavaScript environment that made this call was shut down",
            ))
        })
    })
}
