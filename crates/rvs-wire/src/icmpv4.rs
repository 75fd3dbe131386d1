//! ICMPv4 (RFC 792): echo, destination unreachable (with RFC 1191 next-hop MTU), time exceeded,
//! and the original datagram that error messages quote.

use crate::bytes::{Field, Rest, array, get_u16, put_u16};
use crate::{Error, checksum, ipv4};

wire_enum! {
    /// The ICMPv4 message type.
    pub enum Message(u8) {
        /// Echo reply (0).
        EchoReply = 0,
        /// Destination unreachable (3).
        DstUnreachable = 3,
        /// Redirect (5).
        Redirect = 5,
        /// Echo request (8).
        EchoRequest = 8,
        /// Router advertisement (9).
        RouterAdvert = 9,
        /// Router solicitation (10).
        RouterSolicit = 10,
        /// Time exceeded (11).
        TimeExceeded = 11,
        /// Parameter problem (12).
        ParamProblem = 12,
        /// Timestamp (13).
        Timestamp = 13,
        /// Timestamp reply (14).
        TimestampReply = 14,
    }
}

impl Message {
    /// Whether messages of this type quote the datagram that caused them.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Message::DstUnreachable
                | Message::Redirect
                | Message::TimeExceeded
                | Message::ParamProblem
        )
    }
}

wire_enum! {
    /// The code of a destination-unreachable message.
    pub enum DstUnreachable(u8) {
        /// Network unreachable (0).
        NetUnreachable = 0,
        /// Host unreachable (1).
        HostUnreachable = 1,
        /// Protocol unreachable (2).
        ProtoUnreachable = 2,
        /// Port unreachable (3).
        PortUnreachable = 3,
        /// Fragmentation needed and DF set; carries the next-hop MTU (4).
        FragRequired = 4,
        /// Source route failed (5).
        SrcRouteFailed = 5,
        /// Destination network unknown (6).
        DstNetUnknown = 6,
        /// Destination host unknown (7).
        DstHostUnknown = 7,
        /// Source host isolated (8).
        SrcHostIsolated = 8,
        /// Network administratively prohibited (9).
        NetProhibited = 9,
        /// Host administratively prohibited (10).
        HostProhibited = 10,
        /// Network unreachable for type of service (11).
        NetUnreachToS = 11,
        /// Host unreachable for type of service (12).
        HostUnreachToS = 12,
        /// Communication administratively prohibited (13).
        CommProhibited = 13,
        /// Host precedence violation (14).
        HostPrecedenceViolation = 14,
        /// Precedence cutoff in effect (15).
        PrecedenceCutoff = 15,
    }
}

wire_enum! {
    /// The code of a time-exceeded message.
    pub enum TimeExceeded(u8) {
        /// TTL reached zero in transit (0).
        TtlExpired = 0,
        /// Fragment reassembly time exceeded (1).
        FragExpired = 1,
    }
}

/// A read/write view of an ICMPv4 message; the buffer must span exactly the message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::{Field, Rest};
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const REST_OF_HEADER: Field = 4..8;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQ_NO: Field = 6..8;
    pub const NEXT_HOP_MTU: Field = 6..8;
    pub const DATA: Rest = 8..;
}

