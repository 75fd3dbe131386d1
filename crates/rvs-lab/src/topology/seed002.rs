//! Seed 002: an LVS-NAT cluster, the director between a public and a private network.
//!
//! ```text
//!  client 192.168.1.100/24 ──┐                               ┌── realserver1 10.0.0.100/16
//!                     switch "public"                  switch "private"     (gw 10.0.0.254)
//!  director eth0 192.168.1.10/24 ┘  director eth1 10.0.0.10/16 ┴── realserver2 10.0.0.200/16
//!           VIP 192.168.1.250/24 (eth0:1)   nat_router 10.0.0.254/16 (eth1:1, floating)
//! ```
//! The real servers' default gateway is the floating `nat_router` address on the director, so
//! every reply comes back through it to be rewritten. The director forwards (`ip_forward=1`, as
//! the seed sets it). The `nat_router` address is left off: in the seed pulse owns it, in rvs
//! rvsd does (`--nat-router`). Both networks are switches so that a backup director can join.

use std::fmt;
use std::net::Ipv4Addr;

use super::{Iface, Node, cidr};
use crate::addr::Ipv4Cidr;
use crate::error::Result;
use crate::host::Host;
use crate::lab::{Lab, Switch};

/// The VIP, with the seed's `vip_nmask` (255.255.255.0).
pub const VIP: Ipv4Cidr = cidr(192, 168, 1, 250, 24);
/// The client, on the public network.
pub const CLIENT: Ipv4Cidr = cidr(192, 168, 1, 100, 24);
/// The director's public address (`primary`).
pub const DIRECTOR_PUBLIC: Ipv4Cidr = cidr(192, 168, 1, 10, 24);
/// The director's private address (`primary_private`).
pub const DIRECTOR_PRIVATE: Ipv4Cidr = cidr(10, 0, 0, 10, 16);
/// The floating gateway of the real servers (`nat_router`, `nat_nmask` 255.255.0.0).
pub const NAT_ROUTER: Ipv4Cidr = cidr(10, 0, 0, 254, 16);
/// The first real server.
pub const REALSERVER1: Ipv4Cidr = cidr(10, 0, 0, 100, 16);
/// The second real server.
pub const REALSERVER2: Ipv4Cidr = cidr(10, 0, 0, 200, 16);

/// The director of seed 002.
#[derive(Debug, Clone)]
pub struct NatDirector {
    /// The host.
    pub host: Host,
    /// `eth0`, on the public network; holds the VIP too.
    pub eth0: Iface,
    /// `eth1`, on the private network; the `nat_router` address goes here.
    pub eth1: Iface,
}

/// Seed 002 built: the lab (torn down when this is dropped) and its hosts.
#[derive(Debug)]
pub struct Seed002Nat {
    /// The client.
    pub client: Node,
    /// The director, where rvsd runs.
    pub director: NatDirector,
    /// Real server 1.
    pub realserver1: Node,
    /// Real server 2.
    pub realserver2: Node,
    /// The public network.
    pub public: Switch,
    /// The private network.
    pub private: Switch,
    /// The VIP.
    pub vip: Ipv4Addr,
    /// The lab itself; declared last so that it is dropped after the handles above.
    pub lab: Lab,
}

impl Seed002Nat {
    /// Builds the cluster with the prefix `prefix`. No director program runs and nothing
    /// serves on the real servers yet.
    pub fn build(prefix: &str) -> Result<Seed002Nat> {
        let lab = Lab::new(prefix)?;
        let client = lab.add_host("client")?;
        let director = lab.add_host("director")?;
        let rs1 = lab.add_host("realserver1")?;
        let rs2 = lab.add_host("realserver2")?;
        let public = lab.add_switch("public")?;
        let private = lab.add_switch("private")?;

        lab.plug(&public, &client, "eth0")?;
        lab.plug(&public, &director, "eth0")?;
        lab.plug(&private, &director, "eth1")?;
        lab.plug(&private, &rs1, "eth0")?;
        lab.plug(&private, &rs2, "eth0")?;

        client.add_addr("eth0", CLIENT)?;
        director.add_addr("eth0", DIRECTOR_PUBLIC)?;
        director.add_addr("eth0", VIP)?;
        director.add_addr("eth1", DIRECTOR_PRIVATE)?;
        director.set_ip_forward(true)?;
        for (host, addr) in [(&rs1, REALSERVER1), (&rs2, REALSERVER2)] {
            host.add_addr("eth0", addr)?;
            host.set_default_gateway(NAT_ROUTER.addr())?;
        }

        Ok(Seed002Nat {
            client: Node { eth0: Iface::read(&client, "eth0", CLIENT)?, host: client },
            director: NatDirector {
                eth0: Iface::read(&director, "eth0", DIRECTOR_PUBLIC)?,
                eth1: Iface::read(&director, "eth1", DIRECTOR_PRIVATE)?,
                host: director,
            },
            realserver1: Node { eth0: Iface::read(&rs1, "eth0", REALSERVER1)?, host: rs1 },
            realserver2: Node { eth0: Iface::read(&rs2, "eth0", REALSERVER2)?, host: rs2 },
            public,
            private,
            vip: VIP.addr(),
            lab,
        })
    }

    /// The two real servers with the names their index pages carry.
    pub fn real_servers(&self) -> [(&'static str, &Node); 2] {
        [("realserver1", &self.realserver1), ("realserver2", &self.realserver2)]
    }
}

impl fmt::Display for Seed002Nat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed 002 (LVS-NAT), lab {}, VIP {}, nat_router {}", self.lab.prefix(), self.vip, NAT_ROUTER)?;
        let row = |f: &mut fmt::Formatter<'_>, host: &Host, iface: &Iface| {
            writeln!(f, "  {:<11} {:<22} {}", host.name(), host.netns(), iface)
        };
        row(f, &self.client.host, &self.client.eth0)?;
        row(f, &self.director.host, &self.director.eth0)?;
        row(f, &self.director.host, &self.director.eth1)?;
        row(f, &self.realserver1.host, &self.realserver1.eth0)?;
        row(f, &self.realserver2.host, &self.realserver2.eth0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_are_the_seeds() {
        assert_eq!(VIP.to_string(), "192.168.1.250/24");
        assert_eq!(NAT_ROUTER.to_string(), "10.0.0.254/16");
        assert_eq!(REALSERVER1.to_string(), "10.0.0.100/16");
        assert_eq!(REALSERVER2.to_string(), "10.0.0.200/16");
    }

    #[test]
    fn the_real_servers_reach_only_the_private_network() {
        for rs in [REALSERVER1, REALSERVER2] {
            assert!(NAT_ROUTER.contains(rs.addr()) && DIRECTOR_PRIVATE.contains(rs.addr()));
            assert!(!VIP.contains(rs.addr()));
        }
        assert!(VIP.contains(CLIENT.addr()) && DIRECTOR_PUBLIC.contains(CLIENT.addr()));
    }
}
