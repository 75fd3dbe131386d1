//! The protocol's timer arithmetic (RFC 3768 / RFC 5798 §6.1, keepalived's
//! `VRRP_TIMER_SKEW` and `VRRP_MS_DOWN_TIMER` in `vrrp.h`), as pure functions, and the one
//! timer an instance runs at a time.

use std::time::Duration;

use super::config::Version;

/// The timer an instance is running; which one follows from the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// MASTER: time to send the next advertisement.
    Advert,
    /// BACKUP: the master is considered down.
    MasterDown,
}

/// Skew_Time: how much later a lower priority backup declares the master down, so that the
/// highest priority backup wins the race.
///
/// v2: `(256 - priority) / 256` s; v3: `((256 - priority) * Master_Adver_Interval) / 256`.
/// Truncated to the nanosecond (keepalived truncates to the microsecond).
pub fn skew_time(version: Version, priority: u8, master_adver_int: Duration) -> Duration {
    skew_for(version, 256 - u32::from(priority), master_adver_int)
}

/// The smallest skew (that of priority 255): keepalived's `VRRP_TIMER_SKEW_MIN`, which an
/// instance with `state MASTER` below 255 adds to one advertisement interval at startup.
pub fn skew_min(version: Version, master_adver_int: Duration) -> Duration {
    skew_for(version, 1, master_adver_int)
}

fn skew_for(version: Version, weight: u32, master_adver_int: Duration) -> Duration {
    match version {
        Version::V2 => Duration::from_secs(1) * weight / 256,
        Version::V3 => master_adver_int * weight / 256,
    }
}

/// Master_Down_Interval: `down_timer_adverts * Master_Adver_Interval + Skew_Time`.
pub fn master_down_interval(
    version: Version,
    down_timer_adverts: u32,
    priority: u8,
    master_adver_int: Duration,
) -> Duration {
    master_adver_int * down_timer_adverts + skew_time(version, priority, master_adver_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_follows_the_rfc_formulas() {
        // v2 ignores the interval: (256 - 100) / 256 s.
        assert_eq!(skew_time(Version::V2, 100, Duration::from_secs(5)), Duration::from_nanos(609_375_000));
        // v3: 156 * 100 ms / 256.
        assert_eq!(skew_time(Version::V3, 100, Duration::from_millis(100)), Duration::from_nanos(60_937_500));
        assert_eq!(skew_time(Version::V2, 255, Duration::from_secs(1)), Duration::from_nanos(3_906_250));
        assert_eq!(skew_min(Version::V3, Duration::from_secs(1)), Duration::from_nanos(3_906_250));
    }

    #[test]
    fn down_interval_is_adverts_plus_skew() {
        assert_eq!(
            master_down_interval(Version::V3, 3, 100, Duration::from_millis(100)),
            Duration::from_nanos(360_937_500)
        );
        assert_eq!(
            master_down_interval(Version::V2, 3, 100, Duration::from_secs(1)),
            Duration::from_nanos(3_609_375_000)
        );
        assert_eq!(
            master_down_interval(Version::V2, 1, 200, Duration::from_secs(2)),
            Duration::from_nanos(2_218_750_000)
        );
    }
}
