//! Connection synchronisation on the BACKUP director: entries received from the MASTER installed
//! by `rvs_sync_install` (through `Dataplane::install_synced`), then used by the real director
//! program (BPF_PROG_TEST_RUN): mid-stream segments forwarded, counts kept exact through updates
//! and expiry, NAT replies translated, stale destinations refused, templates counted.

mod common;

use std::{net::Ipv4Addr, time::Duration};

use common::*;
use rvs_dataplane::{
    abi::*,
    program::{DestSpec, Persistence, SchedSpec, ServiceSpec, TunnelSpec},
    sync::SyncInstall,
};
use rvs_wire::{builder::FrameBuilder, ethernet::EthernetAddress, tcp::TcpFlags};

const ESTABLISHED: u32 = RVS_TCP_STATE_ESTABLISHED;
const FIN_WAIT: u32 = 4;

fn key(client: Ipv4Addr, vip: Ipv4Addr, sport: u16, dport: u16, proto: u8) -> RvsConnKey {
    RvsConnKey {
        saddr: u32::from(client).to_be(),
        daddr: u32::from(vip).to_be(),
        sport: sport.to_be(),
        dport: dport.to_be(),
        proto,
        kind: RVS_KEY_CONN,
        pad: [0; 2],
    }
}

fn tcp_key(sport: u16) -> RvsConnKey {
    key(CLIENT, VIP, sport, 80, 6)
}

/// An entry bound to `dest` as the daemon resolves it now (its current generation).
fn entry(env: &Env, key: RvsConnKey, state: u32, dest: u32) -> RvsSyncEntry {
    let dest_gen = env.dp().maps.dests.read(dest).expect("dest slot").generation;
    RvsSyncEntry { key, state, dest, dest_gen, ..Default::default() }
}

fn install(env: &Env, entries: &[RvsSyncEntry]) -> SyncInstall {
    env.dp().install_synced(entries).unwrap_or_else(|e| panic!("install_synced: {e}"))
}

fn tcp(sport: u16, flags: TcpFlags) -> Vec<u8> {
    FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, flags, b"data").build()
}

fn conn(env: &Env, k: &RvsConnKey) -> Option<RvsConn> {
    env.dp().connections().expect("conns").into_iter().find(|(ck, _)| ck == k).map(|(_, c)| c)
}

/// Timeouts short enough to expire within a test.
fn short_timeouts(env: &Env) {
    let mut cfg = env.dp().maps.config.read(0).expect("config");
    cfg.tcp_timeout_ns[ESTABLISHED as usize] = 1_000_000;
    cfg.udp_timeout_ns = 1_000_000;
    env.prog.set_config(env.dp(), &cfg);
}

fn sweep_after_timeouts(env: &Env) {
    std::thread::sleep(Duration::from_millis(50));
    env.dp().sweep().expect("sweep");
}

#[test]
fn an_installed_connection_carries_mid_stream_segments_to_its_real_server() {
    require_root!();
    let env = Env::dr_cluster();
    // Without an entry, a segment without SYN is dropped.
    let ack = tcp(45000, TcpFlags::ACK | TcpFlags::PSH);
    assert_eq!(env.run(&ack).0, XDP_DROP);
    assert_eq!(env.stat(RvsStat::DropTcpNoConn), 1);

    // The MASTER had it on ws1 (rr here would pick ws2 first).
    let got = install(&env, &[entry(&env, tcp_key(45000), ESTABLISHED, D_WS1)]);
    assert_eq!(got, SyncInstall { installed: 1, ..Default::default() });
    let (verdict, out) = env.run(&ack);
    assert_eq!(verdict, XDP_TX);
    assert_eq!(out, dr_rewritten(&ack, WS1_MAC));
    assert_eq!(env.stat(RvsStat::DropTcpNoConn), 1);
    assert_eq!(env.stat(RvsStat::SyncInstalled), 1);
    assert_eq!(env.stat(RvsStat::ConnCreated), 0, "installed, not created by a packet");

    // The entry is the one the packet path would have made for ws1.
    let c = conn(&env, &tcp_key(45000)).expect("entry");
    assert_eq!((c.state, c.dest, c.flags, c.fwd), (ESTABLISHED, D_WS1, 0, RVS_FWD_DROUTE));
    assert_eq!((c.daddr, c.dport), (u32::from(WS1).to_be(), 80u16.to_be()));
}

