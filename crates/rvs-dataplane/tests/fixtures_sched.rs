//! The schedulers the program computes itself (lc, wlc, sed, nq, fo, ovf from live counts; sh,
//! dh and mh from the tables rvs-core builds), run by the real director program through
//! BPF_PROG_TEST_RUN and compared with rvs-core's reference implementations of the kernel's
//! `ip_vs_<name>_schedule`: hundreds of generated destination lists (weights from 0 to 65535,
//! overload flags, active and inactive counts written into the data plane; random clients,
//! ports and virtual addresses for the hashes), each scheduled once by the program and once by
//! the reference.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use rvs_core::sched::{
    HashFlags, SchedDest, SchedService, SchedulerKind, delay::nq_pick, delay::sed_pick,
    failover::fo_pick, failover::ovf_pick, hashing::HashInput, least::lc_pick, least::wlc_pick,
    locality::{LblcCache, LblcrSets, lblc_pick, lblcr_pick}, twos::twos_pick,
};
use rvs_dataplane::{
    abi::*,
    program::{SchedSpec, ServiceSpec, Thresholds},
};
use rvs_wire::{builder::FrameBuilder, tcp::TcpFlags};

/// Most destinations in a generated list.
const MAX_DESTS: u32 = 6;
/// Generated lists per scheduler.
const CASES: u32 = 250;

/// A small deterministic generator (xorshift64*), so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }
}

fn dest_addr(slot: u32) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 0, 10 + slot as u8)
}

/// A loaded director with a next hop (its own MAC address) for every destination slot the
/// generated lists use.
fn env_with_next_hops() -> Env {
    let mut env = Env::empty();
    for slot in 1..=MAX_DESTS {
        env.neigh(slot, dest_mac(slot), TEST_RUN_IFINDEX);
    }
    env
}

fn dest_mac(slot: u32) -> [u8; 6] {
    [0x02, 0, 0, 0, 0x01, slot as u8]
}

/// A destination list: weights that tie and that differ, some 0, some overloaded, counts that
/// make the rules disagree (inactive connections only lc and wlc weigh, idle servers nq takes at
/// once, servers past their weight ovf skips).
fn generate(rng: &mut Rng) -> Vec<SchedDest> {
    let n = 1 + rng.below(u64::from(MAX_DESTS)) as u32;
    (1..=n)
        .map(|id| SchedDest {
            id,
            weight: rng.pick(&[0, 1, 1, 2, 3, 3, 5, 100, 65535]),
            overloaded: rng.below(7) == 0,
            active: if rng.below(4) == 0 { 0 } else { rng.pick(&[1, 2, 3, 5, 8, 100, 4_000_000]) },
            inactive: rng.pick(&[0, 0, 1, 3, 255, 256, 1000]),
        })
        .collect()
}

/// Programs `dests` (list order as given) as the TCP service's list under `sched`.
fn program(env: &mut Env, dests: &[SchedDest], sched: SchedSpec) {
    program_dests(env, dests);
    env.service(SVC_TCP, 80, 6, sched, dests.iter().map(|d| d.id).collect());
}

/// Programs the destinations of `dests` with their weights, flags and counts.
fn program_dests(env: &mut Env, dests: &[SchedDest]) {
    for d in dests {
        let mut spec = Env::dest_spec(dest_addr(d.id), 80, SVC_TCP, d.id, d.weight);
        spec.overloaded = d.overloaded;
        env.prog.install_dest(env.dp(), d.id, &spec).expect("dest");
        let conns = RvsDestConns {
            active: d.active as i32,
            inactive: d.inactive as i32,
            ..RvsDestConns::default()
        };
        assert!(env.dp().maps.dest_conns.write_unpublished(d.id, conns));
    }
}

/// The destination the program chose for a new connection from `sport`, or `None` when it
/// found none (dropped as such).
fn scheduled(env: &Env, sport: u16) -> Option<u32> {
    let syn = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, TcpFlags::SYN, b"").build();
    run_syn(env, &syn)
}

/// The destination the program chose for the new connection `syn` opens, or `None` when it
/// found none (dropped as such).
fn run_syn(env: &Env, syn: &[u8]) -> Option<u32> {
    let no_dest = env.stat(RvsStat::DropNoDest);
    let (verdict, out) = env.run(syn);
    if verdict == XDP_DROP {
        assert_eq!(env.stat(RvsStat::DropNoDest), no_dest + 1, "dropped for another reason");
        return None;
    }
    assert_eq!(verdict, XDP_TX, "verdict");
    (1..=MAX_DESTS).find(|&slot| out[0..6] == dest_mac(slot))
}

