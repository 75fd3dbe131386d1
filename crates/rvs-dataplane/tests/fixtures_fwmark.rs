//! Firewall-mark services (`-f`) through the real director program: the mark classifier gives
//! new connections their mark, the mark's service schedules them (before any address service,
//! as ip_vs_service_find looks), and a persistent one keeps a client on one real server across
//! the ports the mark covers, with IPVS's fwmark template `<IPPROTO_IP, client, 0, mark, 0>`.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use rvs_dataplane::{
    abi::*,
    program::{Persistence, SchedSpec, ServiceSpec},
};
use rvs_wire::{builder::FrameBuilder, tcp::TcpFlags};

const SVC_FWM: u32 = 3;
const D_FWM_WS1: u32 = 5;
const D_FWM_WS2: u32 = 6;
const MARK: u32 = 1;

/// `-p tcp -d VIP --dports 80,443 --set-mark 1`, as rvsd compiles it.
fn http_and_https_rule() -> Vec<RvsMarkRule> {
    [80u16, 443]
        .into_iter()
        .map(|port| RvsMarkRule {
            addr: u32::from(VIP).to_be(),
            mask: u32::MAX,
            port_lo: port,
            port_hi: port,
            proto: 6,
            pad: [0; 3],
            mark: MARK,
        })
        .collect()
}

/// The seed's cluster plus `-f 1 -s rr [-p 300]` over ws1 then ws2 (real servers of port 0).
fn fwmark_cluster(persistence: Option<Persistence>) -> Env {
    let mut env = Env::dr_cluster();
    env.dest(D_FWM_WS1, WS1, 0, SVC_FWM, N_WS1, 1);
    env.dest(D_FWM_WS2, WS2, 0, SVC_FWM, N_WS2, 1);
    let spec = ServiceSpec {
        slot: SVC_FWM,
        addr: Ipv4Addr::UNSPECIFIED,
        port: 0,
        proto: 0,
        sched: SchedSpec::Ring {
            ring: vec![D_FWM_WS2, D_FWM_WS1],
            cursor: Some(0),
        },
        dests: vec![D_FWM_WS2, D_FWM_WS1],
        one_packet: false,
        persistence,
        fwmark: Some(MARK),
    };
    let dp = env.dp.as_mut().expect("loaded");
    env.prog.install_service(dp, &spec, now()).expect("service");
    env.prog
        .set_mark_rules(env.dp(), &http_and_https_rule())
        .expect("rules");
    env
}

/// Where a SYN from `client:sport` to `VIP:dport` goes: "ws1", "ws2", "passed" or "dropped".
fn syn_to(env: &Env, client: Ipv4Addr, sport: u16, dport: u16) -> &'static str {
    let syn = FrameBuilder::tcp_v4(
        CLIENT_MAC,
        DIRECTOR_MAC,
        client,
        VIP,
        sport,
        dport,
        TcpFlags::SYN,
        b"",
    )
    .build();
    let (verdict, out) = env.run(&syn);
    match verdict {
        XDP_TX if out[0..6] == WS1_MAC => "ws1",
        XDP_TX if out[0..6] == WS2_MAC => "ws2",
        XDP_PASS => "passed",
        _ => "dropped",
    }
}

/// Connections bound to a destination slot, active or not.
fn conns(env: &Env, slot: u32) -> i32 {
    let c = env.conns_of(slot);
    c.active + c.inactive
}

fn templates(env: &Env) -> Vec<(RvsConnKey, RvsConn)> {
    env.dp()
        .connections()
        .expect("conns")
        .into_iter()
        .filter(|(k, _)| k.kind == RVS_KEY_TEMPLATE)
        .collect()
}

#[test]
fn the_mark_makes_ports_80_and_443_one_service_ahead_of_the_address_service() {
    require_root!();
    let env = fwmark_cluster(None);
    // rr of the mark's service alternates across both ports; the address service on :80 (also
    // rr over ws2, ws1) is never asked, or it would have started again with ws2.
    let picks: Vec<&str> = [80, 443, 80, 443]
        .iter()
        .enumerate()
        .map(|(i, p)| syn_to(&env, CLIENT, 40000 + i as u16, *p))
        .collect();
    assert_eq!(picks, ["ws2", "ws1", "ws2", "ws1"]);
    assert_eq!(env.stat(RvsStat::SvcByMark), 4);
    assert_eq!(
        (conns(&env, D_FWM_WS2), conns(&env, D_FWM_WS1)),
        (2, 2),
        "counted on the mark's reals"
    );
    assert_eq!(conns(&env, D_WS2), 0, "nothing on the address service's");
    // A port no rule covers is not the mark's: 22 has no service at all.
    assert_eq!(syn_to(&env, CLIENT, 40100, 22), "passed");
    assert_eq!(env.stat(RvsStat::PassNotService), 1);
    // Without rules the address service takes port 80 back.
    env.prog.set_mark_rules(env.dp(), &[]).expect("no rules");
    assert_eq!(syn_to(&env, CLIENT, 40200, 80), "ws2");
    assert_eq!(conns(&env, D_WS2), 1);
    assert_eq!(syn_to(&env, CLIENT, 40201, 443), "passed");
}

