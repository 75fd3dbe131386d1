//! VRRP advertisements, version 2 (RFC 3768) and 3 (RFC 5798): the `Packet` view and its `Repr`.
//!
//! The layout depends on the IP family carrying the message (4- or 16-byte addresses), which the
//! message itself does not say, so a view is made for a [`Family`] and `Repr::parse` takes the
//! [`PseudoHeader`] of the enclosing IP header. The checksum of version 2 covers the message only;
//! that of version 3 also covers the IPv4 or IPv6 pseudo-header (keepalived's default for IPv4,
//! i.e. without `vrrp_v3_checksum_as_v2`).

use core::fmt;
use core::net::IpAddr;

use crate::bytes::{Field, array, get_u16, put_u16};
use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Address;
use crate::ipv6::Ipv6Address;
use crate::{Error, checksum};

/// The IP protocol number of VRRP (112).
pub const IP_PROTOCOL: IpProtocol = IpProtocol::Vrrp;
/// The IPv4 group advertisements are sent to.
pub const MULTICAST_V4: Ipv4Address = Ipv4Address::new(224, 0, 0, 18);
/// The IPv6 group advertisements are sent to.
pub const MULTICAST_V6: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The TTL (IPv4) or hop limit (IPv6) an advertisement must be sent and received with.
pub const TTL: u8 = 255;
/// The only message type: ADVERTISEMENT.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// Length of the fixed header, before the addresses.
pub const HEADER_LEN: usize = field::ADDRESSES;
/// Length of the version 2 authentication data that follows the addresses.
pub const AUTH_DATA_LEN: usize = 8;
/// Most addresses one advertisement can list (the count is one byte).
pub const MAX_ADDRESSES: usize = 255;
/// Largest version 3 advertisement interval, in centiseconds (a 12-bit field).
pub const MAX_ADVERT_INT_V3_CS: u16 = 0x0fff;
/// Largest version 2 advertisement interval, in centiseconds (a one-byte field of seconds).
pub const MAX_ADVERT_INT_V2_CS: u16 = 255 * 100;

mod field {
    use super::Field;
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// Version 2: authentication type.
    pub const AUTH_TYPE: usize = 4;
    /// Version 2: advertisement interval in seconds.
    pub const ADVER_INT: usize = 5;
    /// Version 3: 4 reserved bits and the 12-bit maximum advertisement interval.
    pub const MAX_ADVER_INT: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const ADDRESSES: usize = 8;
}

/// The VRRP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in seconds, authentication data.
    V2,
    /// RFC 5798: IPv4 or IPv6, interval in centiseconds, pseudo-header checksum.
    V3,
}

