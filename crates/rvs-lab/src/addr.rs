//! Address types the lab configures: IPv4 addresses with a prefix length, and MAC addresses.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::error::LabError;

/// An IPv4 address with its prefix length (`192.168.0.11/24`); the length is at most 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// `None` when `prefix_len` is above 32.
    pub const fn new(addr: Ipv4Addr, prefix_len: u8) -> Option<Self> {
        if prefix_len > 32 {
            None
        } else {
            Some(Ipv4Cidr { addr, prefix_len })
        }
    }

    /// A single-address (`/32`) CIDR, as a VIP on `lo` is configured.
    pub const fn host(addr: Ipv4Addr) -> Self {
        Ipv4Cidr {
            addr,
            prefix_len: 32,
        }
    }

    /// The address part.
    pub const fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length, 0 to 32.
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The network address: the address with its host bits cleared.
    pub fn network(&self) -> Ipv4Addr {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0);
        Ipv4Addr::from(u32::from(self.addr) & mask)
    }

    /// Whether `other` lies in this CIDR's network.
    pub fn contains(&self, other: Ipv4Addr) -> bool {
        let same_len = Ipv4Cidr {
            addr: other,
            prefix_len: self.prefix_len,
        };
        same_len.network() == self.network()
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = LabError;

    /// Parses `a.b.c.d/len`; a bare address is taken as `/32`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || LabError::Parse {
            what: "an IPv4 address with prefix length",
            input: text.to_owned(),
        };
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, len.parse::<u8>().map_err(|_| bad())?),
            None => (text, 32),
        };
        let addr = addr.parse::<Ipv4Addr>().map_err(|_| bad())?;
        Ipv4Cidr::new(addr, len).ok_or_else(bad)
    }
}

/// An Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The six bytes.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl FromStr for MacAddr {
    type Err = LabError;

    /// Parses the colon-separated hex form iproute2 prints (`aa:bb:cc:dd:ee:ff`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || LabError::Parse {
            what: "a MAC address",
            input: text.to_owned(),
        };
        let mut bytes = [0u8; 6];
        let mut parts = text.split(':');
        for byte in &mut bytes {
            let part = parts.next().ok_or_else(bad)?;
            if part.len() != 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_print() {
        let cidr: Ipv4Cidr = "192.168.0.11/24".parse().unwrap();
        assert_eq!(cidr.addr(), Ipv4Addr::new(192, 168, 0, 11));
        assert_eq!(cidr.prefix_len(), 24);
        assert_eq!(cidr.to_string(), "192.168.0.11/24");
        let vip: Ipv4Cidr = "192.168.0.100".parse().unwrap();
        assert_eq!(vip, Ipv4Cidr::host(Ipv4Addr::new(192, 168, 0, 100)));
        for bad in [
            "192.168.0.1/33",
            "192.168.0/24",
            "x/24",
            "1.2.3.4/",
            "1.2.3.4/-1",
        ] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn networks_clear_host_bits() {
        let lan: Ipv4Cidr = "192.168.0.200/24".parse().unwrap();
        assert_eq!(lan.network(), Ipv4Addr::new(192, 168, 0, 0));
        assert!(lan.contains(Ipv4Addr::new(192, 168, 0, 11)));
        assert!(!lan.contains(Ipv4Addr::new(172, 25, 254, 10)));
        let everything: Ipv4Cidr = "10.1.2.3/0".parse().unwrap();
        assert_eq!(everything.network(), Ipv4Addr::UNSPECIFIED);
        assert!(everything.contains(Ipv4Addr::new(8, 8, 8, 8)));
        let one = Ipv4Cidr::host(Ipv4Addr::new(192, 168, 0, 100));
        assert!(!one.contains(Ipv4Addr::new(192, 168, 0, 101)));
    }

    #[test]
    fn macs_round_trip() {
        let mac: MacAddr = "0a:1B:2c:3d:4e:5f".parse().unwrap();
        assert_eq!(mac.octets(), [0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f]);
        assert_eq!(mac.to_string(), "0a:1b:2c:3d:4e:5f");
        for bad in [
            "",
            "0a:1b:2c:3d:4e",
            "0a:1b:2c:3d:4e:5f:00",
            "0a:1b:2c:3d:4e:5",
            "zz:1b:2c:3d:4e:5f",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?} accepted");
        }
    }
}
