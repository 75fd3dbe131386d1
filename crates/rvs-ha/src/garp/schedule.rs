//! When to send gratuitous ARPs, sans-IO: keepalived's settings in [`GarpPolicy`], and a
//! [`GarpSchedule`] that is told the time and answers "send a round now", "wait until" or
//! "done". One *round* is one gratuitous ARP for each announced address.
//!
//! keepalived 2.2.7, on becoming MASTER (`vrrp_state_become_master`, `vrrp_state_master_tx`):
//! sends `garp_master_repeat` GARPs per address at once; `garp_master_delay` later, a second
//! batch of as many (unless the delay is 0); and, if `garp_master_refresh` is set, a batch of
//! `garp_master_refresh_repeat` every refresh period for as long as it stays MASTER.
//! `garp_interval` spaces the GARPs sent on one interface. rvs spaces rounds instead, which is
//! the same thing for one address per interface and keeps the schedule independent of how
//! many addresses share the interface.

use std::time::{Duration, Instant};

/// keepalived's gratuitous ARP settings; [`Default`] gives keepalived's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GarpPolicy {
    /// `vrrp_garp_master_repeat`: rounds in each burst (5). 0 sends no burst.
    pub count: u32,
    /// `vrrp_garp_interval`: least time between two rounds (0: back to back).
    pub interval: Duration,
    /// `vrrp_garp_master_delay`: when the second burst of `count` rounds follows the first
    /// (5 s); zero for no second burst.
    pub delay: Duration,
    /// `vrrp_garp_master_refresh`: period of the refresh bursts for as long as the address is
    /// held (0: no refresh).
    pub refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat`: rounds in each refresh burst (1).
    pub refresh_count: u32,
}

impl GarpPolicy {
    /// keepalived's defaults (`VRRP_GARP_*` in `vrrp.h`): 5 at once, 5 more 5 s later, no refresh.
    pub const KEEPALIVED: GarpPolicy = GarpPolicy {
        count: 5,
        interval: Duration::ZERO,
        delay: Duration::from_secs(5),
        refresh: Duration::ZERO,
        refresh_count: 1,
    };

    /// keepalived's `vrrp_min_garp`: one round, no second burst ("with modern switches this is
    /// unnecessary").
    pub const MIN: GarpPolicy = GarpPolicy { count: 1, delay: Duration::ZERO, ..GarpPolicy::KEEPALIVED };
}

impl Default for GarpPolicy {
    fn default() -> Self {
        GarpPolicy::KEEPALIVED
    }
}

/// Why a round is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarpCause {
    /// The first burst, when the address is taken.
    Initial,
    /// The second burst, `delay` later.
    Repeat,
    /// A periodic refresh burst.
    Refresh,
}

impl GarpCause {
    /// A word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            GarpCause::Initial => "initial",
            GarpCause::Repeat => "repeat",
            GarpCause::Refresh => "refresh",
        }
    }
}

/// One round to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GarpRound {
    /// The burst it belongs to.
    pub cause: GarpCause,
    /// Its place in the burst, from 0.
    pub index: u32,
    /// How many rounds the burst has.
    pub of: u32,
}

/// What the schedule wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarpStep {
    /// Send one round now, then ask again.
    Send(GarpRound),
    /// Nothing to do before this time.
    WaitUntil(Instant),
    /// Nothing more, ever.
    Done,
}

/// The rounds of the burst being sent.
#[derive(Debug, Clone, Copy)]
struct Burst {
    cause: GarpCause,
    sent: u32,
    of: u32,
    next: Instant,
}

/// The gratuitous ARP timeline of one announcement, from the moment the address is taken.
#[derive(Debug, Clone)]
pub struct GarpSchedule {
    policy: GarpPolicy,
    burst: Option<Burst>,
    second_burst_at: Option<Instant>,
    next_refresh: Option<Instant>,
}

impl GarpSchedule {
    /// The schedule of an address taken at `now`: its first round is due at once.
    pub fn new(policy: GarpPolicy, now: Instant) -> Self {
        let mut schedule = GarpSchedule { policy, burst: None, second_burst_at: None, next_refresh: None };
        schedule.begin_burst(GarpCause::Initial, policy.count, now);
        if policy.count > 0 && !policy.delay.is_zero() {
            schedule.second_burst_at = now.checked_add(policy.delay);
        }
        if policy.refresh_count > 0 && !policy.refresh.is_zero() {
            schedule.next_refresh = now.checked_add(policy.refresh);
        }
        schedule
    }

    /// The policy it follows.
    pub fn policy(&self) -> &GarpPolicy {
        &self.policy
    }

    /// What to do at `now`. Call again after each [`GarpStep::Send`]: several rounds may be due
    /// at once. A refresh missed because the caller was late is sent once, not caught up.
    pub fn poll(&mut self, now: Instant) -> GarpStep {
        if let Some(at) = self.second_burst_at
            && at <= now
        {
            self.second_burst_at = None;
            self.begin_burst(GarpCause::Repeat, self.policy.count, now);
        }
        if let Some(at) = self.next_refresh
            && at <= now
        {
            self.next_refresh = now.checked_add(self.policy.refresh);
            self.begin_burst(GarpCause::Refresh, self.policy.refresh_count, now);
        }
        if let Some(burst) = &mut self.burst
            && burst.next <= now
        {
            let round = GarpRound { cause: burst.cause, index: burst.sent, of: burst.of };
            burst.sent += 1;
            match now.checked_add(self.policy.interval) {
                Some(next) if burst.sent < burst.of => burst.next = next,
                _ => self.burst = None,
            }
            return GarpStep::Send(round);
        }
        match self.next_deadline() {
            Some(at) => GarpStep::WaitUntil(at),
            None => GarpStep::Done,
        }
    }

    /// The next time something is due, if anything ever is.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.burst.map(|b| b.next), self.second_burst_at, self.next_refresh].into_iter().flatten().min()
    }

    /// Starts a burst of `rounds` at `now`; one already under way (only possible with an
    /// interval) is lengthened rather than sent twice over.
    fn begin_burst(&mut self, cause: GarpCause, rounds: u32, now: Instant) {
        if rounds == 0 {
            return;
        }
        match &mut self.burst {
            Some(burst) => burst.of = burst.of.saturating_add(rounds),
            None => self.burst = Some(Burst { cause, sent: 0, of: rounds, next: now }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    /// Runs `policy` in virtual time up to `end` after the start, always polling at exactly the
    /// deadline the schedule asked for; returns (offset, round) for each round sent.
    fn timeline(policy: GarpPolicy, end: Duration) -> (Vec<(Duration, GarpRound)>, bool) {
        let t0 = Instant::now();
        let mut schedule = GarpSchedule::new(policy, t0);
        let mut now = t0;
        let mut sent = Vec::new();
        loop {
            match schedule.poll(now) {
                GarpStep::Send(round) => sent.push((now - t0, round)),
                GarpStep::WaitUntil(at) => {
                    assert!(at > now, "asked to wait for a time already past");
                    if at - t0 > end {
                        return (sent, false);
                    }
                    now = at;
                }
                GarpStep::Done => return (sent, true),
            }
        }
    }

    fn round(cause: GarpCause, index: u32, of: u32) -> GarpRound {
        GarpRound { cause, index, of }
    }

    #[test]
    fn keepalived_defaults_are_five_now_and_five_five_seconds_later() {
        let policy = GarpPolicy::default();
        assert_eq!((policy.count, policy.delay, policy.refresh, policy.refresh_count), (5, 5 * S, Duration::ZERO, 1));
        let (sent, done) = timeline(policy, 3600 * S);
        assert!(done);
        let mut want = Vec::new();
        for i in 0..5 {
            want.push((Duration::ZERO, round(GarpCause::Initial, i, 5)));
        }
        for i in 0..5 {
            want.push((5 * S, round(GarpCause::Repeat, i, 5)));
        }
        assert_eq!(sent, want);
    }

    #[test]
    fn min_garp_sends_one_and_stops() {
        let (sent, done) = timeline(GarpPolicy::MIN, 3600 * S);
        assert!(done);
        assert_eq!(sent, vec![(Duration::ZERO, round(GarpCause::Initial, 0, 1))]);
    }

    #[test]
    fn an_interval_spaces_the_rounds_of_both_bursts() {
        let policy = GarpPolicy { count: 3, interval: 100 * MS, delay: 2 * S, ..GarpPolicy::default() };
        let (sent, done) = timeline(policy, 60 * S);
        assert!(done);
        let at: Vec<Duration> = sent.iter().map(|(t, _)| *t).collect();
        assert_eq!(at, [Duration::ZERO, 100 * MS, 200 * MS, 2000 * MS, 2100 * MS, 2200 * MS]);
    }

    #[test]
    fn polling_early_only_repeats_the_deadline() {
        let t0 = Instant::now();
        let policy = GarpPolicy { count: 2, interval: 100 * MS, delay: Duration::ZERO, ..GarpPolicy::default() };
        let mut schedule = GarpSchedule::new(policy, t0);
        assert_eq!(schedule.poll(t0), GarpStep::Send(round(GarpCause::Initial, 0, 2)));
        assert_eq!(schedule.poll(t0), GarpStep::WaitUntil(t0 + 100 * MS));
        assert_eq!(schedule.poll(t0 + 99 * MS), GarpStep::WaitUntil(t0 + 100 * MS));
        // Late: the gap counts from when the round actually went.
        assert_eq!(schedule.poll(t0 + 150 * MS), GarpStep::Send(round(GarpCause::Initial, 1, 2)));
        assert_eq!(schedule.poll(t0 + 150 * MS), GarpStep::Done);
        assert_eq!(schedule.next_deadline(), None);
    }

    #[test]
    fn refresh_repeats_for_ever_and_is_not_caught_up_when_late() {
        let policy =
            GarpPolicy { count: 1, delay: Duration::ZERO, refresh: 60 * S, refresh_count: 2, ..GarpPolicy::default() };
        let (sent, done) = timeline(policy, 200 * S);
        assert!(!done, "a refreshing schedule never ends");
        let want = vec![
            (Duration::ZERO, round(GarpCause::Initial, 0, 1)),
            (60 * S, round(GarpCause::Refresh, 0, 2)),
            (60 * S, round(GarpCause::Refresh, 1, 2)),
            (120 * S, round(GarpCause::Refresh, 0, 2)),
            (120 * S, round(GarpCause::Refresh, 1, 2)),
            (180 * S, round(GarpCause::Refresh, 0, 2)),
            (180 * S, round(GarpCause::Refresh, 1, 2)),
        ];
        assert_eq!(sent, want);

        let t0 = Instant::now();
        let mut schedule = GarpSchedule::new(policy, t0);
        assert!(matches!(schedule.poll(t0), GarpStep::Send(_)));
        assert_eq!(schedule.poll(t0), GarpStep::WaitUntil(t0 + 60 * S));
        // Asleep for three periods: one refresh burst, then the next a period from now.
        let late = t0 + 185 * S;
        assert_eq!(schedule.poll(late), GarpStep::Send(round(GarpCause::Refresh, 0, 2)));
        assert_eq!(schedule.poll(late), GarpStep::Send(round(GarpCause::Refresh, 1, 2)));
        assert_eq!(schedule.poll(late), GarpStep::WaitUntil(late + 60 * S));
    }

    #[test]
    fn bursts_due_together_are_sent_as_one_longer_burst() {
        let policy = GarpPolicy { count: 2, delay: 10 * S, refresh: 10 * S, refresh_count: 1, ..GarpPolicy::default() };
        let (sent, _) = timeline(policy, 15 * S);
        let at_ten: Vec<GarpRound> = sent.iter().filter(|(t, _)| *t == 10 * S).map(|(_, r)| *r).collect();
        assert_eq!(
            at_ten,
            [round(GarpCause::Repeat, 0, 3), round(GarpCause::Repeat, 1, 3), round(GarpCause::Repeat, 2, 3)]
        );
    }

    #[test]
    fn zero_counts_send_nothing() {
        let silent = GarpPolicy { count: 0, refresh: 30 * S, refresh_count: 0, ..GarpPolicy::default() };
        assert_eq!(timeline(silent, 3600 * S), (vec![], true));
        // No initial burst, but refreshes still go out.
        let refresh_only = GarpPolicy { count: 0, refresh: 30 * S, ..GarpPolicy::default() };
        let (sent, done) = timeline(refresh_only, 61 * S);
        assert!(!done);
        assert_eq!(sent, vec![(30 * S, round(GarpCause::Refresh, 0, 1)), (60 * S, round(GarpCause::Refresh, 0, 1))]);
    }
}
