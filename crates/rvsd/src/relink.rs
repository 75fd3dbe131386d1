//! What follows one of the director's links getting its carrier back: asking the real servers
//! behind it for their MAC addresses until the kernel has them.
//!
//! The kernel flushes an interface's neighbour entries when it loses its carrier. Once the link
//! is back, the path often does not work at once (a switch port comes up after the host's end,
//! spanning tree holds it longer), so the kernel's first ARP probe goes nowhere and the next one
//! is a second away (`retrans_time`); NAT forwarding hands packets without a resolved next hop
//! to the kernel (`nat.h`), which holds them meanwhile. A director that has just taken the VIPs
//! back would serve nothing for that second or two. Asking ourselves, every [`EVERY`] until
//! answered or for [`CHASE`] at most, gets the answer as soon as the path works: the reply
//! completes the kernel's pending entry and releases the packets it held, as if the kernel had
//! asked.

use std::time::Duration;

use rvs_dataplane::neigh::{NextHop, Resolver};
use rvs_ha::garp::GarpSocket;
use rvs_wire::EthernetAddress;
use rvs_wire::builder::FrameBuilder;

/// How long the real servers are asked for after the link is back.
pub const CHASE: Duration = Duration::from_secs(3);
/// How often.
pub const EVERY: Duration = Duration::from_millis(100);

/// Asks for the MAC of every next hop in `hops` that the kernel has not resolved, until it has
/// or [`CHASE`] is over.
pub async fn chase(resolver: Resolver, hops: Vec<NextHop>) {
    // Next hops the director has no source address for cannot be asked (nor forwarded to).
    let mut pending: Vec<NextHop> = hops.into_iter().filter(|h| h.src_ip.is_some()).collect();
    if pending.is_empty() {
        return;
    }
    let socket = match GarpSocket::open() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "link back: cannot open a socket to ask the real servers for their MAC; the kernel will in its own time");
            return;
        }
    };
    let started = tokio::time::Instant::now();
    let mut every = tokio::time::interval(EVERY);
    while started.elapsed() < CHASE {
        every.tick().await;
        let wanted: Vec<(u32, std::net::Ipv4Addr)> = pending.iter().map(|h| (h.ifindex, h.next_hop)).collect();
        let resolved = resolver.resolved(&wanted).await.unwrap_or_default();
        let mut unresolved = Vec::new();
        for hop in pending {
            if resolved.contains(&(hop.ifindex, hop.next_hop)) {
                tracing::debug!(next_hop = %hop.next_hop, after = ?started.elapsed(), "link back: real server resolved");
                continue;
            }
            if let Some(src) = hop.src_ip {
                let frame = FrameBuilder::arp_request(EthernetAddress(hop.src_mac), src, hop.next_hop).build();
                if let Err(e) = socket.send(hop.ifindex, &frame) {
                    tracing::debug!(next_hop = %hop.next_hop, error = %e, "link back: ARP request not sent");
                }
            }
            unresolved.push(hop);
        }
        pending = unresolved;
        if pending.is_empty() {
            return;
        }
    }
    let left: Vec<String> = pending.iter().map(|h| h.next_hop.to_string()).collect();
    tracing::warn!(next_hops = ?left, "link back: real servers still unresolved {}s after the link came back", CHASE.as_secs());
}
