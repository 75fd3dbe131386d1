//! TCP (RFC 9293): `TcpFlags`, the `Packet` view (options left raw) and its `Repr`.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

use crate::bytes::{Field, get_u16, get_u32, put_u16, put_u32};
use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Address;
use crate::{Error, HeaderOptions, checksum};

/// The nine TCP control bits, FIN (bit 0) to NS (bit 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TcpFlags(u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronise sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// The acknowledgment number is valid.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// The urgent pointer is valid.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// ECN nonce (historic).
    pub const NS: TcpFlags = TcpFlags(0x100);

    /// No flags.
    pub const fn empty() -> TcpFlags {
        TcpFlags(0)
    }

    /// Flags from the low 9 bits of `bits` (the rest are dropped).
    pub const fn from_bits_truncate(bits: u16) -> TcpFlags {
        TcpFlags(bits & 0x1ff)
    }

    /// The flags as bits, FIN in bit 0.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump's notation: `S`, `S.`, `R.`, `FP.`…, with `.` for ACK and `none` for no flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::FIN, 'F'),
            (Self::SYN, 'S'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::ACK, '.'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
            (Self::NS, 'N'),
        ];
        if self.is_empty() {
            return f.write_str("none");
        }
        for (flag, name) in names {
            if self.contains(flag) {
                write!(f, "{name}")?;
            }
        }
        Ok(())
    }
}

