//! UDP (RFC 768): the `Packet` view and its `Repr`, with the "no checksum" zero of UDP over IPv4.

use crate::bytes::{Field, get_u16, put_u16};
use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Address;
use crate::{Error, checksum};

/// A read/write view of a UDP datagram; the buffer may run past the length field (padding).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking the length field against the header and the buffer.
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
        let declared = usize::from(self.len());
        if declared < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if declared > len {
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

    /// The length field: header and payload, in octets.
    #[allow(clippy::len_without_is_empty)] // a header field, not a container length
    pub fn len(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The checksum field (zero: the sender computed none).
    pub fn checksum(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Whether the sender filled in a checksum (over IPv4 it may send zero instead).
    pub fn has_checksum(&self) -> bool {
        self.checksum() != 0
    }

    /// Sum of the pseudo-header and the `len` bytes of the datagram.
    fn sum(&self, src: Ipv4Address, dst: Ipv4Address) -> u16 {
        let end = usize::from(self.len()).min(self.buffer.as_ref().len());
        let pseudo = checksum::pseudo_header_v4(src, dst, IpProtocol::Udp, u32::from(self.len()));
        checksum::combine(&[pseudo, checksum::data(&self.buffer.as_ref()[..end])])
    }

    /// Whether the checksum is right for a datagram from `src` to `dst`; a zero field passes.
    pub fn verify_checksum(&self, src: Ipv4Address, dst: Ipv4Address) -> bool {
        !self.has_checksum() || self.sum(src, dst) == 0xffff
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload: the bytes after the header up to the length field.
    pub fn payload(&self) -> &'a [u8] {
        let end = usize::from(self.len()).clamp(HEADER_LEN, self.buffer.as_ref().len());
        &self.buffer.as_ref()[HEADER_LEN..end]
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

    /// Sets the length field.
    pub fn set_len(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// Sets the checksum field (zero means "no checksum").
    pub fn set_checksum(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len()).clamp(HEADER_LEN, self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// Computes and writes the checksum; a computed zero is sent as `0xffff` (RFC 768).
    pub fn fill_checksum(&mut self, src: Ipv4Address, dst: Ipv4Address) {
        self.set_checksum(0);
        let value = match checksum::finish(self.sum(src, dst)) {
            0 => 0xffff,
            c => c,
        };
        self.set_checksum(value);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Data.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a datagram sent from `src` to `dst`, checking lengths and any checksum present.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: Ipv4Address,
        dst: Ipv4Address,
    ) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload: packet.payload(),
        })
    }

    /// Length of the datagram this emits.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes the datagram with a checksum (set it to zero afterwards to send none).
    ///
    /// The buffer must hold `buffer_len` bytes; a payload over 65527 bytes saturates the length.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv4Address,
        dst: Ipv4Address,
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.payload_mut().copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP_A: Ipv4Address = Ipv4Address::new(10, 99, 0, 1);
    const IP_B: Ipv4Address = Ipv4Address::new(10, 99, 0, 2);

    /// Datagram captured on a veth (checksum offload off): 10.99.0.1:40001 -> 10.99.0.2:5353, "hello".
    const HELLO: [u8; 13] = [
        0x9c, 0x41, 0x14, 0xe9, 0x00, 0x0d, 0xf6, 0x0e, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    ];

    #[test]
    fn reads_a_captured_datagram() -> Result<(), Error> {
        let p = Packet::new_checked(&HELLO[..])?;
        assert_eq!(
            (p.src_port(), p.dst_port(), p.len(), p.checksum()),
            (40001, 5353, 13, 0xf60e)
        );
        assert_eq!(p.payload(), b"hello");
        assert!(p.has_checksum() && p.verify_checksum(IP_A, IP_B));
        let repr = Repr::parse(&p, IP_A, IP_B)?;
        assert_eq!(
            repr,
            Repr {
                src_port: 40001,
                dst_port: 5353,
                payload: b"hello"
            }
        );
        Ok(())
    }

    #[test]
    fn emit_reproduces_the_capture() {
        let repr = Repr {
            src_port: 40001,
            dst_port: 5353,
            payload: b"hello",
        };
        let mut out = [0u8; 13];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]), IP_A, IP_B);
        assert_eq!(out, HELLO);
    }

    #[test]
    fn zero_checksum_means_none_and_is_accepted() -> Result<(), Error> {
        let mut bytes = HELLO;
        bytes[6..8].fill(0);
        let p = Packet::new_checked(&bytes[..])?;
        assert!(!p.has_checksum());
        assert!(p.verify_checksum(IP_A, Ipv4Address::new(192, 0, 2, 1)));
        assert_eq!(Repr::parse(&p, IP_A, IP_B)?.payload, b"hello");
        Ok(())
    }

    #[test]
    fn computed_zero_is_sent_as_all_ones() -> Result<(), Error> {
        // Choose the payload word so that the data sums to ffff, making the plain checksum 0000.
        let mut bytes = [0u8; 10];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_src_port(1);
        p.set_dst_port(2);
        p.set_len(10);
        let rest = checksum::combine(&[
            checksum::pseudo_header_v4(IP_A, IP_B, IpProtocol::Udp, 10),
            checksum::data(&[0, 1, 0, 2, 0, 10, 0, 0]),
        ]);
        p.payload_mut().copy_from_slice(&(!rest).to_be_bytes());
        p.fill_checksum(IP_A, IP_B);
        let p = Packet::new_checked(&bytes[..])?;
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(IP_A, IP_B));
        Ok(())
    }

    #[test]
    fn wrong_checksum_is_rejected() -> Result<(), Error> {
        let mut bytes = HELLO;
        bytes[12] = b'O';
        let p = Packet::new_checked(&bytes[..])?;
        assert!(!p.verify_checksum(IP_A, IP_B));
        assert_eq!(Repr::parse(&p, IP_A, IP_B), Err(Error::Checksum));
        Ok(())
    }

    #[test]
    fn length_field_is_checked_against_header_and_buffer() {
        for len in 0..HELLO.len() {
            assert_eq!(
                Packet::new_checked(&HELLO[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
        }
        for declared in 0..8u8 {
            let mut bytes = HELLO;
            bytes[5] = declared;
            assert_eq!(
                Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed),
                "declared {declared}"
            );
        }
    }

    #[test]
    fn bytes_past_the_length_field_are_not_payload() -> Result<(), Error> {
        let mut padded = [0u8; 20];
        padded[..13].copy_from_slice(&HELLO);
        let p = Packet::new_checked(&padded[..])?;
        assert_eq!(p.payload(), b"hello");
        assert!(p.verify_checksum(IP_A, IP_B));
        Ok(())
    }
}
