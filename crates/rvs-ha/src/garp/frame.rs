//! The gratuitous ARP frame, byte for byte as keepalived 2.2.7 sends it
//! (`send_gratuitous_arp_immediate` in `keepalived/vrrp/vrrp_arp.c`):
//!
//! | field | value |
//! |---|---|
//! | Ethernet destination | ff:ff:ff:ff:ff:ff (the interface's broadcast address) |
//! | Ethernet source | the interface's MAC |
//! | EtherType | 0x0806 (ARP) |
//! | hardware type, protocol type, lengths | 1 (Ethernet), 0x0800 (IPv4), 6, 4 |
//! | operation | 1 (**request**, not reply) |
//! | sender MAC / sender IP | the interface's MAC / the announced address |
//! | target MAC / target IP | ff:ff:ff:ff:ff:ff / the announced address again |
//!
//! 42 bytes, not padded: the NIC pads to the 60-byte minimum (veth sends it as is).
//!
//! Why a request: every Linux neighbour that has an entry for the address updates it from a
//! request whose sender and target IP are equal (`arp_is_garp`), even within `locktime`, and
//! some old stacks ignore unsolicited replies. Why target MAC broadcast rather than the zeros
//! of RFC 5227 announcements: that is what keepalived (and piranha's `send_arp`) put there,
//! and switches and hosts have been tuned to exactly these frames for twenty years.

use std::net::Ipv4Addr;

use rvs_wire::EthernetAddress;
use rvs_wire::builder::FrameBuilder;

/// Length of the frame (Ethernet header 14 + ARP 28).
pub const GARP_FRAME_LEN: usize = 42;

/// The gratuitous ARP announcing that `ip` is at `mac`.
pub fn gratuitous_arp(mac: EthernetAddress, ip: Ipv4Addr) -> Vec<u8> {
    FrameBuilder::gratuitous_arp(mac, ip).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame};

    #[test]
    fn the_frame_is_keepalived_s_byte_for_byte() {
        let mac = EthernetAddress([0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]);
        let frame = gratuitous_arp(mac, Ipv4Addr::new(10, 0, 0, 254));
        #[rustfmt::skip]
        let expected: [u8; GARP_FRAME_LEN] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // Ethernet destination: broadcast
            0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // Ethernet source: the interface
            0x08, 0x06,                          // ARP
            0x00, 0x01,                          // hardware: Ethernet
            0x08, 0x00,                          // protocol: IPv4
            0x06, 0x04,                          // address lengths
            0x00, 0x01,                          // operation: request
            0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // sender MAC
            0x0a, 0x00, 0x00, 0xfe,              // sender IP: 10.0.0.254
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // target MAC: broadcast
            0x0a, 0x00, 0x00, 0xfe,              // target IP: 10.0.0.254 again
        ];
        assert_eq!(frame, expected);
    }

    #[test]
    fn the_frame_reads_back_as_a_gratuitous_request() {
        let mac = EthernetAddress([0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]);
        let ip = Ipv4Addr::new(192, 168, 1, 250);
        let frame = gratuitous_arp(mac, ip);
        let eth = EthernetFrame::new_checked(&frame[..]).unwrap();
        assert_eq!(eth.dst_addr(), EthernetAddress::BROADCAST);
        assert_eq!(eth.src_addr(), mac);
        assert_eq!(eth.ethertype(), EtherType::Arp);
        let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
        assert_eq!(arp.operation, ArpOperation::Request);
        assert!(arp.is_gratuitous());
        assert_eq!((arp.source_hardware_addr, arp.source_protocol_addr), (mac, ip));
        assert_eq!((arp.target_hardware_addr, arp.target_protocol_addr), (EthernetAddress::BROADCAST, ip));
    }
}
