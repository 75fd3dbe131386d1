//! Driving iproute2's `ip`, and reading what it prints.

use std::process::Command;
use std::time::Duration;

use crate::addr::{Ipv4Cidr, MacAddr};
use crate::error::Result;
use crate::run::run_with_timeout;

/// `ip` answers in milliseconds; anything this slow is stuck.
const IP_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `ip <args>` from this process's namespace (usually with `-n <netns>` among the
/// arguments) and returns its stdout; a failure carries the command line and `ip`'s stderr.
pub(crate) fn ip(args: &[&str]) -> Result<String> {
    let mut command = Command::new("ip");
    command.args(args);
    Ok(run_with_timeout(command, None, IP_TIMEOUT)?.check()?.stdout)
}

/// The hardware address in one line of `ip -o link show` output (`link/ether aa:bb:...`).
pub(crate) fn parse_link_mac(line: &str) -> Option<MacAddr> {
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        if word.starts_with("link/") {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// The interface and IPv4 address of each line of `ip -4 -o addr show` output
/// (`2: eth0    inet 192.168.1.10/24 brd ... scope global eth0\ ...`). An address on an
/// alias label (`eth0:1`) is on the interface named before the colon.
pub(crate) fn parse_ipv4_addrs(text: &str) -> Vec<(String, Ipv4Cidr)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let _index = words.next()?;
            let ifname = words.next()?.split('@').next()?.to_owned();
            (words.next()? == "inet").then_some(())?;
            let addr = words.next()?.parse().ok()?;
            Some((ifname, addr))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_found_in_link_lines() {
        let veth = "2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP \
                    mode DEFAULT group default qlen 1000\\    link/ether 9e:4f:0b:aa:01:c2 brd \
                    ff:ff:ff:ff:ff:ff link-netns t1-router";
        assert_eq!(parse_link_mac(veth), "9e:4f:0b:aa:01:c2".parse().ok());
        let lo = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT \
                  group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00";
        assert_eq!(parse_link_mac(lo), Some(MacAddr([0; 6])));
        assert_eq!(parse_link_mac("3: tun0: <POINTOPOINT> link/none "), None);
        assert_eq!(parse_link_mac(""), None);
    }

    #[test]
    fn ipv4_addresses_are_read_from_addr_lines() {
        let text = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n\
                    2: eth0    inet 192.168.1.10/24 scope global eth0\\       valid_lft forever\n\
                    2: eth0    inet 192.168.1.250/24 scope global secondary eth0\\       valid_lft forever\n\
                    3: eth1    inet6 fe80::1/64 scope link\n\
                    garbage\n";
        let addrs = parse_ipv4_addrs(text);
        let want: Vec<(String, Ipv4Cidr)> = [("lo", "127.0.0.1/8"), ("eth0", "192.168.1.10/24"), ("eth0", "192.168.1.250/24")]
            .iter()
            .map(|(i, a)| ((*i).to_owned(), a.parse().unwrap()))
            .collect();
        assert_eq!(addrs, want);
        assert!(parse_ipv4_addrs("").is_empty());
    }

    #[test]
    fn ip_failures_name_the_command_and_the_reason() {
        let err = ip(&["link", "show", "dev", "rvs-lab-absent0"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ip link show dev rvs-lab-absent0"), "{err}");
        assert!(
            err.contains("does not exist") || err.contains("Cannot find"),
            "{err}"
        );
    }
}
