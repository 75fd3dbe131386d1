//! The real servers' decapsulation program (root).
//!
//! Fixtures through BPF_PROG_TEST_RUN: the exact frame handed to the kernel for every tunnel the
//! program strips, frames left untouched, frames dropped, each under its own counter. Then the
//! pinned install on a veth pair in throwaway namespaces: it keeps running after the installing
//! code is gone, another kernel answers what it decapsulates, it is replaced in place, and it is
//! removed without a trace.

mod common;

use std::{
    io,
    net::{Ipv4Addr, SocketAddr, UdpSocket},
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use aya::programs::{TestRun, TestRunOptions};
use common::{XDP_DROP, XDP_PASS};
use rvs_dataplane::{
    AttachMode, DataplaneError,
    decap::{self, DecapProgram, DecapSpec, LinkState, Replaced},
    decap_abi::RvsDecapStat,
};
use rvs_wire::{
    EthernetAddress, IpProtocol, TcpFlags,
    builder::{Checksum, FrameBuilder, Ipv4, Ipv4Header, Tcp},
    checksum,
    ethernet::EtherType,
    ipv6::Ipv6Address,
};

const DIRECTOR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0xc8]);
const RS_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
const DIRECTOR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The real server's address: a configured tunnel endpoint.
const RS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// A second configured endpoint.
const RS2: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
/// An address of nobody's tunnels.
const OTHER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const CLIENT: Ipv4Addr = Ipv4Addr::new(172, 25, 254, 10);
const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 100);
const GUE_PORT: u16 = 6080;
const GUE_PORT2: u16 = 5555;

const GRE_C: u16 = 0x8000;
const GRE_K: u16 = 0x2000;
const GRE_S: u16 = 0x1000;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const GUE_F_PRIV: u16 = 0x0001;
const GUE_PF_REMCSUM: u32 = 0x8000_0000;

// ---- a loaded program -------------------------------------------------------------------------

fn unique_pin_dir(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    PathBuf::from(format!("/sys/fs/bpf/rvs/test-decap-{what}-{}-{n}", std::process::id()))
}

/// A decap program loaded (not attached) with its maps pinned in a private directory that is
/// removed on drop.
struct Loaded {
    prog: Option<DecapProgram>,
    dir: PathBuf,
}

impl Loaded {
    fn new(spec: &DecapSpec) -> Loaded {
        let dir = unique_pin_dir("fx");
        let mut loaded = Loaded { prog: None, dir };
        loaded.prog = Some(DecapProgram::load(&loaded.dir, spec).unwrap_or_else(|e| panic!("load: {e}")));
        loaded
    }

    fn prog(&self) -> &DecapProgram {
        self.prog.as_ref().expect("loaded")
    }

    fn run(&self, frame: &[u8]) -> (u32, Vec<u8>) {
        let mut out = vec![0u8; frame.len() + 256];
        let r = self
            .prog()
            .program()
            .expect("program")
            .test_run(TestRunOptions { data_in: Some(frame), data_out: Some(&mut out), ..TestRunOptions::new() })
            .unwrap_or_else(|e| panic!("test_run of a {}-byte frame: {e:?}", frame.len()));
        out.truncate(r.data_size_out as usize);
        (r.return_value, out)
    }

    fn stat(&self, s: RvsDecapStat) -> u64 {
        self.prog().counters().expect("counters").get(s)
    }

    /// Every counter but RxFrames, summed: each frame must add exactly one.
    fn outcomes(&self) -> u64 {
        let c = self.prog().counters().expect("counters");
        c.iter().filter(|(s, _)| *s != RvsDecapStat::RxFrames).map(|(_, v)| v).sum()
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        drop(self.prog.take());
        if let Err(e) = decap::remove_pinned(&self.dir) {
            eprintln!("cleanup of {}: {e}", self.dir.display());
        }
    }
}

fn full_spec() -> DecapSpec {
    DecapSpec { addrs: vec![RS, RS2], ipip: true, gre: true, gue_ports: vec![GUE_PORT, GUE_PORT2] }
}

// ---- frames -----------------------------------------------------------------------------------

/// The client's SYN to the VIP as the director received it, behind the Ethernet header the
/// director's tunnel packet carries to the real server: exactly what decapsulation must produce.
fn syn() -> FrameBuilder<Ipv4<Tcp>> {
    FrameBuilder::tcp_v4(DIRECTOR_MAC, RS_MAC, CLIENT, VIP, 40000, 80, TcpFlags::SYN, b"").seq(7).ttl(63).dont_frag(true)
}

fn inner_packet() -> Vec<u8> {
    syn().ip_packet()
}

fn outer(dst: Ipv4Addr) -> Ipv4Header {
    let mut h = Ipv4Header::new(DIRECTOR, dst);
    h.dont_frag = true;
    h
}

fn ipip_to(dst: Ipv4Addr) -> Vec<u8> {
    syn().ipip(outer(dst)).build()
}

/// A GRE header (with a right checksum field when `C` is set) followed by `rest`.
fn gre_payload(flags: u16, proto: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&flags.to_be_bytes());
    v.extend_from_slice(&proto.to_be_bytes());
    if flags & GRE_C != 0 {
        v.extend_from_slice(&[0; 4]);
    }
    v.extend_from_slice(rest);
    if flags & GRE_C != 0 {
        let c = checksum::finish(checksum::data(&v));
        v[4..6].copy_from_slice(&c.to_be_bytes());
    }
    v
}

