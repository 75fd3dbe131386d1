//! What listings return: services with their destinations and live counters, connection entries
//! (`-Lnc`), and the version information of the "kernel" (rvsd).

use super::dest::{ForwardMethod, TunnelSpec, Weight};
use super::service::{Netmask, PeName, SchedulerName, ServiceFlags, ServiceKey};
use super::stats::{Rates, RatesDef, Stats64};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Stable number of a virtual service while it exists; the daemon uses it as its data-plane slot.
/// Reused only after the service was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceId(pub u32);

/// Stable number of a destination while it exists or sits in the trash; the daemon uses it as its
/// data-plane slot. A destination revived from the trash keeps its id; an id is reused only after
/// [`crate::table::IpvsTable::reap_trash`] freed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DestId(pub u32);

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "svc#{}", self.0)
    }
}

impl fmt::Display for DestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dest#{}", self.0)
    }
}

/// Version and connection hash size, what `IP Virtual Server version 1.2.1 (size=4096)` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// `IP_VS_VERSION_CODE`, 0x010201 for 1.2.1.
    pub version: u32,
    /// Connection hash buckets (`1 << conn_tab_bits`).
    pub conn_tab_size: u32,
}

impl Info {
    /// The IPVS version rvsd implements.
    pub const VERSION_CODE: u32 = 0x01_02_01;
}

/// One destination of a listed service, with its live counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestEntry {
    pub id: DestId,
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: ForwardMethod,
    pub weight: Weight,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tunnel: TunnelSpec,
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub stats: Stats64,
    #[serde(with = "RatesDef")]
    pub rates: Rates,
}

/// One listed virtual service; `dests` are in the kernel's order (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub id: ServiceId,
    pub key: ServiceKey,
    /// `None` when the service runs without scheduler (`-s none`), listed as `none`.
    pub scheduler: Option<SchedulerName>,
    pub flags: ServiceFlags,
    pub timeout: u32,
    pub netmask: Netmask,
    pub pe: Option<PeName>,
    pub stats: Stats64,
    #[serde(with = "RatesDef")]
    pub rates: Rates,
    pub dests: Vec<DestEntry>,
}

/// Protocol of a connection entry as `/proc/net/ip_vs_conn` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnProtocol {
    Tcp,
    Udp,
    Sctp,
    /// `IPPROTO_IP`: persistence templates of fwmark services.
    Ip,
    /// Any other IP protocol number.
    Other(u8),
}

impl ConnProtocol {
    /// The kernel's `ip_vs_proto_name()`.
    pub fn name(self) -> String {
        match self {
            ConnProtocol::Tcp => "TCP".into(),
            ConnProtocol::Udp => "UDP".into(),
            ConnProtocol::Sctp => "SCTP".into(),
            ConnProtocol::Ip => "IP".into(),
            ConnProtocol::Other(1) => "ICMP".into(),
            ConnProtocol::Other(50) => "ESP".into(),
            ConnProtocol::Other(51) => "AH".into(),
            ConnProtocol::Other(58) => "ICMPv6".into(),
            ConnProtocol::Other(n) => format!("IP_{n}"),
        }
    }
}

/// One connection (or persistence template), what a line of `/proc/net/ip_vs_conn` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnEntry {
    pub protocol: ConnProtocol,
    pub client: SocketAddr,
    pub virtual_addr: SocketAddr,
    pub dest: SocketAddr,
    /// State name as the protocol names it (`ESTABLISHED`, `FIN_WAIT`, `UDP`, `ASSURED` …).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    /// Persistence engine name and data, when the entry has PE data.
    pub pe: Option<(String, String)>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn conn_protocol_names_follow_the_kernel() {
        assert_eq!(ConnProtocol::Ip.name(), "IP");
        assert_eq!(ConnProtocol::Other(50).name(), "ESP");
        assert_eq!(ConnProtocol::Other(99).name(), "IP_99");
    }

    #[test]
    fn conn_entry_round_trips() {
        let c = ConnEntry {
            protocol: ConnProtocol::Tcp,
            client: "10.0.0.2:40000".parse().unwrap(),
            virtual_addr: "[2001:db8::1]:80".parse().unwrap(),
            dest: "10.0.0.3:80".parse().unwrap(),
            state: "ESTABLISHED".into(),
            expires: 899,
            pe: Some(("sip".into(), "abc".into())),
        };
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ConnEntry>(&s).unwrap(), c);
    }
}