#[test]
fn counts_follow_an_installed_connection_until_it_expires() {
    require_root!();
    let env = Env::dr_cluster();
    short_timeouts(&env);
    let got = install(
        &env,
        &[entry(&env, tcp_key(45100), ESTABLISHED, D_WS1), entry(&env, key(CLIENT, VIP, 5300, 53, 17), RVS_UDP_STATE, D_UDP_WS2)],
    );
    assert_eq!(got.installed, 2);
    assert_eq!(env.conns_of(D_WS1), RvsDestConns { active: 1, inactive: 0, ..Default::default() });
    assert_eq!(env.conns_of(D_UDP_WS2), RvsDestConns { active: 0, inactive: 1, ..Default::default() });

    sweep_after_timeouts(&env);
    assert_eq!(env.conns_of(D_WS1), RvsDestConns::default());
    assert_eq!(env.conns_of(D_UDP_WS2), RvsDestConns::default());
    assert_eq!(env.stat(RvsStat::ConnExpiredSweep), 2);
    assert!(env.dp().connections().expect("conns").is_empty());
}

#[test]
fn installing_an_entry_again_updates_it_without_counting_it_twice() {
    require_root!();
    let env = Env::dr_cluster();
    let e = entry(&env, tcp_key(45200), ESTABLISHED, D_WS1);
    assert_eq!(install(&env, &[e]).installed, 1);
    assert_eq!(install(&env, &[e]), SyncInstall { updated: 1, ..Default::default() });
    assert_eq!(env.conns_of(D_WS1), RvsDestConns { active: 1, inactive: 0, ..Default::default() });

    // A new state moves the count: FIN_WAIT is inactive.
    assert_eq!(install(&env, &[RvsSyncEntry { state: FIN_WAIT, ..e }]).updated, 1);
    assert_eq!(env.conns_of(D_WS1), RvsDestConns { active: 0, inactive: 1, ..Default::default() });
    assert_eq!(conn(&env, &tcp_key(45200)).expect("entry").state, FIN_WAIT);

    // The live entry keeps its real server: an entry naming another one only refreshes it.
    assert_eq!(install(&env, &[entry(&env, tcp_key(45200), FIN_WAIT, D_WS2)]).updated, 1);
    assert_eq!(conn(&env, &tcp_key(45200)).expect("entry").dest, D_WS1);
    assert_eq!(env.conns_of(D_WS2), RvsDestConns::default());
    assert_eq!(env.stat(RvsStat::SyncUpdated), 3);

    // A connection the packet path made (SYN: SYN_RECV on ws2) is moved to the received state.
    env.run(&tcp(45201, TcpFlags::SYN));
    assert_eq!(install(&env, &[entry(&env, tcp_key(45201), FIN_WAIT, D_WS2)]).updated, 1);
    assert_eq!(env.conns_of(D_WS2), RvsDestConns { active: 0, inactive: 1, ..Default::default() });
}

#[test]
fn stale_destinations_dead_entries_and_malformed_entries_are_skipped() {
    require_root!();
    let mut env = Env::dr_cluster();
    // The slot was given to another destination since the daemon resolved it.
    let stale = entry(&env, tcp_key(45300), ESTABLISHED, D_WS1);
    env.dest(D_WS1, WS1, 80, SVC_TCP, N_WS1, 1);
    assert_eq!(install(&env, &[stale]), SyncInstall { skipped: 1, ..Default::default() });
    assert_eq!(env.stat(RvsStat::SyncNoDest), 1);
    assert_eq!(conn(&env, &tcp_key(45300)), None);
    assert_eq!(env.run(&tcp(45300, TcpFlags::ACK)).0, XDP_DROP);
    // A removed real server takes no new entries either.
    env.prog.retire_dest(env.dp(), D_WS2);
    assert_eq!(install(&env, &[entry(&env, tcp_key(45301), ESTABLISHED, D_WS2)]).skipped, 1);
    assert_eq!(env.stat(RvsStat::SyncNoDest), 2);

    // A DEAD entry is left to the CPU that killed it.
    let dead = RvsConn { state: RVS_CONN_DEAD, dest: D_WS1, ..Default::default() };
    env.dp_mut().maps.conns.insert(tcp_key(45302), dead, 0).expect("insert");
    assert_eq!(install(&env, &[entry(&env, tcp_key(45302), ESTABLISHED, D_WS1)]).skipped, 1);
    assert_eq!(conn(&env, &tcp_key(45302)).expect("entry").state, RVS_CONN_DEAD);

    // States no entry of its kind can have.
    let bad = [
        entry(&env, tcp_key(45303), RVS_TCP_STATES as u32, D_WS1),
        entry(&env, key(CLIENT, VIP, 5301, 53, 17), ESTABLISHED, D_UDP_WS1),
        entry(&env, RvsConnKey { kind: RVS_KEY_TEMPLATE, ..tcp_key(0) }, ESTABLISHED, D_WS1),
    ];
    assert_eq!(install(&env, &bad), SyncInstall { skipped: 3, ..Default::default() });
    assert_eq!(env.stat(RvsStat::SyncSkipped), 4);
    assert_eq!(env.conns_of(D_WS1), RvsDestConns::default());
}