fn gre_frame(dst: Ipv4Addr, payload: &[u8]) -> FrameBuilder<Ipv4<rvs_wire::builder::RawIp>> {
    FrameBuilder::ipv4_raw(DIRECTOR_MAC, RS_MAC, DIRECTOR, dst, IpProtocol::Gre, payload)
}

/// A GUE variant 0 header: version 0, C = 0, `hlen` words of `options`, then `rest`.
fn gue_payload(hlen: u8, proto: u8, flags: u16, options: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut v = vec![hlen & 0x1f, proto];
    v.extend_from_slice(&flags.to_be_bytes());
    v.extend_from_slice(options);
    v.extend_from_slice(rest);
    v
}

fn gue_frame(port: u16, payload: &[u8]) -> FrameBuilder<Ipv4<rvs_wire::builder::Udp>> {
    FrameBuilder::udp_v4(DIRECTOR_MAC, RS_MAC, DIRECTOR, RS, 51000, port, payload)
}

/// The SYN as a sender with checksum offload leaves it for remote checksum offload: the TCP
/// checksum field holds the pseudo-header sum, not the checksum.
fn inner_with_partial_checksum() -> Vec<u8> {
    let mut p = inner_packet();
    let tcp_len = (p.len() - 20) as u32;
    let pseudo = checksum::pseudo_header_v4(CLIENT, VIP, IpProtocol::Tcp, tcp_len);
    p[36..38].copy_from_slice(&pseudo.to_be_bytes());
    p
}

/// GUE private flags with remote checksum offload: the sum starts at the TCP header (20) and
/// goes into its checksum field (20 + 16), both counted from the inner packet.
fn remcsum_options(start: u16, offset: u16) -> Vec<u8> {
    let mut o = GUE_PF_REMCSUM.to_be_bytes().to_vec();
    o.extend_from_slice(&start.to_be_bytes());
    o.extend_from_slice(&offset.to_be_bytes());
    o
}

// ---- fixtures that decapsulate ----------------------------------------------------------------

struct Decap {
    what: &'static str,
    frame: Vec<u8>,
    expect: Vec<u8>,
    stat: RvsDecapStat,
}

fn decap_fixtures() -> Vec<Decap> {
    let inner = inner_packet();
    let plain = syn().build();
    let gue = |opts_hlen: u8, flags: u16, options: &[u8]| gue_payload(opts_hlen, 4, flags, options, &inner);
    let big = FrameBuilder::udp_v4(DIRECTOR_MAC, RS_MAC, CLIENT, VIP, 5300, 53, &[0x5a; 1201]);
    vec![
        Decap { what: "IPIP", frame: ipip_to(RS), expect: plain.clone(), stat: RvsDecapStat::DecapIpip },
        Decap { what: "IPIP to the second endpoint", frame: ipip_to(RS2), expect: plain.clone(), stat: RvsDecapStat::DecapIpip },
        Decap {
            what: "IPIP with outer IP options",
            frame: syn().ipip(Ipv4Header { options: vec![1, 1, 1, 0], ..outer(RS) }).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapIpip,
        },
        Decap {
            what: "IPIP whose inner packet has IP options (kept)",
            frame: syn().ip_options(&[1, 1, 1, 0]).ipip(outer(RS)).build(),
            expect: syn().ip_options(&[1, 1, 1, 0]).build(),
            stat: RvsDecapStat::DecapIpip,
        },
        Decap {
            what: "IPIP carrying UDP with payload",
            frame: FrameBuilder::udp_v4(DIRECTOR_MAC, RS_MAC, CLIENT, VIP, 5300, 53, b"a query of some length")
                .ipip(outer(RS))
                .build(),
            expect: FrameBuilder::udp_v4(DIRECTOR_MAC, RS_MAC, CLIENT, VIP, 5300, 53, b"a query of some length").build(),
            stat: RvsDecapStat::DecapIpip,
        },
        Decap {
            what: "IPIP, outer CE on an ECT(0) inner packet: CE is carried in, checksum follows",
            frame: syn().tos(0x02).ipip(Ipv4Header { tos: 0x03, ..outer(RS) }).build(),
            expect: syn().tos(0x03).build(),
            stat: RvsDecapStat::DecapIpip,
        },
        Decap {
            what: "IPIP, outer ECT(0) on a not-ECT inner packet: left as it is",
            frame: syn().ipip(Ipv4Header { tos: 0x02, ..outer(RS) }).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapIpip,
        },
        Decap {
            what: "GRE without checksum",
            frame: gre_frame(RS, &gre_payload(0, ETH_P_IP, &inner)).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGre,
        },
        Decap {
            what: "GRE with checksum",
            frame: gre_frame(RS, &gre_payload(GRE_C, ETH_P_IP, &inner)).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGre,
        },
        Decap {
            what: "GRE with reserved bits 6-12 set (ignored on receipt, RFC 2784)",
            frame: gre_frame(RS, &gre_payload(0x0100, ETH_P_IP, &inner)).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGre,
        },
        Decap {
            what: "GUE without UDP checksum",
            frame: gue_frame(GUE_PORT, &gue(0, 0, &[])).l4_checksum(Checksum::Fixed(0)).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "GUE with UDP checksum",
            frame: gue_frame(GUE_PORT, &gue(0, 0, &[])).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "GUE on the second port",
            frame: gue_frame(GUE_PORT2, &gue(0, 0, &[])).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "GUE with hlen 2 of options no flag describes (skipped)",
            frame: gue_frame(GUE_PORT, &gue(2, 0, &[0xaa; 8])).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "GUE with private flags, none set",
            frame: gue_frame(GUE_PORT, &gue(1, GUE_F_PRIV, &[0; 4])).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "GUE with remote checksum offload: the inner TCP checksum is completed",
            frame: gue_frame(
                GUE_PORT,
                &gue_payload(2, 4, GUE_F_PRIV, &remcsum_options(20, 36), &inner_with_partial_checksum()),
            )
            .build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "GUE version 1 (the UDP payload is the IPv4 packet)",
            frame: gue_frame(GUE_PORT, &inner).build(),
            expect: plain.clone(),
            stat: RvsDecapStat::DecapGue,
        },
        Decap {
            what: "a large GUE packet (checksum over several chunks and an odd tail)",
            frame: gue_frame(GUE_PORT, &gue_payload(0, 4, 0, &[], &big.ip_packet())).build(),
            expect: big.build(),
            stat: RvsDecapStat::DecapGue,
        },
    ]
}

