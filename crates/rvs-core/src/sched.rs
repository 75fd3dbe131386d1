//! Schedulers: the kernel's exact selection rules, and rings the XDP data plane can follow.
//!
//! Two halves:
//!
//! - **Reference implementations** of IPVS's `rr`, `wrr`, `lc`, `wlc`, `sed`, `nq`, `fo` and
//!   `ovf` (`net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,sed,nq,fo,ovf}.c`), as state machines over a destination
//!   list in the kernel's order (newest-added first, see [`SchedService`]). They decide what
//!   "correct" means; the C data plane and its test fixtures are compared against them.
//! - **A compiler** ([`ring`]) that turns the rr/wrr state into `(ring, cursor)` so that the
//!   data plane can schedule with one atomic add and one array read
//!   ([`ring::dataplane_pick`]), and the inverse ([`RingProgram::recover`]) that turns the
//!   cursor read back from the data plane into the exact kernel state at the next rebuild.
//!
//! `lc`, `wlc`, `sed`, `nq`, `fo` and `ovf` depend on live connection counters and weights, so
//! the data plane computes them itself; only their reference implementations live here
//! ([`least`], [`delay`], [`failover`]).

pub mod delay;
mod dest;
pub mod failover;
pub mod hashing;
mod kind;
pub mod least;
pub mod locality;
pub mod maglev;
pub mod twos;
pub mod ring;
mod rr;
mod service;
mod wrr;

#[cfg(test)]
mod equivalence;

pub use dest::{DestCursor, SchedDest};
pub use kind::{SchedulerKind, UnknownScheduler};
pub use ring::{MAX_RING_LEN, RingError, RingProgram, compile_rr, compile_wrr, dataplane_pick};
pub use rr::RoundRobin;
pub use service::{HashFlags, SchedError, SchedService, Scheduler};
pub use wrr::WeightedRoundRobin;
