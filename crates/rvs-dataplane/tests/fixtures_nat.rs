//! NAT through the real director program (BPF_PROG_TEST_RUN), inside a throwaway network
//! namespace whose routes and (permanent) neighbour entries `bpf_fib_lookup` consults: exact
//! frames both ways, built independently with rvs-wire (whose checksums are computed from
//! scratch), UDP's zero checksum kept, TCP states from both directions, replies without a
//! connection passed untouched, the kernel's routing as fallback, TTL handling.

mod common;

use std::net::Ipv4Addr;

use common::*;
use rvs_dataplane::{
    abi::*,
    program::{DestSpec, SchedSpec, ServiceSpec, TunnelSpec},
};
use rvs_wire::{
    builder::{Checksum, FrameBuilder},
    ethernet::EthernetAddress,
    Ipv4Packet, TcpPacket,
    tcp::TcpFlags,
};

// Seed 002's addresses.
const NAT_CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 5);
const NAT_VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 250);
const RIP1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const CLIENT_MAC_N: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x05];
const RS1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x00, 0x64];
const SVC: u32 = 7;
const D1: u32 = 9;

struct NatEnv {
    env: Env,
    pub_mac: [u8; 6],
    prv_mac: [u8; 6],
}

/// The director's two networks in `ns`, and a TCP and a UDP NAT service to 10.0.0.100:8080.
fn nat_env(ns: &TestNetns) -> NatEnv {
    let mut env = Env::empty();
    let spec = DestSpec {
        addr: RIP1,
        port: 8080,
        fwd: RVS_FWD_MASQ,
        weight: 1,
        overloaded: false,
        svc: SVC,
        neigh: 0,
        tunnel: TunnelSpec::default(),
        thresholds: Default::default(),
    };
    env.prog.install_dest(env.dp(), D1, &spec).expect("dest");
    env.prog.install_dest(env.dp(), D1 + 1, &DestSpec { svc: SVC + 1, ..spec }).expect("dest");
    for (slot, proto, dest) in [(SVC, 6, D1), (SVC + 1, 17, D1 + 1)] {
        let svc = ServiceSpec { slot, addr: NAT_VIP, port: 80, proto, sched: SchedSpec::Ring { ring: vec![dest], cursor: Some(0) }, dests: vec![dest], one_packet: false, persistence: None, fwmark: None };
        let dp = env.dp.as_mut().expect("loaded");
        env.prog.install_service(dp, &svc, now()).expect("service");
    }
    env.prog.set_nat(env.dp(), true);
    NatEnv { env, pub_mac: ns.mac("pub"), prv_mac: ns.mac("prv") }
}

fn director_ns() -> TestNetns {
    TestNetns::new(
        "nat",
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
    )
}

fn request(sport: u16, flags: TcpFlags, payload: &[u8]) -> FrameBuilder<rvs_wire::builder::Ipv4<rvs_wire::builder::Tcp>> {
    FrameBuilder::tcp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, sport, 80, flags, payload).ttl(64).dont_frag(true)
}

fn reply(n: &NatEnv, sport_client: u16, flags: TcpFlags, payload: &[u8]) -> FrameBuilder<rvs_wire::builder::Ipv4<rvs_wire::builder::Tcp>> {
    FrameBuilder::tcp_v4(EthernetAddress(RS1_MAC), EthernetAddress(n.prv_mac), RIP1, NAT_CLIENT, 8080, sport_client, flags, payload)
        .ttl(64)
        .dont_frag(true)
}

/// The IPv4 and TCP checksums of a frame verify, by rvs-wire's own computation.
fn assert_checksums(frame: &[u8]) {
    let ip = Ipv4Packet::new_checked(&frame[14..]).expect("ipv4");
    assert!(ip.verify_checksum(), "IP header checksum");
    let tcp = TcpPacket::new_checked(ip.payload()).expect("tcp");
    assert!(tcp.verify_checksum(ip.src_addr(), ip.dst_addr()), "TCP checksum");
}

