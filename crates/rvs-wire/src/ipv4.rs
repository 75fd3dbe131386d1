//! IPv4 (RFC 791): `Ipv4Address`, `Ipv4Cidr`, `FragOffset`, the `Packet` view and its `Repr`.

use crate::bytes::{Field, get_u16, put_u16};
use crate::ip::IpProtocol;
use crate::{Error, HeaderOptions, checksum};

/// An IPv4 address: the standard library's type, so rvs crates share one.
pub type Ipv4Address = core::net::Ipv4Addr;

mod cidr;
pub use cidr::Ipv4Cidr;

/// A fragment offset, kept in the header's unit of 8 octets (13 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FragOffset(u16);

impl FragOffset {
    /// The offset of a first (or unfragmented) packet.
    pub const ZERO: FragOffset = FragOffset(0);

    /// An offset in 8-octet units; `Malformed` above 8191.
    pub fn from_units(units: u16) -> Result<FragOffset, Error> {
        if units > 0x1fff {
            Err(Error::Malformed)
        } else {
            Ok(FragOffset(units))
        }
    }

    /// An offset in octets; `Malformed` unless a multiple of 8.
    pub fn from_octets(octets: u16) -> Result<FragOffset, Error> {
        if !octets.is_multiple_of(8) {
            Err(Error::Malformed)
        } else {
            Ok(FragOffset(octets / 8))
        }
    }

    /// The offset in 8-octet units, as on the wire.
    pub const fn units(self) -> u16 {
        self.0
    }

