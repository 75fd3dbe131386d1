//! The Linux IPVS connection-synchronisation protocol (`net/netfilter/ipvs/ip_vs_sync.c`): the
//! UDP payloads a master director multicasts to 224.0.0.81:8848 so that backups learn its
//! connections.
//!
//! Two message versions exist. Version 0 (`sync_version=0`) is IPv4 only: a 4-byte header
//! `{nr_conns, syncid, size}` and 24-byte entries, each followed by 24 bytes of TCP sequence
//! adjustment data when its flags ask for it. Version 1 (the default since Linux 2.6.39) has an
//! 8-byte header whose first byte is zero, so that version 0 receivers read "no connections",
//! and self-sized IPv4 (36-byte) or IPv6 (72-byte) entries followed by type-length parameters,
//! each entry starting at a 4-byte aligned offset.
//!
//! [`Packet`] views the header, [`Message`] is a checked message whose [`Message::entries`]
//! walks the entries as the kernel's `ip_vs_process_message` does, and [`MessageBuilder`] writes
//! version 1 messages. Which syncid to accept is the caller's business.

use core::net::{IpAddr, SocketAddr};

use crate::Error;
use crate::bytes::{Field, array, get_u16, get_u32, put_u16, put_u32};
use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Address;
use crate::ipv6::Ipv6Address;

/// The multicast group sync messages go to by default.
pub const MULTICAST_V4: Ipv4Address = Ipv4Address::new(224, 0, 0, 81);
/// The UDP port sync messages go to by default (sync thread `n` uses `PORT + n`).
pub const PORT: u16 = 8848;
/// The version byte of a version 1 header.
pub const PROTO_VERSION: u8 = 1;
/// Most entries one message can count (`nr_conns` is one byte).
pub const MAX_CONNS: usize = 255;
/// Length of the version 0 header.
pub const V0_HEADER_LEN: usize = 4;
/// Length of the version 1 header.
pub const V1_HEADER_LEN: usize = 8;
/// Length of a version 0 entry without sequence data.
pub const V0_CONN_LEN: usize = 24;
/// Length of the sequence data (`struct ip_vs_sync_conn_options`).
pub const SEQ_DATA_LEN: usize = 24;
/// Length of a version 1 IPv4 entry before its parameters.
pub const V1_CONN_V4_LEN: usize = 36;
/// Length of a version 1 IPv6 entry before its parameters.
pub const V1_CONN_V6_LEN: usize = 72;
/// Bit of a version 1 entry's type byte that marks an IPv6 entry (`STYPE_F_INET6`).
pub const TYPE_F_INET6: u8 = 1;
/// Largest message a master sends by default: a 1500-byte MTU less the IPv4 and UDP headers.
pub const DEFAULT_MAXLEN: usize = 1472;

/// Largest message for an MTU, as the kernel computes `sync_maxlen` when none is configured:
/// the MTU less the IPv4 or IPv6 header and the UDP header.
///
/// A master always uses an MTU of 1500 here, whatever its interface's; a backup sizes its
/// receive buffer from its interface MTU clamped to 1500..=65535.
pub const fn maxlen_for_mtu(mtu: u16, ipv6_group: bool) -> usize {
    let headers = if ipv6_group { 40 + 8 } else { 20 + 8 };
    (mtu as usize).saturating_sub(headers)
}

