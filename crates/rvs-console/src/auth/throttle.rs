//! Failed logins slowed down per source address, sans-IO: the caller passes the time in as an
//! [`Instant`] and does the waiting itself.
//!
//! The policy:
//!
//! - the first [`FREE_FAILURES`] (2) failures in a row from a source cost nothing, so a typo or
//!   two is not punished;
//! - the n-th failure in a row from the 3rd on costs 2^(n-3) seconds: 1, 2, 4, 8 … so the fifth
//!   wrong password in a row waits 4 s, capped at [`MAX_DELAY`] (60 s), which bounds a guesser to
//!   about 1,440 tries a day per source while a locked-out operator waits at most a minute (no
//!   lockout that an attacker could use to keep the operator out);
//! - the server waits that delay before answering the failed attempt, and refuses attempts from
//!   the source until it has passed ([`LoginThrottle::check`] gives the time left, for a
//!   `Retry-After`);
//! - one attempt per source at a time ([`LoginThrottle::begin`]): without it, guesses sent in
//!   parallel would all be checked before the first failure is counted, so parallel connections
//!   do not multiply the guessing rate;
//! - a source's count is forgotten [`FORGET_AFTER`] (15 minutes) after its last failure, and at
//!   once on a successful login;
//! - at most [`MAX_SOURCES`] (4096) sources are tracked, the one whose last failure is the oldest
//!   forgotten first; this bounds memory, not an attacker with that many addresses (the password
//!   rules and argon2 are the defence there).
//!
//! A source is an IPv4 address, or an IPv6 address's /64 prefix: one IPv6 host usually has a whole
//! /64 to pick addresses from, so per-address counting would not slow it at all. An IPv4-mapped
//! IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 clients) counts as the
//! IPv4 address.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Failures in a row that cost no delay.
pub const FREE_FAILURES: u32 = 2;
/// The longest delay one failure costs.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A source's failures are forgotten this long after its last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Most sources tracked at once.
pub const MAX_SOURCES: usize = 4096;
/// What a source with an attempt being checked is told to wait.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);

/// The delay the `failures`-th failure in a row costs (see the module's policy).
pub fn delay_after(failures: u32) -> Duration {
    let Some(exponent) = failures.checked_sub(FREE_FAILURES + 1) else {
        return Duration::ZERO;
    };
    // 2^6 = 64 s is past the cap already; checking first keeps the shift from overflowing.
    if exponent >= 6 { MAX_DELAY } else { Duration::from_secs(1 << exponent).min(MAX_DELAY) }
}

#[derive(Debug, Clone, Copy)]
struct Source {
    /// Failures in a row, not forgotten yet.
    failures: u32,
    last_failure: Instant,
    /// No attempt from the source is accepted before this.
    blocked_until: Instant,
}

impl Source {
    fn forgotten(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_failure) >= FORGET_AFTER
    }
}

/// The failure counts of the sources that recently failed to log in.
#[derive(Debug)]
pub struct LoginThrottle {
    sources: HashMap<IpAddr, Source>,
    max_sources: usize,
    /// Sources with an attempt being checked now (at most one each).
    in_flight: HashSet<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new()
    }
}

impl LoginThrottle {
    pub fn new() -> LoginThrottle {
        LoginThrottle::with_max_sources(MAX_SOURCES)
    }

    /// A throttle tracking at most `max_sources` sources (at least 1), for tests.
    pub fn with_max_sources(max_sources: usize) -> LoginThrottle {
        LoginThrottle { sources: HashMap::new(), max_sources: max_sources.max(1), in_flight: HashSet::new() }
    }

    /// Whether a login attempt from `ip` may be tried at `now`: `Err` with the time it must still
    /// wait while the delay of its last failure runs.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = source_key(ip);
        let Some(source) = self.sources.get(&key) else {
            return Ok(());
        };
        if source.forgotten(now) {
            self.sources.remove(&key);
            return Ok(());
        }
        match source.blocked_until.checked_duration_since(now) {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => Ok(()),
        }
    }

    /// An attempt from `ip` starts: refused as [`check`](Self::check) refuses, and while another
    /// attempt from the source is being checked. [`end`](Self::end) must follow, whatever the
    /// outcome (the server does it from a drop guard, so that a client hanging up mid-check does
    /// not leave its source blocked).
    pub fn begin(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        self.check(ip, now)?;
        if self.in_flight.insert(source_key(ip)) { Ok(()) } else { Err(IN_FLIGHT_WAIT) }
    }

    /// The attempt [`begin`](Self::begin) started from `ip` is over.
    pub fn end(&mut self, ip: IpAddr) {
        self.in_flight.remove(&source_key(ip));
    }

    /// Records a failed login from `ip` at `now` and returns the delay the server must wait
    /// before answering it; attempts from `ip` are refused by [`check`](Self::check) until then.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> Duration {
        let key = source_key(ip);
        if self.sources.get(&key).is_some_and(|s| s.forgotten(now)) {
            self.sources.remove(&key);
        }
        if !self.sources.contains_key(&key) {
            self.make_room(now);
        }
        let source =
            self.sources.entry(key).or_insert(Source { failures: 0, last_failure: now, blocked_until: now });
        source.failures = source.failures.saturating_add(1);
        source.last_failure = source.last_failure.max(now);
        let delay = delay_after(source.failures);
        // checked_add: an Instant near the end of its range must not panic; then no wait is kept
        // but the delay is still returned for the server to impose.
        source.blocked_until = now.checked_add(delay).unwrap_or(now).max(source.blocked_until);
        delay
    }

    /// A successful login from `ip`: its failures are forgotten.
    pub fn succeeded(&mut self, ip: IpAddr) {
        self.sources.remove(&source_key(ip));
    }

    /// Sources tracked, forgotten ones not yet removed included.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Before a new source is added to a full table: drop the forgotten ones, then the one whose
    /// last failure is the oldest (a linear scan, only when full).
    fn make_room(&mut self, now: Instant) {
        if self.sources.len() < self.max_sources {
            return;
        }
        self.sources.retain(|_, s| !s.forgotten(now));
        while self.sources.len() >= self.max_sources {
            let Some(oldest) = self.sources.iter().min_by_key(|(_, s)| s.last_failure).map(|(ip, _)| *ip) else {
                break;
            };
            self.sources.remove(&oldest);
        }
    }
}

/// The source `ip` counts as: itself for IPv4, the IPv4 address of a mapped IPv6 one, else the
/// IPv6 address's /64.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests;