    /// The offset in octets.
    pub const fn octets(self) -> u16 {
        self.0 * 8
    }
}

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::Field;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Length of a header with the most options an IHL of 15 allows.
pub const MAX_HEADER_LEN: usize = 60;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking version, IHL and that it holds `total_len` bytes.
    ///
    /// The buffer may be longer than `total_len` (Ethernet padding); `payload` ends at `total_len`.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Like `new_checked`, but for a datagram quoted in an ICMP error, which may be cut short:
    /// the header must be whole, the payload may end before `total_len`.
    pub fn new_checked_quoted(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_header()?;
        Ok(packet)
    }

    /// The checks of `new_checked`: `Truncated` or `Malformed` when they fail.
    pub fn check_len(&self) -> Result<(), Error> {
        self.check_header()?;
        if usize::from(self.total_len()) > self.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The checks of `new_checked_quoted`.
    fn check_header(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 || self.ihl() < 5 {
            return Err(Error::Malformed);
        }
        if self.header_len() > len {
            return Err(Error::Truncated);
        }
        if usize::from(self.total_len()) < self.header_len() {
            return Err(Error::Malformed);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (4 for a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The IHL field: header length in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// The header length in octets (20 to 60).
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// The type-of-service byte (DSCP and ECN together).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// The Differentiated Services Code Point.
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    /// The Explicit Congestion Notification bits.
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    /// The total length field: header and payload, in octets.
    pub fn total_len(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The identification field.
    pub fn ident(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::IDENT])
    }

    /// The flags and fragment offset word, raw.
    fn flags_offset(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::FLG_OFF])
    }

    /// The reserved ("evil") flag, which must be zero.
    pub fn reserved_flag(&self) -> bool {
        self.flags_offset() & FLAG_RESERVED != 0
    }

    /// The don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & FLAG_DF != 0
    }

    /// The more-fragments flag.
    pub fn more_frags(&self) -> bool {
        self.flags_offset() & FLAG_MF != 0
    }

    /// The fragment offset.
    pub fn frag_offset(&self) -> FragOffset {
        FragOffset(self.flags_offset() & OFFSET_MASK)
    }

    /// Whether this is a fragment (more fragments follow, or the offset is not zero).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != FragOffset::ZERO
    }

    /// The time-to-live field.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// The protocol field.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Address {
        Ipv4Address::from(crate::bytes::array::<4>(
            &self.buffer.as_ref()[field::SRC_ADDR],
        ))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Address {
        Ipv4Address::from(crate::bytes::array::<4>(
            &self.buffer.as_ref()[field::DST_ADDR],
        ))
    }

    /// The option bytes between the fixed header and `header_len`.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// Whether the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::data(&self.buffer.as_ref()[..self.header_len()]) == 0xffff
    }

    /// End of the payload: `total_len`, or the buffer's end if that comes first (quoted packets).
    fn payload_end(&self) -> usize {
        usize::from(self.total_len())
            .min(self.buffer.as_ref().len())
            .max(self.header_len())
    }

    /// The first payload bytes as `(source, destination)` ports, for TCP, UDP and SCTP packets
    /// that carry their transport header (not a later fragment) and at least 4 payload bytes.
    pub fn ports(&self) -> Option<(u16, u16)> {
        if !self.protocol().has_ports() || self.frag_offset() != FragOffset::ZERO {
            return None;
        }
        match &self.buffer.as_ref()[self.header_len()..self.payload_end()] {
            [a, b, c, d, ..] => Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
            _ => None,
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload: from `header_len` to `total_len` (or to the end of a quoted packet).
    pub fn payload(&self) -> &'a [u8] {
        let range = self.header_len()..self.payload_end();
        &self.buffer.as_ref()[range]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version field.
    pub fn set_version(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (value << 4);
    }

    /// Sets the IHL field (header length in 32-bit words; only the low 4 bits are kept).
    pub fn set_ihl(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | (value & 0x0f);
    }

    /// Sets the type-of-service byte.
    pub fn set_tos(&mut self, value: u8) {
        self.buffer.as_mut()[field::TOS] = value;
    }

    /// Sets the total length field.
    pub fn set_total_len(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// Sets the identification field.
    pub fn set_ident(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::IDENT], value);
    }

    /// Sets or clears one bit of the flags word.
    fn set_flag(&mut self, mask: u16, on: bool) {
        let raw = self.flags_offset();
        let raw = if on { raw | mask } else { raw & !mask };
        put_u16(&mut self.buffer.as_mut()[field::FLG_OFF], raw);
    }

    /// Sets the reserved flag.
    pub fn set_reserved_flag(&mut self, value: bool) {
        self.set_flag(FLAG_RESERVED, value);
    }

    /// Sets the don't-fragment flag.
    pub fn set_dont_frag(&mut self, value: bool) {
        self.set_flag(FLAG_DF, value);
    }

    /// Sets the more-fragments flag.
    pub fn set_more_frags(&mut self, value: bool) {
        self.set_flag(FLAG_MF, value);
    }

    /// Sets the fragment offset.
    pub fn set_frag_offset(&mut self, value: FragOffset) {
        let raw = (self.flags_offset() & !OFFSET_MASK) | value.units();
        put_u16(&mut self.buffer.as_mut()[field::FLG_OFF], raw);
    }

    /// Sets the time-to-live field.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    /// Sets the protocol field.
    pub fn set_protocol(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = value.into();
    }

    /// Sets the header checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, value: Ipv4Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, value: Ipv4Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// The option bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..self.payload_end();
        &mut self.buffer.as_mut()[range]
    }

    /// Computes the header checksum over `header_len` bytes and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(&self.buffer.as_ref()[..self.header_len()]);
        self.set_checksum(checksum::finish(sum));
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an IPv4 header (the reserved flag is dropped; everything else is kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source address.
    pub src_addr: Ipv4Address,
    /// Destination address.
    pub dst_addr: Ipv4Address,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Payload length in octets (`total_len` minus the header).
    pub payload_len: usize,
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
    /// Fragment offset.
    pub frag_offset: FragOffset,
    /// Header options, raw.
    pub options: HeaderOptions<'a>,
}

impl<'a> Repr<'a> {
    /// A plain header: TTL 64 and every other field zero (no options, DF clear, ident 0).
    pub fn new(
        src_addr: Ipv4Address,
        dst_addr: Ipv4Address,
        protocol: IpProtocol,
        payload_len: usize,
    ) -> Self {
        Repr {
            src_addr,
            dst_addr,
            protocol,
            payload_len,
            ttl: 64,
            tos: 0,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: FragOffset::ZERO,
            options: HeaderOptions::EMPTY,
        }
    }