#[test]
fn tcp_both_ways_exact_frames_states_and_counters() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        // Request: VIP:80 -> RIP:8080, TTL - 1, out of the private interface to the real server.
        let (v, out) = n.env.run(&request(40000, TcpFlags::SYN, b"").build());
        assert_eq!(v, XDP_REDIRECT);
        let want = FrameBuilder::tcp_v4(EthernetAddress(n.prv_mac), EthernetAddress(RS1_MAC), NAT_CLIENT, RIP1, 40000, 8080, TcpFlags::SYN, b"")
            .ttl(63)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        assert_checksums(&out);

        // Reply: RIP:8080 -> VIP:80, to the client through the public interface.
        let (v, out) = n.env.run(&reply(&n, 40000, TcpFlags::SYN | TcpFlags::ACK, b"").build());
        assert_eq!(v, XDP_REDIRECT);
        let want = FrameBuilder::tcp_v4(EthernetAddress(n.pub_mac), EthernetAddress(CLIENT_MAC_N), NAT_VIP, NAT_CLIENT, 80, 40000, TcpFlags::SYN | TcpFlags::ACK, b"")
            .ttl(63)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        assert_checksums(&out);

        // With data, both ways.
        let body = b"GET / HTTP/1.0\r\n\r\n";
        let (_, out) = n.env.run(&request(40000, TcpFlags::ACK | TcpFlags::PSH, body).build());
        assert_checksums(&out);
        let (_, out) = n.env.run(&reply(&n, 40000, TcpFlags::ACK | TcpFlags::PSH, b"HTTP/1.0 200 OK\r\n\r\nhello").build());
        assert_checksums(&out);
        assert_eq!(&out[out.len() - 5..], b"hello");

        // INPUT SYN -> SYN_RECV, OUTPUT SYN-ACK keeps it, INPUT ACK -> ESTABLISHED: active.
        assert_eq!(n.env.conns_of(D1).active, 1);
        assert_eq!(n.env.stat(RvsStat::FwdNatIn), 2);
        assert_eq!(n.env.stat(RvsStat::FwdNatOut), 2);
        let c = n.env.dp().service_counters(SVC).expect("counters");
        assert_eq!((c.inpkts, c.outpkts), (2, 2));
        assert_eq!(c.outbytes, 40 + 40 + 24);
    });
}

#[test]
fn udp_zero_checksum_stays_zero_and_a_set_one_is_updated() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        for (sport, csum) in [(5000u16, Checksum::Fixed(0)), (5001, Checksum::Correct)] {
            let input = FrameBuilder::udp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, sport, 80, b"query")
                .l4_checksum(csum)
                .build();
            let (v, out) = n.env.run(&input);
            assert_eq!(v, XDP_REDIRECT);
            let want = FrameBuilder::udp_v4(EthernetAddress(n.prv_mac), EthernetAddress(RS1_MAC), NAT_CLIENT, RIP1, sport, 8080, b"query")
                .l4_checksum(csum)
                .ttl(63)
                .build();
            assert_eq!(out, want, "{csum:?}");
        }
    });
}

#[test]
fn replies_without_a_connection_go_to_the_kernel_untouched() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        let stray = reply(&n, 41000, TcpFlags::ACK, b"").build();
        let (v, out) = n.env.run(&stray);
        assert_eq!((v, out), (XDP_PASS, stray));
        assert_eq!(n.env.stat(RvsStat::PassNatNoConn), 1);
        // Nor does a reply from the right real server with the wrong port match.
        n.env.run(&request(41001, TcpFlags::SYN, b"").build());
        let wrong = FrameBuilder::tcp_v4(EthernetAddress(RS1_MAC), EthernetAddress(n.prv_mac), RIP1, NAT_CLIENT, 8081, 41001, TcpFlags::ACK, b"").build();
        let (v, out) = n.env.run(&wrong);
        assert_eq!((v, out), (XDP_PASS, wrong));
    });
}

#[test]
fn without_a_neighbour_the_rewritten_packet_goes_to_the_kernels_routing() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        sh(&format!("ip -n {} neigh del 10.0.0.100 dev prv", ns.name));
        let (v, out) = n.env.run(&request(42000, TcpFlags::SYN, b"").build());
        assert_eq!(v, XDP_PASS);
        // Rewritten (the kernel forwards it and decrements the TTL itself), MACs untouched.
        let want = FrameBuilder::tcp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, RIP1, 42000, 8080, TcpFlags::SYN, b"")
            .ttl(64)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        assert_eq!(n.env.stat(RvsStat::PassNatKernelRoute), 1);
    });
}

