//! A service's destination list with its scheduler, changed the way `ip_vs_ctl.c` changes it.
//!
//! The order of the list and the moments the scheduler hooks run are part of the schedulers'
//! semantics, so they are modelled here once: `ipvsadm -a` links the new destination at the
//! *front* (`list_add_rcu`) and then calls `add_dest`; `ipvsadm -e` edits in place and calls
//! `upd_dest` (whether or not anything changed); `ipvsadm -d` unlinks and then calls
//! `del_dest`. Overload flags and connection counters change without any hook.

use super::dest::SchedDest;
use super::kind::SchedulerKind;
use super::delay::{nq_pick, sed_pick};
use super::failover::{fo_pick, ovf_pick};
use super::hashing::{HashInput, dh_pick, dh_table, sh_pick, sh_table};
use super::least::{lc_pick, wlc_pick};
use super::maglev::{MaglevDest, mh_pick, mh_table};
use super::twos::twos_pick;
use super::ring::{self, RingError, RingProgram};
use super::rr::RoundRobin;
use super::wrr::WeightedRoundRobin;

/// The scheduler bound to a service, with its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheduler {
    /// `rr`.
    RoundRobin(RoundRobin),
    /// `wrr`.
    WeightedRoundRobin(WeightedRoundRobin),
    /// `lc` (stateless).
    LeastConnection,
    /// `wlc` (stateless).
    WeightedLeastConnection,
    /// `sed` (stateless).
    ShortestExpectedDelay,
    /// `nq` (stateless).
    NeverQueue,
    /// `fo` (stateless).
    WeightedFailover,
    /// `ovf` (stateless).
    WeightedOverflow,
    /// `sh`: its table is a function of the list, rebuilt by [`SchedService::hash_table`].
    SourceHashing,
    /// `dh`: likewise.
    DestinationHashing,
    /// `mh`: its table depends on the destinations' addresses and last weights, which the
    /// service keeps; [`SchedService::pick_for`] and [`SchedService::hash_table`] use them.
    MaglevHashing,
    /// `twos` (stateless, random).
    PowerOfTwoChoices,
    /// `lblc`: its cache lives in the data plane; [`super::locality::lblc_pick`] is the
    /// reference with the cache passed in. Without a cache, a pick is `wlc`'s (a cache miss).
    LocalityBasedLeastConnection,
    /// lblcr: the data plane keeps a set of real servers per destination address; without it,
    /// as wlc.
    LocalityBasedLeastConnectionReplicated,
}

/// The service flags the hashing schedulers read (`-b sh-port,sh-fallback`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HashFlags {
    /// `sh-port`: the source port is hashed with the address.
    pub port: bool,
    /// `sh-fallback`: an unusable bucket sends the search around the table.
    pub fallback: bool,
}

impl Scheduler {
    /// Binds a scheduler to a service whose list is `dests` (the kernel's `init_service`).
    pub fn init(kind: SchedulerKind, dests: &[SchedDest]) -> Result<Self, SchedError> {
        match kind {
            SchedulerKind::Rr => Ok(Self::RoundRobin(RoundRobin::new())),
            SchedulerKind::Wrr => Ok(Self::WeightedRoundRobin(WeightedRoundRobin::init(dests))),
            SchedulerKind::Lc => Ok(Self::LeastConnection),
            SchedulerKind::Wlc => Ok(Self::WeightedLeastConnection),
            SchedulerKind::Sed => Ok(Self::ShortestExpectedDelay),
            SchedulerKind::Nq => Ok(Self::NeverQueue),
            SchedulerKind::Fo => Ok(Self::WeightedFailover),
            SchedulerKind::Ovf => Ok(Self::WeightedOverflow),
            SchedulerKind::Sh => Ok(Self::SourceHashing),
            SchedulerKind::Dh => Ok(Self::DestinationHashing),
            SchedulerKind::Mh => Ok(Self::MaglevHashing),
            SchedulerKind::Twos => Ok(Self::PowerOfTwoChoices),
            SchedulerKind::Lblc => Ok(Self::LocalityBasedLeastConnection),
            SchedulerKind::Lblcr => Ok(Self::LocalityBasedLeastConnectionReplicated),
        }
    }

