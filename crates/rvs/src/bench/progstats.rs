//! The kernel's own accounting of a BPF program's CPU time (`bpf_stats`): `run_time_ns` and
//! `run_cnt` of each program, counted while statistics are enabled.
//!
//! Statistics are enabled with `BPF_ENABLE_STATS` rather than the `kernel.bpf_stats_enabled`
//! sysctl: the kernel counts while the returned descriptor is open and stops by itself when it
//! closes, so a benchmark that crashes or is killed cannot leave them on (they cost a few ns
//! per run of every program on the machine).

use std::os::fd::OwnedFd;

use anyhow::{Context, Result, anyhow};
use aya::programs::loaded_programs;

/// Statistics stay enabled while this lives.
pub struct StatsEnabled {
    _fd: OwnedFd,
}

/// Whether statistics are on already (`kernel.bpf_stats_enabled`, which also reads 1 while
/// anyone holds a `BPF_ENABLE_STATS` descriptor).
pub fn already_enabled() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled").is_ok_and(|v| v.trim() == "1")
}

/// Turns statistics on until the returned value is dropped.
pub fn enable() -> Result<StatsEnabled> {
    let fd = aya::sys::enable_stats(aya::sys::Stats::RunTime)
        .context("enabling bpf_stats (BPF_ENABLE_STATS)")?;
    Ok(StatsEnabled { _fd: fd })
}

/// A program's counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Total run time, ns.
    pub run_time_ns: u64,
    /// Number of runs.
    pub run_count: u64,
}

impl RunStats {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &RunStats) -> RunStats {
        RunStats {
            run_time_ns: self.run_time_ns.saturating_sub(earlier.run_time_ns),
            run_count: self.run_count.saturating_sub(earlier.run_count),
        }
    }

    /// Mean ns per run; `None` without runs.
    pub fn ns_per_run(&self) -> Option<f64> {
        (self.run_count > 0).then(|| self.run_time_ns as f64 / self.run_count as f64)
    }
}

/// The id of the loaded program called `name` that uses the map with id `map_id`: the map
/// tells one rvsd instance's program from another's.
pub fn find_program(name: &str, map_id: u32) -> Result<u32> {
    for info in loaded_programs() {
        let info = info.context("listing BPF programs")?;
        if info.name_as_str() != Some(name) {
            continue;
        }
        let maps = info
            .map_ids()
            .context("listing a program's maps")?
            .unwrap_or_default();
        if maps.contains(&map_id) {
            return Ok(info.id());
        }
    }
    Err(anyhow!("no loaded program {name} uses map {map_id}"))
}

/// The counters of program `id` now.
pub fn read(id: u32) -> Result<RunStats> {
    for info in loaded_programs() {
        let info = info.context("listing BPF programs")?;
        if info.id() == id {
            return Ok(RunStats {
                run_time_ns: info.run_time().as_nanos() as u64,
                run_count: info.run_count(),
            });
        }
    }
    Err(anyhow!("BPF program {id} is gone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_means() {
        let a = RunStats {
            run_time_ns: 1_000,
            run_count: 10,
        };
        let b = RunStats {
            run_time_ns: 9_000,
            run_count: 110,
        };
        let d = b.since(&a);
        assert_eq!(
            d,
            RunStats {
                run_time_ns: 8_000,
                run_count: 100
            }
        );
        assert_eq!(d.ns_per_run(), Some(80.0));
        assert_eq!(a.since(&a).ns_per_run(), None);
    }
}
