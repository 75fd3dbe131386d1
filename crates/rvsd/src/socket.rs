//! Owning the control socket: one daemon per socket path, stale sockets replaced, the path
//! removed on exit.

use std::{
    fs::File,
    io,
    os::{fd::AsRawFd, unix::net::UnixStream},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};

/// The claimed socket path: a lock held for the daemon's life, and the path to remove on exit.
pub struct SocketClaim {
    path: PathBuf,
    _lock: File,
}

impl SocketClaim {
    /// Claims `path`: refuses when another rvsd holds it, removes a stale socket file.
    pub fn claim(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let lock_path = lock_path(path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            bail!("another rvsd is already running on {} (lock {} is held)", path.display(), lock_path.display());
        }
        match UnixStream::connect(path) {
            Ok(_) => {
                // We hold the lock, so the file is ours to remove; the listener is not rvsd.
                drop(lock);
                let _ = std::fs::remove_file(&lock_path);
                bail!("another process is already listening on {}", path.display())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                // A socket file nobody listens on: left behind by a daemon that died.
                std::fs::remove_file(path).with_context(|| format!("removing stale socket {}", path.display()))?;
            }
        }
        Ok(Self { path: path.to_owned(), _lock: lock })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketClaim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(lock_path(&self.path));
    }
}

fn lock_path(socket: &Path) -> PathBuf {
    let mut p = socket.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_claim_is_refused_and_stale_socket_replaced() {
        let dir = std::env::temp_dir().join(format!("rvsd-sock-{}", std::process::id()));
        let path = dir.join("rvsd.sock");
        let first = SocketClaim::claim(&path).expect("first claim");
        let _listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let err = SocketClaim::claim(&path).err().expect("second claim must fail");
        assert!(err.to_string().contains("already running"), "{err}");
        drop(_listener);
        drop(first);
        // A socket file without a listener (a crashed daemon) does not block a new claim.
        let _stale = std::os::unix::net::UnixListener::bind(&path).map(drop);
        let again = SocketClaim::claim(&path).expect("stale socket replaced");
        drop(again);
        let _ = std::fs::remove_dir_all(dir);
    }
}