#[test]
fn the_kernel_route_setting_hands_every_rewritten_packet_to_the_kernel() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        n.env.prog.set_nat_kernel_route(n.env.dp(), true);
        let (v, out) = n.env.run(&request(42100, TcpFlags::SYN, b"").build());
        assert_eq!(v, XDP_PASS);
        let want = FrameBuilder::tcp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, RIP1, 42100, 8080, TcpFlags::SYN, b"")
            .ttl(64)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        let (v, _) = n.env.run(&reply(&n, 42100, TcpFlags::SYN | TcpFlags::ACK, b"").build());
        assert_eq!(v, XDP_PASS);
        assert_eq!((n.env.stat(RvsStat::PassNatKernelRoute), n.env.stat(RvsStat::FwdNatIn)), (2, 0));
        // And back: the same flow is redirected again.
        n.env.prog.set_nat_kernel_route(n.env.dp(), false);
        let (v, _) = n.env.run(&request(42100, TcpFlags::ACK, b"").build());
        assert_eq!(v, XDP_REDIRECT);
    });
}

#[test]
fn ttl_one_is_not_forwarded() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        let (v, _) = n.env.run(&request(43000, TcpFlags::SYN, b"").ttl(1).build());
        assert_eq!(v, XDP_DROP);
        assert_eq!(n.env.stat(RvsStat::DropTtlExceeded), 1);
    });
}

#[test]
fn an_expired_connection_takes_its_reply_index_with_it() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        let mut cfg = n.env.dp().maps.config.read(0).expect("config");
        cfg.tcp_timeout_ns[3] = 1_000_000_000; // SYN_RECV: 1 s
        n.env.prog.set_config(n.env.dp(), &cfg);
        n.env.run(&request(44000, TcpFlags::SYN, b"").build());
        let (v, _) = n.env.run(&reply(&n, 44000, TcpFlags::SYN | TcpFlags::ACK, b"").build());
        assert_eq!(v, XDP_REDIRECT);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        n.env.dp().sweep().expect("sweep");
        let late = reply(&n, 44000, TcpFlags::ACK, b"").build();
        let (v, out) = n.env.run(&late);
        assert_eq!((v, out), (XDP_PASS, late));
        assert_eq!(n.env.dp().connections().expect("conns").len(), 0);
        assert_eq!(n.env.conns_of(D1), RvsDestConns::default());
    });
}

fn port_unreachable(quoted: &[u8]) -> rvs_wire::Icmpv4Repr<'_> {
    rvs_wire::Icmpv4Repr::DstUnreachable { reason: rvs_wire::Icmpv4DstUnreachable::PortUnreachable, next_hop_mtu: 0, quoted }
}

fn too_big(quoted: &[u8]) -> rvs_wire::Icmpv4Repr<'_> {
    rvs_wire::Icmpv4Repr::DstUnreachable { reason: rvs_wire::Icmpv4DstUnreachable::FragRequired, next_hop_mtu: 1400, quoted }
}

/// `quote` (an IPv4 header and 8 bytes) with its destination (`dst`) or source address and the
/// matching port replaced, and its header checksum recomputed by rvs-wire, as the translated
/// quote must read.
fn requote(quote: &[u8], dst: bool, addr: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut q = quote.to_vec();
    let (a, p) = if dst { (16, 22) } else { (12, 20) };
    q[a..a + 4].copy_from_slice(&addr.octets());
    q[p..p + 2].copy_from_slice(&port.to_be_bytes());
    q[10..12].copy_from_slice(&[0, 0]);
    let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(&q[..20]));
    q[10..12].copy_from_slice(&c.to_be_bytes());
    q
}

#[test]
fn a_real_servers_port_unreachable_reaches_the_client_translated() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        let (_, sent) = n.env.run(&FrameBuilder::udp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, 5300, 80, b"query").build());
        // The real server answers the request it got with "port unreachable", quoting it.
        let quote = &sent[14..14 + 28];
        let input = FrameBuilder::icmp_v4(EthernetAddress(RS1_MAC), EthernetAddress(n.prv_mac), RIP1, NAT_CLIENT, port_unreachable(quote)).build();
        let (v, out) = n.env.run(&input);
        assert_eq!(v, XDP_REDIRECT);
        let want_quote = requote(quote, true, NAT_VIP, 80);
        let want = FrameBuilder::icmp_v4(EthernetAddress(n.pub_mac), EthernetAddress(CLIENT_MAC_N), NAT_VIP, NAT_CLIENT, port_unreachable(&want_quote))
            .ttl(63)
            .build();
        assert_eq!(out, want);
        assert_eq!(n.env.stat(RvsStat::FwdNatIcmp), 1);
    });
}

