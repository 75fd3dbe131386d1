//! Seed 000: an LVS-DR cluster of five hosts.
//!
//! ```text
//!  client 172.25.254.10/24 ── eth0 router eth1 ──┐ 192.168.0.10/24
//!  (gw .100)                  172.25.254.100/24  │
//!                                        switch "lan" (bridge)
//!                      ┌─────────────────────────┼──────────────────────┐
//!        director 192.168.0.200/24   webserver1 192.168.0.11/24   webserver2 192.168.0.22/24
//!        VIP 192.168.0.100/32        VIP on lo, arp_ignore=1       VIP on lo, arp_ignore=1
//!                                    arp_announce=2                arp_announce=2
//! ```
//! The director, the web servers and the router's LAN side share the switch; everything on
//! the LAN uses the router (192.168.0.10) as gateway, so replies bypass the director.

use std::fmt;
use std::net::Ipv4Addr;

use super::{Iface, Node, cidr, prepare_dr_real_server};
use crate::addr::Ipv4Cidr;
use crate::error::Result;
use crate::host::Host;
use crate::lab::{Lab, Switch};

/// The VIP of the cluster.
pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 100);
/// The client, on the "nat" network.
pub const CLIENT: Ipv4Cidr = cidr(172, 25, 254, 10, 24);
/// The router's client-side address (the client's gateway).
pub const ROUTER_OUTSIDE: Ipv4Cidr = cidr(172, 25, 254, 100, 24);
/// The router's LAN address (the gateway of the director and the real servers).
pub const ROUTER_LAN: Ipv4Cidr = cidr(192, 168, 0, 10, 24);
/// The director's own LAN address (the DIP).
pub const DIRECTOR: Ipv4Cidr = cidr(192, 168, 0, 200, 24);
/// The first real server.
pub const WEBSERVER1: Ipv4Cidr = cidr(192, 168, 0, 11, 24);
/// The second real server.
pub const WEBSERVER2: Ipv4Cidr = cidr(192, 168, 0, 22, 24);

/// Where the director holds the VIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectorVip {
    /// A `/32` on its LAN interface `eth0`: the director's kernel answers ARP for it.
    OnLanInterface,
    /// A `/32` on `lo`, as the seed shows; with the default `arp_ignore=0` the kernel still
    /// answers ARP for it on `eth0`.
    OnLoopback,
    /// Not configured: the program under test does it.
    Absent,
}

/// Seed 000 built: the lab (torn down when this is dropped) and its hosts.
#[derive(Debug)]
pub struct Seed000Dr {
    /// The client.
    pub client: Node,
    /// The router: `eth0` towards the client, `eth1` on the LAN.
    pub router: Router,
    /// The LVS director, where rvsd runs.
    pub director: Node,
    /// Real server 1.
    pub webserver1: Node,
    /// Real server 2.
    pub webserver2: Node,
    /// The LAN switch.
    pub lan: Switch,
    /// The VIP.
    pub vip: Ipv4Addr,
    /// Where the director holds the VIP.
    pub director_vip: DirectorVip,
    /// The lab itself; declared last so that it is dropped after the handles above.
    pub lab: Lab,
}

/// The router of seed 000.
#[derive(Debug, Clone)]
pub struct Router {
    /// The host.
    pub host: Host,
    /// The client-side interface.
    pub eth0: Iface,
    /// The LAN interface.
    pub eth1: Iface,
}

