//! The NAT router address (issue 4, item 2): the real rvsd started with `--nat-router
//! 10.0.0.254/16 --nat-router-interface eth1` adds the address on its private side, announces
//! it with gratuitous ARP so that a real server's stale entry for its gateway is corrected
//! before the server sends anything, re-announces it on the refresh interval, and removes it at
//! SIGTERM, unless the address was there before rvsd, in which case it stays. A missing
//! interface, an invalid address or an address owned elsewhere stop rvsd before it serves,
//! leaving nothing behind.

use std::path::Path;
use std::time::Duration;

use rvs_e2e::nat_router::{NAT_ROUTER, NatRouterLab, Neighbour, PRIVATE_IF, addresses};
use rvs_e2e::root_or_skip;
use rvs_lab::MacAddr;

/// The MAC the server's entry for its gateway holds before rvsd starts: no interface's.
const OLD_MAC: &str = "02:00:00:00:00:99";
/// How long the first gratuitous ARPs may take to arrive after rvsd is up.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(5);

const NAT_ARGS: [&str; 4] = ["--nat-router", NAT_ROUTER, "--nat-router-interface", PRIVATE_IF];

fn old_mac() -> MacAddr {
    OLD_MAC.parse().unwrap_or_else(|e| panic!("{e}"))
}

/// The server's stale entry now names the director's `eth1`, and is still STALE: it was
/// updated by an announcement, not by an answer to a question the server asked.
fn assert_announced(lab: &NatRouterLab, log: &dyn Fn() -> String) {
    let director_mac = lab.director.mac(PRIVATE_IF).unwrap_or_else(|e| panic!("{e}"));
    let entry = lab.wait_for_server_neighbour(director_mac, ANNOUNCE_TIMEOUT);
    assert_eq!(
        entry,
        Some(Neighbour { mac: director_mac, state: "STALE".into() }),
        "the server's entry for 10.0.0.254 should name the director's eth1 ({director_mac}); rvsd's log:\n{}",
        log()
    );
}

#[test]
fn rvsd_adds_announces_and_removes_the_nat_router_address() {
    if !root_or_skip("rvsd_adds_announces_and_removes_the_nat_router_address") {
        return;
    }
    let lab = NatRouterLab::build();
    lab.seed_server_neighbour(OLD_MAC);
    assert_eq!(lab.server_neighbour(), Some(Neighbour { mac: old_mac(), state: "STALE".into() }));
    assert!(!lab.private_addresses().iter().any(|a| a == NAT_ROUTER));

    let mut rvsd = lab.start_rvsd(&NAT_ARGS);
    assert_announced(&lab, &|| rvsd.log());
    assert!(
        lab.private_addresses().iter().any(|a| a == NAT_ROUTER),
        "{NAT_ROUTER} is not on eth1: {:?}; rvsd's log:\n{}",
        lab.private_addresses(),
        rvsd.log()
    );
    assert!(!addresses(&lab.director, "eth0").iter().any(|a| a.starts_with("10.0.0.254/")));

    let status = rvsd.stop().unwrap_or_else(|e| panic!("{e}"));
    let log = rvsd.log();
    assert!(status.success(), "rvsd exited with {status}; its log:\n{log}");
    assert!(
        !lab.private_addresses().iter().any(|a| a.starts_with("10.0.0.254/")),
        "{NAT_ROUTER} is still on eth1 after rvsd stopped: {:?}; its log:\n{log}",
        lab.private_addresses()
    );
    assert!(lab.private_addresses().iter().any(|a| a == "10.0.0.20/16"), "the director's own address went too");
    for line in ["NAT router address added", "sending gratuitous ARPs", "NAT router address removed"] {
        assert!(log.contains(line), "rvsd's log lacks {line:?}:\n{log}");
    }
}