/// The connection flags (`IP_VS_CONN_F_*` of `include/uapi/linux/ip_vs.h`) an entry carries.
pub mod conn_flags {
    /// Mask of the forwarding method.
    pub const FWD_MASK: u32 = 0x0007;
    /// Forwarding: masquerading (NAT).
    pub const MASQ: u32 = 0x0000;
    /// Forwarding: local node.
    pub const LOCALNODE: u32 = 0x0001;
    /// Forwarding: IP tunnelling.
    pub const TUNNEL: u32 = 0x0002;
    /// Forwarding: direct routing.
    pub const DROUTE: u32 = 0x0003;
    /// Forwarding: cache bypass.
    pub const BYPASS: u32 = 0x0004;
    /// The entry was created by sync (set by the receiver).
    pub const SYNC: u32 = 0x0020;
    /// The entry is hashed (never sent).
    pub const HASHED: u32 = 0x0040;
    /// No output packets.
    pub const NOOUTPUT: u32 = 0x0080;
    /// The connection is not established.
    pub const INACTIVE: u32 = 0x0100;
    /// Output sequence numbers must be adjusted.
    pub const OUT_SEQ: u32 = 0x0200;
    /// Input sequence numbers must be adjusted.
    pub const IN_SEQ: u32 = 0x0400;
    /// Either sequence adjustment: the entry carries sequence data.
    pub const SEQ_MASK: u32 = 0x0600;
    /// The client port is not known yet.
    pub const NO_CPORT: u32 = 0x0800;
    /// A persistence template, not a connection.
    pub const TEMPLATE: u32 = 0x1000;
    /// Forward only one packet (such connections are not synced).
    pub const ONE_PACKET: u32 = 0x2000;
    /// The flags a backup takes from a version 1 entry (`IP_VS_CONN_F_BACKUP_MASK`).
    pub const BACKUP_MASK: u32 = FWD_MASK | NOOUTPUT | INACTIVE | SEQ_MASK | NO_CPORT | TEMPLATE;
    /// The flags a backup updates on a connection it already has (`IP_VS_CONN_F_BACKUP_UPD_MASK`).
    pub const BACKUP_UPD_MASK: u32 = INACTIVE | SEQ_MASK;
}

/// The parameter types that may follow a version 1 entry (`IPVS_OPT_*`).
pub mod param {
    /// Sequence data: 24 bytes, in and out `{init_seq, delta, previous_delta}`.
    pub const SEQ_DATA: u8 = 1;
    /// Persistence-engine data.
    pub const PE_DATA: u8 = 2;
    /// Persistence-engine name.
    pub const PE_NAME: u8 = 3;
    /// The parameter number whose flag bit (`IPVS_OPT_F_PARAM`, `1 << (7 - 1)`) marks a type as
    /// optional: an unknown type without it makes the receiver skip the entry.
    pub const PARAM: u8 = 7;
    /// The "optional" bit of a parameter type.
    pub const F_OPTIONAL: u8 = 1 << (PARAM - 1);
    /// Longest persistence-engine name (`IP_VS_PENAME_MAXLEN`).
    pub const PE_NAME_MAXLEN: usize = 16;
    /// Longest persistence-engine data (`IP_VS_PEDATA_MAXLEN`).
    pub const PE_DATA_MAXLEN: usize = 255;
}

/// The message format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// The original IPv4-only format.
    V0,
    /// The current format.
    V1,
}

