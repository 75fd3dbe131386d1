//! The last hour of each virtual service's rates, for the monitoring page's charts.
//!
//! Sans-IO: the server samples the table's counters every [`PERIOD`] and hands them here with the
//! time; each sample becomes one point per service, the counters' increase divided by the time
//! between samples (what `ipvsadm --rate` estimates, but exact over the period). Points older
//! than [`SPAN`] go. A counter that went down (the service was deleted and added again) starts
//! the series afresh rather than draw a negative rate.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rvs_core::model::Stats64;
use serde::Serialize;

/// How often the counters are sampled.
pub const PERIOD: Duration = Duration::from_secs(5);
/// How far back the charts go.
pub const SPAN: Duration = Duration::from_secs(3600);

/// One point of a service's chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Unix time of the sample, in seconds.
    pub t: u64,
    /// New connections per second.
    pub cps: f64,
    /// Packets per second, in and out.
    pub pps: f64,
    /// Bytes per second, in and out.
    pub bps: f64,
}

#[derive(Debug, Default)]
struct Series {
    last: Option<(u64, Stats64)>,
    points: VecDeque<Point>,
}

/// Every service's points, by the service's name (`TCP 10.0.0.1:80`).
#[derive(Debug, Default)]
pub struct History {
    series: BTreeMap<String, Series>,
}

impl History {
    /// Records the counters read at `now` (Unix seconds). Services absent from `services` are
    /// forgotten: their chart would only say they are gone.
    pub fn record(&mut self, now: u64, services: &[(String, Stats64)]) {
        self.series.retain(|name, _| services.iter().any(|(n, _)| n == name));
        let horizon = now.saturating_sub(SPAN.as_secs());
        for (name, stats) in services {
            let series = self.series.entry(name.clone()).or_default();
            if let Some((then, before)) = series.last
                && now > then
            {
                match rates(before, *stats, now - then) {
                    Some(point) => series.points.push_back(Point { t: now, ..point }),
                    None => series.points.clear(),
                }
            }
            series.last = Some((now, *stats));
            while series.points.front().is_some_and(|p| p.t < horizon) {
                series.points.pop_front();
            }
        }
    }

    /// The points of every service, oldest first.
    pub fn charts(&self) -> BTreeMap<&str, Vec<Point>> {
        self.series.iter().map(|(name, s)| (name.as_str(), s.points.iter().copied().collect())).collect()
    }
}

/// The rates between two readings `secs` apart; `None` if a counter went down.
fn rates(before: Stats64, after: Stats64, secs: u64) -> Option<Point> {
    let delta = |a: u64, b: u64| b.checked_sub(a);
    let conns = delta(before.conns, after.conns)?;
    let pkts = delta(before.inpkts, after.inpkts)?.saturating_add(delta(before.outpkts, after.outpkts)?);
    let bytes = delta(before.inbytes, after.inbytes)?.saturating_add(delta(before.outbytes, after.outbytes)?);
    let per_sec = |n: u64| n as f64 / secs as f64;
    Some(Point { t: 0, cps: per_sec(conns), pps: per_sec(pkts), bps: per_sec(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(conns: u64, pkts: u64, bytes: u64) -> Stats64 {
        Stats64 { conns, inpkts: pkts, outpkts: pkts, inbytes: bytes, outbytes: 0 }
    }

    #[test]
    fn rates_are_increases_over_the_period() {
        let mut h = History::default();
        h.record(100, &[("TCP 10.0.0.1:80".into(), stats(10, 100, 1000))]);
        assert!(h.charts()["TCP 10.0.0.1:80"].is_empty(), "one reading is no rate yet");
        h.record(105, &[("TCP 10.0.0.1:80".into(), stats(20, 150, 6000))]);
        assert_eq!(h.charts()["TCP 10.0.0.1:80"], vec![Point { t: 105, cps: 2.0, pps: 20.0, bps: 1000.0 }]);
    }

    #[test]
    fn an_hour_is_kept_and_no_more() {
        let mut h = History::default();
        for i in 0..1000u64 {
            h.record(i * 5, &[("s".into(), stats(i, i, i))]);
        }
        let points = &h.charts()["s"];
        assert_eq!(points.len(), 721, "one hour of 5 s points, both ends in");
        assert_eq!(points.first().map(|p| p.t), Some(999 * 5 - 3600));
    }

    #[test]
    fn a_counter_going_down_restarts_the_series_and_gone_services_go() {
        let mut h = History::default();
        h.record(0, &[("a".into(), stats(50, 0, 0)), ("b".into(), stats(0, 0, 0))]);
        h.record(5, &[("a".into(), stats(60, 0, 0)), ("b".into(), stats(0, 0, 0))]);
        h.record(10, &[("a".into(), stats(1, 0, 0))]);
        let charts = h.charts();
        assert!(charts["a"].is_empty(), "{charts:?}");
        assert!(!charts.contains_key("b"));
        h.record(15, &[("a".into(), stats(6, 0, 0))]);
        assert_eq!(h.charts()["a"], vec![Point { t: 15, cps: 1.0, pps: 0.0, bps: 0.0 }]);
    }
}
