//! The `rvs bench dr` run: topology, the paths, the program's cost, teardown.
//!
//! Order: the direct path and nftables first, while no XDP program sits on the director (rvsd's
//! would take the packets before nftables' ingress hook); then rvsd, the connection table
//! filled with the generator's flows, the DR established-flow phases, the same flows in TUN mode
//! (`tun.rs`), and last the new-flow phases (DR, then TUN), which add entries: run earlier, they
//! would leave a fuller table, and every lookup dearer, to the phases after them. The same UDP
//! frames, flows and duration serve the established-flow phases; only the destination MAC
//! differs (the real server's for the direct path, the director's otherwise).

mod tun;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rvs_dataplane::abi::{RVS_FWD_DROUTE, RvsStat};

use super::DrArgs;
use super::cpustat;
use super::frames::{Template, Traffic};
use super::interrupt;
use super::nft;
use super::pinned::{DestSlot, PinnedPlane, TCP, UDP, UdpFlows, delta_of, verdict_deltas};
use super::progstats::{self, RunStats};
use super::report::{
    CallCost, DirectorView, Method, PathResult, PerCall, ProgramCost, ROW_DIRECT, ROW_DR,
    ROW_DR_HOT, ROW_NFT, Report, TunSummary, ratio,
};
use super::rvsd::{Rvsd, RvsdOptions};
use super::testrun::{self, Runs};
use super::topology::{BenchNet, FLOW_SOURCES, IFACE, REAL, VIP};
use super::traffic::{BenchPrograms, Counted, GenRun};

/// The UDP service's port (discard).
const UDP_PORT: u16 = 9;
/// The TCP service's port.
const TCP_PORT: u16 = 80;
/// Time for frames still in rings and backlogs to arrive after the generator stops.
const DRAIN: Duration = Duration::from_millis(200);
/// How long rvsd may take to learn the real server's MAC.
const NEXT_HOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest whole run: past it the run stops as on Ctrl-C, and tears down.
const HARD_TIMEOUT: Duration = Duration::from_secs(110);
/// Flows of the hot-flow phase: a working set that stays in the caches, among the table's entries.
const HOT_FLOWS: u64 = 1024;
/// Runs of the test-run loop.
const TEST_RUN_REPEAT: u32 = 1_000_000;
/// Calls of one run each, DR and TUN.
const TEST_RUN_CALLS: u32 = 50_000;
/// The director program's name.
const PROG_DIRECTOR: &str = "rvs_director";
/// First flow index of the new-flow phase: far from the established flows (which are UDP, so
/// they could not collide anyway).
const NEW_FLOW_BASE: u64 = 1 << 24;

/// One of a path's rates.
type Rate = fn(&PathResult) -> f64;

/// One drive of the generator and what the sink counts meanwhile.
#[derive(Clone, Copy, Debug)]
struct Drive<'n> {
    /// The path's name in the report.
    name: &'n str,
    /// The frames' addresses.
    template: Template,
    /// UDP or TCP SYNs.
    traffic: Traffic,
    /// First flow, and the number of flows cycled through (0: every frame a new flow).
    flows: (u64, u64),
    /// Most frames sent.
    max_frames: u64,
    /// What the sink counts: the frames of this path and no other.
    counted: Counted,
}

/// Runs the benchmark and prints its report.
pub fn run(args: &DrArgs) -> Result<()> {
    args.check()?;
    let stop = interrupt::install();
    std::thread::spawn(|| {
        std::thread::sleep(HARD_TIMEOUT);
        interrupt::request_stop();
    });
    let stats_were_on = progstats::already_enabled();
    // Counted from here until the test-run loops (the descriptor closes with this value).
    let stats = progstats::enable()?;
    progress(
        args,
        &format!("building the topology (namespaces {}-*)", args.prefix),
    );
    let net = BenchNet::build(&args.prefix, args.path_cpu)?;
    let result =
        Bench::new(&net, args, stop, (stats, stats_were_on)).and_then(|mut bench| bench.measure());
    let down = net.lab.down();
    let report = result?;
    down.context("taking the topology down")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(())
}

/// A progress line, on stderr so that `--json` output stays clean.
fn progress(args: &DrArgs, text: &str) {
    if !args.json {
        eprintln!("{text}");
    }
}

/// One run in progress.
struct Bench<'a> {
    net: &'a BenchNet,
    args: &'a DrArgs,
    stop: &'a AtomicBool,
    programs: BenchPrograms,
    /// Keeps `bpf_stats` on while it is `Some`.
    stats: Option<progstats::StatsEnabled>,
    stats_were_on: bool,
}

