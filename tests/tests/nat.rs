//! NAT mode end to end (issue 4): seed 002's cluster with the real rvsd on both of the
//! director's interfaces, owning the `nat_router` gateway of the real servers, curl and
//! sockets on the client. Checks port mapping, a 10 MB body byte for byte, 500 concurrent
//! connections, UDP answered from the VIP, ICMP errors translated back to the client, and that
//! `--stats` counts the replies that came through the director.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use rvs_e2e::rvsd::{Rvsd, lock_path, socket_path};
use rvs_e2e::{bins, lab_prefix, root_or_skip};
use rvs_lab::topology::Seed002Nat;
use rvs_lab::topology::seed002::NAT_ROUTER;
use rvs_lab::{HttpServer, pattern_bytes};

const CURL_TIMEOUT: Duration = Duration::from_secs(30);
/// The real servers' HTTP port: the VIP's port 80 is mapped to it.
const RS_PORT: u16 = 8080;

/// Seed 002 running: HTTP servers on the real servers' port 8080, rvsd on the director's
/// `eth0` and `eth1` with the `nat_router` address.
struct NatCluster {
    seed: Seed002Nat,
    rvsd: Rvsd,
    servers: Vec<HttpServer>,
    socket: PathBuf,
    prefix: String,
}

impl NatCluster {
    fn start() -> NatCluster {
        bins::require_all();
        let prefix = lab_prefix();
        let seed = Seed002Nat::build(&prefix).unwrap_or_else(|e| panic!("building seed 002 as {prefix}: {e}"));
        let listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, RS_PORT));
        let servers = seed
            .real_servers()
            .iter()
            .map(|(name, node)| node.host.serve_http(listen, name).unwrap_or_else(|e| panic!("HTTP server on {name}: {e}")))
            .collect();
        let socket = socket_path(&prefix);
        let nat_router = NAT_ROUTER.to_string();
        let extra = ["--interface", "eth1", "--nat-router", &nat_router, "--nat-router-interface", "eth1"];
        let rvsd = Rvsd::start(&seed.director.host, "eth0", &socket, &format!("{prefix}-director"), &extra)
            .unwrap_or_else(|e| panic!("starting rvsd: {e:#}"));
        NatCluster { seed, rvsd, servers, socket, prefix }
    }

    /// The seed's service with the real servers' port 8080 behind the VIP's port 80.
    fn configure_http(&self, scheduler: &str) {
        let vip = format!("{}:80", self.seed.vip);
        self.rvsd.configure(&[
            &format!("-A -t {vip} -s {scheduler}"),
            &format!("-a -t {vip} -r {}:{RS_PORT} -m", self.seed.realserver1.eth0.ip()),
            &format!("-a -t {vip} -r {}:{RS_PORT} -m", self.seed.realserver2.eth0.ip()),
        ]);
    }

    fn curl(&self, args: &[&str]) -> String {
        match self.seed.client.host.run("curl", args, CURL_TIMEOUT) {
            Ok(out) if out.success() => out.stdout,
            Ok(out) => format!("(curl failed: {} {})", out.status, out.stderr.trim()),
            Err(e) => format!("(curl failed: {e})"),
        }
    }

    fn answers(&self, n: usize) -> Vec<String> {
        let url = format!("http://{}/", self.seed.vip);
        (0..n).map(|_| self.curl(&["-s", "--max-time", "5", &url]).trim_end().to_owned()).collect()
    }

    /// Bytes the director's `ifname` has received.
    fn director_rx_bytes(&self, ifname: &str) -> u64 {
        self.seed.director.host.rx_bytes(ifname).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `rvsadm -Ln --stats` after IPVS's 2-second estimator fold: each row's five counters
    /// (Conns, InPkts, OutPkts, InBytes, OutBytes) by its address (`192.168.1.250:80` for
    /// the service, `10.0.0.100:8080` for a real server).
    fn stats_rows(&self) -> (String, BTreeMap<String, [u64; 5]>) {
        std::thread::sleep(Duration::from_millis(2200));
        let listing = self.rvsd.rvsadm_ok(&["-Ln", "--stats"]);
        let rows = listing
            .lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let (addr, numbers) = match words.as_slice() {
                    ["->", addr, rest @ ..] | ["TCP" | "UDP", addr, rest @ ..] => (*addr, rest),
                    _ => return None,
                };
                let numbers: Vec<u64> = numbers.iter().filter_map(|w| w.parse().ok()).collect();
                Some((addr.to_owned(), numbers.try_into().ok()?))
            })
            .collect();
        (listing, rows)
    }
}

