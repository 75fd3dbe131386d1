//! Compiling rr and wrr into a ring the XDP data plane follows, and reading the state back.
//!
//! # Data-plane contract
//!
//! For each new connection the data plane does what [`dataplane_pick`] does:
//! `i = atomic_fetch_add(&cursor, 1); dest = ring_len ? ring[i % ring_len] : none`. The
//! cursor is incremented on *every* attempt, also when the ring is empty, because a failed wrr
//! pick moves the kernel's state too and [`RingProgram::recover`] must know it happened.
//! Ring and cursor are replaced together, as one unit, at each rebuild.
//!
//! # Rebuild protocol
//!
//! The daemon keeps a [`SchedService`](crate::sched::SchedService) and the [`RingProgram`]
//! it last installed. On any change (destination added, edited, deleted, overload flag or
//! scheduler changed):
//!
//! 1. read the cursor back from the data plane;
//! 2. [`SchedService::resume_from`](crate::sched::SchedService::resume_from): the service
//!    takes over the exact kernel state the data plane reached (rr: the last-picked
//!    destination; wrr: `cl` and `cw`);
//! 3. apply the change to the service, which runs the kernel's hook (rr's `del_dest` moves
//!    the cursor; wrr's `dest_changed` puts `cl` back at the head and realigns `cw`);
//! 4. [`SchedService::compile_ring`](crate::sched::SchedService::compile_ring) and install
//!    the new ring and cursor.
//!
//! The data plane then picks exactly what the kernel would have picked, change included.
//!
//! After a daemon restart the previous [`RingProgram`] is gone but the pinned ring and cursor
//! are not: [`SchedService::adopt_ring`](crate::sched::SchedService::adopt_ring) rebuilds
//! the state from them (exact if the ring is not empty and the data plane scheduled from it
//! since it was installed), and the daemon continues with step 3.
//!
//! # Ring shapes and bound
//!
//! - rr: the available destinations (weight above 0, not overloaded) in list order, one
//!   entry each; the cursor is the index of the kernel's next pick.
//! - wrr: one full cycle of the kernel's walk started from the head at the top threshold,
//!   `Σ weight_i / gcd` entries over the destinations that are not overloaded (the gcd is
//!   taken over all weights above 0, as the kernel takes it); the cursor is the index of the
//!   kernel's next pick in that cycle. The ring's content depends only on the list, not on
//!   where the kernel's walk stands.
//!
//! A ring holds at most [`MAX_RING_LEN`] = 65536 entries (256 KiB of `u32` ids per service).
//! Any rr service with up to 65536 available destinations fits. A wrr service fits when
//! `Σ weight_i / gcd ≤ 65536`: all-equal weights fit up to 65536 destinations, weights up to
//! 255 with gcd 1 fit 257 destinations, but weights 65535 and 2 alone (gcd 1) need 65537
//! entries. Beyond the bound compiling fails with [`RingError::TooLong`].

use super::dest::{DestCursor, SchedDest};
use super::kind::SchedulerKind;
use super::rr::RoundRobin;
use super::service::Scheduler;
use super::wrr::WeightedRoundRobin;

/// The most entries a compiled ring may hold.
pub const MAX_RING_LEN: usize = 65536;

/// Why no ring could be compiled, or a program does not fit a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// The ring would exceed [`MAX_RING_LEN`] entries.
    #[error(
        "the scheduling ring would need {needed} entries, more than the {MAX_RING_LEN} allowed"
    )]
    TooLong {
        /// Entries one full cycle needs.
        needed: u64,
    },
    /// The scheduler is not run from a ring (lc and wlc are computed live).
    #[error("the {0} scheduler is not run from a ring")]
    NotRingScheduled(SchedulerKind),
    /// A program compiled for one scheduler was applied to a service using another.
    #[error("ring program is for {program} but the service uses {service}")]
    SchedulerMismatch {
        /// Scheduler the program was compiled for.
        program: SchedulerKind,
        /// Scheduler the service uses.
        service: SchedulerKind,
    },
    /// The scheduler state was not produced from this destination list.
    #[error("scheduler state does not belong to this destination list")]
    StateMismatch,
    /// A ring found in the data plane is not the one this service compiles to.
    #[error("the installed ring does not match the service's destinations")]
    RingMismatch,
}

