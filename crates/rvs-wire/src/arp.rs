//! ARP (RFC 826): a view over any ARP packet, and a `Repr` for Ethernet/IPv4 ARP.

use crate::Error;
use crate::bytes::{Field, array, get_u16, put_u16};
use crate::ethernet::{EtherType, EthernetAddress};
use crate::ipv4::Ipv4Address;

wire_enum! {
    /// The ARP hardware type.
    pub enum Hardware(u16) {
        /// Ethernet (1).
        Ethernet = 1,
    }
}

wire_enum! {
    /// The ARP operation code.
    pub enum Operation(u16) {
        /// "Who has this protocol address?" (1).
        Request = 1,
        /// "This protocol address is at this hardware address" (2).
        Reply = 2,
    }
}

/// A read/write view of an ARP packet of any hardware and protocol address lengths.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    #![allow(non_snake_case)]
    use super::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;

    /// Sender hardware address.
    pub const fn SHA(hlen: u8, _plen: u8) -> Field {
        let start = OPER.end;
        start..start + hlen as usize
    }
    /// Sender protocol address.
    pub const fn SPA(hlen: u8, plen: u8) -> Field {
        let start = SHA(hlen, plen).end;
        start..start + plen as usize
    }
    /// Target hardware address.
    pub const fn THA(hlen: u8, plen: u8) -> Field {
        let start = SPA(hlen, plen).end;
        start..start + hlen as usize
    }
    /// Target protocol address.
    pub const fn TPA(hlen: u8, plen: u8) -> Field {
        let start = THA(hlen, plen).end;
        start..start + plen as usize
    }
}

