//! Counters and rates as the kernel exports them (`IPVS_STATS_ATTR_*`, 64-bit variant).

use serde::{Deserialize, Serialize};

/// Cumulative counters since the service/destination was created or last zeroed (`-Z`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats64 {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// Estimated rates per second: the estimator's own type, defined once in [`crate::est`].
pub use crate::est::Rates;

/// The serde shape of [`Rates`] (it crosses the control socket in listings).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Rates")]
pub(crate) struct RatesDef {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// Live numbers of one virtual service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCounters {
    pub stats: Stats64,
    #[serde(with = "RatesDef")]
    pub rates: Rates,
}

/// Live numbers of one destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestCounters {
    pub active_conns: u32,
    pub inactive_conns: u32,
    /// Persistence templates bound to the destination.
    pub persistent_conns: u32,
    pub stats: Stats64,
    #[serde(with = "RatesDef")]
    pub rates: Rates,
}
