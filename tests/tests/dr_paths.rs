//! The DR packet paths with the real rvsd: the VIP is the director's on the LAN (the router's
//! ARP entry for it carries the director's MAC), requests go client → router → director →
//! real server, and replies go real server → router → client without touching the director.

use std::net::Ipv4Addr;
use std::time::Duration;

use rvs_e2e::cluster::DrCluster;
use rvs_e2e::root_or_skip;
use rvs_lab::{Host, MacAddr};

const W1: &str = "webserver1";
const W2: &str = "webserver2";

fn rr_cluster() -> DrCluster {
    let cluster = DrCluster::start();
    cluster.configure(&[
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g",
    ]);
    cluster
}

/// The `lladdr` of `ip neigh show <addr> dev <dev>` in `host`, if it has one.
fn neighbour_mac(host: &Host, addr: Ipv4Addr, dev: &str) -> Option<MacAddr> {
    let out = host
        .ip(&["neigh", "show", &addr.to_string(), "dev", dev])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut words = out.split_whitespace();
    words.find(|w| *w == "lladdr")?;
    words.next()?.parse().ok()
}

#[test]
fn the_routers_arp_entry_for_the_vip_is_the_directors_mac() {
    if !root_or_skip("the_routers_arp_entry_for_the_vip_is_the_directors_mac") {
        return;
    }
    let cluster = rr_cluster();
    assert_eq!(cluster.answers(2), [W2, W1]);
    let seed = &cluster.seed;
    let vip_mac = neighbour_mac(&seed.router.host, seed.vip, "eth1")
        .unwrap_or_else(|| panic!("the router has no ARP entry for the VIP after two requests"));
    let director = seed
        .director
        .host
        .mac("eth0")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        vip_mac, director,
        "the router's ARP entry for {} (webserver1 {}, webserver2 {})",
        seed.vip, seed.webserver1.eth0.mac, seed.webserver2.eth0.mac
    );
    // The client reaches the VIP only through the router, its gateway.
    let route = seed
        .client
        .host
        .ip(&["route", "get", &seed.vip.to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(route.contains("via 172.25.254.100"), "{route}");
}

/// RX/TX byte and packet counters of an interface, from `ip -s link`.
#[derive(Debug, Clone, Copy, Default)]
struct LinkCounters {
    rx_bytes: u64,
    rx_packets: u64,
    tx_bytes: u64,
    tx_packets: u64,
}

fn link_counters(host: &Host, dev: &str) -> LinkCounters {
    let out = host
        .ip(&["-s", "link", "show", "dev", dev])
        .unwrap_or_else(|e| panic!("{e}"));
    parse_link_counters(&out).unwrap_or_else(|| panic!("no counters in:\n{out}"))
}

/// The numbers under the `RX:` and `TX:` headers of `ip -s link show`.
fn parse_link_counters(text: &str) -> Option<LinkCounters> {
    let lines: Vec<&str> = text.lines().collect();
    let after = |header: &str| -> Option<(u64, u64)> {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(header))?;
        let mut numbers = lines.get(at + 1)?.split_whitespace();
        Some((numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?))
    };
    let (rx_bytes, rx_packets) = after("RX:")?;
    let (tx_bytes, tx_packets) = after("TX:")?;
    Some(LinkCounters {
        rx_bytes,
        rx_packets,
        tx_bytes,
        tx_packets,
    })
}

fn delta(before: &LinkCounters, after: &LinkCounters) -> LinkCounters {
    LinkCounters {
        rx_bytes: after.rx_bytes - before.rx_bytes,
        rx_packets: after.rx_packets - before.rx_packets,
        tx_bytes: after.tx_bytes - before.tx_bytes,
        tx_packets: after.tx_packets - before.tx_packets,
    }
}

fn stat(stats: &std::collections::BTreeMap<String, u64>, name: &str) -> u64 {
    stats.get(name).copied().unwrap_or(0)
}

