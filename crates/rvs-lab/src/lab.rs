//! A lab: a set of hosts (network namespaces named `<prefix>-<host>`), the veth links between
//! them and the L2 switches (bridges in namespaces of their own) they plug into. The root
//! namespace of the machine is never changed: every interface is created directly inside its
//! namespace.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::{LabError, Result};
use crate::host::Host;
use crate::ip::ip;
use crate::names::{HostName, IfName, Prefix};
use crate::netns::{NETNS_ADD_LOCK, list_netns};
use crate::sysctl::{SysctlKey, read_here, write_here};
use crate::teardown::{BPF_PIN_ROOT, DownReport, down_prefix, down_prefix_with, log_root};

/// The bridge device inside every switch namespace.
pub const BRIDGE: &str = "br0";

/// A lab. Dropping it, or calling [`Lab::down`], kills every process in its namespaces and
/// deletes every namespace that carries its prefix.
pub struct Lab {
    prefix: Prefix,
    log_dir: PathBuf,
    state: Mutex<LabState>,
    is_down: AtomicBool,
}

#[derive(Default)]
struct LabState {
    hosts: BTreeMap<HostName, Host>,
    switches: BTreeMap<HostName, Switch>,
}

impl fmt::Debug for Lab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lab")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Lab {
    /// Starts an empty lab. Fails with [`LabError::PrefixInUse`] if namespaces with this prefix
    /// exist already (see [`Lab::new_replacing`]).
    pub fn new(prefix: &str) -> Result<Lab> {
        let prefix = Prefix::new(prefix)?;
        let existing: Vec<String> = list_netns()?
            .into_iter()
            .filter(|n| prefix.owns(n))
            .collect();
        if !existing.is_empty() {
            return Err(LabError::PrefixInUse {
                prefix: prefix.to_string(),
                existing: existing.join(", "),
            });
        }
        let log_dir = log_root().join(prefix.as_str());
        // Logs a failed earlier run kept for inspection.
        let _ = fs::remove_dir_all(&log_dir);
        fs::create_dir_all(&log_dir)
            .map_err(|e| LabError::io(format!("creating {}", log_dir.display()), e))?;
        Ok(Lab {
            prefix,
            log_dir,
            state: Mutex::new(LabState::default()),
            is_down: AtomicBool::new(false),
        })
    }

    /// Removes whatever a crashed earlier lab with this prefix left ([`down_prefix`]), then
    /// starts an empty lab.
    pub fn new_replacing(prefix: &str) -> Result<Lab> {
        down_prefix(prefix)?;
        Lab::new(prefix)
    }

    /// The lab's prefix.
    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// Where the logs of programs started with [`Host::spawn`] go. Kept after a teardown that
    /// happens while the thread panics, for the post-mortem.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    fn state(&self) -> MutexGuard<'_, LabState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates host `name`: namespace `<prefix>-<name>` with `lo` up, forwarding off, and the
    /// ARP and reverse-path sysctls at the kernel's defaults. (A new namespace copies the
    /// IPv4 `all`/`default` settings of the machine's own namespace, so without this reset a
    /// lab would behave differently on a machine with, say, `ip_forward=1`.)
    pub fn add_host(&self, name: &str) -> Result<Host> {
        let name = HostName::host(name)?;
        let netns = self.prefix.host_netns(&name);
        let host = Host::new(name.clone(), netns.clone(), self.log_dir.clone());
        {
            let mut state = self.state();
            if state.hosts.contains_key(&name) {
                return Err(LabError::Topology(format!(
                    "lab {} already has a host {name}",
                    self.prefix
                )));
            }
            self.add_netns(&netns)?;
            state.hosts.insert(name, host.clone());
        }
        host.link_up("lo")?;
        let mut defaults = vec![(SysctlKey::ip_forward(), "0".to_owned())];
        for scope in ["all", "default"] {
            let scope = IfName::new(scope)?;
            for setting in ["arp_ignore", "arp_announce", "rp_filter"] {
                defaults.push((SysctlKey::ipv4_conf(&scope, setting), "0".to_owned()));
            }
        }
        host.write_sysctls(&defaults)?;
        Ok(host)
    }

    /// Creates switch `name`: namespace `<prefix>-sw-<name>` holding bridge [`BRIDGE`], with
    /// no IP stack of its own talking on the wire (IPv6 off) and bridge netfilter off.
    pub fn add_switch(&self, name: &str) -> Result<Switch> {
        let name = HostName::switch(name)?;
        let netns = self.prefix.switch_netns(&name);
        let switch = Switch {
            host: Host::new(name.clone(), netns.clone(), self.log_dir.clone()),
            ports: std::sync::Arc::new(AtomicU32::new(0)),
            plugged: std::sync::Arc::default(),
        };
        {
            let mut state = self.state();
            if state.switches.contains_key(&name) {
                return Err(LabError::Topology(format!(
                    "lab {} already has a switch {name}",
                    self.prefix
                )));
            }
            self.add_netns(&netns)?;
            state.switches.insert(name, switch.clone());
        }
        let host = &switch.host;
        host.link_up("lo")?;
        host.ip(&["link", "add", BRIDGE, "type", "bridge"])?;
        host.link_up(BRIDGE)?;
        host.run_in(quiet_switch_stack)??;
        Ok(switch)
    }

    fn add_netns(&self, netns: &str) -> Result<()> {
        let _turn = NETNS_ADD_LOCK
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ip(&["netns", "add", netns]).map(drop)
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Result<Host> {
        let key = HostName::host(name)?;
        self.state()
            .hosts
            .get(&key)
            .cloned()
            .ok_or_else(|| LabError::Topology(format!("lab {} has no host {name}", self.prefix)))
    }

    /// The switch called `name`.
    pub fn switch(&self, name: &str) -> Result<Switch> {
        let key = HostName::switch(name)?;
        self.state()
            .switches
            .get(&key)
            .cloned()
            .ok_or_else(|| LabError::Topology(format!("lab {} has no switch {name}", self.prefix)))
    }

    /// All hosts, by name.
    pub fn hosts(&self) -> Vec<Host> {
        self.state().hosts.values().cloned().collect()
    }

    /// Connects interface `a_if` of host `a` to interface `b_if` of host `b` with a veth pair,
    /// and brings both ends up.
    pub fn link(&self, a: &Host, a_if: &str, b: &Host, b_if: &str) -> Result<()> {
        let (a_if, b_if) = (IfName::new(a_if)?, IfName::new(b_if)?);
        ip(&[
            "-n",
            a.netns(),
            "link",
            "add",
            a_if.as_str(),
            "type",
            "veth",
            "peer",
            "name",
            b_if.as_str(),
            "netns",
            b.netns(),
        ])?;
        a.link_up(a_if.as_str())?;
        b.link_up(b_if.as_str())
    }

    /// Plugs host `host` into `switch` through a new interface `ifname` of the host. The
    /// switch side is a bridge port called `<host>-<ifname>` (or `p<N>` when that is too long).
    pub fn plug(&self, switch: &Switch, host: &Host, ifname: &str) -> Result<()> {
        let ifname = IfName::new(ifname)?;
        let n = switch.ports.fetch_add(1, Ordering::Relaxed);
        let port = IfName::new(&format!("{}-{ifname}", host.name()))
            .or_else(|_| IfName::new(&format!("p{n}")))?;
        ip(&[
            "-n",
            host.netns(),
            "link",
            "add",
            ifname.as_str(),
            "type",
            "veth",
            "peer",
            "name",
            port.as_str(),
            "netns",
            switch.netns(),
        ])?;
        switch
            .host
            .ip(&["link", "set", "dev", port.as_str(), "master", BRIDGE])?;
        switch.host.link_up(port.as_str())?;
        switch
            .plugged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Plugged {
                netns: host.netns().to_owned(),
                ifname: ifname.clone(),
                port,
            });
        host.link_up(ifname.as_str())
    }

    /// Tears the lab down: kills every process in its namespaces, deletes every namespace with
    /// its prefix, its pinned BPF objects and its logs (kept if this thread is panicking).
    /// Leaves the lab running after this value is gone (for `rvs lab up`); [`crate::down_prefix`]
    /// takes it down later.
    pub fn keep(self) {
        self.disarm();
    }

    /// As [`Lab::keep`], in place: dropping this value no longer takes the lab down.
    pub fn disarm(&self) {
        self.is_down.store(true, Ordering::SeqCst);
    }

    /// Calling it again does nothing.
    pub fn down(&self) -> Result<DownReport> {
        self.is_down.store(true, Ordering::SeqCst);
        let keep_logs = std::thread::panicking();
        let report = down_prefix_with(&self.prefix, Path::new(BPF_PIN_ROOT), !keep_logs)?;
        if keep_logs {
            eprintln!(
                "rvs-lab: lab {} torn down after a panic; logs kept in {}",
                self.prefix,
                self.log_dir.display()
            );
        }
        Ok(report)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.is_down.load(Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self.down() {
            eprintln!("rvs-lab: {e}");
        }
    }
}