impl Drop for NatCluster {
    fn drop(&mut self) {
        if let Err(e) = self.rvsd.stop() {
            eprintln!("stopping rvsd: {e}");
        }
        self.servers.clear();
        if let Err(e) = self.seed.lab.down() {
            eprintln!("taking lab {} down: {e}", self.prefix);
        }
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[test]
fn port_mapped_requests_and_a_10_mb_body_come_back_exact_and_counted() {
    if !root_or_skip("port_mapped_requests_and_a_10_mb_body_come_back_exact_and_counted") {
        return;
    }
    let c = NatCluster::start();
    c.configure_http("rr");
    // rr, newest real server first, as IPVS; each answer came from port 8080 behind port 80.
    let expected: Vec<String> = (0..6).map(|i| if i % 2 == 0 { "realserver2" } else { "realserver1" }.to_string()).collect();
    assert_eq!(c.answers(6), expected);
    let conns = c.rvsd.rvsadm_ok(&["-Lnc"]);
    assert!(conns.contains("10.0.0.100:8080") && conns.contains("10.0.0.200:8080"), "{conns}");

    // 10 MB through the director both ways: every byte must survive the rewrites.
    const SIZE: usize = 10_000_000;
    let file = std::env::temp_dir().join(format!("rvs-nat-{}.bin", c.prefix));
    let eth1_before = c.director_rx_bytes("eth1");
    let url = format!("http://{}/bytes?n={SIZE}", c.seed.vip);
    let path = file.to_string_lossy().into_owned();
    let out = c.curl(&["-s", "--max-time", "20", "-o", &path, "-w", "%{size_download}", &url]);
    let body = std::fs::read(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.trim(), SIZE.to_string(), "download through the VIP");
    let expected = pattern_bytes(0, SIZE);
    if let Some(at) = body.iter().zip(&expected).position(|(a, b)| a != b) {
        panic!("the body differs from the server's pattern at byte {at}");
    }
    assert_eq!(body.len(), SIZE);
    let eth1_rx = c.director_rx_bytes("eth1") - eth1_before;

    // The director saw the replies, so the real server's OutBytes hold the whole body and no
    // more than what the director's private side received.
    let (listing, rows) = c.stats_rows();
    let served = rows
        .iter()
        .filter(|(addr, _)| addr.ends_with(":8080"))
        .max_by_key(|(_, r)| r[4])
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("no real-server rows:\n{listing}"));
    let [_, _, out_pkts, _, out_bytes] = served;
    assert!(out_bytes > SIZE as u64 && out_bytes <= eth1_rx, "OutBytes {out_bytes}, body {SIZE}, eth1 received {eth1_rx}:\n{listing}");
    assert!(out_pkts > 0);
    let service = rows.get(&format!("{}:80", c.seed.vip)).unwrap_or_else(|| panic!("no service row:\n{listing}"));
    let dests: Vec<[u64; 5]> = rows.iter().filter(|(a, _)| a.ends_with(":8080")).map(|(_, r)| *r).collect();
    for (i, column) in ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].iter().enumerate() {
        let sum: u64 = dests.iter().map(|r| r[i]).sum();
        assert_eq!(service[i], sum, "{column}: the service's is not its real servers' sum:\n{listing}");
    }
    let stats = c.rvsd.stats();
    assert!(stats.get("fwd_nat_out").copied().unwrap_or(0) + stats.get("pass_nat_kernel_route").copied().unwrap_or(0) > 0, "{stats:?}");
}

