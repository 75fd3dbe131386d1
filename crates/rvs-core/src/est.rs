//! The kernel's rate estimator (`ip_vs_est.c`), which feeds `ipvsadm -L --rate`.
//!
//! Every 2 seconds the kernel takes each service's and destination's counters and updates
//! five moving averages: connections, incoming and outgoing packets per second, incoming
//! and outgoing bytes per second. Each is an EWMA with weight 1/4 in fixed point:
//!
//! ```text
//! rate = (total - last_total) << 9        // cps, inpps, outpps: scaled by 2^10, per 2 s
//! rate = (total - last_total) << 4        // inbps, outbps:      scaled by 2^5,  per 2 s
//! avg += (s64)(rate - avg) >> 2           // arithmetic shift: rounds toward -infinity
//! ```
//!
//! all in wrapping 64-bit arithmetic. Reading (`ip_vs_read_estimator`) unscales with
//! rounding to nearest, halves rounding down: `(avg + 0x1FF) >> 10` for the per-second
//! counts, `(avg + 0xF) >> 5` for bytes. Because of the floor in the update a constant input
//! never quite reaches its scaled value (it stops up to 3 below), which the rounding hides;
//! after traffic stops the averages decay to exactly 0.
//!
//! This module is sans-IO: the daemon calls [`Estimator::sample`] every
//! [`SAMPLE_INTERVAL`] with the current totals and [`Estimator::rates`] answers `--rate`.
//! Like the kernel, which refreshes the totals it lists only when it estimates, the listed
//! counters should be the totals of the last sample ([`Estimator::last_totals`]).

use std::time::Duration;

/// How often the kernel estimates: every 2 seconds.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(2);

/// Cumulative counters of a service, destination or the whole director (`ip_vs_kstats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatsTotals {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets in (client to server).
    pub inpkts: u64,
    /// Packets out (server to client).
    pub outpkts: u64,
    /// Bytes in.
    pub inbytes: u64,
    /// Bytes out.
    pub outbytes: u64,
}

/// The five rates, as `ipvsadm -L --rate` lists them (CPS, InPPS, OutPPS, InBPS, OutBPS),
/// or, from [`Estimator::scaled`], the kernel's internal fixed-point averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rates {
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

/// One `struct ip_vs_estimator`: the totals at the last sample and the scaled averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Estimator {
    last: StatsTotals,
    /// cps/inpps/outpps scaled by 2^10, inbps/outbps by 2^5.
    avg: Rates,
}

/// Per-second counts are averaged scaled by 2^10; the 2-second delta is shifted by 9.
const COUNT_SHIFT: u32 = 9;
/// Byte counts are averaged scaled by 2^5; the 2-second delta is shifted by 4.
const BYTE_SHIFT: u32 = 4;

/// One EWMA step with weight 1/4, exactly as the kernel's u64/s64 mix computes it.
fn ewma(avg: u64, total: u64, last: u64, shift: u32) -> u64 {
    let rate = total.wrapping_sub(last).wrapping_shl(shift);
    let step = (rate as i64).wrapping_sub(avg as i64) >> 2;
    avg.wrapping_add_signed(step)
}

/// Unscales a per-second count average (2^10, rounding to nearest, halves down).
const fn read_count(avg: u64) -> u64 {
    avg.wrapping_add(0x1FF) >> 10
}

/// Unscales a byte average (2^5, rounding to nearest, halves down).
const fn read_bytes(avg: u64) -> u64 {
    avg.wrapping_add(0xF) >> 5
}

impl Estimator {
    /// A fresh estimator, as the kernel allocates one for a new service or destination:
    /// everything 0, so the counters are expected to start at 0 too.
    pub const fn new() -> Self {
        Self {
            last: StatsTotals {
                conns: 0,
                inpkts: 0,
                outpkts: 0,
                inbytes: 0,
                outbytes: 0,
            },
            avg: Rates {
                cps: 0,
                inpps: 0,
                outpps: 0,
                inbps: 0,
                outbps: 0,
            },
        }
    }

