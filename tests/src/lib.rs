//! End-to-end suites in network namespaces (run as root), and what they share.
//!
//! Every suite starts with [`root_or_skip`]: without root the tests fail with a clear message,
//! unless `RVS_SKIP_ROOT_TESTS=1` is set, in which case they print that they were skipped.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable that turns root-only tests into skips.
pub const SKIP_VAR: &str = "RVS_SKIP_ROOT_TESTS";

/// `true` when running as root. Otherwise panics with an explanation, or, when
/// `RVS_SKIP_ROOT_TESTS=1`, prints that `test` was skipped and returns `false`.
pub fn root_or_skip(test: &str) -> bool {
    if rvs_lab::is_root() {
        return true;
    }
    if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED {test}: it needs root to build network namespaces ({SKIP_VAR}=1)");
        return false;
    }
    panic!(
        "{test} needs root: it builds network namespaces. Run the tests as root, \
         or set {SKIP_VAR}=1 to skip the tests that need it."
    );
}

/// A lab prefix no other test, test run or process uses at the same time: `tag` followed by
/// this process's id, a clock-derived part and a per-process counter, all in hex.
pub fn unique_prefix(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{tag}{:x}{:05x}{n:x}", std::process::id(), nanos & 0xf_ffff)
}

/// Removes everything of a lab prefix when dropped: for tests whose lab lives in another
/// process, so that a failing assertion does not leave namespaces behind.
#[derive(Debug)]
pub struct PrefixGuard(pub String);

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        if let Err(e) = rvs_lab::down_prefix(&self.0) {
            eprintln!("cleaning up lab {}: {e}", self.0);
        }
    }
}

/// Waits up to `timeout` for `child` to exit; kills it if it has not by then.
pub fn wait_or_kill(child: &mut Child, timeout: Duration) -> anyhow::Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(
                "process {} did not exit within {timeout:?}; killed",
                child.id()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads lines of `stdout` on a thread until one starts with `marker`, for at most `timeout`;
/// returns the rest of that line.
pub fn await_line(stdout: ChildStdout, marker: &str, timeout: Duration) -> anyhow::Result<String> {
    let (tx, rx) = mpsc::channel();
    let wanted = marker.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix(&wanted) {
                let _ = tx.send(rest.trim().to_owned());
                return;
            }
        }
    });
    rx.recv_timeout(timeout)
        .map_err(|_| anyhow::anyhow!("no line starting with {marker:?} within {timeout:?}"))
}

/// Reads everything from `pipe` (for a child that has exited).
pub fn read_all(mut pipe: impl Read) -> String {
    let mut text = String::new();
    let _ = pipe.read_to_string(&mut text);
    text
}

/// Whether `pid` is a live process (not gone, not a zombie waiting for its reaper).
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// Waits up to `timeout` for `pid` to be gone.
pub fn wait_until_dead(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !is_alive(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_valid_and_distinct() {
        let a = unique_prefix("h");
        let b = unique_prefix("h");
        assert_ne!(a, b);
        for prefix in [&a, &b] {
            assert!(rvs_lab::Prefix::new(prefix).is_ok(), "{prefix}");
        }
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(is_alive(std::process::id()));
        let mut child = std::process::Command::new("true")
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let pid = child.id();
        let _ = child.wait();
        assert!(wait_until_dead(pid, Duration::from_secs(1)));
    }
}
