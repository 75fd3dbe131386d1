//! What a benchmark run found, printed as a table or as JSON.

use std::fmt::Write as _;

use rvs_dataplane::abi::RvsStat;
use serde::Serialize;

use super::cpustat::CpuShare;

/// At most this many ns per established-flow packet (the goal).
pub const GOAL_ESTABLISHED_NS: f64 = 150.0;

/// A program's cost over one phase.
#[derive(Clone, Debug, Serialize)]
pub struct ProgramCost {
    /// Mean ns per run: `run_time_ns / run_cnt` from `bpf_stats`, or the test run's own clock.
    pub ns_per_packet: Option<f64>,
    /// Runs counted.
    pub runs: u64,
}

/// How the director forwarded a phase's frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Direct routing: the frame readdressed to the real server's MAC.
    Dr,
    /// IP-in-IP to the real server's address.
    Tun,
    /// NAT requests: rewritten to the real server, sent on by `bpf_fib_lookup` and a redirect.
    Nat,
    /// NAT replies: rewritten to come from the VIP, sent on by `bpf_fib_lookup` and a redirect.
    NatReply,
    /// NAT requests rewritten, then handed to the kernel to route (`XDP_PASS`).
    NatKernel,
}

impl Method {
    /// Every counter of a frame sent on, by whichever method.
    pub const FORWARDING: [RvsStat; 7] = [
        RvsStat::FwdDrTx,
        RvsStat::FwdDrRedirect,
        RvsStat::FwdTunTx,
        RvsStat::FwdTunRedirect,
        RvsStat::FwdNatIn,
        RvsStat::FwdNatOut,
        RvsStat::PassNatKernelRoute,
    ];

    /// As the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Method::Dr => "DR",
            Method::Tun => "TUN",
            Method::Nat => "NAT redirect",
            Method::NatReply => "NAT reply redirect",
            Method::NatKernel => "NAT kernel routing",
        }
    }

    /// The director's counters of a frame sent on by this method.
    pub fn counters(self) -> &'static [RvsStat] {
        match self {
            Method::Dr => &[RvsStat::FwdDrTx, RvsStat::FwdDrRedirect],
            Method::Tun => &[RvsStat::FwdTunTx, RvsStat::FwdTunRedirect],
            Method::Nat => &[RvsStat::FwdNatIn],
            Method::NatReply => &[RvsStat::FwdNatOut],
            Method::NatKernel => &[RvsStat::PassNatKernelRoute],
        }
    }
}

/// What the director did during a phase, from its own counters and `bpf_stats`.
#[derive(Clone, Debug, Serialize)]
pub struct DirectorView {
    /// `rvs_director`'s cost.
    pub cost: ProgramCost,
    /// The forwarding method every frame of the phase took (checked: no frame went by another).
    pub method: Method,
    /// Frames forwarded by `method` ([`Method::counters`]: `XDP_TX` or redirect, `fwd_dr_*`,
    /// `fwd_tun_*`, `fwd_nat_*`; or handed to the kernel's routing, `pass_nat_kernel_route`).
    pub forwarded: u64,
    /// Connection entries created.
    pub created: u64,
    /// Every other counter that moved, by name.
    pub other: Vec<(String, u64)>,
}

/// One path driven by the generator.
#[derive(Clone, Debug, Serialize)]
pub struct PathResult {
    /// What was measured.
    pub name: String,
    /// Flows the traffic cycled through (0: every frame a new flow).
    pub flows: u64,
    /// Frames the generator transmitted.
    pub sent: u64,
    /// Frames the sink counted at the real server.
    pub received: u64,
    /// Seconds the generator was sending (its send loops, by the kernel's clock).
    pub seconds: f64,
    /// Wall-clock seconds of the phase's traffic, the calls' set-up and tear-down included.
    pub wall_seconds: f64,
    /// `sent / seconds`.
    pub offered_pps: f64,
    /// `received / seconds`: the path's rate.
    pub pps: f64,
    /// How the path's CPU spent the phase.
    pub path_cpu: CpuShare,
    /// `received` per second of kernel time on the path's CPU: the path's rate had it had the
    /// CPU to itself, whatever else the machine ran.
    pub pps_per_cpu: f64,
    /// The director program's view, for the rvs paths.
    pub director: Option<DirectorView>,
}