impl From<Version> for u8 {
    fn from(value: Version) -> u8 {
        match value {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

impl TryFrom<u8> for Version {
    type Error = Error;

    /// `Malformed` for anything but 2 and 3.
    fn try_from(value: u8) -> Result<Version, Error> {
        match value {
            2 => Ok(Version::V2),
            3 => Ok(Version::V3),
            _ => Err(Error::Malformed),
        }
    }
}

wire_enum! {
    /// The version 2 authentication type.
    pub enum AuthType(u8) {
        /// No authentication (0).
        None = 0,
        /// Simple text password, keepalived's `auth_type PASS` (1).
        SimpleText = 1,
        /// IP Authentication Header, keepalived's `auth_type AH` (2).
        Ah = 2,
    }
}

/// The IP family carrying an advertisement; it decides the size of each address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// 4-byte addresses.
    Ipv4,
    /// 16-byte addresses (version 3 only).
    Ipv6,
}

impl Family {
    /// Size of one address, in bytes.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

/// Source and destination of the enclosing IP header: what the version 3 checksum covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    /// Carried by IPv4.
    V4 {
        /// Source address.
        src: Ipv4Address,
        /// Destination address.
        dst: Ipv4Address,
    },
    /// Carried by IPv6.
    V6 {
        /// Source address.
        src: Ipv6Address,
        /// Destination address.
        dst: Ipv6Address,
    },
}

impl PseudoHeader {
    /// The family of the addresses.
    pub const fn family(&self) -> Family {
        match self {
            PseudoHeader::V4 { .. } => Family::Ipv4,
            PseudoHeader::V6 { .. } => Family::Ipv6,
        }
    }

    /// Sum of the pseudo-header for a VRRP message of `len` bytes.
    fn sum(&self, len: usize) -> u16 {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        match *self {
            PseudoHeader::V4 { src, dst } => checksum::pseudo_header_v4(src, dst, IP_PROTOCOL, len),
            PseudoHeader::V6 { src, dst } => checksum::pseudo_header_v6(src, dst, IP_PROTOCOL, len),
        }
    }
}

/// Version 2 authentication data for `auth_type PASS`: the password zero-padded to 8 bytes.
///
/// Like keepalived, a password longer than 8 bytes is cut to its first 8.
pub fn simple_auth(password: &[u8]) -> [u8; AUTH_DATA_LEN] {
    let mut out = [0u8; AUTH_DATA_LEN];
    let n = password.len().min(AUTH_DATA_LEN);
    out[..n].copy_from_slice(&password[..n]);
    out
}

/// A read/write view of a VRRP message carried by IP of family `family`.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is too short.
    pub const fn new_unchecked(buffer: T, family: Family) -> Packet<T> {
        Packet { buffer, family }
    }

    /// Wraps a buffer after checking the version and that it holds the message it declares.
    pub fn new_checked(buffer: T, family: Family) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer, family);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` if the buffer is shorter than the header or the declared addresses (and the
    /// version 2 authentication data); `Malformed` for a version other than 2 and 3, or
    /// version 2 over IPv6, whose layout is undefined.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let version = Version::try_from(self.version())?;
        if version == Version::V2 && self.family == Family::Ipv6 {
            return Err(Error::Malformed);
        }
        if len < self.message_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The family the view was made for.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The version (high 4 bits of the first byte).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// The message type (low 4 bits of the first byte; 1 is ADVERTISEMENT).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// The virtual router identifier.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// The sender's priority (0: the master is resigning; 255: it owns the addresses).
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// The number of addresses.
    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// Version 2: the authentication type (byte 4).
    pub fn auth_type(&self) -> AuthType {
        AuthType::from(self.buffer.as_ref()[field::AUTH_TYPE])
    }

    /// Version 2: the advertisement interval in seconds (byte 5).
    pub fn adver_int_s(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// Version 3: the maximum advertisement interval in centiseconds (low 12 bits of bytes 4-5).
    pub fn max_adver_int_cs(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::MAX_ADVER_INT]) & MAX_ADVERT_INT_V3_CS
    }

    /// The advertisement interval in centiseconds, whichever the version (version 2: seconds × 100).
    pub fn advert_int_cs(&self) -> u16 {
        if self.version() == 2 {
            u16::from(self.adver_int_s()) * 100
        } else {
            self.max_adver_int_cs()
        }
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Length of the authentication data: 8 for version 2, none otherwise.
    fn auth_len(&self) -> usize {
        if self.version() == 2 {
            AUTH_DATA_LEN
        } else {
            0
        }
    }

    /// Byte range of the addresses.
    fn addresses_field(&self) -> Field {
        let end = HEADER_LEN + usize::from(self.addr_count()) * self.family.addr_len();
        HEADER_LEN..end
    }

    /// Length of the message the header declares: header, addresses and (version 2) auth data.
    pub fn message_len(&self) -> usize {
        self.addresses_field().end + self.auth_len()
    }

    /// The addresses, packed as on the wire (4 or 16 bytes each).
    pub fn address_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[self.addresses_field()]
    }

    /// Version 2: the 8 bytes of authentication data (empty for version 3).
    pub fn auth_data(&self) -> &[u8] {
        let start = self.addresses_field().end;
        &self.buffer.as_ref()[start..start + self.auth_len()]
    }

    /// Sum of the message (and, for version 3, the pseudo-header).
    fn sum(&self, ip: &PseudoHeader) -> u16 {
        let len = self.message_len().min(self.buffer.as_ref().len());
        let data = checksum::data(&self.buffer.as_ref()[..len]);
        if self.version() == 2 {
            data
        } else {
            checksum::combine(&[ip.sum(len), data])
        }
    }

    /// Whether the checksum is right for a message carried from `ip`'s source to its destination
    /// (version 2 ignores the addresses).
    pub fn verify_checksum(&self, ip: &PseudoHeader) -> bool {
        self.sum(ip) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version and the message type.
    pub fn set_version_type(&mut self, version: u8, msg_type: u8) {
        self.buffer.as_mut()[field::VER_TYPE] = (version << 4) | (msg_type & 0x0f);
    }

    /// Sets the virtual router identifier.
    pub fn set_vrid(&mut self, value: u8) {
        self.buffer.as_mut()[field::VRID] = value;
    }

    /// Sets the priority.
    pub fn set_priority(&mut self, value: u8) {
        self.buffer.as_mut()[field::PRIORITY] = value;
    }

    /// Sets the number of addresses (moves where the authentication data is read).
    pub fn set_addr_count(&mut self, value: u8) {
        self.buffer.as_mut()[field::COUNT] = value;
    }

    /// Version 2: sets the authentication type.
    pub fn set_auth_type(&mut self, value: AuthType) {
        self.buffer.as_mut()[field::AUTH_TYPE] = value.into();
    }

    /// Version 2: sets the advertisement interval in seconds.
    pub fn set_adver_int_s(&mut self, value: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = value;
    }

    /// Version 3: sets the maximum advertisement interval (low 12 bits; reserved bits zero).
    pub fn set_max_adver_int_cs(&mut self, value: u16) {
        put_u16(
            &mut self.buffer.as_mut()[field::MAX_ADVER_INT],
            value & MAX_ADVERT_INT_V3_CS,
        );
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    /// The addresses, writable.
    pub fn address_bytes_mut(&mut self) -> &mut [u8] {
        let range = self.addresses_field();
        &mut self.buffer.as_mut()[range]
    }

    /// Version 2: the authentication data, writable (empty for version 3).
    pub fn auth_data_mut(&mut self) -> &mut [u8] {
        let start = self.addresses_field().end;
        let end = start + self.auth_len();
        &mut self.buffer.as_mut()[start..end]
    }

    /// Computes and writes the checksum.
    pub fn fill_checksum(&mut self, ip: &PseudoHeader) {
        self.set_checksum(0);
        let value = checksum::finish(self.sum(ip));
        self.set_checksum(value);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The addresses an advertisement lists: borrowed from a received packet, or from the caller's
/// own slice for sending. Two lists are equal when they hold the same addresses in order.
#[derive(Clone, Copy)]
pub struct Addresses<'a>(AddrSource<'a>);

#[derive(Clone, Copy)]
enum AddrSource<'a> {
    /// Packed as on the wire; the length is a multiple of the family's address length.
    Wire(Family, &'a [u8]),
    V4(&'a [Ipv4Address]),
    V6(&'a [Ipv6Address]),
}

impl<'a> Addresses<'a> {
    /// IPv4 addresses to send.
    pub const fn v4(addrs: &'a [Ipv4Address]) -> Self {
        Addresses(AddrSource::V4(addrs))
    }

    /// IPv6 addresses to send (version 3 only).
    pub const fn v6(addrs: &'a [Ipv6Address]) -> Self {
        Addresses(AddrSource::V6(addrs))
    }

    /// Addresses packed as on the wire; `Malformed` unless `bytes` holds whole addresses.
    pub fn from_wire(family: Family, bytes: &'a [u8]) -> Result<Self, Error> {
        if !bytes.len().is_multiple_of(family.addr_len()) {
            return Err(Error::Malformed);
        }
        Ok(Addresses(AddrSource::Wire(family, bytes)))
    }

    /// The family of the addresses.
    pub fn family(&self) -> Family {
        match self.0 {
            AddrSource::Wire(family, _) => family,
            AddrSource::V4(_) => Family::Ipv4,
            AddrSource::V6(_) => Family::Ipv6,
        }
    }

    /// How many addresses there are.
    pub fn len(&self) -> usize {
        match self.0 {
            AddrSource::Wire(family, bytes) => bytes.len() / family.addr_len(),
            AddrSource::V4(addrs) => addrs.len(),
            AddrSource::V6(addrs) => addrs.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses in order.
    pub fn iter(&self) -> AddressIter<'a> {
        AddressIter {
            source: self.0,
            next: 0,
        }
    }

    /// Writes the addresses packed into `out`, which must be `len() * addr_len` bytes.
    fn write(&self, out: &mut [u8]) {
        let step = self.family().addr_len();
        for (chunk, addr) in out.chunks_exact_mut(step).zip(self.iter()) {
            match addr {
                IpAddr::V4(a) => chunk.copy_from_slice(&a.octets()),
                IpAddr::V6(a) => chunk.copy_from_slice(&a.octets()),
            }
        }
    }
}

impl PartialEq for Addresses<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.family() == other.family() && self.iter().eq(other.iter())
    }
}

impl Eq for Addresses<'_> {}

impl fmt::Debug for Addresses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Addresses<'a> {
    type Item = IpAddr;
    type IntoIter = AddressIter<'a>;

    fn into_iter(self) -> AddressIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Addresses`].
