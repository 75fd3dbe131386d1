//! End-to-end suites in network namespaces (run as root), and what they share.
//!
//! Every suite starts with [`root_or_skip`]: without root the tests fail with a clear message,
//! unless `RVS_SKIP_ROOT_TESTS=1` is set, in which case they print that they were skipped.
//!
//! The acceptance suites run the real `rvsd`, `rvsadm` and `rvs` ([`bins`]): build them first,
//! then run the suites (in parallel is fine, under `cargo test` or nextest):
//!
//! ```text
//! cargo build --bins && cargo test -p rvs-e2e          # or RVS_BIN_DIR=<dir> cargo test ...
//! ```
//!
//! | suite | what it checks |
//! |---|---|
//! | `dr_scheduling` | rr, wrr, lc, wlc in seed 000's DR cluster, in IPVS's exact order |
//! | `dr_live_changes` | weight 0 drains, `-d`/`-e` live, `-S`/`-C`/`-R` round trip |
//! | `dr_paths` | the VIP's ARP entry, replies bypassing the director |
//! | `daemon_errors` | bad input to rvsd and rvsadm, rvsd's clean stop |
//! | `golden_rvsd` | `tests/golden` transcripts against the real rvsd |
//! | `tun` | TUN mode in seed 004: IPIP and GUE, replies bypassing the director, routed real servers |
//! | `nat` | NAT mode in seed 002: port mapping, a 10 MB body, 500 concurrent connections, UDP, ICMP errors, `--stats` |
//! | `nat_oracle` | the oracle's NAT traffic (`tests/golden/traffic/nat.txt`) replayed: same order, listings, states, counters |
//! | `nat_router` | rvsd's floating NAT gateway: added, announced with gratuitous ARP, removed, refusals |
//! | `realserver` | `rvs realserver up/down/status` on lab hosts |
//! | `lab_demo` | `rvs lab demo` |
//! | `harness` | the lab harness itself |
//!
//! Each test builds its own lab ([`lab_prefix`]) and takes it down, rvsd first (SIGTERM, so
//! that it detaches and unpins), also when it fails; the logs of a failed test's lab are kept
//! in `/tmp/rvs-lab/<prefix>`.

pub mod bins;
pub mod browser;
pub mod cluster;
pub mod ha_cluster;
pub mod health_lab;
pub mod holders;
pub mod held;
pub mod listing;
pub mod names;
pub mod nat_router;
pub mod realserver;
pub mod rvsd;
pub mod solo;
pub mod transcript;
pub mod vrrp_pair;

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

/// A short lab prefix (8 characters: `e2` and six base-36 digits) that no other live process
/// can produce: the digits encode this process's id and a per-process counter. Anything a
/// crashed earlier process with the same id left under this prefix is removed first.
pub fn lab_prefix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let prefix = short_prefix(std::process::id(), n);
    if let Err(e) = rvs_lab::down_prefix(&prefix) {
        eprintln!("removing what an earlier process left under {prefix}: {e}");
    }
    prefix
}

/// `e2` and `pid * 512 + n % 512` in six base-36 digits: distinct for every pid below 2^22
/// (the kernel's largest `pid_max`) and 512 labs per process.
fn short_prefix(pid: u32, n: u32) -> String {
    let mut value = u64::from(pid) * 512 + u64::from(n % 512);
    let mut digits = [b'0'; 6];
    for digit in digits.iter_mut().rev() {
        let d = u8::try_from(value % 36).unwrap_or(0);
        *digit = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        value /= 36;
    }
    format!("e2{}", String::from_utf8_lossy(&digits))
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

/// Runs `command` in this process's namespace with stdin from /dev/null, capturing stdout and
/// stderr; kills it if it has not exited after `timeout`.
pub fn run_captured(
    mut command: std::process::Command,
    timeout: Duration,
) -> anyhow::Result<(ExitStatus, String, String)> {
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Readers hand their text over a channel: a grandchild that keeps a pipe open must not
    // make this wait forever.
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = pipe {
            std::thread::spawn(move || {
                let _ = tx.send(read_all(pipe));
            });
        }
        rx
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_or_kill(&mut child, timeout);
    let grace = Duration::from_secs(2);
    let out = stdout.recv_timeout(grace).unwrap_or_default();
    let err = stderr.recv_timeout(grace).unwrap_or_default();
    match status {
        Ok(status) => Ok((status, out, err)),
        Err(e) => anyhow::bail!("{e}; stdout so far:\n{out}\nstderr so far:\n{err}"),
    }
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
    fn short_prefixes_are_eight_valid_characters_and_distinct() {
        let samples = [
            short_prefix(1, 0),
            short_prefix(1, 1),
            short_prefix(2, 0),
            short_prefix(4_194_303, 511),
        ];
        for prefix in &samples {
            assert_eq!(prefix.len(), 8, "{prefix}");
            assert!(rvs_lab::Prefix::new(prefix).is_ok(), "{prefix}");
        }
        assert_eq!(samples[0], "e20000e8");
        assert_eq!(samples[1], "e20000e9");
        assert_eq!(samples[2], "e20000sg");
        assert_eq!(samples[3], "e2zik0zj");
        let mut unique = samples.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), samples.len());
        // The counter wraps at 512 rather than spilling into the next pid's range.
        assert_eq!(short_prefix(1, 512), short_prefix(1, 0));
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
