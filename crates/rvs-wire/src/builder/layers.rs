//! What follows the Ethernet header of a built frame: the layer types behind `FrameBuilder<L>`,
//! `Ipv4Header`, and the checksum modes. Fields are crate-visible so that the builder's methods
//! can set them; users go through those methods.

use alloc::vec;
use alloc::vec::Vec;

use crate::ethernet::EtherType;
use crate::ip::IpProtocol;
use crate::ipv4::{FragOffset, Ipv4Address};
use crate::tcp::TcpFlags;
use crate::{arp, icmpv4, ipv4, ipv6, tcp, udp};

/// How a builder fills a checksum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Checksum {
    /// The right value.
    #[default]
    Correct,
    /// A wrong value: the right one with its lowest bit flipped, which never verifies.
    Bad,
    /// Exactly this value (for UDP, `Fixed(0)` means "no checksum").
    Fixed(u16),
}

impl Checksum {
    /// The value to write, given the right one.
    pub(super) fn apply(self, correct: u16) -> u16 {
        match self {
            Checksum::Correct => correct,
            // Off by one can never be the other representation of the same one's-complement value.
            Checksum::Bad => correct ^ 1,
            Checksum::Fixed(value) => value,
        }
    }
}

/// Pads option bytes with zeros (end-of-options) to a whole number of 32-bit words.
fn pad_to_words(options: &[u8]) -> Vec<u8> {
    let mut padded = Vec::from(options);
    padded.resize(options.len().div_ceil(4) * 4, 0);
    padded
}

/// A length as a 16-bit field, saturating (the builder never wraps a length silently).
pub(crate) fn len16(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

/// A length in 32-bit words as a 4-bit field, saturating at 15.
fn words4(len: usize) -> u8 {
    u8::try_from(len / 4).unwrap_or(u8::MAX).min(15)
}

/// Settings of one IPv4 header; `Ipv4Header::new` gives TTL 64 and every other field zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ipv4Header {
    /// Source address.
    pub src: Ipv4Address,
    /// Destination address.
    pub dst: Ipv4Address,
    /// Time to live.
    pub ttl: u8,
    /// Type-of-service byte (DSCP and ECN).
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't-fragment flag.
    pub dont_frag: bool,
    /// More-fragments flag.
    pub more_frags: bool,
    /// Reserved flag (must be zero on the wire; set it to test that).
    pub reserved_flag: bool,
    /// Fragment offset in 8-octet units (low 13 bits used).
    pub frag_offset: u16,
    /// Option bytes; padded with zeros to a multiple of 4.
    pub options: Vec<u8>,
    /// Version field; 4 unless testing a bad one.
    pub version: u8,
    /// IHL override; by default it follows the options.
    pub ihl: Option<u8>,
    /// Total-length override; by default header plus payload.
    pub total_len: Option<u16>,
    /// Protocol override; by default the payload's protocol.
    pub protocol: Option<IpProtocol>,
    /// Header checksum.
    pub checksum: Checksum,
}

impl Ipv4Header {
    /// A header from `src` to `dst` with TTL 64 and everything else zero or derived.
    pub fn new(src: Ipv4Address, dst: Ipv4Address) -> Ipv4Header {
        Ipv4Header {
            src,
            dst,
            ttl: 64,
            tos: 0,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            reserved_flag: false,
            frag_offset: 0,
            options: Vec::new(),
            version: 4,
            ihl: None,
            total_len: None,
            protocol: None,
            checksum: Checksum::Correct,
        }
    }