/// What the XDP program does for one new connection: take the cursor, advance it, and index
/// the ring with the value taken. `None` when the ring is empty ("no destination available").
pub fn dataplane_pick(ring: &[u32], cursor: &mut u64) -> Option<u32> {
    let taken = *cursor;
    *cursor = taken.wrapping_add(1);
    let len = ring.len() as u64;
    if len == 0 {
        return None;
    }
    // Below `len`, so the conversion is lossless.
    ring.get((taken % len) as usize).copied()
}

/// A compiled ring, the cursor value to install with it, and what is needed to turn a cursor
/// read back later into the kernel's scheduler state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingProgram {
    ring: Vec<u32>,
    cursor: u64,
    /// The state at compile time: still the state while the cursor has not moved.
    base: Scheduler,
    /// The state after one or more failed picks (empty ring).
    after_failure: Scheduler,
    /// wrr only: `cw` after the pick of each ring entry.
    slot_cw: Vec<i32>,
}

impl RingProgram {
    /// Destination ids, in the order the data plane hands them out.
    pub fn ring(&self) -> &[u32] {
        &self.ring
    }

    /// The cursor value to install together with the ring.
    pub const fn cursor(&self) -> u64 {
        self.cursor
    }

    /// The scheduler the program was compiled for.
    pub const fn kind(&self) -> SchedulerKind {
        self.base.kind()
    }

    /// The kernel scheduler state once the data plane's cursor reads `cursor_now`.
    ///
    /// Unmoved cursor: the state at compile time, exactly (it may stand at the head or at a
    /// destination that is not in the ring). Moved over a non-empty ring: the state right
    /// after the pick of entry `(cursor_now - 1) mod len`. Moved over an empty ring: the state
    /// after a failed pick, which further failures do not change.
    pub fn recover(&self, cursor_now: u64) -> Scheduler {
        if cursor_now == self.cursor {
            return self.base;
        }
        self.recover_after_picks(cursor_now)
    }

    /// Like [`RingProgram::recover`] for a ring installed by an earlier daemon process, whose
    /// install-time cursor is unknown: assumes the data plane picked at least once since the
    /// ring was installed, and is exact when it did. Otherwise the result is the state right
    /// after the ring entry before the next pick, which picks the same until the next change.
    /// An empty ring carries no state at all: the result is then this program's own state
    /// after a failed pick.
    pub fn recover_after_picks(&self, cursor_now: u64) -> Scheduler {
        let len = self.ring.len() as u64;
        if len == 0 {
            return self.after_failure;
        }
        // Below `len`, so the conversion is lossless.
        let slot = (cursor_now.wrapping_sub(1) % len) as usize;
        match (self.base, self.ring.get(slot), self.slot_cw.get(slot)) {
            (Scheduler::RoundRobin(_), Some(&id), _) => {
                Scheduler::RoundRobin(RoundRobin::with_cursor(DestCursor::At(id)))
            }
            (Scheduler::WeightedRoundRobin(wrr), Some(&id), Some(&cw)) => {
                Scheduler::WeightedRoundRobin(wrr.with_position(DestCursor::At(id), cw))
            }
            // Every compiled entry has its state; lc and wlc are never compiled.
            _ => self.base,
        }
    }
}

fn check_len(needed: u64) -> Result<(), RingError> {
    if needed > MAX_RING_LEN as u64 {
        Err(RingError::TooLong { needed })
    } else {
        Ok(())
    }
}

/// Compiles rr: the available destinations in list order, the cursor at the kernel's next
/// pick from state `rr`.
pub fn compile_rr(dests: &[SchedDest], rr: &RoundRobin) -> Result<RingProgram, RingError> {
    let ring: Vec<u32> = dests
        .iter()
        .filter(|d| d.is_available())
        .map(|d| d.id)
        .collect();
    check_len(ring.len() as u64)?;
    let mut probe = *rr;
    let cursor = match probe.pick(dests) {
        Some(next) => ring
            .iter()
            .position(|&id| id == next)
            .ok_or(RingError::StateMismatch)?,
        None => 0,
    };
    Ok(RingProgram {
        ring,
        cursor: cursor as u64,
        base: Scheduler::RoundRobin(*rr),
        // A failed rr pick changes nothing.
        after_failure: Scheduler::RoundRobin(probe),
        slot_cw: Vec::new(),
    })
}