#[test]
fn the_nat_router_is_announced_again_on_the_refresh_interval() {
    if !root_or_skip("the_nat_router_is_announced_again_on_the_refresh_interval") {
        return;
    }
    let lab = NatRouterLab::build();
    lab.seed_server_neighbour(OLD_MAC);
    let mut args = NAT_ARGS.to_vec();
    args.extend(["--garp-master-repeat", "1", "--garp-master-delay", "0", "--garp-master-refresh", "1"]);
    let mut rvsd = lab.start_rvsd(&args);
    assert_announced(&lab, &|| rvsd.log());

    // Someone else claims the address in the server's cache (as a stale entry left by the
    // other director would): the next refresh, a second later, puts it right again. (`ip
    // neigh replace` has succeeded; reading the entry back here could race with a refresh.)
    lab.seed_server_neighbour(OLD_MAC);
    assert_announced(&lab, &|| rvsd.log());
    let status = rvsd.stop().unwrap_or_else(|e| panic!("{e}"));
    let log = rvsd.log();
    assert!(status.success(), "rvsd exited with {status}; its log:\n{log}");
    assert!(log.contains("cause=\"refresh\"") || log.contains("cause=refresh"), "no refresh in the log:\n{log}");
}

#[test]
fn a_nat_router_address_that_was_already_there_is_left_in_place() {
    if !root_or_skip("a_nat_router_address_that_was_already_there_is_left_in_place") {
        return;
    }
    let lab = NatRouterLab::build();
    lab.director.ip(&["addr", "add", NAT_ROUTER, "dev", PRIVATE_IF]).unwrap_or_else(|e| panic!("{e}"));
    lab.seed_server_neighbour(OLD_MAC);

    let mut rvsd = lab.start_rvsd(&NAT_ARGS);
    // Announced all the same: rvsd answers for it now.
    assert_announced(&lab, &|| rvsd.log());
    let status = rvsd.stop().unwrap_or_else(|e| panic!("{e}"));
    let log = rvsd.log();
    assert!(status.success(), "rvsd exited with {status}; its log:\n{log}");
    assert!(
        lab.private_addresses().iter().any(|a| a == NAT_ROUTER),
        "rvsd removed an address it had not added: {:?}; its log:\n{log}",
        lab.private_addresses()
    );
    assert!(log.contains("already there") && log.contains("left in place"), "{log}");
}

#[test]
fn rvsd_refuses_a_nat_router_it_cannot_own_and_leaves_nothing_behind() {
    if !root_or_skip("rvsd_refuses_a_nat_router_it_cannot_own_and_leaves_nothing_behind") {
        return;
    }
    let lab = NatRouterLab::build();
    let pins = Path::new(rvs_lab::BPF_PIN_ROOT).join(lab.instance());
    let refused = |extra: &[&str], wanted: &[&str]| {
        let run = lab.rvsd_refused(extra);
        assert_ne!(run.code, 0, "{extra:?}: {run:?}");
        for text in wanted {
            assert!(run.stderr.contains(text), "{extra:?}: stderr should say {text:?}: {run:?}");
        }
        assert!(!lab.socket.exists(), "{extra:?}: a refused rvsd left its socket");
        assert!(!pins.exists(), "{extra:?}: a refused rvsd left {}", pins.display());
    };
    refused(&["--nat-router", NAT_ROUTER, "--nat-router-interface", "eth7"], &["eth7", "does not exist"]);
    refused(&["--nat-router", "10.0.0.0/16", "--nat-router-interface", PRIVATE_IF], &["network address"]);
    refused(&["--nat-router", "10.0.0.254", "--nat-router-interface", PRIVATE_IF], &["ADDR/PREFIX"]);
    refused(&["--nat-router", NAT_ROUTER], &["--nat-router-interface"]);
    refused(&["--nat-router-interface", PRIVATE_IF], &["--nat-router"]);

    // Found only after the data plane is attached: the address already lives on the public
    // side. rvsd must detach and unpin before it exits, and not touch that address.
    lab.director.ip(&["addr", "add", "10.0.0.254/32", "dev", "eth0"]).unwrap_or_else(|e| panic!("{e}"));
    refused(&NAT_ARGS, &["10.0.0.254 is already on interface eth0"]);
    assert!(addresses(&lab.director, "eth0").iter().any(|a| a == "10.0.0.254/32"));
    assert!(!lab.private_addresses().iter().any(|a| a.starts_with("10.0.0.254/")));
    let xdp = lab.director.ip(&["-d", "link", "show", "dev", PRIVATE_IF]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!xdp.contains("xdp"), "a refused rvsd left its program on eth1:\n{xdp}");
}
