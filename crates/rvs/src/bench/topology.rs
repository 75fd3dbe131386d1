//! The benchmark's network: a client (the traffic generator), a director and a real server on
//! one switch, addressed as seed 000's LAN. The director holds the VIP on `lo`; the real server
//! holds it on `lo` with ARP restricted, as every LVS-DR real server does.
//!
//! ```text
//!   client 192.168.0.50      director 192.168.0.200     real 192.168.0.11
//!   (generator, CPU 0)       VIP 192.168.0.100 on lo    VIP on lo, arp_ignore=1, sink
//!         └────────────── switch "lan" (bridge) ──────────────┘
//! ```
//! Generated flows come from 198.18.0.0/15, the range RFC 2544 sets aside for benchmarks;
//! nothing answers them (the real server's sink drops every frame for the VIP).

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result};
use rvs_lab::topology::prepare_dr_real_server;
use rvs_lab::{Host, Ipv4Cidr, Lab, MacAddr, Switch};

use super::cpu;

/// The virtual address.
pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 100);
/// The client's own address.
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 50);
/// The director's own address (DIP).
pub const DIRECTOR: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 200);
/// The real server's address (RIP).
pub const REAL: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 11);
/// Prefix length of the LAN.
const LAN_PREFIX: u8 = 24;
/// First source address of generated flows (198.18.0.0/15 holds 2^17 of them).
pub const FLOW_SOURCES: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 0);
/// Number of addresses in the flow source range.
pub const FLOW_SOURCE_COUNT: u32 = 1 << 17;
/// Every host's only interface.
pub const IFACE: &str = "eth0";

/// The built network. Dropping it removes every namespace (the lab is dropped last).
pub struct BenchNet {
    /// The traffic generator.
    pub client: Host,
    /// The director.
    pub director: Host,
    /// The real server.
    pub real: Host,
    /// MAC of the client's interface.
    pub client_mac: [u8; 6],
    /// MAC of the director's interface.
    pub director_mac: [u8; 6],
    /// MAC of the real server's interface.
    pub real_mac: [u8; 6],
    /// The lab; declared last so that it goes after the handles above.
    pub lab: Lab,
}

impl BenchNet {
    /// Builds the network under `prefix` (removing what a crashed earlier run left). What the
    /// client sends is handled on `path_cpu` from the switch port's ring on.
    pub fn build(prefix: &str, path_cpu: usize) -> Result<BenchNet> {
        let lab = Lab::new_replacing(prefix).context("creating the lab")?;
        let client = lab.add_host("client")?;
        let director = lab.add_host("director")?;
        let real = lab.add_host("real")?;
        let lan = lab.add_switch("lan")?;
        for host in [&client, &director, &real] {
            lab.plug(&lan, host, IFACE)?;
        }
        let cidr = |a| Ipv4Cidr::new(a, LAN_PREFIX).context("LAN address");
        client.add_addr(IFACE, cidr(CLIENT)?)?;
        director.add_addr(IFACE, cidr(DIRECTOR)?)?;
        director.add_addr("lo", Ipv4Cidr::host(VIP))?;
        real.add_addr(IFACE, cidr(REAL)?)?;
        prepare_dr_real_server(&real, VIP)?;

        napi_port(&lan, &client, IFACE, path_cpu)?;

        let net = BenchNet {
            client_mac: client.mac(IFACE)?.octets(),
            director_mac: director.mac(IFACE)?.octets(),
            real_mac: real.mac(IFACE)?.octets(),
            client,
            director,
            real,
            lab,
        };
        pin_ports(
            &lan,
            &[
                (&net.client, IFACE, net.client_mac),
                (&net.director, IFACE, net.director_mac),
                (&net.real, IFACE, net.real_mac),
            ],
        )?;
        Ok(net)
    }
}

/// The switch port `host`'s `interface` is plugged into (as `Lab::plug` names it).
fn port_of(host: &Host, interface: &str) -> String {
    format!("{}-{interface}", host.name())
}

/// Makes the switch port of `host`'s `interface` ready for the generator on `host`: the
/// generator's XDP frames need a NAPI ring at the peer (GRO on makes a veth keep one), polled by
/// a thread on the path's CPU (see `cpu`).
pub fn napi_port(switch: &Switch, host: &Host, interface: &str, path_cpu: usize) -> Result<()> {
    let port = port_of(host, interface);
    gro_on(switch.as_host(), &port)?;
    cpu::thread_napi(switch.netns(), &port, path_cpu)?;
    Ok(())
}

/// Tells `switch` where every MAC address lives, for good (`ports`: each host's interface and
/// its MAC): a frame to an address it has not learned (or has forgotten) would be flooded to
/// every port, and a host would see another path's traffic too.
pub fn pin_ports(switch: &Switch, ports: &[(&Host, &str, [u8; 6])]) -> Result<()> {
    for &(host, interface, mac) in ports {
        let port = port_of(host, interface);
        let mac = MacAddr(mac).to_string();
        let args = [
            "fdb",
            "replace",
            mac.as_str(),
            "dev",
            port.as_str(),
            "master",
            "static",
        ];
        switch
            .as_host()
            .run("bridge", args, Duration::from_secs(10))?
            .check()
            .with_context(|| format!("pinning {mac} to switch port {port}"))?;
    }
    Ok(())
}

/// `ethtool -K <interface> gro on` in `host`.
fn gro_on(host: &Host, interface: &str) -> Result<()> {
    host.run(
        "ethtool",
        ["-K", interface, "gro", "on"],
        Duration::from_secs(10),
    )?
    .check()
    .with_context(|| format!("turning GRO on for {interface} of {}", host.name()))?;
    Ok(())
}