/// A read/write view of a sync message's header, over the whole message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use super::Field;
    /// Version 0: the entry count; version 1: reserved, zero.
    pub const V0_NR_CONNS: usize = 0;
    pub const SYNCID: usize = 1;
    pub const SIZE: Field = 2..4;
    pub const NR_CONNS: usize = 4;
    pub const VERSION: usize = 5;
    pub const SPARE: Field = 6..8;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters panic if it is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking that its size field is its length, as the kernel does.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// `Truncated` if the buffer is shorter than the header or than the size field says;
    /// `Malformed` if it is longer (the kernel drops both).
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < V0_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let size = usize::from(self.size());
        if size > len {
            return Err(Error::Truncated);
        }
        if size < len {
            return Err(Error::Malformed);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version 1 when the first byte is zero, the version byte is 1 and the spare bytes are
    /// zero; version 0 otherwise (the kernel's rule).
    pub fn version(&self) -> Version {
        let b = self.buffer.as_ref();
        if b.len() >= V1_HEADER_LEN
            && b[field::V0_NR_CONNS] == 0
            && b[field::VERSION] == PROTO_VERSION
            && get_u16(&b[field::SPARE]) == 0
        {
            Version::V1
        } else {
            Version::V0
        }
    }

    /// Length of the header of this version.
    pub fn header_len(&self) -> usize {
        match self.version() {
            Version::V0 => V0_HEADER_LEN,
            Version::V1 => V1_HEADER_LEN,
        }
    }

    /// The sync daemon's id.
    pub fn syncid(&self) -> u8 {
        self.buffer.as_ref()[field::SYNCID]
    }

    /// The size field: the whole message, header included, in bytes.
    pub fn size(&self) -> u16 {
        get_u16(&self.buffer.as_ref()[field::SIZE])
    }

    /// The number of entries the header announces.
    pub fn nr_conns(&self) -> u8 {
        match self.version() {
            Version::V0 => self.buffer.as_ref()[field::V0_NR_CONNS],
            Version::V1 => self.buffer.as_ref()[field::NR_CONNS],
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The entries: the bytes after the header up to the size field.
    pub fn body(&self) -> &'a [u8] {
        let bytes: &'a [u8] = self.buffer.as_ref();
        let end = usize::from(self.size()).min(bytes.len());
        bytes.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes a version 1 header with no entries: reserved 0, version 1, spare 0, size 8.
    pub fn init_v1(&mut self, syncid: u8) {
        let b = self.buffer.as_mut();
        b[field::V0_NR_CONNS] = 0;
        b[field::SYNCID] = syncid;
        put_u16(&mut b[field::SIZE], V1_HEADER_LEN as u16);
        b[field::NR_CONNS] = 0;
        b[field::VERSION] = PROTO_VERSION;
        put_u16(&mut b[field::SPARE], 0);
    }

    /// Sets the sync daemon's id.
    pub fn set_syncid(&mut self, value: u8) {
        self.buffer.as_mut()[field::SYNCID] = value;
    }

    /// Sets the size field.
    pub fn set_size(&mut self, value: u16) {
        put_u16(&mut self.buffer.as_mut()[field::SIZE], value);
    }

    /// Sets the entry count where this header's version keeps it.
    pub fn set_nr_conns(&mut self, value: u8) {
        let at = match self.version() {
            Version::V0 => field::V0_NR_CONNS,
            Version::V1 => field::NR_CONNS,
        };
        self.buffer.as_mut()[at] = value;
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// One direction's TCP sequence adjustment (`struct ip_vs_seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seq {
    /// Sequence number where the adjustment starts.
    pub init_seq: u32,
    /// Delta to apply after `init_seq`.
    pub delta: u32,
    /// Delta that applies before `init_seq`.
    pub previous_delta: u32,
}

/// Sequence data of an entry (`struct ip_vs_sync_conn_options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqData {
    /// Client-to-server adjustment.
    pub in_seq: Seq,
    /// Server-to-client adjustment.
    pub out_seq: Seq,
}

impl SeqData {
    /// Reads 24 bytes, each number read by `get`.
    fn read(b: &[u8], get: fn([u8; 4]) -> u32) -> SeqData {
        let n = |at: usize| get(array::<4>(&b[at..]));
        SeqData {
            in_seq: Seq {
                init_seq: n(0),
                delta: n(4),
                previous_delta: n(8),
            },
            out_seq: Seq {
                init_seq: n(12),
                delta: n(16),
                previous_delta: n(20),
            },
        }
    }

    /// Writes 24 bytes in network order (version 1).
    fn write(&self, b: &mut [u8]) {
        let words = [
            self.in_seq.init_seq,
            self.in_seq.delta,
            self.in_seq.previous_delta,
            self.out_seq.init_seq,
            self.out_seq.delta,
            self.out_seq.previous_delta,
        ];
        for (chunk, word) in b.chunks_exact_mut(4).zip(words) {
            put_u32(chunk, word);
        }
    }
}

/// The meaning of one synced connection (or persistence template).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnRepr<'a> {
    /// Transport protocol.
    pub protocol: IpProtocol,
    /// `IP_VS_CONN_F_*` flags as sent (see [`conn_flags`]; the kernel keeps only
    /// [`conn_flags::BACKUP_MASK`] and adds [`conn_flags::SYNC`]).
    pub flags: u32,
    /// Protocol state (`IP_VS_TCP_S_*` and the like; 0 for templates).
    pub state: u16,
    /// Client address and port.
    pub client: SocketAddr,
    /// Virtual service address and port.
    pub virt: SocketAddr,
    /// Real server address and port.
    pub dest: SocketAddr,
    /// Firewall mark (0 in version 0).
    pub fwmark: u32,
    /// Remaining timeout in seconds (0 in version 0: the receiver uses its protocol default).
    pub timeout_s: u32,
    /// Sequence adjustment, present exactly when `flags` has [`conn_flags::SEQ_MASK`] bits.
    pub seq: Option<SeqData>,
    /// Persistence-engine data (version 1).
    pub pe_data: Option<&'a [u8]>,
    /// Persistence-engine name (version 1; the kernel sends it only after `pe_data`).
    pub pe_name: Option<&'a [u8]>,
}

/// How a version 1 entry failed: `skip` when the kernel would drop only this entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntryError {
    error: Error,
    skip: bool,
}

