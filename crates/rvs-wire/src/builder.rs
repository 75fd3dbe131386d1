//! `FrameBuilder`: whole Ethernet frames for data-plane fixtures, exact to the byte.
//!
//! One constructor per kind of frame takes the fields every frame of that kind needs; chained
//! methods change the rest, and `build` returns the frame. Every length and checksum is right
//! unless a method asks for it to be wrong. Methods exist only where they apply: `seq` only on
//! TCP frames, `ttl` only on IPv4 frames, so a fixture cannot set a field its frame lacks.
//!
//! ```
//! use rvs_wire::builder::{Checksum, FrameBuilder, Ipv4Header};
//! use rvs_wire::{EthernetAddress, Ipv4Address, TcpFlags};
//!
//! let client = EthernetAddress([2, 0, 0, 0, 0, 1]);
//! let director = EthernetAddress([2, 0, 0, 0, 0, 2]);
//! let (cip, vip) = (Ipv4Address::new(192, 0, 2, 7), Ipv4Address::new(198, 51, 100, 1));
//! let syn = FrameBuilder::tcp_v4(client, director, cip, vip, 40000, 80, TcpFlags::SYN, b"")
//!     .seq(1)
//!     .ttl(63)
//!     .dont_frag(true)
//!     .build();
//! assert_eq!(syn.len(), 14 + 20 + 20);
//! // The same packet tunnelled (IPIP) to a real server; outer fields are up to the fixture:
//! let rs = Ipv4Address::new(10, 0, 0, 5);
//! let tunnelled = FrameBuilder::tcp_v4(client, director, cip, vip, 40000, 80, TcpFlags::SYN, b"")
//!     .ipip(Ipv4Header::new(Ipv4Address::new(10, 0, 0, 1), rs))
//!     .build();
//! assert_eq!(tunnelled.len(), syn.len() + 20);
//! // A truncated frame with a wrong TCP checksum:
//! let bad = FrameBuilder::tcp_v4(client, director, cip, vip, 40000, 80, TcpFlags::ACK, b"data")
//!     .l4_checksum(Checksum::Bad)
//!     .truncate(40)
//!     .build();
//! assert_eq!(bad.len(), 40);
//! ```

use alloc::vec::Vec;

use crate::ethernet::{EtherType, EthernetAddress};
use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Address;
use crate::ipv6::Ipv6Address;
use crate::tcp::TcpFlags;
use crate::{arp, icmpv4, ipv6};

mod layers;

pub use layers::{Arp, Checksum, Icmp, Ipv4, Ipv4Header, Ipv6, RawEthernet, RawIp, Tcp, Udp};
use layers::{Layer, Transport, len16};

/// Builds one Ethernet frame; `L` is what follows the Ethernet header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameBuilder<L> {
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    vlan: Option<u16>,
    ethertype: Option<EtherType>,
    layer: L,
    pad_to: Option<usize>,
    truncate: Option<usize>,
}

impl<L> FrameBuilder<L> {
    /// A frame with no tag, padding or truncation around `layer`.
    fn with_layer(src_mac: EthernetAddress, dst_mac: EthernetAddress, layer: L) -> Self {
        FrameBuilder {
            src_mac,
            dst_mac,
            vlan: None,
            ethertype: None,
            layer,
            pad_to: None,
            truncate: None,
        }
    }
}

impl<P: Transport> FrameBuilder<Ipv4<P>> {
    /// An IPv4 frame around `transport`.
    fn ipv4_with(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        transport: P,
    ) -> Self {
        Self::with_layer(
            src_mac,
            dst_mac,
            Ipv4 {
                header: Ipv4Header::new(src_ip, dst_ip),
                outer: None,
                transport,
            },
        )
    }
}

impl FrameBuilder<Ipv4<Tcp>> {
    /// A TCP/IPv4 frame: seq, ack and urgent 0, window 65535, no options.
    #[allow(clippy::too_many_arguments)] // one argument per field a fixture always states
    pub fn tcp_v4(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        src_port: u16,
        dst_port: u16,
        flags: TcpFlags,
        payload: &[u8],
    ) -> Self {
        let tcp = Tcp {
            src_port,
            dst_port,
            seq: 0,
            ack: 0,
            flags,
            window: 65535,
            urgent: 0,
            options: Vec::new(),
            data_offset: None,
            checksum: Checksum::Correct,
            payload: Vec::from(payload),
        };
        Self::ipv4_with(src_mac, dst_mac, src_ip, dst_ip, tcp)
    }

