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

use crate::check_state::later;

/// How long after the director's links come back a failure is still not counted: the time a
/// switch port and the neighbour entries of the real servers take to work again.
pub const LINK_SETTLE: Duration = Duration::from_secs(1);

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
    /// When the last outage ended.
    restored: Option<Instant>,
}

impl OwnLinks {
    /// Takes the names of the director's links that are down at `now`; returns what changed.
    pub fn update(&mut self, mut down: Vec<String>, now: Instant) -> Option<LinkChange> {
        down.sort();
        down.dedup();
        if down == self.down {
            return None;
        }
        let was_down = !self.down.is_empty();
        self.down = down;
        if self.down.is_empty() {
            // `was_down` holds: the lists differ and this one is empty.
            debug_assert!(was_down);
            self.restored = Some(now);
            Some(LinkChange::Restored)
        } else {
            Some(LinkChange::Down(self.down.clone()))
        }
    }

    /// The links that are down now.
    pub fn down(&self) -> &[String] {
        &self.down
    }

    /// Whether a failed attempt that started at `started` is not to be counted: a link is down
    /// now, or came back after the attempt started (less [`LINK_SETTLE`]).
    pub fn excuses(&self, started: Instant) -> bool {
        !self.down.is_empty() || self.restored.is_some_and(|at| started < later(at, LINK_SETTLE))
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

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn failures_count_until_a_link_goes_down() {
        let t0 = Instant::now();
        let mut links = OwnLinks::default();
        assert!(!links.excuses(t0));
        assert_eq!(links.update(Vec::new(), t0), None, "all up at start is no change");
        assert_eq!(links.update(names(&["eth1", "eth0", "eth1"]), t0), Some(LinkChange::Down(names(&["eth0", "eth1"]))));
        assert!(links.excuses(t0 - Duration::from_secs(60)), "an attempt running into the outage");
        assert!(links.excuses(t0 + Duration::from_secs(5)), "an attempt started during it");
        assert_eq!(links.excuse(), "not counted: this director's eth0, eth1 are down");
        assert_eq!(links.update(names(&["eth0", "eth1"]), t0), None);
        assert_eq!(links.update(names(&["eth0"]), t0), Some(LinkChange::Down(names(&["eth0"]))));
        assert_eq!(links.excuse(), "not counted: this director's eth0 is down");
    }

    #[test]
    fn after_the_links_return_only_attempts_started_once_they_settled_count() {
        let t0 = Instant::now();
        let mut links = OwnLinks::default();
        links.update(names(&["eth0"]), t0);
        let back = t0 + Duration::from_secs(3);
        assert_eq!(links.update(Vec::new(), back), Some(LinkChange::Restored));
        assert!(links.excuses(back - Duration::from_secs(1)), "started during the outage, ended after it");
        assert!(links.excuses(back + LINK_SETTLE - Duration::from_millis(1)), "started while the links settled");
        assert!(!links.excuses(back + LINK_SETTLE), "started once they had settled");
        assert!(links.excuse().starts_with("not counted: this director's links came back"));
    }
}
