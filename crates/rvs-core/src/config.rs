//! The director's configuration as a file states it: virtual services with their real servers,
//! the health checks that decide which real servers take traffic, and (parsed now, acted on by
//! the HA machinery) VRRP instances. Parsers of keepalived.conf, piranha's lvs.cf and rvs's own
//! TOML (crate `rvs-config`) all produce this one model; `rvsd` runs it.
//!
//! The model says what is wanted, not what is: which real servers are in the IPVS table at a
//! given moment depends on their checks ([`desired`]), and a reload changes the table by the
//! difference between two wanted states ([`diff`]), so that nothing unchanged is touched.

mod check;
pub mod desired;
pub mod diff;
mod vrrp;

use std::net::IpAddr;

pub use check::{
    Check, CheckKind, CheckTarget, CheckTiming, DnsQueryType, ExpectPattern, FileCheck, HttpCheck, HttpVersion,
    MiscCheck, ReplyPattern, StatusCodes, StatusRange, TlsOptions, UdpCheck, UrlCheck,
};
pub use vrrp::{SyncDaemonSpec, VirtualAddress, VrrpAuth, VrrpInstance, VrrpScript, VrrpState, VrrpVersion};

use crate::model::{DestAddr, DestSpec, MarkRule, ServiceKey, ServiceSpec, TimeoutUpdate, Weight};

/// A whole configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Virtual services, in file order (the order they are added to the table).
    pub virtual_servers: Vec<VirtualServer>,
    /// Rules of rvs's mark classifier, for fwmark services (`rvsd --mark`'s rules).
    pub marks: Vec<MarkRule>,
    /// `lvs_timeouts` / lvs.cf's `tcp_timeout`…: applied as `ipvsadm --set`.
    pub timeouts: Option<TimeoutUpdate>,
    /// VRRP instances (`vrrp_instance`; lvs.cf's primary/backup): parsed and checked, run by the
    /// HA part of rvsd.
    pub vrrp: Vec<VrrpInstance>,
    /// `vrrp_script` blocks by name, referenced from instances' `track_script`.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// keepalived's `router_id` / lvs.cf's `primary`: how this director names itself in logs.
    pub router_id: Option<String>,
    /// `lvs_sync_daemon` / lvs.cf's `syncdaemon`: connection sync, started with the file.
    pub sync_daemon: Option<SyncDaemonSpec>,
}

impl Config {
    /// What is put in force: the enabled virtual servers with their enabled real servers. The
    /// health monitor and the table only ever see this.
    pub fn in_force(&self) -> Config {
        let mut config = self.clone();
        config.virtual_servers.retain(|vs| vs.enabled);
        for vs in &mut config.virtual_servers {
            vs.reals.retain(|r| r.enabled);
        }
        config
    }

    /// The virtual server of a service key.
    pub fn virtual_server(&self, key: &ServiceKey) -> Option<&VirtualServer> {
        self.virtual_servers.iter().find(|vs| vs.service.key == *key)
    }
}

/// A command line run on an event (`notify_up`, `quorum_down` …): the program and its arguments,
/// already split as keepalived splits them (on blanks, with quotes kept together).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Script {
    pub argv: Vec<String>,
}

impl Script {
    /// A script from its words; `None` when there are none.
    pub fn new(argv: Vec<String>) -> Option<Self> {
        (!argv.is_empty()).then_some(Script { argv })
    }
}

impl std::fmt::Display for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.argv.join(" "))
    }
}

/// One virtual service and what keeps it healthy.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    /// The service as `ipvsadm -A` gives it.
    pub service: ServiceSpec,
    /// Its real servers, in file order.
    pub reals: Vec<RealServer>,
    /// Minimum total weight of live real servers for the service to be up (keepalived: 1).
    pub quorum: u32,
    /// How far the live weight must move past `quorum` before the state flips (keepalived: 0).
    pub hysteresis: u32,
    /// Run when the quorum is reached again / lost.
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    /// The real server that takes every connection while the quorum is lost.
    pub sorry_server: Option<DestSpec>,
    /// `sorry_server_inhibit`: keep the sorry server in the table with weight 0 while not needed.
    pub sorry_server_inhibit: bool,
    /// `alpha`: real servers start failed and join once a check passes.
    pub alpha: bool,
    /// `omega`: run notify_down / quorum_down when the service is removed or rvsd stops.
    pub omega: bool,
    /// Whether the service is in force: a disabled one stays in the file (lvs.cf's `active =
    /// 0`, TOML's `enabled = false`, the console's "disable") but is not in the table.
    pub enabled: bool,
}

impl VirtualServer {
    /// A virtual server of `reals` with keepalived's defaults: quorum 1, no hysteresis, no
    /// scripts, no sorry server, neither alpha nor omega.
    pub fn new(service: ServiceSpec, reals: Vec<RealServer>) -> Self {
        VirtualServer {
            service,
            reals,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            alpha: false,
            omega: false,
            enabled: true,
        }
    }

    /// A real server by address and port.
    pub fn real(&self, addr: DestAddr) -> Option<&RealServer> {
        self.reals.iter().find(|r| r.dest.dest_addr() == addr)
    }
}

/// One real server of a virtual service.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    /// The destination as `ipvsadm -a` gives it, with its configured weight.
    pub dest: DestSpec,
    /// Health checks: the real server is up while all of them pass (none: always up).
    pub checks: Vec<Check>,
    /// `inhibit_on_failure` / lvs.cf's `quiesce_server`: weight 0 instead of removal when down.
    pub inhibit_on_failure: bool,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    /// nanny's slow start: after coming back, the weight starts at `weight >> 5` (at least 1)
    /// and doubles every check interval up to the configured weight.
    pub slow_start: bool,
    /// Whether the real server is in force: a disabled one stays in the file (lvs.cf's
    /// `active = 0`, TOML's `enabled = false`) but is neither checked nor in the table.
    pub enabled: bool,
}

impl RealServer {
    /// A real server without checks (always up), scripts, inhibit or slow start.
    pub fn new(dest: DestSpec) -> Self {
        RealServer {
            dest,
            checks: Vec::new(),
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            slow_start: false,
            enabled: true,
        }
    }

    /// The configured weight.
    pub fn weight(&self) -> Weight {
        self.dest.weight
    }

    /// The address checks connect to when they do not name one.
    pub fn addr(&self) -> IpAddr {
        self.dest.addr
    }
}