#[derive(Debug, Clone)]
pub struct AddressIter<'a> {
    source: AddrSource<'a>,
    next: usize,
}

impl fmt::Debug for AddrSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Addresses(*self), f)
    }
}

impl Iterator for AddressIter<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        let i = self.next;
        let addr = match self.source {
            AddrSource::Wire(Family::Ipv4, bytes) => bytes
                .get(i * 4..i * 4 + 4)
                .map(|b| IpAddr::V4(Ipv4Address::from(array::<4>(b)))),
            AddrSource::Wire(Family::Ipv6, bytes) => bytes
                .get(i * 16..i * 16 + 16)
                .map(|b| IpAddr::V6(Ipv6Address::from(array::<16>(b)))),
            AddrSource::V4(addrs) => addrs.get(i).map(|&a| IpAddr::V4(a)),
            AddrSource::V6(addrs) => addrs.get(i).map(|&a| IpAddr::V6(a)),
        }?;
        self.next += 1;
        Some(addr)
    }
}

/// The meaning of a VRRP advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Protocol version.
    pub version: Version,
    /// Virtual router identifier.
    pub vrid: u8,
    /// Sender's priority.
    pub priority: u8,
    /// Advertisement interval in centiseconds (version 2 sends whole seconds, up to 255).
    pub advert_int_cs: u16,
    /// The virtual addresses.
    pub addresses: Addresses<'a>,
    /// Version 2 simple-text password (`auth_type PASS`), zero-padded; `None` for no
    /// authentication and for version 3, which has none.
    pub auth: Option<[u8; AUTH_DATA_LEN]>,
}

