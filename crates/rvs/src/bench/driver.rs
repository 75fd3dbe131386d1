//! What every benchmark run does the same way: the guard around a run (Ctrl-C, the time limit,
//! `bpf_stats`, taking the topology down whatever happens), driving one path with the generator
//! while the sink counts, and reading what the director did during a phase.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rvs_dataplane::abi::RvsStat;
use rvs_lab::{Host, Lab};
use serde::Serialize;

use super::RunArgs;
use super::cpustat;
use super::frames::{Template, Traffic};
use super::interrupt;
use super::pinned::{PinnedPlane, delta_of, verdict_deltas};
use super::progstats;
use super::report::{DirectorView, Method, PathResult, ProgramCost};
use super::traffic::{BenchPrograms, Counted, GenRun, Limits};

/// Time for frames still in rings and backlogs to arrive after the generator stops.
const DRAIN: Duration = Duration::from_millis(200);

/// What a benchmark's measurement gets from the guard: the stop flag and `bpf_stats`.
pub struct Guard {
    /// Raised by Ctrl-C, SIGTERM or the time limit.
    pub stop: &'static AtomicBool,
    /// Keeps `bpf_stats` on while it is `Some`.
    pub stats: Option<progstats::StatsEnabled>,
    /// Whether they were on before the run (then they stay on for all of it).
    pub stats_were_on: bool,
}

/// A network a benchmark built: its lab, taken down at the end of the run.
pub trait Network {
    /// The lab holding every namespace of the network.
    fn lab(&self) -> &Lab;
}

/// Runs a benchmark: installs the Ctrl-C handler and the time limit `hard_timeout`, turns
/// `bpf_stats` on, builds the network, measures, takes the network down (whether the
/// measurement succeeded or not), and prints the report as text or JSON.
pub fn run<N: Network, R: Serialize>(
    args: &RunArgs,
    hard_timeout: Duration,
    build: impl FnOnce() -> Result<N>,
    measure: impl FnOnce(&N, Guard) -> Result<R>,
    render: impl FnOnce(&R) -> String,
) -> Result<()> {
    let stop = interrupt::install();
    std::thread::spawn(move || {
        std::thread::sleep(hard_timeout);
        interrupt::request_stop();
    });
    let stats_were_on = progstats::already_enabled();
    // Counted from here until the measurement drops it.
    let stats = progstats::enable()?;
    let net = build()?;
    let guard = Guard {
        stop,
        stats: Some(stats),
        stats_were_on,
    };
    let result = measure(&net, guard);
    let down = net.lab().down();
    let report = result?;
    down.context("taking the topology down")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// A progress line, on stderr so that `--json` output stays clean.
pub fn progress(args: &RunArgs, text: &str) {
    if !args.json {
        eprintln!("{text}");
    }
}

/// One drive of the generator and what the sink counts meanwhile.
#[derive(Clone, Copy, Debug)]
pub struct Drive<'n> {
    /// The path's name in the report.
    pub name: &'n str,
    /// The host the generator sends from (out of its `eth0`).
    pub sender: &'n Host,
    /// The frames' addresses.
    pub template: Template,
    /// UDP or TCP SYNs.
    pub traffic: Traffic,
    /// First flow, and the number of flows cycled through (0: every frame a new flow).
    pub flows: (u64, u64),
    /// Most frames sent.
    pub max_frames: u64,
    /// Most frames received: the phase stops once the sink has counted about this many.
    pub max_received: Option<u64>,
    /// What the sink counts: the frames of this path and no other.
    pub counted: Counted,
}

/// The generator's interface on every host.
pub const SENDER_IFACE: &str = "eth0";

/// Drives paths: the benchmark's programs, its settings, the stop flag.
pub struct Driver<'a> {
    /// The common settings.
    pub args: &'a RunArgs,
    /// Raised to stop.
    pub stop: &'a AtomicBool,
    /// The generator and the sink.
    pub programs: BenchPrograms,
}

