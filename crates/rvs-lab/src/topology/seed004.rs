//! Seed 004: an LVS-TUN cluster, in two variants.
//!
//! ```text
//!  client 172.25.254.67/24 ── eth0 router (172.25.254.250) ── eth1 172.25.67.250/24 ──┐
//!                                          │                             switch "lan"
//!                                          │            ┌─────────────────────┼──────────────────┐
//!                                          │     director 172.25.67.1   server2 .2        server3 .3   (flat)
//!                                          │     VIP 172.25.67.100/32
//!                                          └─ eth2 172.25.68.250/24 ── switch "far" ── server2 172.25.68.2,
//!                                                                                   server3 172.25.68.3 (routed)
//! ```
//! Flat is the seed's own layout: director and real servers on one network. In the routed
//! variant the real servers sit on another network behind the router, which only TUN can
//! reach (DR needs the real servers on the director's link). Either way the real servers use
//! the router as their gateway, so replies go straight to the client. The real servers are
//! left unprepared: `rvs realserver up --mode tun` does that (VIP, ARP, rp_filter, decap).

use std::fmt;
use std::net::Ipv4Addr;

use super::{Iface, Node, cidr};
use crate::addr::Ipv4Cidr;
use crate::error::Result;
use crate::host::Host;
use crate::lab::{Lab, Switch};

/// The VIP of the cluster.
pub const VIP: Ipv4Addr = Ipv4Addr::new(172, 25, 67, 100);
/// The client.
pub const CLIENT: Ipv4Cidr = cidr(172, 25, 254, 67, 24);
/// The router on the client's network (the client's gateway).
pub const ROUTER_OUTSIDE: Ipv4Cidr = cidr(172, 25, 254, 250, 24);
/// The router on the director's network.
pub const ROUTER_LAN: Ipv4Cidr = cidr(172, 25, 67, 250, 24);
/// The router on the far network of the routed variant.
pub const ROUTER_FAR: Ipv4Cidr = cidr(172, 25, 68, 250, 24);
/// The director (server1 in the seed).
pub const DIRECTOR: Ipv4Cidr = cidr(172, 25, 67, 1, 24);
/// Real server server2, flat.
pub const SERVER2: Ipv4Cidr = cidr(172, 25, 67, 2, 24);
/// Real server server3, flat.
pub const SERVER3: Ipv4Cidr = cidr(172, 25, 67, 3, 24);
/// Real server server2, routed.
pub const SERVER2_FAR: Ipv4Cidr = cidr(172, 25, 68, 2, 24);
/// Real server server3, routed.
pub const SERVER3_FAR: Ipv4Cidr = cidr(172, 25, 68, 3, 24);

/// Where the real servers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunLayout {
    /// On the director's network, as in the seed.
    Flat,
    /// On another network behind the router.
    Routed,
}

/// The router of seed 004.
#[derive(Debug, Clone)]
pub struct TunRouter {
    /// The host.
    pub host: Host,
    /// `eth0`, towards the client.
    pub eth0: Iface,
    /// `eth1`, on the director's network.
    pub eth1: Iface,
    /// `eth2`, on the far network (routed variant only).
    pub eth2: Option<Iface>,
}

/// Seed 004 built: the lab (torn down when this is dropped) and its hosts.
#[derive(Debug)]
pub struct Seed004Tun {
    /// The client.
    pub client: Node,
    /// The router.
    pub router: TunRouter,
    /// The director, holding the VIP on `lo`.
    pub director: Node,
    /// Real server server2.
    pub server2: Node,
    /// Real server server3.
    pub server3: Node,
    /// Which layout.
    pub layout: TunLayout,
    /// The VIP.
    pub vip: Ipv4Addr,
    /// The director's network.
    pub lan: Switch,
    /// The real servers' network (routed variant only).
    pub far: Option<Switch>,
    /// The lab itself; declared last so that it is dropped after the handles above.
    pub lab: Lab,
}

