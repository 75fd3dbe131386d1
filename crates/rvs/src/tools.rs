//! Finding the sibling binaries (rvsd, rvsadm), running rvsadm against a lab's daemon, and
//! asking rvsd one thing on its control socket.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

/// A binary installed next to this one (`cargo build` puts them together), else from `PATH`.
pub fn sibling(name: &str) -> PathBuf {
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent() {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    PathBuf::from(name)
}

/// Output of one rvsadm run.
pub struct RvsadmRun {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs rvsadm with `args` against the daemon on `socket`.
pub fn rvsadm(socket: &Path, args: &[&str]) -> Result<RvsadmRun> {
    let out = Command::new(sibling("rvsadm"))
        .args(args)
        .env("RVS_SOCKET", socket)
        .output()
        .context("running rvsadm")?;
    Ok(RvsadmRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs rvsadm and fails unless it succeeds.
pub fn rvsadm_ok(socket: &Path, args: &[&str]) -> Result<String> {
    let r = rvsadm(socket, args)?;
    if r.code != 0 {
        bail!("rvsadm {} failed ({}): {}", args.join(" "), r.code, r.stderr.trim());
    }
    Ok(r.stdout)
}

/// The control socket a command was given, else `$RVS_SOCKET`, else the default.
pub fn socket_or_default(socket: Option<PathBuf>) -> PathBuf {
    socket.unwrap_or_else(|| rvs_core::control::socket_path(std::env::var_os(rvs_core::control::SOCKET_ENV)))
}

/// Sends one request to the rvsd on `socket` and returns its answer.
pub fn call(socket: &Path, request: &rvs_core::control::Request) -> Result<rvs_core::control::Response> {
    let mut client = rvs_core::control::ControlClient::connect(socket).map_err(|e| anyhow::anyhow!("{e}"))?;
    client.call(request).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The data plane's named counters from the rvsd on `socket`.
pub fn dataplane_counters(socket: &Path) -> Result<Vec<rvs_core::control::NamedCounter>> {
    use rvs_core::control::{Request, Response};
    match call(socket, &Request::GetDataplaneCounters)? {
        Response::DataplaneCounters { counters } => Ok(counters),
        other => bail!("unexpected answer from rvsd: {other:?}"),
    }
}