    /// Sets the TCP source port.
    pub fn src_port(mut self, port: u16) -> Self {
        self.layer.transport.src_port = port;
        self
    }

    /// Sets the TCP destination port.
    pub fn dst_port(mut self, port: u16) -> Self {
        self.layer.transport.dst_port = port;
        self
    }

    /// Sets the sequence number.
    pub fn seq(mut self, seq: u32) -> Self {
        self.layer.transport.seq = seq;
        self
    }

    /// Sets the acknowledgment number (the ACK flag is not set for you).
    pub fn ack(mut self, ack: u32) -> Self {
        self.layer.transport.ack = ack;
        self
    }

    /// Sets the control flags.
    pub fn tcp_flags(mut self, flags: TcpFlags) -> Self {
        self.layer.transport.flags = flags;
        self
    }

    /// Sets the window.
    pub fn window(mut self, window: u16) -> Self {
        self.layer.transport.window = window;
        self
    }

    /// Sets the urgent pointer.
    pub fn urgent(mut self, urgent: u16) -> Self {
        self.layer.transport.urgent = urgent;
        self
    }

    /// Sets the TCP option bytes, padded with zeros to whole words.
    pub fn tcp_options(mut self, options: &[u8]) -> Self {
        self.layer.transport.options = Vec::from(options);
        self
    }

    /// Overrides the data offset (header length in words) instead of deriving it from the options.
    pub fn data_offset(mut self, words: u8) -> Self {
        self.layer.transport.data_offset = Some(words);
        self
    }

    /// Sets how the TCP checksum is filled.
    pub fn l4_checksum(mut self, checksum: Checksum) -> Self {
        self.layer.transport.checksum = checksum;
        self
    }
}

impl FrameBuilder<Ipv4<Udp>> {
    /// A UDP/IPv4 frame.
    pub fn udp_v4(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        src_port: u16,
        dst_port: u16,
        payload: &[u8],
    ) -> Self {
        let udp = Udp {
            src_port,
            dst_port,
            len: None,
            checksum: Checksum::Correct,
            payload: Vec::from(payload),
        };
        Self::ipv4_with(src_mac, dst_mac, src_ip, dst_ip, udp)
    }

    /// Sets the UDP source port.
    pub fn src_port(mut self, port: u16) -> Self {
        self.layer.transport.src_port = port;
        self
    }

    /// Sets the UDP destination port.
    pub fn dst_port(mut self, port: u16) -> Self {
        self.layer.transport.dst_port = port;
        self
    }

    /// Overrides the UDP length field.
    pub fn udp_len(mut self, len: u16) -> Self {
        self.layer.transport.len = Some(len);
        self
    }

    /// Sets how the UDP checksum is filled (`Checksum::Fixed(0)`: none).
    pub fn l4_checksum(mut self, checksum: Checksum) -> Self {
        self.layer.transport.checksum = checksum;
        self
    }
}

impl FrameBuilder<Ipv4<Icmp>> {
    /// An ICMPv4 frame carrying `message`.
    pub fn icmp_v4(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        message: icmpv4::Repr<'_>,
    ) -> Self {
        Self::ipv4_with(src_mac, dst_mac, src_ip, dst_ip, Icmp::from_repr(&message))
    }

    /// An echo request ("ping").
    pub fn icmp_echo_request(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        ident: u16,
        seq_no: u16,
        data: &[u8],
    ) -> Self {
        Self::icmp_v4(
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            icmpv4::Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
        )
    }

    /// A fragmentation-needed error with next-hop `mtu`, quoting `quoted` (an IPv4 packet or
    /// its start, e.g. `other.ip_packet()[..548]`).
    pub fn icmp_frag_needed(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        mtu: u16,
        quoted: &[u8],
    ) -> Self {
        let repr = icmpv4::Repr::DstUnreachable {
            reason: icmpv4::DstUnreachable::FragRequired,
            next_hop_mtu: mtu,
            quoted,
        };
        Self::icmp_v4(src_mac, dst_mac, src_ip, dst_ip, repr)
    }

