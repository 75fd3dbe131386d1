//! rvsd's Prometheus endpoint (`--metrics`): after traffic through seed 000, `GET /metrics`
//! shows node_exporter's IPVS metrics with the numbers `rvsadm -Ln --stats` and `-Ln` show,
//! and the data plane's verdict counters.

use std::time::Duration;

use rvs_e2e::cluster::DrCluster;
use rvs_e2e::root_or_skip;

/// The value of the sample whose line starts with `prefix` (metric name and labels).
fn sample(page: &str, prefix: &str) -> Option<u64> {
    page.lines().find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
}

#[test]
fn metrics_show_what_ipvsadm_shows_under_node_exporter_names() {
    if !root_or_skip("metrics_show_what_ipvsadm_shows_under_node_exporter_names") {
        return;
    }
    let cluster = DrCluster::start_with(&["--metrics", "127.0.0.1:9101"]);
    cluster.configure(&[
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g -w 2",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g",
    ]);
    assert_eq!(cluster.answers(6).len(), 6);
    // The counters are folded every 2 s, as IPVS's estimator does.
    std::thread::sleep(Duration::from_millis(2500));
    let director = &cluster.seed.director.host;
    let out = director
        .run("curl", ["-s", "-i", "--max-time", "5", "http://127.0.0.1:9101/metrics"], Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("curl: {e}"));
    assert!(out.success(), "{}", out.stderr);
    let page = out.stdout;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("content-type: text/plain; version=0.0.4"), "{page}");
    assert_eq!(sample(&page, "node_ipvs_connections_total "), Some(6), "{page}");
    let stats = cluster.rvsd.rvsadm_ok(&["-Ln", "--stats"]);
    let inpkts: u64 = stats
        .lines()
        .find(|l| l.starts_with("TCP"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("InPkts in:\n{stats}"));
    assert_eq!(sample(&page, "node_ipvs_incoming_packets_total "), Some(inpkts), "{page}\n{stats}");
    let labels = |real: &str| {
        format!(r#"{{local_address="192.168.0.100",local_mark="",local_port="80",proto="TCP",remote_address="{real}",remote_port="80"}}"#)
    };
    assert_eq!(sample(&page, &format!("node_ipvs_backend_weight{} ", labels("192.168.0.11"))), Some(2), "{page}");
    assert_eq!(sample(&page, &format!("node_ipvs_backend_connections_active{} ", labels("192.168.0.22"))), Some(0), "{page}");
    let inactive: u64 = ["192.168.0.11", "192.168.0.22"]
        .iter()
        .filter_map(|r| sample(&page, &format!("node_ipvs_backend_connections_inactive{} ", labels(r))))
        .sum();
    assert_eq!(inactive, 6, "{page}");
    assert!(sample(&page, "rvs_dataplane_packets_total{verdict=\"fwd_dr_tx\"} ").is_some_and(|n| n > 0), "{page}");
    // Anything but /metrics is not found.
    let other = director
        .run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9101/"], Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("curl: {e}"));
    assert_eq!(other.stdout, "404");
}
