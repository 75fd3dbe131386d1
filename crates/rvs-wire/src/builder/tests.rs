//! Builder tests: every constructor against a real captured frame, then each option checked
//! through the views (which are themselves tested against the captures).

use super::*;
use crate::ethernet::Frame;
use crate::icmpv4::{DstUnreachable, Repr as IcmpRepr, TimeExceeded};
use crate::test_captures as cap;
use crate::{Error, Ipv4Packet, TcpPacket, UdpPacket, ipv4, tcp};

const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0a]);
const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0b]);
const MAC_R: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x01]);
const IP_A: Ipv4Address = Ipv4Address::new(10, 99, 0, 1);
const IP_B: Ipv4Address = Ipv4Address::new(10, 99, 0, 2);
const HOST: Ipv4Address = Ipv4Address::new(10, 99, 1, 10);
const ROUTER: Ipv4Address = Ipv4Address::new(10, 99, 1, 1);
const FAR: Ipv4Address = Ipv4Address::new(10, 99, 2, 10);

fn syn() -> FrameBuilder<Ipv4<Tcp>> {
    FrameBuilder::tcp_v4(MAC_A, MAC_B, IP_A, IP_B, 40000, 8080, TcpFlags::SYN, b"")
}

fn hello() -> FrameBuilder<Ipv4<Udp>> {
    FrameBuilder::udp_v4(MAC_A, MAC_B, IP_A, IP_B, 40001, 5353, b"hello")
}

/// The IPv4 view of a frame's payload.
fn ip_of(frame: &[u8]) -> Result<Ipv4Packet<&[u8]>, Error> {
    Ipv4Packet::new_checked(Frame::new_checked(frame)?.payload())
}

// --- constructors against captures -------------------------------------------------------

#[test]
fn tcp_syn_matches_capture() {
    let built = syn()
        .seq(1016067029)
        .window(64240)
        .tcp_options(&cap::TCP_SYN[54..])
        .ident(0xece9)
        .dont_frag(true);
    assert_eq!(built.build(), cap::TCP_SYN);
}

#[test]
fn tcp_rst_ack_matches_capture() {
    let built = FrameBuilder::tcp_v4(
        MAC_B,
        MAC_A,
        IP_B,
        IP_A,
        8080,
        40000,
        TcpFlags::RST | TcpFlags::ACK,
        b"",
    )
    .ack(1016067030)
    .window(0)
    .dont_frag(true);
    assert_eq!(built.build(), cap::TCP_RST_ACK);
}

#[test]
fn udp_matches_capture() {
    assert_eq!(
        hello().ident(0xf315).dont_frag(true).build(),
        cap::UDP_HELLO
    );
}

#[test]
fn echo_request_and_reply_match_captures() {
    let request = FrameBuilder::icmp_echo_request(MAC_A, MAC_B, IP_A, IP_B, 0x1234, 1, b"ABCDEFGH")
        .ident(0x2a80)
        .dont_frag(true);
    assert_eq!(request.build(), cap::ECHO_REQUEST);
    let reply = IcmpRepr::EchoReply {
        ident: 0x1234,
        seq_no: 1,
        data: b"ABCDEFGH",
    };
    assert_eq!(
        FrameBuilder::icmp_v4(MAC_B, MAC_A, IP_B, IP_A, reply)
            .ident(0xa1c6)
            .build(),
        cap::ECHO_REPLY
    );
}

#[test]
fn port_unreachable_matches_capture() {
    let quoted = hello().ident(0xf315).dont_frag(true).ip_packet();
    let message = IcmpRepr::DstUnreachable {
        reason: DstUnreachable::PortUnreachable,
        next_hop_mtu: 0,
        quoted: &quoted,
    };
    let built = FrameBuilder::icmp_v4(MAC_B, MAC_A, IP_B, IP_A, message)
        .tos(0xc0)
        .ident(0xa1c7);
    assert_eq!(built.build(), cap::PORT_UNREACHABLE);
}

#[test]
fn big_udp_and_frag_needed_match_captures() {
    let big =
        FrameBuilder::udp_v4(MAC_A, MAC_R, HOST, FAR, 40002, 9999, &[b'x'; 1200]).dont_frag(true);
    assert_eq!(big.build(), cap::udp_big());
    let quoted = big.ip_packet();
    let frag_needed =
        FrameBuilder::icmp_frag_needed(MAC_R, MAC_A, ROUTER, HOST, 1000, &quoted[..548])
            .tos(0xc0)
            .ident(0xb0ee);
    assert_eq!(frag_needed.build(), cap::frag_needed());
}