    /// This header in front of `payload`, as a packet.
    fn wrap(&self, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
        let options = pad_to_words(&self.options);
        let header_len = ipv4::HEADER_LEN + options.len();
        let mut out = vec![0u8; header_len];
        out[ipv4::HEADER_LEN..].copy_from_slice(&options);
        out.extend_from_slice(payload);
        let ihl = self.ihl.unwrap_or(words4(header_len));
        let total_len = self.total_len.unwrap_or(len16(out.len()));

        let mut packet = ipv4::Packet::new_unchecked(&mut out[..]);
        packet.set_version(self.version);
        packet.set_ihl(ihl);
        packet.set_tos(self.tos);
        packet.set_total_len(total_len);
        packet.set_ident(self.ident);
        packet.set_reserved_flag(self.reserved_flag);
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet
            .set_frag_offset(FragOffset::from_units(self.frag_offset & 0x1fff).unwrap_or_default());
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol.unwrap_or(protocol));
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);

        // Cover what a receiver reading IHL would cover, when that lies within the packet and
        // includes the checksum field; otherwise the header actually written.
        let claimed = usize::from(ihl & 0x0f) * 4;
        let covered = if (12..=out.len()).contains(&claimed) {
            claimed
        } else {
            header_len
        };
        let correct = crate::checksum::finish(crate::checksum::data(&out[..covered]));
        ipv4::Packet::new_unchecked(&mut out[..]).set_checksum(self.checksum.apply(correct));
        out
    }
}

mod sealed {
    use super::*;

    /// What follows the Ethernet header of a built frame.
    pub trait Layer {
        /// The EtherType that announces this layer.
        fn ethertype(&self) -> EtherType;
        /// Appends this layer's bytes.
        fn write(&self, out: &mut Vec<u8>);
    }

    /// What follows an IPv4 header of a built frame.
    pub trait Transport {
        /// The protocol number that announces it.
        fn protocol(&self) -> IpProtocol;
        /// Its bytes, with checksums computed for a packet from `src` to `dst`.
        fn bytes(&self, src: Ipv4Address, dst: Ipv4Address) -> Vec<u8>;
    }
}

pub(crate) use sealed::{Layer, Transport};

/// A TCP segment inside a built frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tcp {
    pub(super) src_port: u16,
    pub(super) dst_port: u16,
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) flags: TcpFlags,
    pub(super) window: u16,
    pub(super) urgent: u16,
    pub(super) options: Vec<u8>,
    pub(super) data_offset: Option<u8>,
    pub(super) checksum: Checksum,
    pub(super) payload: Vec<u8>,
}

impl Transport for Tcp {
    fn protocol(&self) -> IpProtocol {
        IpProtocol::Tcp
    }

    fn bytes(&self, src: Ipv4Address, dst: Ipv4Address) -> Vec<u8> {
        let options = pad_to_words(&self.options);
        let header_len = tcp::HEADER_LEN + options.len();
        let mut out = vec![0u8; header_len];
        out[tcp::HEADER_LEN..].copy_from_slice(&options);
        out.extend_from_slice(&self.payload);
        let mut packet = tcp::Packet::new_unchecked(&mut out[..]);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq);
        packet.set_ack_number(self.ack);
        packet.set_data_offset(self.data_offset.unwrap_or(words4(header_len)));
        packet.set_flags(self.flags);
        packet.set_window_len(self.window);
        packet.set_urgent_pointer(self.urgent);
        packet.fill_checksum(src, dst);
        let correct = packet.checksum();
        packet.set_checksum(self.checksum.apply(correct));
        out
    }
}

/// A UDP datagram inside a built frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Udp {
    pub(super) src_port: u16,
    pub(super) dst_port: u16,
    pub(super) len: Option<u16>,
    pub(super) checksum: Checksum,
    pub(super) payload: Vec<u8>,
}

impl Transport for Udp {
    fn protocol(&self) -> IpProtocol {
        IpProtocol::Udp
    }

