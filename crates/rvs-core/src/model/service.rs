//! Virtual services: how they are named (address or fwmark) and configured.

use super::ModelError;
use super::proto::{AddressFamily, Protocol};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;

/// A firewall mark naming a fwmark service (`-f`); never 0, which means "no mark" to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Fwmark(NonZeroU32);

impl Fwmark {
    /// The mark, or `None` for 0.
    pub const fn new(mark: u32) -> Option<Self> {
        match NonZeroU32::new(mark) {
            Some(m) => Some(Fwmark(m)),
            None => None,
        }
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl TryFrom<u32> for Fwmark {
    type Error = ModelError;
    fn try_from(v: u32) -> Result<Self, ModelError> {
        Fwmark::new(v).ok_or(ModelError::Fwmark)
    }
}

impl From<Fwmark> for u32 {
    fn from(m: Fwmark) -> u32 {
        m.get()
    }
}

/// What identifies a virtual service: `<protocol, addr, port>` or `<af, fwmark>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ServiceKey {
    /// `-t`/`-u`/`--sctp-service addr:port`; the family is the address's.
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    /// `-f mark [-6]`.
    Fwmark { af: AddressFamily, mark: Fwmark },
}

impl ServiceKey {
    pub const fn af(&self) -> AddressFamily {
        match self {
            ServiceKey::Addr { addr, .. } => AddressFamily::of(addr),
            ServiceKey::Fwmark { af, .. } => *af,
        }
    }

    /// Protocol the kernel stores: fwmark services are hashed as TCP (`ip_vs_genl_parse_service`).
    pub const fn protocol(&self) -> Protocol {
        match self {
            ServiceKey::Addr { protocol, .. } => *protocol,
            ServiceKey::Fwmark { .. } => Protocol::Tcp,
        }
    }

    /// The fwmark, 0 for address services (the kernel's `svc->fwmark`).
    pub const fn fwmark_value(&self) -> u32 {
        match self {
            ServiceKey::Addr { .. } => 0,
            ServiceKey::Fwmark { mark, .. } => mark.get(),
        }
    }

    /// Virtual port, 0 for fwmark services.
    pub const fn port(&self) -> u16 {
        match self {
            ServiceKey::Addr { port, .. } => *port,
            ServiceKey::Fwmark { .. } => 0,
        }
    }

    /// Virtual address, the unspecified address of the family for fwmark services.
    pub fn addr(&self) -> IpAddr {
        match self {
            ServiceKey::Addr { addr, .. } => *addr,
            ServiceKey::Fwmark {
                af: AddressFamily::Inet,
                ..
            } => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ServiceKey::Fwmark {
                af: AddressFamily::Inet6,
                ..
            } => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V4(a),
                port,
            } => {
                write!(f, "{} {a}:{port}", protocol.name())
            }
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => {
                write!(f, "{} [{a}]:{port}", protocol.name())
            }
            ServiceKey::Fwmark {
                af: AddressFamily::Inet,
                mark,
            } => write!(f, "FWM {}", mark.get()),
            ServiceKey::Fwmark {
                af: AddressFamily::Inet6,
                mark,
            } => {
                write!(f, "FWM {} IPv6", mark.get())
            }
        }
    }
}

/// Name of a scheduler module (`ip_vs_<name>`): 1..=15 bytes, no NUL. Which names exist is the
/// table's business (unknown names give `ENOENT` as in the kernel), not this type's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SchedulerName(String);

impl SchedulerName {
    /// Longest name the kernel accepts (`IP_VS_SCHEDNAME_MAXLEN` − 1).
    pub const MAX_LEN: usize = 15;

    pub fn new(name: &str) -> Result<Self, ModelError> {
        if name.is_empty() || name.len() > Self::MAX_LEN || name.contains('\0') {
            return Err(ModelError::SchedulerName(name.to_owned()));
        }
        Ok(SchedulerName(name.to_owned()))
    }

    /// ipvsadm's default scheduler (`DEF_SCHED`).
    pub fn wlc() -> Self {
        SchedulerName("wlc".to_owned())
    }

