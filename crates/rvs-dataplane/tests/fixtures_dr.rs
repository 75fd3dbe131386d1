//! Direct routing through the real director program (BPF_PROG_TEST_RUN): exact output frames,
//! connection stickiness, IPVS's rr order, active/inactive counts through TCP's states, quiescing,
//! removed real servers, port reuse, expiry, and least-connection scheduling.

mod common;

use std::time::Duration;

use common::*;
use rvs_dataplane::{abi::*, program::SchedSpec};
use rvs_wire::{builder::FrameBuilder, tcp::TcpFlags};

fn tcp(sport: u16, flags: TcpFlags, payload: &[u8]) -> Vec<u8> {
    FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, flags, payload).build()
}

fn udp(sport: u16) -> Vec<u8> {
    FrameBuilder::udp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 53, b"query").build()
}

#[test]
fn dr_rewrites_only_the_macs_and_transmits_back_out() {
    require_root!();
    let env = Env::dr_cluster();
    let syn = tcp(41000, TcpFlags::SYN, b"");
    let (verdict, out) = env.run(&syn);
    assert_eq!(verdict, XDP_TX);
    // rr starts with the newest real server (ws2 was added last), as IPVS does.
    assert_eq!(out, dr_rewritten(&syn, WS2_MAC));
    assert_eq!(env.stat(RvsStat::FwdDrTx), 1);
    assert_eq!(env.stat(RvsStat::ConnCreated), 1);
}

#[test]
fn a_flow_sticks_to_its_real_server_and_rr_alternates_between_flows() {
    require_root!();
    let env = Env::dr_cluster();
    let mut firsts = Vec::new();
    for sport in 42000..42006u16 {
        let (_, out) = env.run(&tcp(sport, TcpFlags::SYN, b""));
        firsts.push(out[0..6].to_vec());
        // Every later packet of the flow goes to the same real server.
        for flags in [TcpFlags::ACK, TcpFlags::ACK | TcpFlags::PSH, TcpFlags::FIN | TcpFlags::ACK] {
            let (v, later) = env.run(&tcp(sport, flags, b"GET / HTTP/1.0\r\n\r\n"));
            assert_eq!(v, XDP_TX);
            assert_eq!(later[0..6], out[0..6], "flow {sport} moved");
        }
    }
    let expected: Vec<Vec<u8>> = (0..6).map(|i| if i % 2 == 0 { WS2_MAC.to_vec() } else { WS1_MAC.to_vec() }).collect();
    assert_eq!(firsts, expected);
    assert_eq!(env.stat(RvsStat::ConnCreated), 6);
}

#[test]
fn counts_follow_ipvs_input_only_states() {
    require_root!();
    let env = Env::dr_cluster();
    // SYN: NONE -> SYN_RECV, active on modern kernels.
    env.run(&tcp(43000, TcpFlags::SYN, b""));
    assert_eq!(env.conns_of(D_WS2), RvsDestConns { active: 1, inactive: 0, ..Default::default() });
    // ACK: SYN_RECV -> ESTABLISHED, still active.
    env.run(&tcp(43000, TcpFlags::ACK, b""));
    assert_eq!(env.conns_of(D_WS2).active, 1);
    // The client's FIN: ESTABLISHED -> FIN_WAIT (INPUT-ONLY), inactive.
    env.run(&tcp(43000, TcpFlags::FIN | TcpFlags::ACK, b""));
    assert_eq!(env.conns_of(D_WS2), RvsDestConns { active: 0, inactive: 1, ..Default::default() });
    // A second connection: a RST in SYN_RECV leaves it there (IPVS's INPUT-ONLY rst row), a RST
    // once ESTABLISHED closes it: inactive.
    env.run(&tcp(43001, TcpFlags::SYN, b""));
    env.run(&tcp(43001, TcpFlags::RST, b""));
    assert_eq!(env.conns_of(D_WS1).active, 1);
    env.run(&tcp(43001, TcpFlags::ACK, b""));
    env.run(&tcp(43001, TcpFlags::RST, b""));
    assert_eq!(env.conns_of(D_WS1), RvsDestConns { active: 0, inactive: 1, ..Default::default() });
    // UDP connections are always inactive.
    env.run(&udp(5300));
    let udp_total = env.conns_of(D_UDP_WS1).inactive + env.conns_of(D_UDP_WS2).inactive;
    assert_eq!(udp_total, 1);
    assert_eq!(env.conns_of(D_UDP_WS1).active + env.conns_of(D_UDP_WS2).active, 0);
    // Statistics: IP lengths of client packets, per service and per real server.
    let svc = env.dp().service_counters(SVC_TCP).expect("svc stats");
    assert_eq!(svc.conns, 2);
    assert_eq!(svc.inpkts, 7);
    assert_eq!(svc.inbytes, 7 * 40);
    assert_eq!(svc.outpkts, 0);
    assert_eq!(env.dp().dest_counters(D_WS2).expect("dest").inpkts, 3);
}