impl Seed000Dr {
    /// Builds the topology in a new lab with `prefix`. No director program runs; the real
    /// servers are prepared as the seed prepares them, but serve nothing yet.
    pub fn build(prefix: &str, director_vip: DirectorVip) -> Result<Seed000Dr> {
        let lab = Lab::new(prefix)?;
        let client = lab.add_host("client")?;
        let router = lab.add_host("router")?;
        let director = lab.add_host("director")?;
        let web1 = lab.add_host("webserver1")?;
        let web2 = lab.add_host("webserver2")?;
        let lan = lab.add_switch("lan")?;

        lab.link(&client, "eth0", &router, "eth0")?;
        for (host, ifname) in [
            (&router, "eth1"),
            (&director, "eth0"),
            (&web1, "eth0"),
            (&web2, "eth0"),
        ] {
            lab.plug(&lan, host, ifname)?;
        }

        client.add_addr("eth0", CLIENT)?;
        client.set_default_gateway(ROUTER_OUTSIDE.addr())?;

        router.add_addr("eth0", ROUTER_OUTSIDE)?;
        router.add_addr("eth1", ROUTER_LAN)?;
        router.set_ip_forward(true)?;

        director.add_addr("eth0", DIRECTOR)?;
        match director_vip {
            DirectorVip::OnLanInterface => director.add_addr("eth0", Ipv4Cidr::host(VIP))?,
            DirectorVip::OnLoopback => director.add_addr("lo", Ipv4Cidr::host(VIP))?,
            DirectorVip::Absent => {}
        }
        director.set_default_gateway(ROUTER_LAN.addr())?;

        for (web, addr) in [(&web1, WEBSERVER1), (&web2, WEBSERVER2)] {
            web.add_addr("eth0", addr)?;
            prepare_dr_real_server(web, VIP)?;
            web.set_default_gateway(ROUTER_LAN.addr())?;
        }

        Ok(Seed000Dr {
            client: Node {
                eth0: Iface::read(&client, "eth0", CLIENT)?,
                host: client,
            },
            router: Router {
                eth0: Iface::read(&router, "eth0", ROUTER_OUTSIDE)?,
                eth1: Iface::read(&router, "eth1", ROUTER_LAN)?,
                host: router,
            },
            director: Node {
                eth0: Iface::read(&director, "eth0", DIRECTOR)?,
                host: director,
            },
            webserver1: Node {
                eth0: Iface::read(&web1, "eth0", WEBSERVER1)?,
                host: web1,
            },
            webserver2: Node {
                eth0: Iface::read(&web2, "eth0", WEBSERVER2)?,
                host: web2,
            },
            lan,
            vip: VIP,
            director_vip,
            lab,
        })
    }

    /// The two real servers with the names their index pages carry.
    pub fn real_servers(&self) -> [(&'static str, &Node); 2] {
        [
            ("webserver1", &self.webserver1),
            ("webserver2", &self.webserver2),
        ]
    }
}

impl fmt::Display for Seed000Dr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed 000 (LVS-DR), lab {}, VIP {}",
            self.lab.prefix(),
            self.vip
        )?;
        let row = |f: &mut fmt::Formatter<'_>, host: &Host, iface: &Iface| {
            writeln!(f, "  {:<11} {:<22} {}", host.name(), host.netns(), iface)
        };
        row(f, &self.client.host, &self.client.eth0)?;
        row(f, &self.router.host, &self.router.eth0)?;
        row(f, &self.router.host, &self.router.eth1)?;
        row(f, &self.director.host, &self.director.eth0)?;
        row(f, &self.webserver1.host, &self.webserver1.eth0)?;
        row(f, &self.webserver2.host, &self.webserver2.eth0)?;
        writeln!(f, "  switch {} in {}", self.lan.name(), self.lan.netns())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_are_the_seeds() {
        assert_eq!(CLIENT.to_string(), "172.25.254.10/24");
        assert_eq!(ROUTER_OUTSIDE.to_string(), "172.25.254.100/24");
        assert_eq!(ROUTER_LAN.to_string(), "192.168.0.10/24");
        assert_eq!(DIRECTOR.to_string(), "192.168.0.200/24");
        assert_eq!(WEBSERVER1.to_string(), "192.168.0.11/24");
        assert_eq!(WEBSERVER2.to_string(), "192.168.0.22/24");
        assert_eq!(VIP, Ipv4Addr::new(192, 168, 0, 100));
    }

    #[test]
    fn the_lan_is_one_network_and_the_client_is_not_on_it() {
        for member in [DIRECTOR, WEBSERVER1, WEBSERVER2] {
            assert!(ROUTER_LAN.contains(member.addr()), "{member}");
        }
        assert!(ROUTER_LAN.contains(VIP));
        assert!(!ROUTER_LAN.contains(CLIENT.addr()));
        assert!(ROUTER_OUTSIDE.contains(CLIENT.addr()));
    }
}
