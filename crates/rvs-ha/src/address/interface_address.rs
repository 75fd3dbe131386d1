//! `InterfaceAddress`: an IPv4 address a director may put on an interface, with its prefix.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use rvs_wire::Ipv4Cidr;

/// Why a text or a value is not an address a director can own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressParseError {
    /// Not `a.b.c.d/len` with a length of 0 to 32.
    #[error("{0:?} is not an IPv4 address with a prefix length (expected ADDR/PREFIX, such as 10.0.0.254/16)")]
    Syntax(String),
    /// A netmask whose ones are not contiguous (`255.0.255.0`).
    #[error("{0} is not a netmask (its one bits must come first)")]
    Netmask(Ipv4Addr),
    /// An address no host may own: unspecified, loopback, multicast, limited broadcast.
    #[error("{0} cannot be a host's address ({1})")]
    NotUnicast(Ipv4Addr, &'static str),
    /// The first address of the prefix, which names the network itself.
    #[error("{0} is the network address of {0}/{1}, not a host address")]
    NetworkAddress(Ipv4Addr, u8),
    /// The last address of the prefix, its directed broadcast.
    #[error("{0} is the broadcast address of {0}/{1}, not a host address")]
    BroadcastAddress(Ipv4Addr, u8),
}

/// A unicast IPv4 host address with the prefix length of its subnet, as `ip addr add` takes it
/// (`10.0.0.254/16`): never the network or broadcast address of that prefix, never loopback,
/// multicast or unspecified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceAddress(Ipv4Cidr);

impl InterfaceAddress {
    /// Checks `cidr`.
    pub fn new(cidr: Ipv4Cidr) -> Result<Self, AddressParseError> {
        let addr = cidr.address();
        let len = cidr.prefix_len();
        let not_unicast = |why| Err(AddressParseError::NotUnicast(addr, why));
        if addr.is_unspecified() {
            return not_unicast("unspecified");
        }
        if addr.is_loopback() {
            return not_unicast("loopback");
        }
        if addr.is_multicast() {
            return not_unicast("multicast");
        }
        if addr.is_broadcast() {
            return not_unicast("limited broadcast");
        }
        // /31 (RFC 3021) and /32 have no network or broadcast address to avoid.
        if len < 31 {
            if cidr.network().address() == addr {
                return Err(AddressParseError::NetworkAddress(addr, len));
            }
            if cidr.broadcast() == Some(addr) {
                return Err(AddressParseError::BroadcastAddress(addr, len));
            }
        }
        Ok(InterfaceAddress(cidr))
    }

    /// An address and a dotted netmask, as piranha's `nat_router` and `nat_nmask` give them.
    pub fn from_netmask(addr: Ipv4Addr, netmask: Ipv4Addr) -> Result<Self, AddressParseError> {
        let bits = netmask.to_bits();
        let len = bits.leading_ones();
        if bits.checked_shl(len).unwrap_or(0) != 0 {
            return Err(AddressParseError::Netmask(netmask));
        }
        let len = u8::try_from(len).map_err(|_| AddressParseError::Netmask(netmask))?;
        let cidr = Ipv4Cidr::new(addr, len).map_err(|_| AddressParseError::Netmask(netmask))?;
        Self::new(cidr)
    }

    /// The address.
    pub fn addr(&self) -> Ipv4Addr {
        self.0.address()
    }

    /// The prefix length, 0 to 32.
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Address and prefix together.
    pub fn cidr(&self) -> Ipv4Cidr {
        self.0
    }
}

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for InterfaceAddress {
    type Err = AddressParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cidr: Ipv4Cidr = s.parse().map_err(|_| AddressParseError::Syntax(s.to_owned()))?;
        Self::new(cidr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_with_their_prefix_are_accepted() {
        for (text, addr, len) in [
            ("10.0.0.254/16", Ipv4Addr::new(10, 0, 0, 254), 16),
            ("192.168.1.250/24", Ipv4Addr::new(192, 168, 1, 250), 24),
            ("192.168.1.250/32", Ipv4Addr::new(192, 168, 1, 250), 32),
            // Both ends of a /31 are hosts (RFC 3021).
            ("10.1.1.0/31", Ipv4Addr::new(10, 1, 1, 0), 31),
            ("10.1.1.1/31", Ipv4Addr::new(10, 1, 1, 1), 31),
        ] {
            let a: InterfaceAddress = text.parse().unwrap();
            assert_eq!((a.addr(), a.prefix_len()), (addr, len), "{text}");
            assert_eq!(a.to_string(), text);
        }
    }

    #[test]
    fn text_that_is_not_addr_slash_prefix_is_a_syntax_error() {
        for bad in ["10.0.0.254", "10.0.0.254/33", "10.0.0.256/16", "eth1", "", "10.0.0.254/16 "] {
            assert_eq!(bad.parse::<InterfaceAddress>(), Err(AddressParseError::Syntax(bad.to_owned())), "{bad:?}");
        }
        let msg = "10.0.0.254".parse::<InterfaceAddress>().unwrap_err().to_string();
        assert!(msg.contains("ADDR/PREFIX"), "{msg}");
    }

    #[test]
    fn addresses_no_host_can_own_are_refused() {
        let cases = [
            ("10.0.0.0/16", AddressParseError::NetworkAddress(Ipv4Addr::new(10, 0, 0, 0), 16)),
            ("10.0.255.255/16", AddressParseError::BroadcastAddress(Ipv4Addr::new(10, 0, 255, 255), 16)),
            ("0.0.0.0/0", AddressParseError::NotUnicast(Ipv4Addr::UNSPECIFIED, "unspecified")),
            ("127.0.0.2/8", AddressParseError::NotUnicast(Ipv4Addr::new(127, 0, 0, 2), "loopback")),
            ("224.0.0.18/32", AddressParseError::NotUnicast(Ipv4Addr::new(224, 0, 0, 18), "multicast")),
            ("255.255.255.255/32", AddressParseError::NotUnicast(Ipv4Addr::BROADCAST, "limited broadcast")),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<InterfaceAddress>(), Err(want), "{text}");
        }
    }

    #[test]
    fn piranha_netmasks_become_prefix_lengths() {
        let nat = Ipv4Addr::new(10, 0, 0, 254);
        let a = InterfaceAddress::from_netmask(nat, Ipv4Addr::new(255, 255, 0, 0)).unwrap();
        assert_eq!(a.to_string(), "10.0.0.254/16");
        let a = InterfaceAddress::from_netmask(nat, Ipv4Addr::BROADCAST).unwrap();
        assert_eq!(a.prefix_len(), 32);
        for bad in [Ipv4Addr::new(255, 0, 255, 0), Ipv4Addr::new(0, 255, 255, 255), Ipv4Addr::new(255, 255, 255, 253)] {
            assert_eq!(InterfaceAddress::from_netmask(nat, bad), Err(AddressParseError::Netmask(bad)));
        }
        // The mask's host part still rules out the network and broadcast addresses.
        assert_eq!(
            InterfaceAddress::from_netmask(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 0, 0)),
            Err(AddressParseError::NetworkAddress(Ipv4Addr::new(10, 0, 0, 0), 16))
        );
    }
}