#[test]
fn weight_zero_quiesces_and_removal_stops_forwarding() {
    require_root!();
    let mut env = Env::dr_cluster();
    env.run(&tcp(44000, TcpFlags::SYN, b"")); // -> ws2
    // Quiesce ws2: the ring no longer holds it; the live field says weight 0.
    let spec = Env::dest_spec(WS2, 80, SVC_TCP, 2, 0);
    env.prog.update_dest(env.dp(), D_WS2, &spec).expect("update");
    env.service(SVC_TCP, 80, 6, SchedSpec::Ring { ring: vec![D_WS1], cursor: Some(0) }, vec![D_WS2, D_WS1]);
    let (v, out) = env.run(&tcp(44000, TcpFlags::ACK, b"more"));
    assert_eq!((v, &out[0..6]), (XDP_TX, &WS2_MAC[..]), "open connection keeps flowing to the quiesced server");
    for sport in 44001..44004u16 {
        let (_, out) = env.run(&tcp(sport, TcpFlags::SYN, b""));
        assert_eq!(out[0..6], WS1_MAC, "new connections avoid weight 0");
    }
    // Remove ws2 (ipvsadm -d): its connection's packets are dropped, as IPVS does with
    // expire_nodest_conn = 0.
    env.prog.retire_dest(env.dp(), D_WS2);
    let (v, out) = env.run(&tcp(44000, TcpFlags::ACK, b"again"));
    assert_eq!(v, XDP_DROP);
    assert_eq!(out, tcp(44000, TcpFlags::ACK, b"again"));
    assert_eq!(env.stat(RvsStat::DropDestUnavailable), 1);
}

#[test]
fn no_available_real_server_drops_new_connections() {
    require_root!();
    let mut env = Env::dr_cluster();
    env.service(SVC_TCP, 80, 6, SchedSpec::Ring { ring: vec![], cursor: Some(0) }, vec![]);
    let (v, _) = env.run(&tcp(45000, TcpFlags::SYN, b""));
    assert_eq!(v, XDP_DROP);
    assert_eq!(env.stat(RvsStat::DropNoDest), 1);
    assert_eq!(env.stat(RvsStat::ConnCreated), 0);
}

#[test]
fn a_syn_reusing_a_time_wait_entry_is_rescheduled() {
    require_root!();
    let env = Env::dr_cluster();
    env.run(&tcp(46000, TcpFlags::SYN, b"")); // ws2, SYN_RECV
    env.run(&tcp(46000, TcpFlags::FIN, b"")); // SYN_RECV -> TIME_WAIT (INPUT-ONLY)
    assert_eq!(env.conns_of(D_WS2), RvsDestConns { active: 0, inactive: 1, ..Default::default() });
    let (_, out) = env.run(&tcp(46000, TcpFlags::SYN, b"")); // conn_reuse_mode 1: new connection
    assert_eq!(out[0..6], WS1_MAC, "rescheduled by rr");
    assert_eq!(env.stat(RvsStat::ConnReused), 1);
    assert_eq!(env.conns_of(D_WS2), RvsDestConns::default(), "old entry's count taken back");
    assert_eq!(env.conns_of(D_WS1).active, 1);
}

#[test]
fn the_sweeper_expires_idle_connections_and_takes_their_counts_back() {
    require_root!();
    let env = Env::dr_cluster();
    // One-second UDP and SYN_RECV timeouts.
    let mut cfg = env.dp().maps.config.read(0).expect("config");
    cfg.udp_timeout_ns = 1_000_000_000;
    cfg.tcp_timeout_ns[3] = 1_000_000_000; // SYN_RECV
    env.prog.set_config(env.dp(), &cfg);
    env.run(&udp(5400));
    env.run(&tcp(47000, TcpFlags::SYN, b""));
    env.dp().sweep().expect("sweep");
    assert_eq!(env.dp().connections().expect("conns").len(), 2, "not idle long enough yet");
    std::thread::sleep(Duration::from_millis(1100));
    env.dp().sweep().expect("sweep");
    assert_eq!(env.dp().connections().expect("conns").len(), 0);
    assert_eq!(env.stat(RvsStat::ConnExpiredSweep), 2);
    for d in [D_WS1, D_WS2, D_UDP_WS1, D_UDP_WS2] {
        assert_eq!(env.conns_of(d), RvsDestConns::default(), "dest {d}");
    }
    // The ESTABLISHED timeout is untouched (900 s): an established flow survives the sweep.
    env.run(&tcp(47001, TcpFlags::SYN, b""));
    env.run(&tcp(47001, TcpFlags::ACK, b""));
    std::thread::sleep(Duration::from_millis(1100));
    env.dp().sweep().expect("sweep");
    assert_eq!(env.dp().connections().expect("conns").len(), 1);
}