#[test]
fn each_tunnel_is_stripped_to_the_exact_inner_frame() {
    require_root!();
    let env = Loaded::new(&full_spec());
    for f in decap_fixtures() {
        let (before, outcomes) = (env.stat(f.stat), env.outcomes());
        let (verdict, out) = env.run(&f.frame);
        assert_eq!(verdict, XDP_PASS, "{}: verdict", f.what);
        assert_eq!(out, f.expect, "{}: output frame", f.what);
        assert_eq!(env.stat(f.stat), before + 1, "{}: counter {}", f.what, f.stat.name());
        assert_eq!(env.outcomes(), outcomes + 1, "{}: counted once", f.what);
    }
    assert_eq!(env.stat(RvsDecapStat::RxFrames), decap_fixtures().len() as u64);
}

// ---- fixtures left untouched or dropped -------------------------------------------------------

struct Untouched {
    what: &'static str,
    frame: Vec<u8>,
    verdict: u32,
    stat: RvsDecapStat,
}

fn pass(what: &'static str, frame: Vec<u8>, stat: RvsDecapStat) -> Untouched {
    Untouched { what, frame, verdict: XDP_PASS, stat }
}

fn drop_(what: &'static str, frame: Vec<u8>, stat: RvsDecapStat) -> Untouched {
    Untouched { what, frame, verdict: XDP_DROP, stat }
}