fn compare(name: &str, sched: SchedSpec, reference: fn(&[SchedDest]) -> Option<u32>, seed: u64) {
    let mut env = env_with_next_hops();
    let mut rng = Rng(seed);
    let mut agreed_on_none = 0;
    for case in 0..CASES {
        let dests = generate(&mut rng);
        program(&mut env, &dests, sched.clone());
        let want = reference(&dests);
        let got = scheduled(&env, 20000 + case as u16);
        assert_eq!(got, want, "{name}, case {case} (seed {seed}): {dests:?}");
        agreed_on_none += u32::from(want.is_none());
    }
    // The generated lists exercise both outcomes.
    assert!(agreed_on_none > 0 && agreed_on_none < CASES / 2, "{name}: {agreed_on_none} lists without a destination");
}

#[test]
fn lc_matches_the_kernels_rule() {
    require_root!();
    compare("lc", SchedSpec::Lc, lc_pick, 0x1c);
}

#[test]
fn wlc_matches_the_kernels_rule() {
    require_root!();
    compare("wlc", SchedSpec::Wlc, wlc_pick, 0x31c);
}

#[test]
fn sed_matches_the_kernels_rule() {
    require_root!();
    compare("sed", SchedSpec::Sed, sed_pick, 0x5ed);
}

#[test]
fn nq_matches_the_kernels_rule() {
    require_root!();
    compare("nq", SchedSpec::Nq, nq_pick, 0x17);
}

#[test]
fn fo_matches_the_kernels_rule() {
    require_root!();
    compare("fo", SchedSpec::Fo, fo_pick, 0xf0);
}

#[test]
fn ovf_matches_the_kernels_rule() {
    require_root!();
    compare("ovf", SchedSpec::Ovf, ovf_pick, 0x0f);
}

/// sh and dh: generated lists, tables built by rvs-core as the daemon builds them, random
/// client addresses, ports and virtual addresses; the program's pick against the reference's.
fn compare_hashing(kind: SchedulerKind, seed: u64) {
    let mut env = env_with_next_hops();
    let mut rng = Rng(seed);
    let (mut none, mut fell_back) = (0, 0);
    for case in 0..CASES {
        let dests = generate(&mut rng);
        let flags = HashFlags { port: rng.below(2) == 0, fallback: rng.below(2) == 0 };
        let mut svc = SchedService::new(kind).expect("implemented");
        for d in dests.iter().rev() {
            svc.add_dest(SchedDest { active: 0, inactive: 0, ..*d }).expect("add");
            svc.set_overloaded(d.id, d.overloaded).expect("flag");
            svc.locate(d.id, u32::from(dest_addr(d.id)), 80).expect("locate");
        }
        assert_eq!(svc.dests().iter().map(|d| d.id).collect::<Vec<_>>(), dests.iter().map(|d| d.id).collect::<Vec<_>>());
        let table = svc.hash_table().expect("a hashing scheduler");
        let sched = match kind {
            SchedulerKind::Sh => SchedSpec::SourceHash { table, port: flags.port, fallback: flags.fallback },
            SchedulerKind::Mh => SchedSpec::Maglev { table, port: flags.port, fallback: flags.fallback },
            _ => SchedSpec::DestHash { table },
        };
        program_dests(&mut env, &dests);
        let input = HashInput {
            saddr: rng.next() as u32,
            sport: 1024 + rng.below(60000) as u16,
            daddr: u32::from(Ipv4Addr::new(10, 1, 0, 0)) + rng.below(1 << 16) as u32,
        };
        // The service on this case's virtual address (dh hashes it). Time moves on between
        // cases, so that the pool regions of earlier tables come free (after their grace).
        let vip = Ipv4Addr::from(input.daddr);
        let spec = ServiceSpec { slot: SVC_TCP, addr: vip, port: 80, proto: 6, sched, dests: dests.iter().map(|d| d.id).collect(), one_packet: false, persistence: None, fwmark: None };
        let dp = env.dp.as_mut().expect("loaded");
        let at = now() + Duration::from_secs(2 * u64::from(case));
        env.prog.install_service(dp, &spec, at).expect("service");
        let want = svc.pick_for(&input, flags);
        let syn = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, Ipv4Addr::from(input.saddr), vip, input.sport, 80, TcpFlags::SYN, b"").build();
        let got = run_syn(&env, &syn);
        assert_eq!(got, want, "{kind}, case {case} (seed {seed}), {flags:?}, {input:?}: {dests:?}");
        none += u32::from(want.is_none());
        let first = svc.pick_for(&input, HashFlags { fallback: false, ..flags });
        fell_back += u32::from(want.is_some() && first.is_none());
    }
    assert!(none > 0 && none < CASES / 2, "{kind}: {none} cases without a destination");
    if kind != SchedulerKind::Dh {
        assert!(fell_back > 0, "{kind}: the fallback walk never found a destination");
    }
}

