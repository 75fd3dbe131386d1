//! The scheduler names ipvsadm accepts with `-s`, and which of them rvs's data plane runs.

use std::fmt;
use std::str::FromStr;

/// A scheduling method, named as ipvsadm's `-s` option and the kernel's `ip_vs_<name>`
/// modules name it.
///
/// The default is [`SchedulerKind::Wlc`], ipvsadm's `DEF_SCHED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SchedulerKind {
    /// `rr`: round robin.
    Rr,
    /// `wrr`: weighted round robin.
    Wrr,
    /// `lc`: least connection.
    Lc,
    /// `wlc`: weighted least connection (ipvsadm's default).
    #[default]
    Wlc,
    /// `lblc`: locality-based least connection.
    Lblc,
    /// `lblcr`: locality-based least connection with replication.
    Lblcr,
    /// `dh`: destination hashing.
    Dh,
    /// `sh`: source hashing.
    Sh,
    /// `sed`: shortest expected delay.
    Sed,
    /// `nq`: never queue.
    Nq,
    /// `fo`: weighted failover.
    Fo,
    /// `ovf`: weighted overflow.
    Ovf,
    /// `mh`: maglev hashing.
    Mh,
    /// `twos`: weighted random twos choice.
    Twos,
}

impl SchedulerKind {
    /// Every scheduler, in the order ipvsadm's man page lists them.
    pub const ALL: [SchedulerKind; 14] = [
        Self::Rr,
        Self::Wrr,
        Self::Lc,
        Self::Wlc,
        Self::Lblc,
        Self::Lblcr,
        Self::Dh,
        Self::Sh,
        Self::Sed,
        Self::Nq,
        Self::Fo,
        Self::Ovf,
        Self::Mh,
        Self::Twos,
    ];

    /// The name as typed after `-s` and as printed by `ipvsadm -L`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rr => "rr",
            Self::Wrr => "wrr",
            Self::Lc => "lc",
            Self::Wlc => "wlc",
            Self::Lblc => "lblc",
            Self::Lblcr => "lblcr",
            Self::Dh => "dh",
            Self::Sh => "sh",
            Self::Sed => "sed",
            Self::Nq => "nq",
            Self::Fo => "fo",
            Self::Ovf => "ovf",
            Self::Mh => "mh",
            Self::Twos => "twos",
        }
    }

    /// Whether the data plane schedules this method from a ring and cursor.
    pub const fn is_ring_scheduled(self) -> bool {
        matches!(self, Self::Rr | Self::Wrr)
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `-s` argument that names no known scheduler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduler {0:?}")]
pub struct UnknownScheduler(pub String);

impl FromStr for SchedulerKind {
    type Err = UnknownScheduler;

    /// Parses the exact, case-sensitive name (the kernel loads module `ip_vs_<name>`, so
    /// `RR` is not `rr`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| UnknownScheduler(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        let names = [
            "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
            "twos",
        ];
        for name in names {
            let kind: SchedulerKind = name.parse().expect("known scheduler name");
            assert_eq!(kind.name(), name);
            assert_eq!(kind.to_string(), name);
        }
        assert_eq!(SchedulerKind::ALL.len(), names.len());
    }

    #[test]
    fn unknown_and_miscased_names_are_rejected() {
        assert_eq!(
            "RR".parse::<SchedulerKind>(),
            Err(UnknownScheduler("RR".into()))
        );
        assert_eq!(
            "".parse::<SchedulerKind>(),
            Err(UnknownScheduler(String::new()))
        );
        assert!("wrr ".parse::<SchedulerKind>().is_err());
        assert!("none".parse::<SchedulerKind>().is_err());
    }

    #[test]
    fn only_rr_and_wrr_are_ring_scheduled() {
        let ring: Vec<_> = SchedulerKind::ALL.into_iter().filter(|k| k.is_ring_scheduled()).collect();
        assert_eq!(ring, [SchedulerKind::Rr, SchedulerKind::Wrr]);
    }

    #[test]
    fn default_is_ipvsadm_def_sched() {
        assert_eq!(SchedulerKind::default(), SchedulerKind::Wlc);
    }
}
