//! VRRP instances as configuration states them (`vrrp_instance`, `vrrp_script`; lvs.cf's
//! `primary`/`backup`/`keepalive`/`deadtime`). Parsed and checked now; run by rvsd's HA part.

use std::net::IpAddr;
use std::time::Duration;

use super::Script;

/// `state`: the state an instance starts in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum VrrpState {
    Master,
    #[default]
    Backup,
}

/// `version`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum VrrpVersion {
    #[default]
    V2,
    V3,
}

/// `authentication { auth_type PASS; auth_pass … }` (VRRPv2 only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VrrpAuth {
    /// Up to 8 bytes, sent in clear.
    Pass(String),
}

/// One `vrrp_instance`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    pub name: String,
    pub state: VrrpState,
    pub interface: String,
    pub virtual_router_id: u8,
    /// 1..=255; 255 is the address owner.
    pub priority: u8,
    /// `advert_int`: seconds in v2; v3 allows centiseconds.
    pub advert_int: Duration,
    pub version: VrrpVersion,
    pub preempt: bool,
    pub preempt_delay: Duration,
    pub virtual_ipaddress: Vec<VirtualAddress>,
    pub unicast_src_ip: Option<IpAddr>,
    pub unicast_peer: Vec<IpAddr>,
    pub authentication: Option<VrrpAuth>,
    pub track_interface: Vec<String>,
    pub track_script: Vec<String>,
    pub notify_master: Option<Script>,
    pub notify_backup: Option<Script>,
    pub notify_fault: Option<Script>,
    pub notify: Option<Script>,
    /// `garp_master_delay` / `garp_master_repeat` / `garp_master_refresh`.
    pub garp_master_delay: Duration,
    pub garp_master_repeat: u32,
    pub garp_master_refresh: Duration,
}

impl VrrpInstance {
    /// An instance with keepalived's defaults (priority 100, advert 1 s, v2, preempt, GARP
    /// 5 repeats, second burst after 5 s, no refresh).
    pub fn new(name: String, interface: String, virtual_router_id: u8) -> Self {
        VrrpInstance {
            name,
            state: VrrpState::Backup,
            interface,
            virtual_router_id,
            priority: 100,
            advert_int: Duration::from_secs(1),
            version: VrrpVersion::V2,
            preempt: true,
            preempt_delay: Duration::ZERO,
            virtual_ipaddress: Vec::new(),
            unicast_src_ip: None,
            unicast_peer: Vec::new(),
            authentication: None,
            track_interface: Vec::new(),
            track_script: Vec::new(),
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify: None,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: Duration::ZERO,
        }
    }
}

/// One address of `virtual_ipaddress`: `192.168.1.250/24 dev eth0 label eth0:1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VirtualAddress {
    pub addr: IpAddr,
    pub prefix: u8,
    /// `dev`: the interface it goes on, when not the instance's (seed 002's NAT router on the
    /// private side while VRRP speaks on the public one).
    pub dev: Option<String>,
    /// `label` (piranha's `eth1:1` alias).
    pub label: Option<String>,
}

impl VirtualAddress {
    /// An address on the instance's interface, without a label.
    pub fn new(addr: IpAddr, prefix: u8) -> Self {
        VirtualAddress { addr, prefix, dev: None, label: None }
    }

    /// The interface it goes on: its `dev`, else the instance's.
    pub fn interface<'a>(&'a self, instance: &'a VrrpInstance) -> &'a str {
        self.dev.as_deref().unwrap_or(&instance.interface)
    }
}

/// keepalived's `lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N] [port P] [ttl T] [group G]
/// [maxlen L]` (lvs.cf: `syncdaemon`, `syncd_iface`, `syncd_id`): IPVS connection sync, master
/// and backup at once, as keepalived starts them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemonSpec {
    pub interface: String,
    /// The VRRP instance named (keepalived requires one; rvs runs both daemons whatever its
    /// state).
    pub instance: Option<String>,
    pub syncid: u8,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub group: Option<IpAddr>,
    pub maxlen: Option<u16>,
}

impl SyncDaemonSpec {
    /// Sync on `interface` with IPVS's defaults.
    pub fn new(interface: String) -> Self {
        SyncDaemonSpec { interface, instance: None, syncid: 0, port: None, ttl: None, group: None, maxlen: None }
    }
}

/// One `vrrp_script`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpScript {
    pub name: String,
    pub script: Script,
    pub interval: Duration,
    pub timeout: Option<Duration>,
    /// −253..=253: added to the priority while the script succeeds (or fails, if negative).
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
}
