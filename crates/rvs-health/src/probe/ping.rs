//! `PING_CHECK` (keepalived's check_ping.c): one ICMP (or ICMPv6) echo request, passed by the
//! matching echo reply.
//!
//! The socket is a ping socket (`SOCK_DGRAM`, `IPPROTO_ICMP`) where `net.ipv4.ping_group_range`
//! allows it, else a raw socket (root, or `CAP_NET_RAW`). keepalived widens ping_group_range for
//! root instead; rvs does not change sysctls. The socket is connected to the real server (a raw
//! socket then only gets its packets), bound to `bindto` when set. A reply matches on sequence
//! number and a random 16-byte token in the data, and on the identifier with a raw socket (a
//! ping socket's identifier is its port, set by the kernel).

use std::io::{self, Read as _};
use std::net::{IpAddr, SocketAddr};

use rvs_wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;

use super::net::{Deadline, Endpoint, io_reason, random};
use super::{Failure, Pass, ProbeResult};

const ICMPV6_ECHO_REQUEST: u8 = 128;
const ICMPV6_ECHO_REPLY: u8 = 129;

/// What is sent, and so what the reply must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Echo {
    pub ident: u16,
    pub seq_no: u16,
    pub token: [u8; 16],
}

pub(super) async fn probe(endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    let dest = endpoint.dest.ip();
    let [a, b, c, d] = random::<4>()?;
    let echo = Echo { ident: u16::from_be_bytes([a, b]), seq_no: u16::from_be_bytes([c, d]), token: random()? };
    let (socket, raw) = open(endpoint)?;
    // SAFETY: a socket2::Socket owns its descriptor: it stays open, the same, until the
    // AsyncFd (which owns the Socket) is dropped.
    let socket = unsafe { AsyncFd::register(socket) }
        .map_err(|e| Failure::new(format!("ICMP socket: {}", io_reason(&e.into()))))?;
    let request = match dest {
        IpAddr::V4(_) => request_v4(&echo),
        IpAddr::V6(_) => request_v6(&echo),
    };
    deadline
        .run(|| format!("sending the echo request to {dest}"), async {
            loop {
                let mut ready = socket.writable().await.map_err(|e| send_failure(dest, &e))?;
                match ready.try_io(|s| s.get_ref().send(&request)) {
                    Ok(Ok(_)) => return Ok(()),
                    Ok(Err(e)) => return Err(send_failure(dest, &e)),
                    Err(_would_block) => continue,
                }
            }
        })
        .await?;
    let mut buf = [0u8; 2048];
    deadline
        .run(|| format!("waiting for the echo reply from {dest}"), async {
            loop {
                let mut ready = socket.readable().await.map_err(|e| recv_failure(dest, &e))?;
                let n = match ready.try_io(|s| s.get_ref().read(&mut buf)) {
                    Ok(Ok(n)) => n,
                    Ok(Err(e)) => return Err(recv_failure(dest, &e)),
                    Err(_would_block) => continue,
                };
                let reply = &buf[..n];
                let matched = match dest {
                    IpAddr::V4(_) if raw => is_reply_v4_raw(reply, &echo),
                    IpAddr::V4(_) => is_reply_v4(reply, &echo, false),
                    IpAddr::V6(_) => is_reply_v6(reply, &echo, raw),
                };
                if matched {
                    return Ok(Pass::UP);
                }
            }
        })
        .await
}

fn send_failure(dest: IpAddr, e: &io::Error) -> Failure {
    Failure::new(format!("echo request to {dest}: {}", io_reason(e)))
}

fn recv_failure(dest: IpAddr, e: &io::Error) -> Failure {
    Failure::new(format!("ping {dest}: {}", io_reason(e)))
}

/// A ping socket, or else a raw one (`true`), bound and connected.
fn open(endpoint: &Endpoint) -> Result<(Socket, bool), Failure> {
    let dest = endpoint.dest.ip();
    let (domain, protocol) = match dest {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    let (socket, raw) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(socket) => (socket, false),
        Err(dgram) => match Socket::new(domain, Type::RAW, Some(protocol)) {
            Ok(socket) => (socket, true),
            Err(e) => {
                return Err(Failure::new(format!(
                    "cannot open an ICMP socket (ping socket: {}; raw socket: {}): needs root, CAP_NET_RAW or net.ipv4.ping_group_range",
                    io_reason(&dgram),
                    io_reason(&e)
                )));
            }
        },
    };
    let fail = |what: &str, e: io::Error| Failure::new(format!("ICMP socket to {dest}: {what}: {}", io_reason(&e)));
    socket.set_nonblocking(true).map_err(|e| fail("non-blocking", e))?;
    if let Some(ip) = endpoint.bind_ip {
        if ip.is_ipv4() != dest.is_ipv4() {
            return Err(Failure::new(format!("bindto {ip} is not of the address family of {dest}")));
        }
        socket.bind(&SockAddr::from(SocketAddr::new(ip, 0))).map_err(|e| fail(&format!("bind to {ip}"), e))?;
    }
    socket.connect(&SockAddr::from(SocketAddr::new(dest, 0))).map_err(|e| fail("connect", e))?;
    Ok((socket, raw))
}

