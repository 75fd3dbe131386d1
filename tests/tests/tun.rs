//! TUN mode end to end (issue 3): seed 004's cluster with the real rvsd, the real servers
//! prepared by `rvs realserver up --mode tun` (rvs's XDP decapsulation on this kernel, which has
//! no `ipip`), curl from the client. Checks that requests are balanced over IPIP and GUE, that
//! replies go to the client from the VIP without crossing the director, that real servers on
//! another network (which only TUN can reach) are served, and that `rvs realserver down` puts
//! each real server back exactly as it was.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use rvs_e2e::realserver::Snapshot;
use rvs_e2e::rvsd::{Rvsd, lock_path, socket_path};
use rvs_e2e::{bins, lab_prefix, root_or_skip};
use rvs_lab::HttpServer;
use rvs_lab::topology::{Seed004Tun, TunLayout};

const CURL_TIMEOUT: Duration = Duration::from_secs(15);

/// Seed 004 running: real servers prepared and serving, rvsd on the director.
struct TunCluster {
    seed: Seed004Tun,
    rvsd: Rvsd,
    servers: Vec<HttpServer>,
    socket: PathBuf,
    /// `rvs realserver` arguments after `up`/`down`.
    realserver_args: Vec<String>,
    /// Each real server before `rvs realserver up`.
    before: Vec<Snapshot>,
    prepared: bool,
}

