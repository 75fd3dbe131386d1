//! The record `up` keeps of what it changed, so that `down` can undo exactly that.
//!
//! One JSON file per network namespace (see [`super::place`]). `up` saves it after every change
//! it makes, so that a failure half-way, or a crash, still leaves an accurate record; `down`
//! walks the changes newest first and removes the file once every one is undone.

use std::{
    io::{ErrorKind, Write},
    net::Ipv4Addr,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::{
    spec::{IfName, Spec},
    sysctl::Key,
};

/// The format version this code reads and writes.
pub const VERSION: u32 = 1;

/// How TUN-mode packets are decapsulated on this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum Decap {
    /// The kernel's tunnel device, which also carries the VIPs.
    Kernel {
        /// `tunl0` (ipip, gue) or `gre0` (gre).
        device: IfName,
    },
    /// rvs's XDP program on the interface; the VIPs are on `lo`.
    Xdp {
        /// Its pin directory.
        pin_dir: PathBuf,
    },
}

/// One change `up` made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A sysctl was `before` and `up` made it `after`.
    Sysctl {
        /// Which one.
        key: Key,
        /// Its value before `up` first changed it.
        before: u32,
        /// The value `up` wrote.
        after: u32,
    },
    /// `up` added this address.
    Address {
        /// The interface.
        dev: IfName,
        /// The address.
        addr: Ipv4Addr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// `up` set this interface up (it was down).
    LinkUp {
        /// The interface.
        dev: IfName,
    },
    /// `up` opened a GUE receive port (`ip fou add port N gue`).
    FouPort {
        /// The UDP port.
        port: u16,
    },
    /// `up` installed the XDP decapsulation program.
    DecapProgram {
        /// The interface it is attached to.
        ifname: IfName,
        /// Its pin directory.
        pin_dir: PathBuf,
    },
}

/// The state file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// [`VERSION`].
    pub version: u32,
    /// The inode of the network namespace `up` ran in: a file left by a namespace that has
    /// since been deleted (a lab taken down) is recognised as stale, not taken for this one's.
    pub netns_inode: u64,
    /// The configuration `up` applied.
    pub spec: Spec,
    /// TUN mode: how packets are decapsulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decap: Option<Decap>,
    /// Every change, oldest first.
    pub changes: Vec<Change>,
}

impl State {
    /// A state with no change yet, for the namespace with inode `netns_inode`.
    pub fn new(spec: Spec, decap: Option<Decap>, netns_inode: u64) -> State {
        State {
            version: VERSION,
            netns_inode,
            spec,
            decap,
            changes: Vec::new(),
        }
    }

    /// Records a change. A sysctl already recorded keeps its first `before` (what the host had
    /// before any `up`) and takes the new `after`; any other change already recorded is not
    /// recorded twice.
    pub fn record(&mut self, change: Change) {
        if let Change::Sysctl { key, after, .. } = &change
            && let Some(Change::Sysctl {
                after: old_after, ..
            }) = self
                .changes
                .iter_mut()
                .find(|c| matches!(c, Change::Sysctl { key: k, .. } if k == key))
        {
            *old_after = *after;
            return;
        }
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }
}

/// Reads the state file at `path` for the namespace with inode `netns_inode`; `None` when there
/// is none, or when it was left by another namespace since deleted (then it is said so on
/// stderr, and the file is junk that the next `up` or `down` replaces or removes).
pub fn load_for(path: &Path, netns_inode: u64) -> Result<Option<State>> {
    match load(path)? {
        Some(state) if state.netns_inode != netns_inode => {
            eprintln!(
                "note: ignoring {}: it was written in a network namespace that no longer exists",
                path.display()
            );
            Ok(None)
        }
        other => Ok(other),
    }
}

/// Reads the state file at `path`; `None` when there is none.
pub fn load(path: &Path) -> Result<Option<State>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading the state file {}", path.display()));
        }
    };
    let state: State = serde_json::from_str(&text).with_context(|| {
        format!(
            "the state file {} is damaged; fix or remove it",
            path.display()
        )
    })?;
    if state.version != VERSION {
        bail!(
            "the state file {} has version {}, this rvs reads version {VERSION}",
            path.display(),
            state.version
        );
    }
    Ok(Some(state))
}

/// Writes `state` to `path` atomically (a temporary file renamed over it).
pub fn save(path: &Path, state: &State) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(state).context("encoding the state")?;
    text.push('\n');
    let tmp = path.with_extension("json.tmp");
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing the state file {}", path.display()));
    }
    Ok(())
}

/// Removes the state file (nothing left to undo).
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing the state file {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realserver::{
        spec::{ModeArg, Vip},
        sysctl::{Scope, Setting},
    };

    fn spec() -> Spec {
        let vip: Vip = "192.168.0.100".parse().unwrap();
        Spec::new(
            &[vip],
            ModeArg::Dr,
            None,
            None,
            None,
            "eth0".parse().unwrap(),
        )
        .unwrap()
    }

    fn all_ignore() -> Key {
        Key::new(Scope::All, Setting::ArpIgnore)
    }

    #[test]
    fn a_sysctl_keeps_its_first_before_value() {
        let mut state = State::new(spec(), None, 7);
        state.record(Change::Sysctl {
            key: all_ignore(),
            before: 0,
            after: 1,
        });
        // Someone set it back to 3, a second `up` set it to 1 again: down must restore 0.
        state.record(Change::Sysctl {
            key: all_ignore(),
            before: 3,
            after: 1,
        });
        assert_eq!(
            state.changes,
            [Change::Sysctl {
                key: all_ignore(),
                before: 0,
                after: 1
            }]
        );
        let addr = Change::Address {
            dev: IfName::loopback(),
            addr: Ipv4Addr::new(192, 168, 0, 100),
            prefix_len: 32,
        };
        state.record(addr.clone());
        state.record(addr.clone());
        assert_eq!(state.changes.len(), 2);
        assert_eq!(state.changes[1], addr);
    }

    #[test]
    fn states_round_trip_through_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/host.json");
        assert_eq!(load(&path).unwrap(), None);
        let mut state = State::new(
            spec(),
            Some(Decap::Xdp {
                pin_dir: "/sys/fs/bpf/rvs/realserver-eth0".into(),
            }),
            7,
        );
        state.record(Change::Sysctl {
            key: all_ignore(),
            before: 0,
            after: 1,
        });
        state.record(Change::FouPort { port: 5555 });
        save(&path, &state).unwrap();
        assert_eq!(
            load_for(&path, 8).unwrap(),
            None,
            "another namespace's file"
        );
        assert_eq!(load_for(&path, 7).unwrap(), Some(state));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""change": "sysctl""#), "{text}");
        assert!(text.contains(r#""setting": "arp_ignore""#), "{text}");
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn damaged_and_foreign_files_are_refused_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = format!("{:#}", load(&path).unwrap_err());
        assert!(
            err.contains("damaged") && err.contains("host.json"),
            "{err}"
        );
        let mut state = State::new(spec(), None, 7);
        state.version = 7;
        std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("version 7"), "{err}");
    }
}
