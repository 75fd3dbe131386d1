//! `IpProtocol`: the protocol numbers of IPv4's protocol field and IPv6's next-header field.

use core::fmt;

wire_enum! {
    /// An IANA assigned internet protocol number (IPv4 protocol, IPv6 next header).
    pub enum IpProtocol(u8) {
        /// IPv6 hop-by-hop options (0).
        HopByHop = 0,
        /// Internet Control Message Protocol (1).
        Icmp = 1,
        /// Internet Group Management Protocol (2).
        Igmp = 2,
        /// IPv4 in IPv4 encapsulation, what LVS tunnelling uses (4).
        IpIp = 4,
        /// Transmission Control Protocol (6).
        Tcp = 6,
        /// User Datagram Protocol (17).
        Udp = 17,
        /// IPv6 encapsulation (41).
        Ipv6 = 41,
        /// IPv6 routing header (43).
        Ipv6Route = 43,
        /// IPv6 fragment header (44).
        Ipv6Frag = 44,
        /// Generic Routing Encapsulation (47).
        Gre = 47,
        /// Encapsulating Security Payload (50).
        Esp = 50,
        /// Authentication Header (51).
        Ah = 51,
        /// ICMP for IPv6 (58).
        Icmpv6 = 58,
        /// IPv6 "no next header" (59).
        Ipv6NoNxt = 59,
        /// IPv6 destination options (60).
        Ipv6Opts = 60,
        /// Virtual Router Redundancy Protocol (112).
        Vrrp = 112,
        /// Stream Control Transmission Protocol (132).
        Sctp = 132,
    }
}

impl IpProtocol {
    /// Whether the protocol's payload starts with 16-bit source and destination ports.
    pub fn has_ports(self) -> bool {
        matches!(self, IpProtocol::Tcp | IpProtocol::Udp | IpProtocol::Sctp)
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProtocol::Unknown(n) => write!(f, "proto-{n}"),
            named => fmt::Debug::fmt(named, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn named_numbers_round_trip() {
        for (n, p) in [
            (1, IpProtocol::Icmp),
            (4, IpProtocol::IpIp),
            (6, IpProtocol::Tcp),
        ]
        .into_iter()
        .chain([
            (17, IpProtocol::Udp),
            (47, IpProtocol::Gre),
            (112, IpProtocol::Vrrp),
        ])
        .chain([(132, IpProtocol::Sctp)])
        {
            assert_eq!(IpProtocol::from(n), p);
            assert_eq!(u8::from(p), n);
        }
    }

    #[test]
    fn unknown_numbers_are_kept() {
        assert_eq!(IpProtocol::from(253), IpProtocol::Unknown(253));
        assert_eq!(u8::from(IpProtocol::Unknown(253)), 253);
        assert_eq!(IpProtocol::Unknown(253).to_string(), "proto-253");
        assert_eq!(IpProtocol::Gre.to_string(), "Gre");
    }

    #[test]
    fn only_port_protocols_have_ports() {
        assert!(IpProtocol::Tcp.has_ports() && IpProtocol::Udp.has_ports());
        assert!(IpProtocol::Sctp.has_ports());
        assert!(!IpProtocol::Icmp.has_ports() && !IpProtocol::Gre.has_ports());
    }
}
