//! No-panic properties over random and mutated input, driven by a seeded xorshift generator.
//!
//! For every view: `new_checked` on any bytes either fails or yields a view whose every getter
//! works; after fixing the checksum, `Repr::parse` succeeds and `emit` of the result parses back
//! to the same `Repr`. A whole-frame decoder walks captured frames under random mutation and
//! every truncation, where a cut anywhere must be reported as `Truncated`.

use std::vec;
use std::vec::Vec;

use crate::test_captures as cap;
use crate::test_rng::XorShift;
use crate::*;

const SRC: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const DST: Ipv4Address = Ipv4Address::new(198, 51, 100, 2);

fn ethernet(bytes: &[u8]) -> Result<(), Error> {
    let f = EthernetFrame::new_checked(bytes)?;
    let _ = (f.src_addr(), f.dst_addr(), f.ethertype(), f.payload());
    let repr = EthernetRepr::parse(&f)?;
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
    assert_eq!(out, bytes[..14]);
    Ok(())
}

fn arp(bytes: &[u8]) -> Result<(), Error> {
    let p = ArpPacket::new_checked(bytes)?;
    let _ = (
        p.hardware_type(),
        p.protocol_type(),
        p.hardware_len(),
        p.protocol_len(),
        p.operation(),
    );
    let _ = (
        p.source_hardware_addr(),
        p.source_protocol_addr(),
        p.target_hardware_addr(),
        p.target_protocol_addr(),
    );
    let repr = ArpRepr::parse(&p)?;
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
    assert_eq!(out, bytes[..28]);
    Ok(())
}

fn touch_ipv4(p: &Ipv4Packet<&[u8]>) {
    let _ = (
        p.version(),
        p.ihl(),
        p.header_len(),
        p.tos(),
        p.dscp(),
        p.ecn(),
        p.total_len(),
        p.ident(),
    );
    let _ = (
        p.reserved_flag(),
        p.dont_frag(),
        p.more_frags(),
        p.frag_offset(),
        p.is_fragment(),
        p.ttl(),
    );
    let _ = (
        p.protocol(),
        p.checksum(),
        p.src_addr(),
        p.dst_addr(),
        p.options(),
        p.verify_checksum(),
    );
    let _ = (p.ports(), p.payload());
}

fn ipv4(bytes: &[u8]) -> Result<Ipv4Repr<'_>, Error> {
    let p = Ipv4Packet::new_checked(bytes)?;
    touch_ipv4(&p);
    if let Ok(quoted) = Ipv4Packet::new_checked_quoted(bytes) {
        touch_ipv4(&quoted);
    }
    let repr = Ipv4Repr::parse(&p)?;
    let mut out = vec![0u8; repr.buffer_len() + repr.payload_len];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
    out[repr.buffer_len()..].copy_from_slice(p.payload());
    assert_eq!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&out[..])?)?, repr);
    if !p.reserved_flag() {
        assert_eq!(out, bytes[..usize::from(p.total_len())]);
    }
    Ok(repr)
}

fn ipv6(bytes: &[u8]) -> Result<(), Error> {
    let p = Ipv6Packet::new_checked(bytes)?;
    let _ = (
        p.version(),
        p.traffic_class(),
        p.flow_label(),
        p.payload_len(),
        p.next_header(),
    );
    let _ = (p.hop_limit(), p.src_addr(), p.dst_addr(), p.payload());
    let repr = Ipv6Repr::parse(&p)?;
    let mut out = vec![0u8; repr.buffer_len() + usize::from(repr.payload_len)];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]));
    assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&out[..])?)?, repr);
    Ok(())
}

fn tcp(bytes: &[u8], src: Ipv4Address, dst: Ipv4Address) -> Result<(), Error> {
    let p = TcpPacket::new_checked(bytes)?;
    let _ = (
        p.src_port(),
        p.dst_port(),
        p.seq_number(),
        p.ack_number(),
        p.data_offset(),
        p.header_len(),
    );
    let _ = (
        p.flags(),
        p.window_len(),
        p.checksum(),
        p.urgent_pointer(),
        p.options(),
        p.payload(),
    );
    let repr = TcpRepr::parse(&p, src, dst)?;
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]), src, dst);
    assert_eq!(
        TcpRepr::parse(&TcpPacket::new_checked(&out[..])?, src, dst)?,
        repr
    );
    Ok(())
}