    /// An estimator whose first sample measures from `totals` rather than from 0: for
    /// counters that outlive the estimator (the data plane's pinned maps across a daemon
    /// restart), where starting from 0 would report the whole history as one burst.
    pub const fn with_baseline(totals: StatsTotals) -> Self {
        Self {
            last: totals,
            avg: Self::new().avg,
        }
    }

    /// One estimation step with the current `totals`; call it every [`SAMPLE_INTERVAL`].
    pub fn sample(&mut self, totals: StatsTotals) {
        let (last, avg) = (self.last, &mut self.avg);
        avg.cps = ewma(avg.cps, totals.conns, last.conns, COUNT_SHIFT);
        avg.inpps = ewma(avg.inpps, totals.inpkts, last.inpkts, COUNT_SHIFT);
        avg.outpps = ewma(avg.outpps, totals.outpkts, last.outpkts, COUNT_SHIFT);
        avg.inbps = ewma(avg.inbps, totals.inbytes, last.inbytes, BYTE_SHIFT);
        avg.outbps = ewma(avg.outbps, totals.outbytes, last.outbytes, BYTE_SHIFT);
        self.last = totals;
    }

    /// `ip_vs_read_estimator`: the rates `ipvsadm -L --rate` shows.
    pub const fn rates(&self) -> Rates {
        Rates {
            cps: read_count(self.avg.cps),
            inpps: read_count(self.avg.inpps),
            outpps: read_count(self.avg.outpps),
            inbps: read_bytes(self.avg.inbps),
            outbps: read_bytes(self.avg.outbps),
        }
    }

    /// The kernel's internal averages: counts scaled by 2^10, bytes by 2^5.
    pub const fn scaled(&self) -> Rates {
        self.avg
    }

    /// The totals of the last sample (the kernel's `kstats`, which is what it lists as
    /// counters).
    pub const fn last_totals(&self) -> StatsTotals {
        self.last
    }