    /// `-s none`: a service without a scheduler.
    pub fn none() -> Self {
        SchedulerName("none".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SchedulerName {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        SchedulerName::new(&s)
    }
}

impl From<SchedulerName> for String {
    fn from(s: SchedulerName) -> String {
        s.0
    }
}

/// Name of a persistence engine (`--pe`): 1..=15 bytes, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PeName(String);

impl PeName {
    pub const MAX_LEN: usize = 15;

    pub fn new(name: &str) -> Result<Self, ModelError> {
        if name.is_empty() || name.len() > Self::MAX_LEN || name.contains('\0') {
            return Err(ModelError::PeName(name.to_owned()));
        }
        Ok(PeName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PeName {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        PeName::new(&s)
    }
}

impl From<PeName> for String {
    fn from(s: PeName) -> String {
        s.0
    }
}

/// The three scheduler flag bits (`-b`): `flag-1`/`flag-2`/`flag-3`, called `sh-fallback`/`sh-port`
/// by sh and `mh-fallback`/`mh-port` by mh. Only the three low bits can be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SchedFlags(u8);

impl SchedFlags {
    pub const FLAG_1: SchedFlags = SchedFlags(1);
    pub const FLAG_2: SchedFlags = SchedFlags(2);
    pub const FLAG_3: SchedFlags = SchedFlags(4);
    pub const EMPTY: SchedFlags = SchedFlags(0);

    /// Flags from their three-bit value (bit 0 = flag-1), `None` above 7.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        if bits > 7 {
            None
        } else {
            Some(SchedFlags(bits))
        }
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    pub const fn contains(self, other: SchedFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: SchedFlags) -> SchedFlags {
        SchedFlags(self.0 | other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits as the kernel places them in `svc->flags` (`IP_VS_SVC_F_SCHED1` = 0x08 …).
    pub const fn kernel_bits(self) -> u32 {
        (self.0 as u32) << 3
    }
}

impl TryFrom<u8> for SchedFlags {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        SchedFlags::from_bits(v).ok_or_else(|| format!("scheduler flags {v} above 7"))
    }
}

impl From<SchedFlags> for u8 {
    fn from(f: SchedFlags) -> u8 {
        f.0
    }
}

/// The user-settable service flags (`IP_VS_SVC_F_PERSISTENT`, `_ONEPACKET`, `_SCHED1..3`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceFlags {
    pub persistent: bool,
    pub one_packet: bool,
    pub sched: SchedFlags,
}

impl ServiceFlags {
    /// The flags word as the kernel reports it (HASHED 0x2 included, as for a listed service).
    pub const fn kernel_bits(self) -> u32 {
        let mut bits = 0x2 | self.sched.kernel_bits();
        if self.persistent {
            bits |= 0x1;
        }
        if self.one_packet {
            bits |= 0x4;
        }
        bits
    }
}

/// Persistence granularity (`-M`): a dotted mask for IPv4 services, a prefix length for IPv6.
/// The kernel keeps it even when the service is not persistent, and checks only that IPv6
/// prefixes are 1..=128 (the table returns `EINVAL` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Netmask {
    V4(Ipv4Addr),
    V6(u8),
}

impl Netmask {
    /// ipvsadm's default: /32 for IPv4, /128 for IPv6.
    pub const fn full(af: AddressFamily) -> Self {
        match af {
            AddressFamily::Inet => Netmask::V4(Ipv4Addr::BROADCAST),
            AddressFamily::Inet6 => Netmask::V6(128),
        }
    }
}

/// A complete service specification, as `ipvsadm -A`/`-E` sends it (`ip_vs_service_user_kern`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub key: ServiceKey,
    pub scheduler: SchedulerName,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds; kept by the kernel even when not persistent.
    pub timeout: u32,
    pub netmask: Netmask,
    pub pe: Option<PeName>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fwmark_refuses_zero_in_rust_and_json() {
        assert!(Fwmark::new(0).is_none());
        assert_eq!(Fwmark::new(7).map(Fwmark::get), Some(7));
        assert!(serde_json::from_str::<Fwmark>("0").is_err());
        assert_eq!(serde_json::from_str::<Fwmark>("42").unwrap().get(), 42);
    }

    #[test]
    fn scheduler_names_are_bounded() {
        assert!(SchedulerName::new("").is_err());
        assert!(SchedulerName::new("abcdefghijklmno").is_ok());
        assert!(SchedulerName::new("abcdefghijklmnop").is_err());
        assert!(SchedulerName::new("a\0b").is_err());
        assert!(serde_json::from_str::<SchedulerName>("\"abcdefghijklmnop\"").is_err());
        assert!(PeName::new("sip").is_ok());
        assert!(PeName::new("").is_err());
    }

    #[test]
    fn sched_flags_map_to_kernel_bits() {
        let f = SchedFlags::FLAG_1.union(SchedFlags::FLAG_3);
        assert_eq!(f.bits(), 5);
        assert_eq!(f.kernel_bits(), 0x28);
        assert!(f.contains(SchedFlags::FLAG_3));
        assert!(!f.contains(SchedFlags::FLAG_2));
        assert!(SchedFlags::from_bits(8).is_none());
        assert!(serde_json::from_str::<SchedFlags>("9").is_err());
        let flags = ServiceFlags {
            persistent: true,
            one_packet: true,
            sched: SchedFlags::FLAG_2,
        };
        assert_eq!(flags.kernel_bits(), 0x1 | 0x2 | 0x4 | 0x10);
    }

    #[test]
    fn service_key_accessors() {
        let k = ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark: Fwmark::new(5).unwrap(),
        };
        assert_eq!(k.protocol(), Protocol::Tcp);
        assert_eq!(k.fwmark_value(), 5);
        assert_eq!(k.port(), 0);
        assert_eq!(k.to_string(), "FWM 5 IPv6");
        let a = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 53,
        };
        assert_eq!(a.af(), AddressFamily::Inet);
        assert_eq!(a.to_string(), "UDP 10.0.0.1:53");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<ServiceKey>(&json).unwrap(), a);
    }

    #[test]
    fn default_netmasks() {
        assert_eq!(
            Netmask::full(AddressFamily::Inet),
            Netmask::V4(Ipv4Addr::BROADCAST)
        );
        assert_eq!(Netmask::full(AddressFamily::Inet6), Netmask::V6(128));
    }
}