/// An ICMP echo request with the token as data (the kernel fills a ping socket's identifier).
pub(super) fn request_v4(echo: &Echo) -> Vec<u8> {
    let repr = Icmpv4Repr::EchoRequest { ident: echo.ident, seq_no: echo.seq_no, data: &echo.token };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    buf
}

/// An ICMPv6 echo request; its checksum is left to the kernel (it fills it for ICMPv6
/// sockets, raw ones included).
pub(super) fn request_v6(echo: &Echo) -> Vec<u8> {
    let mut buf = vec![ICMPV6_ECHO_REQUEST, 0, 0, 0];
    buf.extend_from_slice(&echo.ident.to_be_bytes());
    buf.extend_from_slice(&echo.seq_no.to_be_bytes());
    buf.extend_from_slice(&echo.token);
    buf
}

/// Whether an IPv4 datagram from a raw socket (IP header included) is the reply.
pub(super) fn is_reply_v4_raw(datagram: &[u8], echo: &Echo) -> bool {
    match Ipv4Packet::new_checked(datagram) {
        Ok(ip) if ip.protocol() == IpProtocol::Icmp => is_reply_v4(ip.payload(), echo, true),
        _ => false,
    }
}

/// Whether an ICMP message is the reply (the identifier checked only when `check_ident`).
pub(super) fn is_reply_v4(message: &[u8], echo: &Echo, check_ident: bool) -> bool {
    let Ok(packet) = Icmpv4Packet::new_checked(message) else { return false };
    match Icmpv4Repr::parse(&packet) {
        Ok(Icmpv4Repr::EchoReply { ident, seq_no, data }) => {
            (!check_ident || ident == echo.ident) && seq_no == echo.seq_no && data == echo.token
        }
        _ => false,
    }
}

/// Whether an ICMPv6 message is the reply.
pub(super) fn is_reply_v6(message: &[u8], echo: &Echo, check_ident: bool) -> bool {
    match message {
        [ICMPV6_ECHO_REPLY, 0, _, _, i0, i1, s0, s1, data @ ..] => {
            (!check_ident || u16::from_be_bytes([*i0, *i1]) == echo.ident)
                && u16::from_be_bytes([*s0, *s1]) == echo.seq_no
                && data == echo.token
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO: Echo = Echo { ident: 0x1234, seq_no: 7, token: [0xab; 16] };

    /// The reply a host makes of a request: type 0, checksum adjusted.
    fn reply_of(request: &[u8], ident: u16) -> Vec<u8> {
        let Ok(packet) = Icmpv4Packet::new_checked(request) else { return Vec::new() };
        let Ok(Icmpv4Repr::EchoRequest { seq_no, data, .. }) = Icmpv4Repr::parse(&packet) else {
            return Vec::new();
        };
        let repr = Icmpv4Repr::EchoReply { ident, seq_no, data };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        buf
    }

    #[test]
    fn v4_requests_and_replies() {
        let request = request_v4(&ECHO);
        assert_eq!(&request[..2], &[8, 0]);
        assert_eq!(request.len(), 8 + 16);
        let reply = reply_of(&request, 0x1234);
        assert!(is_reply_v4(&reply, &ECHO, true));
        // The request itself (seen on a raw socket over loopback) is not the reply.
        assert!(!is_reply_v4(&request, &ECHO, true));
        // A ping socket's identifier is rewritten by the kernel.
        let rewritten = reply_of(&request, 0x9999);
        assert!(!is_reply_v4(&rewritten, &ECHO, true));
        assert!(is_reply_v4(&rewritten, &ECHO, false));
        let other = Echo { token: [0; 16], ..ECHO };
        assert!(!is_reply_v4(&reply, &other, true));
        let mut corrupt = reply.clone();
        corrupt[10] ^= 1;
        assert!(!is_reply_v4(&corrupt, &ECHO, true));
        assert!(!is_reply_v4(&reply[..6], &ECHO, true));
    }

    #[test]
    fn v4_raw_datagrams() {
        let reply = reply_of(&request_v4(&ECHO), 0x1234);
        let total = (20 + reply.len()) as u16;
        let mut datagram = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
        datagram[2..4].copy_from_slice(&total.to_be_bytes());
        datagram.extend_from_slice(&reply);
        assert!(is_reply_v4_raw(&datagram, &ECHO));
        datagram[9] = 17;
        assert!(!is_reply_v4_raw(&datagram, &ECHO));
        assert!(!is_reply_v4_raw(&reply, &ECHO));
    }

    #[test]
    fn v6_replies() {
        let mut reply = request_v6(&ECHO);
        assert_eq!(reply[0], ICMPV6_ECHO_REQUEST);
        assert!(!is_reply_v6(&reply, &ECHO, true));
        reply[0] = ICMPV6_ECHO_REPLY;
        assert!(is_reply_v6(&reply, &ECHO, true));
        reply[4] = 0;
        assert!(!is_reply_v6(&reply, &ECHO, true));
        assert!(is_reply_v6(&reply, &ECHO, false));
        assert!(!is_reply_v6(&reply[..10], &ECHO, false));
    }
}
