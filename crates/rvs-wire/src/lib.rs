#![no_std]
#![warn(missing_docs)]
//! Zero-copy packet views and `Repr` types for the protocols rvs handles.
//!
//! Each protocol module follows one pattern (after smoltcp's `wire`):
//!
//! - `Packet<T: AsRef<[u8]>>` (`Frame` for Ethernet) wraps a buffer without copying.
//!   `new_unchecked` trusts the buffer; `new_checked` validates lengths and length-like fields so
//!   that no getter can panic afterwards. Setters exist when `T: AsMut<[u8]>`.
//! - `Repr` is the high-level meaning of a header: `Repr::parse` reads a checked view (verifying
//!   checksums), `Repr::emit` writes one back, and `Repr::buffer_len` says how many bytes it needs.
//! - Protocol numbers that this crate does not name are kept as `Unknown(n)`, never rejected.
//!
//! [`checksum`] holds the RFC 1071 sum and the RFC 1624 incremental update used by NAT paths, and
//! [`builder`] (feature `alloc`, on by default) builds whole test frames for data-plane fixtures.

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

#[macro_use]
mod macros;
mod bytes;
mod error;
mod options;

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod ipvs_sync;
pub mod tcp;
pub mod udp;
pub mod vrrp;

#[cfg(feature = "alloc")]
pub mod builder;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod test_captures;
#[cfg(test)]
mod test_rng;

pub use error::Error;
pub use options::HeaderOptions;

pub use arp::{Hardware as ArpHardware, Operation as ArpOperation};
pub use arp::{Packet as ArpPacket, Repr as ArpRepr};
pub use ethernet::{EtherType, EthernetAddress};
pub use ethernet::{Frame as EthernetFrame, Repr as EthernetRepr};
pub use icmpv4::TimeExceeded as Icmpv4TimeExceeded;
pub use icmpv4::{DstUnreachable as Icmpv4DstUnreachable, Message as Icmpv4Message};
pub use icmpv4::{Packet as Icmpv4Packet, Repr as Icmpv4Repr};
pub use ip::IpProtocol;
pub use ipv4::{FragOffset, Ipv4Address, Ipv4Cidr};
pub use ipv4::{Packet as Ipv4Packet, Repr as Ipv4Repr};
pub use ipv6::Ipv6Address;
pub use ipv6::{Packet as Ipv6Packet, Repr as Ipv6Repr};
pub use ipvs_sync::{ConnRepr as IpvsSyncConn, Message as IpvsSyncMessage};
pub use ipvs_sync::{MessageBuilder as IpvsSyncBuilder, Packet as IpvsSyncPacket};
pub use tcp::TcpFlags;
pub use tcp::{Packet as TcpPacket, Repr as TcpRepr};
pub use udp::{Packet as UdpPacket, Repr as UdpRepr};
pub use vrrp::{Packet as VrrpPacket, Repr as VrrpRepr};