    /// Which scheduler this is.
    pub const fn kind(&self) -> SchedulerKind {
        match self {
            Self::RoundRobin(_) => SchedulerKind::Rr,
            Self::WeightedRoundRobin(_) => SchedulerKind::Wrr,
            Self::LeastConnection => SchedulerKind::Lc,
            Self::WeightedLeastConnection => SchedulerKind::Wlc,
            Self::ShortestExpectedDelay => SchedulerKind::Sed,
            Self::NeverQueue => SchedulerKind::Nq,
            Self::WeightedFailover => SchedulerKind::Fo,
            Self::WeightedOverflow => SchedulerKind::Ovf,
            Self::SourceHashing => SchedulerKind::Sh,
            Self::DestinationHashing => SchedulerKind::Dh,
            Self::MaglevHashing => SchedulerKind::Mh,
            Self::PowerOfTwoChoices => SchedulerKind::Twos,
            Self::LocalityBasedLeastConnection => SchedulerKind::Lblc,
            Self::LocalityBasedLeastConnectionReplicated => SchedulerKind::Lblcr,
        }
    }

    /// Schedules one new connection over `dests`; the hashing schedulers hash `input` (the
    /// others do not read the packet).
    pub fn pick(&mut self, dests: &[SchedDest], input: &HashInput, flags: HashFlags) -> Option<u32> {
        match self {
            Self::RoundRobin(rr) => rr.pick(dests),
            Self::WeightedRoundRobin(wrr) => wrr.pick(dests),
            Self::LeastConnection => lc_pick(dests),
            Self::WeightedLeastConnection => wlc_pick(dests),
            Self::ShortestExpectedDelay => sed_pick(dests),
            Self::NeverQueue => nq_pick(dests),
            Self::WeightedFailover => fo_pick(dests),
            Self::WeightedOverflow => ovf_pick(dests),
            Self::SourceHashing => sh_pick(&sh_table(dests), dests, input, flags.port, flags.fallback),
            Self::DestinationHashing => dh_pick(&dh_table(dests), dests, input),
            // The list alone does not say where the destinations are: see
            // SchedService::pick_for.
            Self::MaglevHashing => None,
            // Random in the kernel and in the data plane; here both draws are 0 (the first
            // available destination's weight range): see twos_pick for chosen draws.
            Self::PowerOfTwoChoices => twos_pick(dests, 0, 0),
            Self::LocalityBasedLeastConnection | Self::LocalityBasedLeastConnectionReplicated => wlc_pick(dests),
        }
    }

    /// The `add_dest` hook, after the destination was linked in.
    pub fn on_add_dest(&mut self, dests_after: &[SchedDest]) {
        if let Self::WeightedRoundRobin(wrr) = self {
            wrr.dest_changed(dests_after);
        }
    }

    /// The `upd_dest` hook, after a destination was edited in place.
    pub fn on_upd_dest(&mut self, dests_after: &[SchedDest]) {
        if let Self::WeightedRoundRobin(wrr) = self {
            wrr.dest_changed(dests_after);
        }
    }

    /// The `del_dest` hook, after `removed_id` was unlinked from position `removed_index`.
    pub fn on_del_dest(
        &mut self,
        dests_after: &[SchedDest],
        removed_id: u32,
        removed_index: usize,
    ) {
        match self {
            Self::RoundRobin(rr) => rr.on_del_dest(dests_after, removed_id, removed_index),
            Self::WeightedRoundRobin(wrr) => wrr.dest_changed(dests_after),
            Self::LeastConnection
            | Self::WeightedLeastConnection
            | Self::ShortestExpectedDelay
            | Self::NeverQueue
            | Self::WeightedFailover
            | Self::WeightedOverflow
            | Self::SourceHashing
            | Self::DestinationHashing
            | Self::MaglevHashing
            | Self::PowerOfTwoChoices
            | Self::LocalityBasedLeastConnection
            | Self::LocalityBasedLeastConnectionReplicated => {}
        }
    }
}

