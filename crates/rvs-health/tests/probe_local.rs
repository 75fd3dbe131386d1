//! The local checkers: MISC_CHECK (real programs through /bin/sh) and FILE_CHECK (real files).

mod probe_common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use probe_common::*;
use rvs_core::config::{CheckKind, FileCheck, MiscCheck, Script};
use rvs_health::probe::{Pass, ProbeTarget, probe};

const NOWHERE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

fn sh(code: &str) -> Script {
    Script::new(vec!["/bin/sh".into(), "-c".into(), code.into()]).expect("argv")
}

fn misc(script: Script, dynamic: bool, timeout: Option<Duration>) -> CheckKind {
    CheckKind::Misc(MiscCheck { script, timeout, dynamic, user: None })
}

/// A MISC probe of a real server of weight 3.
async fn run_misc(kind: CheckKind) -> rvs_health::probe::ProbeResult {
    let c = check(kind, Duration::from_secs(5));
    let target = ProbeTarget { weight: weight(3), ..target(NOWHERE) };
    bounded(Duration::from_secs(10), probe(&c, &target)).await
}

#[tokio::test]
async fn misc_exit_status() {
    assert_eq!(run_misc(misc(sh("exit 0"), false, None)).await, Ok(Pass { weight: None }));
    assert_eq!(failed(run_misc(misc(sh("exit 1"), false, None)).await), "/bin/sh -c exit 1: exited with status 1");
    assert!(run_misc(misc(sh("exit 7"), false, None)).await.is_err());
    assert!(failed(run_misc(misc(sh("kill -9 $$"), false, None)).await).ends_with("killed by signal 9"));
}

#[tokio::test]
async fn misc_dynamic_weight() {
    assert_eq!(run_misc(misc(sh("exit 7"), true, None)).await, Ok(Pass { weight: Some(weight(5)) }));
    assert_eq!(run_misc(misc(sh("exit 2"), true, None)).await, Ok(Pass { weight: Some(weight(0)) }));
    assert_eq!(run_misc(misc(sh("exit 0"), true, None)).await, Ok(Pass { weight: Some(weight(3)) }));
    assert!(run_misc(misc(sh("exit 1"), true, None)).await.is_err());
}

#[tokio::test]
async fn misc_timeout_kills_the_group() {
    let pid_file = file_with("");
    let start = Instant::now();
    // The shell's child `sleep` goes with it: the whole process group is killed.
    let code = format!("sleep 10 & echo $! > {}; wait", pid_file.display());
    let kind = misc(sh(&code), false, Some(Duration::from_secs(1)));
    let reason = failed(run_misc(kind).await);
    assert_eq!(reason, format!("/bin/sh -c {code}: timed out after 1s, killed"));
    assert!(start.elapsed() < Duration::from_millis(1800), "{:?}", start.elapsed());
    let pid = std::fs::read_to_string(&pid_file).expect("pid file");
    let stat = format!("/proc/{}/stat", pid.trim());
    for _ in 0..20 {
        // Gone, or a zombie waiting for a reaper.
        match std::fs::read_to_string(&stat) {
            Err(_) => return,
            Ok(s) if s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("the script's child {} outlived the timeout", pid.trim());
}

#[tokio::test]
async fn misc_timeout_defaults_to_delay_loop() {
    let mut c = check(misc(sh("sleep 10; true"), false, None), Duration::from_secs(5));
    c.timing.delay_loop = Duration::from_millis(300);
    let start = Instant::now();
    let reason = failed(bounded(Duration::from_secs(5), probe(&c, &target(NOWHERE))).await);
    assert!(reason.ends_with("timed out after 300ms, killed"), "{reason}");
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn misc_cannot_run() {
    let script = Script::new(vec!["/nonexistent/check".into()]).expect("argv");
    assert_eq!(failed(run_misc(misc(script, false, None)).await), "cannot run /nonexistent/check: no such file or directory");
}

#[tokio::test]
async fn misc_user() {
    let run_as = |user: &str| CheckKind::Misc(MiscCheck {
        script: sh("test \"$(id -u)\" = 65534"),
        timeout: None,
        dynamic: false,
        user: Some(user.into()),
    });
    assert!(run_misc(run_as("nobody")).await.is_ok());
    assert!(run_misc(run_as("root")).await.is_err());
    assert!(failed(run_misc(run_as("no-such-user-rvs")).await).contains("no user \"no-such-user-rvs\""));
}

// ---- FILE_CHECK ----

/// A file with this content, in a directory of its own.
fn file_with(content: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("rvs-probe-file-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("value");
    std::fs::write(&path, content).expect("write");
    path
}

async fn run_file(path: PathBuf, multiplier: i32, reverse: bool, dynamic: bool) -> rvs_health::probe::ProbeResult {
    let c = check(CheckKind::File(FileCheck { path, multiplier, reverse, dynamic }), Duration::from_secs(1));
    let target = ProbeTarget { weight: weight(10), ..target(NOWHERE) };
    bounded(Duration::from_secs(5), probe(&c, &target)).await
}

#[tokio::test]
async fn file_up_or_down() {
    assert_eq!(run_file(file_with("0\n"), 0, false, false).await, Ok(Pass { weight: None }));
    let path = file_with("1\n");
    assert_eq!(failed(run_file(path.clone(), 0, false, false).await), format!("{}: value 1 means down", path.display()));
    assert!(run_file(path, 0, true, false).await.is_ok());
    assert!(run_file(file_with("0"), 0, true, false).await.is_err());
}

#[tokio::test]
async fn file_weights() {
    assert_eq!(run_file(file_with("3\n"), 2, false, true).await, Ok(Pass { weight: Some(weight(16)) }));
    assert_eq!(run_file(file_with("3\n"), 2, true, true).await, Ok(Pass { weight: Some(weight(4)) }));
    assert_eq!(run_file(file_with("0x3"), 2, false, true).await, Ok(Pass { weight: Some(weight(16)) }));
    assert_eq!(run_file(file_with("3\n"), 2, false, false).await, Ok(Pass { weight: None }));
    let reason = failed(run_file(file_with("-5\n"), 2, false, true).await);
    assert!(reason.ends_with("value -5 brings the weight 10 to 0"), "{reason}");
    assert!(run_file(file_with("5\n"), 2, true, false).await.is_err());
}

#[tokio::test]
async fn file_missing_or_garbage() {
    let missing = std::env::temp_dir().join("rvs-probe-file-missing/value");
    let reason = failed(run_file(missing.clone(), 0, false, false).await);
    assert_eq!(reason, format!("cannot read {}: no such file or directory", missing.display()));
    let path = file_with("up\n");
    assert_eq!(failed(run_file(path.clone(), 0, false, false).await), format!("{}: \"up\\n\" is not a number", path.display()));
    assert!(failed(run_file(file_with("99999999999"), 1, false, true).await).contains("out of range"));
}