#[test]
fn five_hundred_concurrent_connections_are_answered_and_spread() {
    if !root_or_skip("five_hundred_concurrent_connections_are_answered_and_spread") {
        return;
    }
    let c = NatCluster::start();
    c.configure_http("wlc");
    // Two curls of 250 parallel transfers each (curl's own limit is 300), every connection
    // held open for 3 s: all 500 are established at once.
    let hold = format!("http://{}/hold?secs=3", c.seed.vip);
    let urls: Vec<String> = (0..250).map(|_| hold.clone()).collect();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let client = c.seed.client.host.clone();
            let mut args: Vec<String> = ["-s", "--parallel", "--parallel-immediate", "--parallel-max", "250", "--max-time", "20"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            for url in &urls {
                args.extend(["-o".to_string(), "/dev/null".to_string(), "-w".to_string(), "%{http_code}\\n".to_string(), url.clone()]);
            }
            std::thread::spawn(move || client.run("curl", &args, CURL_TIMEOUT))
        })
        .collect();
    // While they are held, wlc has split them evenly and both directions made them ESTABLISHED.
    std::thread::sleep(Duration::from_millis(1800));
    let listing = c.rvsd.rvsadm_ok(&["-Ln"]);
    let rows = rvs_e2e::listing::dest_rows(&listing);
    let active: Vec<u64> = rows.iter().map(|r| r.active).collect();
    let mut codes = Vec::new();
    for run in runs {
        let out = run.join().unwrap_or_else(|_| panic!("curl thread")).unwrap_or_else(|e| panic!("curl: {e}"));
        assert!(out.success(), "curl: {}", out.stderr);
        codes.extend(out.stdout.lines().map(str::to_owned));
    }
    assert_eq!(codes.len(), 500);
    assert!(codes.iter().all(|c| c == "200"), "not all answered: {codes:?}");
    assert_eq!(active.iter().sum::<u64>(), 500, "ActiveConn while held:\n{listing}");
    assert!(active.iter().all(|&a| a.abs_diff(250) <= 1), "wlc spread {active:?}:\n{listing}");
}

/// A UDP socket bound to `port` (0: any) in `host`'s namespace, reads timing out after `timeout`.
fn udp_socket(host: &rvs_lab::Host, port: u16, timeout: Duration) -> UdpSocket {
    let socket = host
        .run_in(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("binding a UDP socket in {}: {e}", host.name()));
    socket.set_read_timeout(Some(timeout)).unwrap_or_else(|e| panic!("{e}"));
    socket
}

/// A raw ICMP socket of `host`'s namespace, read through `UdpSocket`'s datagram calls.
fn raw_icmp_socket(host: &rvs_lab::Host) -> UdpSocket {
    let fd = host
        .run_in(|| {
            // SAFETY: plain socket(2); the descriptor is owned by the OwnedFd below.
            let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::IPPROTO_ICMP) };
            if fd < 0 { Err(std::io::Error::last_os_error()) } else { Ok(fd) }
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("raw ICMP socket: {e}"));
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let socket = UdpSocket::from(unsafe { OwnedFd::from_raw_fd(fd) });
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap_or_else(|e| panic!("{e}"));
    socket
}

