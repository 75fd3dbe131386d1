//! A real server's health from its checks: up while every check passes (a real server without
//! checks is always up), with the dynamic weight of its first check that sets one, and nanny's
//! slow start after it comes back.

use std::time::{Duration, Instant};

use rvs_core::config::{RealServer, desired::RealHealth};
use rvs_core::model::Weight;

use crate::check_state::{CheckState, later};

/// nanny's slow start: the weight starts at `weight >> 5` (at least 1) and doubles every
/// interval until it reaches the configured weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowStart {
    step: u32,
    next: Instant,
    interval: Duration,
}

impl SlowStart {
    /// The ramp's weight at its current step, for a real server of `weight`; `None` once it
    /// has reached it.
    fn weight(&self, weight: Weight) -> Option<Weight> {
        let full = weight.get();
        let start = (full >> 5).max(1);
        let now = start.checked_shl(self.step).filter(|w| *w < full)?;
        Weight::new(now)
    }
}

/// State of one real server.
#[derive(Debug, Clone)]
pub struct RealState {
    /// One per check of the configuration, in order.
    pub(crate) checks: Vec<CheckState>,
    /// Check ids, one per check, for results coming back.
    pub(crate) ids: Vec<u64>,
    up: bool,
    slow: Option<SlowStart>,
    /// When the real server last changed state, and why.
    pub(crate) since: Instant,
    pub(crate) reason: String,
}

impl RealState {
    /// A real server whose checks are `checks` (with their ids), up or not.
    pub(crate) fn new(checks: Vec<CheckState>, ids: Vec<u64>, up: bool, now: Instant, reason: String) -> Self {
        RealState { checks, ids, up, slow: None, since: now, reason }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Its checks' states, in configuration order.
    pub fn checks(&self) -> &[CheckState] {
        &self.checks
    }

    /// When it last changed state, and why.
    pub fn since(&self) -> Instant {
        self.since
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// What the checks say now: all up (or none).
    pub(crate) fn checks_up(&self) -> bool {
        self.checks.iter().all(CheckState::is_up)
    }

    /// Follows the checks after one of them changed; `Some(up)` when the real server flips.
    pub(crate) fn settle(&mut self, real: &RealServer, now: Instant, reason: &str) -> Option<bool> {
        let up = self.checks_up();
        if up == self.up {
            return None;
        }
        self.up = up;
        self.since = now;
        self.reason = reason.to_string();
        self.slow = None;
        if up && real.slow_start {
            let interval = self.checks.first().map_or(Duration::from_secs(1), |c| c.timing().delay_loop);
            self.slow = Some(SlowStart { step: 0, next: later(now, interval), interval });
        }
        Some(up)
    }

    /// The slow start's next step, when one is pending.
    pub(crate) fn slow_start_deadline(&self) -> Option<Instant> {
        self.slow.map(|s| s.next)
    }

    /// Advances the slow start if its step is due; true when the weight changed.
    pub(crate) fn advance_slow_start(&mut self, real: &RealServer, now: Instant) -> bool {
        let Some(mut s) = self.slow else { return false };
        if s.next > now {
            return false;
        }
        s.step += 1;
        s.next = later(now, s.interval);
        self.slow = s.weight(self.base_weight(real)).map(|_| s);
        true
    }

    /// The weight the checks give (dynamic) or the configured one.
    fn base_weight(&self, real: &RealServer) -> Weight {
        self.checks.iter().find_map(CheckState::weight).unwrap_or(real.dest.weight)
    }

    /// The health the table follows.
    pub fn health(&self, real: &RealServer) -> RealHealth {
        if !self.up {
            return RealHealth::DOWN;
        }
        let base = self.base_weight(real);
        let weight = self.slow.and_then(|s| s.weight(base)).unwrap_or(base);
        RealHealth { up: true, weight: (weight != real.dest.weight).then_some(weight) }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_doubles_from_a_32nd_up_to_the_weight() {
        let t = Instant::now();
        let s = |step| SlowStart { step, next: t, interval: Duration::from_secs(1) };
        let w = Weight::new(100).unwrap();
        let ramp: Vec<Option<u32>> = (0..4).map(|i| s(i).weight(w).map(Weight::get)).collect();
        assert_eq!(ramp, [Some(3), Some(6), Some(12), Some(24)]);
        assert_eq!(s(6).weight(w), None, "192 would pass 100: done");
        assert_eq!(s(0).weight(Weight::new(1).unwrap()), None, "weight 1 has no ramp");
        assert_eq!(s(0).weight(Weight::new(8).unwrap()).map(Weight::get), Some(1));
    }
}
