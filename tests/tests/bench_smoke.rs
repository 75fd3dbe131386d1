//! `rvs bench dr` and `rvs bench nat` at a small scale, as a user runs them: they must measure
//! every path (each run checks its own phases: the forwarding method of every frame, the entries
//! each phase made), print a well-formed JSON report, and leave nothing behind. The figures
//! themselves are not checked: these machines are shared, and the benchmarks report ratios
//! against peers measured in the same run (docs/benchmark.md).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rvs_e2e::bins::binary;
use rvs_e2e::{PrefixGuard, lab_prefix, root_or_skip, run_captured};
use serde_json::Value;

/// A small run takes a few seconds; generous on a loaded box, below the benchmarks' own limits.
const BENCH_TIMEOUT: Duration = Duration::from_secs(80);

/// Runs `rvs bench <args> --json` under a fresh prefix and returns the report.
fn bench(args: &[&str]) -> Value {
    let prefix = lab_prefix();
    let _cleanup = PrefixGuard(prefix.clone());
    let mut command = Command::new(binary("rvs"));
    command
        .arg("bench")
        .args(args)
        .args(["--json", "--duration", "0.2", "--prefix", &prefix]);
    let (status, stdout, stderr) = run_captured(command, BENCH_TIMEOUT)
        .unwrap_or_else(|e| panic!("rvs bench {args:?}: {e:#}"));
    assert!(
        status.success(),
        "rvs bench {args:?}: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("the report is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    assert_nothing_left(&prefix);
    report
}

/// Namespaces, rvsd's pins and its socket are gone once the benchmark has exited.
fn assert_nothing_left(prefix: &str) {
    let left: Vec<String> = rvs_lab::list_netns()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .collect();
    assert!(left.is_empty(), "namespaces left: {left:?}");
    let pins = Path::new(rvs_lab::BPF_PIN_ROOT).join(format!("{prefix}-director"));
    assert!(!pins.exists(), "{} left behind", pins.display());
    let socket = format!("/run/rvs/{prefix}.sock");
    assert!(!Path::new(&socket).exists(), "{socket} left behind");
}

/// The report's paths by name.
fn paths(report: &Value) -> Vec<(String, &Value)> {
    report["paths"]
        .as_array()
        .unwrap_or_else(|| panic!("no paths in {report:#}"))
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or_default().to_string(), p))
        .collect()
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing in {v:#}"))
}

/// Every path delivered frames; each rvs path forwarded by its method at least what arrived,
/// and created entries only when it sent new flows.
fn assert_paths_measured(report: &Value, want: &[&str]) {
    let paths = paths(report);
    let names: Vec<&str> = paths.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, want, "the paths, in report order");
    for (name, path) in &paths {
        let received = u64_of(path, "received");
        assert!(received > 0, "{name}: nothing arrived\n{path:#}");
        assert!(path["pps"].as_f64().is_some_and(|p| p > 0.0), "{name}: {path:#}");
        let director = &path["director"];
        if director.is_null() {
            continue;
        }
        let forwarded = u64_of(director, "forwarded");
        assert!(forwarded >= received, "{name}: {forwarded} forwarded, {received} received");
        let created = u64_of(director, "created");
        if name.contains("new flows") {
            assert!(created >= received, "{name}: {created} entries for {received} new flows");
        } else {
            assert_eq!(created, 0, "{name}: established traffic created entries");
        }
        assert!(
            director["cost"]["ns_per_packet"].as_f64().is_some_and(|ns| ns > 0.0),
            "{name}: no program cost\n{director:#}"
        );
    }
}

#[test]
fn bench_dr_measures_every_path_and_cleans_up() {
    if !root_or_skip("bench_dr_measures_every_path_and_cleans_up") {
        return;
    }
    let report = bench(&[
        "dr",
        "--flows",
        "2000",
        "--new-flows",
        "2000",
        "--conn-max",
        "65536",
    ]);
    assert_eq!(report["table_entries"], 2000, "{report:#}");
    assert_paths_measured(
        &report,
        &[
            "direct: client -> real server",
            "nftables netdev fwd (nftlb DSR)",
            "rvs (XDP director, DR)",
            "rvs, hot flows",
            "rvs, new flows (TCP SYN)",
            "rvs (XDP director, TUN ipip)",
            "rvs TUN, hot flows",
            "rvs TUN, new flows (TCP SYN)",
        ],
    );
    assert!(report["rvs_over_nft"].as_f64().is_some_and(|r| r > 0.0), "{report:#}");
}

#[test]
fn bench_nat_measures_rvs_next_to_nftables_dnat_and_cleans_up() {
    if !root_or_skip("bench_nat_measures_rvs_next_to_nftables_dnat_and_cleans_up") {
        return;
    }
    let report = bench(&[
        "nat",
        "--flows",
        "2000",
        "--new-flows",
        "2000",
        "--warm-rate",
        "20000",
    ]);
    assert_paths_measured(
        &report,
        &[
            "kernel forwarding, no NAT (for scale)",
            "nftables DNAT + conntrack",
            "nft DNAT, hot flows",
            "nft DNAT, replies (real -> client)",
            "nft DNAT, new flows (TCP SYN)",
            "rvs NAT (XDP director)",
            "rvs NAT, hot flows",
            "rvs NAT, replies (real -> client)",
            "rvs NAT, new flows (TCP SYN)",
            "rvs NAT, kernel routing (XDP_PASS)",
        ],
    );
    // Each side's warm-up gave every established flow its entry.
    for warm in report["warm_up"].as_array().unwrap_or_else(|| panic!("{report:#}")) {
        assert!(u64_of(warm, "entries") >= 2000, "{warm:#}");
    }
    // Only nftables' new-flow phase made conntrack entries; rvs never touched conntrack.
    let conntrack = report["conntrack"].as_array().unwrap_or_else(|| panic!("{report:#}"));
    let created: Vec<(&str, u64)> = conntrack
        .iter()
        .map(|c| (c["path"].as_str().unwrap_or_default(), u64_of(c, "created")))
        .collect();
    for (path, n) in &created {
        if *path == "nft DNAT, new flows (TCP SYN)" {
            assert!(*n >= 2000, "{created:?}");
        } else {
            assert_eq!(*n, 0, "{path}: {created:?}");
        }
    }
    let methods: Vec<&str> = paths(&report)
        .iter()
        .filter_map(|(_, p)| p["director"]["method"].as_str())
        .collect();
    assert_eq!(methods, ["nat", "nat", "nat_reply", "nat", "nat_kernel"]);
    let comparisons = report["comparisons"].as_array().unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(comparisons.len(), 4, "{report:#}");
}