#[test]
fn ttl_one_and_time_exceeded_match_captures() {
    let udp = FrameBuilder::udp_v4(MAC_A, MAC_R, HOST, FAR, 40003, 9999, b"ttl")
        .ttl(1)
        .ident(0x1866)
        .dont_frag(true);
    assert_eq!(udp.build(), cap::UDP_TTL1);
    let quoted = udp.ip_packet();
    let message = IcmpRepr::TimeExceeded {
        reason: TimeExceeded::TtlExpired,
        quoted: &quoted,
    };
    let built = FrameBuilder::icmp_v4(MAC_R, MAC_A, ROUTER, HOST, message)
        .tos(0xc0)
        .ident(0xb114);
    assert_eq!(built.build(), cap::TIME_EXCEEDED);
}

#[test]
fn arp_request_and_reply_match_captures() {
    assert_eq!(
        FrameBuilder::arp_request(MAC_A, IP_A, IP_B).build(),
        cap::ARP_REQUEST
    );
    assert_eq!(
        FrameBuilder::arp_reply(MAC_B, IP_B, MAC_A, IP_A).build(),
        cap::ARP_REPLY
    );
}

#[test]
fn ipv6_matches_capture() {
    let built = FrameBuilder::ipv6_raw(
        MAC_A,
        EthernetAddress([0x33, 0x33, 0, 0, 0, 2]),
        Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0a),
        Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 2),
        IpProtocol::Icmpv6,
        &cap::ROUTER_SOLICIT[54..],
    )
    .hop_limit(255);
    assert_eq!(built.build(), cap::ROUTER_SOLICIT);
}

// --- options, checked through the views --------------------------------------------------

#[test]
fn gratuitous_arp_is_broadcast_and_padded_on_request() -> Result<(), Error> {
    let frame = FrameBuilder::gratuitous_arp(MAC_A, IP_A).pad_to(60).build();
    assert_eq!(frame.len(), 60);
    assert!(frame[42..].iter().all(|&b| b == 0));
    let eth = Frame::new_checked(&frame[..])?;
    assert_eq!(
        (eth.dst_addr(), eth.ethertype()),
        (EthernetAddress::BROADCAST, EtherType::Arp)
    );
    let repr = arp::Repr::parse(&arp::Packet::new_checked(eth.payload())?)?;
    assert!(repr.is_gratuitous());
    assert_eq!(repr.target_hardware_addr, EthernetAddress::BROADCAST);
    Ok(())
}

#[test]
fn ip_options_are_padded_and_checksums_stay_right() -> Result<(), Error> {
    let frame = syn().ip_options(&[0x94, 0x04]).build();
    let ip = ip_of(&frame)?;
    assert_eq!((ip.ihl(), ip.options()), (6, &[0x94, 0x04, 0, 0][..]));
    let ip_repr = ipv4::Repr::parse(&ip)?;
    tcp::Repr::parse(
        &TcpPacket::new_checked(ip.payload())?,
        ip_repr.src_addr,
        ip_repr.dst_addr,
    )?;
    Ok(())
}

#[test]
fn header_length_overrides_make_malformed_or_truncated_packets() -> Result<(), Error> {
    let short_ihl = syn().ihl(4).build();
    assert_eq!(ip_of(&short_ihl).err(), Some(Error::Malformed));
    let long_ihl = syn().ihl(15).build();
    assert_eq!(ip_of(&long_ihl).err(), Some(Error::Truncated));
    let frame = syn().data_offset(4).build();
    assert_eq!(
        TcpPacket::new_checked(ip_of(&frame)?.payload()).err(),
        Some(Error::Malformed)
    );
    // An IHL claiming options that are really TCP bytes: the checksum covers what IHL claims.
    let frame = syn().ihl(6).build();
    let ip = ip_of(&frame)?;
    assert!(ip.verify_checksum());
    assert_eq!(ip.options(), &frame[34..38]);
    Ok(())
}

#[test]
fn total_length_override() -> Result<(), Error> {
    let long = hello().ip_total_len(1000).build();
    assert_eq!(ip_of(&long).err(), Some(Error::Truncated));
    assert!(Ipv4Packet::new_unchecked(&long[14..]).verify_checksum());
    let short = hello().ip_total_len(30).build();
    let ip = ip_of(&short)?;
    assert_eq!(ip.payload(), &short[34..44]);
    assert_eq!(
        UdpPacket::new_checked(ip.payload()).err(),
        Some(Error::Truncated)
    );
    Ok(())
}