#[test]
fn sh_matches_the_kernels_rule() {
    require_root!();
    compare_hashing(SchedulerKind::Sh, 0x54);
}

#[test]
fn mh_matches_the_kernels_rule() {
    require_root!();
    compare_hashing(SchedulerKind::Mh, 0x3a91);
}

#[test]
fn dh_matches_the_kernels_rule() {
    require_root!();
    compare_hashing(SchedulerKind::Dh, 0xd4);
}

/// twos draws at random: the program's pick must be one the kernel's rule can give for some
/// pair of draws (one draw landing on each destination's share of the weights), and none only
/// when the rule gives none.
#[test]
fn twos_picks_what_some_pair_of_draws_gives() {
    require_root!();
    let mut env = env_with_next_hops();
    let mut rng = Rng(0x2205);
    let mut both_seen = 0;
    for case in 0..CASES {
        let dests = generate(&mut rng);
        program(&mut env, &dests, SchedSpec::Twos);
        // The smallest draw that lands on each available destination: 0, then each prefix sum
        // of the weights before it, plus one.
        let mut draws = vec![0u32];
        let mut prefix = 0u32;
        for d in dests.iter().filter(|d| d.is_available()) {
            if prefix > 0 {
                draws.push(prefix + 1);
            }
            prefix += d.weight as u32;
        }
        let possible: std::collections::BTreeSet<Option<u32>> =
            draws.iter().flat_map(|&a| draws.iter().map(move |&b| (a, b))).map(|(a, b)| twos_pick(&dests, a, b)).collect();
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..4u16 {
            let got = scheduled(&env, 30000 + case as u16 * 4 + n);
            assert!(possible.contains(&got), "twos, case {case}: {got:?} not among {possible:?}: {dests:?}");
            seen.insert(got);
        }
        both_seen += u32::from(seen.len() > 1);
    }
    // Draws differ from connection to connection.
    assert!(both_seen > CASES / 10, "twos: only {both_seen} lists gave two different picks");
}

/// `-x`/`-y`: binding the connection that reaches the upper threshold overloads the real
/// server (no scheduler picks it), and only the connection expiring that brings the count below
/// the lower threshold (or 3/4 of the upper one) ends it, as ip_vs_bind_dest and
/// ip_vs_unbind_dest do. Raising the upper threshold ends it at once (__ip_vs_update_dest).
#[test]
fn connection_thresholds_overload_and_release_a_real() {
    require_root!();
    let mut env = Env::dr_cluster();
    let mut cfg = env.dp().maps.config.read(0).expect("config");
    cfg.tcp_timeout_ns[3] = 1_000_000_000; // SYN_RECV: 1 s, so that connections can expire
    env.prog.set_config(env.dp(), &cfg);
    let mut ws2 = Env::dest_spec(WS2, 80, SVC_TCP, 2, 1);
    ws2.thresholds = Thresholds { upper: 2, lower: 1 };
    env.prog.update_dest(env.dp(), D_WS2, &ws2).expect("thresholds");
    env.service(SVC_TCP, 80, 6, SchedSpec::Lc, vec![D_WS2, D_WS1]);
    let syn = |sport: u16| FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, TcpFlags::SYN, b"").build();
    let to = |env: &Env, sport: u16| {
        let (_, out) = env.run(&syn(sport));
        if out[0..6] == WS2_MAC { "ws2" } else { "ws1" }
    };
    // lc: ws2 (head), ws1, ws2 again (tie): ws2 now holds 2 = its upper threshold.
    let picks: Vec<&str> = (0..3).map(|i| to(&env, 51000 + i)).collect();
    assert_eq!(picks, ["ws2", "ws1", "ws2"]);
    assert_eq!(env.conns_of(D_WS2).overload, 1);
    // Overloaded, ws2 is passed over although it is the head and ties.
    let picks: Vec<&str> = (3..5).map(|i| to(&env, 51000 + i)).collect();
    assert_eq!(picks, ["ws1", "ws1"]);
    // Raising the threshold ends the overload at once.
    ws2.thresholds.upper = 3;
    env.prog.update_dest(env.dp(), D_WS2, &ws2).expect("raise");
    assert_eq!(env.conns_of(D_WS2).overload, 0);
    assert_eq!(to(&env, 51005), "ws2");
    assert_eq!(env.conns_of(D_WS2).overload, 1, "3 of 3");
    // Everything expires: unbinding ws2's last connection (0 < lower threshold 1) ends it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.dp().sweep().expect("sweep");
    assert_eq!(env.conns_of(D_WS2).active + env.conns_of(D_WS2).inactive, 0);
    assert_eq!(env.conns_of(D_WS2).overload, 0);
    assert_eq!(to(&env, 51006), "ws2");
}

