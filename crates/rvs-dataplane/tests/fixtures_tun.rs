//! TUN forwarding through the real director program (BPF_PROG_TEST_RUN): the exact encapsulated
//! frames for IPIP, GUE (with and without checksum) and GRE (with and without checksum), built
//! here independently of the C with rvs-wire's checksum routines; the ICMP "fragmentation
//! needed" reply to an oversize DF packet; and the counters.

mod common;

use std::net::Ipv4Addr;

use common::*;
use rvs_dataplane::{
    abi::*,
    program::{DestSpec, TunnelSpec},
};
use rvs_wire::{builder::FrameBuilder, checksum, ip::IpProtocol, tcp::TcpFlags};

/// The real servers, reached through a tunnel (they may sit anywhere routable).
const RS2: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 22);
const RS1: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 11);

fn tunnel_to(env: &Env, tunnel: TunnelSpec) {
    for (slot, addr, neigh) in [(D_WS2, RS2, 2), (D_WS1, RS1, 1)] {
        let spec = DestSpec { addr, port: 80, fwd: RVS_FWD_TUNNEL, weight: 1, overloaded: false, svc: SVC_TCP, neigh, tunnel, thresholds: Default::default() };
        env.prog.install_dest(env.dp(), slot, &spec).expect("tunnel dest");
    }
}

fn syn(sport: u16, payload: &[u8]) -> FrameBuilder<rvs_wire::builder::Ipv4<rvs_wire::builder::Tcp>> {
    FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, TcpFlags::SYN, payload).ttl(61)
}