/// Runs inside a switch namespace: the switch must only forward frames, never send its own
/// (router solicitations, MLD, DAD), and bridged frames must not go through netfilter when
/// `br_netfilter` happens to be loaded on the machine.
fn quiet_switch_stack() -> Result<()> {
    for key in [
        "net.ipv6.conf.all.disable_ipv6",
        "net.ipv6.conf.default.disable_ipv6",
    ] {
        let key = SysctlKey::dotted(key)?;
        if key.path().exists() {
            write_here(&key, "1")?;
        }
    }
    for key in [
        "net.bridge.bridge-nf-call-iptables",
        "net.bridge.bridge-nf-call-ip6tables",
        "net.bridge.bridge-nf-call-arptables",
    ] {
        let key = SysctlKey::dotted(key)?;
        if key.path().exists() && read_here(&key)? != "0" {
            write_here(&key, "0")?;
        }
    }
    Ok(())
}

/// An L2 switch of a lab: bridge [`BRIDGE`] in namespace `<prefix>-sw-<name>`.
#[derive(Clone, Debug)]
pub struct Switch {
    host: Host,
    ports: std::sync::Arc<AtomicU32>,
    /// What [`Lab::plug`] plugged in, to find a host's port again.
    plugged: std::sync::Arc<Mutex<Vec<Plugged>>>,
}