impl From<Error> for EntryError {
    fn from(error: Error) -> Self {
        EntryError { error, skip: false }
    }
}

fn ipv4_at(b: &[u8], at: usize) -> IpAddr {
    IpAddr::V4(Ipv4Address::from(array::<4>(&b[at..])))
}

fn ipv6_at(b: &[u8], at: usize) -> IpAddr {
    IpAddr::V6(Ipv6Address::from(array::<16>(&b[at..])))
}

impl<'a> ConnRepr<'a> {
    /// Whether the addresses are IPv6 (a valid entry's three addresses share a family).
    pub fn is_ipv6(&self) -> bool {
        self.client.is_ipv6()
    }

    /// Reads a version 0 entry from the start of `bytes`, with the sequence data its flags
    /// announce. `Truncated` if `bytes` is too short.
    ///
    /// Version 0 senders copy the sequence data in their own byte order (the kernel's
    /// `memcpy` of `struct ip_vs_sync_conn_options`); it is read little-endian, the order of
    /// every x86 and ARM sender.
    pub fn parse_v0(bytes: &[u8]) -> Result<ConnRepr<'static>, Error> {
        if bytes.len() < V0_CONN_LEN {
            return Err(Error::Truncated);
        }
        let flags = u32::from(get_u16(&bytes[20..22]));
        let seq = if flags & conn_flags::SEQ_MASK != 0 {
            let data = bytes
                .get(V0_CONN_LEN..V0_CONN_LEN + SEQ_DATA_LEN)
                .ok_or(Error::Truncated)?;
            Some(SeqData::read(data, u32::from_le_bytes))
        } else {
            None
        };
        let port = |at: usize| get_u16(&bytes[at..at + 2]);
        Ok(ConnRepr {
            protocol: IpProtocol::from(bytes[1]),
            flags,
            state: get_u16(&bytes[22..24]),
            client: SocketAddr::new(ipv4_at(bytes, 8), port(2)),
            virt: SocketAddr::new(ipv4_at(bytes, 12), port(4)),
            dest: SocketAddr::new(ipv4_at(bytes, 16), port(6)),
            fwmark: 0,
            timeout_s: 0,
            seq,
            pe_data: None,
            pe_name: None,
        })
    }

    /// Length of a version 0 entry in `bytes` (24, or 48 with sequence data), if it has flags.
    fn v0_len(bytes: &[u8]) -> Option<usize> {
        let flags = u32::from(get_u16(bytes.get(20..22)?));
        Some(if flags & conn_flags::SEQ_MASK != 0 {
            V0_CONN_LEN + SEQ_DATA_LEN
        } else {
            V0_CONN_LEN
        })
    }

    /// Reads a version 1 entry; `bytes` is exactly the entry (its `size` bytes, no padding).
    ///
    /// `Malformed` for a bad type, a size below the addresses, a broken, repeated or wrongly
    /// sized parameter; `Unsupported` for an entry version other than 0 or an unknown
    /// parameter not marked optional; `Truncated` if `bytes` is shorter than the size field.
    /// Unknown optional parameters are skipped.
    pub fn parse_v1(bytes: &'a [u8]) -> Result<ConnRepr<'a>, Error> {
        if bytes.len() < V1_CONN_V4_LEN {
            return Err(Error::Truncated);
        }
        let ver_size = get_u16(&bytes[2..4]);
        if ver_size >> 12 != 0 {
            return Err(Error::Unsupported);
        }
        match bytes.get(..usize::from(ver_size & 0x0fff)) {
            Some(entry) => Self::parse_v1_entry(entry).map_err(|e| e.error),
            None => Err(Error::Truncated),
        }
    }

    /// Reads an entry whose length the caller took from its size field, following the
    /// kernel's `ip_vs_proc_sync_conn`.
    fn parse_v1_entry(b: &'a [u8]) -> Result<ConnRepr<'a>, EntryError> {
        let entry_type = b.first().copied().ok_or(Error::Malformed)?;
        let ipv6 = entry_type & TYPE_F_INET6 != 0;
        if !ipv6 && entry_type != 0 {
            return Err(Error::Malformed.into());
        }
        let base = if ipv6 { V1_CONN_V6_LEN } else { V1_CONN_V4_LEN };
        if b.len() < base {
            return Err(Error::Malformed.into());
        }
        let (mut seq, mut pe_data, mut pe_name) = (None, None, None);
        let mut p = base;
        while p < b.len() {
            let (ptype, plen) = match b.get(p..p + 2) {
                Some(&[t, l]) => (t, usize::from(l)),
                _ => return Err(Error::Malformed.into()),
            };
            p += 2;
            let data = match b.get(p..p + plen) {
                Some(data) if plen != 0 => data,
                _ => return Err(Error::Malformed.into()),
            };
            match ptype & !param::F_OPTIONAL {
                param::SEQ_DATA if plen == SEQ_DATA_LEN && seq.is_none() => {
                    seq = Some(SeqData::read(data, u32::from_be_bytes));
                }
                param::PE_DATA if plen <= param::PE_DATA_MAXLEN && pe_data.is_none() => {
                    pe_data = Some(data);
                }
                param::PE_NAME if plen <= param::PE_NAME_MAXLEN && pe_name.is_none() => {
                    pe_name = Some(data);
                }
                param::SEQ_DATA | param::PE_DATA | param::PE_NAME => {
                    return Err(Error::Malformed.into());
                }
                _ if ptype & param::F_OPTIONAL == 0 => {
                    return Err(EntryError {
                        error: Error::Unsupported,
                        skip: true,
                    });
                }
                _ => {}
            }
            p += plen;
        }
        let port = |at: usize| get_u16(&b[at..at + 2]);
        let (caddr, vaddr, daddr) = if ipv6 {
            (ipv6_at(b, 24), ipv6_at(b, 40), ipv6_at(b, 56))
        } else {
            (ipv4_at(b, 24), ipv4_at(b, 28), ipv4_at(b, 32))
        };
        Ok(ConnRepr {
            protocol: IpProtocol::from(b[1]),
            flags: get_u32(&b[4..8]),
            state: get_u16(&b[8..10]),
            client: SocketAddr::new(caddr, port(10)),
            virt: SocketAddr::new(vaddr, port(12)),
            dest: SocketAddr::new(daddr, port(14)),
            fwmark: get_u32(&b[16..20]),
            timeout_s: get_u32(&b[20..24]),
            seq,
            pe_data,
            pe_name,
        })
    }

    /// Length of the version 1 entry this emits, parameters included, padding excluded.
    pub fn buffer_len(&self) -> usize {
        let base = if self.is_ipv6() {
            V1_CONN_V6_LEN
        } else {
            V1_CONN_V4_LEN
        };
        let param = |data: Option<&[u8]>| data.map_or(0, |d| 2 + d.len());
        base + self.seq.map_or(0, |_| 2 + SEQ_DATA_LEN) + param(self.pe_data) + param(self.pe_name)
    }

    /// `Malformed` unless the entry can be sent: one family for the three addresses, sequence
    /// data exactly when the flags announce it, persistence data of 1 to 255 bytes and a name
    /// of 1 to 16.
    pub fn check(&self) -> Result<(), Error> {
        let ipv6 = self.is_ipv6();
        let seq_flags = self.flags & conn_flags::SEQ_MASK != 0;
        let sized =
            |data: Option<&[u8]>, max: usize| data.is_none_or(|d| (1..=max).contains(&d.len()));
        if self.virt.is_ipv6() != ipv6
            || self.dest.is_ipv6() != ipv6
            || seq_flags != self.seq.is_some()
            || !sized(self.pe_data, param::PE_DATA_MAXLEN)
            || !sized(self.pe_name, param::PE_NAME_MAXLEN)
        {
            return Err(Error::Malformed);
        }
        Ok(())
    }

    /// Writes the version 1 entry at the start of `buf` and returns its length; nothing is
    /// written on error (`Malformed` as [`check`](Self::check) says, `Truncated` if `buf` is
    /// shorter than `buffer_len`). The sequence data goes first, then the persistence data and
    /// name, as the kernel orders them.
    pub fn emit_v1(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        let len = self.buffer_len();
        let b = buf.get_mut(..len).ok_or(Error::Truncated)?;
        b[0] = if self.is_ipv6() { TYPE_F_INET6 } else { 0 };
        b[1] = self.protocol.into();
        // At most 72 + 26 + 257 + 18 bytes: the 12-bit size always holds it.
        put_u16(&mut b[2..4], len as u16);
        put_u32(&mut b[4..8], self.flags);
        put_u16(&mut b[8..10], self.state);
        put_u16(&mut b[10..12], self.client.port());
        put_u16(&mut b[12..14], self.virt.port());
        put_u16(&mut b[14..16], self.dest.port());
        put_u32(&mut b[16..20], self.fwmark);
        put_u32(&mut b[20..24], self.timeout_s);
        let mut p = 24;
        for addr in [self.client.ip(), self.virt.ip(), self.dest.ip()] {
            match addr {
                IpAddr::V4(a) => {
                    b[p..p + 4].copy_from_slice(&a.octets());
                    p += 4;
                }
                IpAddr::V6(a) => {
                    b[p..p + 16].copy_from_slice(&a.octets());
                    p += 16;
                }
            }
        }
        if let Some(seq) = self.seq {
            b[p] = param::SEQ_DATA;
            b[p + 1] = SEQ_DATA_LEN as u8;
            seq.write(&mut b[p + 2..p + 2 + SEQ_DATA_LEN]);
            p += 2 + SEQ_DATA_LEN;
        }
        for (ptype, data) in [
            (param::PE_DATA, self.pe_data),
            (param::PE_NAME, self.pe_name),
        ] {
            if let Some(data) = data {
                b[p] = ptype;
                // check() keeps it at most 255.
                b[p + 1] = data.len() as u8;
                b[p + 2..p + 2 + data.len()].copy_from_slice(data);
                p += 2 + data.len();
            }
        }
        Ok(len)
    }
}

/// A checked sync message of either version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Message<'a> {
    /// Format version.
    pub version: Version,
    /// The sender's sync daemon id.
    pub syncid: u8,
    /// The entry count the header announces.
    pub nr_conns: u8,
    /// The bytes after the header.
    body: &'a [u8],
}

