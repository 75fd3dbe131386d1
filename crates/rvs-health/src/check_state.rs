//! One check's state machine, sans-IO: results in, up/down and the next attempt's time out.
//!
//! keepalived's rules (`check_api.c`, `check_*.c`):
//! - a check of an up real server that fails is retried `retry` times, `delay_before_retry`
//!   apart, before the real server is declared down; a pass clears the count;
//! - a down real server is checked every `delay_loop`, and comes back at its first pass (or
//!   after `reentry`, below);
//! - a check runs every `delay_loop` after its last attempt; the first one after `warmup`.
//!
//! piranha's `reentry` delays the way back: a failed real server must keep passing for that
//! long before it counts as up again (nanny's `-a`). A real server that has not failed yet (down
//! at start under `alpha`, as nanny starts them) joins at its first pass.

use std::time::{Duration, Instant};

use rvs_core::config::CheckTiming;
use rvs_core::model::Weight;

/// `now + d`, or a year from now when `d` is too long to add: a mistyped configuration must not
/// stop the checks.
pub(crate) fn later(now: Instant, d: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 86_400);
    now.checked_add(d.min(YEAR)).unwrap_or(now)
}

/// The outcome of one attempt, as the state machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Passed, with the weight the check sets (misc_dynamic, FILE_CHECK) if any.
    Pass { weight: Option<Weight> },
    /// Failed, with the reason.
    Fail { reason: String },
}

/// A change of a check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Up,
    Down { reason: String },
    /// Still up, with a new dynamic weight.
    Weight(Option<Weight>),
}

/// State of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckState {
    timing: CheckTiming,
    up: bool,
    /// Failures in a row while up (retries used).
    failures: u32,
    /// Since when a down check has been passing (for `reentry`).
    passing_since: Option<Instant>,
    /// Whether it has failed since it started (`reentry` holds only those back).
    has_failed: bool,
    /// The dynamic weight of the last pass.
    weight: Option<Weight>,
    /// When the next attempt is due.
    next: Instant,
    /// The last attempt's result, for listings.
    last: Option<(Instant, Attempt)>,
}

impl CheckState {
    /// A check that starts `up` (keepalived: up unless `alpha`), first attempt at
    /// `now + warmup_offset` (a random part of `warmup` chosen by the caller).
    pub fn new(timing: CheckTiming, up: bool, now: Instant, warmup_offset: Duration) -> Self {
        CheckState { timing, up, failures: 0, passing_since: None, has_failed: false, weight: None, next: later(now, warmup_offset), last: None }
    }