/// Compiles wrr: one full cycle of the kernel's walk from the head at the top threshold,
/// the cursor at the kernel's next pick from state `wrr`.
pub fn compile_wrr(
    dests: &[SchedDest],
    wrr: &WeightedRoundRobin,
) -> Result<RingProgram, RingError> {
    let needed = wrr.cycle_len(dests);
    check_len(needed)?;
    let mut walk = wrr.with_position(DestCursor::Head, wrr.max_weight());
    let mut ring = Vec::with_capacity(needed as usize);
    let mut slot_cw = Vec::with_capacity(needed as usize);
    for _ in 0..needed {
        ring.push(walk.pick(dests).ok_or(RingError::StateMismatch)?);
        slot_cw.push(walk.current_weight());
    }
    // One more pick must start the cycle over, or the state's thresholds do not fit the list.
    if let (Some(&first), Some(&first_cw)) = (ring.first(), slot_cw.first())
        && (walk.pick(dests) != Some(first) || walk.current_weight() != first_cw)
    {
        return Err(RingError::StateMismatch);
    }
    let mut probe = *wrr;
    let cursor = match probe.pick(dests) {
        Some(next) => (0..ring.len())
            .find(|&i| ring[i] == next && slot_cw[i] == probe.current_weight())
            .ok_or(RingError::StateMismatch)?,
        None if ring.is_empty() => 0,
        None => return Err(RingError::StateMismatch),
    };
    Ok(RingProgram {
        ring,
        cursor: cursor as u64,
        base: Scheduler::WeightedRoundRobin(*wrr),
        after_failure: Scheduler::WeightedRoundRobin(probe),
        slot_cw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::SchedService;

    fn list(ids_weights: &[(u32, i32)]) -> Vec<SchedDest> {
        ids_weights
            .iter()
            .map(|&(id, w)| SchedDest::new(id, w))
            .collect()
    }

    fn run(ring: &[u32], cursor: &mut u64, n: usize) -> Vec<Option<u32>> {
        (0..n).map(|_| dataplane_pick(ring, cursor)).collect()
    }

    #[test]
    fn dataplane_pick_wraps_and_counts_failures() {
        let mut cursor = 4;
        assert_eq!(run(&[7, 8, 9], &mut cursor, 3), [Some(8), Some(9), Some(7)]);
        assert_eq!(cursor, 7);
        assert_eq!(dataplane_pick(&[], &mut cursor), None);
        assert_eq!(cursor, 8);
    }

    #[test]
    fn rr_ring_is_the_available_list_and_cursor_the_next_pick() {
        let mut dests = list(&[(4, 1), (3, 0), (2, 1), (1, 1)]);
        dests[3].overloaded = true;
        let program =
            compile_rr(&dests, &RoundRobin::with_cursor(DestCursor::At(4))).expect("small ring");
        assert_eq!(program.ring(), [4, 2]);
        assert_eq!(program.cursor(), 1);
        let fresh = compile_rr(&dests, &RoundRobin::new()).expect("small ring");
        assert_eq!(fresh.cursor(), 0);
    }

    #[test]
    fn rr_recover_is_exact_before_and_after_picks() {
        let dests = list(&[(3, 1), (2, 0), (1, 1)]);
        // The cursor stands on weight-0 destination 2: not a ring entry.
        let state = RoundRobin::with_cursor(DestCursor::At(2));
        let program = compile_rr(&dests, &state).expect("small ring");
        assert_eq!(program.ring(), [3, 1]);
        assert_eq!(program.cursor(), 1);
        assert_eq!(program.recover(1), Scheduler::RoundRobin(state));
        let at = |id| Scheduler::RoundRobin(RoundRobin::with_cursor(DestCursor::At(id)));
        assert_eq!(program.recover(2), at(1));
        assert_eq!(program.recover(3), at(3));
        assert_eq!(program.recover(1_000_001), at(3));
    }

    #[test]
    fn wrr_one_to_three_ring_and_cursor() {
        // Built by ipvsadm: B (w3) newest, A (w1); state (head, cw 1).
        let mut svc = SchedService::new(SchedulerKind::Wrr).expect("wrr");
        svc.add_dest(SchedDest::new(1, 1)).expect("new");
        svc.add_dest(SchedDest::new(2, 3)).expect("new");
        let program = svc.compile_ring().expect("small ring");
        // Cycle from the top threshold: 3: B; 2: B; 1: B, A.
        assert_eq!(program.ring(), [2, 2, 2, 1]);
        // The kernel's next pick is B at threshold 1: the third entry.
        assert_eq!(program.cursor(), 2);
        let mut cursor = program.cursor();
        let from_ring = run(program.ring(), &mut cursor, 10);
        let reference: Vec<_> = (0..10).map(|_| svc.pick()).collect();
        assert_eq!(from_ring, reference);
    }

    #[test]
    fn wrr_recover_gives_cl_and_cw_of_the_last_pick() {
        let dests = list(&[(1, 4), (2, 2), (3, 6)]);
        let wrr = WeightedRoundRobin::init(&dests);
        let program = compile_wrr(&dests, &wrr).expect("small ring");
        assert_eq!(program.ring(), [3, 1, 3, 1, 2, 3]);
        assert_eq!(program.recover(0), Scheduler::WeightedRoundRobin(wrr));
        // After 5 picks the last was entry 4: dest 2 at threshold 1.
        let Scheduler::WeightedRoundRobin(after) = program.recover(5) else {
            panic!("wrr program");
        };
        assert_eq!(
            (after.cursor(), after.current_weight()),
            (DestCursor::At(2), 1)
        );
        let mut reference = wrr;
        for _ in 0..5 {
            reference.pick(&dests);
        }
        assert_eq!(after, reference);
    }

    #[test]
    fn empty_wrr_ring_recovers_the_failed_pick_state() {
        // Weights 2, 4: thresholds 3, 1. The first pick leaves (dest 2, cw 3).
        let mut dests = list(&[(1, 2), (2, 4)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(wrr.pick(&dests), Some(2));
        for d in &mut dests {
            d.overloaded = true;
        }
        let program = compile_wrr(&dests, &wrr).expect("empty ring");
        assert!(program.ring().is_empty());
        assert_eq!(
            program.recover(program.cursor()),
            Scheduler::WeightedRoundRobin(wrr)
        );
        // A failed pick from cw 3 walks every threshold and ends at the head, cw = mw.
        let failed = WeightedRoundRobin::init(&dests);
        assert_eq!(
            (failed.cursor(), failed.current_weight()),
            (DestCursor::Head, 3)
        );
        assert_eq!(
            program.recover(program.cursor() + 1),
            Scheduler::WeightedRoundRobin(failed)
        );
        assert_eq!(
            program.recover(program.cursor() + 9),
            Scheduler::WeightedRoundRobin(failed)
        );
    }

    #[test]
    fn wrr_ring_bound() {
        // 65535 + 1 entries fit exactly; 65535 + 2 do not.
        let fits = list(&[(1, 65535), (2, 1)]);
        let program =
            compile_wrr(&fits, &WeightedRoundRobin::init(&fits)).expect("exactly the bound");
        assert_eq!(program.ring().len(), MAX_RING_LEN);
        let too_long = list(&[(1, 65535), (2, 2)]);
        assert_eq!(
            compile_wrr(&too_long, &WeightedRoundRobin::init(&too_long)),
            Err(RingError::TooLong { needed: 65537 })
        );
        // Large but equal weights collapse by their gcd.
        let equal = list(&[(1, 65535), (2, 65535)]);
        let program = compile_wrr(&equal, &WeightedRoundRobin::init(&equal)).expect("gcd");
        assert_eq!(program.ring(), [1, 2]);
    }

    #[test]
    fn off_cycle_state_is_refused() {
        // Weights 4, 2: thresholds 3, 1. No kernel transition yields cw 2.
        let dests = list(&[(1, 4), (2, 2)]);
        let off_grid = WeightedRoundRobin::init(&dests).with_position(DestCursor::Head, 2);
        assert_eq!(
            compile_wrr(&dests, &off_grid),
            Err(RingError::StateMismatch)
        );
        let mut svc = SchedService::new(SchedulerKind::Rr).expect("rr");
        svc.add_dest(SchedDest::new(1, 1)).expect("new");
        let program = compile_wrr(&dests, &WeightedRoundRobin::init(&dests)).expect("ring");
        assert_eq!(
            svc.resume_from(&program, 1),
            Err(RingError::SchedulerMismatch {
                program: SchedulerKind::Wrr,
                service: SchedulerKind::Rr
            })
        );
    }
}
