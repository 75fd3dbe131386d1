//! Real servers (destinations) of a virtual service.

use super::ModelError;
use super::proto::AddressFamily;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Packet-forwarding method, with the kernel's `IP_VS_CONN_F_*` values (`IP_VS_CONN_F_FWD_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardMethod {
    /// NAT (`-m`), 0.
    Masq,
    /// Local node, 1: never chosen by ipvsadm; modern kernels no longer derive it either.
    Local,
    /// IP-in-IP/GUE/GRE tunnel (`-i`), 2.
    Tunnel,
    /// Direct routing (`-g`, the default), 3.
    Route,
    /// Bypass, 4 (cache bypass; not settable from ipvsadm).
    Bypass,
}

impl ForwardMethod {
    pub const fn value(self) -> u32 {
        match self {
            ForwardMethod::Masq => 0,
            ForwardMethod::Local => 1,
            ForwardMethod::Tunnel => 2,
            ForwardMethod::Route => 3,
            ForwardMethod::Bypass => 4,
        }
    }

    pub const fn from_value(v: u32) -> Option<Self> {
        match v {
            0 => Some(ForwardMethod::Masq),
            1 => Some(ForwardMethod::Local),
            2 => Some(ForwardMethod::Tunnel),
            3 => Some(ForwardMethod::Route),
            4 => Some(ForwardMethod::Bypass),
            _ => None,
        }
    }
}

/// Weight of a real server: 0 (quiesced) up to `INT_MAX`, the range of the kernel's `int`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct Weight(u32);

impl Weight {
    pub const MAX: u32 = i32::MAX as u32;

    pub const fn new(w: u32) -> Option<Self> {
        if w > Self::MAX { None } else { Some(Weight(w)) }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Weight {
    type Error = ModelError;
    fn try_from(v: u32) -> Result<Self, ModelError> {
        Weight::new(v).ok_or(ModelError::Weight(v))
    }
}

impl From<Weight> for u32 {
    fn from(w: Weight) -> u32 {
        w.0
    }
}

/// Encapsulation of a tunnelled real server (`--tun-type`), `IP_VS_CONN_F_TUNNEL_TYPE_*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelKind {
    #[default]
    Ipip,
    Gue,
    Gre,
}

impl TunnelKind {
    pub const fn name(self) -> &'static str {
        match self {
            TunnelKind::Ipip => "ipip",
            TunnelKind::Gue => "gue",
            TunnelKind::Gre => "gre",
        }
    }
}

/// Checksum option of the encapsulation (`--tun-nocsum`/`--tun-csum`/`--tun-remcsum`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelCsum {
    #[default]
    NoCsum,
    Csum,
    RemCsum,
}

/// Tunnel settings. The kernel stores them for every destination (ipvsadm sends ipip/0/nocsum for
/// the others) and uses them only with [`ForwardMethod::Tunnel`]. A GUE tunnel needs a port:
/// the table answers `EINVAL` to port 0 as the kernel does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TunnelSpec {
    pub kind: TunnelKind,
    pub port: u16,
    pub csum: TunnelCsum,
}

/// `addr:port` of a destination, as used to find it in its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DestAddr {
    pub addr: IpAddr,
    pub port: u16,
}

impl DestAddr {
    pub const fn af(&self) -> AddressFamily {
        AddressFamily::of(&self.addr)
    }
}

/// `10.0.0.1:80`, `[2001:db8::1]:80`: how logs and rvs name a real server.
impl From<DestAddr> for std::net::SocketAddr {
    fn from(d: DestAddr) -> Self {
        std::net::SocketAddr::new(d.addr, d.port)
    }
}

/// A complete destination specification, as `ipvsadm -a`/`-e` sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestSpec {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: ForwardMethod,
    pub weight: Weight,
    /// Upper connection threshold, 0 = none.
    pub u_threshold: u32,
    /// Lower connection threshold, 0 = none.
    pub l_threshold: u32,
    pub tunnel: TunnelSpec,
}

impl DestSpec {
    pub const fn dest_addr(&self) -> DestAddr {
        DestAddr {
            addr: self.addr,
            port: self.port,
        }
    }

    pub const fn af(&self) -> AddressFamily {
        AddressFamily::of(&self.addr)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forward_values_match_the_kernel() {
        assert_eq!(ForwardMethod::Masq.value(), 0);
        assert_eq!(ForwardMethod::Local.value(), 1);
        assert_eq!(ForwardMethod::Tunnel.value(), 2);
        assert_eq!(ForwardMethod::Route.value(), 3);
        assert_eq!(ForwardMethod::Bypass.value(), 4);
        for v in 0..5 {
            assert_eq!(
                ForwardMethod::from_value(v).map(ForwardMethod::value),
                Some(v)
            );
        }
        assert_eq!(ForwardMethod::from_value(5), None);
    }

    #[test]
    fn weights_stop_at_int_max() {
        assert_eq!(
            Weight::new(2_147_483_647).map(Weight::get),
            Some(2_147_483_647)
        );
        assert!(Weight::new(2_147_483_648).is_none());
        assert!(serde_json::from_str::<Weight>("2147483648").is_err());
        assert_eq!(serde_json::from_str::<Weight>("7").unwrap().get(), 7);
    }

    #[test]
    fn dest_spec_round_trips_through_json() {
        let d = DestSpec {
            addr: "2001:db8::1".parse().unwrap(),
            port: 80,
            fwd: ForwardMethod::Tunnel,
            weight: Weight::new(3).unwrap(),
            u_threshold: 10,
            l_threshold: 5,
            tunnel: TunnelSpec {
                kind: TunnelKind::Gue,
                port: 6080,
                csum: TunnelCsum::RemCsum,
            },
        };
        let s = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<DestSpec>(&s).unwrap(), d);
        assert_eq!(d.af(), AddressFamily::Inet6);
        assert_eq!(d.dest_addr().port, 80);
    }
}
