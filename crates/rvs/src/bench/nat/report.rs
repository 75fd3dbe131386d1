//! What `rvs bench nat` found, printed as a table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::bench::report::{
    PathResult, ProgramCost, met, ns, ratio, render_director_costs, render_footer, render_paths,
};

/// rvs must forward at least this many times the packets nftables DNAT does.
pub const GOAL_OVER_NFT: f64 = 1.2;

/// Position of each path in [`NatReport::paths`] (the order of the report).
pub mod row {
    /// The director's kernel forwarding the same frames sent straight to the real server: no
    /// NAT, no conntrack (the test bed's own cost, for scale).
    pub const FORWARD: usize = 0;
    /// nftables DNAT, traffic over every established flow.
    pub const NFT: usize = 1;
    /// nftables DNAT, hot flows.
    pub const NFT_HOT: usize = 2;
    /// nftables DNAT, the real server's replies.
    pub const NFT_REPLY: usize = 3;
    /// nftables DNAT, new flows.
    pub const NFT_NEW: usize = 4;
    /// rvs NAT, traffic over every established flow.
    pub const RVS: usize = 5;
    /// rvs NAT, hot flows.
    pub const RVS_HOT: usize = 6;
    /// rvs NAT, the real server's replies.
    pub const RVS_REPLY: usize = 7;
    /// rvs NAT, new flows.
    pub const RVS_NEW: usize = 8;
    /// rvs rewriting, the kernel forwarding, every established flow.
    pub const RVS_KERNEL: usize = 9;
    /// The pairs compared: (rvs row, nftables row, what the traffic was).
    pub const COMPARED: [(usize, usize, &str); 4] = [
        (RVS, NFT, "established"),
        (RVS_HOT, NFT_HOT, "hot flows"),
        (RVS_REPLY, NFT_REPLY, "replies"),
        (RVS_NEW, NFT_NEW, "new flows"),
    ];
}

/// A warm-up: the established flows sent once each, slowly enough for the path to carry every
/// frame, until each had its entry.
#[derive(Clone, Debug, Serialize)]
pub struct WarmUp {
    /// Which path was warmed.
    pub path: String,
    /// Passes over the flows it took.
    pub passes: u32,
    /// Frames sent in all.
    pub sent: u64,
    /// Frames that reached the real server.
    pub received: u64,
    /// Seconds the generator was at it.
    pub seconds: f64,
    /// Entries made: conntrack entries or rvs connections.
    pub entries: u64,
}

/// rvs against nftables on one kind of traffic.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The traffic: `established`, `hot flows`, `replies`, `new flows`.
    pub traffic: String,
    /// Delivered pps, rvs over nftables.
    pub pps: f64,
    /// The same with each path's rate per second of its CPU's kernel time.
    pub per_cpu: f64,
    /// Whether `pps` reaches [`GOAL_OVER_NFT`].
    pub goal_met: bool,
}