/// Position of each path in [`Report::paths`] (the order of the report, not the order driven:
/// the TUN established phases run before the DR new-flow phase, see `dr.rs`).
pub const ROW_DIRECT: usize = 0;
/// nftables netdev `fwd`.
pub const ROW_NFT: usize = 1;
/// rvs DR, traffic over every established flow.
pub const ROW_DR: usize = 2;
/// rvs DR, hot flows.
pub const ROW_DR_HOT: usize = 3;
/// rvs DR, new flows.
pub const ROW_DR_NEW: usize = 4;
/// rvs TUN (ipip), traffic over every established flow.
pub const ROW_TUN: usize = 5;
/// rvs TUN, hot flows.
pub const ROW_TUN_HOT: usize = 6;
/// rvs TUN, new flows.
pub const ROW_TUN_NEW: usize = 7;

/// `rate(paths[a]) / rate(paths[b])`, 0 when either is missing or the divisor is 0.
pub fn ratio(paths: &[PathResult], a: usize, b: usize, rate: fn(&PathResult) -> f64) -> f64 {
    match (paths.get(a), paths.get(b)) {
        (Some(a), Some(b)) if rate(b) > 0.0 => rate(a) / rate(b),
        _ => 0.0,
    }
}

/// `rvs_director`'s ns per packet on `paths[a]` over that on `paths[b]`.
fn ns_ratio(paths: &[PathResult], a: usize, b: usize) -> Option<f64> {
    let ns = |i: usize| paths.get(i)?.director.as_ref()?.cost.ns_per_packet;
    match (ns(a), ns(b)) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A program run by `BPF_PROG_TEST_RUN`, one run per call on a fresh copy of the frame.
#[derive(Clone, Debug, Serialize)]
pub struct CallCost {
    /// Mean ns per run by the test run's clock (one clock read per run included).
    pub test_run_ns: f64,
    /// `bpf_stats` over the calls.
    pub bpf_stats: ProgramCost,
}

/// One established flow's frame through `rvs_director`, one run per call, in DR and in TUN: the
/// cost of encapsulating with hot caches, where a repeated run cannot measure TUN.
#[derive(Clone, Debug, Serialize)]
pub struct PerCall {
    /// Calls of each.
    pub calls: u32,
    /// The flow bound to DR.
    pub dr: CallCost,
    /// The same flow bound to TUN (ipip).
    pub tun: CallCost,
}

/// TUN (IP-in-IP) against DR and nftables.
#[derive(Clone, Debug, Serialize)]
pub struct TunSummary {
    /// Delivered pps, TUN over DR, traffic over every established flow.
    pub over_dr: f64,
    /// Delivered pps, TUN over nftables.
    pub over_nft: f64,
    /// The same two ratios of `pps_per_cpu`: over DR, over nftables.
    pub per_cpu_ratios: (f64, f64),
    /// Delivered pps, TUN over DR, both on the 1024 hot flows.
    pub hot_over_dr: f64,
    /// Delivered pps, TUN on the hot flows over nftables.
    pub hot_over_nft: f64,
    /// `rvs_director`'s ns per packet, TUN over DR: traffic over every established flow.
    pub ns_over_dr: Option<f64>,
    /// The same on the hot flows.
    pub hot_ns_over_dr: Option<f64>,
    /// The same on new flows (TCP SYN).
    pub new_ns_over_dr: Option<f64>,
    /// Seconds it took to rebind the table's established entries to TUN.
    pub rebind_s: f64,
    /// The sink on tunnelled frames (it reads the inner header too), TUN phase over every flow.
    pub sink: ProgramCost,
    /// One flow, one run per call, DR and TUN.
    pub per_call: PerCall,
}

impl TunSummary {
    /// The ratios of `paths` (in `ROW_*` order).
    pub fn of(paths: &[PathResult], rebind_s: f64, sink: ProgramCost, per_call: PerCall) -> Self {
        let pps: fn(&PathResult) -> f64 = |p| p.pps;
        let per_cpu: fn(&PathResult) -> f64 = |p| p.pps_per_cpu;
        TunSummary {
            over_dr: ratio(paths, ROW_TUN, ROW_DR, pps),
            over_nft: ratio(paths, ROW_TUN, ROW_NFT, pps),
            per_cpu_ratios: (
                ratio(paths, ROW_TUN, ROW_DR, per_cpu),
                ratio(paths, ROW_TUN, ROW_NFT, per_cpu),
            ),
            hot_over_dr: ratio(paths, ROW_TUN_HOT, ROW_DR_HOT, pps),
            hot_over_nft: ratio(paths, ROW_TUN_HOT, ROW_NFT, pps),
            ns_over_dr: ns_ratio(paths, ROW_TUN, ROW_DR),
            hot_ns_over_dr: ns_ratio(paths, ROW_TUN_HOT, ROW_DR_HOT),
            new_ns_over_dr: ns_ratio(paths, ROW_TUN_NEW, ROW_DR_NEW),
            rebind_s,
            sink,
            per_call,
        }
    }
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Seconds each path was driven.
    pub duration_s: f64,
    /// Entries put in the connection table before the rvs phases.
    pub table_entries: u64,
    /// Connection table capacity.
    pub conn_max: u32,
    /// Seconds the filling took.
    pub fill_s: f64,
    /// How rvsd attached its program (from its log).
    pub xdp_mode: String,
    /// The generator's CPU and the path's.
    pub cpus: (usize, usize),
    /// Every path in `ROW_*` order: direct, nftables, rvs DR (all flows, hot flows, new flows),
    /// rvs TUN (all flows, hot flows, new flows).
    pub paths: Vec<PathResult>,
    /// rvs (all flows) pps over direct pps.
    pub rvs_over_direct: f64,
    /// rvs (all flows) pps over nftables pps.
    pub rvs_over_nft: f64,
    /// rvs (hot flows: a working set of 1024 among the table's entries) pps over nftables pps.
    pub rvs_hot_over_nft: f64,
    /// The same ratios of `pps_per_cpu`: rvs over direct, rvs over nftables.
    pub per_cpu_ratios: (f64, f64),
    /// TUN (IP-in-IP) against DR and nftables.
    pub tun: TunSummary,
    /// `rvs_director` run in a loop by `BPF_PROG_TEST_RUN` on one established flow's frame
    /// (hot caches): `bpf_stats` over the loop.
    pub test_run_stats: ProgramCost,
    /// The same loop by the test run's own clock (statistics on).
    pub test_run_ns: f64,
    /// The same loop with statistics off, by the test run's clock (`None` if they were on
    /// before the run and could not be turned off).
    pub test_run_no_stats_ns: Option<f64>,
    /// The sink (parse, compare, count, drop) during the established-flow phase: what a
    /// trivial XDP program costs by the same clock on the same CPU.
    pub sink: ProgramCost,
    /// `rvs_expire`: ms per run (one run re-checks up to 256 candidate entries), if any ran
    /// during the rvs phases.
    pub sweep_ms: Option<f64>,
    /// The generator's time per frame, ns.
    pub generator_ns_per_frame: f64,
    /// Highest rate the generator offered in any phase.
    pub generator_max_pps: f64,
    /// Whether `bpf_stats` were on before the run (then they were on for every phase).
    pub stats_were_on: bool,
}

/// Millions of frames per second.
pub fn mpps(pps: f64) -> String {
    format!("{:.3} M", pps / 1e6)
}

/// A program's ns per packet.
pub fn ns(cost: &ProgramCost) -> String {
    cost.ns_per_packet
        .map_or_else(|| "n/a".into(), |n| format!("{n:.1} ns"))
}

/// A goal's verdict.
pub fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// Width of the path column: the longest name, at least 33.
fn name_width(paths: &[PathResult]) -> usize {
    paths.iter().map(|p| p.name.len()).fold(33, usize::max)
}

/// The table of every path's rates, with the director program's cost where it ran.
pub fn render_paths(s: &mut String, paths: &[PathResult]) {
    let w = name_width(paths);
    let _ = writeln!(
        s,
        "rates in million frames per second; path CPU: the path's share of its CPU (kernel time); \
         per CPU-s: frames delivered per second of that time"
    );
    let _ = writeln!(
        s,
        "{:<w$} {:>8} {:>9} {:>10} {:>9} {:>10} {:>10}",
        "path", "flows", "offered", "delivered", "path CPU", "per CPU-s", "ns/packet"
    );
    for p in paths {
        let flows = if p.flows == 0 {
            "new".to_string()
        } else {
            p.flows.to_string()
        };
        let cost = p
            .director
            .as_ref()
            .map_or_else(|| "-".into(), |d| ns(&d.cost));
        let _ = writeln!(
            s,
            "{:<w$} {:>8} {:>9} {:>10} {:>8.0}% {:>10} {:>10}",
            p.name,
            flows,
            mpps(p.offered_pps),
            mpps(p.pps),
            100.0 * p.path_cpu.kernel,
            mpps(p.pps_per_cpu),
            cost
        );
    }
}

/// One line per path the director program ran on: its cost, and its own counters next to the
/// sink's.
pub fn render_director_costs(s: &mut String, paths: &[PathResult]) {
    let w = name_width(paths) + 1;
    for p in paths {
        if let Some(d) = &p.director {
            let _ = writeln!(
                s,
                "  {:<w$} {:>9}  over {} runs; {} forwarded by {}, {} received, {} entries created",
                p.name,
                ns(&d.cost),
                d.cost.runs,
                d.forwarded,
                d.method.label(),
                p.received,
                d.created
            );
        }
    }
}

/// The lines every report ends with: the generator's cost and ceiling, the director's other
/// counters that moved, and a warning if `bpf_stats` was on before the run.
pub fn render_footer(
    s: &mut String,
    generator_ns_per_frame: f64,
    generator_max_pps: f64,
    paths: &[PathResult],
    stats_were_on: bool,
) {
    let _ = writeln!(
        s,
        "generator: {generator_ns_per_frame:.1} ns per frame, up to {} offered",
        mpps(generator_max_pps)
    );
    render_other_counters(s, paths);
    if stats_were_on {
        let _ = writeln!(s, "note: kernel.bpf_stats_enabled was already 1");
    }
}

/// The director's other counters that moved, one line per path.
pub fn render_other_counters(s: &mut String, paths: &[PathResult]) {
    for p in paths {
        if let Some(d) = p.director.as_ref().filter(|d| !d.other.is_empty()) {
            let other: Vec<String> = d.other.iter().map(|(n, c)| format!("{n} {c}")).collect();
            let _ = writeln!(s, "director counters ({}): {}", p.name, other.join(", "));
        }
    }
}

impl Report {
    /// The path the goals are judged on: rvs with traffic over every flow in the table.
    pub fn rvs(&self) -> Option<&PathResult> {
        self.paths.get(ROW_DR)
    }

    /// Whether rvs forwarded at least as many packets per second as nftables.
    pub fn throughput_goal_met(&self) -> bool {
        self.rvs_over_nft >= 1.0
    }

    /// `rvs_director`'s ns per packet on established flows, traffic over the whole table.
    pub fn established_ns(&self) -> Option<f64> {
        self.rvs()?.director.as_ref()?.cost.ns_per_packet
    }

    /// Whether an established-flow packet cost at most [`GOAL_ESTABLISHED_NS`].
    pub fn latency_goal_met(&self) -> bool {
        self.established_ns()
            .is_some_and(|n| n <= GOAL_ESTABLISHED_NS)
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "rvs bench dr: 60-byte frames, {:.1} s per path; generator on CPU {}, network path on CPU {}; rvsd XDP {}",
            self.duration_s, self.cpus.0, self.cpus.1, self.xdp_mode
        );
        let _ = writeln!(
            s,
            "connection table: {} entries filled in {:.2} s (capacity {})",
            self.table_entries, self.fill_s, self.conn_max
        );
        let _ = writeln!(s);
        render_paths(&mut s, &self.paths);
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "rvs / direct  {:.3}   (per CPU-second: {:.3})",
            self.rvs_over_direct, self.per_cpu_ratios.0
        );
        let _ = writeln!(
            s,
            "rvs / nft     {:.3}   (per CPU-second: {:.3})   goal >= 1: {}",
            self.rvs_over_nft,
            self.per_cpu_ratios.1,
            met(self.throughput_goal_met())
        );
        let _ = writeln!(
            s,
            "rvs / nft     {:.3}   with traffic on 1024 hot flows of the table",
            self.rvs_hot_over_nft
        );
        let t = &self.tun;
        let _ = writeln!(
            s,
            "TUN / DR      {:.3}   (per CPU-second: {:.3})   hot flows: {:.3}   (rvs TUN ipip over rvs DR)",
            t.over_dr, t.per_cpu_ratios.0, t.hot_over_dr
        );
        let _ = writeln!(
            s,
            "TUN / nft     {:.3}   (per CPU-second: {:.3})   hot flows: {:.3}",
            t.over_nft, t.per_cpu_ratios.1, t.hot_over_nft
        );
        let ratio = |r: Option<f64>| r.map_or_else(|| "n/a".into(), |r| format!("{r:.3}"));
        let _ = writeln!(
            s,
            "TUN / DR ns per packet (rvs_director): {} all flows, {} hot flows, {} new flows",
            ratio(t.ns_over_dr),
            ratio(t.hot_ns_over_dr),
            ratio(t.new_ns_over_dr)
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "rvs_director ns per packet (bpf_stats run_time_ns / run_cnt, live traffic):"
        );
        render_director_costs(&mut s, &self.paths);
        let _ = writeln!(
            s,
            "  established, all {} flows: goal <= {GOAL_ESTABLISHED_NS} ns {}",
            self.table_entries,
            met(self.latency_goal_met())
        );
        let _ = writeln!(
            s,
            "  same program, one established flow in a BPF_PROG_TEST_RUN loop (hot caches): {} ({} by bpf_stats; {} with bpf_stats off)",
            ns(&ProgramCost {
                ns_per_packet: Some(self.test_run_ns),
                runs: 0
            }),
            ns(&self.test_run_stats),
            self.test_run_no_stats_ns
                .map_or_else(|| "n/a".into(), |n| format!("{n:.1} ns"))
        );
        let _ = writeln!(
            s,
            "  for scale, a trivial XDP program (the sink) on the same path: {} ({} on tunnelled frames)",
            ns(&self.sink),
            ns(&self.tun.sink)
        );
        let call = &self.tun.per_call;
        let _ = writeln!(
            s,
            "  one established flow, one run per call on a fresh copy of the frame ({} calls): DR {}, TUN {} ({} and {} by bpf_stats)",
            call.calls,
            ns(&ProgramCost {
                ns_per_packet: Some(call.dr.test_run_ns),
                runs: 0
            }),
            ns(&ProgramCost {
                ns_per_packet: Some(call.tun.test_run_ns),
                runs: 0
            }),
            ns(&call.dr.bpf_stats),
            ns(&call.tun.bpf_stats)
        );
        let _ = writeln!(
            s,
            "  TUN phases: the same entries rebound to TUN (ipip) in {:.2} s after rvsadm -e ... -i",
            self.tun.rebind_s
        );
        if let Some(ms) = self.sweep_ms {
            let _ = writeln!(
                s,
                "rvs_expire: {ms:.3} ms per run (re-checks up to 256 candidates; rvsd reads the table in slices of 131072 entries a second)"
            );
        }
        render_footer(
            &mut s,
            self.generator_ns_per_frame,
            self.generator_max_pps,
            &self.paths,
            self.stats_were_on,
        );
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn path(name: &str, pps: f64, director: Option<(f64, Method)>) -> PathResult {
        PathResult {
            name: name.into(),
            flows: 1000,
            sent: 100,
            received: 50,
            seconds: 1.0,
            wall_seconds: 1.1,
            offered_pps: 2.0 * pps,
            pps,
            path_cpu: CpuShare {
                kernel: 0.9,
                user: 0.05,
                idle: 0.05,
                steal: 0.0,
                kernel_seconds: 0.9,
            },
            pps_per_cpu: pps / 0.9,
            director: director.map(|(n, method)| DirectorView {
                cost: ProgramCost {
                    ns_per_packet: Some(n),
                    runs: 1000,
                },
                method,
                forwarded: 990,
                created: 0,
                other: vec![("drop_no_neigh".into(), 3)],
            }),
        }
    }

    fn paths(established_ns: f64, rvs_over_nft: f64) -> Vec<PathResult> {
        let (dr, tun) = (Method::Dr, Method::Tun);
        vec![
            path("direct", 2e6, None),
            path("nft", 1e6, None),
            path("rvs", 1e6 * rvs_over_nft, Some((established_ns, dr))),
            path("rvs hot", 1.25e6, Some((100.0, dr))),
            path("rvs new", 0.8e6, Some((500.0, dr))),
            path(
                "tun",
                0.9e6 * rvs_over_nft,
                Some((1.1 * established_ns, tun)),
            ),
            path("tun hot", 1e6, Some((120.0, tun))),
            path("tun new", 0.7e6, Some((550.0, tun))),
        ]
    }

    fn per_call() -> PerCall {
        let cost = |clock: f64, stats: f64| CallCost {
            test_run_ns: clock,
            bpf_stats: ProgramCost {
                ns_per_packet: Some(stats),
                runs: 5000,
            },
        };
        PerCall {
            calls: 5000,
            dr: cost(120.0, 100.0),
            tun: cost(140.0, 118.5),
        }
    }

    fn report(established_ns: f64, rvs_over_nft: f64) -> Report {
        let paths = paths(established_ns, rvs_over_nft);
        let sink = |n| ProgramCost {
            ns_per_packet: Some(n),
            runs: 1000,
        };
        Report {
            duration_s: 3.0,
            table_entries: 1_000_000,
            conn_max: 4_194_304,
            fill_s: 0.8,
            xdp_mode: "generic".into(),
            cpus: (0, 1),
            tun: TunSummary::of(&paths, 1.5, sink(42.0), per_call()),
            paths,
            rvs_over_direct: rvs_over_nft / 2.0,
            rvs_over_nft,
            rvs_hot_over_nft: 1.05,
            test_run_stats: ProgramCost {
                ns_per_packet: Some(82.0),
                runs: 1_000_000,
            },
            test_run_ns: 80.0,
            test_run_no_stats_ns: Some(60.0),
            sink: sink(40.0),
            sweep_ms: Some(40.0),
            generator_ns_per_frame: 150.0,
            generator_max_pps: 4e6,
            stats_were_on: false,
            per_cpu_ratios: (0.6, 1.1),
        }
    }

    #[test]
    fn goals_are_judged_on_the_figures() {
        assert!(report(149.9, 1.0).latency_goal_met());
        assert!(!report(150.1, 1.0).latency_goal_met());
        assert!(report(100.0, 1.0).throughput_goal_met());
        assert!(!report(100.0, 0.99).throughput_goal_met());
    }

    #[test]
    fn tun_is_compared_row_by_row_with_dr_and_nftables() {
        let t = report(200.0, 1.2).tun;
        assert!((t.over_dr - 0.9).abs() < 1e-9, "{t:?}");
        assert!((t.over_nft - 1.08).abs() < 1e-9, "{t:?}");
        assert!((t.per_cpu_ratios.0 - 0.9).abs() < 1e-9, "{t:?}");
        assert!((t.hot_over_dr - 0.8).abs() < 1e-9, "{t:?}");
        assert!((t.hot_over_nft - 1.0).abs() < 1e-9, "{t:?}");
        assert!((t.ns_over_dr.unwrap() - 1.1).abs() < 1e-9, "{t:?}");
        assert!((t.hot_ns_over_dr.unwrap() - 1.2).abs() < 1e-9, "{t:?}");
        assert!((t.new_ns_over_dr.unwrap() - 1.1).abs() < 1e-9, "{t:?}");
        // Missing rows or costs give no ratio rather than a wrong one.
        let none = ProgramCost {
            ns_per_packet: None,
            runs: 0,
        };
        let short = TunSummary::of(&paths(200.0, 1.2)[..5], 0.0, none, per_call());
        assert_eq!((short.over_dr, short.ns_over_dr), (0.0, None));
    }

    #[test]
    fn the_table_shows_rates_ratios_and_costs() {
        let text = report(85.25, 1.2).render();
        assert!(
            text.contains("rvs / nft     1.200   (per CPU-second: 1.100)   goal >= 1: met"),
            "{text}"
        );
        assert!(
            text.contains(
                "85.2 ns  over 1000 runs; 990 forwarded by DR, 50 received, 0 entries created"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "93.8 ns  over 1000 runs; 990 forwarded by TUN, 50 received, 0 entries created"
            ),
            "{text}"
        );
        assert!(
            text.contains("TUN / DR      0.900   (per CPU-second: 0.900)   hot flows: 0.800"),
            "{text}"
        );
        assert!(
            text.contains("TUN / nft     1.080   (per CPU-second: 1.080)   hot flows: 1.000"),
            "{text}"
        );
        assert!(
            text.contains("TUN / DR ns per packet (rvs_director): 1.100 all flows, 1.200 hot flows, 1.100 new flows"),
            "{text}"
        );
        assert!(
            text.contains(
                "(hot caches): 80.0 ns (82.0 ns by bpf_stats; 60.0 ns with bpf_stats off)"
            ),
            "{text}"
        );
        assert!(
            text.contains("40.0 ns (42.0 ns on tunnelled frames)"),
            "{text}"
        );
        assert!(
            text.contains(
                "(5000 calls): DR 120.0 ns, TUN 140.0 ns (100.0 ns and 118.5 ns by bpf_stats)"
            ),
            "{text}"
        );
        assert!(text.contains("drop_no_neigh 3"), "{text}");
        let direct = text.lines().find(|l| l.starts_with("direct")).unwrap();
        let columns: Vec<&str> = direct.split_whitespace().collect();
        assert_eq!(
            columns,
            [
                "direct", "1000", "4.000", "M", "2.000", "M", "90%", "2.222", "M", "-"
            ]
        );
        let json = serde_json::to_value(report(85.0, 1.2)).unwrap();
        assert_eq!(json["rvs_over_nft"], 1.2);
        assert_eq!(json["paths"][2]["director"]["cost"]["ns_per_packet"], 85.0);
        assert_eq!(json["paths"][5]["director"]["method"], "tun");
        assert!((json["tun"]["over_dr"].as_f64().unwrap() - 0.9).abs() < 1e-9);
    }
}
