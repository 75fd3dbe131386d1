//! Removing everything a lab prefix owns, whether or not the process that made it is alive.
//!
//! `ip netns del` only removes a namespace's name: the namespace itself lives on while a
//! process is inside it. So processes are killed first, then the names go; the kernel then
//! frees the namespaces, and their veths and bridges with them.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{LabError, Result};
use crate::ip::ip;
use crate::names::Prefix;
use crate::netns::{kill_all_in_netns, list_netns, netns_path};

/// Where rvs pins its BPF objects; a lab's pins live in directories named after its prefix
/// (`<prefix>` or `<prefix>-<anything>`, e.g. the director's namespace name).
pub const BPF_PIN_ROOT: &str = "/sys/fs/bpf/rvs";

/// Where labs keep the logs of the programs they start: `<LOG_ROOT>/<prefix>/`.
pub fn log_root() -> PathBuf {
    std::env::temp_dir().join("rvs-lab")
}

/// What [`down_prefix`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DownReport {
    /// The namespaces deleted.
    pub namespaces: Vec<String>,
    /// How many processes were killed inside them.
    pub killed: usize,
    /// The pinned-object directories removed.
    pub bpf_dirs: Vec<PathBuf>,
}

impl DownReport {
    /// Whether nothing was found to remove.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.killed == 0 && self.bpf_dirs.is_empty()
    }
}

/// Removes everything that belongs to lab prefix `prefix`: kills every process in its
/// namespaces, deletes the namespaces (`<prefix>-*` in `ip netns list`), removes its pinned BPF
/// objects under [`BPF_PIN_ROOT`] and its log directory. Safe to call when nothing is left.
pub fn down_prefix(prefix: &str) -> Result<DownReport> {
    down_prefix_with(&Prefix::new(prefix)?, Path::new(BPF_PIN_ROOT), true)
}

/// [`down_prefix`] with the pin root given, and the logs kept if `remove_logs` is false.
pub(crate) fn down_prefix_with(
    prefix: &Prefix,
    bpf_root: &Path,
    remove_logs: bool,
) -> Result<DownReport> {
    let mut report = DownReport::default();
    let mut failures = Vec::new();
    for name in list_netns()?.into_iter().filter(|name| prefix.owns(name)) {
        report.killed += kill_all_in_netns(&name);
        match ip(&["netns", "del", &name]) {
            Ok(_) => report.namespaces.push(name),
            // Someone else (a concurrent `down`) removed it first: that is what we wanted.
            Err(_) if !netns_path(&name).exists() => {}
            Err(e) => failures.push(e.to_string()),
        }
    }
    match remove_owned_dirs(prefix, bpf_root) {
        Ok(dirs) => report.bpf_dirs = dirs,
        Err(e) => failures.push(e.to_string()),
    }
    if remove_logs {
        let logs = log_root().join(prefix.as_str());
        if let Err(e) = fs::remove_dir_all(&logs)
            && e.kind() != ErrorKind::NotFound
        {
            failures.push(format!("removing {}: {e}", logs.display()));
        }
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(LabError::Teardown {
            prefix: prefix.to_string(),
            failures: failures.join("; "),
        })
    }
}

/// Removes the directories directly under `root` that `prefix` owns; returns them.
fn remove_owned_dirs(prefix: &Prefix, root: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LabError::io(format!("listing {}", root.display()), e)),
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let owned = entry
            .file_name()
            .to_str()
            .is_some_and(|name| prefix.owns(name));
        if !owned {
            continue;
        }
        let path = entry.path();
        let result = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(LabError::io(format!("removing {}", path.display()), e)),
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_prefixs_pin_directories_go() {
        let root = std::env::temp_dir().join(format!("rvs-lab-pins-{}", std::process::id()));
        for dir in ["lab", "lab-director/maps", "lab2-director", "labx", "other"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("lab-director/maps/conn"), b"").unwrap();
        fs::write(root.join("lab-stray-pin"), b"").unwrap();

        let removed = remove_owned_dirs(&Prefix::new("lab").unwrap(), &root).unwrap();
        assert_eq!(
            removed,
            vec![
                root.join("lab"),
                root.join("lab-director"),
                root.join("lab-stray-pin")
            ]
        );
        let mut left: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["lab2-director", "labx", "other"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_pin_root_is_nothing_to_do() {
        let root = Path::new("/nonexistent/rvs-lab/pins");
        assert!(
            remove_owned_dirs(&Prefix::new("lab").unwrap(), root)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_prefixes_are_refused_before_anything_is_touched() {
        assert!(matches!(
            down_prefix("Lab-x"),
            Err(LabError::InvalidName { .. })
        ));
    }
}