impl<'a> Message<'a> {
    /// Checks the header of a whole UDP payload (see [`Packet::check_len`]); entries are
    /// checked as [`entries`](Self::entries) walks them.
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, Error> {
        let packet = Packet::new_checked(bytes)?;
        Ok(Message {
            version: packet.version(),
            syncid: packet.syncid(),
            nr_conns: packet.nr_conns(),
            body: packet.body(),
        })
    }

    /// The entries, in order.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            version: self.version,
            rest: self.body,
            remaining: self.nr_conns,
        }
    }
}

/// Iterator over a message's entries, failing where the kernel's receiver does.
///
/// An `Err` item that only concerns its entry (an unknown parameter not marked optional,
/// reported as `Unsupported`) is followed by the next entries, as the kernel skips just that
/// entry; any other `Err` (a truncated or malformed entry) is the last item, as the kernel drops
/// the rest of the message. Protocol and state checks are left to the caller.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    version: Version,
    rest: &'a [u8],
    remaining: u8,
}

impl<'a> Entries<'a> {
    /// Ends the iteration with `error`.
    fn fail(&mut self, error: Error) -> Option<Result<ConnRepr<'a>, Error>> {
        self.remaining = 0;
        Some(Err(error))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<ConnRepr<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.remaining = self.remaining.checked_sub(1)?;
        let rest = self.rest;
        match self.version {
            Version::V0 => {
                let Some(len) = ConnRepr::v0_len(rest).filter(|&len| len <= rest.len()) else {
                    return self.fail(Error::Truncated);
                };
                self.rest = &rest[len..];
                Some(ConnRepr::parse_v0(rest))
            }
            Version::V1 => {
                if rest.len() < V1_CONN_V4_LEN {
                    return self.fail(Error::Truncated);
                }
                let ver_size = get_u16(&rest[2..4]);
                let size = usize::from(ver_size & 0x0fff);
                let Some(entry) = rest.get(..size) else {
                    return self.fail(Error::Truncated);
                };
                if ver_size >> 12 != 0 {
                    return self.fail(Error::Unsupported);
                }
                let parsed = ConnRepr::parse_v1_entry(entry);
                // The next entry starts at the next 32-bit boundary.
                self.rest = rest.get(size.next_multiple_of(4)..).unwrap_or(&[]);
                match parsed {
                    Ok(conn) => Some(Ok(conn)),
                    Err(EntryError { error, skip: true }) => Some(Err(error)),
                    Err(EntryError { error, .. }) => self.fail(error),
                }
            }
        }
    }
}

