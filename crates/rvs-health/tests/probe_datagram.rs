//! The datagram checkers against real peers on loopback: DNS_CHECK (Debian's dnsmasq, package
//! dnsmasq-base), UDP_CHECK (an echo task, a silent socket, a closed port), PING_CHECK.

mod probe_common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use probe_common::*;
use rvs_core::config::{CheckKind, DnsQueryType, ReplyPattern, UdpCheck};
use rvs_health::probe::Pass;
use tokio::net::UdpSocket;

const SECOND: Duration = Duration::from_secs(1);

// ---- DNS_CHECK ----

/// dnsmasq answering for *.test alone: example.test has A, TXT and MX records and no AAAA;
/// other names are NXDOMAIN.
struct Dnsmasq {
    addr: SocketAddr,
    _child: tokio::process::Child,
}

async fn dnsmasq() -> Dnsmasq {
    let port = free_udp_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let child = tokio::process::Command::new("dnsmasq")
        .args([
            "--keep-in-foreground",
            &format!("--port={port}"),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--pid-file=",
            "--user=root",
            "--log-facility=/dev/null",
            "--local=/test/",
            "--host-record=example.test,10.1.2.3",
            "--txt-record=example.test,hello",
            "--mx-host=example.test,mx.example.test,10",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("dnsmasq (Debian package dnsmasq-base)");
    // Ready when it answers.
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    socket.connect(addr).await.expect("connect");
    let query = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x04test\x00\x00\x01\x00\x01";
    for _ in 0..50 {
        let _ = socket.send(query).await;
        let mut buf = [0u8; 512];
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(100), socket.recv(&mut buf)).await {
            return Dnsmasq { addr, _child: child };
        }
        // Not listening yet (port unreachable comes back at once).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("dnsmasq does not answer on {addr}");
}

fn dns(qtype: DnsQueryType, name: &str) -> CheckKind {
    CheckKind::Dns { qtype, name: name.into() }
}

#[tokio::test]
async fn dns_answers() {
    let server = dnsmasq().await;
    for qtype in [DnsQueryType::A, DnsQueryType::Txt, DnsQueryType::Mx] {
        let result = run(&check(dns(qtype, "example.test"), SECOND), server.addr).await;
        assert_eq!(result, Ok(Pass { weight: None }), "{qtype:?}");
    }
    assert!(run(&check(dns(DnsQueryType::A, "example.test."), SECOND), server.addr).await.is_ok());
}

#[tokio::test]
async fn dns_without_the_record_fails() {
    let server = dnsmasq().await;
    let reason = failed(run(&check(dns(DnsQueryType::Aaaa, "example.test"), SECOND), server.addr).await);
    assert_eq!(
        reason,
        format!("DNS AAAA example.test to {}: no AAAA record in the answer (0 record(s) of other types)", server.addr)
    );
    let reason = failed(run(&check(dns(DnsQueryType::A, "other.test"), SECOND), server.addr).await);
    assert!(reason.ends_with("answered NXDOMAIN (3)"), "{reason}");
}

#[tokio::test]
async fn dns_closed_port_fails_at_once() {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
    let start = Instant::now();
    let reason = failed(run(&check(dns(DnsQueryType::A, "example.test"), SECOND), addr).await);
    assert_eq!(reason, format!("{addr}: port unreachable (ICMP)"));
    assert!(start.elapsed() < Duration::from_millis(500));
}

/// A UDP server answering every datagram with `reply`.
async fn udp_server(reply: &'static [u8]) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((_, peer)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(reply, peer).await;
        }
    });
    addr
}

#[tokio::test]
async fn dns_garbage_is_not_an_answer() {
    let addr = udp_server(b"junk").await;
    let start = Instant::now();
    let reason = failed(run(&check(dns(DnsQueryType::A, "example.test"), SECOND), addr).await);
    assert!(reason.starts_with(&format!("timed out after 1s waiting for the DNS answer from {addr}")), "{reason}");
    assert!(reason.contains("ignored 1 datagram(s)") && reason.contains("\"junk\""), "{reason}");
    assert!(start.elapsed() < Duration::from_millis(1800));
}

