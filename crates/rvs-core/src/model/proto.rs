//! Transport protocols of virtual services and address families.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Transport protocol of an address-based virtual service (`-t`, `-u`, `--sctp-service`).
///
/// Fwmark services are hashed as TCP by the kernel; that detail lives in
/// [`crate::model::ServiceKey::protocol`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// IANA protocol number (`IPPROTO_*`), as the kernel stores it.
    pub const fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// Name used by ipvsadm listings (`protocol_name()`): `TCP`, `UDP`, `SCTP`.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    /// Name used by `/etc/services` look-ups: `tcp`, `udp`, `sctp`.
    pub const fn service_db_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }

    /// The protocol with this IANA number, if IPVS knows it.
    pub const fn from_number(n: u16) -> Option<Self> {
        match n {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            132 => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

/// Address family, with the Linux `AF_*` values (needed by libipvs' sort order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressFamily {
    Inet,
    Inet6,
}

impl AddressFamily {
    /// `AF_INET` = 2, `AF_INET6` = 10.
    pub const fn value(self) -> u16 {
        match self {
            AddressFamily::Inet => 2,
            AddressFamily::Inet6 => 10,
        }
    }

    /// The family of an address.
    pub const fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn protocol_numbers_round_trip() {
        for p in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
            assert_eq!(Protocol::from_number(p.number()), Some(p));
        }
        assert_eq!(Protocol::from_number(0), None);
        assert_eq!(Protocol::Sctp.name(), "SCTP");
        assert_eq!(Protocol::Udp.service_db_name(), "udp");
    }

    #[test]
    fn families_have_linux_values() {
        assert_eq!(AddressFamily::Inet.value(), 2);
        assert_eq!(AddressFamily::Inet6.value(), 10);
        assert_eq!(
            AddressFamily::of(&"::1".parse().unwrap()),
            AddressFamily::Inet6
        );
    }
}