#[test]
fn a_clients_fragmentation_needed_reaches_the_real_server_translated() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        n.env.run(&request(45000, TcpFlags::SYN, b"").build());
        let (_, answer) = n.env.run(&reply(&n, 45000, TcpFlags::SYN | TcpFlags::ACK, b"").build());
        // The client says the reply (from the VIP) was too big for its path.
        let quote = &answer[14..14 + 28];
        let input = FrameBuilder::icmp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, too_big(quote)).build();
        let (v, out) = n.env.run(&input);
        assert_eq!(v, XDP_REDIRECT);
        let want_quote = requote(quote, false, RIP1, 8080);
        let want = FrameBuilder::icmp_v4(EthernetAddress(n.prv_mac), EthernetAddress(RS1_MAC), NAT_CLIENT, RIP1, too_big(&want_quote))
            .ttl(63)
            .build();
        assert_eq!(out, want);
    });
}

#[test]
fn icmp_errors_about_no_connection_and_pings_go_to_the_kernel() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        let quote = FrameBuilder::udp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, RIP1, 9999, 8080, b"x").ip_packet();
        let stray = FrameBuilder::icmp_v4(
            EthernetAddress(RS1_MAC),
            EthernetAddress(n.prv_mac),
            RIP1,
            NAT_CLIENT,
            rvs_wire::Icmpv4Repr::DstUnreachable { reason: rvs_wire::Icmpv4DstUnreachable::PortUnreachable, next_hop_mtu: 0, quoted: &quote[..28] },
        )
        .build();
        let (v, out) = n.env.run(&stray);
        assert_eq!((v, out), (XDP_PASS, stray));
        let ping = FrameBuilder::icmp_echo_request(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, 1, 1, b"ping").build();
        let (v, out) = n.env.run(&ping);
        assert_eq!((v, out), (XDP_PASS, ping));
        assert_eq!(n.env.stat(RvsStat::PassNotTcpUdp), 2);
    });
}

#[test]
fn connections_of_a_removed_virtual_address_are_not_taken_for_replies() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let mut n = nat_env(&ns);
        let (v, _) = n.env.run(&request(45000, TcpFlags::SYN, b"").build());
        assert_eq!(v, XDP_REDIRECT);
        // The services go (and the VIP with them from `vips`); the real server is retired, as
        // rvsd does. The connection stays until it expires, and NAT stays on.
        for slot in [SVC, SVC + 1] {
            let dp = n.env.dp.as_mut().expect("loaded");
            n.env.prog.remove_service(dp, slot, now()).expect("remove");
        }
        n.env.prog.retire_dest(n.env.dp(), D1);
        // The client's next segment still finds its connection, not the reply path: dropped as
        // IPVS drops a removed real server's packets, not handed to the kernel.
        let (v, _) = n.env.run(&request(45000, TcpFlags::ACK, b"").build());
        assert_eq!(v, XDP_DROP);
        assert_eq!(n.env.stat(RvsStat::DropDestUnavailable), 1);
        assert_eq!(n.env.stat(RvsStat::PassNatNoConn), 0);
        // Traffic to the address with no connection is the kernel's, counted as not ours.
        let (v, _) = n.env.run(&request(45001, TcpFlags::SYN, b"").build());
        assert_eq!(v, XDP_PASS);
        assert_eq!(n.env.stat(RvsStat::PassNatNoConn), 1);
    });
}

#[test]
fn a_dead_entry_is_left_to_the_cpu_that_killed_it() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let mut n = nat_env(&ns);
        n.env.run(&request(46000, TcpFlags::SYN, b"").build());
        // Another CPU has just killed the connection (compare-and-swap to DEAD) and is about to
        // delete it by key: a new SYN must neither delete nor replace it, or that CPU's delete
        // would take the new entry.
        let conns = &mut n.env.dp.as_mut().expect("loaded").maps.conns;
        let key = conns.keys().next().expect("one entry").expect("key");
        let mut dead = conns.get(&key, 0).expect("entry");
        dead.state = RVS_CONN_DEAD;
        conns.insert(key, dead, 0).expect("write");
        let (v, _) = n.env.run(&request(46000, TcpFlags::SYN, b"").build());
        assert_eq!(v, XDP_DROP);
        assert_eq!(n.env.stat(RvsStat::DropConnDying), 1);
        assert_eq!(n.env.stat(RvsStat::ConnCreated), 1);
        // Nor does the expiry program touch it.
        n.env.dp().sweep().expect("sweep");
        let left = n.env.dp().maps.conns.get(&key, 0).expect("still there");
        assert_eq!(left.state, RVS_CONN_DEAD);
    });
}

