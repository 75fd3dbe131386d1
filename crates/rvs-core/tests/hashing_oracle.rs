//! `sh`, `dh` and `mh` against the real IPVS: the oracle's recordings
//! (`tests/golden/traffic/sched-{hash,mh}.txt`, made by `sched-{hash,mh}.sh` in the ipvs-oracle VM) of
//! which real server answered each client address, source port and virtual address, replayed
//! through rvs-core's tables and hashes with the same destination lists. The data plane's
//! fixtures check its own hashing against these same functions.

use std::net::Ipv4Addr;
use std::path::Path;

use rvs_core::sched::{HashFlags, SchedDest, SchedService, SchedulerKind};
use rvs_core::sched::hashing::{HashInput, dh_pick, dh_table, sh_pick, sh_table};

/// The `(key, real)` lines of section `=== title ===`: after the commands it may start with, up
/// to the next blank line or command.
fn section(title: &str) -> Vec<(String, String)> {
    section_of("sched-hash.txt", title)
}

/// [`section`] of recording `file` in `tests/golden/traffic`.
fn section_of(file: &str, title: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/traffic").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = format!("=== {title} ===");
    let rows: Vec<(String, String)> = text
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .skip_while(|l| l.starts_with('$') || l.starts_with('['))
        .take_while(|l| !l.is_empty() && !l.starts_with('$'))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, r)| (k.to_owned(), r.to_owned()))
        .collect();
    assert!(rows.len() >= 4, "section {header:?}: {rows:?}");
    rows
}

fn addr(text: &str) -> u32 {
    u32::from(text.parse::<Ipv4Addr>().unwrap_or_else(|e| panic!("{text}: {e}")))
}

/// rs1, rs2, rs3... with these weights, added in that order: IPVS's list is newest first.
fn reals(weights: &[i32]) -> Vec<SchedDest> {
    weights
        .iter()
        .enumerate()
        .rev()
        .map(|(i, &w)| SchedDest::new(i as u32 + 1, w))
        .collect()
}

fn name(pick: Option<u32>) -> String {
    pick.map_or_else(|| "FAIL".to_owned(), |id| format!("rs{id}"))
}

/// The section `title` of an sh service whose reals have `weights` (the table is rebuilt on
/// every change, so the current weights build it): by client address, or with `port` by source
/// port from `client`.
fn check_sh(title: &str, weights: &[i32], port: bool, fallback: bool, client: u32) {
    let dests = reals(weights);
    let table = sh_table(&dests);
    for (key, real) in section(title) {
        let input = if port {
            let sport = key.parse().unwrap_or_else(|e| panic!("{key}: {e}"));
            HashInput { saddr: client, sport, daddr: 0 }
        } else {
            HashInput { saddr: addr(&key), sport: 0, daddr: 0 }
        };
        let got = name(sh_pick(&table, &dests, &input, port, fallback));
        assert_eq!(got, real, "{title}: {key}");
    }
}

#[test]
fn sh_by_source_address() {
    check_sh("sh 10.0.1.100 (rs1 w1, rs2 w1) by source", &[1, 1], false, false, 0);
    check_sh("sh 10.0.1.101 (rs1 w1, rs2 w3, rs3 w0) by source", &[1, 3, 0], false, false, 0);
}

#[test]
fn sh_quiesced_without_fallback_fails() {
    check_sh("sh 10.0.1.101 with rs2 at weight 0 (no fallback), by source", &[1, 0, 0], false, false, 0);
}

#[test]
fn sh_port_hashes_the_source_port_too() {
    let client = addr("10.0.1.2");
    check_sh("sh-port 10.0.1.102 (rs1 w1, rs2 w2, rs3 w1) by port", &[1, 2, 1], true, false, client);
}

#[test]
fn sh_fallback_walks_the_table() {
    check_sh("sh-fallback 10.0.1.103 (rs1, rs2, rs3 w1) by source", &[1, 1, 1], false, true, 0);
    check_sh("sh-fallback 10.0.1.103 with rs2 at weight 0, by source", &[1, 0, 1], false, true, 0);
}