fn untouched_fixtures() -> Vec<Untouched> {
    use RvsDecapStat::*;
    let inner = inner_packet();
    let gue = |hlen: u8, proto: u8, flags: u16, options: &[u8]| gue_payload(hlen, proto, flags, options, &inner);
    let mut bad_gre_csum = gre_payload(GRE_C, ETH_P_IP, &inner);
    bad_gre_csum[4] ^= 0x40;
    vec![
        pass("ARP", FrameBuilder::arp_request(DIRECTOR_MAC, DIRECTOR, RS).build(), PassNotIpv4),
        pass(
            "IPv6",
            FrameBuilder::ipv6_raw(DIRECTOR_MAC, RS_MAC, Ipv6Address::LOCALHOST, Ipv6Address::LOCALHOST, IpProtocol::IpIp, &inner)
                .build(),
            PassNotIpv4,
        ),
        pass("VLAN-tagged IPIP", syn().ipip(outer(RS)).vlan(7).build(), PassNotIpv4),
        pass(
            "unknown EtherType",
            FrameBuilder::ethernet(DIRECTOR_MAC, RS_MAC, EtherType::Unknown(0x88b5), &[0; 46]).build(),
            PassNotIpv4,
        ),
        // Not tunnels, or not ours.
        pass("TCP to the real server itself (ssh)", FrameBuilder::tcp_v4(DIRECTOR_MAC, RS_MAC, DIRECTOR, RS, 40000, 22, TcpFlags::SYN, b"").build(), PassNotTunnel),
        pass("ICMP echo to the real server", FrameBuilder::icmp_echo_request(DIRECTOR_MAC, RS_MAC, DIRECTOR, RS, 1, 1, b"ping").build(), PassNotTunnel),
        pass("the SYN to the VIP, not tunnelled (DR)", syn().build(), PassNotLocal),
        pass("IPIP to an address that is not an endpoint", ipip_to(OTHER), PassNotLocal),
        pass("GRE to an address that is not an endpoint", gre_frame(OTHER, &gre_payload(0, ETH_P_IP, &inner)).build(), PassNotLocal),
        pass("GUE on another port", gue_frame(5000, &gue(0, 4, 0, &[])).build(), PassNotTunnel),
        pass("DNS to the real server", FrameBuilder::udp_v4(DIRECTOR_MAC, RS_MAC, DIRECTOR, RS, 5300, 53, b"query").build(), PassNotTunnel),
        // Outer IPv4 header.
        pass("outer IPv4 header cut short", syn().ipip(outer(RS)).truncate(14 + 12).build(), PassIpMalformed),
        pass("outer IHL < 5", syn().ipip(Ipv4Header { ihl: Some(4), ..outer(RS) }).build(), PassIpMalformed),
        pass("outer total length beyond the frame", syn().ipip(Ipv4Header { total_len: Some(1500), ..outer(RS) }).build(), PassIpMalformed),
        pass("outer total length shorter than its header", syn().ipip(Ipv4Header { total_len: Some(16), ..outer(RS) }).build(), PassIpMalformed),
        pass("outer version 6", syn().ipip(Ipv4Header { version: 6, ..outer(RS) }).build(), PassIpMalformed),
        pass("outer header checksum wrong", syn().ipip(Ipv4Header { checksum: Checksum::Bad, ..outer(RS) }).build(), PassIpChecksum),
        pass("outer first fragment", syn().ipip(Ipv4Header { more_frags: true, dont_frag: false, ..outer(RS) }).build(), PassFragment),
        pass("outer later fragment", syn().ipip(Ipv4Header { frag_offset: 100, dont_frag: false, ..outer(RS) }).build(), PassFragment),
        pass(
            "later fragment of UDP (no UDP header to read)",
            gue_frame(GUE_PORT, &gue(0, 4, 0, &[])).frag_offset(3).build(),
            PassFragment,
        ),
        // Inner packet.
        pass(
            "IPIP whose inner header is cut short",
            FrameBuilder::ipv4_raw(DIRECTOR_MAC, RS_MAC, DIRECTOR, RS, IpProtocol::IpIp, &inner[..12]).build(),
            PassInnerMalformed,
        ),
        pass("IPIP, inner total length beyond the tunnel", syn().ip_total_len(1000).ipip(outer(RS)).build(), PassInnerMalformed),
        pass("IPIP, inner total length shorter than its header", syn().ip_total_len(12).ipip(outer(RS)).build(), PassInnerMalformed),
        pass("IPIP, inner IHL < 5", syn().ihl(4).ipip(outer(RS)).build(), PassInnerMalformed),
        pass("IPIP, inner IHL past the packet", syn().ihl(15).ipip(outer(RS)).build(), PassInnerMalformed),
        pass("IPIP carrying IPv6 (not supported)", syn().ip_version(6).ipip(outer(RS)).build(), PassInnerMalformed),
        pass(
            "GRE whose inner header is cut short",
            gre_frame(RS, &gre_payload(0, ETH_P_IP, &inner[..16])).build(),
            PassInnerMalformed,
        ),
        pass(
            "GUE whose inner packet is longer than the UDP datagram",
            gue_frame(GUE_PORT, &gue(0, 4, 0, &[]))
                .l4_checksum(Checksum::Fixed(0))
                .truncate(14 + 20 + 8 + 4 + 30)
                .ip_total_len(20 + 8 + 4 + 30)
                .udp_len(8 + 4 + 30)
                .build(),
            PassInnerMalformed,
        ),
        // GRE.
        pass("GRE with a key", gre_frame(RS, &gre_payload(GRE_K, ETH_P_IP, &[&[0, 0, 0, 9][..], &inner].concat())).build(), PassGreUnsupported),
        pass("GRE with a sequence number", gre_frame(RS, &gre_payload(GRE_S, ETH_P_IP, &[&[0, 0, 0, 1][..], &inner].concat())).build(), PassGreUnsupported),
        pass("GRE with routing", gre_frame(RS, &gre_payload(0x4000, ETH_P_IP, &inner)).build(), PassGreUnsupported),
        pass("GRE version 1 (PPTP)", gre_frame(RS, &gre_payload(0x0001, ETH_P_IP, &inner)).build(), PassGreUnsupported),
        pass("GRE carrying IPv6", gre_frame(RS, &gre_payload(0, ETH_P_IPV6, &inner)).build(), PassGreUnsupported),
        pass("GRE carrying Ethernet (gretap)", gre_frame(RS, &gre_payload(0, 0x6558, &inner)).build(), PassGreUnsupported),
        pass("GRE header cut short", gre_frame(RS, &[0, 0]).build(), PassTunnelMalformed),
        pass("GRE with checksum flag but no room for it", gre_frame(RS, &[0x80, 0, 0x08, 0]).build(), PassTunnelMalformed),
        // GUE.
        pass(
            "UDP header cut short",
            FrameBuilder::ipv4_raw(DIRECTOR_MAC, RS_MAC, DIRECTOR, RS, IpProtocol::Udp, &[0xc7, 0x38, 0x17, 0xc0]).build(),
            PassTunnelMalformed,
        ),
        pass("UDP length beyond the packet", gue_frame(GUE_PORT, &gue(0, 4, 0, &[])).udp_len(400).build(), PassTunnelMalformed),
        pass("UDP length too short for GUE", gue_frame(GUE_PORT, &gue(0, 4, 0, &[])).udp_len(10).build(), PassTunnelMalformed),
        pass("GUE hlen beyond the datagram", gue_frame(GUE_PORT, &gue_payload(31, 4, 0, &[], &[0; 8])).build(), PassTunnelMalformed),
        pass("GUE private flags without room for them", gue_frame(GUE_PORT, &gue(0, 4, GUE_F_PRIV, &[])).build(), PassTunnelMalformed),
        pass(
            "GUE remote checksum offload without room for its fields",
            gue_frame(GUE_PORT, &gue(1, 4, GUE_F_PRIV, &GUE_PF_REMCSUM.to_be_bytes())).build(),
            PassTunnelMalformed,
        ),
        pass("GUE version 2", gue_frame(GUE_PORT, &[&[0x80u8, 4, 0, 0][..], &inner].concat()).build(), PassGueUnsupported),
        pass("GUE control message", gue_frame(GUE_PORT, &[&[0x20u8, 4, 0, 0][..], &inner].concat()).build(), PassGueUnsupported),
        pass("GUE carrying IPv6 (proto 41)", gue_frame(GUE_PORT, &gue(0, 41, 0, &[])).build(), PassGueUnsupported),
        pass("GUE with an unknown flag", gue_frame(GUE_PORT, &gue(1, 4, 0x0100, &[0; 4])).build(), PassGueUnsupported),
        pass("GUE with an unknown private flag", gue_frame(GUE_PORT, &gue(1, 4, GUE_F_PRIV, &[0, 0, 0, 1])).build(), PassGueUnsupported),
        pass(
            "GUE version 1 carrying IPv6",
            gue_frame(GUE_PORT, &[&[0x60u8, 0, 0, 0][..], &[0; 36]].concat()).build(),
            PassGueUnsupported,
        ),
        // Drops: corruption, and what the kernel's tunnels drop too.
        drop_("GRE checksum wrong", gre_frame(RS, &bad_gre_csum).build(), DropGreChecksum),
        drop_("GUE UDP checksum wrong", gue_frame(GUE_PORT, &gue(0, 4, 0, &[])).l4_checksum(Checksum::Bad).build(), DropUdpChecksum),
        drop_(
            "GUE remote checksum offset past the inner packet",
            gue_frame(GUE_PORT, &gue_payload(2, 4, GUE_F_PRIV, &remcsum_options(20, 4000), &inner_with_partial_checksum())).build(),
            DropRemcsum,
        ),
        drop_(
            "GUE remote checksum start after its offset",
            gue_frame(GUE_PORT, &gue_payload(2, 4, GUE_F_PRIV, &remcsum_options(38, 36), &inner_with_partial_checksum())).build(),
            DropRemcsum,
        ),
        drop_("IPIP, outer CE on a not-ECT inner packet (RFC 6040)", syn().ipip(Ipv4Header { tos: 0x03, ..outer(RS) }).build(), DropEcn),
    ]
}

