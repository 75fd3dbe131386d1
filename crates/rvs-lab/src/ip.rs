//! Driving iproute2's `ip`, and reading what it prints.

use std::process::Command;
use std::time::Duration;

use crate::addr::MacAddr;
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
