//! Replacing a file atomically, in two steps: the new content is written to a fresh file beside
//! the target ([`stage`]), and put in its place by a rename ([`Staged::commit`]). Between the two
//! the caller can do what must succeed first (rvsd puts a configuration in force, then saves
//! it); dropping a [`Staged`] without committing removes the new file.
//!
//! The fresh file has a random name and is created with `O_EXCL` (`create_new`), so a file or
//! symlink planted at a predictable name is never followed. It gets the mode and the owner
//! asked for from its creation, is synced before the rename, and the directory is synced after.
//!
//! [`stamp`] tells whether a file changed since it was last read or written (rvsd's
//! configuration file, the console's TLS certificate).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// What tells that a file was changed: its modification time, size and inode (a new file
/// renamed into place, as [`Staged::commit`] and certbot do, changes the inode).
pub type Stamp = Option<(std::time::SystemTime, u64, u64)>;

/// The stamp of the file `path` names (through symlinks, as stat follows them); `None` when it
/// cannot be read.
pub fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt as _;
    let meta = fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

/// A new content written beside its target, not in place yet.
#[derive(Debug)]
pub struct Staged {
    temp: Option<PathBuf>,
    target: PathBuf,
}

/// Writes `data` to a fresh file in `target`'s directory with `mode` and, when given, `owner`
/// (uid, gid).
pub fn stage(target: &Path, data: &[u8], mode: u32, owner: Option<(u32, u32)>) -> io::Result<Staged> {
    let dir = directory(target);
    let name = target.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| io::Error::other(format!("no random numbers: {e}")))?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let temp = dir.join(format!(".{}.{suffix}.tmp", name.to_string_lossy()));
    let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(&temp)?;
    let staged = Staged { temp: Some(temp), target: target.to_path_buf() };
    // The umask may have taken bits away; set exactly the mode asked for.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
    }
    file.write_all(data)?;
    file.sync_all()?;
    Ok(staged)
}

impl Staged {
    /// Puts the new content in place of the target.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        if let Err(e) = fs::rename(&temp, &self.target) {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        // The rename is durable once the directory is synced; some file systems refuse fsync on
        // a directory, and the new file is in place either way.
        if let Ok(d) = File::open(directory(&self.target)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

fn directory(target: &Path) -> &Path {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_then_committed_or_dropped() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let target = dir.path().join("rvs.toml");
        fs::write(&target, "old").unwrap_or_else(|e| panic!("{e}"));
        let staged = stage(&target, b"new", 0o640, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read_to_string(&target).ok().as_deref(), Some("old"), "not in place before commit");
        staged.commit().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read_to_string(&target).ok().as_deref(), Some("new"));
        assert_eq!(fs::metadata(&target).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o640));
        drop(stage(&target, b"newer", 0o600, None).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(fs::read_to_string(&target).ok().as_deref(), Some("new"), "a dropped stage changes nothing");
        let left: Vec<_> = fs::read_dir(dir.path()).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    }

    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap_or_else(|e| panic!("{e}"));
        let target = dir.path().join("rvs.toml");
        // Whatever name an attacker guesses, stage creates a new one with O_EXCL.
        for _ in 0..20 {
            let staged = stage(&target, b"x", 0o600, None).unwrap_or_else(|e| panic!("{e}"));
            staged.commit().unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(fs::read_to_string(&victim).ok().as_deref(), Some("precious"));
    }
}