#[test]
fn everything_else_is_passed_untouched_or_dropped_and_counted() {
    require_root!();
    let env = Loaded::new(&full_spec());
    for f in untouched_fixtures() {
        let (before, outcomes) = (env.stat(f.stat), env.outcomes());
        let (verdict, out) = env.run(&f.frame);
        assert_eq!(verdict, f.verdict, "{}: verdict", f.what);
        assert_eq!(out, f.frame, "{}: the frame must not change", f.what);
        assert_eq!(env.stat(f.stat), before + 1, "{}: counter {}", f.what, f.stat.name());
        assert_eq!(env.outcomes(), outcomes + 1, "{}: counted once", f.what);
    }
    for stat in [RvsDecapStat::DecapIpip, RvsDecapStat::DecapGre, RvsDecapStat::DecapGue] {
        assert_eq!(env.stat(stat), 0, "{} must not decapsulate anything here", stat.name());
    }
}

#[test]
fn disabled_encapsulations_and_removed_ports_are_left_to_the_kernel() {
    require_root!();
    let inner = inner_packet();
    let gre = gre_frame(RS, &gre_payload(0, ETH_P_IP, &inner)).build();
    let gue = gue_frame(GUE_PORT, &gue_payload(0, 4, 0, &[], &inner)).build();
    let ipip = ipip_to(RS);

    let mut env = Loaded::new(&DecapSpec { addrs: vec![RS], ipip: true, gre: false, gue_ports: vec![] });
    assert_eq!(env.run(&gre), (XDP_PASS, gre.clone()));
    assert_eq!(env.run(&gue), (XDP_PASS, gue.clone()));
    assert_eq!(env.stat(RvsDecapStat::PassNotTunnel), 2);
    assert_eq!(env.run(&ipip).1, syn().build());

    // Reconfigured live: GRE and GUE on, IPIP off, the endpoint moved.
    let spec = DecapSpec { addrs: vec![RS2, RS], ipip: false, gre: true, gue_ports: vec![GUE_PORT] };
    env.prog.as_mut().expect("loaded").configure(&spec).expect("configure");
    assert_eq!(env.run(&gre).1, syn().build());
    assert_eq!(env.run(&gue).1, syn().build());
    assert_eq!(env.run(&ipip), (XDP_PASS, ipip.clone()));
    assert_eq!(env.stat(RvsDecapStat::PassNotTunnel), 3);

    let spec = DecapSpec { addrs: vec![RS2], ipip: true, gre: true, gue_ports: vec![GUE_PORT2] };
    env.prog.as_mut().expect("loaded").configure(&spec).expect("configure");
    assert_eq!(env.run(&ipip), (XDP_PASS, ipip.clone()), "RS is no endpoint any more");
    assert_eq!(env.stat(RvsDecapStat::PassNotLocal), 1);
}

#[test]
fn the_verifier_accepts_the_program_within_a_modest_budget() {
    require_root!();
    let env = Loaded::new(&full_spec());
    let info = env.prog().program().expect("program").info().expect("info");
    let insns = info.verified_instruction_count().unwrap_or(0);
    eprintln!("rvs_decap: {insns} instructions verified");
    // The checksum loops are walked once per chunk count; a regression to per-packet-pointer
    // states would blow far past this.
    assert!(insns < 50_000, "{insns} instructions verified");
}

// ---- round trip with the director's encapsulation ----------------------------------------------