/// `-o`: every datagram of a one-packet UDP service is scheduled on its own (rr alternates
/// even within one flow), no entry is kept, and each counts as a connection.
#[test]
fn one_packet_scheduling_schedules_every_datagram() {
    require_root!();
    let mut env = Env::dr_cluster();
    let spec = ServiceSpec {
        slot: SVC_UDP,
        addr: VIP,
        port: 53,
        proto: 17,
        sched: SchedSpec::Ring { ring: vec![D_UDP_WS2, D_UDP_WS1], cursor: Some(0) },
        dests: vec![D_UDP_WS2, D_UDP_WS1],
        one_packet: true,
        persistence: None,
        fwmark: None,
    };
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.install_service(dp, &spec, now()).expect("service");
    let dgram = FrameBuilder::udp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 53000, 53, b"query").build();
    let macs: Vec<bool> = (0..4).map(|_| env.run(&dgram).1[0..6] == WS2_MAC).collect();
    assert_eq!(macs, [true, false, true, false], "one flow, rr per datagram");
    assert_eq!(env.dp().connections().expect("conns").len(), 0, "no entry kept");
    assert_eq!(env.stat(RvsStat::ConnOnePacket), 4);
    assert_eq!(env.stat(RvsStat::ConnCreated), 0);
    assert_eq!(env.dp().service_counters(SVC_UDP).expect("counters").conns, 4);
    assert_eq!(env.conns_of(D_UDP_WS2).inactive + env.conns_of(D_UDP_WS1).inactive, 0);
    // TCP services ignore the flag: a flow keeps its real server.
    let tcp = ServiceSpec { slot: SVC_TCP, port: 80, proto: 6, sched: SchedSpec::Ring { ring: vec![D_WS2, D_WS1], cursor: Some(0) }, dests: vec![D_WS2, D_WS1], ..spec };
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.install_service(dp, &tcp, now()).expect("service");
    let syn = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 53001, 80, TcpFlags::SYN, b"").build();
    let ack = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 53001, 80, TcpFlags::ACK, b"").build();
    let (a, b) = (env.run(&syn).1, env.run(&ack).1);
    assert_eq!(a[0..6], b[0..6]);
    assert_eq!(env.stat(RvsStat::ConnCreated), 1);
}

/// A ring built before its heaviest real server was overloaded by its threshold: the picks
/// that land on it do not drop the connection while another real server is free.
#[test]
fn a_ring_falls_back_past_real_servers_overloaded_since_it_was_built() {
    require_root!();
    let mut env = Env::dr_cluster();
    let mut ws2 = Env::dest_spec(WS2, 80, SVC_TCP, 2, 10);
    ws2.thresholds = Thresholds { upper: 1, lower: 0 };
    env.prog.update_dest(env.dp(), D_WS2, &ws2).expect("thresholds");
    // wrr 10:1 as a ring: ten ws2, then ws1.
    let mut ring = vec![D_WS2; 10];
    ring.push(D_WS1);
    env.service(SVC_TCP, 80, 6, SchedSpec::Ring { ring, cursor: Some(0) }, vec![D_WS2, D_WS1]);
    let syn = |sport: u16| FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, TcpFlags::SYN, b"").build();
    let (_, first) = env.run(&syn(52000));
    assert_eq!(first[0..6], WS2_MAC, "ws2 takes the first and is overloaded");
    for i in 1..12u16 {
        let (verdict, out) = env.run(&syn(52000 + i));
        assert_eq!(verdict, XDP_TX, "connection {i} dropped");
        assert_eq!(out[0..6], WS1_MAC, "connection {i}");
    }
    assert_eq!(env.stat(RvsStat::DropNoDest), 0);
}

