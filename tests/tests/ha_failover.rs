//! Fail-over end to end (issue 7), seed 002 with a backup director, in NAT and in DR: VRRPv3
//! every 100 ms and connection sync between two rvsd. A long download and a loop of short
//! requests run through the VIP while the primary's rvsd is stopped, comes back and preempts,
//! and while the primary's links are cut and restored. The download must finish whole (no
//! reset), every request started after a takeover must succeed, the takeover must take less
//! than a second, and the two directors never hold the VIP together (beyond a hand-over). The
//! cut primary must not count the health checks that failed while its links were down: it
//! preempts as soon as they are back, and must still have its real servers.

use std::time::{Duration, Instant};

use rvs_e2e::ha_cluster::HaCluster;
use rvs_e2e::root_or_skip;
use rvs_lab::topology::{Director, HaMode};

/// The goal for VRRPv3 with `advert_int 0.1`: 3 x 100 ms + skew, under a second.
const TAKEOVER: Duration = Duration::from_secs(1);
/// A request in flight while the VIP moves may fail; those started this long after are not.
const SETTLE: Duration = Duration::from_millis(300);
/// Both hold the VIP only while the preempted master hears the new one.
const HANDOVER: Duration = Duration::from_millis(150);
/// How long the primary's links stay cut: long enough for every check (delay_loop 2,
/// connect_timeout 1, one retry a second later) to fail twice, taking its real server out if
/// those failures counted.
const CUT: Duration = Duration::from_secs(6);

fn check_requests(c: &HaCluster, what: &str, from: Instant, to: Instant) {
    let (n, failed) = c.requests_between(from + SETTLE, to);
    if n == 0 {
        let (_, around) = c.requests_between(from - Duration::from_secs(5), to);
        let (all, _) = c.requests_between(from - Duration::from_secs(5), to);
        panic!("{what}: no request started in the {:?} after the takeover ({all} in the 5 s before, failures {around:?})", to - from);
    }
    assert!(failed.is_empty(), "{what}: {} of {n} requests failed: {:?}", failed.len(), failed);
    eprintln!("{what}: {n} requests, none failed");
}

fn stop_return_cut_restore(mode: HaMode) {
    let mut c = HaCluster::start(mode);
    let download = c.start_download(30);
    c.start_request_loop();
    std::thread::sleep(Duration::from_secs(2));

    // The primary's rvsd stops: priority 0, the backup takes over after its skew time.
    let stopped = Instant::now();
    c.stop_rvsd(Director::Primary);
    let took = c.wait_holder(Director::Backup, TAKEOVER);
    eprintln!("{mode:?}: backup took over {took:?} after the primary's rvsd was stopped");

    // It comes back (as backup) and preempts the backup once it has waited its down timer.
    // (A request caught mid-handshake by the stop waits out its 2 s: half-open connections
    // are not synced, as in IPVS.)
    std::thread::sleep(Duration::from_secs(3));
    check_requests(&c, "after the stop", stopped + took, Instant::now());
    let restarted = Instant::now();
    c.start_rvsd(Director::Primary);
    let back = c.wait_holder(Director::Primary, Duration::from_secs(10));
    eprintln!("{mode:?}: the restarted primary preempted {back:?} after its rvsd was started");
    std::thread::sleep(Duration::from_secs(3));
    check_requests(&c, "after the return", restarted + back, Instant::now());

    // The primary's links are cut (the machine is gone): the backup takes over after the
    // master-down interval; restored, the primary (which went to FAULT) preempts again.
    let cut = Instant::now();
    c.seed.cut(Director::Primary).unwrap_or_else(|e| panic!("cut: {e}"));
    let took = {
        let start = Instant::now();
        loop {
            if c.seed.director(Director::Backup).host.has_ipv4(c.seed.vip).unwrap_or(false) {
                break start.elapsed();
            }
            assert!(start.elapsed() < TAKEOVER, "the backup did not take over within {TAKEOVER:?} of the cut:\n{}", c.log(Director::Backup));
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    eprintln!("{mode:?}: backup took over {took:?} after the primary's links were cut");
    std::thread::sleep(CUT.saturating_sub(cut.elapsed()));
    check_requests(&c, "after the cut", cut + took, Instant::now());
    let log = c.log(Director::Primary);
    assert!(log.contains("this director's links are down"), "the cut primary did not see its links go:\n{log}");
    let restored = Instant::now();
    c.seed.restore(Director::Primary).unwrap_or_else(|e| panic!("restore: {e}"));
    let back = c.wait_holder(Director::Primary, Duration::from_secs(5));
    eprintln!("{mode:?}: the restored primary preempted {back:?} after its links came back");
    std::thread::sleep(Duration::from_secs(5));
    check_requests(&c, "after the restore", restored + back, Instant::now());
    let log = c.log(Director::Primary);
    assert!(!log.contains("real server down"), "the primary counted checks that failed while its links were cut:\n{log}");
    assert!(log.contains("link back: its unresolved neighbour entries are flushed"), "the primary did not re-resolve its real servers:\n{log}");

    c.assert_download_complete(download, 30);
    c.assert_no_split_brain(HANDOVER);
}

#[test]
fn nat_failover_keeps_the_download_and_the_requests() {
    if !root_or_skip("nat_failover_keeps_the_download_and_the_requests") {
        return;
    }
    stop_return_cut_restore(HaMode::Nat);
}

#[test]
fn dr_failover_keeps_the_download_and_the_requests() {
    if !root_or_skip("dr_failover_keeps_the_download_and_the_requests") {
        return;
    }
    stop_return_cut_restore(HaMode::Dr);
}

/// `kill -9` of the primary's rvsd: the backup takes over within the master-down interval, the
/// dead director's VIP expires on its own (it does not keep answering ARP for it), requests
/// after the takeover all succeed, and the restarted rvsd comes back as backup before it
/// preempts.
#[test]
fn a_killed_primary_lets_go_of_the_vip_and_comes_back_as_backup() {
    if !root_or_skip("a_killed_primary_lets_go_of_the_vip_and_comes_back_as_backup") {
        return;
    }
    let mut c = HaCluster::start(HaMode::Nat);
    c.start_request_loop();
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    c.kill_rvsd(Director::Primary);
    let took = c.wait_holder(Director::Backup, Duration::from_secs(4));
    eprintln!("kill -9: the backup alone holds the VIP {took:?} after the kill (the dead primary's VIP expired)");
    assert!(took < Duration::from_secs(4), "{took:?}");
    std::thread::sleep(Duration::from_secs(1));
    check_requests(&c, "after kill -9", killed + took, Instant::now());

    let restarted = Instant::now();
    c.start_rvsd(Director::Primary);
    let back = c.wait_holder(Director::Primary, Duration::from_secs(10));
    eprintln!("kill -9: the restarted primary preempted {back:?} after it was started");
    let log = c.log(Director::Primary);
    let backup_at = log.find("INIT -> BACKUP").unwrap_or_else(|| panic!("the restarted primary did not start as backup:\n{log}"));
    let master_at = log.find("BACKUP -> MASTER").unwrap_or_else(|| panic!("no takeover in:\n{log}"));
    assert!(backup_at < master_at, "{log}");
    std::thread::sleep(Duration::from_secs(3));
    check_requests(&c, "after the restart", restarted + back, Instant::now());
    // The dead director keeps its VIP (unannounced, unrenewed) until the kernel expires it,
    // at most rvs_ha's address lifetime (2 s) after the kill: not a master, but counted.
    c.assert_no_split_brain(Duration::from_secs(3));
}
