//! Lines for the operator on stderr, written so that writing can never fail a send.
//!
//! Node puts its stdio pipes in non-blocking mode, so a write to a full pipe (a busy log
//! collector) answers `EAGAIN`; `eprintln!` panics on that, which inside a send would turn a
//! log line into a failed send. Here a full pipe is waited on briefly, and a line that still
//! cannot be written is dropped.

use std::io::{ErrorKind, Write};
use std::time::Duration;

/// How long one line may wait for a full pipe to drain before it is dropped.
const PATIENCE: Duration = Duration::from_millis(10);
const PAUSE: Duration = Duration::from_millis(1);

/// Writes `line` and a newline to stderr in one piece (lines from several threads never
/// interleave), or drops it.
pub fn write_line(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let mut stderr = std::io::stderr().lock();
    let mut written = 0;
    let mut waited = Duration::ZERO;
    while written < bytes.len() {
        match stderr.write(&bytes[written..]) {
            Ok(0) => return,
            Ok(n) => written += n,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) if err.kind() == ErrorKind::WouldBlock && waited < PATIENCE => {
                std::thread::sleep(PAUSE);
                waited += PAUSE;
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_written_whole() {
        // stderr here is the test harness's; this only shows a write returns.
        write_line("connector-twilio-sms-native: stderr test line");
    }
}