/// Conntrack entries a phase created (`nf_conntrack_count` in the director's namespace).
#[derive(Clone, Debug, Serialize)]
pub struct Conntrack {
    /// The phase.
    pub path: String,
    /// Entries created during it.
    pub created: u64,
    /// Entries in the table after it.
    pub entries: u64,
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct NatReport {
    /// Seconds each path was driven.
    pub duration_s: f64,
    /// Established flows (each with its conntrack entry and rvs connection).
    pub flows: u64,
    /// Most SYNs of each new-flow phase.
    pub new_flows: u64,
    /// rvsd's connection table capacity.
    pub conn_max: u32,
    /// `nf_conntrack_max` in the director's namespace.
    pub conntrack_max: u64,
    /// `nf_conntrack_buckets`.
    pub conntrack_buckets: u64,
    /// `nf_conntrack_udp_timeout` set in the director's namespace, seconds.
    pub conntrack_udp_timeout_s: u32,
    /// How rvsd attached its program (from its log).
    pub xdp_mode: String,
    /// The generator's CPU and the path's.
    pub cpus: (usize, usize),
    /// nftables', then rvs's warm-up.
    pub warm_up: Vec<WarmUp>,
    /// Every path, in [`row`] order.
    pub paths: Vec<PathResult>,
    /// rvs over nftables, in [`row::COMPARED`] order.
    pub comparisons: Vec<Comparison>,
    /// Delivered pps of rvs forwarding by redirect over rvs handing the rewritten packets to the
    /// kernel, every established flow.
    pub redirect_over_kernel: f64,
    /// Delivered pps of rvs handing rewritten packets to the kernel over nftables DNAT.
    pub kernel_over_nft: f64,
    /// Delivered pps over the kernel's plain forwarding (no NAT): nftables DNAT, rvs NAT.
    pub over_forwarding: (f64, f64),
    /// Conntrack entries created, by phase (none in an established one, nor in rvs's).
    pub conntrack: Vec<Conntrack>,
    /// The sink during rvs's established phase: a trivial XDP program on the same path.
    pub sink: ProgramCost,
    /// The generator's time per frame, ns.
    pub generator_ns_per_frame: f64,
    /// Highest rate the generator offered in any phase.
    pub generator_max_pps: f64,
    /// Whether `bpf_stats` were on before the run.
    pub stats_were_on: bool,
}

/// The comparisons of `paths` (in [`row`] order).
pub fn compare(paths: &[PathResult]) -> Vec<Comparison> {
    row::COMPARED
        .iter()
        .map(|&(rvs, nft, traffic)| {
            let pps = ratio(paths, rvs, nft, |p| p.pps);
            Comparison {
                traffic: traffic.to_string(),
                pps,
                per_cpu: ratio(paths, rvs, nft, |p| p.pps_per_cpu),
                goal_met: pps >= GOAL_OVER_NFT,
            }
        })
        .collect()
}

impl NatReport {
    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "rvs bench nat: 60-byte frames, {:.1} s per path; generator on CPU {}, network path on CPU {}; rvsd XDP {}",
            self.duration_s, self.cpus.0, self.cpus.1, self.xdp_mode
        );
        let _ = writeln!(
            s,
            "{} established flows, up to {} new ones a phase; nf_conntrack_max {} ({} buckets, UDP timeout {} s); rvsd --conn-max {}",
            self.flows,
            self.new_flows,
            self.conntrack_max,
            self.conntrack_buckets,
            self.conntrack_udp_timeout_s,
            self.conn_max
        );
        for w in &self.warm_up {
            let _ = writeln!(
                s,
                "warm-up, {}: {} entries after {} pass{} ({} frames sent, {} received, {:.2} s)",
                w.path,
                w.entries,
                w.passes,
                if w.passes == 1 { "" } else { "es" },
                w.sent,
                w.received,
                w.seconds
            );
        }
        let _ = writeln!(s);
        render_paths(&mut s, &self.paths);
        let _ = writeln!(s);
        for c in &self.comparisons {
            let _ = writeln!(
                s,
                "rvs / nft DNAT  {:<12} {:.3}   (per CPU-second: {:.3})   goal >= {GOAL_OVER_NFT}: {}",
                c.traffic,
                c.pps,
                c.per_cpu,
                met(c.goal_met)
            );
        }
        let _ = writeln!(
            s,
            "rvs redirect / rvs kernel routing  {:.3}   (bpf_fib_lookup + redirect against XDP_PASS to the kernel's forwarding)",
            self.redirect_over_kernel
        );
        let _ = writeln!(
            s,
            "rvs kernel routing / nft DNAT      {:.3}   (the same kernel forwarding, without conntrack)",
            self.kernel_over_nft
        );
        let _ = writeln!(
            s,
            "over plain kernel forwarding (no NAT): nft DNAT {:.3}, rvs NAT {:.3}",
            self.over_forwarding.0, self.over_forwarding.1
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "conntrack entries created (nf_conntrack_count in the director's namespace):"
        );
        let width = self.conntrack.iter().map(|c| c.path.len()).fold(34, usize::max);
        for c in &self.conntrack {
            let _ = writeln!(
                s,
                "  {:<width$} {:>8}   ({} in the table)",
                c.path, c.created, c.entries
            );
        }
        let _ = writeln!(
            s,
            "rvs_director ns per packet (bpf_stats run_time_ns / run_cnt, live traffic):"
        );
        render_director_costs(&mut s, &self.paths);
        let _ = writeln!(
            s,
            "  for scale, a trivial XDP program (the sink) on the same path: {}",
            ns(&self.sink)
        );
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
    use crate::bench::cpustat::CpuShare;
    use crate::bench::report::{DirectorView, Method};

    fn path(name: &str, flows: u64, pps: f64, director: Option<(f64, Method)>) -> PathResult {
        PathResult {
            name: name.into(),
            flows,
            sent: 1000,
            received: 500,
            seconds: 1.0,
            wall_seconds: 1.1,
            offered_pps: 4e6,
            pps,
            path_cpu: CpuShare {
                kernel: 0.8,
                user: 0.0,
                idle: 0.2,
                steal: 0.0,
                kernel_seconds: 0.8,
            },
            pps_per_cpu: pps / 0.8,
            director: director.map(|(n, method)| DirectorView {
                cost: ProgramCost {
                    ns_per_packet: Some(n),
                    runs: 600,
                },
                method,
                forwarded: 550,
                created: 0,
                other: vec![],
            }),
        }
    }

