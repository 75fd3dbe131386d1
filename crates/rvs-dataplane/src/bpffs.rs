//! The BPF filesystem where an instance pins its maps.
//!
//! Pins live in `<bpffs>/rvs/<instance>/`. Maps pinned there outlive the daemon, which is what
//! lets a restarted rvsd find the same connection table (see `docs/dev/dataplane.md`).

use std::{
    ffi::CString,
    io,
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
};

use crate::error::DataplaneError;

/// `statfs(2)` magic of a BPF filesystem.
const BPF_FS_MAGIC: i64 = 0xcafe_4a11;

/// Whether `path` is the root of a mounted BPF filesystem.
pub fn is_bpffs(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs writes into a zeroed struct we own.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid NUL-terminated path and out-pointer.
    let rc = unsafe { libc::statfs(c_path.as_ptr(), &mut st) };
    rc == 0 && st.f_type == BPF_FS_MAGIC
}

/// Makes sure a BPF filesystem is mounted at `root`, mounting one if needed (`ip netns exec`
/// remounts /sys and leaves /sys/fs/bpf empty in its private mount namespace).
pub fn ensure_bpffs(root: &Path) -> Result<(), DataplaneError> {
    if is_bpffs(root) {
        return Ok(());
    }
    let err = |source| DataplaneError::Bpffs { path: root.to_owned(), source };
    std::fs::create_dir_all(root).map_err(err)?;
    let target = CString::new(root.as_os_str().as_bytes())
        .map_err(|_| err(io::Error::from(io::ErrorKind::InvalidInput)))?;
    // SAFETY: valid NUL-terminated strings; no mount data.
    let rc = unsafe {
        libc::mount(c"bpf".as_ptr(), target.as_ptr(), c"bpf".as_ptr(), 0, std::ptr::null())
    };
    if rc != 0 {
        return Err(err(io::Error::last_os_error()));
    }
    tracing::info!(path = %root.display(), "mounted a BPF filesystem");
    Ok(())
}

/// The pin directory of `instance` under the BPF filesystem `root`.
pub fn instance_dir(root: &Path, instance: &str) -> PathBuf {
    root.join("rvs").join(instance)
}

/// Removes an instance's pins (everything in its directory, then the directory).
pub fn remove_instance_dir(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