/// An IPv4 header without options, its checksum computed by rvs-wire.
#[allow(clippy::too_many_arguments)]
fn ipv4_header(proto: u8, payload_len: usize, tos: u8, ident: u16, df: bool, ttl: u8, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0] = 0x45;
    h[1] = tos;
    h[2..4].copy_from_slice(&((20 + payload_len) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    h[6] = if df { 0x40 } else { 0 };
    h[8] = ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum::finish(checksum::data(&h));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

fn ethernet(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    let mut e = Vec::with_capacity(14);
    e.extend_from_slice(&dst);
    e.extend_from_slice(&src);
    e.extend_from_slice(&[0x08, 0x00]);
    e
}

/// The frame the director must send to RS2 for `inner` (an IPv4 packet) in a tunnel whose
/// outer payload is `tunnel_header ++ inner`.
fn expected(inner: &[u8], proto: u8, tunnel_header: &[u8], df: bool) -> Vec<u8> {
    let tos = match inner[1] & 3 {
        3 => (inner[1] & !3) | 2, // CE becomes ECT(0)
        _ => inner[1],
    };
    let ident = if df { 0 } else { u16::from_be_bytes([inner[4], inner[5]]) };
    let mut f = ethernet(WS2_MAC, DIRECTOR_MAC.0);
    f.extend(ipv4_header(proto, tunnel_header.len() + inner.len(), tos, ident, df, inner[8], DIRECTOR_IP, RS2));
    f.extend_from_slice(tunnel_header);
    f.extend_from_slice(inner);
    f
}

#[test]
fn ipip_encapsulates_as_ipvs_with_and_without_df() {
    require_root!();
    let env = Env::dr_cluster();
    tunnel_to(&env, TunnelSpec { kind: RVS_TUN_IPIP, port: 0, flags: 0 });
    for (sport, df, ident) in [(51000, true, 0x1111), (51002, false, 0x2222)] {
        let input = syn(sport, b"").dont_frag(df).ident(ident).build();
        let (verdict, out) = env.run(&input);
        assert_eq!(verdict, XDP_TX);
        assert_eq!(out, expected(&input[14..], 4, &[], df), "df={df}");
        // Let rr come back to ws2 for the next case.
        env.run(&syn(sport + 1, b"").build());
    }
    assert_eq!(env.stat(RvsStat::FwdTunTx), 4);
}

#[test]
fn ecn_ce_is_encapsulated_as_ect0_and_dscp_copied() {
    require_root!();
    let env = Env::dr_cluster();
    tunnel_to(&env, TunnelSpec { kind: RVS_TUN_IPIP, port: 0, flags: 0 });
    let input = syn(51100, b"").tos(0xb8 | 3).dont_frag(true).build();
    let (_, out) = env.run(&input);
    assert_eq!(out[14 + 1], 0xb8 | 2);
    assert_eq!(out, expected(&input[14..], 4, &[], true));
}

#[test]
fn gre_with_and_without_checksum() {
    require_root!();
    for csum in [false, true] {
        let env = Env::dr_cluster();
        let flags = if csum { RVS_TUN_F_CSUM } else { 0 };
        tunnel_to(&env, TunnelSpec { kind: RVS_TUN_GRE, port: 0, flags });
        let input = syn(51200, b"GET / HTTP/1.0\r\n\r\n").dont_frag(true).build();
        let (verdict, out) = env.run(&input);
        assert_eq!(verdict, XDP_TX);
        let inner = &input[14..];
        let mut gre = if csum { vec![0x80, 0, 0x08, 0x00, 0, 0, 0, 0] } else { vec![0, 0, 0x08, 0x00] };
        if csum {
            let mut covered = gre.clone();
            covered.extend_from_slice(inner);
            let c = checksum::finish(checksum::data(&covered));
            gre[4..6].copy_from_slice(&c.to_be_bytes());
        }
        assert_eq!(out, expected(inner, 47, &gre, true), "csum={csum}");
    }
}

#[test]
fn gue_with_and_without_udp_checksum() {
    require_root!();
    for csum in [false, true] {
        let env = Env::dr_cluster();
        let flags = if csum { RVS_TUN_F_CSUM } else { 0 };
        tunnel_to(&env, TunnelSpec { kind: RVS_TUN_GUE, port: 6080, flags });
        let input = syn(51300, b"data").dont_frag(true).build();
        let (verdict, out) = env.run(&input);
        assert_eq!(verdict, XDP_TX);
        let inner = &input[14..];
        let ulen = (8 + 4 + inner.len()) as u16;
        // The source port is a flow hash in 32768..=60999 (udp_flow_src_port's range); take it
        // from the output, then require the same port for the same flow and the checksum.
        let sport = u16::from_be_bytes([out[34], out[35]]);
        assert!((32768..=60999).contains(&sport), "source port {sport}");
        let mut udp_gue = Vec::new();
        udp_gue.extend_from_slice(&sport.to_be_bytes());
        udp_gue.extend_from_slice(&6080u16.to_be_bytes());
        udp_gue.extend_from_slice(&ulen.to_be_bytes());
        udp_gue.extend_from_slice(&[0, 0]);
        udp_gue.extend_from_slice(&[0, 4, 0, 0]); // GUE: version 0, hlen 0, IPIP, no flags
        if csum {
            let mut covered = udp_gue.clone();
            covered.extend_from_slice(inner);
            let sum = checksum::combine(&[
                checksum::pseudo_header_v4(DIRECTOR_IP, RS2, IpProtocol::Udp, u32::from(ulen)),
                checksum::data(&covered),
            ]);
            let c = match checksum::finish(sum) {
                0 => 0xffff,
                c => c,
            };
            udp_gue[6..8].copy_from_slice(&c.to_be_bytes());
        }
        assert_eq!(out, expected(inner, 17, &udp_gue, true), "csum={csum}");
        // Same flow, same port (the real server's RSS sees one flow).
        env.run(&syn(51301, b"").build());
        let (_, again) = env.run(&syn(51300, b"more").dont_frag(true).build());
        assert_eq!(u16::from_be_bytes([again[34], again[35]]), sport);
    }
}

#[test]
fn an_oversize_df_packet_gets_fragmentation_needed_with_the_tunnel_mtu() {
    require_root!();
    let env = Env::dr_cluster();
    tunnel_to(&env, TunnelSpec { kind: RVS_TUN_IPIP, port: 0, flags: 0 });
    // Egress MTU 130: a 120-byte packet fits the link but not the 20-byte IPIP overhead.
    env.prog
        .install_neigh(env.dp(), 2, Some(&rvs_dataplane::program::NeighSpec {
            dst_mac: WS2_MAC,
            src_mac: DIRECTOR_MAC.0,
            ifindex: TEST_RUN_IFINDEX,
            src_ip: DIRECTOR_IP,
            mtu: 130,
        }))
        .expect("neigh");
    let payload = [0x5a; 80];
    let input = syn(51400, &payload).dont_frag(true).build();
    assert_eq!(input.len() - 14, 120);
    let (verdict, out) = env.run(&input);
    assert_eq!(verdict, XDP_TX);
    let quote = &input[14..14 + 28];
    let mut icmp = vec![3, 4, 0, 0, 0, 0];
    icmp.extend_from_slice(&110u16.to_be_bytes());
    icmp.extend_from_slice(quote);
    let c = checksum::finish(checksum::data(&icmp));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut want = ethernet(CLIENT_MAC.0, DIRECTOR_MAC.0);
    want.extend(ipv4_header(1, icmp.len(), 0xc0, 0, false, 64, VIP, CLIENT));
    want.extend(icmp);
    assert_eq!(out, want);
    assert_eq!(env.stat(RvsStat::IcmpFragNeeded), 1);

    // Without DF the data plane cannot fragment: dropped and counted.
    let (verdict, _) = env.run(&syn(51400, &payload).dont_frag(false).build());
    assert_eq!(verdict, XDP_DROP);
    assert_eq!(env.stat(RvsStat::DropTunTooBig), 1);
}

#[test]
fn a_real_server_behind_another_interface_is_reached_by_redirect() {
    require_root!();
    let mut env = Env::dr_cluster();
    tunnel_to(&env, TunnelSpec { kind: RVS_TUN_IPIP, port: 0, flags: 0 });
    env.neigh(2, WS2_MAC, 4242);
    let input = syn(51500, b"").dont_frag(true).build();
    let (verdict, out) = env.run(&input);
    assert_eq!(verdict, XDP_REDIRECT);
    assert_eq!(out, expected(&input[14..], 4, &[], true));
    assert_eq!(env.stat(RvsStat::FwdTunRedirect), 1);
}
