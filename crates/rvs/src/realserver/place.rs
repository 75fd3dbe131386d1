//! Where `rvs realserver` keeps things: its state file, its pinned decapsulation program and the
//! files of `--persist`. Sysctls and addresses belong to a network namespace, so everything
//! that records them is named after the namespace `rvs` runs in: `host` for the machine's own,
//! the `ip netns` name for a named one, `netns-<inode>` for any other.

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

use super::spec::IfName;

/// Default directory of the state files.
pub const STATE_DIR: &str = "/run/rvs/realserver";
/// Default directory of the sysctl.d file `--persist` writes.
pub const SYSCTL_DIR: &str = "/etc/sysctl.d";
/// Default directory of the systemd unit `--persist` writes.
pub const SYSTEMD_DIR: &str = "/etc/systemd/system";
/// Where rvs pins its BPF objects.
pub const BPF_PIN_ROOT: &str = "/sys/fs/bpf/rvs";
/// Where iproute2 keeps named namespaces.
const NETNS_RUN_DIR: &str = "/run/netns";

/// The network namespace this process runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Netns {
    /// The machine's own (the one init and the kernel's threads live in).
    Host,
    /// A namespace `ip netns` knows by this name.
    Named(String),
    /// A namespace without a name (a container's), by inode.
    Anonymous(u64),
}

impl Netns {
    /// Finds out which namespace this process is in.
    pub fn current() -> Result<Netns> {
        let own = std::fs::metadata("/proc/self/ns/net").context("reading /proc/self/ns/net")?;
        let id = (own.dev(), own.ino());
        // Init's namespace, else kthreadd's (a kernel thread, always in the machine's namespace,
        // and readable where process 1 is not, as in some sandboxes).
        let init = ["/proc/1/ns/net", "/proc/2/ns/net"]
            .iter()
            .find_map(|p| std::fs::metadata(p).ok());
        if init.is_some_and(|init| (init.dev(), init.ino()) == id) {
            return Ok(Netns::Host);
        }
        if let Ok(entries) = std::fs::read_dir(NETNS_RUN_DIR) {
            let mut names: Vec<_> = entries
                .flatten()
                .filter(|e| e.metadata().is_ok_and(|m| (m.dev(), m.ino()) == id))
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect();
            names.sort();
            if let Some(name) = names.into_iter().next() {
                return Ok(Netns::Named(name));
            }
        }
        Ok(Netns::Anonymous(own.ino()))
    }

    /// The inode of this process's network namespace (its identity while it exists).
    pub fn current_inode() -> Result<u64> {
        Ok(std::fs::metadata("/proc/self/ns/net")
            .context("reading /proc/self/ns/net")?
            .ino())
    }

    /// The name files are called after.
    pub fn file_stem(&self) -> String {
        match self {
            Netns::Host => "host".to_owned(),
            Netns::Named(name) => name.clone(),
            Netns::Anonymous(ino) => format!("netns-{ino}"),
        }
    }

    /// Where the decapsulation program on `ifname` is pinned: `realserver-<ifname>` under
    /// [`BPF_PIN_ROOT`] in the machine's namespace; elsewhere the namespace's name comes first
    /// (`<netns>-realserver-<ifname>`), since every namespace may have an `eth0` and the BPF
    /// filesystem is shared by all of them. (A lab's teardown removes `<prefix>-*` pins too.)
    pub fn pin_dir(&self, root: &Path, ifname: &IfName) -> PathBuf {
        match self {
            Netns::Host => root.join(format!("realserver-{ifname}")),
            other => root.join(format!("{}-realserver-{ifname}", other.file_stem())),
        }
    }
}

/// The directories `rvs realserver` writes to (all overridable, for tests).
#[derive(Clone, Debug)]
pub struct Places {
    /// The namespace.
    pub netns: Netns,
    /// Its inode.
    pub netns_inode: u64,
    /// State files.
    pub state_dir: PathBuf,
    /// sysctl.d.
    pub sysctl_dir: PathBuf,
    /// systemd units.
    pub systemd_dir: PathBuf,
    /// BPF pins.
    pub pin_root: PathBuf,
}

impl Places {
    /// The state file of this namespace.
    pub fn state_file(&self) -> PathBuf {
        self.state_dir
            .join(format!("{}.json", self.netns.file_stem()))
    }

    /// The pin directory of the decapsulation program on `ifname`.
    pub fn pin_dir(&self, ifname: &IfName) -> PathBuf {
        self.netns.pin_dir(&self.pin_root, ifname)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_after_the_namespace() {
        assert_eq!(Netns::Host.file_stem(), "host");
        assert_eq!(Netns::Named("e2abc-rs".into()).file_stem(), "e2abc-rs");
        assert_eq!(Netns::Anonymous(4026532000).file_stem(), "netns-4026532000");
        let places = Places {
            netns: Netns::Named("lab-rs".into()),
            netns_inode: 1,
            state_dir: "/run/rvs/realserver".into(),
            sysctl_dir: "/etc/sysctl.d".into(),
            systemd_dir: "/etc/systemd/system".into(),
            pin_root: BPF_PIN_ROOT.into(),
        };
        assert_eq!(
            places.state_file(),
            Path::new("/run/rvs/realserver/lab-rs.json")
        );
    }

    #[test]
    fn pins_of_other_namespaces_carry_their_name() {
        let eth0: IfName = "eth0".parse().unwrap();
        let root = Path::new(BPF_PIN_ROOT);
        assert_eq!(
            Netns::Host.pin_dir(root, &eth0),
            Path::new("/sys/fs/bpf/rvs/realserver-eth0")
        );
        assert_eq!(
            Netns::Named("lab-rs".into()).pin_dir(root, &eth0),
            Path::new("/sys/fs/bpf/rvs/lab-rs-realserver-eth0")
        );
    }

    #[test]
    fn this_process_is_somewhere() {
        // Whatever namespace the test runs in, it has a usable name.
        let here = Netns::current().unwrap();
        assert!(!here.file_stem().is_empty());
        assert!(!here.file_stem().contains('/'));
    }
}