/// Sequences of new connections to a few destination addresses (virtual addresses here, the
/// service moved between them), with the connection counts changing under them, scheduled by
/// the program (`sched`, lblc or lblcr, with its map) and by `reference` (with its own state; it
/// says whether that state changed). Returns how many picks left the state as it was and how
/// many changed it.
fn locality_against_reference(
    name: &str,
    sched: SchedSpec,
    seed: u64,
    mut reference: impl FnMut(&[SchedDest], u32) -> (Option<u32>, bool),
) -> (u32, u32) {
    let mut env = env_with_next_hops();
    let mut rng = Rng(seed);
    // Weights that tie, differ, are 0 and are large; one real server overloaded by a threshold
    // (which lblc's cache does not look at, and lblcr's sets do).
    let mut dests: Vec<SchedDest> = [(1, 4), (2, 2), (3, 1), (4, 0), (5, 100), (6, 2)]
        .into_iter()
        .map(|(id, weight)| SchedDest { id, weight, overloaded: id == 6, active: 0, inactive: 0 })
        .collect();
    program_dests(&mut env, &dests);
    let vips = [Ipv4Addr::new(10, 2, 0, 1), Ipv4Addr::new(10, 2, 0, 2), Ipv4Addr::new(10, 2, 0, 3)];
    let (mut kept, mut moved) = (0, 0);
    let mut last: Option<u32> = None;
    for step in 0..CASES {
        // The load changes: some real servers' counts are set anew; now and then the last
        // pick gets more active connections than its weight while another is idle (lblc's
        // "overloaded").
        let squeeze = step % 5 == 4;
        for d in dests.iter_mut() {
            if squeeze && Some(d.id) == last && d.weight < 1000 {
                d.active = d.weight.max(0) as u32 + 1;
            } else if squeeze && d.weight >= 2 {
                d.active = 0;
            } else if rng.below(4) == 0 {
                d.active = rng.pick(&[0, 1, 2, 3, 5, 8, 100]);
            } else {
                continue;
            }
            let conns = RvsDestConns { active: d.active as i32, inactive: d.inactive as i32, ..RvsDestConns::default() };
            assert!(env.dp().maps.dest_conns.write_unpublished(d.id, conns));
        }
        let vip = rng.pick(&vips);
        let spec = ServiceSpec { slot: SVC_TCP, addr: vip, port: 80, proto: 6, sched: sched.clone(), dests: dests.iter().map(|d| d.id).collect(), one_packet: false, persistence: None, fwmark: None };
        let dp = env.dp.as_mut().expect("loaded");
        env.prog.install_service(dp, &spec, now() + Duration::from_secs(2 * u64::from(step))).expect("service");
        let (want, changed) = reference(&dests, u32::from(vip));
        let syn = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, vip, 20000 + step as u16, 80, TcpFlags::SYN, b"").build();
        let got = run_syn(&env, &syn);
        assert_eq!(got, want, "{name}, step {step}, to {vip}: {dests:?}");
        last = got;
        if changed { moved += 1 } else { kept += 1 }
        // The new connection counts where the program counted it.
        for d in dests.iter_mut() {
            let c = env.conns_of(d.id);
            d.active = c.active as u32;
            d.inactive = c.inactive as u32;
        }
    }
    (kept, moved)
}

/// lblc: the program with its cache against the reference with its own.
#[test]
fn lblc_follows_the_kernels_rule_with_its_cache() {
    require_root!();
    let mut cache = LblcCache::default();
    let (kept, moved) = locality_against_reference("lblc", SchedSpec::Lblc, 0x1b1c, |dests, daddr| {
        let before = cache.clone();
        let pick = lblc_pick(&mut cache, dests, daddr);
        (pick, before != cache)
    });
    assert!(kept > 0 && moved > 0, "lblc: {kept} cache hits, {moved} misses");
}

/// lblcr: the program with its sets against the reference with its own; here the threshold's
/// overload does count (ip_vs_dest_set_min skips such members).
#[test]
fn lblcr_follows_the_kernels_rule_with_its_sets() {
    require_root!();
    let mut sets = LblcrSets::default();
    let (kept, moved) = locality_against_reference("lblcr", SchedSpec::Lblcr, 0x1b1c7, |dests, daddr| {
        let before = sets.clone();
        let pick = lblcr_pick(&mut sets, dests, daddr);
        (pick, before != sets)
    });
    assert!(kept > 0 && moved > 0, "lblcr: {kept} set hits, {moved} sets grown");
}