fn udp(bytes: &[u8], src: Ipv4Address, dst: Ipv4Address) -> Result<(), Error> {
    let p = UdpPacket::new_checked(bytes)?;
    let _ = (
        p.src_port(),
        p.dst_port(),
        p.len(),
        p.checksum(),
        p.has_checksum(),
        p.payload(),
    );
    let repr = UdpRepr::parse(&p, src, dst)?;
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut UdpPacket::new_unchecked(&mut out[..]), src, dst);
    assert_eq!(
        UdpRepr::parse(&UdpPacket::new_checked(&out[..])?, src, dst)?,
        repr
    );
    Ok(())
}

fn icmp(bytes: &[u8]) -> Result<(), Error> {
    let p = Icmpv4Packet::new_checked(bytes)?;
    let _ = (
        p.msg_type(),
        p.msg_code(),
        p.checksum(),
        p.rest_of_header(),
        p.echo_ident(),
        p.echo_seq_no(),
    );
    let _ = (p.next_hop_mtu(), p.data());
    let repr = Icmpv4Repr::parse(&p)?;
    if let Ok(quoted) = repr.quoted_ipv4() {
        touch_ipv4(&quoted);
    }
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
    assert_eq!(out, bytes);
    Ok(())
}

/// Walks a whole frame as a data plane would; any failure on the way is returned.
fn decode(frame: &[u8]) -> Result<(), Error> {
    ethernet(frame)?;
    let payload = EthernetFrame::new_checked(frame)?.payload();
    match EthernetFrame::new_checked(frame)?.ethertype() {
        EtherType::Arp => arp(payload),
        EtherType::Ipv6 => ipv6(payload),
        EtherType::Ipv4 => {
            let repr = ipv4(payload)?;
            let l4 = Ipv4Packet::new_checked(payload)?.payload();
            match repr.protocol {
                IpProtocol::Tcp => tcp(l4, repr.src_addr, repr.dst_addr),
                IpProtocol::Udp => udp(l4, repr.src_addr, repr.dst_addr),
                IpProtocol::Icmp => icmp(l4),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Fixes the checksum of a view that `new_checked` accepts, so that `parse` gets past it.
fn with_fixed_checksums(bytes: &[u8]) -> [Vec<u8>; 4] {
    let mut out = [
        Vec::from(bytes),
        Vec::from(bytes),
        Vec::from(bytes),
        Vec::from(bytes),
    ];
    if Ipv4Packet::new_checked(&out[0][..]).is_ok() {
        Ipv4Packet::new_unchecked(&mut out[0][..]).fill_checksum();
    }
    if TcpPacket::new_checked(&out[1][..]).is_ok() {
        TcpPacket::new_unchecked(&mut out[1][..]).fill_checksum(SRC, DST);
    }
    if UdpPacket::new_checked(&out[2][..]).is_ok() {
        UdpPacket::new_unchecked(&mut out[2][..]).fill_checksum(SRC, DST);
    }
    if Icmpv4Packet::new_checked(&out[3][..]).is_ok() {
        Icmpv4Packet::new_unchecked(&mut out[3][..]).fill_checksum();
    }
    out
}

/// Random bytes, with the first byte often steered to look like IPv4 or IPv6.
fn random_packet(rng: &mut XorShift) -> Vec<u8> {
    let mut bytes = rng.bytes_plus(0, 90);
    if let Some(first) = bytes.first_mut() {
        match rng.below(4) {
            0 => *first = 0x40 | (*first & 0x0f),
            1 => *first = 0x45,
            2 => *first = 0x60,
            _ => {}
        }
    }
    // A length that fits the buffer, where IPv4 (bytes 2..4) or UDP (4..6) keeps it, so that
    // deeper paths are reached.
    for at in [2, 4] {
        if bytes.len() >= at + 2 && rng.below(2) == 0 {
            let len = u16::try_from(rng.below(bytes.len() + 1)).unwrap_or(0);
            bytes[at..at + 2].copy_from_slice(&len.to_be_bytes());
        }
    }
    bytes
}

#[test]
fn views_never_panic_and_parse_round_trips_on_random_bytes() {
    let mut rng = XorShift::new(0xf022_0001);
    let (mut ipv4_ok, mut tcp_ok, mut udp_ok, mut icmp_ok) = (0, 0, 0, 0);
    for _ in 0..30_000 {
        let bytes = random_packet(&mut rng);
        let _ = (ethernet(&bytes), arp(&bytes), ipv6(&bytes), icmp(&bytes));
        let _ = (ipv4(&bytes), tcp(&bytes, SRC, DST), udp(&bytes, SRC, DST));
        let [ip, t, u, i] = with_fixed_checksums(&bytes);
        ipv4_ok += usize::from(ipv4(&ip).is_ok());
        tcp_ok += usize::from(tcp(&t, SRC, DST).is_ok());
        udp_ok += usize::from(udp(&u, SRC, DST).is_ok());
        icmp_ok += usize::from(icmp(&i).is_ok());
        // What new_checked accepts, parse accepts once the checksum is right.
        assert_eq!(Ipv4Packet::new_checked(&ip[..]).is_ok(), ipv4(&ip).is_ok());
        assert_eq!(
            TcpPacket::new_checked(&t[..]).is_ok(),
            tcp(&t, SRC, DST).is_ok()
        );
        assert_eq!(
            UdpPacket::new_checked(&u[..]).is_ok(),
            udp(&u, SRC, DST).is_ok()
        );
        assert_eq!(Icmpv4Packet::new_checked(&i[..]).is_ok(), icmp(&i).is_ok());
    }
    // The generator must reach the parse paths, or this test proves little.
    std::println!("parsed: ipv4 {ipv4_ok}, tcp {tcp_ok}, udp {udp_ok}, icmp {icmp_ok}");
    assert!(ipv4_ok > 1000 && tcp_ok > 1000 && udp_ok > 1000 && icmp_ok > 1000);
}

#[test]
fn captured_frames_decode_and_every_cut_is_truncated() {
    for frame in cap::all() {
        assert_eq!(decode(&frame), Ok(()), "{frame:02x?}");
        for len in 0..frame.len() {
            assert_eq!(
                decode(&frame[..len]),
                Err(Error::Truncated),
                "cut at {len} of {frame:02x?}"
            );
        }
    }
}

#[test]
fn mutated_captured_frames_never_panic() {
    let mut rng = XorShift::new(0xf022_0002);
    let frames = cap::all();
    for _ in 0..20_000 {
        let mut frame = frames[rng.below(frames.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(frame.len());
            frame[at] = rng.next() as u8;
        }
        let len = if rng.below(3) == 0 {
            rng.below(frame.len() + 1)
        } else {
            frame.len()
        };
        let _ = decode(&frame[..len]);
    }
}

fn vrrp(bytes: &[u8], ip: &vrrp::PseudoHeader) -> Result<(), Error> {
    let p = VrrpPacket::new_checked(bytes, ip.family())?;
    let _ = (
        p.version(),
        p.msg_type(),
        p.vrid(),
        p.priority(),
        p.addr_count(),
    );
    let _ = (
        p.auth_type(),
        p.adver_int_s(),
        p.max_adver_int_cs(),
        p.advert_int_cs(),
    );
    let _ = (
        p.checksum(),
        p.message_len(),
        p.address_bytes(),
        p.auth_data(),
    );
    let repr = VrrpRepr::parse(&p, ip)?;
    let _ = repr.addresses.iter().count();
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(
        &mut VrrpPacket::new_unchecked(&mut out[..], ip.family()),
        ip,
    )?;
    let again = VrrpRepr::parse(&VrrpPacket::new_checked(&out[..], ip.family())?, ip)?;
    assert_eq!(again, repr);
    Ok(())
}

#[test]
fn vrrp_never_panics_and_round_trips_on_random_bytes() {
    let mut rng = XorShift::new(0xf022_0003);
    let v4 = vrrp::PseudoHeader::V4 {
        src: SRC,
        dst: vrrp::MULTICAST_V4,
    };
    let v6 = vrrp::PseudoHeader::V6 {
        src: Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        dst: vrrp::MULTICAST_V6,
    };
    let mut parsed = 0;
    for _ in 0..30_000 {
        let ip = if rng.below(2) == 0 { v4 } else { v6 };
        let mut bytes = rng.bytes_plus(0, 70);
        if bytes.len() >= 8 && rng.below(4) != 0 {
            // Steer towards a well-formed header: version 2 or 3, type 1, few addresses, and
            // (often) exactly the declared length.
            bytes[0] = [0x21, 0x31][rng.below(2)];
            bytes[3] = rng.below(4) as u8;
            if rng.below(2) == 0 {
                bytes[4] = rng.below(3) as u8;
            }
            let p = VrrpPacket::new_unchecked(&bytes[..], ip.family());
            let want = p.message_len();
            if rng.below(3) != 0 && want <= 70 {
                bytes.resize(want, 0);
            }
        }
        let _ = vrrp(&bytes, &ip);
        let mut fixed = bytes.clone();
        let mut p = VrrpPacket::new_unchecked(&mut fixed[..], ip.family());
        if p.check_len().is_ok() {
            p.fill_checksum(&ip);
        }
        parsed += usize::from(vrrp(&fixed, &ip).is_ok());
    }
    std::println!("vrrp parsed {parsed}");
    assert!(parsed > 1000);
}

/// Walks every entry; those that can be sent again must come back unchanged from a message.
fn ipvs_sync(bytes: &[u8]) -> Result<usize, Error> {
    let p = IpvsSyncPacket::new_checked(bytes)?;
    let _ = (
        p.version(),
        p.header_len(),
        p.syncid(),
        p.size(),
        p.nr_conns(),
        p.body(),
    );
    let message = IpvsSyncMessage::parse(bytes)?;
    let mut ok = 0;
    for conn in message.entries().flatten() {
        ok += 1;
        let mut buf = [0u8; 512];
        let mut builder = IpvsSyncBuilder::new(&mut buf, message.syncid)?;
        if builder.push(&conn) == Ok(true) {
            let out = builder.finish();
            let back: Vec<_> = IpvsSyncMessage::parse(out)?.entries().collect();
            assert_eq!(back, [Ok(conn)]);
        }
    }
    Ok(ok)
}

#[test]
fn ipvs_sync_never_panics_on_random_and_mutated_messages() {
    let mut rng = XorShift::new(0xf022_0004);
    let mut entries_ok = 0;
    for _ in 0..20_000 {
        let mut bytes = rng.bytes_plus(0, 200);
        if bytes.len() >= 8 && rng.below(2) == 0 {
            bytes[..8].copy_from_slice(&[0, 1, 0, 0, rng.below(5) as u8, 1, 0, 0]);
            // Entry sizes that often fit, types that are often valid.
            let mut at = 8;
            while at + 4 <= bytes.len() {
                bytes[at] = rng.below(3) as u8;
                let size = [36, 62, 72, 98][rng.below(4)] + rng.below(3);
                bytes[at + 2..at + 4].copy_from_slice(&(size as u16).to_be_bytes());
                if bytes.len() > at + 37 && rng.below(2) == 0 {
                    bytes[at + 36] = [1, 2, 3, 0x45, 5][rng.below(5)];
                    bytes[at + 37] = [24, 3, 0][rng.below(3)];
                }
                at += size.next_multiple_of(4);
            }
        } else if bytes.len() >= 4 {
            bytes[0] = rng.below(4) as u8;
        }
        if bytes.len() >= 4 && rng.below(8) != 0 {
            let len = bytes.len() as u16;
            bytes[2..4].copy_from_slice(&len.to_be_bytes());
        }
        entries_ok += ipvs_sync(&bytes).unwrap_or(0);
    }
    std::println!("ipvs sync entries parsed {entries_ok}");
    assert!(entries_ok > 1000);
}

#[test]
fn mutated_ipvs_sync_messages_never_panic() -> Result<(), Error> {
    use core::net::{IpAddr, SocketAddr};
    use ipvs_sync::{ConnRepr, SeqData, conn_flags};
    let mut rng = XorShift::new(0xf022_0005);
    let pe = rng.bytes(40);
    for _ in 0..3_000 {
        let mut buf = [0u8; 600];
        let mut builder = IpvsSyncBuilder::new(&mut buf, 3)?;
        for _ in 0..rng.below(6) {
            let ipv6 = rng.below(2) == 0;
            let addr = |rng: &mut XorShift| -> SocketAddr {
                let ip = if ipv6 {
                    IpAddr::from(rng.array::<16>())
                } else {
                    IpAddr::from(rng.array::<4>())
                };
                SocketAddr::new(ip, rng.next() as u16)
            };
            let seq = rng.below(2) == 0;
            let conn = ConnRepr {
                protocol: IpProtocol::from(rng.next() as u8),
                flags: (rng.next() as u32 & !conn_flags::SEQ_MASK)
                    | if seq { conn_flags::IN_SEQ } else { 0 },
                state: rng.next() as u16,
                client: addr(&mut rng),
                virt: addr(&mut rng),
                dest: addr(&mut rng),
                fwmark: rng.next() as u32,
                timeout_s: rng.next() as u32,
                seq: seq.then(SeqData::default),
                pe_data: (rng.below(3) == 0).then(|| &pe[..1 + rng.below(39)]),
                pe_name: (rng.below(3) == 0).then_some(&b"sip"[..]),
            };
            assert_eq!(builder.push(&conn), Ok(true));
        }
        let mut bytes = Vec::from(builder.finish());
        assert!(ipvs_sync(&bytes).is_ok());
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        let _ = ipvs_sync(&bytes);
        let cut = rng.below(bytes.len() + 1);
        let _ = ipvs_sync(&bytes[..cut]);
    }
    Ok(())
}
