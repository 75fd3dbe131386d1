//! VRRP interop (issue 7): rvsd and Debian's keepalived in one virtual router, VRRPv2 and v3.
//! They elect by priority, each is master and backup in turn, preemption works both ways,
//! `nopreempt` holds, a clean stop hands over at once, and at no time do both hold the VIP
//! (beyond the moment one hands over to the other).

use std::time::Duration;

use rvs_e2e::root_or_skip;
use rvs_e2e::vrrp_pair::{KEEPALIVED, VrrpPair, instance};

/// Longest both may hold the VIP: the preempted master lets go when it hears the new one.
const HANDOVER: Duration = Duration::from_millis(150);

fn keepalived_available() -> bool {
    if std::path::Path::new(KEEPALIVED).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "{KEEPALIVED} is missing: scripts/setup.sh installs Debian's keepalived"
    );
    eprintln!("SKIPPED: {KEEPALIVED} is not installed (scripts/setup.sh installs it)");
    false
}

/// Both directions of failover and preemption, in one virtual router.
fn take_turns(version: u8, advert_int: &str) {
    let advert = Duration::from_secs_f64(advert_int.parse().unwrap_or(1.0));
    // Master down interval (3 adverts + skew) and some slack for the lab's scheduling.
    let takeover = advert * 4 + Duration::from_secs(2);
    let mut pair = VrrpPair::build();

    // keepalived (100) alone is master; rvsd (150) joins and preempts it.
    pair.start_keepalived(&instance(version, 100, advert_int, ""));
    pair.wait_holder(false, takeover);
    pair.start_rvsd(&instance(version, 150, advert_int, ""));
    let preempt = pair.wait_holder(true, takeover);
    eprintln!("v{version}: rvsd (150) preempted keepalived (100) in {preempt:?}");

    // rvsd stops cleanly: priority 0, keepalived takes over after its skew time only.
    pair.stop_rvsd();
    let handover = pair.wait_holder(false, takeover);
    eprintln!("v{version}: keepalived took over from a stopping rvsd in {handover:?}");
    assert!(handover < advert + Duration::from_millis(500), "priority 0 hands over within the skew time, took {handover:?}");

    // rvsd comes back as backup and preempts again.
    pair.start_rvsd(&instance(version, 150, advert_int, ""));
    pair.wait_holder(true, takeover);

    // keepalived now at 200 preempts rvsd; then it stops and rvsd takes over.
    pair.stop_keepalived();
    pair.start_keepalived(&instance(version, 200, advert_int, ""));
    let preempted = pair.wait_holder(false, takeover);
    eprintln!("v{version}: keepalived (200) preempted rvsd (150) in {preempted:?}");
    assert!(pair.rvsd_log().contains("MASTER -> BACKUP: higher priority 200 from 10.77.0.2"), "{}", pair.rvsd_log());
    pair.stop_keepalived();
    let back = pair.wait_holder(true, takeover);
    eprintln!("v{version}: rvsd took over from a stopping keepalived in {back:?}");
    assert!(back < advert + Duration::from_millis(500), "priority 0 from keepalived: took {back:?}");

    let overlap = pair.assert_no_split_brain(HANDOVER);
    eprintln!("v{version}: longest time both held the VIP: {overlap:?}");
}

#[test]
fn vrrp_v3_with_keepalived_in_turns() {
    if !root_or_skip("vrrp_v3_with_keepalived_in_turns") || !keepalived_available() {
        return;
    }
    take_turns(3, "0.1");
}

#[test]
fn vrrp_v2_with_keepalived_in_turns() {
    if !root_or_skip("vrrp_v2_with_keepalived_in_turns") || !keepalived_available() {
        return;
    }
    take_turns(2, "1");
}

#[test]
fn nopreempt_leaves_a_lower_priority_master_alone() {
    if !root_or_skip("nopreempt_leaves_a_lower_priority_master_alone") || !keepalived_available() {
        return;
    }
    let mut pair = VrrpPair::build();
    pair.start_keepalived(&instance(3, 100, "0.1", ""));
    pair.wait_holder(false, Duration::from_secs(3));
    pair.start_rvsd(&instance(3, 150, "0.1", "    nopreempt\n"));
    // Ten master-down intervals: rvsd must stay backup.
    std::thread::sleep(Duration::from_secs(4));
    pair.wait_holder(false, Duration::from_millis(100));
    pair.stop_keepalived();
    pair.wait_holder(true, Duration::from_secs(2));
    pair.assert_no_split_brain(HANDOVER);
}

#[test]
fn v2_pass_authentication_with_keepalived() {
    if !root_or_skip("v2_pass_authentication_with_keepalived") || !keepalived_available() {
        return;
    }
    // keepalived with PASS authentication as the peer: the same password is taken, a wrong
    // one makes rvsd ignore its adverts (and both become master: the check is the log).
    let auth = |p: &str| format!("    authentication {{\n        auth_type PASS\n        auth_pass {p}\n    }}\n");
    let mut pair = VrrpPair::build();
    pair.start_keepalived(&instance(2, 200, "1", &auth("s3cret")));
    pair.wait_holder(false, Duration::from_secs(6));
    pair.start_rvsd(&instance(2, 150, "1", &auth("s3cret")));
    std::thread::sleep(Duration::from_secs(5));
    pair.wait_holder(false, Duration::from_millis(100));
    assert!(!pair.rvsd_log().contains("authentication does not match"), "{}", pair.rvsd_log());
    pair.assert_no_split_brain(HANDOVER);
    pair.stop_rvsd();
    pair.start_rvsd(&instance(2, 150, "1", &auth("wrong")));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !pair.rvsd_log().contains("authentication does not match") {
        assert!(std::time::Instant::now() < deadline, "rvsd took adverts with the wrong password:\n{}", pair.rvsd_log());
        std::thread::sleep(Duration::from_millis(100));
    }
}
