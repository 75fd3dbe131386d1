//! What [`crate::table::IpvsTable::apply`] reports back, so that the daemon can update its data
//! plane without diffing the whole table.

use crate::model::{DestId, ServiceId, ServiceKey, SyncState, Timeouts};

/// One effect of an operation, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A service was created; read it with [`crate::table::IpvsTable::service_by_id`].
    ServiceAdded(ServiceId),
    /// Scheduler, flags, timeout, netmask or persistence engine of a service changed.
    ServiceUpdated(ServiceId),
    /// A service was deleted (its destinations were moved to the trash just before, each with a
    /// [`Change::DestRemoved`]). The id may be reused by the next service.
    ServiceRemoved { id: ServiceId, key: ServiceKey },
    /// A destination joined a service. `revived` when it came back from the trash with its old
    /// id; `stats_reset` when its counters must restart from zero (revived into a service other
    /// than the one it was created in, as `__ip_vs_update_dest` zeroes them).
    DestAdded {
        service: ServiceId,
        dest: DestId,
        revived: bool,
        stats_reset: bool,
    },
    /// Weight, forwarding method, thresholds or tunnel settings of a destination changed.
    DestUpdated { service: ServiceId, dest: DestId },
    /// A destination left its service and is now in the trash: existing connections may still
    /// use it, new ones must not. It stays allocated until `reap_trash` frees it.
    DestRemoved { service: ServiceId, dest: DestId },
    /// `-Z`: counters of these services and destinations restart from zero; `totals` also asks
    /// to zero the global totals (`-Z` without a service).
    CountersZeroed {
        services: Vec<ServiceId>,
        dests: Vec<DestId>,
        totals: bool,
    },
    /// `--set`: the new effective timeouts.
    TimeoutsChanged(Timeouts),
    /// A sync daemon was started; its settings are in [`crate::table::IpvsTable::sync_daemons`].
    SyncDaemonStarted(SyncState),
    /// A sync daemon was stopped.
    SyncDaemonStopped(SyncState),
}
