//! Persistence (`-p`, `-M`) through the real director program: templates as
//! ip_vs_sched_persist makes and uses them, their PersistConn count, their lifetime (controlled
//! connections keep them; the timeout runs from their last use), a real server leaving, the
//! netmask, and all-ports services.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use rvs_dataplane::{
    abi::*,
    program::{Persistence, SchedSpec, ServiceSpec},
};
use rvs_wire::{builder::FrameBuilder, tcp::TcpFlags};

const CLIENT_B: Ipv4Addr = Ipv4Addr::new(172, 25, 254, 11);
const CLIENT_OTHER_NET: Ipv4Addr = Ipv4Addr::new(172, 25, 9, 10);

/// The seed's TCP service made persistent (rr over ws2, ws1), on `port` (0: all ports).
fn persistent(env: &mut Env, port: u16, timeout_s: u32, netmask: Ipv4Addr) {
    let spec = ServiceSpec {
        slot: SVC_TCP,
        addr: VIP,
        port,
        proto: 6,
        sched: SchedSpec::Ring { ring: vec![D_WS2, D_WS1], cursor: Some(0) },
        dests: vec![D_WS2, D_WS1],
        one_packet: false,
        persistence: Some(Persistence { timeout_s, netmask }),
        fwmark: None,
    };
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.install_service(dp, &spec, now()).expect("service");
}

/// Where a SYN from `client:sport` to `VIP:dport` goes: "ws1", "ws2", or "dropped".
fn syn_to(env: &Env, client: Ipv4Addr, sport: u16, dport: u16) -> &'static str {
    let syn = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, client, VIP, sport, dport, TcpFlags::SYN, b"").build();
    let (verdict, out) = env.run(&syn);
    match verdict {
        XDP_TX if out[0..6] == WS1_MAC => "ws1",
        XDP_TX if out[0..6] == WS2_MAC => "ws2",
        _ => "dropped",
    }
}

fn templates(env: &Env) -> Vec<(RvsConnKey, RvsConn)> {
    env.dp().connections().expect("conns").into_iter().filter(|(k, _)| k.kind == RVS_KEY_TEMPLATE).collect()
}

#[test]
fn a_client_keeps_its_real_server_and_others_are_scheduled() {
    require_root!();
    let mut env = Env::dr_cluster();
    persistent(&mut env, 80, 300, Ipv4Addr::BROADCAST);
    // rr would alternate; the template keeps the client on ws2.
    let picks: Vec<&str> = (0..4).map(|i| syn_to(&env, CLIENT, 41000 + i, 80)).collect();
    assert_eq!(picks, ["ws2"; 4]);
    assert_eq!(env.stat(RvsStat::TemplateCreated), 1);
    assert_eq!(env.conns_of(D_WS2).persist, 1, "PersistConn");
    let t = templates(&env);
    assert_eq!(t.len(), 1);
    let (key, tmpl) = t[0];
    assert_eq!((u32::from_be(key.saddr), key.sport, u16::from_be(key.dport), key.proto), (u32::from(CLIENT), 0, 80, 6));
    assert_eq!((tmpl.state, tmpl.flags, tmpl.dest), (RVS_TEMPLATE_STATE, 4, D_WS2), "template controls 4");
    // The client's ACK establishes its connection, which assures the template.
    let ack = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 41000, 80, TcpFlags::ACK, b"").build();
    env.run(&ack);
    assert_eq!(templates(&env)[0].1.state, RVS_TEMPLATE_ASSURED);
    // Another client is scheduled: rr's next pick.
    assert_eq!(syn_to(&env, CLIENT_B, 41100, 80), "ws1");
    assert_eq!(env.conns_of(D_WS1).persist, 1);
}

#[test]
fn the_netmask_groups_clients() {
    require_root!();
    let mut env = Env::dr_cluster();
    persistent(&mut env, 80, 300, Ipv4Addr::new(255, 255, 255, 0));
    assert_eq!(syn_to(&env, CLIENT, 42000, 80), "ws2");
    assert_eq!(syn_to(&env, CLIENT_B, 42001, 80), "ws2", "same /24");
    assert_eq!(syn_to(&env, CLIENT_OTHER_NET, 42002, 80), "ws1", "another /24");
    let t = templates(&env);
    assert!(t.iter().any(|(k, _)| u32::from_be(k.saddr) == u32::from(Ipv4Addr::new(172, 25, 254, 0))), "{t:?}");
}

#[test]
fn an_all_ports_service_keeps_the_client_across_ports() {
    require_root!();
    let mut env = Env::dr_cluster();
    persistent(&mut env, 0, 300, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 43000, 80), "ws2");
    assert_eq!(syn_to(&env, CLIENT, 43001, 443), "ws2");
    assert_eq!(syn_to(&env, CLIENT, 43002, 8080), "ws2");
    let t = templates(&env);
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].0.dport, t[0].1.dport), (0, 0), "port 0 in the template, as IPVS lists it");
}