/// Whatever the director's TUN forwarding sends, decapsulation turns back into the client's IP
/// packet, byte for byte, behind the director's Ethernet header: the two programs agree on every
/// layout and checksum, GUE port and flag.
#[test]
fn the_directors_tunnels_come_back_out_as_the_clients_packets() {
    use common::{CLIENT_MAC, D_WS1, D_WS2, DIRECTOR_MAC as DIR_MAC, Env, SVC_TCP, XDP_TX};
    use rvs_dataplane::{
        abi::{RVS_FWD_TUNNEL, RVS_TUN_F_CSUM, RVS_TUN_F_REMCSUM, RVS_TUN_GRE, RVS_TUN_GUE, RVS_TUN_IPIP},
        program::{DestSpec, TunnelSpec},
    };
    require_root!();
    let (rs1, rs2) = (Ipv4Addr::new(10, 20, 0, 11), Ipv4Addr::new(10, 20, 0, 22));
    let decap = Loaded::new(&DecapSpec { addrs: vec![rs1, rs2], ipip: true, gre: true, gue_ports: vec![GUE_PORT] });
    let tunnels = [
        (RVS_TUN_IPIP, 0, 0),
        (RVS_TUN_GRE, 0, 0),
        (RVS_TUN_GRE, 0, RVS_TUN_F_CSUM),
        (RVS_TUN_GUE, GUE_PORT, 0),
        (RVS_TUN_GUE, GUE_PORT, RVS_TUN_F_CSUM),
        (RVS_TUN_GUE, GUE_PORT, RVS_TUN_F_REMCSUM),
    ];
    let mut sport = 45000u16;
    for (kind, port, flags) in tunnels {
        let env = Env::dr_cluster();
        for (slot, addr, neigh) in [(D_WS2, rs2, 2), (D_WS1, rs1, 1)] {
            let tunnel = TunnelSpec { kind, port, flags };
            let spec = DestSpec { addr, port: 80, fwd: RVS_FWD_TUNNEL, weight: 1, overloaded: false, svc: SVC_TCP, neigh, tunnel, thresholds: Default::default() };
            env.prog.install_dest(env.dp(), slot, &spec).expect("tunnel dest");
        }
        for payload in [&b""[..], b"GET / HTTP/1.0\r\n\r\n", &[0xa5; 999][..]] {
            sport += 1;
            let input = FrameBuilder::tcp_v4(CLIENT_MAC, DIR_MAC, CLIENT, common::VIP, sport, 80, TcpFlags::SYN, payload)
                .tos(0x12)
                .build();
            let (verdict, tunnelled) = env.run(&input);
            assert_eq!(verdict, XDP_TX, "tunnel {kind}/{flags}: the director forwards");
            let (verdict, out) = decap.run(&tunnelled);
            let what = format!("tunnel {kind} flags {flags}, {} bytes of payload", payload.len());
            assert_eq!(verdict, XDP_PASS, "{what}");
            assert_eq!(out[..14], tunnelled[..14], "{what}: the Ethernet header is the director's");
            assert_eq!(out[14..], input[14..], "{what}: the client's packet, unchanged");
        }
    }
    let decapsulated: u64 = [RvsDecapStat::DecapIpip, RvsDecapStat::DecapGre, RvsDecapStat::DecapGue].iter().map(|&s| decap.stat(s)).sum();
    assert_eq!(decapsulated, 18);
}

// ---- the pinned install on a veth pair --------------------------------------------------------

const A_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0x77, 0, 0x0a]);
const B_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0x77, 0, 0x0b]);
/// The sender (director and client at once): its packets are tunnelled to B.
const A_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// The real server's own address: the tunnel endpoint.
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// The virtual address, on B's `lo`.
const B_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const SERVICE_PORT: u16 = 7000;
const CLIENT_PORT: u16 = 40000;

fn sh(cmd: &str) {
    let out = Command::new("sh").arg("-c").arg(cmd).output().expect("sh");
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
}