#[test]
fn more_entries_than_a_batch_are_all_installed() {
    require_root!();
    let env = Env::dr_cluster();
    let entries: Vec<RvsSyncEntry> = (0..150).map(|i| entry(&env, tcp_key(46000 + i), ESTABLISHED, D_WS2)).collect();
    assert_eq!(install(&env, &entries), SyncInstall { installed: 150, ..Default::default() });
    assert_eq!(env.conns_of(D_WS2).active, 150);
    assert_eq!(install(&env, &entries).updated, 150);
    assert_eq!(env.conns_of(D_WS2).active, 150);
}

#[test]
fn a_full_table_refuses_what_it_cannot_hold() {
    require_root!();
    let env = Env::dr_cluster_of(4);
    let entries: Vec<RvsSyncEntry> = (0..6).map(|i| entry(&env, tcp_key(46500 + i), ESTABLISHED, D_WS2)).collect();
    let got = install(&env, &entries);
    assert_eq!(got.installed + got.full, 6);
    assert!(got.full >= 2, "{got:?}");
    assert_eq!(env.conns_of(D_WS2).active as u32, got.installed);
    assert_eq!(env.stat(RvsStat::SyncFull), u64::from(got.full));
}

#[test]
fn templates_are_installed_first_and_count_their_connections() {
    require_root!();
    let mut env = Env::dr_cluster();
    short_timeouts(&env);
    let spec = ServiceSpec {
        slot: SVC_TCP,
        addr: VIP,
        port: 80,
        proto: 6,
        sched: SchedSpec::Ring { ring: vec![D_WS2, D_WS1], cursor: Some(0) },
        dests: vec![D_WS2, D_WS1],
        one_packet: false,
        persistence: Some(Persistence { timeout_s: 300, netmask: Ipv4Addr::BROADCAST }),
        fwmark: None,
    };
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.install_service(dp, &spec, now()).expect("service");

    let tkey = RvsConnKey { sport: 0, kind: RVS_KEY_TEMPLATE, ..tcp_key(0) };
    let controlled = RvsSyncEntry {
        flags: RVS_CONN_F_CONTROLLED,
        tmpl: RVS_TMPL_VALID | 32,
        ..entry(&env, tcp_key(47000), ESTABLISHED, D_WS1)
    };
    // The connection comes first in the call; its template is installed before it all the same.
    let got = install(&env, &[controlled, entry(&env, tkey, RVS_TEMPLATE_STATE, D_WS1)]);
    assert_eq!(got.installed, 2);
    let t = conn(&env, &tkey).expect("template");
    assert_eq!((t.flags, t.dest, t.dport), (1, D_WS1, 80u16.to_be()), "controls one connection");
    // Established under it: assured.
    assert_eq!(t.state, RVS_TEMPLATE_ASSURED);
    assert_eq!(env.conns_of(D_WS1), RvsDestConns { active: 1, inactive: 0, persist: 1, overload: 0 });
    assert_eq!(conn(&env, &tcp_key(47000)).expect("conn").flags, RVS_CONN_F_CONTROLLED);
    // Again: updated, still one.
    assert_eq!(install(&env, &[controlled]).updated, 1);
    assert_eq!(conn(&env, &tkey).expect("template").flags, 1);

    // The connection expires: the template controls none.
    sweep_after_timeouts(&env);
    assert_eq!(conn(&env, &tcp_key(47000)), None);
    assert_eq!(conn(&env, &tkey).expect("template").flags, 0);

    // A new connection of the client follows the template to ws1 (rr alone would give ws2).
    let syn = tcp(47001, TcpFlags::SYN);
    let (verdict, out) = env.run(&syn);
    assert_eq!((verdict, out), (XDP_TX, dr_rewritten(&syn, WS1_MAC)));
    assert_eq!(conn(&env, &tkey).expect("template").flags, 1);

    // A controlled connection whose template is not here is installed uncontrolled.
    let orphan = RvsSyncEntry {
        flags: RVS_CONN_F_CONTROLLED,
        tmpl: RVS_TMPL_VALID | 32,
        ..entry(&env, key(Ipv4Addr::new(172, 25, 254, 99), VIP, 47002, 80, 6), ESTABLISHED, D_WS2)
    };
    assert_eq!(install(&env, &[orphan]).installed, 1);
    assert_eq!(conn(&env, &orphan.key).expect("conn").flags, 0);
}

