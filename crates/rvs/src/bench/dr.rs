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
use std::time::Duration;

use anyhow::Result;
use rvs_dataplane::abi::RVS_FWD_DROUTE;

use super::DrArgs;
use super::driver::{self, Drive, Driver, Guard, Network, attach_mode, progress};
use super::frames::{FlowEnd, Template, Traffic};
use super::interrupt;
use super::nft;
use super::pinned::{DestSlot, PinnedPlane, TCP, UDP, UdpFlows};
use super::progstats::{self, RunStats};
use super::report::{
    CallCost, Method, PathResult, PerCall, ProgramCost, ROW_DIRECT, ROW_DR, ROW_DR_HOT, ROW_NFT,
    Report, TunSummary, ratio,
};
use super::rvsd::{Rvsd, RvsdOptions};
use super::testrun::{self, Runs};
use super::topology::{BenchNet, FLOW_SOURCES, IFACE, REAL, VIP};
use super::traffic::{BenchPrograms, Counted};

/// The UDP service's port (discard).
const UDP_PORT: u16 = 9;
/// The TCP service's port.
const TCP_PORT: u16 = 80;
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

/// Runs the benchmark and prints its report.
pub fn run(args: &DrArgs) -> Result<()> {
    args.check()?;
    driver::run(
        &args.run,
        HARD_TIMEOUT,
        || {
            progress(
                &args.run,
                &format!("building the topology (namespaces {}-*)", args.prefix),
            );
            BenchNet::build(&args.prefix, args.run.path_cpu)
        },
        |net, guard| Bench::new(net, args, guard).and_then(|mut bench| bench.measure()),
        Report::render,
    )
}

impl Network for BenchNet {
    fn lab(&self) -> &rvs_lab::Lab {
        &self.lab
    }
}

/// One run in progress.
struct Bench<'a> {
    net: &'a BenchNet,
    args: &'a DrArgs,
    driver: Driver<'a>,
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
    fn new(net: &'a BenchNet, args: &'a DrArgs, guard: Guard) -> Result<Self> {
        let mut programs = BenchPrograms::load()?;
        programs.attach_sink(&net.real, IFACE, Counted::To(VIP))?;
        Ok(Self {
            net,
            args,
            driver: Driver {
                args: &args.run,
                stop: guard.stop,
                programs,
            },
            stats: guard.stats,
            stats_were_on: guard.stats_were_on,
        })
    }

    /// The UDP template addressed to `dst_mac`.
    fn udp(&self, dst_mac: [u8; 6]) -> Template {
        Template {
            src_mac: self.net.client_mac,
            dst_mac,
            numbered: FlowEnd::Source,
            flow_base: FLOW_SOURCES,
            service: VIP,
            service_port: UDP_PORT,
        }
    }

    /// A drive of the client's UDP frames to `template` over `flows`, counted as `counted`.
    fn udp_drive(&self, name: &'a str, template: Template, counted: Counted) -> Drive<'a> {
        let net: &'a BenchNet = self.net;
        Drive {
            name,
            sender: &net.client,
            template,
            traffic: Traffic::Udp,
            flows: (0, self.args.flows),
            max_frames: u64::MAX,
            max_received: None,
            counted,
        }
    }

    fn measure(&mut self) -> Result<Report> {
        let (net, args) = (self.net, self.args);
        let direct = self.udp_drive(
            "direct: client -> real server",
            self.udp(net.real_mac),
            Counted::To(VIP),
        );
        let (direct, gen_run) = self.driver.drive(&direct)?;

        let ruleset = nft::dsr_ruleset(IFACE, VIP, UDP_PORT, net.director_mac, net.real_mac);
        nft::apply(&net.director, net.lab.log_dir(), nft::DSR_TABLE, &ruleset)?;
        let nft = self.udp_drive(
            "nftables netdev fwd (nftlb DSR)",
            self.udp(net.director_mac),
            Counted::To(VIP),
        );
        let (nft, _) = self.driver.drive(&nft)?;
        nft::remove(&net.director, nft::DSR_TABLE)?;

        interrupt::check(self.driver.stop)?;
        progress(&args.run, "starting rvsd");
        let rvsd = Rvsd::start(
            &net.director,
            RvsdOptions {
                interfaces: &[IFACE],
                instance: format!("{}-director", args.prefix),
                socket: PathBuf::from(format!("/run/rvs/{}.sock", args.prefix)),
                conn_max: args.conn_max,
                xdp_mode: &args.run.xdp_mode,
                cpu: args.run.gen_cpu,
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
            duration_s: args.run.duration,
            table_entries: args.flows,
            conn_max: args.conn_max,
            fill_s: rvs.fill.as_secs_f64(),
            xdp_mode: attach_mode(&log),
            cpus: (args.run.gen_cpu, args.run.path_cpu),
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
            plane.wait_next_hop(dest, NEXT_HOP_TIMEOUT, self.driver.stop)?;
        }
        progress(
            &args.run,
            &format!("filling the connection table with {} flows", args.flows),
        );
        let udp_flows = UdpFlows {
            saddr_base: FLOW_SOURCES,
            vip: VIP,
            vport: UDP_PORT,
        };
        let fill = plane.fill_udp(udp_flows, &udp_dest, args.flows, self.driver.stop)?;
        rvsd.check_listed(&udp_dest, args.flows, "Route")?;

        let director = progstats::find_program(PROG_DIRECTOR, plane.conns_id())?;
        let sweeper = progstats::find_program("rvs_expire", plane.conns_id())?;
        let sweep_before = progstats::read(sweeper)?;
        let sink = self.driver.programs.sink_id()?;
        let sink_before = progstats::read(sink)?;

        let to_director = self.udp(net.director_mac);
        let established =
            self.udp_drive("rvs (XDP director, DR)", to_director, Counted::To(VIP));
        let all = self
            .driver
            .phase(&plane, director, &established, Method::Dr)?;
        let sink = progstats::read(sink)?.since(&sink_before);
        let hot = Drive {
            name: "rvs, hot flows",
            flows: (0, HOT_FLOWS.min(args.flows)),
            ..established
        };
        let hot = self.driver.phase(&plane, director, &hot, Method::Dr)?;

        let tun = self.tun_established(rvsd, &mut plane, director, udp_flows, &udp_dest)?;

        let syn = Drive {
            name: "rvs, new flows (TCP SYN)",
            template: Template {
                service_port: TCP_PORT,
                ..to_director
            },
            traffic: Traffic::TcpSyn,
            flows: (NEW_FLOW_BASE, 0),
            max_frames: args.new_flows,
            ..established
        };
        let new = self.driver.phase(&plane, director, &syn, Method::Dr)?;
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
        interrupt::check(self.driver.stop)?;
        progress(&self.args.run, "running rvs_director once per call, TUN and DR");
        let host = &self.net.director;
        let calls = |runs: Runs| -> Result<CallCost> {
            let cost = testrun::established(host, IFACE, director, frame, runs)?;
            Ok(CallCost {
                test_run_ns: cost.test_run_ns,
                bpf_stats: cost.bpf_stats,
            })
        };
        let tun = calls(Runs::Calls(TEST_RUN_CALLS))?;
        plane.rebind_udp(flows, dest, RVS_FWD_DROUTE, 0..1, self.driver.stop)?;
        let dr = calls(Runs::Calls(TEST_RUN_CALLS))?;
        let per_call = PerCall {
            calls: TEST_RUN_CALLS,
            dr,
            tun,
        };

        interrupt::check(self.driver.stop)?;
        progress(&self.args.run, "running rvs_director in a test-run loop");
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
}