    /// `ip_vs_zero_estimator` (`ipvsadm -Z`): the averages restart from 0, measuring from
    /// the totals of the last sample.
    pub fn zero(&mut self) {
        self.avg = Rates::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets_in(n: u64) -> StatsTotals {
        StatsTotals {
            inpkts: n,
            ..StatsTotals::default()
        }
    }

    #[test]
    fn constant_1000_pps_converges_through_exact_steps() {
        // 2000 packets per 2 s: rate = 2000 << 9 = 1,024,000. Each step adds
        // floor((1,024,000 - avg) / 4); reading adds 511 and shifts by 10.
        //   1: 0 + 256,000 = 256,000       -> 256,511 >> 10 = 250
        //   2: + 192,000 = 448,000         -> 448,511 >> 10 = 437 (438 * 1024 = 448,512)
        //   3: + 144,000 = 592,000         -> 578
        //   4: + 108,000 = 700,000         -> 684
        //   5: + 81,000 = 781,000          -> 763
        //   6: + 60,750 = 841,750          -> 822
        //   7: + floor(182,250 / 4) = 45,562 -> 887,312 -> 867
        //   8: + floor(136,688 / 4) = 34,172 -> 921,484 -> 900
        let expected = [
            (256_000, 250),
            (448_000, 437),
            (592_000, 578),
            (700_000, 684),
            (781_000, 763),
            (841_750, 822),
            (887_312, 867),
            (921_484, 900),
        ];
        let mut est = Estimator::new();
        for (i, (scaled, shown)) in expected.into_iter().enumerate() {
            est.sample(packets_in(2000 * (i as u64 + 1)));
            assert_eq!(
                (est.scaled().inpps, est.rates().inpps),
                (scaled, shown),
                "sample {i}"
            );
        }
        for n in 9..=26 {
            est.sample(packets_in(2000 * n));
        }
        // Sample 26: 1,023,421 -> 999; sample 27: 1,023,565 -> 1000.
        assert_eq!((est.scaled().inpps, est.rates().inpps), (1_023_421, 999));
        est.sample(packets_in(2000 * 27));
        assert_eq!((est.scaled().inpps, est.rates().inpps), (1_023_565, 1000));
        // From sample 46 on the step floor((1,024,000 - avg) / 4) is 0: stuck 3 below.
        for n in 28..=60 {
            est.sample(packets_in(2000 * n));
        }
        assert_eq!((est.scaled().inpps, est.rates().inpps), (1_023_997, 1000));
        assert_eq!(est.rates().outpps, 0);
    }

    #[test]
    fn bytes_are_scaled_by_32() {
        // 1,000,000 B/s: rate = 2,000,000 << 4 = 32,000,000; first step 8,000,000
        // -> (8,000,000 + 15) >> 5 = 250,000; second 14,000,000 -> 437,500.
        let mut est = Estimator::new();
        let bytes = |n: u64| StatsTotals {
            outbytes: 2_000_000 * n,
            ..StatsTotals::default()
        };
        est.sample(bytes(1));
        assert_eq!(
            (est.scaled().outbps, est.rates().outbps),
            (8_000_000, 250_000)
        );
        est.sample(bytes(2));
        assert_eq!(
            (est.scaled().outbps, est.rates().outbps),
            (14_000_000, 437_500)
        );
        for n in 3..=80 {
            est.sample(bytes(n));
        }
        assert_eq!(
            (est.scaled().outbps, est.rates().outbps),
            (31_999_997, 1_000_000)
        );
    }

    #[test]
    fn five_connections_per_second() {
        // 10 per 2 s: rate 5120; 1280 -> 1, 2240 -> 2, 2960 -> 3, 3500 -> 3, 3905 -> 4.
        let mut est = Estimator::new();
        let shown: Vec<(u64, u64)> = (1..=5)
            .map(|n| {
                est.sample(StatsTotals {
                    conns: 10 * n,
                    ..StatsTotals::default()
                });
                (est.scaled().cps, est.rates().cps)
            })
            .collect();
        assert_eq!(
            shown,
            [(1280, 1), (2240, 2), (2960, 3), (3500, 3), (3905, 4)]
        );
    }

    #[test]
    fn reading_rounds_half_down() {
        assert_eq!([511, 512, 513].map(read_count), [0, 0, 1]);
        assert_eq!([1535, 1536, 1537].map(read_count), [1, 1, 2]);
        assert_eq!([16, 17].map(read_bytes), [0, 1]);
    }

    #[test]
    fn rates_decay_to_exactly_zero() {
        let mut est = Estimator::new();
        for n in 1..=60 {
            est.sample(packets_in(2000 * n));
        }
        // Traffic stops: 1,023,997 -> 767,997 (step floor(-1,023,997 / 4) = -256,000) ...
        est.sample(packets_in(2000 * 60));
        assert_eq!(est.scaled().inpps, 767_997);
        // ... and the arithmetic shift keeps subtracting 1 from 3, 2 and 1, down to 0.
        for _ in 0..60 {
            est.sample(packets_in(2000 * 60));
        }
        assert_eq!(est.scaled(), Rates::default());
    }

    #[test]
    fn baseline_avoids_a_startup_burst() {
        let running = StatsTotals {
            conns: 5_000_000,
            inpkts: 9_000_000,
            ..Default::default()
        };
        let mut fresh = Estimator::new();
        fresh.sample(running);
        assert!(fresh.rates().cps > 0);
        let mut resumed = Estimator::with_baseline(running);
        resumed.sample(running);
        assert_eq!(resumed.rates(), Rates::default());
    }

    #[test]
    fn counters_wrap_like_u64() {
        let mut est = Estimator::with_baseline(packets_in(u64::MAX - 999));
        est.sample(packets_in(1000));
        // Delta 2000, as if no wrap happened.
        assert_eq!(est.scaled().inpps, 256_000);
    }

    #[test]
    fn zero_restarts_from_the_last_sample() {
        let mut est = Estimator::new();
        est.sample(packets_in(2000));
        est.sample(packets_in(4000));
        est.zero();
        assert_eq!(est.rates(), Rates::default());
        assert_eq!(est.last_totals(), packets_in(4000));
        est.sample(packets_in(6000));
        assert_eq!(est.scaled().inpps, 256_000);
    }
}