/// Writes version 1 messages into a caller's buffer, the way the kernel's master fills its
/// sync buffers: header first, then entries each starting at a 4-byte aligned offset, with
/// the header's count and size kept up to date.
///
/// The buffer's length is the message limit: pass `&mut buf[..maxlen]` (e.g.
/// [`DEFAULT_MAXLEN`]); more than 65535 bytes are never used.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    nr_conns: u8,
}

impl<'b> MessageBuilder<'b> {
    /// Starts an empty message from sync daemon `syncid`; `Truncated` if `buf` cannot hold
    /// the 8-byte header.
    pub fn new(buf: &'b mut [u8], syncid: u8) -> Result<Self, Error> {
        let limit = buf.len().min(usize::from(u16::MAX));
        let buf = &mut buf[..limit];
        let header = buf.get_mut(..V1_HEADER_LEN).ok_or(Error::Truncated)?;
        Packet::new_unchecked(header).init_v1(syncid);
        Ok(MessageBuilder {
            buf,
            len: V1_HEADER_LEN,
            nr_conns: 0,
        })
    }

    /// Appends an entry: `Ok(true)` when added; `Ok(false)` when the message is full (255
    /// entries, or no room for the padding and the entry), so the caller sends this one and
    /// starts another; `Err(Malformed)` if the entry cannot be sent at all (see
    /// [`ConnRepr::check`]). Nothing is written unless it returns `Ok(true)`.
    pub fn push(&mut self, conn: &ConnRepr<'_>) -> Result<bool, Error> {
        conn.check()?;
        let start = self.len.next_multiple_of(4);
        let end = start + conn.buffer_len();
        if usize::from(self.nr_conns) >= MAX_CONNS || end > self.buf.len() {
            return Ok(false);
        }
        self.buf[self.len..start].fill(0);
        conn.emit_v1(&mut self.buf[start..end])?;
        self.len = end;
        self.nr_conns += 1;
        let mut header = Packet::new_unchecked(&mut self.buf[..V1_HEADER_LEN]);
        // The buffer is cut to 65535 bytes in new().
        header.set_size(end as u16);
        header.set_nr_conns(self.nr_conns);
        Ok(true)
    }

    /// Entries so far.
    pub fn nr_conns(&self) -> u8 {
        self.nr_conns
    }

    /// Length of the message so far.
    #[allow(clippy::len_without_is_empty)] // `is_empty` would be ambiguous: the header is never empty
    pub fn len(&self) -> usize {
        self.len
    }

    /// The message so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The finished message, borrowed for as long as the buffer.
    pub fn finish(self) -> &'b [u8] {
        let buf: &'b [u8] = self.buf;
        &buf[..self.len]
    }
}

#[cfg(test)]
mod tests;