/// What the rvs phases found.
struct RvsResults {
    fill: Duration,
    /// DR (all, hot, new flows), then TUN (all, hot, new flows).
    paths: Vec<PathResult>,
    /// Rebinding the entries to TUN.
    rebind: Duration,
    /// The sink on tunnelled frames.
    tun_sink: ProgramCost,
    /// One flow, one run per call, DR and TUN.
    per_call: PerCall,
    test_run: testrun::LoopCost,
    test_run_no_stats: Option<f64>,
    sink: ProgramCost,
    sweep: RunStats,
}

impl<'a> Bench<'a> {
    fn new(
        net: &'a BenchNet,
        args: &'a DrArgs,
        stop: &'a AtomicBool,
        (stats, stats_were_on): (progstats::StatsEnabled, bool),
    ) -> Result<Self> {
        let mut programs = BenchPrograms::load()?;
        programs.attach_sink(&net.real, IFACE, Counted::To(VIP))?;
        Ok(Self {
            net,
            args,
            stop,
            programs,
            stats: Some(stats),
            stats_were_on,
        })
    }

    /// The UDP template addressed to `dst_mac`.
    fn udp(&self, dst_mac: [u8; 6]) -> Template {
        Template {
            src_mac: self.net.client_mac,
            dst_mac,
            saddr_base: FLOW_SOURCES,
            daddr: VIP,
            dport: UDP_PORT,
        }
    }

