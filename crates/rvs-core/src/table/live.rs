//! Live data that the table does not own: per-service and per-destination counters and the
//! connection table. The daemon reads them from its data plane; tests use [`NoLiveData`].

use crate::model::{ConnEntry, DestCounters, DestId, ServiceCounters, ServiceId};

/// Counters of the data plane, merged into listings by id.
pub trait LiveCounters {
    /// Counters and rates of a service (since creation or the last `-Z`).
    fn service(&self, id: ServiceId) -> ServiceCounters;
    /// Connection counts, counters and rates of a destination.
    fn dest(&self, id: DestId) -> DestCounters;
}

/// The connection table, for `-Lnc`.
pub trait ConnectionSource {
    /// Every connection entry and persistence template, in the order `/proc/net/ip_vs_conn`
    /// would show them.
    fn connections(&self) -> Vec<ConnEntry>;
}

/// A data plane that has seen nothing: all counters zero, no connections.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLiveData;

impl LiveCounters for NoLiveData {
    fn service(&self, _id: ServiceId) -> ServiceCounters {
        ServiceCounters::default()
    }

    fn dest(&self, _id: DestId) -> DestCounters {
        DestCounters::default()
    }
}

impl ConnectionSource for NoLiveData {
    fn connections(&self) -> Vec<ConnEntry> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_live_data_is_all_zero() {
        assert_eq!(NoLiveData.service(ServiceId(3)), ServiceCounters::default());
        assert_eq!(NoLiveData.dest(DestId(9)).active_conns, 0);
        assert!(NoLiveData.connections().is_empty());
    }
}