/// Length of the fixed part, before the addresses.
pub const FIXED_LEN: usize = field::OPER.end;
/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = field::TPA(6, 4).end;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is too short.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking it holds the fixed part and all four addresses.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` unless the buffer holds the fixed part and the addresses it declares.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < FIXED_LEN || len < field::TPA(self.hardware_len(), self.protocol_len()).end {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The hardware type.
    pub fn hardware_type(&self) -> Hardware {
        Hardware::from(get_u16(&self.buffer.as_ref()[field::HTYPE]))
    }

    /// The protocol type (an EtherType).
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(get_u16(&self.buffer.as_ref()[field::PTYPE]))
    }

    /// The hardware address length, in octets.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// The protocol address length, in octets.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        Operation::from(get_u16(&self.buffer.as_ref()[field::OPER]))
    }

    /// The sender hardware address, raw.
    pub fn source_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::SHA(self.hardware_len(), self.protocol_len())]
    }

    /// The sender protocol address, raw.
    pub fn source_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::SPA(self.hardware_len(), self.protocol_len())]
    }

    /// The target hardware address, raw.
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::THA(self.hardware_len(), self.protocol_len())]
    }

    /// The target protocol address, raw.
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::TPA(self.hardware_len(), self.protocol_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, value: Hardware) {
        put_u16(&mut self.buffer.as_mut()[field::HTYPE], value.into());
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        put_u16(&mut self.buffer.as_mut()[field::PTYPE], value.into());
    }

    /// Sets the hardware address length (moves where the addresses are read).
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    /// Sets the protocol address length (moves where the addresses are read).
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, value: Operation) {
        put_u16(&mut self.buffer.as_mut()[field::OPER], value.into());
    }

    /// Sets the sender hardware address; `value` must be `hardware_len` bytes.
    pub fn set_source_hardware_addr(&mut self, value: &[u8]) {
        let range = field::SHA(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Sets the sender protocol address; `value` must be `protocol_len` bytes.
    pub fn set_source_protocol_addr(&mut self, value: &[u8]) {
        let range = field::SPA(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Sets the target hardware address; `value` must be `hardware_len` bytes.
    pub fn set_target_hardware_addr(&mut self, value: &[u8]) {
        let range = field::THA(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Sets the target protocol address; `value` must be `protocol_len` bytes.
    pub fn set_target_protocol_addr(&mut self, value: &[u8]) {
        let range = field::TPA(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }
}

/// The meaning of an Ethernet/IPv4 ARP packet, the only kind rvs speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Request or reply (or an unnamed code).
    pub operation: Operation,
    /// Sender MAC address.
    pub source_hardware_addr: EthernetAddress,
    /// Sender IPv4 address.
    pub source_protocol_addr: Ipv4Address,
    /// Target MAC address (ignored in requests; zero or broadcast by convention).
    pub target_hardware_addr: EthernetAddress,
    /// Target IPv4 address.
    pub target_protocol_addr: Ipv4Address,
}

impl Repr {
    /// A request asking who has `target`.
    pub fn request(mac: EthernetAddress, ip: Ipv4Address, target: Ipv4Address) -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: ip,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: target,
        }
    }

    /// A reply telling `to_mac`/`to_ip` that `ip` is at `mac`.
    pub fn reply(
        mac: EthernetAddress,
        ip: Ipv4Address,
        to_mac: EthernetAddress,
        to_ip: Ipv4Address,
    ) -> Repr {
        Repr {
            operation: Operation::Reply,
            source_hardware_addr: mac,
            source_protocol_addr: ip,
            target_hardware_addr: to_mac,
            target_protocol_addr: to_ip,
        }
    }

    /// A gratuitous ARP announcing `ip` at `mac`, laid out as keepalived sends it: a request
    /// whose sender and target IP are both `ip` and whose target MAC is broadcast.
    pub fn gratuitous(mac: EthernetAddress, ip: Ipv4Address) -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: ip,
            target_hardware_addr: EthernetAddress::BROADCAST,
            target_protocol_addr: ip,
        }
    }

    /// Whether this announces the sender's own address (sender IP equals target IP).
    pub fn is_gratuitous(&self) -> bool {
        self.source_protocol_addr == self.target_protocol_addr
    }

    /// Reads a checked packet; `Unsupported` unless it is Ethernet/IPv4 with 6- and 4-byte addresses.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr, Error> {
        packet.check_len()?;
        if packet.hardware_type() != Hardware::Ethernet
            || packet.protocol_type() != EtherType::Ipv4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(Repr {
            operation: packet.operation(),
            source_hardware_addr: EthernetAddress(array(packet.source_hardware_addr())),
            source_protocol_addr: Ipv4Address::from(array::<4>(packet.source_protocol_addr())),
            target_hardware_addr: EthernetAddress(array(packet.target_hardware_addr())),
            target_protocol_addr: Ipv4Address::from(array::<4>(packet.target_protocol_addr())),
        })
    }

    /// Length of the packet this emits (28).
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet into `packet`, whose buffer must hold at least 28 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_hardware_type(Hardware::Ethernet);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(&self.source_hardware_addr.0);
        packet.set_source_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(&self.target_hardware_addr.0);
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0a]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0b]);
    const IP_A: Ipv4Address = Ipv4Address::new(10, 99, 0, 1);
    const IP_B: Ipv4Address = Ipv4Address::new(10, 99, 0, 2);

    /// ARP payloads captured on a veth (after the 14-byte Ethernet header).
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //
        0x0a, 0x63, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x63, 0x00, 0x02,
    ];
    const REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, //
        0x0a, 0x63, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x63, 0x00, 0x01,
    ];

    #[test]
    fn reads_a_captured_request() -> Result<(), Error> {
        let packet = Packet::new_checked(&REQUEST[..])?;
        assert_eq!(packet.hardware_type(), Hardware::Ethernet);
        assert_eq!(packet.protocol_type(), EtherType::Ipv4);
        assert_eq!((packet.hardware_len(), packet.protocol_len()), (6, 4));
        assert_eq!(packet.operation(), Operation::Request);
        assert_eq!(packet.source_hardware_addr(), &MAC_A.0);
        assert_eq!(packet.target_protocol_addr(), &[10, 99, 0, 2]);
        assert_eq!(Repr::parse(&packet)?, Repr::request(MAC_A, IP_A, IP_B));
        Ok(())
    }

    #[test]
    fn reads_a_captured_reply() -> Result<(), Error> {
        let repr = Repr::parse(&Packet::new_checked(&REPLY[..])?)?;
        assert_eq!(repr, Repr::reply(MAC_B, IP_B, MAC_A, IP_A));
        assert!(!repr.is_gratuitous());
        Ok(())
    }

    #[test]
    fn emit_reproduces_captured_bytes() {
        for (repr, expected) in [
            (Repr::request(MAC_A, IP_A, IP_B), REQUEST),
            (Repr::reply(MAC_B, IP_B, MAC_A, IP_A), REPLY),
        ] {
            let mut bytes = [0xeeu8; 28];
            repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
            assert_eq!(bytes, expected);
            assert_eq!(repr.buffer_len(), 28);
        }
    }

    #[test]
    fn gratuitous_arp_matches_keepalived_layout() -> Result<(), Error> {
        let repr = Repr::gratuitous(MAC_A, IP_A);
        let mut bytes = [0u8; 28];
        repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(
            bytes,
            [
                0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                0x0a, //
                0x0a, 0x63, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x63, 0x00, 0x01,
            ]
        );
        let parsed = Repr::parse(&Packet::new_checked(&bytes[..])?)?;
        assert!(parsed.is_gratuitous());
        assert_eq!(parsed, repr);
        Ok(())
    }

    #[test]
    fn truncated_packets_are_rejected() {
        for len in 0..REQUEST.len() {
            assert_eq!(
                Packet::new_checked(&REQUEST[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
        }
    }

    #[test]
    fn address_lengths_decide_the_needed_length() {
        // Declaring 255-byte addresses makes even the full buffer too short.
        let mut bytes = REQUEST;
        bytes[4] = 0xff;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
        // Zero-length addresses make the 8 fixed bytes enough.
        let mut bytes = REQUEST;
        bytes[4] = 0;
        bytes[5] = 0;
        assert!(Packet::new_checked(&bytes[..8]).is_ok());
    }

    #[test]
    fn non_ethernet_ipv4_arp_is_unsupported() -> Result<(), Error> {
        for (at, value) in [(1, 6u8), (2, 0x86), (4, 8), (5, 16)] {
            let mut bytes = [0u8; 64];
            bytes[..28].copy_from_slice(&REQUEST);
            bytes[at] = value;
            let packet = Packet::new_checked(&bytes[..])?;
            assert_eq!(
                Repr::parse(&packet),
                Err(Error::Unsupported),
                "byte {at} = {value}"
            );
        }
        Ok(())
    }

    #[test]
    fn unknown_operations_are_kept() -> Result<(), Error> {
        let mut bytes = REQUEST;
        bytes[7] = 9;
        let repr = Repr::parse(&Packet::new_checked(&bytes[..])?)?;
        assert_eq!(repr.operation, Operation::Unknown(9));
        let mut out = [0u8; 28];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes);
        Ok(())
    }
}