    /// Reads a packet, checking lengths and the header checksum.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let bytes: &'a [u8] = packet.buffer.as_ref();
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            options: HeaderOptions::new(&bytes[HEADER_LEN..packet.header_len()])?,
        })
    }

    /// Length of the header this emits.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Header plus payload length, saturating at the field's maximum of 65535.
    pub fn total_len(&self) -> u16 {
        u16::try_from(self.buffer_len() + self.payload_len).unwrap_or(u16::MAX)
    }

    /// Writes the header (with its checksum) into `packet`; the payload is left to the caller.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_version(4);
        // buffer_len is 20..=60 because HeaderOptions holds at most 40 bytes.
        packet.set_ihl((self.buffer_len() / 4) as u8);
        packet.set_tos(self.tos);
        packet.set_total_len(self.total_len());
        packet.set_ident(self.ident);
        put_u16(&mut packet.buffer.as_mut()[field::FLG_OFF], 0);
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet
            .options_mut()
            .copy_from_slice(self.options.as_bytes());
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ICMP echo request captured on a veth, Ethernet header stripped.
    const ECHO_REQUEST: [u8; 36] = [
        0x45, 0x00, 0x00, 0x24, 0x2a, 0x80, 0x40, 0x00, 0x40, 0x01, 0xfb, 0x90, 0x0a, 0x63, 0x00,
        0x01, //
        0x0a, 0x63, 0x00, 0x02, 0x08, 0x00, 0xd4, 0xb5, 0x12, 0x34, 0x00, 0x01, 0x41, 0x42, 0x43,
        0x44, //
        0x45, 0x46, 0x47, 0x48,
    ];

    /// UDP datagram captured on a veth (10.99.0.1:40001 -> 10.99.0.2:5353, "hello").
    const UDP_HELLO: [u8; 33] = [
        0x45, 0x00, 0x00, 0x21, 0xf3, 0x15, 0x40, 0x00, 0x40, 0x11, 0x32, 0xee, 0x0a, 0x63, 0x00,
        0x01, //
        0x0a, 0x63, 0x00, 0x02, 0x9c, 0x41, 0x14, 0xe9, 0x00, 0x0d, 0xf6, 0x0e, 0x68, 0x65, 0x6c,
        0x6c, //
        0x6f,
    ];

    /// Hand-written IGMPv2 report with a Router Alert option (IHL 6, TOS 0xc0, TTL 1).
    const WITH_OPTIONS: [u8; 32] = [
        0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x42, 0x58, 0xc0, 0xa8, 0x01,
        0x01, //
        0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x16, 0x00, 0xfa, 0x04, 0xe0, 0x00, 0x00,
        0x16,
    ];

    #[test]
    fn reads_a_captured_header() -> Result<(), Error> {
        let p = Packet::new_checked(&ECHO_REQUEST[..])?;
        assert_eq!((p.version(), p.ihl(), p.header_len()), (4, 5, 20));
        assert_eq!((p.tos(), p.total_len(), p.ident()), (0, 36, 0x2a80));
        assert!(p.dont_frag() && !p.more_frags() && !p.reserved_flag() && !p.is_fragment());
        assert_eq!(
            (p.ttl(), p.protocol(), p.checksum()),
            (64, IpProtocol::Icmp, 0xfb90)
        );
        assert_eq!(p.src_addr(), Ipv4Address::new(10, 99, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Address::new(10, 99, 0, 2));
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &ECHO_REQUEST[20..]);
        assert_eq!(p.options(), &[] as &[u8]);
        assert_eq!(p.ports(), None);
        Ok(())
    }

    #[test]
    fn ports_of_a_udp_datagram() -> Result<(), Error> {
        let p = Packet::new_checked(&UDP_HELLO[..])?;
        assert_eq!(p.ports(), Some((40001, 5353)));
        Ok(())
    }

    #[test]
    fn no_ports_in_a_later_fragment() -> Result<(), Error> {
        let mut bytes = UDP_HELLO;
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_frag_offset(FragOffset::from_octets(1480)?);
        p.fill_checksum();
        let p = Packet::new_checked(&bytes[..])?;
        assert!(p.is_fragment());
        assert_eq!(p.ports(), None);
        Ok(())
    }

    #[test]
    fn header_options_are_skipped_and_kept() -> Result<(), Error> {
        let p = Packet::new_checked(&WITH_OPTIONS[..])?;
        assert_eq!(
            (p.ihl(), p.header_len(), p.dscp(), p.ecn()),
            (6, 24, 0x30, 0)
        );
        assert_eq!(p.options(), &[0x94, 0x04, 0x00, 0x00]);
        assert_eq!(p.payload(), &WITH_OPTIONS[24..]);
        assert!(p.verify_checksum());
        let repr = Repr::parse(&p)?;
        assert_eq!(repr.options.as_bytes(), &[0x94, 0x04, 0x00, 0x00]);
        assert_eq!((repr.buffer_len(), repr.payload_len, repr.ttl), (24, 8, 1));
        Ok(())
    }

    #[test]
    fn parse_then_emit_reproduces_captured_headers() -> Result<(), Error> {
        for bytes in [&ECHO_REQUEST[..], &UDP_HELLO[..], &WITH_OPTIONS[..]] {
            let repr = Repr::parse(&Packet::new_checked(bytes)?)?;
            let mut out = std::vec::Vec::from(bytes);
            out[..repr.buffer_len()].fill(0);
            repr.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(out, bytes);
        }
        Ok(())
    }

    #[test]
    fn repr_new_emits_a_plain_header() -> Result<(), Error> {
        let repr = Repr {
            ident: 0x2a80,
            dont_frag: true,
            ..Repr::new(
                Ipv4Address::new(10, 99, 0, 1),
                Ipv4Address::new(10, 99, 0, 2),
                IpProtocol::Icmp,
                16,
            )
        };
        let mut out = [0u8; 20];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, ECHO_REQUEST[..20]);
        Ok(())
    }

    #[test]
    fn ethernet_padding_after_total_len_is_ignored() -> Result<(), Error> {
        let mut padded = [0u8; 46];
        padded[..33].copy_from_slice(&UDP_HELLO);
        let p = Packet::new_checked(&padded[..])?;
        assert_eq!(p.payload(), &UDP_HELLO[20..]);
        Ok(())
    }

    #[test]
    fn truncations_are_reported() {
        for len in 0..ECHO_REQUEST.len() {
            assert_eq!(
                Packet::new_checked(&ECHO_REQUEST[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
        }
        // IHL 15 claims 60 header bytes that are not there.
        let mut bytes = ECHO_REQUEST;
        bytes[0] = 0x4f;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn malformed_headers_are_reported() {
        let cases: [(usize, u8); 4] = [(0, 0x65), (0, 0x44), (0, 0x40), (3, 19)];
        for (at, value) in cases {
            let mut bytes = ECHO_REQUEST;
            bytes[at] = value;
            assert_eq!(
                Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed),
                "byte {at} = {value:#x}"
            );
        }
    }

    #[test]
    fn bad_checksum_is_rejected_by_parse_only() -> Result<(), Error> {
        let mut bytes = ECHO_REQUEST;
        bytes[8] = 63; // TTL changed without fixing the checksum
        let p = Packet::new_checked(&bytes[..])?;
        assert!(!p.verify_checksum());
        assert_eq!(Repr::parse(&p), Err(Error::Checksum));
        Ok(())
    }

    #[test]
    fn quoted_datagrams_may_be_cut_short() -> Result<(), Error> {
        let cut = &UDP_HELLO[..24];
        assert_eq!(Packet::new_checked(cut).err(), Some(Error::Truncated));
        let p = Packet::new_checked_quoted(cut)?;
        assert_eq!(p.payload(), &UDP_HELLO[20..24]);
        assert_eq!(p.ports(), Some((40001, 5353)));
        assert_eq!(
            Packet::new_checked_quoted(&UDP_HELLO[..19]).err(),
            Some(Error::Truncated)
        );
        Ok(())
    }

    #[test]
    fn setters_write_flags_and_offset_without_clobbering() -> Result<(), Error> {
        let mut bytes = [0u8; 20];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version(4);
        p.set_ihl(5);
        p.set_frag_offset(FragOffset::from_units(0x1fff)?);
        p.set_more_frags(true);
        p.set_reserved_flag(true);
        p.set_dont_frag(true);
        p.set_dont_frag(false);
        assert_eq!(bytes[0], 0x45);
        assert_eq!(bytes[6..8], [0xbf, 0xff]);
        Ok(())
    }

    #[test]
    fn frag_offset_units_and_octets() {
        assert_eq!(
            FragOffset::from_octets(1480).map(FragOffset::units),
            Ok(185)
        );
        assert_eq!(FragOffset::from_octets(1481), Err(Error::Malformed));
        assert_eq!(
            FragOffset::from_units(0x1fff).map(FragOffset::octets),
            Ok(65528)
        );
        assert_eq!(FragOffset::from_units(0x2000), Err(Error::Malformed));
    }
}
