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
    pub virtual_ipaddress: Vec<(IpAddr, u8)>,
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
