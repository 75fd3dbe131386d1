//! The NAT benchmark's network: seed 002's two networks with only the hosts the measurement
//! needs. The director routes between them (`ip_forward=1`); the real server's gateway is the
//! director's private address, so that its replies come back through the director.
//!
//! ```text
//!  client 192.168.1.100            director                            real 10.0.0.100/16
//!  generator of requests   eth0 192.168.1.10/24   eth1 10.0.0.10/16    gateway 10.0.0.10
//!  sink of replies              VIP 192.168.1.250                      generator of replies
//!        |                        |           |                        sink of requests
//!        └──── switch "public" ───┘           └─── switch "private" ────┘
//! ```
//! Generated flows come from 198.18.0.0/15 (RFC 2544's benchmark range), routed on the director
//! through the client. The director knows both neighbours for good (permanent entries): no ARP
//! ever runs during a measurement, and `bpf_fib_lookup` always finds its next hop.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result};
use rvs_lab::topology::seed002::{CLIENT, DIRECTOR_PRIVATE, DIRECTOR_PUBLIC, REALSERVER1, VIP};
use rvs_lab::{Host, Ipv4Cidr, Lab, MacAddr};

use crate::bench::driver::Network;
use crate::bench::topology::{FLOW_SOURCES, napi_port, pin_ports};

/// The director's public interface (the client's side; the VIP is there).
pub const PUBLIC: &str = "eth0";
/// The director's private interface (the real server's side).
pub const PRIVATE: &str = "eth1";
/// The client's and the real server's only interface.
pub const IFACE: &str = "eth0";
/// Prefix length of the generated flows' range (198.18.0.0/15).
const FLOW_PREFIX: u8 = 15;

/// The built network. Dropping it removes every namespace (the lab is dropped last).
pub struct NatNet {
    /// The client: sends the requests, counts the replies.
    pub client: Host,
    /// The director: nftables or rvsd.
    pub director: Host,
    /// The real server: counts the requests, sends the replies.
    pub real: Host,
    /// MAC of the client's interface.
    pub client_mac: [u8; 6],
    /// MAC of the director's public interface.
    pub public_mac: [u8; 6],
    /// MAC of the director's private interface.
    pub private_mac: [u8; 6],
    /// MAC of the real server's interface.
    pub real_mac: [u8; 6],
    /// The lab; declared last so that it goes after the handles above.
    pub lab: Lab,
}

impl Network for NatNet {
    fn lab(&self) -> &Lab {
        &self.lab
    }
}

/// The virtual address.
pub fn vip() -> Ipv4Addr {
    VIP.addr()
}

/// The real server's address.
pub fn real() -> Ipv4Addr {
    REALSERVER1.addr()
}

impl NatNet {
    /// Builds the network under `prefix` (removing what a crashed earlier run left). What a
    /// generator sends, on the client or on the real server, is handled on `path_cpu` from its
    /// switch port's ring on. With `native` XDP, the director's switch ports get NAPI rings
    /// too, which a native redirect into a veth needs.
    pub fn build(prefix: &str, path_cpu: usize, native: bool) -> Result<NatNet> {
        let lab = Lab::new_replacing(prefix).context("creating the lab")?;
        let client = lab.add_host("client")?;
        let director = lab.add_host("director")?;
        let real_server = lab.add_host("real")?;
        let public = lab.add_switch("public")?;
        let private = lab.add_switch("private")?;
        lab.plug(&public, &client, IFACE)?;
        lab.plug(&public, &director, PUBLIC)?;
        lab.plug(&private, &director, PRIVATE)?;
        lab.plug(&private, &real_server, IFACE)?;

        client.add_addr(IFACE, CLIENT)?;
        director.add_addr(PUBLIC, DIRECTOR_PUBLIC)?;
        director.add_addr(PUBLIC, VIP)?;
        director.add_addr(PRIVATE, DIRECTOR_PRIVATE)?;
        director.set_ip_forward(true)?;
        real_server.add_addr(IFACE, REALSERVER1)?;
        real_server.set_default_gateway(DIRECTOR_PRIVATE.addr())?;

        let net = NatNet {
            client_mac: client.mac(IFACE)?.octets(),
            public_mac: director.mac(PUBLIC)?.octets(),
            private_mac: director.mac(PRIVATE)?.octets(),
            real_mac: real_server.mac(IFACE)?.octets(),
            client,
            director,
            real: real_server,
            lab,
        };
        let flows = Ipv4Cidr::new(FLOW_SOURCES, FLOW_PREFIX).context("the flows' range")?;
        net.director.add_route(flows, CLIENT.addr())?;
        net.permanent_neighbour(CLIENT.addr(), net.client_mac, PUBLIC)?;
        net.permanent_neighbour(real(), net.real_mac, PRIVATE)?;

        napi_port(&public, &net.client, IFACE, path_cpu)?;
        napi_port(&private, &net.real, IFACE, path_cpu)?;
        if native {
            napi_port(&public, &net.director, PUBLIC, path_cpu)?;
            napi_port(&private, &net.director, PRIVATE, path_cpu)?;
        }
        pin_ports(
            &public,
            &[
                (&net.client, IFACE, net.client_mac),
                (&net.director, PUBLIC, net.public_mac),
            ],
        )?;
        pin_ports(
            &private,
            &[
                (&net.director, PRIVATE, net.private_mac),
                (&net.real, IFACE, net.real_mac),
            ],
        )?;
        Ok(net)
    }

    /// A neighbour entry on the director that never expires nor needs ARP.
    fn permanent_neighbour(&self, addr: Ipv4Addr, mac: [u8; 6], interface: &str) -> Result<()> {
        let (addr, mac) = (addr.to_string(), MacAddr(mac).to_string());
        self.director
            .run(
                "ip",
                [
                    "neigh",
                    "replace",
                    addr.as_str(),
                    "lladdr",
                    mac.as_str(),
                    "dev",
                    interface,
                    "nud",
                    "permanent",
                ],
                Duration::from_secs(10),
            )?
            .check()
            .with_context(|| format!("adding {addr} at {mac} as a permanent neighbour"))?;
        Ok(())
    }
}