#[test]
fn udp_is_answered_from_the_vip_and_port_unreachable_comes_back_translated() {
    if !root_or_skip("udp_is_answered_from_the_vip_and_port_unreachable_comes_back_translated") {
        return;
    }
    let c = NatCluster::start();
    let vip = c.seed.vip;
    c.rvsd.configure(&[
        &format!("-A -u {vip}:53 -s rr"),
        &format!("-a -u {vip}:53 -r {}:5353 -m", c.seed.realserver1.eth0.ip()),
        // Nothing listens on realserver2's 5454: it answers with ICMP port unreachable.
        &format!("-A -u {vip}:54 -s rr"),
        &format!("-a -u {vip}:54 -r {}:5454 -m", c.seed.realserver2.eth0.ip()),
    ]);
    let echo = udp_socket(&c.seed.realserver1.host, 5353, Duration::from_secs(5));
    let echo_thread = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1500];
        for _ in 0..3 {
            let Ok((n, from)) = echo.recv_from(&mut buf) else { break };
            seen.push(from);
            let mut answer = b"echo:".to_vec();
            answer.extend_from_slice(&buf[..n]);
            let _ = echo.send_to(&answer, from);
        }
        seen
    });

    let client = udp_socket(&c.seed.client.host, 0, Duration::from_secs(3));
    let mut buf = [0u8; 1500];
    for i in 0..3 {
        let request = format!("request {i}");
        client.send_to(request.as_bytes(), (vip, 53)).unwrap_or_else(|e| panic!("{e}"));
        let (n, from) = client.recv_from(&mut buf).unwrap_or_else(|e| panic!("no answer to {request:?}: {e}"));
        assert_eq!(from, SocketAddr::from((vip, 53)), "the answer must come from the VIP");
        assert_eq!(&buf[..n], format!("echo:{request}").as_bytes());
    }
    let seen = echo_thread.join().unwrap_or_else(|_| panic!("echo thread"));
    let client_port = client.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    assert!(
        seen.iter().all(|s| *s == SocketAddr::from((c.seed.client.eth0.ip(), client_port))),
        "the real server sees the client's own address (NAT keeps the source): {seen:?}"
    );

    // Port unreachable: the client's kernel matches the quoted datagram (VIP:54) to its
    // connected socket, which reports ECONNREFUSED; the raw socket shows the whole error.
    let raw = raw_icmp_socket(&c.seed.client.host);
    let connected = udp_socket(&c.seed.client.host, 0, Duration::from_secs(3));
    connected.connect((vip, 54)).unwrap_or_else(|e| panic!("{e}"));
    connected.send(b"anyone?").unwrap_or_else(|e| panic!("{e}"));
    let err = connected.recv(&mut buf).expect_err("nothing listens behind VIP:54");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    let port = connected.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    let error = (0..25)
        .filter_map(|_| raw.recv(&mut buf).ok().map(|n| buf[..n].to_vec()))
        .find(|p| p.len() >= 48 && p[20] == 3 && p[21] == 3)
        .unwrap_or_else(|| panic!("no port unreachable on the client's raw socket"));
    let outer_src = Ipv4Addr::new(error[12], error[13], error[14], error[15]);
    let inner = &error[28..];
    let inner_src = SocketAddrV4::new(Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]), u16::from_be_bytes([inner[20], inner[21]]));
    let inner_dst = SocketAddrV4::new(Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]), u16::from_be_bytes([inner[22], inner[23]]));
    assert_eq!(outer_src, vip, "the error must come from the VIP, not the real server");
    assert_eq!(inner_dst, SocketAddrV4::new(vip, 54), "quoted destination");
    assert_eq!(inner_src, SocketAddrV4::new(c.seed.client.eth0.ip(), port), "quoted source");
    let stats = c.rvsd.stats();
    assert!(stats.get("fwd_nat_icmp").copied().unwrap_or(0) >= 1, "{stats:?}");
}

#[test]
fn replies_of_a_removed_real_servers_connections_are_still_translated() {
    if !root_or_skip("replies_of_a_removed_real_servers_connections_are_still_translated") {
        return;
    }
    let c = NatCluster::start();
    c.configure_http("rr");
    // The server's name at once, then after 1 s one more byte and the end of the body: one
    // flight, which needs no acknowledgement from the client (its segments are dropped below).
    let client = c.seed.client.host.clone();
    let hold = format!("http://{}/hold?secs=1", c.seed.vip);
    let download = std::thread::spawn(move || client.run("curl", ["-s", "--max-time", "10", hold.as_str()], CURL_TIMEOUT));
    // Once the connection is established (and its first reply acknowledged, a moment later).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !c.rvsd.rvsadm_ok(&["-Lnc"]).contains("ESTABLISHED") {
        assert!(std::time::Instant::now() < deadline, "no established connection:\n{}", c.rvsd.rvsadm_ok(&["-Lnc"]));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // Both real servers go in between. As in IPVS (expire_nodest_conn = 0) the connection
    // stays until it expires and the client's segments are dropped, but what the real server
    // still sends must reach the client from the VIP: with no NAT real server left, the
    // director keeps translating the replies of the removed servers' connections.
    let vip = format!("{}:80", c.seed.vip);
    for rs in [&c.seed.realserver1, &c.seed.realserver2] {
        c.rvsd.rvsadm_ok(&["-d", "-t", &vip, "-r", &format!("{}:{RS_PORT}", rs.eth0.ip())]);
    }
    let out = download.join().unwrap_or_else(|_| panic!("curl thread")).unwrap_or_else(|e| panic!("curl: {e}"));
    assert!(out.success(), "the download did not complete: {} {}", out.status, out.stderr);
    assert!(out.stdout.starts_with("realserver"), "body {:?}", out.stdout);
    assert_eq!(out.stdout.len(), "realserverN\n".len() + 1, "body {:?}", out.stdout);
}