/// Starts `tcpdump` in `host` for frames from the VIP, if tcpdump is installed; returns its
/// process once it listens.
fn sniff_vip_replies(host: &Host) -> Option<rvs_lab::Process> {
    let tcpdump = ["/usr/sbin/tcpdump", "/usr/bin/tcpdump", "/sbin/tcpdump"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let process = host
        .spawn(
            "tcpdump",
            tcpdump,
            ["-n", "-l", "-i", "eth0", "src", "host", "192.168.0.100"],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !process.log().contains("listening on") {
        assert!(
            std::time::Instant::now() < deadline,
            "tcpdump did not start: {}",
            process.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(process)
}

#[test]
fn real_servers_answer_the_client_directly_and_the_director_sees_no_reply() {
    if !root_or_skip("real_servers_answer_the_client_directly_and_the_director_sees_no_reply") {
        return;
    }
    let cluster = rr_cluster();
    let seed = &cluster.seed;
    // Replies leave the real servers from the VIP towards the router, not the director.
    for (name, node) in seed.real_servers() {
        let route = node
            .host
            .ip(&["route", "get", "172.25.254.10", "from", "192.168.0.100"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            route.contains("via 192.168.0.10 dev eth0"),
            "{name}: {route}"
        );
    }
    assert_eq!(cluster.answers(2), [W2, W1], "warming up ARP caches");

    let sniffer = sniff_vip_replies(&seed.director.host);
    let client0 = link_counters(&seed.client.host, "eth0");
    let director0 = link_counters(&seed.director.host, "eth0");
    let router0 = link_counters(&seed.router.host, "eth1");
    let stats0 = cluster.rvsd.stats();

    // Ten downloads of 200 kB: the replies outweigh the requests by far.
    const SIZE: u64 = 200_000;
    for i in 0..10 {
        let got = cluster.download_size(&format!("/bytes?n={SIZE}"));
        assert_eq!(got, Ok(SIZE), "download {i}");
    }

    let client = delta(&client0, &link_counters(&seed.client.host, "eth0"));
    let director = delta(&director0, &link_counters(&seed.director.host, "eth0"));
    let router = delta(&router0, &link_counters(&seed.router.host, "eth1"));
    let stats1 = cluster.rvsd.stats();
    let forwarded = stat(&stats1, "fwd_dr_tx") - stat(&stats0, "fwd_dr_tx");
    let seen = stat(&stats1, "rx_frames") - stat(&stats0, "rx_frames");
    let report = format!(
        "client eth0 {client:?}\ndirector eth0 {director:?}\nrouter eth1 {router:?}\n\
         rvs stats: rx_frames +{seen}, fwd_dr_tx +{forwarded}\n{stats1:?}"
    );

    // Allowance for ARP and IPv6 neighbour traffic on the links.
    const NOISE: u64 = 64 * 1024;
    assert!(client.rx_bytes > 10 * SIZE, "{report}");
    // All the replies came into the router from the LAN side ...
    assert!(router.rx_bytes + NOISE >= client.rx_bytes, "{report}");
    // ... and none of them reached the director: what it received is what the client sent.
    assert!(director.rx_bytes <= client.tx_bytes + NOISE, "{report}");
    // Everything the client sent to the VIP went through the data plane and was forwarded.
    assert!(
        forwarded >= client.tx_packets.saturating_sub(20),
        "the director forwarded fewer packets than the client sent:\n{report}"
    );
    assert!(
        seen <= client.tx_packets + 200,
        "the data plane saw far more than the client sent:\n{report}"
    );

    // IPVS's own view, once the estimator has folded the counters (every 2 s): twelve
    // connections, every forwarded packet counted in, nothing out (DR replies bypass it).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (line, forwarded_total) = loop {
        let listing = cluster.rvsd.rvsadm_ok(&["-Ln", "--stats", "--exact"]);
        let line = service_stats(&listing);
        let forwarded_total = stat(&cluster.rvsd.stats(), "fwd_dr_tx");
        let settled = line.is_some_and(|l| l.conns == 12 && l.in_pkts == forwarded_total);
        if settled || std::time::Instant::now() > deadline {
            break (line, forwarded_total);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let line = line.unwrap_or_else(|| panic!("no service line in -Ln --stats"));
    assert_eq!(
        (line.conns, line.in_pkts, line.out_pkts, line.out_bytes),
        (12, forwarded_total, 0, 0),
        "-Ln --stats --exact (Conns, InPkts, OutPkts, OutBytes) for 12 requests, \
         fwd_dr_tx {forwarded_total}: {line:?}"
    );

    if let Some(mut sniffer) = sniffer {
        let _ = sniffer.stop(Duration::from_secs(5));
        let log = sniffer.log();
        let replies: Vec<&str> = log.lines().filter(|l| l.contains(" IP ")).collect();
        assert!(
            replies.is_empty(),
            "tcpdump on the director saw replies from the VIP:\n{log}"
        );
    }
}

/// The numbers of a service line of `-Ln --stats --exact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ServiceStats {
    conns: u64,
    in_pkts: u64,
    out_pkts: u64,
    in_bytes: u64,
    out_bytes: u64,
}

/// The first service line's counters in a `--stats --exact` listing.
fn service_stats(listing: &str) -> Option<ServiceStats> {
    let line = listing.lines().find(|l| l.starts_with("TCP  "))?;
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(2)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [conns, in_pkts, out_pkts, in_bytes, out_bytes] = n.as_slice() else {
        return None;
    };
    Some(ServiceStats {
        conns: *conns,
        in_pkts: *in_pkts,
        out_pkts: *out_pkts,
        in_bytes: *in_bytes,
        out_bytes: *out_bytes,
    })
}

#[test]
fn service_stats_are_read_from_exact_listings() {
    let listing = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  192.168.0.100:80                   10      104        0     6398        0
  -> 192.168.0.11:80                     5       52        0     3199        0
";
    assert_eq!(
        service_stats(listing),
        Some(ServiceStats {
            conns: 10,
            in_pkts: 104,
            out_pkts: 0,
            in_bytes: 6398,
            out_bytes: 0
        })
    );
    assert_eq!(service_stats("TCP  192.168.0.100:80 10 1K 0 2M 0\n"), None);
}

#[test]
fn link_counters_are_read_from_ip_s_link() {
    let text = "3: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500
    link/ether 22:d2:54:e4:b7:72 brd ff:ff:ff:ff:ff:ff link-netns x
    RX:  bytes packets errors dropped  missed   mcast
         12345     100      0       0       0       0
    TX:  bytes packets errors dropped carrier collsns
          6789      50      0       0       0       0
";
    let c = parse_link_counters(text).unwrap_or_else(|| panic!("not parsed"));
    assert_eq!(
        (c.rx_bytes, c.rx_packets, c.tx_bytes, c.tx_packets),
        (12345, 100, 6789, 50)
    );
    assert!(parse_link_counters("1: lo: <LOOPBACK>\n").is_none());
}