/// One host interface plugged into a switch, and the bridge port it is plugged into.
#[derive(Clone, Debug)]
struct Plugged {
    netns: String,
    ifname: IfName,
    port: IfName,
}

impl Switch {
    /// The switch's name in the lab.
    pub fn name(&self) -> &str {
        self.host.name()
    }

    /// Its namespace.
    pub fn netns(&self) -> &str {
        self.host.netns()
    }

    /// The switch's namespace as a host, to run things there: `tcpdump -i br0` in it sees every
    /// frame crossing the switch.
    pub fn as_host(&self) -> &Host {
        &self.host
    }

    /// The bridge port (in the switch's namespace) that interface `ifname` of `host` is
    /// plugged into, if [`Lab::plug`] plugged it here.
    pub fn port_of(&self, host: &Host, ifname: &str) -> Option<String> {
        self.plugged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|p| p.netns == host.netns() && p.ifname.as_str() == ifname)
            .map(|p| p.port.as_str().to_owned())
    }

    fn port_or_err(&self, host: &Host, ifname: &str) -> Result<String> {
        self.port_of(host, ifname).ok_or_else(|| {
            LabError::Topology(format!(
                "{}'s {ifname} is not plugged into switch {}",
                host.name(),
                self.name()
            ))
        })
    }

    /// Pulls the cable of `host`'s `ifname` at the switch: the bridge port goes down, so the
    /// switch forwards nothing to or from it and the host sees its link lose carrier (as a
    /// real NIC does when its cable is pulled). [`Switch::reconnect`] plugs it back.
    pub fn disconnect(&self, host: &Host, ifname: &str) -> Result<()> {
        let port = self.port_or_err(host, ifname)?;
        self.host
            .ip(&["link", "set", "dev", port.as_str(), "down"])
            .map(drop)
    }

    /// Takes `host`'s `ifname` off the switch without the host noticing: the port leaves the
    /// bridge but stays up, so the host keeps carrier and goes on sending into the void, as
    /// a machine behind a dead switch or a broken far-end link does.
    /// [`Switch::reconnect`] plugs it back.
    pub fn isolate(&self, host: &Host, ifname: &str) -> Result<()> {
        let port = self.port_or_err(host, ifname)?;
        self.host
            .ip(&["link", "set", "dev", port.as_str(), "nomaster"])
            .map(drop)
    }

    /// Undoes [`Switch::disconnect`] or [`Switch::isolate`]: the port is in the bridge and up.
    pub fn reconnect(&self, host: &Host, ifname: &str) -> Result<()> {
        let port = self.port_or_err(host, ifname)?;
        self.host
            .ip(&["link", "set", "dev", port.as_str(), "master", BRIDGE])?;
        self.host.link_up(port.as_str())
    }
}
