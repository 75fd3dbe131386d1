//! Starting and stopping the lab's daemons: rvsd on the director, HTTP servers on the real
//! servers. They run detached so that `rvs lab up` can return and leave the cluster running.

use std::{
    net::{Ipv4Addr, SocketAddr},
    os::unix::net::UnixStream,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use rvs_lab::Host;

use super::LabPaths;
use crate::tools::sibling;

const READY_TIMEOUT: Duration = Duration::from_secs(15);

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Starts the lab's HTTP server on `host` (answers `name`) on port 80 and waits until it
/// listens.
pub fn start_http(host: &Host, name: &str, paths: &LabPaths) -> Result<()> {
    start_http_on(host, name, 80, paths)
}

/// Starts the lab's HTTP server on `host`'s `port` (answers `name`) and waits until it listens.
pub fn start_http_on(host: &Host, name: &str, port: u16, paths: &LabPaths) -> Result<()> {
    let rvs = sibling("rvs");
    let log = paths.logs.join(format!("http-{name}-{port}.log"));
    let rvs = rvs.to_string_lossy().into_owned();
    let listen = format!("0.0.0.0:{port}");
    host.spawn_daemon(&rvs, ["lab", "serve-http", "--listen", listen.as_str(), "--name", name], &log)?;
    host.wait_for_tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), READY_TIMEOUT)
        .with_context(|| format!("HTTP server on {name} (log: {})", log.display()))?;
    Ok(())
}

/// Starts rvsd on `host`'s `interfaces` with `extra` options and waits until its control
/// socket answers.
pub fn start_rvsd(host: &Host, interfaces: &[&str], extra: &[&str], paths: &LabPaths) -> Result<u32> {
    let rvsd = sibling("rvsd");
    let log = paths.rvsd_log();
    let socket = paths.socket.to_string_lossy().into_owned();
    let mut args: Vec<&str> = Vec::new();
    for interface in interfaces {
        args.extend(["--interface", interface]);
    }
    args.extend(["--socket", &socket, "--instance", &paths.instance]);
    args.extend(extra);
    let pid = host.spawn_daemon(&rvsd.to_string_lossy(), args, &log)?;
    std::fs::write(paths.rvsd_pid(), pid.to_string()).context("writing rvsd's pid file")?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if UnixStream::connect(&paths.socket).is_ok() {
            return Ok(pid);
        }
        if !alive(pid) {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("{} exited during start-up:\n{text}", paths.daemon);
        }
        if Instant::now() > deadline {
            bail!("{} did not open {} within {READY_TIMEOUT:?} (log: {})", paths.daemon, socket, log.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the lab's rvsd with SIGTERM so that it detaches and unpins cleanly; waits for it.
pub fn stop_rvsd(paths: &LabPaths) {
    if let Some(pid) = terminate_rvsd(paths) {
        wait_gone(pid, Duration::from_secs(5));
    }
}

/// Sends SIGTERM to the lab's rvsd, if it runs, and returns its pid without waiting.
pub fn terminate_rvsd(paths: &LabPaths) -> Option<u32> {
    let text = std::fs::read_to_string(paths.rvsd_pid()).ok()?;
    let pid = text.trim().parse::<u32>().ok()?;
    if !alive(pid) || !is_rvsd(pid) {
        return None;
    }
    let raw = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: kill with a pid we started and checked is still rvsd.
    unsafe { libc::kill(raw, libc::SIGTERM) };
    Some(pid)
}

/// Waits up to `timeout` for process `pid` to exit; whether it did.
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

fn is_rvsd(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "rvsd")
}