#[test]
fn least_connection_schedulers_pick_by_ipvs_overhead() {
    require_root!();
    let mut env = Env::dr_cluster();
    // lc: the first connection goes to the list head (ws2); the next to ws1, which has fewer.
    env.service(SVC_TCP, 80, 6, SchedSpec::Lc, vec![D_WS2, D_WS1]);
    let (_, a) = env.run(&tcp(48000, TcpFlags::SYN, b""));
    let (_, b) = env.run(&tcp(48001, TcpFlags::SYN, b""));
    assert_eq!((a[0..6].to_vec(), b[0..6].to_vec()), (WS2_MAC.to_vec(), WS1_MAC.to_vec()));
    // Close ws2's connection: inactive counts 1, active 256 -> ws2 (overhead 1) beats ws1 (256).
    env.run(&tcp(48000, TcpFlags::RST, b""));
    let (_, c) = env.run(&tcp(48002, TcpFlags::SYN, b""));
    assert_eq!(c[0..6], WS2_MAC);

    // wlc with weights ws1=3, ws2=1: ws1 carries up to three times ws2's overhead.
    let mut env = Env::dr_cluster();
    env.prog.update_dest(env.dp(), D_WS1, &Env::dest_spec(WS1, 80, SVC_TCP, 1, 3)).expect("w");
    env.service(SVC_TCP, 80, 6, SchedSpec::Wlc, vec![D_WS2, D_WS1]);
    let picks: Vec<bool> = (0..8u16)
        .map(|i| env.run(&tcp(49000 + i, TcpFlags::SYN, b"")).1[0..6] == WS1_MAC)
        .collect();
    // Reference (IPVS wlc, ties to the first in list): ws2, ws1, ws1, ws1, ws2, ws1, ws1, ws1.
    assert_eq!(picks, vec![false, true, true, true, false, true, true, true]);
}

#[test]
fn redirects_when_the_real_server_is_behind_another_interface() {
    require_root!();
    let mut env = Env::dr_cluster();
    env.neigh(9, WS1_MAC, 4242);
    env.prog.update_dest(env.dp(), D_WS1, &Env::dest_spec(WS1, 80, SVC_TCP, 9, 1)).expect("repoint");
    env.run(&tcp(50000, TcpFlags::SYN, b"")); // ws2, same interface
    let syn = tcp(50001, TcpFlags::SYN, b"");
    let (v, out) = env.run(&syn);
    assert_eq!(v, XDP_REDIRECT);
    assert_eq!(out, dr_rewritten(&syn, WS1_MAC));
    assert_eq!(env.stat(RvsStat::FwdDrRedirect), 1);
}

/// expire_nodest_conn: off (IPVS's default), a removed real server's connection drops its
/// packets until it expires; on, the connection goes at once and the packet is scheduled anew.
#[test]
fn expire_nodest_conn_reschedules_a_removed_real_servers_connection() {
    require_root!();
    for expire in [false, true] {
        let mut env = Env::dr_cluster();
        env.prog.set_expire_nodest_conn(env.dp(), expire);
        let (_, first) = env.run(&udp(54000));
        assert_eq!(first[0..6], WS2_MAC);
        // ws2 leaves the UDP service.
        env.prog.retire_dest(env.dp(), D_UDP_WS2);
        env.service(SVC_UDP, 53, 17, SchedSpec::Ring { ring: vec![D_UDP_WS1], cursor: Some(0) }, vec![D_UDP_WS1]);
        let (verdict, out) = env.run(&udp(54000));
        if expire {
            assert_eq!(verdict, XDP_TX);
            assert_eq!(out[0..6], WS1_MAC, "scheduled anew");
            assert_eq!(env.stat(RvsStat::ConnExpiredNodest), 1);
        } else {
            assert_eq!(verdict, XDP_DROP);
            assert_eq!(env.stat(RvsStat::DropDestUnavailable), 1);
        }
    }
}