#[test]
fn the_sync_map_and_program_leave_with_the_instance() {
    require_root!();
    let mut env = Env::dr_cluster();
    let dir = env.dp().pin_dir().to_owned();
    assert!(dir.join("sync_in").exists());
    install(&env, &[entry(&env, tcp_key(48000), ESTABLISHED, D_WS1)]);
    if let Some(dp) = env.dp.take() {
        dp.teardown();
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
}

// NAT: the director's two networks in a throwaway namespace, as in fixtures_nat.
const NAT_CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 5);
const NAT_VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 250);
const RIP1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const CLIENT_MAC_N: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x05];
const RS1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x00, 0x64];
const NAT_SVC: u32 = 7;
const NAT_D1: u32 = 9;

#[test]
fn an_installed_nat_connection_translates_the_real_servers_replies() {
    require_root!();
    let ns = TestNetns::new(
        "sync",
        &[
            "ip -n {ns} link add pub type veth peer name pubp",
            "ip -n {ns} link add prv type veth peer name prvp",
            "ip -n {ns} link set lo up",
            "for i in pub pubp prv prvp; do ip -n {ns} link set $i up; done",
            "ip -n {ns} addr add 192.168.1.10/24 dev pub",
            "ip -n {ns} addr add 10.0.0.254/16 dev prv",
            "ip -n {ns} neigh add 192.168.1.5 lladdr 02:00:00:00:01:05 dev pub nud permanent",
            "ip -n {ns} neigh add 10.0.0.100 lladdr 02:00:00:00:00:64 dev prv nud permanent",
            "ip netns exec {ns} sysctl -qw net.ipv4.ip_forward=1",
        ],
    );
    ns.run(|| {
        let mut env = Env::empty();
        let spec = DestSpec {
            addr: RIP1,
            port: 8080,
            fwd: RVS_FWD_MASQ,
            weight: 1,
            overloaded: false,
            svc: NAT_SVC,
            neigh: 0,
            tunnel: TunnelSpec::default(),
            thresholds: Default::default(),
        };
        env.prog.install_dest(env.dp(), NAT_D1, &spec).expect("dest");
        let svc = ServiceSpec {
            slot: NAT_SVC,
            addr: NAT_VIP,
            port: 80,
            proto: 6,
            sched: SchedSpec::Ring { ring: vec![NAT_D1], cursor: Some(0) },
            dests: vec![NAT_D1],
            one_packet: false,
            persistence: None,
            fwmark: None,
        };
        let dp = env.dp.as_mut().expect("loaded");
        env.prog.install_service(dp, &svc, now()).expect("service");
        env.prog.set_nat(env.dp(), true);
        let (pub_mac, prv_mac) = (ns.mac("pub"), ns.mac("prv"));

        let reply = FrameBuilder::tcp_v4(EthernetAddress(RS1_MAC), EthernetAddress(prv_mac), RIP1, NAT_CLIENT, 8080, 40000, TcpFlags::ACK, b"hello")
            .ttl(64)
            .dont_frag(true)
            .build();
        // No connection: the reply goes to the kernel untouched.
        assert_eq!(env.run(&reply), (XDP_PASS, reply.clone()));

        let k = key(NAT_CLIENT, NAT_VIP, 40000, 80, 6);
        assert_eq!(install(&env, &[entry(&env, k, ESTABLISHED, NAT_D1)]).installed, 1);
        let (verdict, out) = env.run(&reply);
        assert_eq!(verdict, XDP_REDIRECT);
        let want = FrameBuilder::tcp_v4(EthernetAddress(pub_mac), EthernetAddress(CLIENT_MAC_N), NAT_VIP, NAT_CLIENT, 80, 40000, TcpFlags::ACK, b"hello")
            .ttl(63)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        assert_eq!(env.stat(RvsStat::FwdNatOut), 1);

        // And the client's segments go to the real server's address and port.
        let request = FrameBuilder::tcp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, 40000, 80, TcpFlags::ACK, b"more")
            .ttl(64)
            .dont_frag(true)
            .build();
        let (verdict, out) = env.run(&request);
        assert_eq!(verdict, XDP_REDIRECT);
        let want = FrameBuilder::tcp_v4(EthernetAddress(prv_mac), EthernetAddress(RS1_MAC), NAT_CLIENT, RIP1, 40000, 8080, TcpFlags::ACK, b"more")
            .ttl(63)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);

        // Expired, it takes its reply index with it.
        short_timeouts(&env);
        sweep_after_timeouts(&env);
        assert_eq!(env.run(&reply).0, XDP_PASS);
        assert_eq!(env.stat(RvsStat::PassNatNoConn), 2);
    });
}
