//! The keepalived.conf each director of seed 002's HA cluster runs with (`rvs lab up ha`, the
//! HA end-to-end suite): the seed's `lvs.cf` (primary/backup, the floating VIP and
//! `nat_router`, two real servers of weight 1) said the keepalived way, with a fast VRRPv3
//! advert so that a fail-over shows in well under a second, and connection sync on the network
//! the directors share.

use std::fmt::Write as _;

use super::seed002::VIP;
use super::seed002_ha::{Director, HaMode};

/// The VRRP instance's name, also the `lvs_sync_daemon`'s.
pub const VRRP_INSTANCE: &str = "VI_1";
/// The seed's service port.
const PORT: u16 = 80;

/// The VRRP priority of a director: the primary wins while it runs.
pub fn priority(which: Director) -> u8 {
    match which {
        Director::Primary => 150,
        Director::Backup => 100,
    }
}

/// The keepalived.conf of director `which` in `mode`'s cluster.
pub fn keepalived_conf(mode: HaMode, which: Director) -> String {
    let (state, sync_interface) = (
        match which {
            Director::Primary => "MASTER",
            Director::Backup => "BACKUP",
        },
        // Sync runs where both directors meet and the clients do not, when there is such a net.
        match mode {
            HaMode::Nat => "eth1",
            HaMode::Dr => "eth0",
        },
    );
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(text, "global_defs {{");
    let _ = writeln!(text, "    router_id {}", which.name());
    let _ = writeln!(text, "    lvs_sync_daemon {sync_interface} {VRRP_INSTANCE}");
    let _ = writeln!(text, "}}");
    let _ = writeln!(text, "vrrp_instance {VRRP_INSTANCE} {{");
    let _ = writeln!(text, "    state {state}");
    let _ = writeln!(text, "    interface eth0");
    let _ = writeln!(text, "    virtual_router_id 51");
    let _ = writeln!(text, "    priority {}", priority(which));
    let _ = writeln!(text, "    version 3");
    let _ = writeln!(text, "    advert_int 0.1");
    // A returning director's first burst can be lost while the switch port it plugs back into
    // is not forwarding yet (docs/ha.md, "After a link flap"): the second comes a second later
    // rather than keepalived's five.
    let _ = writeln!(text, "    garp_master_delay 1");
    let _ = writeln!(text, "    virtual_ipaddress {{");
    for (ifname, addr) in mode.floating_addrs() {
        let _ = writeln!(text, "        {addr} dev {ifname}");
    }
    let _ = writeln!(text, "    }}");
    let _ = writeln!(text, "}}");
    let _ = writeln!(text, "virtual_server {} {PORT} {{", VIP.addr());
    let _ = writeln!(text, "    delay_loop 2");
    let _ = writeln!(text, "    lb_algo rr");
    let _ = writeln!(text, "    lb_kind {}", mode.lb_kind());
    let _ = writeln!(text, "    protocol TCP");
    for real in mode.real_server_addrs() {
        let _ = writeln!(text, "    real_server {} {PORT} {{", real.addr());
        let _ = writeln!(text, "        weight 1");
        let _ = writeln!(text, "        TCP_CHECK {{ connect_timeout 1 }}");
        let _ = writeln!(text, "    }}");
    }
    let _ = writeln!(text, "}}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAT_PRIMARY: &str = "\
global_defs {
    router_id primary
    lvs_sync_daemon eth1 VI_1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    version 3
    advert_int 0.1
    garp_master_delay 1
    virtual_ipaddress {
        192.168.1.250/24 dev eth0
        10.0.0.254/16 dev eth1
    }
}
virtual_server 192.168.1.250 80 {
    delay_loop 2
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.100 80 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
    real_server 10.0.0.200 80 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
}
";

    #[test]
    fn the_nat_primary_is_the_briefs_file() {
        assert_eq!(keepalived_conf(HaMode::Nat, Director::Primary), NAT_PRIMARY);
    }

    #[test]
    fn the_backup_differs_in_state_priority_and_name_only() {
        let primary = keepalived_conf(HaMode::Nat, Director::Primary);
        let backup = keepalived_conf(HaMode::Nat, Director::Backup);
        let differ: Vec<(&str, &str)> = primary.lines().zip(backup.lines()).filter(|(p, b)| p != b).collect();
        assert_eq!(
            differ,
            [
                ("    router_id primary", "    router_id backup"),
                ("    state MASTER", "    state BACKUP"),
                ("    priority 150", "    priority 100"),
            ]
        );
    }

    #[test]
    fn dr_has_no_nat_router_and_syncs_on_the_public_network() {
        let dr = keepalived_conf(HaMode::Dr, Director::Backup);
        assert!(dr.contains("    lvs_sync_daemon eth0 VI_1\n"), "{dr}");
        assert!(dr.contains("    lb_kind DR\n"), "{dr}");
        assert!(!dr.contains("10.0.0."), "{dr}");
        assert!(dr.contains("    virtual_ipaddress {\n        192.168.1.250/24 dev eth0\n    }\n"), "{dr}");
        assert!(dr.contains("real_server 192.168.1.111 80 {"), "{dr}");
        assert!(dr.contains("real_server 192.168.1.222 80 {"), "{dr}");
    }
}
