//! IPv6 (RFC 8200), just enough to recognise and skip: the fixed header, no extension headers.

use crate::Error;
use crate::bytes::{Field, Rest, array, get_u16, get_u32, put_u16, put_u32};
use crate::ip::IpProtocol;

/// An IPv6 address: the standard library's type, so rvs crates share one.
pub type Ipv6Address = core::net::Ipv6Addr;

/// A read/write view of an IPv6 packet's fixed header and payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::{Field, Rest};
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
    pub const PAYLOAD: Rest = 40..;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than 40 bytes.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking the version and that it holds the declared payload.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` or `Malformed` when the checks of `new_checked` fail.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 6 {
            return Err(Error::Malformed);
        }
        if HEADER_LEN + usize::from(self.payload_len()) > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The first header word: version, traffic class and flow label.
    fn first_word(&self) -> u32 {
        get_u32(&self.buffer.as_ref()[field::VER_TC_FLOW])
    }

    /// The version field (6 for a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((self.first_word() >> 20) & 0xff) as u8
    }

    /// The 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        self.first_word() & 0x000f_ffff
    }

    /// The payload length field (everything after the fixed header).
    pub fn payload_len(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The next-header field (an extension header or the upper-layer protocol).
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Address {
        Ipv6Address::from(array::<16>(&self.buffer.as_ref()[field::SRC_ADDR]))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Address {
        Ipv6Address::from(array::<16>(&self.buffer.as_ref()[field::DST_ADDR]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The `payload_len` bytes after the fixed header.
    pub fn payload(&self) -> &'a [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &self.buffer.as_ref()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version, traffic class and flow label together (the label keeps its low 20 bits).
    pub fn set_first_word(&mut self, version: u8, traffic_class: u8, flow_label: u32) {
        let word = (u32::from(version) << 28)
            | (u32::from(traffic_class) << 20)
            | (flow_label & 0x000f_ffff);
        put_u32(&mut self.buffer.as_mut()[field::VER_TC_FLOW], word);
    }

    /// Sets the payload length field.
    pub fn set_payload_len(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// Sets the next-header field.
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = value.into();
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, value: Ipv6Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, value: Ipv6Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }
}

/// The meaning of an IPv6 fixed header (traffic class and flow label are emitted as zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Address,
    /// Destination address.
    pub dst_addr: Ipv6Address,
    /// Next header: first extension header or the upper-layer protocol.
    pub next_header: IpProtocol,
    /// Length of everything after the fixed header.
    pub payload_len: u16,
    /// Hop limit.
    pub hop_limit: u8,
}

impl Repr {
    /// Reads the fixed header of a packet, checking version and length.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr, Error> {
        packet.check_len()?;
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: packet.payload_len(),
            hop_limit: packet.hop_limit(),
        })
    }

    /// Length of the header this emits (40).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header into `packet`, whose buffer must hold at least 40 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_first_word(6, 0, 0);
        packet.set_payload_len(self.payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Router solicitation captured on a veth, from fe80::ff:fe00:a to ff02::2 (Ethernet stripped).
    const ROUTER_SOLICIT: [u8; 56] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, //
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x7b, 0x1a, 0x00, 0x00, 0x00,
        0x00, //
        0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
    ];

    #[test]
    fn reads_a_captured_header() -> Result<(), Error> {
        let p = Packet::new_checked(&ROUTER_SOLICIT[..])?;
        assert_eq!((p.version(), p.traffic_class(), p.flow_label()), (6, 0, 0));
        assert_eq!(
            (p.payload_len(), p.next_header(), p.hop_limit()),
            (16, IpProtocol::Icmpv6, 255)
        );
        assert_eq!(
            p.src_addr(),
            Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0a)
        );
        assert_eq!(p.dst_addr(), Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 2));
        assert_eq!(p.payload(), &ROUTER_SOLICIT[40..]);
        Ok(())
    }

    #[test]
    fn parse_then_emit_reproduces_the_header() -> Result<(), Error> {
        let repr = Repr::parse(&Packet::new_checked(&ROUTER_SOLICIT[..])?)?;
        let mut out = [0xaau8; 40];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, ROUTER_SOLICIT[..40]);
        Ok(())
    }

    #[test]
    fn traffic_class_and_flow_label_are_split_correctly() {
        let mut bytes = [0u8; 40];
        Packet::new_unchecked(&mut bytes[..]).set_first_word(6, 0xb8, 0x12345);
        assert_eq!(bytes[..4], [0x6b, 0x81, 0x23, 0x45]);
        let p = Packet::new_unchecked(&bytes[..]);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (6, 0xb8, 0x12345)
        );
    }

    #[test]
    fn truncated_and_malformed_headers_are_rejected() {
        for len in 0..ROUTER_SOLICIT.len() {
            assert_eq!(
                Packet::new_checked(&ROUTER_SOLICIT[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
        }
        let mut v4 = ROUTER_SOLICIT;
        v4[0] = 0x45;
        assert_eq!(Packet::new_checked(&v4[..]).err(), Some(Error::Malformed));
    }
}
