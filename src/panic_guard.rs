//! The last line of defence: a panic anywhere in the core becomes a `general` error for the
//! caller, and prints nothing (no stack trace or panic message on Logto's stderr).

use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::ConnectorFailure;

thread_local! {
    /// The last panic's message and location on this thread, for the error that reports it.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    /// How many guards this thread is inside: their panics are reported as errors instead.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs `f` as guarded code: a panic in it is silent (the guard reports it).
fn guarded<R>(f: impl FnOnce() -> R) -> R {
    struct Exit;
    impl Drop for Exit {
        fn drop(&mut self) {
            GUARDED.set(GUARDED.get().saturating_sub(1));
        }
    }
    GUARDED.set(GUARDED.get() + 1);
    let _exit = Exit;
    f()
}

/// Replaces the default panic hook (which writes to stderr) with one that, inside a guard, only
/// remembers the message for [`failure`]; a panic outside every guard (which napi cannot
/// recover from) is still printed, in one line. The hook belongs to this library's copy of the
/// Rust runtime, so it affects no other native module in the process.
pub fn install_quiet_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if GUARDED.get() == 0 {
            crate::stderr::write_line(&format!(
                "connector-twilio-sms-native: panic: {message}{location}"
            ));
        }
        LAST_PANIC.with_borrow_mut(|last| *last = Some(format!("{message}{location}")));
    }));
}

/// The `general` error a caught panic becomes.
fn failure(payload: Box<dyn std::any::Any + Send>) -> ConnectorFailure {
    let message = LAST_PANIC
        .with_borrow_mut(Option::take)
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    // Dropping a payload whose own drop panics would abort: forget it instead.
    std::mem::forget(payload);
    ConnectorFailure::internal(&message)
}

/// Runs `f`, turning a panic into a `general` failure.
pub fn catch_sync<T>(
    f: impl FnOnce() -> Result<T, ConnectorFailure>,
) -> Result<T, ConnectorFailure> {
    catch_unwind(AssertUnwindSafe(|| guarded(f))).unwrap_or_else(|payload| Err(failure(payload)))
}

/// `future`, with a panic in any of its polls turned into a `general` failure.
pub fn catch_async<T, F>(future: F) -> CatchPanic<F>
where
    F: Future<Output = Result<T, ConnectorFailure>>,
{
    CatchPanic(Box::pin(future))
}

pub struct CatchPanic<F>(Pin<Box<F>>);

impl<T, F> Future for CatchPanic<F>
where
    F: Future<Output = Result<T, ConnectorFailure>>,
{
    type Output = Result<T, ConnectorFailure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        catch_unwind(AssertUnwindSafe(move || guarded(|| inner.poll(cx))))
            .unwrap_or_else(|payload| Poll::Ready(Err(failure(payload))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn panics_become_general_errors() {
        let sync = catch_sync::<()>(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(sync.kind(), ErrorKind::Internal);
        assert!(sync.message().contains("boom 1"), "{}", sync.message());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let failure = runtime
            .block_on(catch_async(async {
                tokio::task::yield_now().await;
                let _ = std::time::Instant::now() + std::time::Duration::from_secs(u64::MAX);
                Ok::<(), ConnectorFailure>(())
            }))
            .unwrap_err();
        assert_eq!(failure.kind(), ErrorKind::Internal);
        assert!(
            failure.message().contains("Internal error"),
            "{}",
            failure.message()
        );
        assert_eq!(catch_sync(|| Ok::<_, ConnectorFailure>(3)).unwrap(), 3);
    }
}