#[tokio::test]
async fn dns_bad_name_fails() {
    let addr = udp_server(b"junk").await;
    let reason = failed(run(&check(dns(DnsQueryType::A, "a..b"), SECOND), addr).await);
    assert!(reason.contains("empty label"), "{reason}");
}

// ---- UDP_CHECK ----

/// An echo server.
async fn udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(&buf[..n], peer).await;
        }
    });
    addr
}

fn udp(payload: &[u8], reply: Option<Vec<Option<u8>>>, min: usize, max: usize) -> CheckKind {
    CheckKind::Udp(UdpCheck {
        payload: payload.to_vec(),
        require_reply: reply.map(ReplyPattern),
        min_reply_length: min,
        max_reply_length: max,
    })
}

#[tokio::test]
async fn udp_require_reply() {
    let addr = udp_echo().await;
    let ok = |kind| async move { run(&check(kind, SECOND), addr).await };
    assert_eq!(ok(udp(b"\x01\x02\x03", Some(vec![Some(1), None, Some(3)]), 0, 255)).await, Ok(Pass { weight: None }));
    // An empty pattern: any reply.
    assert!(ok(udp(b"ping", Some(vec![]), 0, 255)).await.is_ok());
    let reason = failed(ok(udp(b"\x01\x02\x03", Some(vec![Some(9)]), 0, 255)).await);
    assert!(reason.contains("does not match require_reply"), "{reason}");
    assert!(failed(ok(udp(b"ping", Some(vec![]), 5, 255)).await).contains("shorter than min_reply_length 5"));
    assert!(failed(ok(udp(b"ping", Some(vec![]), 0, 3)).await).contains("longer than max_reply_length 3"));
    // Without require_reply, a reply passes at once.
    let start = Instant::now();
    assert!(ok(udp(b"ping", None, 0, 255)).await.is_ok());
    assert!(start.elapsed() < Duration::from_millis(500));
}

#[tokio::test]
async fn udp_silent_listener() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    let short = Duration::from_millis(500);
    let start = Instant::now();
    assert!(run(&check(udp(b"ping", None, 0, 255), short), addr).await.is_ok());
    assert!(start.elapsed() >= Duration::from_millis(450));
    let reason = failed(run(&check(udp(b"ping", Some(vec![]), 0, 255), short), addr).await);
    assert_eq!(reason, format!("timed out after 500ms waiting for a reply from {addr}"));
    drop(socket);
}

#[tokio::test]
async fn udp_port_unreachable() {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
    for reply in [None, Some(vec![])] {
        let start = Instant::now();
        let reason = failed(run(&check(udp(b"ping", reply, 0, 255), SECOND), addr).await);
        assert_eq!(reason, format!("{addr}: port unreachable (ICMP)"));
        assert!(start.elapsed() < Duration::from_millis(500));
    }
}

// ---- PING_CHECK ----

/// ICMP needs root (raw socket) unless ping_group_range allows ping sockets: the repository's
/// convention is to fail when not root, unless RVS_SKIP_ROOT_TESTS=1.
fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("RVS_SKIP_ROOT_TESTS").as_deref() == Ok("1") {
        eprintln!("{test}: skipped, not root and RVS_SKIP_ROOT_TESTS=1");
        return false;
    }
    panic!("{test} needs root (set RVS_SKIP_ROOT_TESTS=1 to skip)");
}

#[tokio::test]
async fn ping_loopback() {
    if !root_or_skip("ping_loopback") {
        return;
    }
    for ip in ["127.0.0.1", "::1"] {
        let addr = SocketAddr::new(ip.parse().expect("ip"), 0);
        assert_eq!(run(&check(CheckKind::Ping, SECOND), addr).await, Ok(Pass { weight: None }), "{ip}");
    }
    // Several at once: each gets its own reply.
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let c = check(CheckKind::Ping, SECOND);
    let (a, b, d) = tokio::join!(run(&c, addr), run(&c, addr), run(&c, addr));
    assert!(a.is_ok() && b.is_ok() && d.is_ok());
}