#[test]
fn dh_by_destination_address() {
    let dests = reals(&[1, 5, 1]);
    let table = dh_table(&dests);
    for (vip, real) in section("dh 10.0.1.104-107 (rs1 w1, rs2 w5, rs3 w1) from 10.0.1.2") {
        let input = HashInput { saddr: addr("10.0.1.2"), sport: 0, daddr: addr(&vip) };
        assert_eq!(name(dh_pick(&table, &dests, &input)), real, "dh: {vip}");
    }
}

/// The mh sections are in their own recording (`sched-mh.txt`, from `sched-mh.sh`).
fn mh_section(title: &str) -> Vec<(String, String)> {
    section_of("sched-mh.txt", title)
}

/// An mh service of rs1, rs2, rs3... (10.0.1.11 and up, port 80) added in that order with
/// `weights`, then edited to `now` (an edit to 0 keeps the last weight); `removed` deleted.
fn mh_service(weights: &[i32], now: &[i32], removed: &[u32]) -> SchedService {
    let mut svc = SchedService::new(SchedulerKind::Mh).expect("mh");
    for (i, &w) in weights.iter().enumerate() {
        let id = i as u32 + 1;
        svc.add_dest(SchedDest::new(id, w)).expect("add");
        svc.locate(id, addr(&format!("10.0.1.{}", 10 + id)), 80).expect("locate");
    }
    for (i, (&w, &n)) in weights.iter().zip(now).enumerate() {
        if w != n {
            svc.edit_dest(i as u32 + 1, n).expect("edit");
        }
    }
    for &id in removed {
        svc.del_dest(id).expect("del");
    }
    svc
}

fn check_mh(title: &str, mut svc: SchedService, port: bool, fallback: bool) {
    let flags = HashFlags { port, fallback };
    for (key, real) in mh_section(title) {
        let input = if port {
            let sport = key.parse().unwrap_or_else(|e| panic!("{key}: {e}"));
            HashInput { saddr: addr("10.0.1.2"), sport, daddr: 0 }
        } else {
            HashInput { saddr: addr(&key), sport: 0, daddr: 0 }
        };
        assert_eq!(name(svc.pick_for(&input, flags)), real, "{title}: {key}");
    }
}

#[test]
fn mh_by_source_address() {
    check_mh("mh 10.0.1.100 (rs1, rs2, rs3 w1) by source", mh_service(&[1, 1, 1], &[1, 1, 1], &[]), false, false);
    check_mh("mh 10.0.1.101 (rs1 w1, rs2 w4, rs3 w0) by source", mh_service(&[1, 4, 0], &[1, 4, 0], &[]), false, false);
}

#[test]
fn mh_port_hashes_the_source_port_too() {
    check_mh("mh-port 10.0.1.102 (rs1 w2, rs2 w3, rs3 w1) by port", mh_service(&[2, 3, 1], &[2, 3, 1], &[]), true, false);
}

#[test]
fn mh_quiesced_keeps_the_table_and_falls_back_only_when_asked() {
    check_mh("mh-fallback 10.0.1.103 (rs1, rs2, rs3 w1) by source", mh_service(&[1, 1, 1], &[1, 1, 1], &[]), false, true);
    check_mh("mh-fallback 10.0.1.103 with rs2 at weight 0, by source", mh_service(&[1, 1, 1], &[1, 0, 1], &[]), false, true);
    check_mh("mh 10.0.1.100 with rs2 at weight 0 (no fallback), by source", mh_service(&[1, 1, 1], &[1, 0, 1], &[]), false, false);
}

#[test]
fn mh_removed_real_moves_only_its_clients() {
    check_mh("mh 10.0.1.100 with rs2 removed, by source", mh_service(&[1, 1, 1], &[1, 1, 1], &[2]), false, false);
}