impl Driver<'_> {
    /// Drives one path: the generator sends `drive.traffic` from flow `drive.flows.0`, cycling
    /// through `drive.flows.1` (0: all new), at most `drive.max_frames`; the sink counts what
    /// arrives.
    pub fn drive(&mut self, drive: &Drive<'_>) -> Result<(PathResult, GenRun)> {
        let limits = Limits {
            max_received: drive.max_received,
            ..self.args.limits(drive.max_frames)
        };
        self.drive_limited(drive, limits)
    }

    /// [`Driver::drive`] within `limits` (a paced warm-up pass, say).
    pub fn drive_limited(
        &mut self,
        drive: &Drive<'_>,
        limits: Limits,
    ) -> Result<(PathResult, GenRun)> {
        let name = drive.name;
        let (first, flows) = drive.flows;
        interrupt::check(self.stop)?;
        progress(self.args, &format!("driving {name}"));
        self.programs.count(drive.counted)?;
        let frame = drive.template.frame(drive.traffic);
        let generator = drive
            .template
            .generator(drive.traffic, &frame, first, flows);
        let before = self.programs.sink_count()?;
        let cpu_before = cpustat::read(self.args.path_cpu)?;
        let run = self.programs.generate(
            drive.sender,
            SENDER_IFACE,
            &frame,
            generator,
            limits,
            self.stop,
        )?;
        std::thread::sleep(DRAIN);
        let received = self.programs.sink_count()?.saturating_sub(before);
        let path_cpu = cpustat::share(&cpu_before, &cpustat::read(self.args.path_cpu)?);
        interrupt::check(self.stop)?;
        if received == 0 {
            bail!(
                "{name}: none of the {} frames sent reached their destination",
                run.frames
            );
        }
        let seconds = run.sending.as_secs_f64();
        let result = PathResult {
            name: name.to_string(),
            flows,
            director: None,
            sent: run.frames,
            received,
            seconds,
            wall_seconds: run.elapsed.as_secs_f64(),
            offered_pps: run.rate(),
            pps: super::traffic::per_second(received, run.sending),
            pps_per_cpu: if path_cpu.kernel_seconds > 0.0 {
                received as f64 / path_cpu.kernel_seconds
            } else {
                0.0
            },
            path_cpu,
        };
        Ok((result, run))
    }

    /// Drives the director and reads what its program did meanwhile. Fails unless every frame
    /// it forwarded went by `method` and the sink counted no more frames than that.
    pub fn phase(
        &mut self,
        plane: &PinnedPlane,
        director: u32,
        drive: &Drive<'_>,
        method: Method,
    ) -> Result<PathResult> {
        let verdicts_before = plane.verdicts()?;
        let stats_before = progstats::read(director)?;
        let (mut path, _) = self.drive(drive)?;
        let stats = progstats::read(director)?.since(&stats_before);
        let deltas = verdict_deltas(&verdicts_before, &plane.verdicts()?);
        let sum = |stats: &[RvsStat]| stats.iter().map(|&s| delta_of(&deltas, s)).sum::<u64>();
        let forwarded = sum(method.counters());
        let stray = sum(&Method::FORWARDING) - forwarded;
        check_forwarding(drive.name, method, forwarded, stray, path.received)?;
        path.director = Some(DirectorView {
            cost: ProgramCost {
                ns_per_packet: stats.ns_per_run(),
                runs: stats.run_count,
            },
            method,
            forwarded,
            created: delta_of(&deltas, RvsStat::ConnCreated),
            other: deltas
                .iter()
                .filter(|(s, _)| {
                    ![RvsStat::RxFrames, RvsStat::ConnCreated].contains(s)
                        && !Method::FORWARDING.contains(s)
                })
                .map(|&(s, n)| (s.name().to_string(), n))
                .collect(),
        });
        Ok(path)
    }
}

/// Whether a phase measured what it says: every frame the director forwarded went by `method`
/// (`stray` went another way), and the sink counted no frame the director did not send that
/// way (`received` at most `forwarded`; fewer when frames were lost after the director).
pub fn check_forwarding(
    name: &str,
    method: Method,
    forwarded: u64,
    stray: u64,
    received: u64,
) -> Result<()> {
    let label = method.label();
    if stray > 0 {
        bail!(
            "{name}: the director forwarded {stray} frames by another method than {label} (and {forwarded} by {label})"
        );
    }
    if received > forwarded {
        bail!(
            "{name}: the sink counted {received} frames but the director forwarded only {forwarded} by {label}"
        );
    }
    Ok(())
}

/// How rvsd attached its program, from its log (`mode=generic`).
pub fn attach_mode(log: &str) -> String {
    strip_ansi(log)
        .lines()
        .filter(|l| l.contains("attached the director program"))
        .find_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("mode=")))
        .map_or_else(|| "unknown".into(), |m| m.trim_matches('"').to_string())
}

/// `text` without terminal colour sequences (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn phases_fail_when_frames_went_another_way_or_came_from_elsewhere() {
        assert!(check_forwarding("p", Method::Tun, 100, 0, 100).is_ok());
        assert!(
            check_forwarding("p", Method::Tun, 100, 0, 90).is_ok(),
            "lost after the director"
        );
        let stray = check_forwarding("p", Method::Tun, 100, 1, 90).unwrap_err();
        assert!(
            stray
                .to_string()
                .contains("1 frames by another method than TUN"),
            "{stray}"
        );
        let extra = check_forwarding("p", Method::Dr, 100, 0, 101).unwrap_err();
        assert!(
            extra.to_string().contains("forwarded only 100 by DR"),
            "{extra}"
        );
        let routed = check_forwarding("p", Method::Nat, 100, 5, 100).unwrap_err();
        assert!(
            routed
                .to_string()
                .contains("5 frames by another method than NAT redirect"),
            "{routed}"
        );
    }

    #[test]
    fn the_attach_mode_comes_from_rvsds_log() {
        let log = "2026-01-01T00:00:00Z  INFO rvs_dataplane::loader: attached the director program interface=\"eth0\" mode=generic\n";
        assert_eq!(attach_mode(log), "generic");
        assert_eq!(attach_mode("nothing here"), "unknown");
        let coloured = "\u{1b}[2mrvs_dataplane::loader\u{1b}[0m: attached the director program \u{1b}[3mmode\u{1b}[0m\u{1b}[2m=\u{1b}[0mnative";
        assert_eq!(attach_mode(coloured), "native");
    }
}
