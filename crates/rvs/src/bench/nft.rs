//! The nftables comparisons.
//!
//! DR: what nftlb installs for a DSR (direct routing) farm. A netdev table on the director's
//! interface takes the packet at ingress, before the IP stack, sets the real server's MAC as
//! destination and the interface's own as source, and sends it back out with `fwd`. No
//! connection table: every packet is matched by the same rule.
//!
//! NAT: what an operator writes instead of LVS-NAT. An `ip` table with a `nat` chain on the
//! prerouting hook rewrites the destination of a connection's first packet (`dnat to`);
//! conntrack keeps the binding, rewrites every later packet of the connection the same way and
//! the replies back (the source becomes the virtual address again), and the kernel forwards
//! them (`ip_forward=1`).

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use rvs_lab::Host;

/// A table the benchmark adds: its family and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// `netdev`, `ip`.
    pub family: &'static str,
    /// Its name.
    pub name: &'static str,
}

/// The DR comparison's table.
pub const DSR_TABLE: Table = Table {
    family: "netdev",
    name: "rvs_bench",
};

/// The NAT comparison's table.
pub const DNAT_TABLE: Table = Table {
    family: "ip",
    name: "rvs_bench_nat",
};

/// One DNAT rule: `protocol` (`udp`, `tcp`) to the virtual port, to the real server's address
/// and port.
#[derive(Clone, Copy, Debug)]
pub struct Dnat {
    /// `udp` or `tcp`.
    pub protocol: &'static str,
    /// The service's port on the virtual address.
    pub vport: u16,
    /// The real server.
    pub real: Ipv4Addr,
    /// Its port.
    pub rport: u16,
}

/// Formats a MAC address as nft writes it.
fn mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The ruleset forwarding UDP to `vip:port` arriving on `interface` to the real server's MAC.
pub fn dsr_ruleset(
    interface: &str,
    vip: Ipv4Addr,
    port: u16,
    own_mac: [u8; 6],
    real_mac: [u8; 6],
) -> String {
    format!(
        "table {} {} {{\n\
         \tchain ingress {{\n\
         \t\ttype filter hook ingress device \"{interface}\" priority 0; policy accept;\n\
         \t\tip daddr {vip} udp dport {port} ether saddr set {} ether daddr set {} fwd to \"{interface}\"\n\
         \t}}\n\
         }}\n",
        DSR_TABLE.family,
        DSR_TABLE.name,
        mac(own_mac),
        mac(real_mac),
    )
}

/// The ruleset rewriting the destination of connections to `vip` as `rules` say, the way an
/// operator replaces LVS-NAT with nftables: a `nat` chain on the prerouting hook (conntrack does
/// the rest).
pub fn dnat_ruleset(vip: Ipv4Addr, rules: &[Dnat]) -> String {
    let mut text = format!(
        "table {} {} {{\n\
         \tchain prerouting {{\n\
         \t\ttype nat hook prerouting priority dstnat; policy accept;\n",
        DNAT_TABLE.family, DNAT_TABLE.name
    );
    for r in rules {
        text.push_str(&format!(
            "\t\tip daddr {vip} {} dport {} dnat to {}:{}\n",
            r.protocol, r.vport, r.real, r.rport
        ));
    }
    text.push_str("\t}\n}\n");
    text
}

/// Loads `ruleset` (which makes `table`) on `host`, through a file in `dir` (nft's own script
/// format).
pub fn apply(host: &Host, dir: &Path, table: Table, ruleset: &str) -> Result<()> {
    let path = dir.join(format!("nft-{}.nft", table.name));
    std::fs::write(&path, ruleset).with_context(|| format!("writing {}", path.display()))?;
    let path = path.to_string_lossy().into_owned();
    host.run("nft", ["-f", path.as_str()], Duration::from_secs(10))?
        .check()
        .with_context(|| format!("loading the nftables ruleset of table {}", table.name))?;
    Ok(())
}

/// Removes the benchmark's `table` from `host`.
pub fn remove(host: &Host, table: Table) -> Result<()> {
    host.run(
        "nft",
        ["delete", "table", table.family, table.name],
        Duration::from_secs(10),
    )?
    .check()
    .with_context(|| format!("removing the nftables table {}", table.name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ruleset_rewrites_macs_and_forwards_out_of_the_same_interface() {
        let r = dsr_ruleset(
            "eth0",
            Ipv4Addr::new(192, 168, 0, 100),
            9,
            [2, 0, 0, 0, 0, 0xa],
            [2, 0, 0, 0, 0, 0xb],
        );
        assert!(
            r.contains("type filter hook ingress device \"eth0\" priority 0;"),
            "{r}"
        );
        assert!(
            r.contains(
                "ip daddr 192.168.0.100 udp dport 9 ether saddr set 02:00:00:00:00:0a \
                 ether daddr set 02:00:00:00:00:0b fwd to \"eth0\""
            ),
            "{r}"
        );
        assert!(r.starts_with("table netdev rvs_bench {"), "{r}");
    }

    #[test]
    fn the_dnat_ruleset_is_one_prerouting_nat_chain_with_a_rule_per_service() {
        let real = Ipv4Addr::new(10, 0, 0, 100);
        let r = dnat_ruleset(
            Ipv4Addr::new(192, 168, 1, 250),
            &[
                Dnat {
                    protocol: "udp",
                    vport: 9,
                    real,
                    rport: 9009,
                },
                Dnat {
                    protocol: "tcp",
                    vport: 80,
                    real,
                    rport: 8080,
                },
            ],
        );
        assert_eq!(
            r,
            "table ip rvs_bench_nat {\n\
             \tchain prerouting {\n\
             \t\ttype nat hook prerouting priority dstnat; policy accept;\n\
             \t\tip daddr 192.168.1.250 udp dport 9 dnat to 10.0.0.100:9009\n\
             \t\tip daddr 192.168.1.250 tcp dport 80 dnat to 10.0.0.100:8080\n\
             \t}\n\
             }\n"
        );
    }
}
