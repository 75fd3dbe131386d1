//! VRRP (RFC 3768 v2, RFC 5798 v3) as keepalived runs it, sans-IO in the manner of
//! quinn-proto: no sockets, no clocks. The caller passes `now`, feeds [`Advert`]s, timeouts
//! and tracker changes into a [`Machine`], and drains [`Output`]s (send an advertisement,
//! change state) and the next deadline ([`Machine::poll_timeout`]). Packet layout lives in
//! rvs-wire; the socket driver converts between the two.
//!
//! - [`config`]: [`VrrpConfig`], checked as keepalived checks a `vrrp_instance`.
//! - [`timers`]: Skew_Time and Master_Down_Interval.
//! - [`event`]: what goes in and out.
//! - [`Machine`]: the state machine.
//!
//! # keepalived behaviour followed (2.x, `vrrp.c`, `vrrp_scheduler.c`)
//!
//! - **Startup**: priority 255 with `state MASTER` sends an advert and is master at once.
//!   `state MASTER` below 255 is *not* master at once: it enters BACKUP with a down timer of
//!   one Master_Adver_Interval + the smallest skew (`VRRP_TIMER_SKEW_MIN`), so that an
//!   existing master at or above its priority is heard first. `state BACKUP` waits a whole
//!   Master_Down_Interval, even at priority 255. Without `state`, keepalived picks MASTER for
//!   255 and BACKUP otherwise ([`InitialState::default_for`]).
//! - **Skew** uses the effective priority (the owner's 255 never changes).
//! - **Backup**: priority 0 → down timer = Skew_Time. Priority ≥ ours, or `nopreempt`, or a
//!   running `preempt_delay` → accepted: down timer reset, v3 adopts the interval. A lower
//!   priority otherwise is discarded and the down timer runs out (reason "preempted").
//!   Equal priority in Backup is accepted whatever the addresses (the address tie-break is
//!   between masters only).
//! - **`preempt_delay`** (2.x semantics; 1.x also started it at startup): the delay starts at
//!   the *first lower-priority advertisement* heard since entering BACKUP; until it has
//!   passed such adverts are accepted like a higher priority's. A priority ≥ ours cancels
//!   it, entering BACKUP clears it. Takeover thus happens at the down timer after the last
//!   advert accepted before the delay ended. Hearing no master at all is not delayed.
//! - **Master**: priority 0 → an advert at once. Higher priority, or equal priority from a
//!   greater address (unsigned, same family) → BACKUP with a full Master_Down_Interval
//!   (v3 with the adopted interval). Lower priority, or equal from a smaller address →
//!   stay master and send an advert at once (`lower_prio_no_advert` off by default), which
//!   makes the lower one step down; [`Output::LowerPriorityMaster`] is keepalived's
//!   `notify_master_rx_lower_pri` / `garp_lower_prio_repeat` hook. Every advert sent rearms
//!   the advert timer.
//! - **v2 interval mismatch**: the advert is dropped ([`Discard::IntervalMismatch`]), as
//!   RFC 3768 §7.1 and keepalived do; v3 adopts the master's interval instead.
//! - **Fault**: silent, deaf. Entering it a master sends priority 0. Leaving it resets
//!   Master_Adver_Interval; the owner with `state MASTER` becomes master at once, others
//!   BACKUP.
//! - **Tracking**: [`Machine::set_priority`] clamps to 1..=254; the owner is never changed.
//!   A master does not advertise the change at once (next advert); a backup's down timer
//!   moves with the skew.
//! - **Shutdown**: a master sends priority 0 once.
//! - Not modelled: sync groups, keepalived's "rogue address owner" dance between two
//!   priority 255 instances (rvs applies the plain tie-break), the AH/auth state, the global
//!   startup delay.

pub mod config;
pub mod event;
mod machine;
pub mod timers;

#[cfg(test)]
mod tests;

pub use config::{ConfigError, ConfigWarning, InitialState, Version, VrrpConfig};
pub use event::{Advert, Discard, Output, Reason, State};
pub use machine::Machine;
pub use timers::Timer;
