//! How one CPU spent its time over a phase, from `/proc/stat`: how much of it the network path
//! (kernel time: softirq, system, irq) got, how much went to other programs (user time), and
//! how long it sat idle. On a shared machine this tells a slow path from a path that was not
//! given its CPU, and the path's rate per second of kernel time on its CPU does not depend on it.

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

/// Cumulative ticks of one CPU (`USER_HZ` units).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// user + nice.
    pub user: u64,
    /// system + irq + softirq.
    pub kernel: u64,
    /// idle + iowait.
    pub idle: u64,
    /// Time the hypervisor ran something else.
    pub steal: u64,
}

/// Shares of a CPU's time over an interval, fractions of 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CpuShare {
    /// Kernel work: the network path.
    pub kernel: f64,
    /// Other programs.
    pub user: f64,
    /// Nothing to do.
    pub idle: f64,
    /// Taken by the hypervisor.
    pub steal: f64,
    /// Seconds of kernel time (the path's CPU time).
    pub kernel_seconds: f64,
}

/// Reads CPU `cpu`'s line of `/proc/stat`.
pub fn read(cpu: usize) -> Result<CpuTicks> {
    let text = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    parse(&text, cpu).ok_or_else(|| anyhow!("no line for CPU {cpu} in /proc/stat"))
}

/// The ticks of `cpu` in `/proc/stat` text.
fn parse(text: &str, cpu: usize) -> Option<CpuTicks> {
    let label = format!("cpu{cpu}");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label.as_str()))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal ...
    Some(CpuTicks {
        user: at(0) + at(1),
        kernel: at(2) + at(5) + at(6),
        idle: at(3) + at(4),
        steal: at(7),
    })
}

/// The shares between two readings.
pub fn share(before: &CpuTicks, after: &CpuTicks) -> CpuShare {
    let d = |a: u64, b: u64| a.saturating_sub(b) as f64;
    let (user, kernel, idle, steal) = (
        d(after.user, before.user),
        d(after.kernel, before.kernel),
        d(after.idle, before.idle),
        d(after.steal, before.steal),
    );
    let total = user + kernel + idle + steal;
    if total == 0.0 {
        return CpuShare::default();
    }
    CpuShare {
        kernel: kernel / total,
        user: user / total,
        idle: idle / total,
        steal: steal / total,
        kernel_seconds: kernel / ticks_per_second(),
    }
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STAT: &str = "cpu  900 0 900 900 0 0 0 0 0 0\n\
                        cpu0 500 0 100 400 0 0 0 0 0 0\n\
                        cpu1 10 5 300 40 2 1 200 3 0 0\n\
                        intr 12345\n";

    #[test]
    fn lines_are_read_by_cpu() {
        assert_eq!(
            parse(STAT, 1).unwrap(),
            CpuTicks {
                user: 15,
                kernel: 501,
                idle: 42,
                steal: 3
            }
        );
        assert_eq!(parse(STAT, 0).unwrap().user, 500);
        assert!(parse(STAT, 2).is_none());
    }

    #[test]
    fn shares_add_up() {
        let a = CpuTicks {
            user: 10,
            kernel: 100,
            idle: 50,
            steal: 0,
        };
        let b = CpuTicks {
            user: 30,
            kernel: 250,
            idle: 80,
            steal: 0,
        };
        let s = share(&a, &b);
        assert!(
            (s.kernel - 0.75).abs() < 1e-9
                && (s.user - 0.1).abs() < 1e-9
                && (s.idle - 0.15).abs() < 1e-9
        );
        assert!(s.kernel_seconds > 0.0);
        assert_eq!(share(&a, &a), CpuShare::default());
    }
}