fn sh_out(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().expect("sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Namespaces `a` and `b` joined by a veth pair (`eth0` on both sides), the VIP on b's `lo`, and
/// an install directory; everything is removed on drop, also when a test fails half-way.
struct Pair {
    a: String,
    b: String,
    dir: PathBuf,
}

impl Pair {
    fn new(tag: &str) -> Pair {
        let id = format!("{}-{tag}", std::process::id());
        let pair = Pair { a: format!("rvsdc-a-{id}"), b: format!("rvsdc-b-{id}"), dir: unique_pin_dir(tag) };
        let (a, b) = (&pair.a, &pair.b);
        sh(&format!("ip netns add {a} && ip netns add {b}"));
        sh(&format!("ip -n {a} link add eth0 type veth peer name eth0 netns {b}"));
        sh(&format!("ip -n {a} link set eth0 address {} && ip -n {b} link set eth0 address {}", mac(A_MAC), mac(B_MAC)));
        sh(&format!("ip -n {a} addr add {A_IP}/24 dev eth0 && ip -n {a} link set eth0 up && ip -n {a} link set lo up"));
        sh(&format!("ip -n {b} addr add {B_IP}/24 dev eth0 && ip -n {b} link set eth0 up && ip -n {b} link set lo up"));
        sh(&format!("ip -n {b} addr add {B_VIP}/32 dev lo"));
        pair
    }

    /// `ip link show eth0` in b.
    fn b_link(&self) -> String {
        sh_out(&format!("ip -n {} link show dev eth0", self.b))
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        if let Err(e) = decap::remove_pinned(&self.dir) {
            eprintln!("cleanup of {}: {e}", self.dir.display());
        }
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn mac(m: EthernetAddress) -> String {
    m.0.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Runs `f` on a thread that has entered network namespace `ns` (only that: the BPF filesystem
/// stays the host's, as when the lab starts a program with the network namespace switched).
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(format!("/run/netns/{ns}")).expect("netns file");
            // SAFETY: setns on a valid namespace descriptor, for this thread only.
            assert_eq!(unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) }, 0, "setns {ns}");
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// A's raw Ethernet socket on its `eth0`, for sending frames built here.
struct Wire {
    fd: OwnedFd,
    ifindex: i32,
}

impl Wire {
    fn open() -> Wire {
        // SAFETY: plain socket(2); protocol 0 means the socket only sends.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0, "AF_PACKET socket: {}", io::Error::last_os_error());
        // SAFETY: a new descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: a valid NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(c"eth0".as_ptr()) } as i32;
        assert!(ifindex > 0);
        Wire { fd, ifindex }
    }

    fn send(&self, frame: &[u8]) {
        // SAFETY: a zeroed sockaddr_ll is valid; the fields that matter are set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = 0x0800u16.to_be();
        sll.sll_ifindex = self.ifindex;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&frame[..6]);
        // SAFETY: the buffer and address are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(n, frame.len() as isize, "sendto: {}", io::Error::last_os_error());
    }
}

/// The sockets of one exchange: A's raw wire and UDP client, B's UDP service on the VIP.
struct Ends {
    wire: Wire,
    client: UdpSocket,
    server: UdpSocket,
}

impl Ends {
    fn open(pair: &Pair) -> Ends {
        let (wire, client) = in_netns(&pair.a, || {
            let client = UdpSocket::bind((A_IP, CLIENT_PORT)).expect("client socket");
            client.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
            (Wire::open(), client)
        });
        let server = in_netns(&pair.b, || UdpSocket::bind((B_VIP, SERVICE_PORT)).expect("server socket on the VIP"));
        Ends { wire, client, server }
    }

    /// Sends `frame` (a tunnelled datagram carrying `payload` from A to the VIP) and tells whether
    /// B's kernel received it; when it did, B answers from the VIP straight to A and A must get it.
    fn exchange(&self, frame: &[u8], payload: &[u8], wait: Duration) -> bool {
        self.server.set_read_timeout(Some(wait)).expect("timeout");
        self.wire.send(frame);
        let mut buf = [0u8; 2048];
        let (n, from) = match self.server.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return false,
            Err(e) => panic!("recv on the VIP: {e}"),
        };
        assert_eq!(&buf[..n], payload, "what B received");
        assert_eq!(from, SocketAddr::from((A_IP, CLIENT_PORT)), "the inner source");
        self.server.send_to(b"pong", from).expect("reply");
        let (n, from) = self.client.recv_from(&mut buf).expect("A gets B's answer");
        assert_eq!((&buf[..n], from), (&b"pong"[..], SocketAddr::from((B_VIP, SERVICE_PORT))), "the answer comes from the VIP");
        true
    }
}

fn datagram(payload: &[u8]) -> FrameBuilder<Ipv4<rvs_wire::builder::Udp>> {
    FrameBuilder::udp_v4(A_MAC, B_MAC, A_IP, B_VIP, CLIENT_PORT, SERVICE_PORT, payload)
}

fn ipip_datagram(payload: &[u8]) -> Vec<u8> {
    datagram(payload).ipip(Ipv4Header::new(A_IP, B_IP)).build()
}

fn gre_datagram(payload: &[u8]) -> Vec<u8> {
    let gre = gre_payload(GRE_C, ETH_P_IP, &datagram(payload).ip_packet());
    FrameBuilder::ipv4_raw(A_MAC, B_MAC, A_IP, B_IP, IpProtocol::Gre, &gre).build()
}

fn gue_datagram(port: u16, payload: &[u8]) -> Vec<u8> {
    let gue = gue_payload(0, 4, 0, &[], &datagram(payload).ip_packet());
    FrameBuilder::udp_v4(A_MAC, B_MAC, A_IP, B_IP, 51000, port, &gue).build()
}

const QUICK: Duration = Duration::from_millis(300);
const PATIENT: Duration = Duration::from_secs(3);

fn install_in(pair: &Pair, mode: AttachMode, spec: &DecapSpec) -> Result<decap::DecapInstall, DataplaneError> {
    in_netns(&pair.b, || decap::install_pinned("eth0", mode, &pair.dir, spec))
}

#[test]
fn the_install_outlives_its_installer_serves_is_replaced_and_leaves_nothing() {
    require_root!();
    let pair = Pair::new("life");
    let ends = Ends::open(&pair);
    let spec = DecapSpec { addrs: vec![B_IP], ipip: true, gre: true, gue_ports: vec![GUE_PORT] };

    // Without decapsulation this kernel has nothing to deliver to the VIP.
    assert!(!ends.exchange(&ipip_datagram(b"before"), b"before", QUICK), "delivered without decap");

    // Installed from a thread that then ends: no handle of the program is left in this process.
    let first = install_in(&pair, AttachMode::Generic, &spec).unwrap_or_else(|e| panic!("install: {e}"));
    assert_eq!((first.mode, first.replaced, first.interface.as_str()), (AttachMode::Generic, Replaced::Nothing, "eth0"));
    let link = pair.b_link();
    assert!(link.contains("xdpgeneric") && link.contains(&format!("prog/xdp id {}", first.program_id)), "{link}");

    assert!(ends.exchange(&ipip_datagram(b"over ipip"), b"over ipip", PATIENT), "IPIP");
    assert!(ends.exchange(&gre_datagram(b"over gre"), b"over gre", PATIENT), "GRE with checksum");
    assert!(ends.exchange(&gue_datagram(GUE_PORT, b"over gue"), b"over gue", PATIENT), "GUE with checksum");

    let status = decap::status_pinned(&pair.dir).expect("status").expect("installed");
    assert_eq!((status.interface.as_str(), status.ifindex, status.mode), ("eth0", first.ifindex, Some(AttachMode::Generic)));
    assert_eq!(status.spec, spec);
    assert_eq!(status.link, LinkState::Attached { link_id: first.link_id, program_id: first.program_id });
    for stat in [RvsDecapStat::DecapIpip, RvsDecapStat::DecapGre, RvsDecapStat::DecapGue] {
        assert_eq!(status.counters.get(stat), 1, "{}", stat.name());
    }
    assert!(status.counters.get(RvsDecapStat::RxFrames) >= 3);

    // Installing again in place: the maps are rewritten, the program swapped on the same link.
    let spec2 = DecapSpec { addrs: vec![B_IP], ipip: true, gre: false, gue_ports: vec![GUE_PORT2] };
    let second = install_in(&pair, AttachMode::Auto, &spec2).unwrap_or_else(|e| panic!("reinstall: {e}"));
    assert_eq!((second.replaced, second.mode, second.link_id), (Replaced::InPlace, AttachMode::Generic, first.link_id));
    assert_ne!(second.program_id, first.program_id);
    assert!(!ends.exchange(&gue_datagram(GUE_PORT, b"old port"), b"old port", QUICK), "the old GUE port is off");
    assert!(!ends.exchange(&gre_datagram(b"gre off"), b"gre off", QUICK), "GRE is off");
    assert!(ends.exchange(&gue_datagram(GUE_PORT2, b"new port"), b"new port", PATIENT), "the new GUE port");
    assert!(ends.exchange(&ipip_datagram(b"still ipip"), b"still ipip", PATIENT), "IPIP still");
    let status = decap::status_pinned(&pair.dir).expect("status").expect("installed");
    assert_eq!(status.spec, spec2);
    assert_eq!(status.counters.get(RvsDecapStat::DecapIpip), 2, "counters survive an in-place replacement");

    // Another mode: the old link is detached first, a new one attached.
    let third = install_in(&pair, AttachMode::Native, &spec2).unwrap_or_else(|e| panic!("native install: {e}"));
    assert_eq!((third.replaced, third.mode), (Replaced::Reattached, AttachMode::Native));
    assert_ne!(third.link_id, first.link_id);
    let link = pair.b_link();
    assert!(!link.contains("xdpgeneric") && link.contains(&format!("prog/xdp id {}", third.program_id)), "{link}");
    assert!(ends.exchange(&ipip_datagram(b"native"), b"native", PATIENT), "IPIP in native mode");

    // Removal: detached at once, every pin gone, and nothing is decapsulated any more.
    assert!(decap::remove_pinned(&pair.dir).expect("remove"));
    let link = pair.b_link();
    assert!(!link.contains("prog/xdp") && !link.contains("xdp"), "{link}");
    assert!(!pair.dir.exists(), "{} left behind", pair.dir.display());
    assert!(!ends.exchange(&ipip_datagram(b"after"), b"after", QUICK), "delivered after removal");
    assert!(!decap::remove_pinned(&pair.dir).expect("remove again"));
    assert_eq!(decap::status_pinned(&pair.dir).expect("status"), None);
}

#[test]
fn a_vanished_interface_is_reported_defunct_and_bad_installs_leave_nothing() {
    require_root!();
    let pair = Pair::new("gone");
    let spec = DecapSpec { addrs: vec![B_IP], ipip: true, gre: false, gue_ports: vec![] };

    let err = install_in(&pair, AttachMode::Generic, &spec).err().map(|_| ());
    assert_eq!(err, None);
    sh(&format!("ip -n {} link del eth0", pair.b));
    let status = decap::status_pinned(&pair.dir).expect("status").expect("installed");
    assert!(matches!(status.link, LinkState::Defunct { .. }), "{:?}", status.link);
    assert!(!status.attached());
    assert!(decap::remove_pinned(&pair.dir).expect("remove"));
    assert!(!pair.dir.exists());

    // A missing interface fails before anything is created.
    let missing = install_in(&pair, AttachMode::Generic, &spec);
    assert!(matches!(missing, Err(DataplaneError::NoSuchInterface(_))), "{missing:?}", missing = missing.err());
    assert!(!pair.dir.exists());
    // So does a directory that is on no BPF filesystem.
    let off_bpffs = in_netns(&pair.b, || decap::install_pinned("lo", AttachMode::Generic, Path::new("/tmp/rvs-decap-not-bpffs"), &spec));
    assert!(matches!(off_bpffs, Err(DataplaneError::Bpffs { .. })));
    assert!(!Path::new("/tmp/rvs-decap-not-bpffs").exists());
}