/// Why a change to a [`SchedService`] was refused. Each mirrors the kernel's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SchedError {
    /// `-EEXIST`: a destination with this id is already in the service.
    #[error("destination {0} already exists")]
    DuplicateDest(u32),
    /// `-ENOENT`: no destination with this id.
    #[error("destination {0} does not exist")]
    NoSuchDest(u32),
    /// `-ERANGE`: the kernel refuses weights below 0.
    #[error("weight {0} is less than zero")]
    NegativeWeight(i32),
}

/// The scheduling half of one virtual service: its destinations in the kernel's list order
/// and its scheduler state. The reference the data plane is checked against, and the model
/// the daemon keeps to compile rings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedService {
    dests: Vec<SchedDest>,
    sched: Scheduler,
    /// What `mh` needs besides the list, by destination id: address and port (host order, as
    /// given to [`SchedService::locate`]) and `last_weight`.
    maglev: Vec<MaglevDest>,
}

impl SchedService {
    /// `ipvsadm -A -s <kind>`: a service with no destinations.
    pub fn new(kind: SchedulerKind) -> Result<Self, SchedError> {
        Ok(Self {
            dests: Vec::new(),
            sched: Scheduler::init(kind, &[])?,
            maglev: Vec::new(),
        })
    }

    /// The destinations, newest first.
    pub fn dests(&self) -> &[SchedDest] {
        &self.dests
    }

    /// The scheduler and its state.
    pub const fn scheduler(&self) -> &Scheduler {
        &self.sched
    }

    /// `ipvsadm -E -s <kind>`: binding a different scheduler runs its `init_service` on the
    /// current list; naming the scheduler already bound changes nothing (`ip_vs_edit_service`
    /// only rebinds when the scheduler differs).
    pub fn set_scheduler(&mut self, kind: SchedulerKind) -> Result<(), SchedError> {
        if kind != self.sched.kind() {
            self.sched = Scheduler::init(kind, &self.dests)?;
        }
        Ok(())
    }

    /// `ipvsadm -a`: links `dest` at the front of the list, then runs `add_dest`.
    pub fn add_dest(&mut self, dest: SchedDest) -> Result<(), SchedError> {
        if dest.weight < 0 {
            return Err(SchedError::NegativeWeight(dest.weight));
        }
        if self.index_of(dest.id).is_ok() {
            return Err(SchedError::DuplicateDest(dest.id));
        }
        self.dests.insert(0, dest);
        self.maglev.retain(|m| m.id != dest.id);
        self.maglev.push(MaglevDest { id: dest.id, addr: 0, port: 0, last_weight: dest.weight });
        self.sched.on_add_dest(&self.dests);
        Ok(())
    }

    /// `ipvsadm -e`: sets the weight in place, then runs `upd_dest`, even if the weight did
    /// not change.
    pub fn edit_dest(&mut self, id: u32, weight: i32) -> Result<(), SchedError> {
        if weight < 0 {
            return Err(SchedError::NegativeWeight(weight));
        }
        let at = self.index_of(id)?;
        self.dests[at].weight = weight;
        // `last_weight` keeps the latest weight above 0, so that quiescing reshuffles nothing.
        if weight != 0 {
            self.maglev.iter_mut().filter(|m| m.id == id).for_each(|m| m.last_weight = weight);
        }
        self.sched.on_upd_dest(&self.dests);
        Ok(())
    }

    /// `ipvsadm -d`: unlinks the destination, then runs `del_dest`.
    pub fn del_dest(&mut self, id: u32) -> Result<(), SchedError> {
        let at = self.index_of(id)?;
        self.dests.remove(at);
        self.maglev.retain(|m| m.id != id);
        self.sched.on_del_dest(&self.dests, id, at);
        Ok(())
    }

    /// Where destination `id` is (address and port, host order), which `mh` hashes to place
    /// it in its table.
    pub fn locate(&mut self, id: u32, addr: u32, port: u16) -> Result<(), SchedError> {
        self.index_of(id)?;
        for m in self.maglev.iter_mut().filter(|m| m.id == id) {
            m.addr = addr;
            m.port = port;
        }
        Ok(())
    }

    /// Sets or clears `IP_VS_DEST_F_OVERLOAD`; no scheduler hook runs.
    pub fn set_overloaded(&mut self, id: u32, overloaded: bool) -> Result<(), SchedError> {
        let at = self.index_of(id)?;
        self.dests[at].overloaded = overloaded;
        Ok(())
    }

