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

        // The generator's XDP frames need a NAPI ring at the client's switch port (GRO on makes
        // a veth keep one), polled by a thread on the path's CPU (see `cpu`).
        let port = format!("client-{IFACE}");
        gro_on(lan.as_host(), &port)?;
        cpu::thread_napi(lan.netns(), &port, path_cpu)?;

        let net = BenchNet {
            client_mac: client.mac(IFACE)?.octets(),
            director_mac: director.mac(IFACE)?.octets(),
            real_mac: real.mac(IFACE)?.octets(),
            client,
            director,
            real,
            lab,
        };
        net.pin_switch_ports(&lan)?;
        Ok(net)
    }

    /// Tells the switch where every MAC address lives, for good: a frame to an address it has
    /// not learned (or has forgotten) would be flooded to every port, and the director would
    /// then see the direct path's traffic too.
    fn pin_switch_ports(&self, lan: &Switch) -> Result<()> {
        for (host, mac) in [
            (&self.client, self.client_mac),
            (&self.director, self.director_mac),
            (&self.real, self.real_mac),
        ] {
            let port = format!("{}-{IFACE}", host.name());
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
            lan.as_host()
                .run("bridge", args, Duration::from_secs(10))?
                .check()
                .with_context(|| format!("pinning {mac} to switch port {port}"))?;
        }
        Ok(())
    }
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
