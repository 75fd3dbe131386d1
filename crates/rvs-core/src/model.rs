//! Domain types of the IPVS control plane: what a virtual service, a real server (destination),
//! a sync daemon and the timeouts are, as the kernel's `ip_vs_ctl.c` and ipvsadm 1.31 know them.
//!
//! Everything that crosses the rvsadm ⇄ rvsd control socket is `Serialize`/`Deserialize`; newtypes
//! refuse values the kernel could never hold (a scheduler name longer than 15 bytes, a weight above
//! `INT_MAX`, fwmark 0 …) both when built in Rust and when read from JSON.
//!
//! Numeric values follow the kernel ABI where one exists (`ForwardMethod` = `IP_VS_CONN_F_*`,
//! `Protocol` = IP protocol numbers, `AddressFamily` = `AF_*`), so that the data plane and the sync
//! protocol can use them as they are.

mod daemon;
mod dest;
mod entry;
mod mark;
mod op;
mod proto;
mod service;
mod stats;

pub use daemon::{IfName, SyncDaemonConfig, SyncDaemonEntry, SyncState};
pub use dest::{DestAddr, DestSpec, ForwardMethod, TunnelCsum, TunnelKind, TunnelSpec, Weight};
pub use entry::{ConnEntry, ConnProtocol, DestEntry, DestId, Info, ServiceEntry, ServiceId};
pub use mark::{MAX_PORT_RANGES, MarkRule, MarkRuleError, PortRange, classify};
pub use op::{Operation, TimeoutUpdate, Timeouts};
pub use proto::{AddressFamily, Protocol};
pub use service::{
    Fwmark, Netmask, PeName, SchedFlags, SchedulerName, ServiceFlags, ServiceKey, ServiceSpec,
};
pub use stats::{DestCounters, Rates, ServiceCounters, Stats64};

/// Error returned when a string or number cannot become one of the newtypes of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Scheduler names are 1 to 15 bytes without NUL (`IP_VS_SCHEDNAME_MAXLEN` − 1).
    #[error("invalid scheduler name {0:?}: 1 to 15 bytes without NUL")]
    SchedulerName(String),
    /// Persistence engine names are 1 to 15 bytes without NUL (`IP_VS_PENAME_MAXLEN` − 1).
    #[error("invalid persistence engine name {0:?}: 1 to 15 bytes without NUL")]
    PeName(String),
    /// Interface names are 1 to 15 bytes without NUL or '/' (`IFNAMSIZ` − 1).
    #[error("invalid interface name {0:?}: 1 to 15 bytes")]
    IfName(String),
    /// A firewall mark of 0 means "no fwmark" to the kernel.
    #[error("fwmark must not be 0")]
    Fwmark,
    /// The kernel keeps weights in an `int`.
    #[error("weight {0} is above INT_MAX")]
    Weight(u32),
}