#[test]
fn a_reply_with_ttl_one_leaves_the_connection_as_it_was() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        n.env.run(&request(47000, TcpFlags::SYN, b"").build());
        n.env.run(&reply(&n, 47000, TcpFlags::SYN | TcpFlags::ACK, b"").build());
        n.env.run(&request(47000, TcpFlags::ACK, b"").build());
        assert_eq!(n.env.conns_of(D1).active, 1);
        // An RST from the real server that the director cannot forward does not end it.
        let (v, _) = n.env.run(&reply(&n, 47000, TcpFlags::RST, b"").ttl(1).build());
        assert_eq!(v, XDP_DROP);
        assert_eq!(n.env.stat(RvsStat::DropTtlExceeded), 1);
        assert_eq!(n.env.conns_of(D1).active, 1);
        let c = n.env.dp().service_counters(SVC).expect("counters");
        assert_eq!(c.outpkts, 1);
    });
}

#[test]
fn icmp_errors_quoting_no_ports_go_to_the_kernel_untranslated() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let n = nat_env(&ns);
        let (_, sent) = n.env.run(&FrameBuilder::udp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, 5400, 80, b"query").build());
        let quote = &sent[14..14 + 28];
        // The same quote, but as a later fragment (its bytes 20.. are no ports), and as a
        // packet whose length does not reach the ports.
        let mut later = quote.to_vec();
        later[6..8].copy_from_slice(&0x0010u16.to_be_bytes()); // fragment offset 16 * 8
        let mut short = quote.to_vec();
        short[2..4].copy_from_slice(&20u16.to_be_bytes());
        for q in [later, short] {
            let q = requote(&q, true, RIP1, 8080); // checksum of the edited header
            let input = FrameBuilder::icmp_v4(EthernetAddress(RS1_MAC), EthernetAddress(n.prv_mac), RIP1, NAT_CLIENT, port_unreachable(&q)).build();
            let (v, out) = n.env.run(&input);
            assert_eq!((v, out), (XDP_PASS, input));
        }
        assert_eq!(n.env.stat(RvsStat::FwdNatIcmp), 0);
    });
}

/// A real server of port 0 (an all-ports or firewall-mark service's) gets the port the client
/// asked for, as ip_vs_schedule binds `dest->port ? dest->port : vport`; its replies leave from
/// that port of the VIP. (It used to be rewritten to port 0.)
#[test]
fn a_real_server_of_port_0_gets_the_clients_port() {
    require_root!();
    let ns = director_ns();
    ns.run(|| {
        let mut n = nat_env(&ns);
        let spec = DestSpec {
            addr: RIP1,
            port: 0,
            fwd: RVS_FWD_MASQ,
            weight: 1,
            overloaded: false,
            svc: SVC + 2,
            neigh: 0,
            tunnel: TunnelSpec::default(),
            thresholds: Default::default(),
        };
        n.env.prog.install_dest(n.env.dp(), D1 + 2, &spec).expect("dest");
        let svc = ServiceSpec { slot: SVC + 2, addr: NAT_VIP, port: 0, proto: 6, sched: SchedSpec::Ring { ring: vec![D1 + 2], cursor: Some(0) }, dests: vec![D1 + 2], one_packet: false, persistence: None, fwmark: None };
        let dp = n.env.dp.as_mut().expect("loaded");
        n.env.prog.install_service(dp, &svc, now()).expect("service");
        let syn = FrameBuilder::tcp_v4(EthernetAddress(CLIENT_MAC_N), DIRECTOR_MAC, NAT_CLIENT, NAT_VIP, 40100, 443, TcpFlags::SYN, b"").ttl(64).dont_frag(true);
        let (v, out) = n.env.run(&syn.build());
        assert_eq!(v, XDP_REDIRECT);
        let want = FrameBuilder::tcp_v4(EthernetAddress(n.prv_mac), EthernetAddress(RS1_MAC), NAT_CLIENT, RIP1, 40100, 443, TcpFlags::SYN, b"")
            .ttl(63)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        let synack = FrameBuilder::tcp_v4(EthernetAddress(RS1_MAC), EthernetAddress(n.prv_mac), RIP1, NAT_CLIENT, 443, 40100, TcpFlags::SYN | TcpFlags::ACK, b"").ttl(64).dont_frag(true);
        let (v, out) = n.env.run(&synack.build());
        assert_eq!(v, XDP_REDIRECT);
        let want = FrameBuilder::tcp_v4(EthernetAddress(n.pub_mac), EthernetAddress(CLIENT_MAC_N), NAT_VIP, NAT_CLIENT, 443, 40100, TcpFlags::SYN | TcpFlags::ACK, b"")
            .ttl(63)
            .dont_frag(true)
            .build();
        assert_eq!(out, want);
        assert_checksums(&out);
    });
}