    /// Updates the connection counters lc and wlc read; no scheduler hook runs.
    pub fn set_conns(&mut self, id: u32, active: u32, inactive: u32) -> Result<(), SchedError> {
        let at = self.index_of(id)?;
        self.dests[at].active = active;
        self.dests[at].inactive = inactive;
        Ok(())
    }

    /// Schedules one new connection, for the schedulers that do not read the packet (all but
    /// `sh` and `dh`, which see an all-zero packet here: use [`SchedService::pick_for`]).
    pub fn pick(&mut self) -> Option<u32> {
        self.pick_for(&HashInput::default(), HashFlags::default())
    }

    /// Schedules one new connection whose first packet is `input`, on a service with `flags`.
    pub fn pick_for(&mut self, input: &HashInput, flags: HashFlags) -> Option<u32> {
        if self.sched == Scheduler::MaglevHashing {
            let table = mh_table(&self.maglev_list());
            return mh_pick(&table, &self.dests, input.saddr, input.sport, flags.port, flags.fallback);
        }
        self.sched.pick(&self.dests, input, flags)
    }

    /// The destinations as `mh` sees them, in list order.
    fn maglev_list(&self) -> Vec<MaglevDest> {
        self.dests
            .iter()
            .filter_map(|d| self.maglev.iter().find(|m| m.id == d.id).copied())
            .collect()
    }

    /// The table of `sh` or `dh` (256 buckets) or `mh` (4093 positions) for the current list
    /// (empty without destinations), or `None` for the other schedulers.
    pub fn hash_table(&self) -> Option<Vec<u32>> {
        match self.sched {
            Scheduler::SourceHashing => Some(sh_table(&self.dests)),
            Scheduler::DestinationHashing => Some(dh_table(&self.dests)),
            Scheduler::MaglevHashing => Some(mh_table(&self.maglev_list())),
            _ => None,
        }
    }

    /// Compiles the ring and cursor the data plane schedules rr and wrr with from here on.
    pub fn compile_ring(&self) -> Result<RingProgram, RingError> {
        match &self.sched {
            Scheduler::RoundRobin(rr) => ring::compile_rr(&self.dests, rr),
            Scheduler::WeightedRoundRobin(wrr) => ring::compile_wrr(&self.dests, wrr),
            other => Err(RingError::NotRingScheduled(other.kind())),
        }
    }

    /// Takes over the scheduler state the data plane reached with `program` once its cursor
    /// reads `cursor_now` (see [`RingProgram::recover`]). The program must have been compiled
    /// from this service's list, before any change made since.
    pub fn resume_from(&mut self, program: &RingProgram, cursor_now: u64) -> Result<(), RingError> {
        let recovered = program.recover(cursor_now);
        if recovered.kind() != self.sched.kind() {
            return Err(RingError::SchedulerMismatch {
                program: recovered.kind(),
                service: self.sched.kind(),
            });
        }
        self.sched = recovered;
        Ok(())
    }

    /// After a daemon restart: takes over the state from a ring and cursor that an earlier
    /// process installed, given this service rebuilt with the same destinations in the same
    /// order (any scheduler state; rings do not depend on it). Exact if the ring is not
    /// empty and the data plane picked from it since it was installed (see
    /// [`RingProgram::recover_after_picks`]). Then compile and install as after any change.
    pub fn adopt_ring(&mut self, ring: &[u32], cursor_now: u64) -> Result<(), RingError> {
        let program = self.compile_ring()?;
        if program.ring() != ring {
            return Err(RingError::RingMismatch);
        }
        self.sched = program.recover_after_picks(cursor_now);
        Ok(())
    }