    fn report(rvs_pps: f64) -> NatReport {
        let (nat, reply, kernel) = (Method::Nat, Method::NatReply, Method::NatKernel);
        let paths = vec![
            path("kernel forwarding, no NAT", 100_000, 0.5e6, None),
            path("nftables DNAT + conntrack", 100_000, 0.3e6, None),
            path("nft DNAT, hot flows", 1024, 0.35e6, None),
            path("nft DNAT, replies", 100_000, 0.3e6, None),
            path("nft DNAT, new flows", 0, 0.2e6, None),
            path("rvs NAT", 100_000, rvs_pps, Some((300.0, nat))),
            path("rvs NAT, hot flows", 1024, 0.42e6, Some((150.0, nat))),
            path("rvs NAT, replies", 100_000, 0.36e6, Some((350.0, reply))),
            path("rvs NAT, new flows", 0, 0.2e6, Some((600.0, nat))),
            path("rvs NAT, kernel routing", 100_000, 0.25e6, Some((250.0, kernel))),
        ];
        NatReport {
            duration_s: 3.0,
            flows: 100_000,
            new_flows: 150_000,
            conn_max: 1 << 20,
            conntrack_max: 262_144,
            conntrack_buckets: 262_144,
            conntrack_udp_timeout_s: 300,
            xdp_mode: "generic".into(),
            cpus: (0, 1),
            warm_up: vec![WarmUp {
                path: "nftables DNAT".into(),
                passes: 1,
                sent: 100_000,
                received: 100_000,
                seconds: 1.0,
                entries: 100_000,
            }],
            comparisons: compare(&paths),
            redirect_over_kernel: ratio(&paths, row::RVS, row::RVS_KERNEL, |p| p.pps),
            kernel_over_nft: ratio(&paths, row::RVS_KERNEL, row::NFT, |p| p.pps),
            over_forwarding: (0.6, 0.9),
            paths,
            conntrack: vec![Conntrack {
                path: "nft DNAT, new flows".into(),
                created: 150_000,
                entries: 250_000,
            }],
            sink: ProgramCost {
                ns_per_packet: Some(45.0),
                runs: 10,
            },
            generator_ns_per_frame: 200.0,
            generator_max_pps: 5e6,
            stats_were_on: false,
        }
    }

    #[test]
    fn rvs_is_compared_with_nftables_on_each_kind_of_traffic() {
        let r = report(0.45e6);
        let c: Vec<(&str, f64, bool)> = r
            .comparisons
            .iter()
            .map(|c| (c.traffic.as_str(), (c.pps * 1000.0).round() / 1000.0, c.goal_met))
            .collect();
        assert_eq!(
            c,
            [
                ("established", 1.5, true),
                ("hot flows", 1.2, true),
                ("replies", 1.2, true),
                ("new flows", 1.0, false)
            ]
        );
        assert!(!report(0.35e6).comparisons[0].goal_met, "1.167 is below 1.2");
        assert!((r.redirect_over_kernel - 1.8).abs() < 1e-9);
        assert!((r.kernel_over_nft - 0.25 / 0.3).abs() < 1e-9);
    }

    #[test]
    fn the_report_shows_rates_ratios_goals_and_costs() {
        let text = report(0.45e6).render();
        for line in [
            "rvs / nft DNAT  established  1.500   (per CPU-second: 1.500)   goal >= 1.2: met",
            "rvs / nft DNAT  new flows    1.000   (per CPU-second: 1.000)   goal >= 1.2: NOT met",
            "rvs redirect / rvs kernel routing  1.800",
            "over plain kernel forwarding (no NAT): nft DNAT 0.600, rvs NAT 0.900",
            "warm-up, nftables DNAT: 100000 entries after 1 pass (100000 frames sent, 100000 received, 1.00 s)",
            "100000 established flows, up to 150000 new ones a phase; nf_conntrack_max 262144 (262144 buckets, UDP timeout 300 s); rvsd --conn-max 1048576",
            "  nft DNAT, new flows                  150000   (250000 in the table)",
            "300.0 ns  over 600 runs; 550 forwarded by NAT redirect, 500 received, 0 entries created",
            "350.0 ns  over 600 runs; 550 forwarded by NAT reply redirect, 500 received",
            "550 forwarded by NAT kernel routing",
            "the sink) on the same path: 45.0 ns",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        let row = text.lines().find(|l| l.starts_with("rvs NAT, hot")).unwrap();
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            columns[4..],
            ["1024", "4.000", "M", "0.420", "M", "80%", "0.525", "M", "150.0", "ns"]
        );
        let json = serde_json::to_value(report(0.45e6)).unwrap();
        assert_eq!(json["comparisons"][0]["goal_met"], true);
        assert_eq!(json["paths"][7]["director"]["method"], "nat_reply");
        assert_eq!(json["paths"][9]["director"]["method"], "nat_kernel");
        assert_eq!(json["conntrack"][0]["created"], 150_000);
    }
}