#[test]
fn a_persistent_mark_service_keeps_the_client_across_ports_with_ipvs_fwmark_template() {
    require_root!();
    let env = fwmark_cluster(Some(Persistence {
        timeout_s: 300,
        netmask: Ipv4Addr::BROADCAST,
    }));
    let picks: Vec<&str> = [80, 443, 443, 80]
        .iter()
        .enumerate()
        .map(|(i, p)| syn_to(&env, CLIENT, 41000 + i as u16, *p))
        .collect();
    assert_eq!(picks, ["ws2"; 4]);
    let t = templates(&env);
    assert_eq!(t.len(), 1, "{t:?}");
    let (key, tmpl) = t[0];
    // IPVS: <IPPROTO_IP, caddr, 0, htonl(fwmark), 0>, listed as `IP ... 0.0.0.1:0`.
    assert_eq!(
        (
            Ipv4Addr::from(u32::from_be(key.saddr)),
            key.sport,
            u32::from_be(key.daddr),
            key.dport,
            key.proto
        ),
        (CLIENT, 0, MARK, 0, 0)
    );
    assert_eq!(
        (tmpl.dest, tmpl.dport, tmpl.flags),
        (D_FWM_WS2, 0, 4),
        "controls the 4 connections"
    );
    assert_eq!(env.conns_of(D_FWM_WS2).persist, 1);
    // Another client is scheduled: rr's next pick, for both ports.
    assert_eq!(
        syn_to(&env, Ipv4Addr::new(172, 25, 254, 11), 41100, 443),
        "ws1"
    );
    assert_eq!(
        syn_to(&env, Ipv4Addr::new(172, 25, 254, 11), 41101, 80),
        "ws1"
    );
}

#[test]
fn connections_under_a_mark_template_let_go_of_it_when_they_expire() {
    require_root!();
    let env = fwmark_cluster(Some(Persistence {
        timeout_s: 1,
        netmask: Ipv4Addr::BROADCAST,
    }));
    let mut cfg = env.dp().maps.config.read(0).expect("config");
    cfg.tcp_timeout_ns[3] = 1_000_000_000; // SYN_RECV: 1 s
    env.prog.set_config(env.dp(), &cfg);
    assert_eq!(syn_to(&env, CLIENT, 42000, 80), "ws2");
    assert_eq!(syn_to(&env, CLIENT, 42001, 443), "ws2");
    assert_eq!(templates(&env)[0].1.flags, 2);
    // The connections expire; each finds its template again through the classifier (its key
    // holds no mark) and lets go of it, and the template then expires in its turn.
    std::thread::sleep(Duration::from_millis(1200));
    env.dp().sweep().expect("sweep");
    let t = templates(&env);
    assert!(t.is_empty() || t[0].1.flags == 0, "released: {t:?}");
    std::thread::sleep(Duration::from_millis(1200));
    env.dp().sweep().expect("sweep");
    assert!(templates(&env).is_empty());
    assert_eq!(env.conns_of(D_FWM_WS2).persist, 0);
    assert_eq!(conns(&env, D_FWM_WS2), 0);
}

#[test]
fn rules_switch_banks_and_the_first_match_wins() {
    require_root!();
    let env = fwmark_cluster(None);
    // A rule before the mark's sends port 80 nowhere (mark 9 has no service): the address
    // service then takes it, as IPVS falls back when the mark's service does not exist.
    let mut rules = vec![RvsMarkRule {
        addr: u32::from(VIP).to_be(),
        mask: u32::MAX,
        port_lo: 80,
        port_hi: 80,
        proto: 0,
        pad: [0; 3],
        mark: 9,
    }];
    rules.extend(http_and_https_rule());
    env.prog.set_mark_rules(env.dp(), &rules).expect("rules");
    assert_eq!(syn_to(&env, CLIENT, 43000, 80), "ws2");
    assert_eq!(conns(&env, D_WS2), 1, "the address service's");
    assert_eq!(syn_to(&env, CLIENT, 43001, 443), "ws2");
    assert_eq!(conns(&env, D_FWM_WS2), 1, "the mark's");
    // Many changes in a row: each lands in the bank not in force.
    for _ in 0..5 {
        env.prog
            .set_mark_rules(env.dp(), &http_and_https_rule())
            .expect("rules");
    }
    assert_eq!(
        syn_to(&env, CLIENT, 43002, 80),
        "ws1",
        "the mark's rr, next pick"
    );
    let too_many = vec![rules[0]; RVS_MAX_MARK_RULES as usize + 1];
    assert!(env.prog.set_mark_rules(env.dp(), &too_many).is_err());
    assert_eq!(
        syn_to(&env, CLIENT, 43003, 443),
        "ws2",
        "the rules in force stayed"
    );
}
