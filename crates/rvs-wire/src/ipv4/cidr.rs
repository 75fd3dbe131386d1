//! `Ipv4Cidr`: an IPv4 address with a prefix length, and the arithmetic routes and VIPs need.

use core::fmt;
use core::str::FromStr;

use super::Ipv4Address;
use crate::Error;

/// An IPv4 address with a prefix length (`10.0.0.1/24`); the length is at most 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    address: Ipv4Address,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// An address with a prefix length; `Malformed` if the length exceeds 32.
    pub fn new(address: Ipv4Address, prefix_len: u8) -> Result<Ipv4Cidr, Error> {
        if prefix_len > 32 {
            return Err(Error::Malformed);
        }
        Ok(Ipv4Cidr {
            address,
            prefix_len,
        })
    }

    /// The address, host bits included.
    pub const fn address(&self) -> Ipv4Address {
        self.address
    }

    /// The prefix length, 0 to 32.
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The netmask (`255.255.255.0` for /24).
    pub fn netmask(&self) -> Ipv4Address {
        Ipv4Address::from_bits(self.mask_bits())
    }

    /// The same prefix with the host bits cleared.
    pub fn network(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            address: Ipv4Address::from_bits(self.address.to_bits() & self.mask_bits()),
            ..*self
        }
    }

    /// The directed broadcast address, or `None` for /31 and /32, which have none.
    pub fn broadcast(&self) -> Option<Ipv4Address> {
        (self.prefix_len < 31)
            .then(|| Ipv4Address::from_bits(self.address.to_bits() | !self.mask_bits()))
    }

    /// Whether `addr` lies in this prefix.
    pub fn contains_addr(&self, addr: Ipv4Address) -> bool {
        (addr.to_bits() ^ self.address.to_bits()) & self.mask_bits() == 0
    }

    /// Whether every address of `other` lies in this prefix.
    pub fn contains_subnet(&self, other: &Ipv4Cidr) -> bool {
        other.prefix_len >= self.prefix_len && self.contains_addr(other.address)
    }

    /// The prefix as a bit mask.
    fn mask_bits(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = Error;

    /// Parses `a.b.c.d/n`; `Malformed` otherwise.
    fn from_str(s: &str) -> Result<Self, Error> {
        let (addr, len) = s.split_once('/').ok_or(Error::Malformed)?;
        let address = addr.parse().map_err(|_| Error::Malformed)?;
        if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Malformed);
        }
        let prefix_len = len.parse().map_err(|_| Error::Malformed)?;
        Ipv4Cidr::new(address, prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn cidr_arithmetic() -> Result<(), Error> {
        let cidr: Ipv4Cidr = "192.168.10.77/24".parse()?;
        assert_eq!(cidr.address(), Ipv4Address::new(192, 168, 10, 77));
        assert_eq!(cidr.netmask(), Ipv4Address::new(255, 255, 255, 0));
        assert_eq!(cidr.network().to_string(), "192.168.10.0/24");
        assert_eq!(cidr.broadcast(), Some(Ipv4Address::new(192, 168, 10, 255)));
        assert!(cidr.contains_addr(Ipv4Address::new(192, 168, 10, 1)));
        assert!(!cidr.contains_addr(Ipv4Address::new(192, 168, 11, 1)));
        assert!(cidr.contains_subnet(&"192.168.10.128/25".parse()?));
        assert!(!cidr.contains_subnet(&"192.168.0.0/16".parse()?));
        let all = Ipv4Cidr::new(Ipv4Address::new(1, 2, 3, 4), 0)?;
        assert_eq!(all.netmask(), Ipv4Address::UNSPECIFIED);
        assert!(all.contains_addr(Ipv4Address::BROADCAST));
        let host = Ipv4Cidr::new(Ipv4Address::new(1, 2, 3, 4), 32)?;
        assert_eq!(
            (host.broadcast(), host.netmask()),
            (None, Ipv4Address::BROADCAST)
        );
        assert!(!host.contains_addr(Ipv4Address::new(1, 2, 3, 5)));
        Ok(())
    }

    #[test]
    fn cidr_rejects_bad_text() {
        for bad in [
            "10.0.0.1",
            "10.0.0.1/33",
            "10.0.0.1/",
            "10.0.0/8",
            "10.0.0.1/+8",
            "10.0.0.1/008",
            "x/8",
        ] {
            assert_eq!(bad.parse::<Ipv4Cidr>(), Err(Error::Malformed), "{bad}");
        }
        assert_eq!(
            Ipv4Cidr::new(Ipv4Address::LOCALHOST, 33),
            Err(Error::Malformed)
        );
    }
}
