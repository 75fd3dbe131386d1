//! The per-interface IPv4 sysctls a real server needs: `arp_ignore`, `arp_announce` and
//! `rp_filter` under `/proc/sys/net/ipv4/conf/<scope>/`.
//!
//! `/proc/sys/net` shows the network namespace of the process reading it, so these are the
//! settings of the namespace `rvs` runs in. For all three the kernel uses the larger of the
//! `all` value and the interface's own (`IN_DEV_MAXCONF`): that is the *effective* value.

use std::{fmt, io, path::PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::spec::IfName;

/// Where the tree lives on a real system.
pub const PROC_CONF: &str = "/proc/sys/net/ipv4/conf";

/// One of the three settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// When to answer ARP requests for local addresses.
    ArpIgnore,
    /// Which source address our own ARP requests carry.
    ArpAnnounce,
    /// Reverse-path source validation.
    RpFilter,
}

impl Setting {
    /// The file name under the scope's directory.
    pub fn file(self) -> &'static str {
        match self {
            Setting::ArpIgnore => "arp_ignore",
            Setting::ArpAnnounce => "arp_announce",
            Setting::RpFilter => "rp_filter",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file())
    }
}

/// `all` or one interface (written as `"all"` or the interface's name in files).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    /// `net.ipv4.conf.all`.
    All,
    /// `net.ipv4.conf.<ifname>`.
    If(IfName),
}

impl Scope {
    /// The directory name.
    pub fn as_str(&self) -> &str {
        match self {
            Scope::All => "all",
            Scope::If(name) => name.as_str(),
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        if name == "all" {
            Ok(Scope::All)
        } else {
            IfName::try_from(name).map(Scope::If)
        }
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.as_str().to_owned()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sysctl: a setting in a scope.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    /// `all` or the interface.
    pub scope: Scope,
    /// Which setting.
    pub setting: Setting,
}

impl Key {
    /// `setting` in `scope`.
    pub fn new(scope: Scope, setting: Setting) -> Key {
        Key { scope, setting }
    }

    /// The name `sysctl` and sysctl.d files use: `net.ipv4.conf.eth0.arp_ignore`, or the
    /// slash form `net/ipv4/conf/eth0.100/arp_ignore` when the interface name holds a dot.
    pub fn sysctl_name(&self) -> String {
        let scope = self.scope.as_str();
        if scope.contains('.') {
            format!("net/ipv4/conf/{scope}/{}", self.setting)
        } else {
            format!("net.ipv4.conf.{scope}.{}", self.setting)
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.setting, self.scope)
    }
}

/// A `/proc/sys/net/ipv4/conf` tree (a plain directory in unit tests).
#[derive(Clone, Debug)]
pub struct ConfTree {
    root: PathBuf,
}

impl ConfTree {
    /// The tree of the namespace this process runs in.
    pub fn proc() -> ConfTree {
        ConfTree {
            root: PathBuf::from(PROC_CONF),
        }
    }

    /// A tree rooted elsewhere.
    #[cfg(test)]
    pub fn at(root: &std::path::Path) -> ConfTree {
        ConfTree {
            root: root.to_owned(),
        }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.root.join(key.scope.as_str()).join(key.setting.file())
    }

    /// The value of `key`, or `None` when its interface does not exist.
    pub fn read(&self, key: &Key) -> Result<Option<u32>> {
        let path = self.path(key);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let value = text
            .trim()
            .parse()
            .with_context(|| format!("{} holds {:?}, not a number", path.display(), text.trim()))?;
        Ok(Some(value))
    }

    /// The value of `key`; a missing interface is an error naming it.
    pub fn read_existing(&self, key: &Key) -> Result<u32> {
        match self.read(key)? {
            Some(v) => Ok(v),
            None => bail!(
                "there is no interface {} ({} does not exist)",
                key.scope,
                self.path(key).display()
            ),
        }
    }

    /// Writes `value` to `key`.
    pub fn write(&self, key: &Key, value: u32) -> Result<()> {
        let path = self.path(key);
        std::fs::write(&path, value.to_string()).with_context(|| {
            format!(
                "setting {} to {value} (writing {})",
                key.sysctl_name(),
                path.display()
            )
        })
    }
}

/// The two values behind the setting the kernel acts on for an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    /// `all`'s value.
    pub all: u32,
    /// The interface's own value.
    pub own: u32,
}

impl Effective {
    /// What the kernel uses.
    pub fn value(self) -> u32 {
        self.all.max(self.own)
    }

    /// `1 (all 1, eth0 0)`.
    pub fn describe(self, ifname: &IfName) -> String {
        format!("{} (all {}, {ifname} {})", self.value(), self.all, self.own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(values: &[(&str, &str, &str)]) -> (tempfile::TempDir, ConfTree) {
        let dir = tempfile::tempdir().unwrap();
        for (scope, setting, value) in values {
            std::fs::create_dir_all(dir.path().join(scope)).unwrap();
            std::fs::write(dir.path().join(scope).join(setting), format!("{value}\n")).unwrap();
        }
        let tree = ConfTree::at(dir.path());
        (dir, tree)
    }

    fn eth0() -> IfName {
        "eth0".parse().unwrap()
    }

    #[test]
    fn effective_is_the_larger_of_all_and_the_interface() {
        let e = Effective { all: 1, own: 0 };
        assert_eq!(e.value(), 1);
        assert_eq!(e.describe(&eth0()), "1 (all 1, eth0 0)");
        assert_eq!(Effective { all: 0, own: 2 }.value(), 2);
    }

    #[test]
    fn missing_interfaces_read_as_none_and_fail_clearly_when_needed() {
        let (_dir, t) = tree(&[("all", "arp_ignore", "0")]);
        let key = Key::new(Scope::If("eth9".parse().unwrap()), Setting::ArpIgnore);
        assert_eq!(t.read(&key).unwrap(), None);
        let err = t.read_existing(&key).unwrap_err().to_string();
        assert!(err.contains("no interface eth9"), "{err}");
    }

    #[test]
    fn writes_land_in_the_right_file_and_garbage_is_reported() {
        let (dir, t) = tree(&[("all", "arp_announce", "0"), ("lo", "arp_announce", "junk")]);
        let key = Key::new(Scope::All, Setting::ArpAnnounce);
        t.write(&key, 2).unwrap();
        assert_eq!(t.read(&key).unwrap(), Some(2));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("all/arp_announce")).unwrap(),
            "2"
        );
        let lo = Key::new(Scope::If(IfName::loopback()), Setting::ArpAnnounce);
        let err = format!("{:#}", t.read(&lo).unwrap_err());
        assert!(err.contains("not a number"), "{err}");
    }

    #[test]
    fn names_are_sysctl_names() {
        let key = Key::new(Scope::If(eth0()), Setting::RpFilter);
        assert_eq!(key.sysctl_name(), "net.ipv4.conf.eth0.rp_filter");
        assert_eq!(key.to_string(), "rp_filter on eth0");
        let vlan = Key::new(Scope::If("eth0.100".parse().unwrap()), Setting::ArpIgnore);
        assert_eq!(vlan.sysctl_name(), "net/ipv4/conf/eth0.100/arp_ignore");
        assert_eq!(
            Key::new(Scope::All, Setting::ArpIgnore).sysctl_name(),
            "net.ipv4.conf.all.arp_ignore"
        );
    }
}