#[test]
fn fragment_fields() -> Result<(), Error> {
    let first = syn().more_frags(true).ident(77).build();
    let ip = ip_of(&first)?;
    assert!(ip.more_frags() && ip.is_fragment() && ip.verify_checksum());
    assert_eq!(ip.ports(), Some((40000, 8080)));
    let later = FrameBuilder::ipv4_raw(
        MAC_A,
        MAC_B,
        IP_A,
        IP_B,
        IpProtocol::Tcp,
        b"rest of the segment",
    )
    .frag_offset(185)
    .reserved_flag(true)
    .build();
    let ip = ip_of(&later)?;
    assert_eq!(ip.frag_offset().octets(), 1480);
    assert!(!ip.more_frags() && ip.reserved_flag() && ip.verify_checksum());
    assert_eq!(ip.ports(), None);
    Ok(())
}

#[test]
fn header_fields_and_overrides() -> Result<(), Error> {
    let frame = hello()
        .ttl(3)
        .tos(0xb8)
        .ip_protocol(IpProtocol::Unknown(253))
        .ip_version(4)
        .build();
    let ip = ip_of(&frame)?;
    assert_eq!(
        (ip.ttl(), ip.dscp(), ip.protocol()),
        (3, 46, IpProtocol::Unknown(253))
    );
    assert!(ip.verify_checksum());
    let v6 = hello().ip_version(6).build();
    assert_eq!(ip_of(&v6).err(), Some(Error::Malformed));
    Ok(())
}

#[test]
fn ip_checksum_modes() -> Result<(), Error> {
    let bad = hello().ip_checksum(Checksum::Bad).build();
    let ip = ip_of(&bad)?;
    assert!(!ip.verify_checksum());
    assert_eq!(ipv4::Repr::parse(&ip), Err(Error::Checksum));
    let fixed = hello().ip_checksum(Checksum::Fixed(0x1234)).build();
    assert_eq!(ip_of(&fixed)?.checksum(), 0x1234);
    Ok(())
}

#[test]
fn tcp_checksum_modes() -> Result<(), Error> {
    let frame = syn().l4_checksum(Checksum::Bad).build();
    let ip = ip_of(&frame)?;
    assert!(ip.verify_checksum());
    assert!(!TcpPacket::new_checked(ip.payload())?.verify_checksum(IP_A, IP_B));
    let frame = syn().l4_checksum(Checksum::Fixed(7)).build();
    assert_eq!(
        TcpPacket::new_checked(ip_of(&frame)?.payload())?.checksum(),
        7
    );
    Ok(())
}

#[test]
fn udp_checksum_modes() -> Result<(), Error> {
    let none = hello().l4_checksum(Checksum::Fixed(0)).build();
    let udp = UdpPacket::new_checked(ip_of(&none)?.payload())?;
    assert!(!udp.has_checksum() && udp.verify_checksum(IP_A, IP_B));
    // A bad UDP checksum is never the "no checksum" zero, whatever the right one is.
    for port in 0..3000u16 {
        let frame = hello().src_port(port).l4_checksum(Checksum::Bad).build();
        let udp = UdpPacket::new_checked(ip_of(&frame)?.payload())?;
        assert!(
            udp.has_checksum() && !udp.verify_checksum(IP_A, IP_B),
            "port {port}"
        );
    }
    Ok(())
}

#[test]
fn udp_length_override() -> Result<(), Error> {
    let frame = hello().udp_len(7).build();
    assert_eq!(
        UdpPacket::new_checked(ip_of(&frame)?.payload()).err(),
        Some(Error::Malformed)
    );
    // A shorter length is valid UDP; the checksum covers what the length claims.
    let frame = hello().udp_len(10).build();
    let udp = UdpPacket::new_checked(ip_of(&frame)?.payload())?;
    assert_eq!(udp.payload(), b"he");
    assert!(udp.verify_checksum(IP_A, IP_B));
    Ok(())
}

#[test]
fn icmp_checksum_modes() -> Result<(), Error> {
    let frame = FrameBuilder::icmp_echo_request(MAC_A, MAC_B, IP_A, IP_B, 1, 2, b"x")
        .l4_checksum(Checksum::Bad)
        .build();
    let icmp = icmpv4::Packet::new_checked(ip_of(&frame)?.payload())?;
    assert_eq!(IcmpRepr::parse(&icmp), Err(Error::Checksum));
    Ok(())
}

#[test]
fn truncation_cuts_the_finished_frame() {
    let full = syn().tcp_options(&cap::TCP_SYN[54..]).build();
    for len in [0, 13, 14, 33, 34, 53, 60] {
        let cut = syn().tcp_options(&cap::TCP_SYN[54..]).truncate(len).build();
        assert_eq!(cut, full[..len]);
    }
    assert_eq!(syn().truncate(1000).build(), syn().build());
}