    fn index_of(&self, id: u32) -> Result<usize, SchedError> {
        self.dests
            .iter()
            .position(|d| d.id == id)
            .ok_or(SchedError::NoSuchDest(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::DestCursor;

    fn service(kind: SchedulerKind, ids_weights: &[(u32, i32)]) -> SchedService {
        let mut svc = SchedService::new(kind).expect("implemented scheduler");
        for &(id, weight) in ids_weights {
            svc.add_dest(SchedDest::new(id, weight))
                .expect("new destination");
        }
        svc
    }

    fn picks(svc: &mut SchedService, n: usize) -> Vec<Option<u32>> {
        (0..n).map(|_| svc.pick()).collect()
    }

    #[test]
    fn destinations_are_listed_newest_first() {
        let svc = service(SchedulerKind::Rr, &[(1, 1), (2, 1), (3, 1)]);
        assert_eq!(
            svc.dests().iter().map(|d| d.id).collect::<Vec<_>>(),
            [3, 2, 1]
        );
    }

    #[test]
    fn refusals_mirror_the_kernel() {
        let mut svc = service(SchedulerKind::Wlc, &[(1, 1)]);
        assert_eq!(
            svc.add_dest(SchedDest::new(1, 2)),
            Err(SchedError::DuplicateDest(1))
        );
        assert_eq!(
            svc.add_dest(SchedDest::new(2, -1)),
            Err(SchedError::NegativeWeight(-1))
        );
        assert_eq!(svc.edit_dest(1, -5), Err(SchedError::NegativeWeight(-5)));
        assert_eq!(svc.edit_dest(9, 1), Err(SchedError::NoSuchDest(9)));
        assert_eq!(svc.del_dest(9), Err(SchedError::NoSuchDest(9)));
        assert_eq!(svc.set_overloaded(9, true), Err(SchedError::NoSuchDest(9)));
        assert_eq!(svc.locate(9, 1, 80), Err(SchedError::NoSuchDest(9)));
    }

    #[test]
    fn edit_keeps_the_list_position() {
        let mut svc = service(SchedulerKind::Rr, &[(1, 1), (2, 1)]);
        svc.edit_dest(1, 5).expect("existing destination");
        assert_eq!(svc.dests()[1], SchedDest::new(1, 5));
    }

    #[test]
    fn rr_survives_deleting_its_last_pick() {
        let mut svc = service(SchedulerKind::Rr, &[(1, 1), (2, 1), (3, 1)]);
        assert_eq!(picks(&mut svc, 2), [Some(3), Some(2)]);
        svc.del_dest(2).expect("existing destination");
        assert_eq!(picks(&mut svc, 3), [Some(1), Some(3), Some(1)]);
    }

    #[test]
    fn wrr_edit_without_change_restarts_the_walk() {
        let mut svc = service(SchedulerKind::Wrr, &[(1, 1), (2, 1), (3, 1)]);
        assert_eq!(picks(&mut svc, 2), [Some(3), Some(2)]);
        svc.edit_dest(1, 1).expect("existing destination");
        assert_eq!(picks(&mut svc, 2), [Some(3), Some(2)]);
    }

    #[test]
    fn overload_changes_run_no_hook() {
        let mut svc = service(SchedulerKind::Wrr, &[(1, 1), (2, 1)]);
        assert_eq!(svc.pick(), Some(2));
        svc.set_overloaded(1, true).expect("existing destination");
        let Scheduler::WeightedRoundRobin(wrr) = svc.scheduler() else {
            panic!("wrr service");
        };
        assert_eq!(wrr.cursor(), DestCursor::At(2));
    }

    #[test]
    fn rebinding_the_same_scheduler_keeps_its_state() {
        let mut svc = service(SchedulerKind::Rr, &[(1, 1), (2, 1)]);
        assert_eq!(svc.pick(), Some(2));
        svc.set_scheduler(SchedulerKind::Rr).expect("implemented");
        assert_eq!(svc.pick(), Some(1));
        svc.set_scheduler(SchedulerKind::Wrr).expect("implemented");
        assert_eq!(svc.pick(), Some(2));
    }

    #[test]
    fn lc_and_wlc_follow_the_counters() {
        let mut svc = service(SchedulerKind::Lc, &[(1, 1), (2, 3)]);
        svc.set_conns(2, 1, 0).expect("existing destination");
        assert_eq!(svc.pick(), Some(1));
        svc.set_scheduler(SchedulerKind::Wlc).expect("implemented");
        svc.set_conns(1, 1, 0).expect("existing destination");
        // 256 / 3 < 256 / 1.
        assert_eq!(svc.pick(), Some(2));
        assert_eq!(
            svc.compile_ring(),
            Err(RingError::NotRingScheduled(SchedulerKind::Wlc))
        );
    }
}