/// Length of the header, "rest of header" included.
pub const HEADER_LEN: usize = field::DATA.start;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than 8 bytes.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking it holds the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
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

    /// The message type.
    pub fn msg_type(&self) -> Message {
        Message::from(self.buffer.as_ref()[field::TYPE])
    }

    /// The message code (its meaning depends on the type).
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Bytes 4 to 8, whose meaning depends on the type.
    pub fn rest_of_header(&self) -> [u8; 4] {
        array(&self.buffer.as_ref()[field::REST_OF_HEADER])
    }

    /// The identifier of an echo request or reply.
    pub fn echo_ident(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    /// The sequence number of an echo request or reply.
    pub fn echo_seq_no(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::ECHO_SEQ_NO])
    }

    /// The next-hop MTU of a fragmentation-needed message (RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::NEXT_HOP_MTU])
    }

    /// Whether the checksum over the whole message is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::data(self.buffer.as_ref()) == 0xffff
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the header: echo data, or the quoted datagram of an error.
    pub fn data(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::DATA]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: Message) {
        self.buffer.as_mut()[field::TYPE] = value.into();
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    /// Sets bytes 4 to 8.
    pub fn set_rest_of_header(&mut self, value: [u8; 4]) {
        self.buffer.as_mut()[field::REST_OF_HEADER].copy_from_slice(&value);
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::ECHO_IDENT], value);
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::ECHO_SEQ_NO], value);
    }

    /// Sets the next-hop MTU.
    pub fn set_next_hop_mtu(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::NEXT_HOP_MTU], value);
    }

    /// The bytes after the header, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA]
    }

    /// Computes the checksum over the whole message and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(self.buffer.as_ref());
        self.set_checksum(checksum::finish(sum));
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an ICMPv4 message; anything the named variants cannot hold exactly is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repr<'a> {
    /// Echo request ("ping").
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data to be echoed.
        data: &'a [u8],
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echoed data.
        data: &'a [u8],
    },
    /// Destination unreachable.
    DstUnreachable {
        /// Why (the code).
        reason: DstUnreachable,
        /// Next-hop MTU, meaningful for `FragRequired` and zero otherwise.
        next_hop_mtu: u16,
        /// The start of the datagram that could not be delivered.
        quoted: &'a [u8],
    },
    /// Time exceeded.
    TimeExceeded {
        /// Why (the code).
        reason: TimeExceeded,
        /// The start of the datagram that was dropped.
        quoted: &'a [u8],
    },
    /// Any other message, kept raw.
    Other {
        /// Message type.
        message: Message,
        /// Message code.
        code: u8,
        /// Bytes 4 to 8.
        rest_of_header: [u8; 4],
        /// The bytes after the header.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Reads a message, checking length and checksum.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let data = packet.data();
        let rest = packet.rest_of_header();
        Ok(match (packet.msg_type(), packet.msg_code(), rest) {
            (Message::EchoRequest, 0, _) => Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            (Message::EchoReply, 0, _) => Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            (Message::DstUnreachable, code, [0, 0, _, _]) => Repr::DstUnreachable {
                reason: DstUnreachable::from(code),
                next_hop_mtu: packet.next_hop_mtu(),
                quoted: data,
            },
            (Message::TimeExceeded, code, [0, 0, 0, 0]) => Repr::TimeExceeded {
                reason: TimeExceeded::from(code),
                quoted: data,
            },
            (message, code, rest_of_header) => Repr::Other {
                message,
                code,
                rest_of_header,
                data,
            },
        })
    }

    /// The quoted datagram of an error message, `None` for other messages.
    pub fn quoted(&self) -> Option<&'a [u8]> {
        match *self {
            Repr::DstUnreachable { quoted, .. } | Repr::TimeExceeded { quoted, .. } => Some(quoted),
            Repr::Other { message, data, .. } if message.is_error() => Some(data),
            _ => None,
        }
    }

    /// The quoted datagram as an IPv4 view whose payload may be cut short;
    /// `Unsupported` for messages that quote nothing.
    pub fn quoted_ipv4(&self) -> Result<ipv4::Packet<&'a [u8]>, Error> {
        let quoted = self.quoted().ok_or(Error::Unsupported)?;
        ipv4::Packet::new_checked_quoted(quoted)
    }

    /// The bytes after the header.
    fn data(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::Other { data, .. } => data,
            Repr::DstUnreachable { quoted, .. } | Repr::TimeExceeded { quoted, .. } => quoted,
        }
    }

    /// Length of the message this emits.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Writes the message with its checksum; the buffer must be exactly `buffer_len` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_rest_of_header([0; 4]);
        match *self {
            Repr::EchoRequest { ident, seq_no, .. } | Repr::EchoReply { ident, seq_no, .. } => {
                let message = if matches!(self, Repr::EchoRequest { .. }) {
                    Message::EchoRequest
                } else {
                    Message::EchoReply
                };
                packet.set_msg_type(message);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                packet.set_msg_type(Message::DstUnreachable);
                packet.set_msg_code(reason.into());
                packet.set_next_hop_mtu(next_hop_mtu);
            }
            Repr::TimeExceeded { reason, .. } => {
                packet.set_msg_type(Message::TimeExceeded);
                packet.set_msg_code(reason.into());
            }
            Repr::Other {
                message,
                code,
                rest_of_header,
                ..
            } => {
                packet.set_msg_type(message);
                packet.set_msg_code(code);
                packet.set_rest_of_header(rest_of_header);
            }
        }
        packet.data_mut().copy_from_slice(self.data());
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::IpProtocol;
    use crate::ipv4::Ipv4Address;
    use std::vec::Vec;

    // ICMP messages captured on veths (IP and Ethernet headers stripped).

    /// Echo request, id 0x1234, seq 1, data "ABCDEFGH".
    const ECHO_REQUEST: [u8; 16] = [
        0x08, 0x00, 0xd4, 0xb5, 0x12, 0x34, 0x00, 0x01, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
        0x48,
    ];
    /// The Linux reply to it.
    const ECHO_REPLY: [u8; 16] = [
        0x00, 0x00, 0xdc, 0xb5, 0x12, 0x34, 0x00, 0x01, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
        0x48,
    ];
    /// Port unreachable for UDP 10.99.0.1:40001 -> 10.99.0.2:5353, quoting the whole datagram.
    const PORT_UNREACHABLE: [u8; 41] = [
        0x03, 0x03, 0x11, 0xe4, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x21, 0xf3, 0x15, 0x40,
        0x00, //
        0x40, 0x11, 0x32, 0xee, 0x0a, 0x63, 0x00, 0x01, 0x0a, 0x63, 0x00, 0x02, 0x9c, 0x41, 0x14,
        0xe9, //
        0x00, 0x0d, 0xf6, 0x0e, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    ];
    /// TTL expired at a router, quoting UDP 10.99.1.10:40003 -> 10.99.2.10:9999 sent with TTL 1.
    const TIME_EXCEEDED: [u8; 39] = [
        0x0b, 0x00, 0x0c, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x1f, 0x18, 0x66, 0x40,
        0x00, //
        0x01, 0x11, 0x49, 0x8f, 0x0a, 0x63, 0x01, 0x0a, 0x0a, 0x63, 0x02, 0x0a, 0x9c, 0x43, 0x27,
        0x0f, //
        0x00, 0x0b, 0x44, 0x37, 0x74, 0x74, 0x6c,
    ];
    /// First 36 bytes of a frag-needed (MTU 1000) for a 1228-byte DF datagram; 520 bytes of
    /// 'x' follow in the capture (the router quoted 548 of its 1228 bytes).
    const FRAG_NEEDED_HEAD: [u8; 36] = [
        0x03, 0x04, 0x15, 0xb7, 0x00, 0x00, 0x03, 0xe8, 0x45, 0x00, 0x04, 0xcc, 0x00, 0x00, 0x40,
        0x00, //
        0x40, 0x11, 0x1e, 0x48, 0x0a, 0x63, 0x01, 0x0a, 0x0a, 0x63, 0x02, 0x0a, 0x9c, 0x42, 0x27,
        0x0f, //
        0x04, 0xb8, 0xc0, 0xf8,
    ];

    fn frag_needed() -> Vec<u8> {
        let mut v = Vec::from(FRAG_NEEDED_HEAD);
        v.resize(36 + 520, b'x');
        v
    }

    fn round_trip(bytes: &[u8]) -> Result<Repr<'_>, Error> {
        let repr = Repr::parse(&Packet::new_checked(bytes)?)?;
        let mut out = std::vec![0xaau8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes, "emit of {repr:?}");
        Ok(repr)
    }

    #[test]
    fn echo_request_and_reply() -> Result<(), Error> {
        let p = Packet::new_checked(&ECHO_REQUEST[..])?;
        assert_eq!(
            (p.msg_type(), p.msg_code(), p.checksum()),
            (Message::EchoRequest, 0, 0xd4b5)
        );
        assert_eq!(
            (p.echo_ident(), p.echo_seq_no(), p.data()),
            (0x1234, 1, &b"ABCDEFGH"[..])
        );
        assert_eq!(
            round_trip(&ECHO_REQUEST)?,
            Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: b"ABCDEFGH"
            }
        );
        assert_eq!(
            round_trip(&ECHO_REPLY)?,
            Repr::EchoReply {
                ident: 0x1234,
                seq_no: 1,
                data: b"ABCDEFGH"
            }
        );
        assert_eq!(Repr::parse(&p)?.quoted(), None);
        assert_eq!(
            Repr::parse(&p)?.quoted_ipv4().err(),
            Some(Error::Unsupported)
        );
        Ok(())
    }

    #[test]
    fn port_unreachable_quotes_the_datagram() -> Result<(), Error> {
        let repr = round_trip(&PORT_UNREACHABLE)?;
        assert_eq!(
            repr,
            Repr::DstUnreachable {
                reason: DstUnreachable::PortUnreachable,
                next_hop_mtu: 0,
                quoted: &PORT_UNREACHABLE[8..]
            }
        );
        let inner = repr.quoted_ipv4()?;
        assert_eq!(inner.protocol(), IpProtocol::Udp);
        assert_eq!(inner.src_addr(), Ipv4Address::new(10, 99, 0, 1));
        assert_eq!(inner.ports(), Some((40001, 5353)));
        Ok(())
    }

    #[test]
    fn frag_needed_carries_mtu_and_a_cut_datagram() -> Result<(), Error> {
        let bytes = frag_needed();
        let p = Packet::new_checked(&bytes[..])?;
        assert_eq!(p.next_hop_mtu(), 1000);
        let repr = round_trip(&bytes)?;
        assert!(matches!(
            repr,
            Repr::DstUnreachable {
                reason: DstUnreachable::FragRequired,
                next_hop_mtu: 1000,
                ..
            }
        ));
        let inner = repr.quoted_ipv4()?;
        assert_eq!(inner.total_len(), 1228);
        assert_eq!(inner.payload().len(), 528);
        assert!(inner.dont_frag());
        assert_eq!(inner.ports(), Some((40002, 9999)));
        assert_eq!(inner.dst_addr(), Ipv4Address::new(10, 99, 2, 10));
        Ok(())
    }

    #[test]
    fn time_exceeded_quotes_the_ttl_one_datagram() -> Result<(), Error> {
        let repr = round_trip(&TIME_EXCEEDED)?;
        assert!(matches!(
            repr,
            Repr::TimeExceeded {
                reason: TimeExceeded::TtlExpired,
                ..
            }
        ));
        let inner = repr.quoted_ipv4()?;
        assert_eq!((inner.ttl(), inner.ports()), (1, Some((40003, 9999))));
        assert!(inner.verify_checksum());
        Ok(())
    }

    #[test]
    fn unnamed_shapes_fall_back_to_other_losslessly() -> Result<(), Error> {
        // Echo request with a nonzero code, an RFC 4884 length byte, and an unknown type.
        let mut odd_code = ECHO_REQUEST;
        odd_code[1] = 7;
        let mut rfc4884 = TIME_EXCEEDED;
        rfc4884[5] = 8;
        let mut unknown = ECHO_REPLY;
        unknown[0] = 42;
        for mut bytes in [Vec::from(odd_code), Vec::from(rfc4884), Vec::from(unknown)] {
            Packet::new_unchecked(&mut bytes[..]).fill_checksum();
            let repr = round_trip(&bytes)?;
            assert!(matches!(repr, Repr::Other { .. }), "{repr:?}");
        }
        let mut bytes = Vec::from(unknown);
        Packet::new_unchecked(&mut bytes[..]).fill_checksum();
        assert!(matches!(
            round_trip(&bytes)?,
            Repr::Other {
                message: Message::Unknown(42),
                ..
            }
        ));
        Ok(())
    }

    #[test]
    fn truncated_and_corrupt_messages_are_rejected() -> Result<(), Error> {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Packet::new_checked(&ECHO_REQUEST[..len]).err(),
                Some(Error::Truncated)
            );
        }
        // A short message is a valid view but a different checksum.
        let cut = Packet::new_checked(&ECHO_REQUEST[..12])?;
        assert_eq!(Repr::parse(&cut), Err(Error::Checksum));
        // A quoted datagram too short for its IPv4 header.
        let mut short = Vec::from(&PORT_UNREACHABLE[..20]);
        Packet::new_unchecked(&mut short[..]).fill_checksum();
        let repr = Repr::parse(&Packet::new_checked(&short[..])?)?;
        assert_eq!(repr.quoted_ipv4().err(), Some(Error::Truncated));
        Ok(())
    }

    #[test]
    fn error_types_are_classified() {
        assert!(Message::DstUnreachable.is_error() && Message::TimeExceeded.is_error());
        assert!(!Message::EchoRequest.is_error() && !Message::Unknown(42).is_error());
        assert_eq!(DstUnreachable::from(4), DstUnreachable::FragRequired);
        assert_eq!(TimeExceeded::from(9), TimeExceeded::Unknown(9));
    }
}