    /// Sets how the ICMP checksum is filled.
    pub fn l4_checksum(mut self, checksum: Checksum) -> Self {
        self.layer.transport.checksum = checksum;
        self
    }
}

impl FrameBuilder<Ipv4<RawIp>> {
    /// An IPv4 frame whose payload is written as given (VRRP, GRE, SCTP, later fragments…).
    pub fn ipv4_raw(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv4Address,
        dst_ip: Ipv4Address,
        protocol: IpProtocol,
        payload: &[u8],
    ) -> Self {
        Self::ipv4_with(
            src_mac,
            dst_mac,
            src_ip,
            dst_ip,
            RawIp {
                protocol,
                payload: Vec::from(payload),
            },
        )
    }
}

impl<P: Transport> FrameBuilder<Ipv4<P>> {
    /// Changes the (inner) IPv4 header with a closure, for fields without a method of their own.
    pub fn with_ip(mut self, change: impl FnOnce(&mut Ipv4Header)) -> Self {
        change(&mut self.layer.header);
        self
    }

    /// Sets the source address (checksums follow).
    pub fn src_ip(self, ip: Ipv4Address) -> Self {
        self.with_ip(|h| h.src = ip)
    }

    /// Sets the destination address (checksums follow).
    pub fn dst_ip(self, ip: Ipv4Address) -> Self {
        self.with_ip(|h| h.dst = ip)
    }

    /// Sets the time to live.
    pub fn ttl(self, ttl: u8) -> Self {
        self.with_ip(|h| h.ttl = ttl)
    }

    /// Sets the type-of-service byte.
    pub fn tos(self, tos: u8) -> Self {
        self.with_ip(|h| h.tos = tos)
    }

    /// Sets the identification.
    pub fn ident(self, ident: u16) -> Self {
        self.with_ip(|h| h.ident = ident)
    }

    /// Sets the don't-fragment flag.
    pub fn dont_frag(self, on: bool) -> Self {
        self.with_ip(|h| h.dont_frag = on)
    }

    /// Sets the more-fragments flag.
    pub fn more_frags(self, on: bool) -> Self {
        self.with_ip(|h| h.more_frags = on)
    }

    /// Sets the reserved flag.
    pub fn reserved_flag(self, on: bool) -> Self {
        self.with_ip(|h| h.reserved_flag = on)
    }

    /// Sets the fragment offset in 8-octet units, as on the wire (low 13 bits used).
    pub fn frag_offset(self, units: u16) -> Self {
        self.with_ip(|h| h.frag_offset = units)
    }

    /// Sets the IP option bytes, padded with zeros to whole words; IHL follows.
    pub fn ip_options(self, options: &[u8]) -> Self {
        self.with_ip(|h| h.options = Vec::from(options))
    }

    /// Overrides the IHL field (header length in words).
    pub fn ihl(self, words: u8) -> Self {
        self.with_ip(|h| h.ihl = Some(words))
    }

    /// Overrides the total-length field.
    pub fn ip_total_len(self, len: u16) -> Self {
        self.with_ip(|h| h.total_len = Some(len))
    }

    /// Overrides the protocol field.
    pub fn ip_protocol(self, protocol: IpProtocol) -> Self {
        self.with_ip(|h| h.protocol = Some(protocol))
    }

    /// Overrides the version field.
    pub fn ip_version(self, version: u8) -> Self {
        self.with_ip(|h| h.version = version)
    }

    /// Sets how the IPv4 header checksum is filled.
    pub fn ip_checksum(self, checksum: Checksum) -> Self {
        self.with_ip(|h| h.checksum = checksum)
    }

    /// Tunnels the packet in IPv4-in-IPv4 under `outer` (protocol 4 unless `outer` overrides it).
    pub fn ipip(mut self, outer: Ipv4Header) -> Self {
        self.layer.outer = Some(outer);
        self
    }

    /// The IPv4 packet alone (outer header included): no Ethernet, padding or truncation.
    pub fn ip_packet(&self) -> Vec<u8> {
        self.layer.packet()
    }
}

impl FrameBuilder<Arp> {
    /// An ARP frame carrying `repr`.
    pub fn arp(src_mac: EthernetAddress, dst_mac: EthernetAddress, repr: arp::Repr) -> Self {
        Self::with_layer(src_mac, dst_mac, Arp(repr))
    }