/// A read/write view of a TCP segment; the buffer must span exactly the segment (the IP payload).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const OFF_FLAGS: Field = 12..14;
    pub const WINDOW: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking the data offset and that the whole header is present.
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
        if self.data_offset() < 5 {
            return Err(Error::Malformed);
        }
        if self.header_len() > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// The sequence number.
    pub fn seq_number(&self) -> u32 {
        get_u32(&self.buffer.as_ref()[field::SEQ_NUM])
    }

    /// The acknowledgment number (meaningful when ACK is set).
    pub fn ack_number(&self) -> u32 {
        get_u32(&self.buffer.as_ref()[field::ACK_NUM])
    }

    /// The data offset field: header length in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::OFF_FLAGS.start] >> 4
    }

    /// The header length in octets (20 to 60).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// The control flags.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits_truncate(get_u16(&self.buffer.as_ref()[field::OFF_FLAGS]))
    }

    /// The window size.
    pub fn window_len(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::WINDOW])
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The urgent pointer.
    pub fn urgent_pointer(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::URGENT])
    }

    /// The option bytes, raw.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// Sum of the pseudo-header and the whole buffer.
    fn sum(&self, src: Ipv4Address, dst: Ipv4Address) -> u16 {
        let data = self.buffer.as_ref();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        checksum::combine(&[
            checksum::pseudo_header_v4(src, dst, IpProtocol::Tcp, len),
            checksum::data(data),
        ])
    }

    /// Whether the checksum is right for a segment between `src` and `dst`.
    pub fn verify_checksum(&self, src: Ipv4Address, dst: Ipv4Address) -> bool {
        self.sum(src, dst) == 0xffff
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The data after the header.
    pub fn payload(&self) -> &'a [u8] {
        let start = self.header_len();
        &self.buffer.as_ref()[start..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::SRC_PORT], value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::DST_PORT], value);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, value: u32) {
        put_u32(&mut self.buffer.as_mut()[field::SEQ_NUM], value);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, value: u32) {
        put_u32(&mut self.buffer.as_mut()[field::ACK_NUM], value);
    }

    /// Sets the data offset (header length in 32-bit words; only the low 4 bits are kept).
    pub fn set_data_offset(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::OFF_FLAGS.start];
        *b = (*b & 0x0f) | (value << 4);
    }

    /// Sets the control flags, keeping the data offset and reserved bits.
    pub fn set_flags(&mut self, value: TcpFlags) {
        let raw = get_u16(&self.buffer.as_ref()[field::OFF_FLAGS]);
        put_u16(
            &mut self.buffer.as_mut()[field::OFF_FLAGS],
            (raw & !0x1ff) | value.bits(),
        );
    }

    /// Sets the window size.
    pub fn set_window_len(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::WINDOW], value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_pointer(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::URGENT], value);
    }

    /// The option bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// The data after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }

    /// Computes the checksum over pseudo-header and segment and writes it.
    pub fn fill_checksum(&mut self, src: Ipv4Address, dst: Ipv4Address) {
        self.set_checksum(0);
        let sum = self.sum(src, dst);
        self.set_checksum(checksum::finish(sum));
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of a TCP segment (reserved bits are dropped; options stay raw).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number.
    pub ack_number: u32,
    /// Control flags.
    pub flags: TcpFlags,
    /// Window size.
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_pointer: u16,
    /// Header options, raw.
    pub options: HeaderOptions<'a>,
    /// Data.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a segment sent from `src` to `dst`, checking lengths and the checksum.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: Ipv4Address,
        dst: Ipv4Address,
    ) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let bytes: &'a [u8] = packet.buffer.as_ref();
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_pointer: packet.urgent_pointer(),
            options: HeaderOptions::new(&bytes[HEADER_LEN..packet.header_len()])?,
            payload: packet.payload(),
        })
    }

    /// Length of the header this emits.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Length of the segment this emits: header, options and payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes the segment with its checksum; the buffer must be exactly `buffer_len` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv4Address,
        dst: Ipv4Address,
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        put_u16(&mut packet.buffer.as_mut()[field::OFF_FLAGS], 0);
        // header_len is 20..=60 because HeaderOptions holds at most 40 bytes.
        packet.set_data_offset((self.header_len() / 4) as u8);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_urgent_pointer(self.urgent_pointer);
        packet
            .options_mut()
            .copy_from_slice(self.options.as_bytes());
        packet.payload_mut().copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    const IP_A: Ipv4Address = Ipv4Address::new(10, 99, 0, 1);
    const IP_B: Ipv4Address = Ipv4Address::new(10, 99, 0, 2);

    /// SYN captured on a veth with checksum offload off: 10.99.0.1:40000 -> 10.99.0.2:8080,
    /// options mss 1460, sackOK, TS, nop, wscale 10.
    const SYN: [u8; 40] = [
        0x9c, 0x40, 0x1f, 0x90, 0x3c, 0x8f, 0xf3, 0xd5, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa,
        0xf0, //
        0x08, 0x0f, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x61, 0xc1, 0xe2,
        0x3d, //
        0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
    ];

    /// The RST+ACK that answered it (10.99.0.2:8080 -> 10.99.0.1:40000).
    const RST_ACK: [u8; 20] = [
        0x1f, 0x90, 0x9c, 0x40, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x8f, 0xf3, 0xd6, 0x50, 0x14, 0x00,
        0x00, //
        0xae, 0xd1, 0x00, 0x00,
    ];

    #[test]
    fn reads_a_captured_syn() -> Result<(), Error> {
        let p = Packet::new_checked(&SYN[..])?;
        assert_eq!((p.src_port(), p.dst_port()), (40000, 8080));
        assert_eq!((p.seq_number(), p.ack_number()), (1016067029, 0));
        assert_eq!((p.data_offset(), p.header_len()), (10, 40));
        assert_eq!(p.flags(), TcpFlags::SYN);
        assert_eq!(
            (p.window_len(), p.checksum(), p.urgent_pointer()),
            (64240, 0x080f, 0)
        );
        assert_eq!(p.options(), &SYN[20..]);
        assert!(p.payload().is_empty());
        assert!(p.verify_checksum(IP_A, IP_B));
        // The pseudo-header sum is symmetric in the addresses, so test a different one.
        assert!(!p.verify_checksum(IP_A, Ipv4Address::new(10, 99, 0, 3)));
        Ok(())
    }

    #[test]
    fn parse_then_emit_reproduces_captured_segments() -> Result<(), Error> {
        for (bytes, src, dst) in [(&SYN[..], IP_A, IP_B), (&RST_ACK[..], IP_B, IP_A)] {
            let repr = Repr::parse(&Packet::new_checked(bytes)?, src, dst)?;
            let mut out = std::vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut out[..]), src, dst);
            assert_eq!(out, bytes);
        }
        Ok(())
    }

    #[test]
    fn rst_ack_fields() -> Result<(), Error> {
        let repr = Repr::parse(&Packet::new_checked(&RST_ACK[..])?, IP_B, IP_A)?;
        assert_eq!(repr.flags, TcpFlags::RST | TcpFlags::ACK);
        assert_eq!(repr.ack_number, 1016067030);
        assert!(repr.options.is_empty());
        Ok(())
    }

    #[test]
    fn payload_follows_options_and_is_checksummed() -> Result<(), Error> {
        let repr = Repr {
            src_port: 80,
            dst_port: 33000,
            seq_number: 7,
            ack_number: 9,
            flags: TcpFlags::PSH | TcpFlags::ACK,
            window_len: 502,
            urgent_pointer: 0,
            options: HeaderOptions::new(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2])?,
            payload: b"HTTP/1.0 200 OK\r\n",
        };
        let mut out = std::vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]), IP_B, IP_A);
        let p = Packet::new_checked(&out[..])?;
        assert_eq!(p.header_len(), 32);
        assert_eq!(p.payload(), b"HTTP/1.0 200 OK\r\n");
        assert_eq!(Repr::parse(&p, IP_B, IP_A)?, repr);
        out[40] ^= 0x20;
        assert_eq!(
            Repr::parse(&Packet::new_checked(&out[..])?, IP_B, IP_A),
            Err(Error::Checksum)
        );
        Ok(())
    }

    #[test]
    fn truncated_and_malformed_segments_are_rejected() {
        for len in 0..SYN.len() {
            assert_eq!(
                Packet::new_checked(&SYN[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
        }
        for offset in 0..5u8 {
            let mut bytes = RST_ACK;
            bytes[12] = offset << 4;
            assert_eq!(
                Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn set_flags_keeps_data_offset_and_reserved_bits() {
        let mut bytes = RST_ACK;
        bytes[12] = 0x5e; // data offset 5, reserved bits 111, NS set
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_flags(TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR);
        assert_eq!(bytes[12..14], [0x5e, 0xc2]);
        assert_eq!(
            Packet::new_unchecked(&bytes[..]).flags(),
            TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR
        );
    }

    #[test]
    fn flags_print_like_tcpdump() {
        let shown: Vec<_> = [
            TcpFlags::SYN,
            TcpFlags::SYN | TcpFlags::ACK,
            TcpFlags::RST | TcpFlags::ACK,
            TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK,
            TcpFlags::empty(),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(shown, ["S", "S.", "R.", "FP.", "none"]);
        assert!(TcpFlags::from_bits_truncate(0xffff).contains(TcpFlags::NS));
        assert_eq!(TcpFlags::from_bits_truncate(0xffff).bits(), 0x1ff);
        assert!((TcpFlags::SYN | TcpFlags::ACK).intersects(TcpFlags::ACK | TcpFlags::FIN));
        assert!(!(TcpFlags::SYN | TcpFlags::ACK).contains(TcpFlags::ACK | TcpFlags::FIN));
    }
}