impl TunCluster {
    /// Builds the cluster; `tunnel` are the `--tun-type …` options, for `rvs realserver` and
    /// for the real servers' `rvsadm -a` lines alike.
    fn start(layout: TunLayout, tunnel: &[&str]) -> TunCluster {
        bins::require_all();
        let prefix = lab_prefix();
        let seed = Seed004Tun::build(&prefix, layout).unwrap_or_else(|e| panic!("building seed 004 as {prefix}: {e}"));
        let mut realserver_args: Vec<String> =
            ["--mode", "tun", "--vip", &seed.vip.to_string(), "--interface", "eth0"].iter().map(|s| s.to_string()).collect();
        realserver_args.extend(tunnel.iter().map(|s| s.to_string()));
        let before = seed.real_servers().iter().map(|(_, n)| Snapshot::of(&n.host)).collect();
        let socket = socket_path(&prefix);
        let rvsd = Rvsd::start(&seed.director.host, "eth0", &socket, &format!("{prefix}-director"), &[])
            .unwrap_or_else(|e| panic!("starting rvsd: {e:#}"));
        let mut cluster = TunCluster { seed, rvsd, servers: Vec::new(), socket, realserver_args, before, prepared: false };
        for (name, node) in cluster.seed.real_servers() {
            let mut args = vec!["realserver", "up"];
            args.extend(cluster.realserver_args.iter().map(String::as_str));
            let out = node
                .host
                .run(&bins::binary("rvs").to_string_lossy(), &args, Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("rvs realserver up on {name}: {e}"));
            assert!(out.success(), "rvs realserver up on {name}: {}\n{}", out.stdout, out.stderr);
        }
        cluster.prepared = true;
        let listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80));
        cluster.servers = cluster
            .seed
            .real_servers()
            .iter()
            .map(|(name, node)| node.host.serve_http(listen, name).unwrap_or_else(|e| panic!("HTTP server on {name}: {e}")))
            .collect();
        let vip = format!("{}:80", cluster.seed.vip);
        let mut lines = vec![format!("-A -t {vip} -s rr")];
        for (_, node) in cluster.seed.real_servers() {
            lines.push(format!("-a -t {vip} -r {}:80 -i {}", node.eth0.ip(), tunnel.join(" ")));
        }
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        cluster.rvsd.configure(&lines);
        cluster
    }

    fn curl(&self, path: &str) -> String {
        let url = format!("http://{}{path}", self.seed.vip);
        match self.seed.client.host.run("curl", ["-s", "--max-time", "5", &url], CURL_TIMEOUT) {
            Ok(out) if out.success() => out.stdout,
            Ok(out) => format!("(curl failed: {} {})", out.status, out.stderr.trim()),
            Err(e) => format!("(curl failed: {e})"),
        }
    }

    fn answers(&self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.curl("/").trim_end().to_owned()).collect()
    }

    /// `rvs realserver down` on both real servers; what differs from before `up`.
    fn unprepare(&mut self) -> Vec<String> {
        self.prepared = false;
        let mut diffs = Vec::new();
        for (i, (name, node)) in self.seed.real_servers().iter().enumerate() {
            let mut args = vec!["realserver", "down"];
            args.extend(self.realserver_args.iter().map(String::as_str));
            match node.host.run(&bins::binary("rvs").to_string_lossy(), &args, Duration::from_secs(60)) {
                Ok(out) if out.success() => {}
                Ok(out) => diffs.push(format!("{name}: rvs realserver down failed: {}", out.stderr.trim())),
                Err(e) => diffs.push(format!("{name}: {e}")),
            }
            diffs.extend(self.before[i].diff(&Snapshot::of(&node.host)).into_iter().map(|d| format!("{name}: {d}")));
        }
        diffs
    }

    /// Bytes the director's `eth0` has received.
    fn director_rx_bytes(&self) -> u64 {
        self.seed.director.host.rx_bytes("eth0").unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for TunCluster {
    fn drop(&mut self) {
        if let Err(e) = self.rvsd.stop() {
            eprintln!("stopping rvsd: {e}");
        }
        self.servers.clear();
        if self.prepared {
            let _ = self.unprepare();
        }
        if let Err(e) = self.seed.lab.down() {
            eprintln!("taking the lab down: {e}");
        }
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// rr over the two real servers, newest (server3) first, as IPVS.
fn alternating(n: usize) -> Vec<String> {
    (0..n).map(|i| if i % 2 == 0 { "server3" } else { "server2" }.to_string()).collect()
}

#[test]
fn ipip_balances_replies_bypass_the_director_and_realserver_down_restores_each_host() {
    if !root_or_skip("ipip_balances_replies_bypass_the_director_and_realserver_down_restores_each_host") {
        return;
    }
    let mut c = TunCluster::start(TunLayout::Flat, &[]);
    assert_eq!(c.answers(10), alternating(10));

    // A 2 MB answer: it flows from the real server to the client, never through the director.
    let rx_before = c.director_rx_bytes();
    let url = format!("http://{}/bytes?n=2000000", c.seed.vip);
    let out = c
        .seed
        .client
        .host
        .run("curl", ["-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{size_download}", &url], CURL_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.stdout.trim(), "2000000", "download through the VIP: {}", out.stderr);
    let rx = c.director_rx_bytes() - rx_before;
    assert!(rx < 200_000, "the director received {rx} bytes for a 2 MB answer: replies went through it");
    let stats = c.rvsd.stats();
    assert!(stats.get("fwd_tun_tx").copied().unwrap_or(0) > 0, "{stats:?}");
    assert_eq!(stats.get("fwd_dr_tx").copied().unwrap_or(0), 0, "{stats:?}");

    let listing = c.rvsd.rvsadm_ok(&["-Ln", "--tun-info"]);
    assert!(listing.contains("Tunnel  ipip"), "{listing}");

    let diffs = c.unprepare();
    assert!(diffs.is_empty(), "after rvs realserver down:\n{}", diffs.join("\n"));
}

#[test]
fn gue_with_checksums_balances_over_both_real_servers() {
    if !root_or_skip("gue_with_checksums_balances_over_both_real_servers") {
        return;
    }
    let c = TunCluster::start(TunLayout::Flat, &["--tun-type", "gue", "--tun-port", "6080"]);
    // rvsadm's -a lines carry the same options; switch one to checksummed GUE as well.
    c.rvsd.configure(&[&format!("-e -t {}:80 -r {}:80 -i --tun-type gue --tun-port 6080 --tun-csum", c.seed.vip, c.seed.server2.eth0.ip())]);
    assert_eq!(c.answers(10), alternating(10));
    let listing = c.rvsd.rvsadm_ok(&["-Ln", "--tun-info"]);
    assert!(listing.contains("gue:6080:+c") && listing.contains("gue:6080:-c"), "{listing}");
}

#[test]
fn real_servers_behind_a_router_are_served_only_through_the_tunnel() {
    if !root_or_skip("real_servers_behind_a_router_are_served_only_through_the_tunnel") {
        return;
    }
    let c = TunCluster::start(TunLayout::Routed, &[]);
    assert_eq!(c.answers(10), alternating(10));
    // The same real servers in DR mode cannot be reached: they are not on the director's link.
    for node in [&c.seed.server2, &c.seed.server3] {
        c.rvsd.configure(&[&format!("-e -t {}:80 -r {}:80 -g", c.seed.vip, node.eth0.ip())]);
    }
    let answer = c.curl("/");
    assert!(answer.starts_with("(curl failed"), "DR to real servers behind a router answered: {answer}");
}