impl<'a> Repr<'a> {
    /// Reads an advertisement carried as described by `ip`, checking everything RFC 3768 and
    /// RFC 5798 ask of a receiver that the message alone can show:
    ///
    /// - `Malformed`: the view's family differs from `ip`'s, the type is not ADVERTISEMENT, the
    ///   version is not 2 or 3 (or 2 over IPv6), the buffer holds bytes past the declared
    ///   message, the interval is zero, or the version 2 authentication type is unknown;
    /// - `Truncated`: fewer bytes than the address count declares;
    /// - `Checksum`: the checksum is wrong;
    /// - `Unsupported`: version 2 with IP Authentication Header authentication.
    ///
    /// The TTL of 255, the password and the VRID are for the caller to check.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        ip: &PseudoHeader,
    ) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if packet.family() != ip.family()
            || packet.msg_type() != TYPE_ADVERTISEMENT
            || packet.buffer.as_ref().len() != packet.message_len()
        {
            return Err(Error::Malformed);
        }
        if !packet.verify_checksum(ip) {
            return Err(Error::Checksum);
        }
        let version = Version::try_from(packet.version())?;
        let advert_int_cs = packet.advert_int_cs();
        if advert_int_cs == 0 {
            return Err(Error::Malformed);
        }
        let auth = match version {
            Version::V3 => None,
            Version::V2 => match packet.auth_type() {
                AuthType::None => None,
                AuthType::SimpleText => Some(array(packet.auth_data())),
                AuthType::Ah => return Err(Error::Unsupported),
                AuthType::Unknown(_) => return Err(Error::Malformed),
            },
        };
        let bytes: &'a [u8] = packet.buffer.as_ref();
        Ok(Repr {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            advert_int_cs,
            addresses: Addresses::from_wire(packet.family(), &bytes[packet.addresses_field()])?,
            auth,
        })
    }

    /// Length of the message this emits.
    pub fn buffer_len(&self) -> usize {
        let auth = match self.version {
            Version::V2 => AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        HEADER_LEN + self.addresses.len() * self.addresses.family().addr_len() + auth
    }

    /// Writes the advertisement with its checksum into `packet`, carried as described by `ip`.
    ///
    /// Nothing is written on error: `Malformed` if the families of the view, `ip` and the
    /// addresses differ, there are over 255 addresses, version 2 is asked for IPv6 or to carry an
    /// interval that is not whole seconds in 1..=255 s, version 3 for an interval outside
    /// 1..=4095 cs or with a password; `Truncated` if the buffer is shorter than `buffer_len`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        ip: &PseudoHeader,
    ) -> Result<(), Error> {
        let family = self.addresses.family();
        let count = u8::try_from(self.addresses.len()).map_err(|_| Error::Malformed)?;
        if family != ip.family() || family != packet.family() || self.advert_int_cs == 0 {
            return Err(Error::Malformed);
        }
        let valid = match self.version {
            Version::V2 => {
                family == Family::Ipv4
                    && self.advert_int_cs.is_multiple_of(100)
                    && self.advert_int_cs <= MAX_ADVERT_INT_V2_CS
            }
            Version::V3 => self.auth.is_none() && self.advert_int_cs <= MAX_ADVERT_INT_V3_CS,
        };
        if !valid {
            return Err(Error::Malformed);
        }
        if packet.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::Truncated);
        }
        packet.set_version_type(self.version.into(), TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        packet.set_addr_count(count);
        match self.version {
            Version::V2 => {
                let auth_type = match self.auth {
                    Some(_) => AuthType::SimpleText,
                    None => AuthType::None,
                };
                packet.set_auth_type(auth_type);
                // Checked above: whole seconds, at most 255.
                packet.set_adver_int_s((self.advert_int_cs / 100) as u8);
                packet
                    .auth_data_mut()
                    .copy_from_slice(&self.auth.unwrap_or([0; AUTH_DATA_LEN]));
            }
            Version::V3 => packet.set_max_adver_int_cs(self.advert_int_cs),
        }
        self.addresses.write(packet.address_bytes_mut());
        packet.fill_checksum(ip);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
