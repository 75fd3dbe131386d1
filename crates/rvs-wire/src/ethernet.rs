//! Ethernet II frames: `EthernetAddress`, `EtherType`, the `Frame` view and its `Repr`.

use core::fmt;
use core::str::FromStr;

use crate::Error;
use crate::bytes::{Field, Rest, array, get_u16, put_u16};

/// A six-octet Ethernet (MAC) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);
    /// The all-zero address, used for "unknown" in ARP requests.
    pub const UNSPECIFIED: EthernetAddress = EthernetAddress([0; 6]);

    /// The six octets, in wire order.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Whether this is the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether the group bit is set (multicast, broadcast included).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the locally administered bit is set.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl FromStr for EthernetAddress {
    type Err = Error;

    /// Parses `aa:bb:cc:dd:ee:ff` (or with `-`); `Malformed` otherwise.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for octet in out.iter_mut() {
            let part = parts.next().ok_or(Error::Malformed)?;
            if part.is_empty() || part.len() > 2 {
                return Err(Error::Malformed);
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| Error::Malformed)?;
        }
        match parts.next() {
            None => Ok(EthernetAddress(out)),
            Some(_) => Err(Error::Malformed),
        }
    }
}

wire_enum! {
    /// The EtherType of an Ethernet II frame (or of the frame inside an 802.1Q tag).
    pub enum EtherType(u16) {
        /// IPv4 (0x0800).
        Ipv4 = 0x0800,
        /// ARP (0x0806).
        Arp = 0x0806,
        /// An IEEE 802.1Q VLAN tag follows (0x8100).
        Vlan = 0x8100,
        /// An IEEE 802.1ad service tag follows, "QinQ" (0x88a8).
        QinQ = 0x88a8,
        /// IPv6 (0x86dd).
        Ipv6 = 0x86dd,
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Unknown(n) => write!(f, "ethertype-{n:#06x}"),
            named => fmt::Debug::fmt(named, f),
        }
    }
}

/// A read/write view of an Ethernet II frame (without the trailing FCS).
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::{Field, Rest};
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: Rest = 14..;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than 14 bytes.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer after checking it holds a whole header.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, Error> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// `Truncated` if the buffer is shorter than the header.
    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Length of the header (always 14: a VLAN tag counts as payload).
    pub const fn header_len() -> usize {
        HEADER_LEN
    }

    /// The destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress(array(&self.buffer.as_ref()[field::DESTINATION]))
    }

    /// The source address.
    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress(array(&self.buffer.as_ref()[field::SOURCE]))
    }

    /// The EtherType.
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get_u16(&self.buffer.as_ref()[field::ETHERTYPE]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// The bytes after the header (with any padding the sender added).
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&value.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&value.0);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, value: EtherType) {
        put_u16(&mut self.buffer.as_mut()[field::ETHERTYPE], value.into());
    }

    /// The bytes after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Frame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: EthernetAddress,
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// Type of the payload.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads the header of a checked frame (any EtherType is accepted).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &Frame<&T>) -> Result<Repr, Error> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Length of the header this emits.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `frame`, whose buffer must hold at least 14 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    /// ARP request captured on a veth: 02:00:00:00:00:0a asks who has 10.99.0.2.
    const ARP_REQUEST: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x06, //
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //
        0x0a, 0x63, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x63, 0x00, 0x02,
    ];

    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0a]);

    #[test]
    fn reads_a_captured_frame() -> Result<(), Error> {
        let frame = Frame::new_checked(&ARP_REQUEST[..])?;
        assert_eq!(frame.dst_addr(), EthernetAddress::BROADCAST);
        assert_eq!(frame.src_addr(), MAC_A);
        assert_eq!(frame.ethertype(), EtherType::Arp);
        assert_eq!(frame.payload(), &ARP_REQUEST[14..]);
        let repr = Repr::parse(&frame)?;
        assert_eq!(
            repr,
            Repr {
                src_addr: MAC_A,
                dst_addr: EthernetAddress::BROADCAST,
                ethertype: EtherType::Arp
            }
        );
        Ok(())
    }

    #[test]
    fn emit_mirrors_parse() -> Result<(), Error> {
        let repr = Repr::parse(&Frame::new_checked(&ARP_REQUEST[..])?)?;
        let mut bytes = ARP_REQUEST;
        bytes[..14].fill(0);
        let mut frame = Frame::new_checked(&mut bytes[..])?;
        repr.emit(&mut frame);
        assert_eq!(bytes, ARP_REQUEST);
        Ok(())
    }

    #[test]
    fn truncated_header_is_rejected() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Frame::new_checked(&ARP_REQUEST[..len]).err(),
                Some(Error::Truncated)
            );
        }
        assert!(
            Frame::new_checked(&ARP_REQUEST[..HEADER_LEN]).is_ok_and(|f| f.payload().is_empty())
        );
    }

    #[test]
    fn vlan_and_unknown_ethertypes_are_recognised() {
        assert_eq!(EtherType::from(0x8100), EtherType::Vlan);
        assert_eq!(EtherType::from(0x88a8), EtherType::QinQ);
        assert_eq!(EtherType::from(0x86dd), EtherType::Ipv6);
        assert_eq!(EtherType::from(0x88cc), EtherType::Unknown(0x88cc));
        assert_eq!(u16::from(EtherType::Unknown(0x88cc)), 0x88cc);
        assert_eq!(EtherType::Unknown(0x88cc).to_string(), "ethertype-0x88cc");
    }

    #[test]
    fn address_classes() {
        assert!(
            EthernetAddress::BROADCAST.is_broadcast() && EthernetAddress::BROADCAST.is_multicast()
        );
        assert!(EthernetAddress([0x01, 0x00, 0x5e, 0, 0, 0x12]).is_multicast());
        assert!(MAC_A.is_unicast() && MAC_A.is_local());
        assert!(!EthernetAddress([0x00, 0x16, 0x3e, 1, 2, 3]).is_local());
    }

    #[test]
    fn address_text_round_trips() {
        assert_eq!(MAC_A.to_string(), "02:00:00:00:00:0a");
        assert_eq!("02:00:00:00:00:0a".parse::<EthernetAddress>(), Ok(MAC_A));
        assert_eq!("02-00-00-00-00-0A".parse::<EthernetAddress>(), Ok(MAC_A));
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:0a:01",
            "02:00:00:00:00:0g",
            "002:0:0:0:0:0",
            "2::0:0:0:0",
        ] {
            assert_eq!(
                bad.parse::<EthernetAddress>(),
                Err(Error::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn setters_write_the_fields() -> Result<(), Error> {
        let mut bytes = [0u8; 20];
        let mut frame = Frame::new_checked(&mut bytes[..])?;
        frame.set_dst_addr(MAC_A);
        frame.set_src_addr(EthernetAddress::BROADCAST);
        frame.set_ethertype(EtherType::Vlan);
        frame.payload_mut()[0] = 0xab;
        assert_eq!(
            bytes[..15],
            [
                2, 0, 0, 0, 0, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00, 0xab
            ]
        );
        Ok(())
    }
}