    /// The same check, counted as having failed (`reentry` applies): for a check that replaces
    /// one of a real server that is down after failing.
    pub fn after_failure(mut self) -> Self {
        self.has_failed = true;
        self
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The dynamic weight the check sets while up.
    pub fn weight(&self) -> Option<Weight> {
        self.weight
    }

    /// When the next attempt is due.
    pub fn next_attempt(&self) -> Instant {
        self.next
    }

    /// The last attempt, when there was one.
    pub fn last(&self) -> Option<&(Instant, Attempt)> {
        self.last.as_ref()
    }

    pub fn timing(&self) -> &CheckTiming {
        &self.timing
    }

    /// Takes the result of the attempt that ended at `now`; returns the verdict if it changed.
    pub fn record(&mut self, attempt: Attempt, now: Instant) -> Option<Verdict> {
        self.last = Some((now, attempt.clone()));
        match attempt {
            Attempt::Pass { weight } => {
                self.failures = 0;
                self.next = later(now, self.timing.delay_loop);
                if self.up {
                    if weight != self.weight {
                        self.weight = weight;
                        return Some(Verdict::Weight(weight));
                    }
                    return None;
                }
                let since = *self.passing_since.get_or_insert(now);
                if self.has_failed && now.duration_since(since) < self.timing.reentry {
                    // Not yet: check again in time to come back when reentry is over.
                    self.next = self.next.min(later(since, self.timing.reentry));
                    return None;
                }
                self.up = true;
                self.passing_since = None;
                self.weight = weight;
                Some(Verdict::Up)
            }
            Attempt::Fail { reason } => {
                self.passing_since = None;
                if !self.up {
                    self.next = later(now, self.timing.delay_loop);
                    return None;
                }
                if self.failures < self.timing.retry {
                    self.failures += 1;
                    self.next = later(now, self.timing.delay_before_retry);
                    return None;
                }
                self.failures = 0;
                self.up = false;
                self.has_failed = true;
                self.weight = None;
                self.next = later(now, self.timing.delay_loop);
                Some(Verdict::Down { reason })
            }
        }
    }

    /// Takes a failure that does not count (the director's own link was down, see
    /// [`crate::own_links`]): shown as the last attempt; retried after `delay_before_retry`
    /// while up, but not sooner than `at_least` (piranha's configurations retry at once, and
    /// an outage must not turn that into a loop); the retries left and the verdict stay. A
    /// `reentry` wait starts again: the outage says nothing of the server.
    pub fn excuse(&mut self, reason: String, now: Instant, at_least: Duration) {
        self.last = Some((now, Attempt::Fail { reason }));
        self.passing_since = None;
        self.next = later(now, if self.up { self.timing.delay_before_retry.max(at_least) } else { self.timing.delay_loop });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn timing(retry: u32, reentry: u64) -> CheckTiming {
        CheckTiming {
            connect_timeout: Duration::from_secs(3),
            retry,
            delay_before_retry: Duration::from_secs(1),
            delay_loop: Duration::from_secs(6),
            warmup: Duration::ZERO,
            reentry: Duration::from_secs(reentry),
        }
    }

    fn fail() -> Attempt {
        Attempt::Fail { reason: "refused".into() }
    }

    const PASS: Attempt = Attempt::Pass { weight: None };

    #[test]
    fn retries_before_down_then_delay_loop() {
        let t0 = Instant::now();
        let mut c = CheckState::new(timing(2, 0), true, t0, Duration::from_secs(2));
        assert_eq!(c.next_attempt(), t0 + Duration::from_secs(2), "warmup offset");
        assert_eq!(c.record(fail(), t0), None);
        assert_eq!(c.next_attempt(), t0 + Duration::from_secs(1), "retry after delay_before_retry");
        assert_eq!(c.record(fail(), t0 + Duration::from_secs(1)), None);
        assert_eq!(c.record(fail(), t0 + Duration::from_secs(2)), Some(Verdict::Down { reason: "refused".into() }));
        assert!(!c.is_up());
        assert_eq!(c.next_attempt(), t0 + Duration::from_secs(8));
        assert_eq!(c.record(fail(), t0 + Duration::from_secs(8)), None, "down stays down, no retries");
        assert_eq!(c.next_attempt(), t0 + Duration::from_secs(14));
        assert_eq!(c.record(PASS, t0 + Duration::from_secs(14)), Some(Verdict::Up), "first pass brings it back");
    }

    #[test]
    fn a_pass_clears_the_failures() {
        let t0 = Instant::now();
        let mut c = CheckState::new(timing(1, 0), true, t0, Duration::ZERO);
        assert_eq!(c.record(fail(), t0), None);
        assert_eq!(c.record(PASS, t0), None);
        assert_eq!(c.record(fail(), t0), None, "the retry is available again");
        assert!(matches!(c.record(fail(), t0), Some(Verdict::Down { .. })));
    }

    #[test]
    fn reentry_keeps_a_recovering_server_out_until_it_has_passed_long_enough() {
        let s = Duration::from_secs;
        let mut c = CheckState::new(timing(0, 15), false, Instant::now(), Duration::ZERO);
        assert_eq!(c.record(PASS, Instant::now()), Some(Verdict::Up), "down at start: the first pass brings it in");
        let t0 = Instant::now();
        assert!(matches!(c.record(fail(), t0), Some(Verdict::Down { .. })));
        assert_eq!(c.record(PASS, t0), None);
        assert_eq!(c.record(PASS, t0 + s(6)), None);
        assert_eq!(c.record(fail(), t0 + s(12)), None, "a failure restarts the wait");
        assert_eq!(c.record(PASS, t0 + s(18)), None);
        assert_eq!(c.record(PASS, t0 + s(24)), None);
        assert_eq!(c.next_attempt(), t0 + s(30));
        assert_eq!(c.record(PASS, t0 + s(30)), None, "12 s of 15");
        assert_eq!(c.next_attempt(), t0 + s(33), "the next attempt is when reentry ends");
        assert_eq!(c.record(PASS, t0 + s(33)), Some(Verdict::Up));
    }

    #[test]
    fn an_excused_failure_uses_no_retry_and_changes_no_verdict() {
        let t0 = Instant::now();
        let mut c = CheckState::new(timing(1, 0), true, t0, Duration::ZERO);
        assert_eq!(c.record(fail(), t0), None, "the one retry is used");
        for n in 1..5 {
            c.excuse("refused (not counted)".into(), t0 + Duration::from_secs(n), Duration::from_millis(500));
            assert!(c.is_up());
            assert_eq!(c.next_attempt(), t0 + Duration::from_secs(n + 1), "tried again after delay_before_retry");
        }
        c.excuse("refused (not counted)".into(), t0, Duration::from_secs(3));
        assert_eq!(c.next_attempt(), t0 + Duration::from_secs(3), "not sooner than asked");
        assert_eq!(c.last().map(|(_, a)| a.clone()), Some(Attempt::Fail { reason: "refused (not counted)".into() }));
        assert!(matches!(c.record(fail(), t0 + Duration::from_secs(5)), Some(Verdict::Down { .. })), "the next real failure is the second");
        c.excuse("refused (not counted)".into(), t0 + Duration::from_secs(6), Duration::ZERO);
        assert_eq!(c.next_attempt(), t0 + Duration::from_secs(12), "a down check waits its delay_loop");
    }

    #[test]
    fn dynamic_weight_changes_are_reported_while_up() {
        let t0 = Instant::now();
        let mut c = CheckState::new(timing(0, 0), false, t0, Duration::ZERO);
        let w = |n| Attempt::Pass { weight: Weight::new(n) };
        assert_eq!(c.record(w(5), t0), Some(Verdict::Up));
        assert_eq!(c.weight(), Weight::new(5));
        assert_eq!(c.record(w(5), t0), None);
        assert_eq!(c.record(w(9), t0), Some(Verdict::Weight(Weight::new(9))));
        assert!(matches!(c.record(fail(), t0), Some(Verdict::Down { .. })));
        assert_eq!(c.weight(), None);
    }
}
