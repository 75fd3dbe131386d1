//! `UDP_CHECK` (keepalived's check_udp.c): the payload is sent from a connected UDP socket, so
//! that an ICMP error for it comes back as a receive error.
//!
//! With `require_reply`, a reply must come within the timeout, between `min_reply_length` and
//! `max_reply_length` bytes long, and start with the pattern (`XX` bytes match anything).
//! Without it, the check fails only on an ICMP error (port unreachable …) within the timeout; a
//! reply passes at once, silence passes at the timeout.

use rvs_core::config::UdpCheck;

use super::net::{Deadline, Endpoint, connect_udp, io_reason, quote, unreachable_reason};
use super::{Failure, Pass, ProbeResult};

pub(super) async fn probe(check: &UdpCheck, endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    let dest = endpoint.dest;
    let socket = connect_udp(endpoint).await?;
    deadline
        .run(|| format!("sending to {dest}"), async {
            socket.send(&check.payload).await.map_err(|e| Failure::new(format!("send to {dest}: {}", io_reason(&e))))
        })
        .await?;
    // One byte more than the longest reply accepted, to tell a longer one.
    let mut buf = vec![0u8; check.max_reply_length.saturating_add(1).clamp(1, 65536)];
    let n = match tokio::time::timeout_at(deadline.at(), socket.recv(&mut buf)).await {
        Err(_) if check.require_reply.is_some() => {
            return Err(deadline.timed_out(&format!("waiting for a reply from {dest}")));
        }
        Err(_) => return Ok(Pass::UP),
        Ok(Err(e)) => return Err(Failure::new(unreachable_reason(&e, dest))),
        Ok(Ok(n)) => n,
    };
    match &check.require_reply {
        None => Ok(Pass::UP),
        Some(pattern) => {
            let reply = &buf[..n];
            if n < check.min_reply_length {
                Err(Failure::new(format!(
                    "{dest}: reply of {n} bytes is shorter than min_reply_length {}",
                    check.min_reply_length
                )))
            } else if n > check.max_reply_length {
                Err(Failure::new(format!(
                    "{dest}: reply longer than max_reply_length {}",
                    check.max_reply_length
                )))
            } else if !pattern.matches(reply) {
                Err(Failure::new(format!("{dest}: reply {} does not match require_reply", quote(reply, 64))))
            } else {
                Ok(Pass::UP)
            }
        }
    }
}