impl Seed004Tun {
    /// Builds the cluster with the prefix `prefix`.
    pub fn build(prefix: &str, layout: TunLayout) -> Result<Seed004Tun> {
        let lab = Lab::new(prefix)?;
        let client = lab.add_host("client")?;
        let router = lab.add_host("router")?;
        let director = lab.add_host("director")?;
        let server2 = lab.add_host("server2")?;
        let server3 = lab.add_host("server3")?;
        let lan = lab.add_switch("lan")?;
        let far = match layout {
            TunLayout::Flat => None,
            TunLayout::Routed => Some(lab.add_switch("far")?),
        };

        lab.link(&client, "eth0", &router, "eth0")?;
        lab.plug(&lan, &router, "eth1")?;
        lab.plug(&lan, &director, "eth0")?;
        let servers_switch = far.as_ref().unwrap_or(&lan);
        if let Some(far) = &far {
            lab.plug(far, &router, "eth2")?;
        }
        lab.plug(servers_switch, &server2, "eth0")?;
        lab.plug(servers_switch, &server3, "eth0")?;

        client.add_addr("eth0", CLIENT)?;
        client.set_default_gateway(ROUTER_OUTSIDE.addr())?;
        router.add_addr("eth0", ROUTER_OUTSIDE)?;
        router.add_addr("eth1", ROUTER_LAN)?;
        if far.is_some() {
            router.add_addr("eth2", ROUTER_FAR)?;
        }
        router.set_ip_forward(true)?;
        director.add_addr("eth0", DIRECTOR)?;
        director.add_addr("lo", Ipv4Cidr::host(VIP))?;
        director.set_default_gateway(ROUTER_LAN.addr())?;

        let (s2, s3, gw) = match layout {
            TunLayout::Flat => (SERVER2, SERVER3, ROUTER_LAN.addr()),
            TunLayout::Routed => (SERVER2_FAR, SERVER3_FAR, ROUTER_FAR.addr()),
        };
        for (host, addr) in [(&server2, s2), (&server3, s3)] {
            host.add_addr("eth0", addr)?;
            host.set_default_gateway(gw)?;
        }

        Ok(Seed004Tun {
            client: Node { eth0: Iface::read(&client, "eth0", CLIENT)?, host: client },
            router: TunRouter {
                eth0: Iface::read(&router, "eth0", ROUTER_OUTSIDE)?,
                eth1: Iface::read(&router, "eth1", ROUTER_LAN)?,
                eth2: match layout {
                    TunLayout::Flat => None,
                    TunLayout::Routed => Some(Iface::read(&router, "eth2", ROUTER_FAR)?),
                },
                host: router,
            },
            director: Node { eth0: Iface::read(&director, "eth0", DIRECTOR)?, host: director },
            server2: Node { eth0: Iface::read(&server2, "eth0", s2)?, host: server2 },
            server3: Node { eth0: Iface::read(&server3, "eth0", s3)?, host: server3 },
            layout,
            vip: VIP,
            lan,
            far,
            lab,
        })
    }

    /// The two real servers with the names their index pages carry.
    pub fn real_servers(&self) -> [(&'static str, &Node); 2] {
        [("server2", &self.server2), ("server3", &self.server3)]
    }
}

impl fmt::Display for Seed004Tun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layout = match self.layout {
            TunLayout::Flat => "real servers on the director's network",
            TunLayout::Routed => "real servers behind the router",
        };
        writeln!(f, "seed 004 (LVS-TUN, {layout}), lab {}, VIP {}", self.lab.prefix(), self.vip)?;
        let row = |f: &mut fmt::Formatter<'_>, host: &Host, iface: &Iface| {
            writeln!(f, "  {:<11} {:<22} {}", host.name(), host.netns(), iface)
        };
        row(f, &self.client.host, &self.client.eth0)?;
        row(f, &self.router.host, &self.router.eth0)?;
        row(f, &self.router.host, &self.router.eth1)?;
        if let Some(eth2) = &self.router.eth2 {
            row(f, &self.router.host, eth2)?;
        }
        row(f, &self.director.host, &self.director.eth0)?;
        row(f, &self.server2.host, &self.server2.eth0)?;
        row(f, &self.server3.host, &self.server3.eth0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_are_the_seeds() {
        assert_eq!(DIRECTOR.to_string(), "172.25.67.1/24");
        assert_eq!(SERVER2.to_string(), "172.25.67.2/24");
        assert_eq!(SERVER3.to_string(), "172.25.67.3/24");
        assert_eq!(VIP, Ipv4Addr::new(172, 25, 67, 100));
        assert_eq!(CLIENT.to_string(), "172.25.254.67/24");
    }

    #[test]
    fn the_routed_servers_are_not_on_the_directors_network() {
        for s in [SERVER2_FAR, SERVER3_FAR] {
            assert!(!ROUTER_LAN.contains(s.addr()));
            assert!(ROUTER_FAR.contains(s.addr()));
        }
        assert!(ROUTER_LAN.contains(DIRECTOR.addr()) && ROUTER_LAN.contains(VIP));
    }
}