    /// Drives one path: the generator sends `drive.traffic` from flow `drive.flows.0`, cycling
    /// through `drive.flows.1` (0: all new), at most `drive.max_frames`; the sink counts what
    /// arrives.
    fn drive(&mut self, drive: &Drive<'_>) -> Result<(PathResult, GenRun)> {
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
            &self.net.client,
            super::topology::IFACE,
            &frame,
            generator,
            self.args.limits(drive.max_frames),
            self.stop,
        )?;
        std::thread::sleep(DRAIN);
        let received = self.programs.sink_count()?.saturating_sub(before);
        let path_cpu = cpustat::share(&cpu_before, &cpustat::read(self.args.path_cpu)?);
        interrupt::check(self.stop)?;
        if received == 0 {
            bail!(
                "{name}: none of the {} frames sent reached the real server",
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

    fn measure(&mut self) -> Result<Report> {
        let (net, args) = (self.net, self.args);
        let (direct, gen_run) = self.drive(&Drive {
            name: "direct: client -> real server",
            template: self.udp(net.real_mac),
            traffic: Traffic::Udp,
            flows: (0, args.flows),
            max_frames: u64::MAX,
            counted: Counted::To(VIP),
        })?;

        let ruleset = nft::dsr_ruleset(IFACE, VIP, UDP_PORT, net.director_mac, net.real_mac);
        nft::apply(&net.director, net.lab.log_dir(), &ruleset)?;
        let (nft, _) = self.drive(&Drive {
            name: "nftables netdev fwd (nftlb DSR)",
            template: self.udp(net.director_mac),
            traffic: Traffic::Udp,
            flows: (0, args.flows),
            max_frames: u64::MAX,
            counted: Counted::To(VIP),
        })?;
        nft::remove(&net.director)?;

        interrupt::check(self.stop)?;
        progress(args, "starting rvsd");
        let rvsd = Rvsd::start(
            &net.director,
            RvsdOptions {
                interface: IFACE,
                instance: format!("{}-director", args.prefix),
                socket: PathBuf::from(format!("/run/rvs/{}.sock", args.prefix)),
                conn_max: args.conn_max,
                xdp_mode: &args.xdp_mode,
                cpu: args.gen_cpu,
                log: net.lab.log_dir().join("rvsd.log"),
            },
        )?;
        let rvs = self.measure_rvs(&rvsd);
        let log = rvsd.log();
        let stopped = rvsd.stop();
        let rvs = rvs.map_err(|e| {
            if e.is::<interrupt::Interrupted>() {
                e
            } else {
                e.context(format!("rvsd's log:\n{log}"))
            }
        })?;
        stopped?;

        let mut paths = vec![direct, nft];
        paths.extend(rvs.paths);
        let pps: Rate = |p| p.pps;
        let per_cpu: Rate = |p| p.pps_per_cpu;
        let ratio = |a: usize, b: usize, rate: Rate| ratio(&paths, a, b, rate);
        Ok(Report {
            duration_s: args.duration,
            table_entries: args.flows,
            conn_max: args.conn_max,
            fill_s: rvs.fill.as_secs_f64(),
            xdp_mode: attach_mode(&log),
            cpus: (args.gen_cpu, args.path_cpu),
            rvs_over_direct: ratio(ROW_DR, ROW_DIRECT, pps),
            rvs_over_nft: ratio(ROW_DR, ROW_NFT, pps),
            rvs_hot_over_nft: ratio(ROW_DR_HOT, ROW_NFT, pps),
            per_cpu_ratios: (
                ratio(ROW_DR, ROW_DIRECT, per_cpu),
                ratio(ROW_DR, ROW_NFT, per_cpu),
            ),
            tun: TunSummary::of(&paths, rvs.rebind.as_secs_f64(), rvs.tun_sink, rvs.per_call),
            generator_max_pps: paths.iter().map(|p| p.offered_pps).fold(0.0, f64::max),
            generator_ns_per_frame: gen_run.ns_per_frame(),
            paths,
            test_run_stats: rvs.test_run.bpf_stats,
            test_run_ns: rvs.test_run.test_run_ns,
            test_run_no_stats_ns: rvs.test_run_no_stats,
            sink: rvs.sink,
            sweep_ms: rvs.sweep.ns_per_run().map(|ns| ns / 1e6),
            stats_were_on: self.stats_were_on,
        })
    }

    fn measure_rvs(&mut self, rvsd: &Rvsd) -> Result<RvsResults> {
        let (net, args) = (self.net, self.args);
        let (vip, real) = (VIP.to_string(), REAL.to_string());
        let udp_svc = format!("{vip}:{UDP_PORT}");
        let tcp_svc = format!("{vip}:{TCP_PORT}");
        for cmd in [
            vec!["-A", "-u", &udp_svc, "-s", "rr"],
            vec![
                "-a",
                "-u",
                &udp_svc,
                "-r",
                &format!("{real}:{UDP_PORT}"),
                "-g",
            ],
            vec!["-A", "-t", &tcp_svc, "-s", "rr"],
            vec![
                "-a",
                "-t",
                &tcp_svc,
                "-r",
                &format!("{real}:{TCP_PORT}"),
                "-g",
            ],
        ] {
            rvsd.rvsadm(&cmd)?;
        }
        let mut plane = PinnedPlane::open(&rvsd.pin_dir())?;
        let udp_dest = plane.find_dest(VIP, UDP_PORT, UDP, REAL, UDP_PORT)?;
        let tcp_dest = plane.find_dest(VIP, TCP_PORT, TCP, REAL, TCP_PORT)?;
        for dest in [&udp_dest, &tcp_dest] {
            plane.wait_next_hop(dest, NEXT_HOP_TIMEOUT, self.stop)?;
        }
        progress(
            args,
            &format!("filling the connection table with {} flows", args.flows),
        );
        let udp_flows = UdpFlows {
            saddr_base: FLOW_SOURCES,
            vip: VIP,
            vport: UDP_PORT,
        };
        let fill = plane.fill_udp(udp_flows, &udp_dest, args.flows, self.stop)?;
        check_listed(rvsd, &udp_dest, args.flows, "Route")?;

        let director = progstats::find_program(PROG_DIRECTOR, plane.conns_id())?;
        let sweeper = progstats::find_program("rvs_expire", plane.conns_id())?;
        let sweep_before = progstats::read(sweeper)?;
        let sink = self.programs.sink_id()?;
        let sink_before = progstats::read(sink)?;

        let to_director = self.udp(net.director_mac);
        let established = Drive {
            name: "rvs (XDP director, DR)",
            template: to_director,
            traffic: Traffic::Udp,
            flows: (0, args.flows),
            max_frames: u64::MAX,
            counted: Counted::To(VIP),
        };
        let all = self.phase(&plane, director, &established, Method::Dr)?;
        let sink = progstats::read(sink)?.since(&sink_before);
        let hot = Drive {
            name: "rvs, hot flows",
            flows: (0, HOT_FLOWS.min(args.flows)),
            ..established
        };
        let hot = self.phase(&plane, director, &hot, Method::Dr)?;

        let tun = self.tun_established(rvsd, &mut plane, director, udp_flows, &udp_dest)?;

        let syn = Drive {
            name: "rvs, new flows (TCP SYN)",
            template: Template {
                dport: TCP_PORT,
                ..to_director
            },
            traffic: Traffic::TcpSyn,
            flows: (NEW_FLOW_BASE, 0),
            max_frames: args.new_flows,
            counted: Counted::To(VIP),
        };
        let new = self.phase(&plane, director, &syn, Method::Dr)?;
        let created = new.director.as_ref().map_or(0, |d| d.created);
        let tun_new = self.tun_new_flows(rvsd, &plane, director, &syn, &tcp_dest, created)?;
        let sweep = progstats::read(sweeper)?.since(&sweep_before);

        let frame = to_director.frame(Traffic::Udp);
        let (per_call, test_run, test_run_no_stats) =
            self.test_runs(&mut plane, director, udp_flows, &tun.dest, &frame)?;
        Ok(RvsResults {
            fill,
            paths: vec![all, hot, new, tun.all, tun.hot, tun_new],
            rebind: tun.rebind,
            tun_sink: tun.sink,
            per_call,
            test_run,
            test_run_no_stats,
            sink: ProgramCost {
                ns_per_packet: sink.ns_per_run(),
                runs: sink.run_count,
            },
            sweep,
        })
    }

    /// The test runs on flow 0's `frame`, whose entry is bound to TUN: one run per call in TUN,
    /// then, the entry bound back to DR, in DR (a repeated run cannot measure TUN: each run
    /// would get the previous one's IP-in-IP packet); then the loop in DR, with statistics on
    /// and (unless they were on before the run) off.
    fn test_runs(
        &mut self,
        plane: &mut PinnedPlane,
        director: u32,
        flows: UdpFlows,
        dest: &DestSlot,
        frame: &[u8],
    ) -> Result<(PerCall, testrun::LoopCost, Option<f64>)> {
        interrupt::check(self.stop)?;
        progress(self.args, "running rvs_director once per call, TUN and DR");
        let host = &self.net.director;
        let calls = |runs: Runs| -> Result<CallCost> {
            let cost = testrun::established(host, IFACE, director, frame, runs)?;
            Ok(CallCost {
                test_run_ns: cost.test_run_ns,
                bpf_stats: cost.bpf_stats,
            })
        };
        let tun = calls(Runs::Calls(TEST_RUN_CALLS))?;
        plane.rebind_udp(flows, dest, RVS_FWD_DROUTE, 0..1, self.stop)?;
        let dr = calls(Runs::Calls(TEST_RUN_CALLS))?;
        let per_call = PerCall {
            calls: TEST_RUN_CALLS,
            dr,
            tun,
        };

        interrupt::check(self.stop)?;
        progress(self.args, "running rvs_director in a test-run loop");
        let repeat = Runs::Repeat(TEST_RUN_REPEAT);
        let test_run = testrun::established(host, IFACE, director, frame, repeat)?;
        // Again without statistics: their clock reads are part of every run they count.
        self.stats = None;
        let no_stats = if self.stats_were_on {
            None
        } else {
            Some(testrun::established(host, IFACE, director, frame, repeat)?.test_run_ns)
        };
        Ok((per_call, test_run, no_stats))
    }

    /// Drives the director and reads what its program did meanwhile. Fails unless every frame
    /// it forwarded went by `method` and the sink counted no more frames than that.
    fn phase(
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
        let by_dr = delta_of(&deltas, RvsStat::FwdDrTx) + delta_of(&deltas, RvsStat::FwdDrRedirect);
        let by_tun =
            delta_of(&deltas, RvsStat::FwdTunTx) + delta_of(&deltas, RvsStat::FwdTunRedirect);
        let (forwarded, stray) = match method {
            Method::Dr => (by_dr, by_tun),
            Method::Tun => (by_tun, by_dr),
        };
        check_forwarding(drive.name, method, forwarded, stray, path.received)?;
        let counted = [
            RvsStat::RxFrames,
            RvsStat::FwdDrTx,
            RvsStat::FwdDrRedirect,
            RvsStat::FwdTunTx,
            RvsStat::FwdTunRedirect,
            RvsStat::ConnCreated,
        ];
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
                .filter(|(s, _)| !counted.contains(s))
                .map(|&(s, n)| (s.name().to_string(), n))
                .collect(),
        });
        Ok(path)
    }
}

