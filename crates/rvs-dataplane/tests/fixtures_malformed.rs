//! Frames that are not for a virtual service, or that cannot be handled safely, through the real
//! director program (BPF_PROG_TEST_RUN): each must be passed or dropped, counted under its own
//! name, and never rewritten.

mod common;

use common::*;
use rvs_dataplane::abi::RvsStat;
use rvs_wire::{
    builder::FrameBuilder,
    ethernet::{EtherType, EthernetAddress},
    ip::IpProtocol,
    ipv6::Ipv6Address,
    tcp::TcpFlags,
};

struct Fixture {
    what: &'static str,
    frame: Vec<u8>,
    verdict: u32,
    stat: RvsStat,
}

fn syn_to(dst: std::net::Ipv4Addr, port: u16) -> FrameBuilder<rvs_wire::builder::Ipv4<rvs_wire::builder::Tcp>> {
    FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, dst, 40000, port, TcpFlags::SYN, b"")
}

fn fixtures() -> Vec<Fixture> {
    let other = std::net::Ipv4Addr::new(192, 168, 0, 200);
    vec![
        // A frame shorter than an Ethernet header (RvsStat::PassShortEth) cannot be fed here: the
        // kernel refuses such test runs with EINVAL, as drivers never deliver them.
        Fixture {
            what: "ARP request for the VIP (the director's kernel answers it)",
            frame: FrameBuilder::arp_request(CLIENT_MAC, CLIENT, VIP).build(),
            verdict: XDP_PASS,
            stat: RvsStat::PassNotIpv4,
        },
        Fixture {
            what: "IPv6",
            frame: FrameBuilder::ipv6_raw(CLIENT_MAC, DIRECTOR_MAC, Ipv6Address::LOCALHOST, Ipv6Address::LOCALHOST, IpProtocol::Udp, &[0; 8]).build(),
            verdict: XDP_PASS,
            stat: RvsStat::PassNotIpv4,
        },
        Fixture {
            what: "VLAN-tagged frame",
            frame: syn_to(VIP, 80).vlan(7).build(),
            verdict: XDP_PASS,
            stat: RvsStat::PassNotIpv4,
        },
        Fixture {
            what: "IPv4 header cut short",
            frame: syn_to(VIP, 80).truncate(14 + 12).build(),
            verdict: XDP_PASS,
            stat: RvsStat::PassIpMalformed,
        },
        Fixture { what: "IHL < 5", frame: syn_to(VIP, 80).ihl(4).build(), verdict: XDP_PASS, stat: RvsStat::PassIpMalformed },
        Fixture { what: "IHL past the end of the frame", frame: syn_to(VIP, 80).ihl(15).truncate(14 + 40).build(), verdict: XDP_PASS, stat: RvsStat::PassIpMalformed },
        Fixture { what: "total length beyond the frame", frame: syn_to(VIP, 80).ip_total_len(1500).build(), verdict: XDP_PASS, stat: RvsStat::PassIpMalformed },
        Fixture { what: "total length shorter than the header", frame: syn_to(VIP, 80).ip_total_len(16).build(), verdict: XDP_PASS, stat: RvsStat::PassIpMalformed },
        Fixture { what: "IP version 6 in an IPv4 ethertype", frame: syn_to(VIP, 80).ip_version(6).build(), verdict: XDP_PASS, stat: RvsStat::PassIpMalformed },
        Fixture {
            what: "ICMP echo to the VIP (the director answers pings itself, as with IPVS)",
            frame: FrameBuilder::icmp_echo_request(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 1, 1, b"ping").build(),
            verdict: XDP_PASS,
            stat: RvsStat::PassNotTcpUdp,
        },
        Fixture { what: "TCP to a port of the VIP with no service (ssh)", frame: syn_to(VIP, 22).build(), verdict: XDP_PASS, stat: RvsStat::PassNotService },
        Fixture { what: "TCP to another address", frame: syn_to(other, 80).build(), verdict: XDP_PASS, stat: RvsStat::PassNotService },
        Fixture { what: "IP options, to the VIP", frame: syn_to(VIP, 80).ip_options(&[1, 1, 1, 0]).build(), verdict: XDP_DROP, stat: RvsStat::DropIpOptions },
        Fixture { what: "IP options, elsewhere", frame: syn_to(other, 80).ip_options(&[1, 1, 1, 0]).build(), verdict: XDP_PASS, stat: RvsStat::PassNotService },
        Fixture { what: "first fragment to the VIP", frame: syn_to(VIP, 80).more_frags(true).build(), verdict: XDP_DROP, stat: RvsStat::DropFragment },
        Fixture { what: "later fragment to the VIP", frame: syn_to(VIP, 80).frag_offset(100).build(), verdict: XDP_DROP, stat: RvsStat::DropFragment },
        Fixture { what: "fragment elsewhere", frame: syn_to(other, 80).more_frags(true).build(), verdict: XDP_PASS, stat: RvsStat::PassFragment },
        Fixture {
            what: "TCP header cut short, to the VIP",
            frame: syn_to(VIP, 80).truncate(14 + 20 + 10).with_ip(|h| h.total_len = Some(30)).build(),
            verdict: XDP_DROP,
            stat: RvsStat::DropL4Malformed,
        },
        Fixture { what: "TCP data offset < 5, to the VIP", frame: syn_to(VIP, 80).data_offset(4).build(), verdict: XDP_DROP, stat: RvsStat::DropL4Malformed },
        Fixture { what: "TCP data offset past the packet, to the VIP", frame: syn_to(VIP, 80).data_offset(15).build(), verdict: XDP_DROP, stat: RvsStat::DropL4Malformed },
        Fixture { what: "TCP data offset < 5, elsewhere", frame: syn_to(other, 80).data_offset(4).build(), verdict: XDP_PASS, stat: RvsStat::PassL4Malformed },
        Fixture {
            what: "UDP length larger than the packet, to the VIP",
            frame: FrameBuilder::udp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 5000, 53, b"query").udp_len(400).build(),
            verdict: XDP_DROP,
            stat: RvsStat::DropL4Malformed,
        },
        Fixture {
            what: "TCP without SYN and without a connection, to a service",
            frame: FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, 40001, 80, TcpFlags::ACK, b"").build(),
            verdict: XDP_DROP,
            stat: RvsStat::DropTcpNoConn,
        },
        Fixture {
            what: "unknown ethertype",
            frame: FrameBuilder::ethernet(CLIENT_MAC, EthernetAddress::BROADCAST, EtherType::Unknown(0x88b5), &[0; 46]).build(),
            verdict: XDP_PASS,
            stat: RvsStat::PassNotIpv4,
        },
    ]
}

#[test]
fn each_fixture_has_its_verdict_and_counter_and_leaves_the_frame_untouched() {
    require_root!();
    let env = Env::dr_cluster();
    for f in fixtures() {
        let before = env.stat(f.stat);
        let created = env.stat(RvsStat::ConnCreated);
        let (verdict, out) = env.run(&f.frame);
        assert_eq!(verdict, f.verdict, "{}: verdict", f.what);
        assert_eq!(out, f.frame, "{}: frame must not be rewritten", f.what);
        assert_eq!(env.stat(f.stat), before + 1, "{}: counter {}", f.what, f.stat.name());
        assert_eq!(env.stat(RvsStat::ConnCreated), created, "{}: no connection entry", f.what);
    }
    // Every frame was counted as received exactly once.
    assert_eq!(env.stat(RvsStat::RxFrames), fixtures().len() as u64);
}
