//! One rvsd per instance: the instance's pinned maps are its state, and a second daemon that
//! reused them would clear the first one's configuration under its feet. A lock file held for
//! the daemon's life (`/run/rvs/instances/<name>.lock`, containing its pid) guards them.

use std::{
    fs::File,
    io::{Read, Seek, Write},
    os::fd::AsRawFd,
    path::PathBuf,
};

use anyhow::{Context, Result, bail};

/// Where instance locks live.
const LOCK_DIR: &str = "/run/rvs/instances";

/// The held lock of an instance; released (and removed) on drop.
pub struct InstanceLock {
    path: PathBuf,
    _file: File,
}

impl InstanceLock {
    /// Takes the lock of `instance`, or explains who holds it.
    pub fn acquire(instance: &str) -> Result<Self> {
        std::fs::create_dir_all(LOCK_DIR).with_context(|| format!("creating {LOCK_DIR}"))?;
        let path = PathBuf::from(LOCK_DIR).join(format!("{instance}.lock"));
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            bail!(
                "instance {instance} is in use by another rvsd{}; give this one another --instance",
                if holder.is_empty() { String::new() } else { format!(" (pid {holder})") }
            );
        }
        file.set_len(0).context("truncating the instance lock")?;
        file.rewind().context("rewinding the instance lock")?;
        write!(file, "{}", std::process::id()).context("writing the instance lock")?;
        Ok(Self { path, _file: file })
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