/// Whether a phase measured what it says: every frame the director forwarded went by `method`
/// (`stray` went by the other one), and the sink counted no frame the director did not send
/// that way (`received` at most `forwarded`; fewer when frames were lost after the director).
fn check_forwarding(
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

/// Checks that rvsadm lists the filled entries as the real server's inactive connections, with
/// forwarding method `listed` (`Route`, `Tunnel`): proof that they were counted as the data
/// plane counts its own.
fn check_listed(rvsd: &Rvsd, dest: &DestSlot, flows: u64, listed: &str) -> Result<()> {
    let listing = rvsd.rvsadm(&["-Ln"])?;
    let rip = format!(
        "{}:{}",
        std::net::Ipv4Addr::from(dest.dest.addr.to_ne_bytes()),
        u16::from_be(dest.dest.port)
    );
    let inactive = listing
        .lines()
        .find(|l| l.contains(&rip) && l.split_whitespace().any(|w| w == listed))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<u64>().ok());
    if inactive != Some(flows) {
        bail!(
            "after writing {flows} entries rvsadm lists {inactive:?} inactive {listed} connections:\n{listing}"
        );
    }
    Ok(())
}

/// How rvsd attached its program, from its log (`mode=generic`).
fn attach_mode(log: &str) -> String {
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
