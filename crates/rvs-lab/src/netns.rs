//! Named network namespaces: the `/run/netns/<name>` files iproute2 keeps, entering one from a
//! thread, and finding the processes that live in one.
//!
//! `setns(CLONE_NEWNET)` changes the namespace of the calling thread only, and a socket stays in
//! the namespace it was created in for its whole life. So Rust code gets a socket inside a lab
//! host by creating it on a short-lived thread that entered the host's namespace, then uses it
//! from anywhere.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{LabError, Result};

/// Where iproute2 keeps its named namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// `ip netns add` makes `/run/netns` a shared mount point the first time it runs; two of them
/// racing there can stack two mounts. Labs in one process (parallel tests) take turns.
pub(crate) static NETNS_ADD_LOCK: Mutex<()> = Mutex::new(());

/// The file that names namespace `name`.
pub fn netns_path(name: &str) -> PathBuf {
    Path::new(NETNS_RUN_DIR).join(name)
}

/// Opens namespace `name` (a file descriptor that `setns` accepts).
pub(crate) fn open_netns(name: &str) -> Result<File> {
    let path = netns_path(name);
    File::open(&path)
        .map_err(|e| LabError::io(format!("opening network namespace {}", path.display()), e))
}

/// Moves the calling thread into the namespace `ns` refers to.
pub(crate) fn enter(ns: &File) -> std::io::Result<()> {
    // SAFETY: setns only reads the descriptor, which `ns` keeps open for the call.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Runs `f` on a new thread that lives in namespace `name`, and returns what it returns.
///
/// Sockets that `f` creates belong to that namespace for good, wherever they are used later.
/// A panic in `f` is carried on to the caller.
pub fn run_in_netns<T, F>(name: &str, f: F) -> Result<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let ns = open_netns(name)?;
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name(format!("netns:{name}"))
            .spawn_scoped(scope, move || {
                enter(&ns)?;
                drop(ns);
                Ok::<T, std::io::Error>(f())
            })
            .map_err(|e| LabError::io("starting a thread for the namespace", e))?;
        match worker.join() {
            Ok(outcome) => {
                outcome.map_err(|e| LabError::io(format!("entering network namespace {name}"), e))
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The names of all namespaces in `/run/netns` (what `ip netns list` shows), sorted.
pub fn list_netns() -> Result<Vec<String>> {
    let entries = match fs::read_dir(NETNS_RUN_DIR) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LabError::io(format!("listing {NETNS_RUN_DIR}"), e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| LabError::io(format!("listing {NETNS_RUN_DIR}"), e))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The process ids whose network namespace is `name` (what `ip netns pids` prints), leaving out
/// this process. A namespace that does not exist has none.
pub fn pids_in_netns(name: &str) -> Vec<i32> {
    let Ok(target) = fs::metadata(netns_path(name)) else {
        return Vec::new();
    };
    let own = std::process::id();
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            // stat follows the ns/net link to the namespace's nsfs inode, as `ip netns pids` does.
            fs::metadata(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino())
        })
        .filter_map(|pid| i32::try_from(pid).ok())
        .collect()
}

/// Sends SIGKILL to every process in namespace `name`; returns how many were signalled.
pub(crate) fn kill_all_in_netns(name: &str) -> usize {
    let pids = pids_in_netns(name);
    for &pid in &pids {
        // SAFETY: kill takes plain integers. A process that has exited in between is ignored.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    pids.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_files_live_under_run_netns() {
        assert_eq!(
            netns_path("lab-client"),
            PathBuf::from("/run/netns/lab-client")
        );
    }

    #[test]
    fn a_missing_namespace_is_a_clear_error() {
        let err = run_in_netns("rvs-lab-no-such-namespace", || ()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/run/netns/rvs-lab-no-such-namespace"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_namespace_has_no_processes() {
        assert!(pids_in_netns("rvs-lab-no-such-namespace").is_empty());
    }
}
