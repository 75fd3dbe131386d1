//! What the checkers share: the attempt's deadline, where to connect from and to, TCP and UDP
//! sockets bound to `bindto`/`bind_port`, and the wording of failures.

use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::Instant;

use super::Failure;

/// Where a probe connects to (`connect_ip`/`connect_port` already applied) and from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Endpoint {
    pub dest: SocketAddr,
    pub bind_ip: Option<IpAddr>,
    pub bind_port: Option<u16>,
}

impl Endpoint {
    /// The local address to bind to, when `bindto` or `bind_port` is set.
    pub fn local(&self) -> Result<Option<SocketAddr>, Failure> {
        if self.bind_ip.is_none() && self.bind_port.is_none() {
            return Ok(None);
        }
        let unspecified = match self.dest {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let ip = self.bind_ip.unwrap_or(unspecified);
        if ip.is_ipv4() != self.dest.is_ipv4() {
            return Err(Failure::new(format!(
                "bindto {ip} is not of the address family of {}",
                self.dest
            )));
        }
        Ok(Some(SocketAddr::new(ip, self.bind_port.unwrap_or(0))))
    }
}

/// The end of an attempt: every step of a probe runs within it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    pub fn after(limit: Duration) -> Self {
        // A limit too far away to add (a mistyped configuration) is as good as a year.
        let now = Instant::now();
        Deadline { at: now.checked_add(limit).unwrap_or(now + Duration::from_secs(365 * 86_400)), limit }
    }

    pub fn at(&self) -> Instant {
        self.at
    }

    /// The failure of a step still running at the deadline, "timed out after 5s {doing}".
    pub fn timed_out(&self, doing: &str) -> Failure {
        Failure::new(format!("timed out after {} {doing}", fmt_duration(self.limit)))
    }

    /// Runs one step of the probe; past the deadline it fails with "timed out after … {doing}".
    pub async fn run<T>(
        &self,
        doing: impl FnOnce() -> String,
        step: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout_at(self.at, step).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out(&doing())),
        }
    }
}

/// A TCP connection to the endpoint, from `bindto`/`bind_port` when set.
pub(super) async fn connect_tcp(endpoint: &Endpoint, deadline: &Deadline) -> Result<TcpStream, Failure> {
    let dest = endpoint.dest;
    let socket = match dest {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| Failure::new(format!("cannot open a TCP socket: {}", io_reason(&e))))?;
    if let Some(local) = endpoint.local()? {
        if local.port() != 0 {
            // A fixed source port is reused by every attempt: allow it in TIME_WAIT.
            socket
                .set_reuseaddr(true)
                .map_err(|e| Failure::new(format!("bind to {local}: {}", io_reason(&e))))?;
        }
        socket.bind(local).map_err(|e| Failure::new(format!("bind to {local}: {}", io_reason(&e))))?;
    }
    deadline
        .run(|| format!("connecting to {dest}"), async {
            socket
                .connect(dest)
                .await
                .map_err(|e| Failure::new(format!("connect to {dest}: {}", io_reason(&e))))
        })
        .await
}

/// A UDP socket connected to the endpoint (so that ICMP errors come back as receive errors),
/// bound to `bindto`/`bind_port` when set.
pub(super) async fn connect_udp(endpoint: &Endpoint) -> Result<UdpSocket, Failure> {
    let dest = endpoint.dest;
    let local = match endpoint.local()? {
        Some(local) => local,
        None if dest.is_ipv4() => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        None => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| Failure::new(format!("bind to {local}: {}", io_reason(&e))))?;
    socket
        .connect(dest)
        .await
        .map_err(|e| Failure::new(format!("connect to {dest}: {}", io_reason(&e))))?;
    Ok(socket)
}

/// Whether a receive error on a connected UDP socket is an ICMP error from the far side.
pub(super) fn unreachable_reason(e: &io::Error, dest: SocketAddr) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => format!("{dest}: port unreachable (ICMP)"),
        _ => format!("{dest}: {}", io_reason(e)),
    }
}

/// An I/O error as a short lower-case phrase: "connection refused", "no route to host".
pub(super) fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", e.kind()),
    }
}

/// A duration as an operator writes it: "5s", "1.5s", "250ms".
pub(super) fn fmt_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// Bytes from the network quoted for a message: printable ASCII as is, the rest escaped,
/// at most `max` bytes ("…" after a cut).
pub(super) fn quote(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max) + 2);
    out.push('"');
    for &b in bytes.iter().take(max) {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if bytes.len() > max {
        out.push('…');
    }
    out
}

/// Lower-case hex of some bytes.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Random bytes from the OS; a failure of the OS's generator fails the probe.
pub(super) fn random<const N: usize>() -> Result<[u8; N], Failure> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| Failure::new(format!("no random numbers from the OS: {e}")))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_reasons_are_short() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(io_reason(&e), "connection refused");
        let e = io::Error::other("Weird thing");
        assert_eq!(io_reason(&e), "weird thing");
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_secs(5)), "5s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(b"500 go away\r\n", 64), "\"500 go away\\r\\n\"");
        assert_eq!(quote(b"abcdef", 3), "\"abc\"…");
        assert_eq!(quote(&[0, 0xff], 8), "\"\\x00\\xff\"");
    }

    #[test]
    fn bind_family_must_match() {
        let endpoint = Endpoint {
            dest: SocketAddr::from(([127, 0, 0, 1], 80)),
            bind_ip: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            bind_port: None,
        };
        assert!(endpoint.local().is_err());
        let endpoint = Endpoint { bind_ip: None, bind_port: Some(4000), ..endpoint };
        assert_eq!(endpoint.local(), Ok(Some(SocketAddr::from(([0, 0, 0, 0], 4000)))));
    }
}
