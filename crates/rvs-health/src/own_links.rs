//! The director's own links, as the health checks see them, sans-IO.
//!
//! A check that fails while one of the director's own interfaces has no carrier says nothing
//! about the real server: the probe never left the director. keepalived counts such failures,
//! so a director whose links were cut for a few seconds comes back with real servers it has
//! just marked down, and a VRRP primary that preempts as soon as its links return serves
//! nothing until their next checks pass (seconds of refused connections, all real servers
//! healthy). rvs does not count a failed attempt that ran while one of the director's links was
//! down, or that started before the links had been back for [`LINK_SETTLE`]: it is tried again
//! after `delay_before_retry`, and its retry count stays where it was. Passes always count.
//!
//! The price: a real server that dies while the director's own link is down is taken out only
//! once the link is back and its retries have failed, which is when it matters.

use std::time::{Duration, Instant};

use rvs_core::links::Carrier;

use crate::check_state::later;

/// How long after the director's links come back a failure is still not counted: the time a
/// switch port and the neighbour entries of the real servers take to work again. Also the
/// least time before an excused check is tried again.
pub const LINK_SETTLE: Duration = Duration::from_secs(1);

/// How long a link may stay down with failures excused: after that they count again (a link
/// an operator keeps down, or one that is gone, must not switch health checking off).
pub const EXCUSE_MAX: Duration = Duration::from_secs(60);

/// What changed in the director's links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    /// These of its links are down now (a failure counts no more).
    Down(Vec<String>),
    /// Every link is back.
    Restored,
}

/// Which of the director's links are down, and since when failures count again.
#[derive(Debug, Clone, Default)]
pub struct OwnLinks {
    down: Vec<String>,
    /// The carrier watch's count of returns, as last seen.
    returns: u64,
    /// When the first of the links now down went.
    down_since: Option<Instant>,
    /// When the last outage ended.
    restored: Option<Instant>,
}

impl OwnLinks {
    /// Takes the carrier watch's report at `now`; returns what changed. A return the report
    /// counts but whose outage fell between two reports is a return all the same.
    pub fn update(&mut self, report: &Carrier, now: Instant) -> Option<LinkChange> {
        let mut down = report.down.clone();
        down.sort();
        down.dedup();
        let came_back = report.returns != self.returns;
        self.returns = report.returns;
        let was_down = !self.down.is_empty();
        let changed = down != self.down;
        self.down = down;
        if came_back {
            self.restored = Some(now);
        }
        match (was_down, self.down.is_empty()) {
            (false, false) => {
                self.down_since = Some(now);
                Some(LinkChange::Down(self.down.clone()))
            }
            (true, false) => changed.then(|| LinkChange::Down(self.down.clone())),
            (true, true) | (false, true) if was_down || came_back => {
                self.down_since = None;
                self.restored = Some(now);
                Some(LinkChange::Restored)
            }
            (_, true) => None,
        }
    }

    /// The links that are down now.
    pub fn down(&self) -> &[String] {
        &self.down
    }

    /// Whether a failed attempt that started at `started` and ended at `now` is not to be
    /// counted: a link is down (for less than [`EXCUSE_MAX`]), or the links came back after
    /// the attempt started, or less than [`LINK_SETTLE`] before.
    pub fn excuses(&self, started: Instant, now: Instant) -> bool {
        if !self.down.is_empty() {
            return !self.outage_too_long(now);
        }
        self.restored.is_some_and(|at| started < later(at, LINK_SETTLE))
    }

    /// Whether a link has been down for [`EXCUSE_MAX`] or longer: failures count again.
    pub fn outage_too_long(&self, now: Instant) -> bool {
        !self.down.is_empty() && self.down_since.is_some_and(|t| now.saturating_duration_since(t) >= EXCUSE_MAX)
    }

    /// Why a failure was not counted, for the log and listings.
    pub fn excuse(&self) -> String {
        if self.down.is_empty() {
            format!("not counted: this director's links came back less than {}s before it started", LINK_SETTLE.as_secs())
        } else {
            format!("not counted: this director's {} down", names(&self.down))
        }
    }
}

/// "eth0 is" or "eth0, eth1 are".
fn names(down: &[String]) -> String {
    match down {
        [one] => format!("{one} is"),
        many => format!("{} are", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(down: &[&str], returns: u64) -> Carrier {
        Carrier { down: down.iter().map(|s| (*s).to_owned()).collect(), up_indexes: Vec::new(), returns }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn failures_count_until_a_link_goes_down() {
        let t0 = Instant::now();
        let mut links = OwnLinks::default();
        assert!(!links.excuses(t0, t0));
        assert_eq!(links.update(&report(&[], 0), t0), None, "all up at start is no change");
        assert_eq!(links.update(&report(&["eth1", "eth0", "eth1"], 0), t0), Some(LinkChange::Down(names(&["eth0", "eth1"]))));
        assert!(links.excuses(t0 - Duration::from_secs(60), t0), "an attempt running into the outage");
        assert!(links.excuses(t0 + Duration::from_secs(5), t0 + Duration::from_secs(6)), "an attempt started during it");
        assert_eq!(links.excuse(), "not counted: this director's eth0, eth1 are down");
        assert_eq!(links.update(&report(&["eth0", "eth1"], 0), t0), None);
        assert_eq!(links.update(&report(&["eth0"], 1), t0), Some(LinkChange::Down(names(&["eth0"]))));
        assert_eq!(links.excuse(), "not counted: this director's eth0 is down");
    }

    #[test]
    fn after_the_links_return_only_attempts_started_once_they_settled_count() {
        let t0 = Instant::now();
        let mut links = OwnLinks::default();
        links.update(&report(&["eth0"], 0), t0);
        let back = t0 + Duration::from_secs(3);
        assert_eq!(links.update(&report(&[], 1), back), Some(LinkChange::Restored));
        let later = back + Duration::from_secs(2);
        assert!(links.excuses(back - Duration::from_secs(1), later), "started during the outage, ended after it");
        assert!(links.excuses(back + LINK_SETTLE - Duration::from_millis(1), later), "started while the links settled");
        assert!(!links.excuses(back + LINK_SETTLE, later), "started once they had settled");
        assert!(links.excuse().starts_with("not counted: this director's links came back"));
    }

    #[test]
    fn a_flap_missed_between_two_reports_is_a_return() {
        let t0 = Instant::now();
        let mut links = OwnLinks::default();
        links.update(&report(&[], 0), t0);
        let seen = t0 + Duration::from_secs(4);
        assert_eq!(links.update(&report(&[], 1), seen), Some(LinkChange::Restored), "down and up again while the monitor was busy");
        assert!(links.excuses(t0 + Duration::from_secs(2), seen));
    }

    #[test]
    fn a_link_down_for_a_minute_stops_excusing() {
        let t0 = Instant::now();
        let mut links = OwnLinks::default();
        links.update(&report(&["eth2"], 0), t0);
        assert!(links.excuses(t0, t0 + EXCUSE_MAX - Duration::from_millis(1)));
        assert!(!links.outage_too_long(t0 + EXCUSE_MAX - Duration::from_millis(1)));
        assert!(links.outage_too_long(t0 + EXCUSE_MAX));
        assert!(!links.excuses(t0 + EXCUSE_MAX, t0 + EXCUSE_MAX + Duration::from_secs(1)), "failures count again");
    }
}
