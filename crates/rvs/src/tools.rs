//! Finding the sibling binaries (rvsd, rvsadm) and running rvsadm against a lab's daemon.

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

/// The data plane's named counters from the rvsd on `socket`.
pub fn dataplane_counters(socket: &Path) -> Result<Vec<rvs_core::control::NamedCounter>> {
    use rvs_core::control::{ControlClient, Request, Response};
    let mut client = ControlClient::connect(socket).map_err(|e| anyhow::anyhow!("{e}"))?;
    match client.call(&Request::GetDataplaneCounters).map_err(|e| anyhow::anyhow!("{e}"))? {
        Response::DataplaneCounters { counters } => Ok(counters),
        other => bail!("unexpected answer from rvsd: {other:?}"),
    }
}
