//! The seeds' topologies, ready to build, and the host preparations they share.

pub mod seed000;
pub mod seed002;
pub mod seed002_ha;
pub mod seed002_ha_conf;
pub mod seed004;

use std::fmt;
use std::net::Ipv4Addr;

pub use seed000::{DirectorVip, Seed000Dr};
pub use seed002::{NatDirector, Seed002Nat};
pub use seed002_ha::{Director, HaDirector, HaMode, Seed002Ha};
pub use seed004::{Seed004Tun, TunLayout};

use crate::addr::{Ipv4Cidr, MacAddr};
use crate::error::Result;
use crate::host::Host;
use crate::sysctl::{ArpAnnounce, ArpIgnore};

/// One configured interface of a lab host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    /// Its name inside the host (`eth0`).
    pub name: String,
    /// Its address.
    pub addr: Ipv4Cidr,
    /// Its hardware address.
    pub mac: MacAddr,
}

impl Iface {
    /// Reads the MAC of `name` in `host`, which has `addr`.
    pub(crate) fn read(host: &Host, name: &str, addr: Ipv4Cidr) -> Result<Self> {
        Ok(Iface {
            name: name.to_owned(),
            addr,
            mac: host.mac(name)?,
        })
    }

    /// The address without its prefix length.
    pub fn ip(&self) -> Ipv4Addr {
        self.addr.addr()
    }
}

impl fmt::Display for Iface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.name, self.addr, self.mac)
    }
}

/// A host with one interface, `eth0`.
#[derive(Debug, Clone)]
pub struct Node {
    /// The host.
    pub host: Host,
    /// Its only interface.
    pub eth0: Iface,
}

/// Prepares `host` as an LVS-DR real server the way the seeds do, in the safe order: first
/// `arp_ignore=1` and `arp_announce=2` on `all` and on `lo` (so that the host never answers
/// nor announces the VIP), only then the VIP as a `/32` on `lo`.
pub fn prepare_dr_real_server(host: &Host, vip: Ipv4Addr) -> Result<()> {
    host.set_arp_ignore("all", ArpIgnore::TargetOnInterface)?;
    host.set_arp_announce("all", ArpAnnounce::BestLocal)?;
    host.set_arp_ignore("lo", ArpIgnore::TargetOnInterface)?;
    host.set_arp_announce("lo", ArpAnnounce::BestLocal)?;
    host.add_addr("lo", Ipv4Cidr::host(vip))
}

/// An IPv4 CIDR for the constants of the topologies; a bad length fails the build.
pub(crate) const fn cidr(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Cidr {
    match Ipv4Cidr::new(Ipv4Addr::new(a, b, c, d), len) {
        Some(cidr) => cidr,
        None => panic!("prefix length above 32"),
    }
}
