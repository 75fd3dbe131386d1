//! The nftables comparison: what nftlb installs for a DSR (direct routing) farm. A netdev
//! table on the director's interface takes the packet at ingress, before the IP stack, sets
//! the real server's MAC as destination and the interface's own as source, and sends it back
//! out with `fwd`. No connection table: every packet is matched by the same rule.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use rvs_lab::Host;

/// Name of the table the benchmark adds.
const TABLE: &str = "rvs_bench";

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
        "table netdev {TABLE} {{\n\
         \tchain ingress {{\n\
         \t\ttype filter hook ingress device \"{interface}\" priority 0; policy accept;\n\
         \t\tip daddr {vip} udp dport {port} ether saddr set {} ether daddr set {} fwd to \"{interface}\"\n\
         \t}}\n\
         }}\n",
        mac(own_mac),
        mac(real_mac),
    )
}

/// Loads `ruleset` on `host` (through a file in `dir`, nft's own script format).
pub fn apply(host: &Host, dir: &Path, ruleset: &str) -> Result<()> {
    let path = dir.join("nft-dsr.nft");
    std::fs::write(&path, ruleset).with_context(|| format!("writing {}", path.display()))?;
    let path = path.to_string_lossy().into_owned();
    host.run("nft", ["-f", path.as_str()], Duration::from_secs(10))?
        .check()
        .context("loading the nftables DSR ruleset")?;
    Ok(())
}

/// Removes the benchmark's table from `host`.
pub fn remove(host: &Host) -> Result<()> {
    host.run(
        "nft",
        ["delete", "table", "netdev", TABLE],
        Duration::from_secs(10),
    )?
    .check()
    .context("removing the nftables DSR ruleset")?;
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
    }
}
