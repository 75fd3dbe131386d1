//! Per-state connection timeouts and `ipvsadm --set tcp tcpfin udp` (`ip_vs_set_timeout`,
//! `ip_vs_get_timeouts` in `ip_vs_ctl.c`).
//!
//! The three `--set` values each reach exactly one state: `tcp` sets ESTABLISHED, `tcpfin`
//! sets FIN_WAIT and `udp` sets the UDP state. Every other TCP state (SYN_RECV, TIME_WAIT,
//! CLOSE, ...) keeps its default, and SCTP timeouts cannot be set at all. A value of 0 leaves
//! that state's timeout unchanged. `ipvsadm -L --timeout` reads the same three back.

use std::num::NonZeroU32;

use super::tcp::TcpState;
use super::udp::UdpState;

/// The three values of `ipvsadm --set tcp tcpfin udp`, in seconds; 0 means "unchanged".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeoutSet {
    /// Timeout of TCP ESTABLISHED.
    pub tcp: u32,
    /// Timeout of TCP FIN_WAIT.
    pub tcpfin: u32,
    /// Timeout of UDP entries.
    pub udp: u32,
}

/// Why `--set` was refused (the kernel answers `-EINVAL` and changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    /// The value does not fit the kernel's `int` of jiffies: more than `INT_MAX / HZ`.
    #[error("{which} timeout {secs} s exceeds the kernel's maximum of {max} s")]
    TooLarge {
        /// `"tcp"`, `"tcpfin"` or `"udp"`.
        which: &'static str,
        /// The value given.
        secs: u32,
        /// `INT_MAX / HZ`.
        max: u32,
    },
}

/// Timeouts in seconds for every TCP state and for UDP, as the kernel's per-netns
/// `timeout_table`s hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeouts {
    tcp: [u32; TcpState::COUNT],
    udp: u32,
}

impl Default for Timeouts {
    /// The kernel's defaults (`tcp_timeouts`, `udp_timeouts`).
    fn default() -> Self {
        Self {
            tcp: TcpState::ALL.map(TcpState::default_timeout_secs),
            udp: UdpState::Normal.default_timeout_secs(),
        }
    }
}

impl Timeouts {
    /// The largest timeout the kernel accepts with this `HZ`: `INT_MAX / HZ` seconds
    /// (2,147,483 s at HZ=1000, 8,589,934 s at HZ=250).
    pub const fn max_secs(hz: NonZeroU32) -> u32 {
        i32::MAX as u32 / hz.get()
    }

    /// `ip_vs_set_timeout`: applies `--set`. All three values are checked first; if any
    /// exceeds [`Timeouts::max_secs`] nothing changes.
    pub fn apply(&mut self, set: TimeoutSet, hz: NonZeroU32) -> Result<(), TimeoutError> {
        let max = Self::max_secs(hz);
        for (which, secs) in [("tcp", set.tcp), ("tcpfin", set.tcpfin), ("udp", set.udp)] {
            if secs > max {
                return Err(TimeoutError::TooLarge { which, secs, max });
            }
        }
        if set.tcp != 0 {
            self.tcp[TcpState::Established as usize] = set.tcp;
        }
        if set.tcpfin != 0 {
            self.tcp[TcpState::FinWait as usize] = set.tcpfin;
        }
        if set.udp != 0 {
            self.udp = set.udp;
        }
        Ok(())
    }

    /// The timeout of a TCP state, in seconds.
    pub const fn tcp(&self, state: TcpState) -> u32 {
        self.tcp[state as usize]
    }

    /// The timeout of UDP entries, in seconds.
    pub const fn udp(&self) -> u32 {
        self.udp
    }

    /// Every TCP state's timeout, indexed by state number, for the data plane.
    pub const fn tcp_table(&self) -> [u32; TcpState::COUNT] {
        self.tcp
    }

    /// `ip_vs_get_timeouts`: the three values `ipvsadm -L --timeout` prints as
    /// `Timeout (tcp tcpfin udp): ...`.
    pub const fn listed(&self) -> TimeoutSet {
        TimeoutSet {
            tcp: self.tcp(TcpState::Established),
            tcpfin: self.tcp(TcpState::FinWait),
            udp: self.udp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ_250: NonZeroU32 = NonZeroU32::new(250).expect("non-zero");
    const HZ_1000: NonZeroU32 = NonZeroU32::new(1000).expect("non-zero");

    #[test]
    fn defaults_list_as_900_120_300() {
        let t = Timeouts::default();
        assert_eq!(
            t.listed(),
            TimeoutSet {
                tcp: 900,
                tcpfin: 120,
                udp: 300
            }
        );
        assert_eq!(
            t.tcp_table(),
            [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120]
        );
    }

    #[test]
    fn each_value_sets_exactly_one_state() {
        let mut t = Timeouts::default();
        t.apply(
            TimeoutSet {
                tcp: 3600,
                tcpfin: 30,
                udp: 60,
            },
            HZ_250,
        )
        .expect("in range");
        assert_eq!(
            t.tcp_table(),
            [2, 3600, 120, 60, 30, 120, 10, 60, 30, 120, 120]
        );
        assert_eq!(t.udp(), 60);
        assert_eq!(t.tcp(TcpState::TimeWait), 120);
    }

    #[test]
    fn zero_leaves_a_value_unchanged() {
        let mut t = Timeouts::default();
        t.apply(
            TimeoutSet {
                tcp: 0,
                tcpfin: 45,
                udp: 0,
            },
            HZ_250,
        )
        .expect("in range");
        assert_eq!(
            t.listed(),
            TimeoutSet {
                tcp: 900,
                tcpfin: 45,
                udp: 300
            }
        );
        t.apply(TimeoutSet::default(), HZ_250).expect("in range");
        assert_eq!(
            t.listed(),
            TimeoutSet {
                tcp: 900,
                tcpfin: 45,
                udp: 300
            }
        );
    }

    #[test]
    fn too_large_is_refused_without_partial_change() {
        assert_eq!(Timeouts::max_secs(HZ_1000), 2_147_483);
        assert_eq!(Timeouts::max_secs(HZ_250), 8_589_934);
        let mut t = Timeouts::default();
        let err = t.apply(
            TimeoutSet {
                tcp: 100,
                tcpfin: 100,
                udp: 2_147_484,
            },
            HZ_1000,
        );
        assert_eq!(
            err,
            Err(TimeoutError::TooLarge {
                which: "udp",
                secs: 2_147_484,
                max: 2_147_483
            })
        );
        assert_eq!(t, Timeouts::default());
        t.apply(
            TimeoutSet {
                tcp: 2_147_484,
                tcpfin: 0,
                udp: 0,
            },
            HZ_250,
        )
        .expect("fits at 250");
        assert_eq!(t.tcp(TcpState::Established), 2_147_484);
    }
}