#[test]
fn vlan_tag_is_inserted_before_the_ethertype() -> Result<(), Error> {
    let plain = hello().build();
    let tagged = hello().vlan(0x2064).build();
    assert_eq!(tagged.len(), plain.len() + 4);
    assert_eq!(tagged[12..18], [0x81, 0x00, 0x20, 0x64, 0x08, 0x00]);
    assert_eq!(tagged[18..], plain[14..]);
    assert_eq!(
        Frame::new_checked(&tagged[..])?.ethertype(),
        EtherType::Vlan
    );
    Ok(())
}

#[test]
fn ethertype_and_mac_overrides() -> Result<(), Error> {
    let frame = hello()
        .ethertype(EtherType::Unknown(0x88b5))
        .dst_mac(MAC_R)
        .src_mac(MAC_B)
        .build();
    let eth = Frame::new_checked(&frame[..])?;
    assert_eq!(
        (eth.ethertype(), eth.dst_addr(), eth.src_addr()),
        (EtherType::Unknown(0x88b5), MAC_R, MAC_B)
    );
    let raw = FrameBuilder::ethernet(MAC_A, MAC_B, EtherType::Unknown(0x88cc), b"lldp").build();
    assert_eq!(raw[12..], [0x88, 0xcc, b'l', b'l', b'd', b'p']);
    Ok(())
}

#[test]
fn nat_rewrite_keeps_checksums_right() -> Result<(), Error> {
    let rs = Ipv4Address::new(192, 168, 7, 20);
    let frame = syn()
        .dst_ip(rs)
        .dst_port(80)
        .src_ip(Ipv4Address::new(203, 0, 113, 9))
        .build();
    let ip = ip_of(&frame)?;
    let ip_repr = ipv4::Repr::parse(&ip)?;
    assert_eq!(ip_repr.dst_addr, rs);
    let tcp = tcp::Repr::parse(&TcpPacket::new_checked(ip.payload())?, ip_repr.src_addr, rs)?;
    assert_eq!(tcp.dst_port, 80);
    Ok(())
}

#[test]
fn ipip_wraps_the_whole_inner_packet() -> Result<(), Error> {
    let director = Ipv4Address::new(10, 0, 0, 1);
    let rs = Ipv4Address::new(10, 0, 0, 5);
    let inner = syn().ttl(63).ip_packet();
    let outer = Ipv4Header {
        ttl: 63,
        dont_frag: true,
        ..Ipv4Header::new(director, rs)
    };
    let frame = syn().ttl(63).ipip(outer).build();
    let ip = ip_of(&frame)?;
    let repr = ipv4::Repr::parse(&ip)?;
    assert_eq!(
        (repr.src_addr, repr.dst_addr, repr.protocol),
        (director, rs, IpProtocol::IpIp)
    );
    assert_eq!(
        (repr.ttl, repr.dont_frag, repr.payload_len),
        (63, true, inner.len())
    );
    assert_eq!(ip.payload(), &inner[..]);
    ipv4::Repr::parse(&Ipv4Packet::new_checked(ip.payload())?)?;
    assert_eq!(
        syn()
            .ttl(63)
            .ipip(Ipv4Header::new(director, rs))
            .ip_packet()[20..],
        inner[..]
    );
    Ok(())
}

#[test]
fn raw_ipv4_payload_carries_any_protocol() -> Result<(), Error> {
    let vrrp = [
        0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0xb9, 0x46, 192, 168, 1, 1,
    ];
    let frame = FrameBuilder::ipv4_raw(
        MAC_A,
        EthernetAddress([1, 0, 0x5e, 0, 0, 0x12]),
        IP_A,
        Ipv4Address::new(224, 0, 0, 18),
        IpProtocol::Vrrp,
        &vrrp,
    )
    .ttl(255)
    .build();
    let ip = ip_of(&frame)?;
    assert_eq!(
        (ip.protocol(), ip.ttl(), ip.payload()),
        (IpProtocol::Vrrp, 255, &vrrp[..])
    );
    Ok(())
}

#[test]
fn builders_are_reusable_values() {
    let base = syn().seq(5);
    let a = base.clone().ack(9).build();
    let b = base.build();
    assert_ne!(a, b);
    assert_eq!(a[..38], b[..38]);
}

#[test]
fn bad_checksum_is_never_an_equivalent_zero() {
    // Two fields hold the same one's-complement value exactly when they agree modulo 0xffff
    // (0x0000 and 0xffff are both zero); "bad" must always change the value.
    for correct in [0x0000u16, 0xffff, 0x0001, 0xfffe, 0x8000, 0x1234] {
        let bad = Checksum::Bad.apply(correct);
        assert_ne!(
            u32::from(bad) % 0xffff,
            u32::from(correct) % 0xffff,
            "{correct:#06x} -> {bad:#06x}"
        );
    }
}
