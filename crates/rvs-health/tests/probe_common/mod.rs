//! What the probe tests share: checks and targets, a time bound, real servers on loopback.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use rvs_core::config::{Check, CheckKind, CheckTarget, CheckTiming};
use rvs_core::model::Weight;
use rvs_health::probe::{ProbeResult, ProbeTarget, probe};
use tokio::net::TcpListener;

/// A check of `kind` with keepalived's timing and this connect_timeout.
pub fn check(kind: CheckKind, timeout: Duration) -> Check {
    let mut timing = CheckTiming::keepalived_default(&kind);
    timing.connect_timeout = timeout;
    Check { kind, timing, target: CheckTarget::default() }
}

pub fn weight(n: u32) -> Weight {
    Weight::new(n).expect("a weight")
}

pub fn target(addr: SocketAddr) -> ProbeTarget {
    ProbeTarget { addr: addr.ip(), port: addr.port(), weight: weight(1) }
}

/// Runs one probe, failing the test if it outlives `timeout` + 2 s.
pub async fn run(check: &Check, addr: SocketAddr) -> ProbeResult {
    let bound = check.timing.connect_timeout + Duration::from_secs(2);
    bounded(bound, probe(check, &target(addr))).await
}

/// The reason of a failed probe (the test fails on a pass).
pub fn failed(result: ProbeResult) -> String {
    match result {
        Ok(pass) => panic!("expected a failure, got {pass:?}"),
        Err(failure) => failure.reason,
    }
}

/// Awaits `fut`, failing the test past `limit`.
pub async fn bounded<T>(limit: Duration, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| panic!("still running after {limit:?}"))
}

/// A free TCP port on 127.0.0.1 (bound, then released) for servers that pick no port themselves.
pub fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

/// A TCP server that answers every connection with `reply`, then closes it.
pub async fn raw_server(reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let _ = stream.write_all(reply).await;
                let _ = stream.shutdown().await;
                // Let the peer read before the socket goes.
                tokio::time::sleep(Duration::from_millis(200)).await;
            });
        }
    });
    addr
}

/// A TCP server that accepts and never says anything.
pub async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    addr
}

/// Waits until `addr` accepts TCP connections (a server started as a process).
pub async fn wait_tcp(addr: SocketAddr) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {addr} after 5s");
}