    /// A broadcast request from `mac`/`ip` asking who has `target` (target MAC zero, as Linux sends).
    pub fn arp_request(mac: EthernetAddress, ip: Ipv4Address, target: Ipv4Address) -> Self {
        Self::arp(
            mac,
            EthernetAddress::BROADCAST,
            arp::Repr::request(mac, ip, target),
        )
    }

    /// A unicast reply telling `to_mac`/`to_ip` that `ip` is at `mac`.
    pub fn arp_reply(
        mac: EthernetAddress,
        ip: Ipv4Address,
        to_mac: EthernetAddress,
        to_ip: Ipv4Address,
    ) -> Self {
        Self::arp(mac, to_mac, arp::Repr::reply(mac, ip, to_mac, to_ip))
    }

    /// A broadcast gratuitous ARP for `ip` at `mac`, laid out as keepalived sends it.
    pub fn gratuitous_arp(mac: EthernetAddress, ip: Ipv4Address) -> Self {
        Self::arp(
            mac,
            EthernetAddress::BROADCAST,
            arp::Repr::gratuitous(mac, ip),
        )
    }
}

impl FrameBuilder<Ipv6> {
    /// An IPv6 frame with hop limit 64 and `payload` written as given after the fixed header.
    pub fn ipv6_raw(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        src_ip: Ipv6Address,
        dst_ip: Ipv6Address,
        next_header: IpProtocol,
        payload: &[u8],
    ) -> Self {
        let repr = ipv6::Repr {
            src_addr: src_ip,
            dst_addr: dst_ip,
            next_header,
            payload_len: len16(payload.len()),
            hop_limit: 64,
        };
        Self::with_layer(
            src_mac,
            dst_mac,
            Ipv6 {
                repr,
                payload: Vec::from(payload),
            },
        )
    }

    /// Sets the hop limit.
    pub fn hop_limit(mut self, hop_limit: u8) -> Self {
        self.layer.repr.hop_limit = hop_limit;
        self
    }
}

impl FrameBuilder<RawEthernet> {
    /// A frame of any EtherType with `payload` written as given.
    pub fn ethernet(
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        ethertype: EtherType,
        payload: &[u8],
    ) -> Self {
        Self::with_layer(
            src_mac,
            dst_mac,
            RawEthernet {
                ethertype,
                payload: Vec::from(payload),
            },
        )
    }
}

impl<L: Layer> FrameBuilder<L> {
    /// Sets the source MAC address.
    pub fn src_mac(mut self, mac: EthernetAddress) -> Self {
        self.src_mac = mac;
        self
    }

    /// Sets the destination MAC address.
    pub fn dst_mac(mut self, mac: EthernetAddress) -> Self {
        self.dst_mac = mac;
        self
    }

    /// Inserts an 802.1Q tag with this tag control information (PCP, DEI and VLAN id).
    pub fn vlan(mut self, tci: u16) -> Self {
        self.vlan = Some(tci);
        self
    }

    /// Overrides the EtherType that announces the payload.
    pub fn ethertype(mut self, ethertype: EtherType) -> Self {
        self.ethertype = Some(ethertype);
        self
    }

    /// Appends zeros up to `len` bytes, as drivers pad short frames to 60.
    pub fn pad_to(mut self, len: usize) -> Self {
        self.pad_to = Some(len);
        self
    }

    /// Cuts the finished frame to at most `len` bytes (after lengths and checksums are set).
    pub fn truncate(mut self, len: usize) -> Self {
        self.truncate = Some(len);
        self
    }

    /// The frame's bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.dst_mac.0);
        out.extend_from_slice(&self.src_mac.0);
        if let Some(tci) = self.vlan {
            out.extend_from_slice(&u16::from(EtherType::Vlan).to_be_bytes());
            out.extend_from_slice(&tci.to_be_bytes());
        }
        let ethertype = self.ethertype.unwrap_or(self.layer.ethertype());
        out.extend_from_slice(&u16::from(ethertype).to_be_bytes());
        self.layer.write(&mut out);
        if let Some(len) = self.pad_to
            && out.len() < len
        {
            out.resize(len, 0);
        }
        if let Some(len) = self.truncate {
            out.truncate(len);
        }
        out
    }
}

#[cfg(test)]
mod tests;