    fn bytes(&self, src: Ipv4Address, dst: Ipv4Address) -> Vec<u8> {
        let mut out = vec![0u8; udp::HEADER_LEN];
        out.extend_from_slice(&self.payload);
        let len = self.len.unwrap_or(len16(out.len()));
        let mut packet = udp::Packet::new_unchecked(&mut out[..]);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.fill_checksum(src, dst);
        let correct = packet.checksum();
        let value = match (self.checksum, self.checksum.apply(correct)) {
            // A "bad" zero would read as "no checksum", which is not bad at all.
            (Checksum::Bad, 0) => correct ^ 2,
            (_, value) => value,
        };
        packet.set_checksum(value);
        out
    }
}

/// An ICMPv4 message inside a built frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Icmp {
    pub(super) message: Vec<u8>,
    pub(super) checksum: Checksum,
}

impl Icmp {
    /// The message of `repr`, as bytes.
    pub(super) fn from_repr(repr: &icmpv4::Repr<'_>) -> Icmp {
        let mut message = vec![0u8; repr.buffer_len()];
        repr.emit(&mut icmpv4::Packet::new_unchecked(&mut message[..]));
        Icmp {
            message,
            checksum: Checksum::Correct,
        }
    }
}

impl Transport for Icmp {
    fn protocol(&self) -> IpProtocol {
        IpProtocol::Icmp
    }

    fn bytes(&self, _src: Ipv4Address, _dst: Ipv4Address) -> Vec<u8> {
        let mut out = self.message.clone();
        let mut packet = icmpv4::Packet::new_unchecked(&mut out[..]);
        packet.fill_checksum();
        let correct = packet.checksum();
        packet.set_checksum(self.checksum.apply(correct));
        out
    }
}

/// Any other IPv4 payload (VRRP, GRE, SCTP, a later fragment…), written as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawIp {
    pub(super) protocol: IpProtocol,
    pub(super) payload: Vec<u8>,
}

impl Transport for RawIp {
    fn protocol(&self) -> IpProtocol {
        self.protocol
    }

    fn bytes(&self, _src: Ipv4Address, _dst: Ipv4Address) -> Vec<u8> {
        self.payload.clone()
    }
}

/// An IPv4 packet inside a built frame, optionally tunnelled in an outer IPv4 header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ipv4<P> {
    pub(super) header: Ipv4Header,
    pub(super) outer: Option<Ipv4Header>,
    pub(super) transport: P,
}

impl<P: Transport> Ipv4<P> {
    /// The whole IPv4 packet, outer header included.
    pub(super) fn packet(&self) -> Vec<u8> {
        let transport = self.transport.bytes(self.header.src, self.header.dst);
        let inner = self.header.wrap(self.transport.protocol(), &transport);
        match &self.outer {
            Some(outer) => outer.wrap(IpProtocol::IpIp, &inner),
            None => inner,
        }
    }
}

impl<P: Transport> Layer for Ipv4<P> {
    fn ethertype(&self) -> EtherType {
        EtherType::Ipv4
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.packet());
    }
}

/// An Ethernet/IPv4 ARP packet inside a built frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arp(pub(super) arp::Repr);

impl Layer for Arp {
    fn ethertype(&self) -> EtherType {
        EtherType::Arp
    }

    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + self.0.buffer_len(), 0);
        self.0
            .emit(&mut arp::Packet::new_unchecked(&mut out[start..]));
    }
}

/// An IPv6 packet (fixed header and raw payload) inside a built frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ipv6 {
    pub(super) repr: ipv6::Repr,
    pub(super) payload: Vec<u8>,
}

impl Layer for Ipv6 {
    fn ethertype(&self) -> EtherType {
        EtherType::Ipv6
    }

    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + ipv6::HEADER_LEN, 0);
        self.repr
            .emit(&mut ipv6::Packet::new_unchecked(&mut out[start..]));
        out.extend_from_slice(&self.payload);
    }
}

/// Raw bytes after the Ethernet header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawEthernet {
    pub(super) ethertype: EtherType,
    pub(super) payload: Vec<u8>,
}

impl Layer for RawEthernet {
    fn ethertype(&self) -> EtherType {
        self.ethertype
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.payload);
    }
}