#[test]
fn a_template_outlives_its_timeout_while_it_controls_connections() {
    require_root!();
    let mut env = Env::dr_cluster();
    let mut cfg = env.dp().maps.config.read(0).expect("config");
    cfg.tcp_timeout_ns[3] = 2_000_000_000; // SYN_RECV: 2 s
    env.prog.set_config(env.dp(), &cfg);
    persistent(&mut env, 80, 1, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 44000, 80), "ws2");
    // Past the 1 s persistence timeout, the connection (2 s) still holds the template.
    std::thread::sleep(Duration::from_millis(1200));
    env.dp().sweep().expect("sweep");
    assert_eq!(templates(&env).len(), 1);
    assert_eq!(syn_to(&env, CLIENT, 44001, 80), "ws2", "still persistent");
    // Both connections expire (2 s); the template is re-armed and goes 1 s later.
    std::thread::sleep(Duration::from_millis(2200));
    env.dp().sweep().expect("sweep");
    assert_eq!(templates(&env).len(), 1, "re-armed when its last connection went");
    assert_eq!(templates(&env)[0].1.flags, 0);
    std::thread::sleep(Duration::from_millis(1200));
    env.dp().sweep().expect("sweep");
    assert!(templates(&env).is_empty());
    assert_eq!(env.conns_of(D_WS2).persist, 0);
    // A new connection is scheduled afresh: rr's next pick.
    assert_eq!(syn_to(&env, CLIENT, 44002, 80), "ws1");
}

#[test]
fn a_removed_real_servers_template_is_replaced() {
    require_root!();
    let mut env = Env::dr_cluster();
    persistent(&mut env, 80, 300, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 45000, 80), "ws2");
    // ws2 leaves the service: its template no longer holds (ip_vs_check_template).
    env.prog.retire_dest(env.dp(), D_WS2);
    env.service(SVC_TCP, 80, 6, SchedSpec::Ring { ring: vec![D_WS1], cursor: Some(0) }, vec![D_WS1]);
    persistent_again(&mut env);
    assert_eq!(syn_to(&env, CLIENT, 45001, 80), "ws1");
    assert_eq!(env.stat(RvsStat::TemplateCreated), 2);
    let t = templates(&env);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].1.dest, D_WS1);
    assert_eq!(env.conns_of(D_WS1).persist, 1);
}

/// The service with only ws1, persistent again (after `Env::service` made it plain).
fn persistent_again(env: &mut Env) {
    let spec = ServiceSpec {
        slot: SVC_TCP,
        addr: VIP,
        port: 80,
        proto: 6,
        sched: SchedSpec::Ring { ring: vec![D_WS1], cursor: Some(0) },
        dests: vec![D_WS1],
        one_packet: false,
        persistence: Some(Persistence { timeout_s: 300, netmask: Ipv4Addr::BROADCAST }),
        fwmark: None,
    };
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.install_service(dp, &spec, now()).expect("service");
}

#[test]
fn a_quiesced_real_server_keeps_its_clients() {
    require_root!();
    let mut env = Env::dr_cluster();
    persistent(&mut env, 80, 300, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 46000, 80), "ws2");
    // Weight 0: no new clients, but its templates hold (expire_quiescent_template = 0).
    env.prog.update_dest(env.dp(), D_WS2, &Env::dest_spec(WS2, 80, SVC_TCP, 2, 0)).expect("quiesce");
    assert_eq!(syn_to(&env, CLIENT, 46001, 80), "ws2");
    assert_eq!(syn_to(&env, CLIENT_B, 46002, 80), "ws1");
}

#[test]
fn a_deleted_services_templates_go_at_the_next_sweep() {
    require_root!();
    let mut env = Env::dr_cluster();
    persistent(&mut env, 80, 300, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 47000, 80), "ws2");
    assert_eq!(templates(&env).len(), 1);
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.remove_service(dp, SVC_TCP, now()).expect("remove");
    env.dp().sweep().expect("sweep");
    assert!(templates(&env).is_empty(), "the template of a deleted service stays");
    assert_eq!(env.conns_of(D_WS2).persist, 0);
}

#[test]
fn connections_find_their_template_after_the_netmask_changed() {
    require_root!();
    let mut env = Env::dr_cluster();
    let mut cfg = env.dp().maps.config.read(0).expect("config");
    cfg.tcp_timeout_ns[3] = 1_000_000_000; // SYN_RECV: 1 s
    env.prog.set_config(env.dp(), &cfg);
    persistent(&mut env, 80, 1, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 48000, 80), "ws2");
    // -M changes: new connections use /24 templates; the old template still controls one.
    persistent(&mut env, 80, 1, Ipv4Addr::new(255, 255, 255, 0));
    let old = templates(&env);
    assert_eq!((old.len(), old[0].1.flags), (1, 1));
    // The connection expires and releases its own template, which then expires too.
    std::thread::sleep(Duration::from_millis(1100));
    env.dp().sweep().expect("sweep");
    assert_eq!(templates(&env)[0].1.flags, 0, "released through the bits it kept");
    std::thread::sleep(Duration::from_millis(1100));
    env.dp().sweep().expect("sweep");
    assert!(templates(&env).is_empty());
}

#[test]
fn expire_quiescent_template_drops_a_quiesced_real_servers_templates() {
    require_root!();
    let mut env = Env::dr_cluster();
    env.prog.set_expire_quiescent_template(env.dp(), true);
    persistent(&mut env, 80, 300, Ipv4Addr::BROADCAST);
    assert_eq!(syn_to(&env, CLIENT, 49000, 80), "ws2");
    env.prog.update_dest(env.dp(), D_WS2, &Env::dest_spec(WS2, 80, SVC_TCP, 2, 0)).expect("quiesce");
    // With the setting, the quiesced real server's template no longer holds.
    assert_eq!(syn_to(&env, CLIENT, 49001, 80), "ws1");
    assert_eq!(env.stat(RvsStat::TemplateCreated), 2);
}
