//! What follows one of the director's links getting its carrier back: asking the real servers
//! behind it for their MAC addresses until the kernel has them.
//!
//! The kernel flushes an interface's neighbour entries when it loses its carrier. Once the link
//! is back, the path often does not work at once (a switch port comes up after the host's end,
//! spanning tree holds it longer), so the kernel's first ARP probe goes nowhere and the next one
//! is a second away (`retrans_time`); NAT forwarding hands packets without a resolved next hop
//! to the kernel (`nat.h`), which holds them meanwhile. A director that has just taken the VIPs
//! back would serve nothing for that second or two. So, when a link is back: the entries of
//! its interfaces that are still being resolved or failed are flushed (a deleted entry is
//! probed at the first packet; one between two probes waits for the next), the kernel is asked
//! to resolve every real server behind it, and then we ask ourselves, every [`EVERY`] until
//! answered or for [`CHASE`] at most: the reply completes the kernel's pending entry and
//! releases the packets it held, as if the kernel had asked.

use std::sync::Arc;
use std::time::Duration;

use rvs_core::links::Carrier;
use rvs_dataplane::neigh::{NextHop, Resolver};
use rvs_ha::garp::GarpSocket;
use rvs_wire::EthernetAddress;
use rvs_wire::builder::FrameBuilder;
use tokio::sync::{Mutex, watch};

use crate::director::Director;

/// How long the real servers are asked for after the link is back.
pub const CHASE: Duration = Duration::from_secs(3);
/// How often.
pub const EVERY: Duration = Duration::from_millis(100);

/// Runs until aborted: on every return the carrier watch counts, the interfaces that are up are
/// relinked. A new return replaces a chase still running (it covers the same next hops).
pub async fn follow(director: Arc<Mutex<Director>>, mut links: watch::Receiver<Carrier>) {
    let mut seen = links.borrow_and_update().returns;
    let mut chase_task: Option<tokio::task::JoinHandle<()>> = None;
    while links.changed().await.is_ok() {
        let report: Carrier = links.borrow_and_update().clone();
        if report.returns == seen {
            continue;
        }
        seen = report.returns;
        // Only the next hops are taken under the lock; the netlink work is done outside it.
        let (resolver, hops) = director.lock().await.relink_targets(&report.up_indexes);
        if let Some(previous) = chase_task.take() {
            previous.abort();
        }
        chase_task = Some(tokio::spawn(relink(resolver, report.up_indexes, hops)));
    }
    if let Some(task) = chase_task {
        task.abort();
    }
}

/// Flushes the unresolved neighbour entries of `ifindexes`, has the kernel probe every next
/// hop in `hops`, then chases them.
async fn relink(resolver: Resolver, ifindexes: Vec<u32>, hops: Vec<NextHop>) {
    for ifindex in ifindexes {
        match resolver.flush_unresolved(ifindex).await {
            Ok(n) => tracing::info!(ifindex, flushed = n, "link back: its unresolved neighbour entries are flushed and its real servers resolved again"),
            Err(e) => tracing::warn!(ifindex, error = %e, "link back: cannot flush its unresolved neighbour entries"),
        }
    }
    for hop in &hops {
        if let Err(e) = resolver.probe(hop.ifindex, hop.next_hop).await {
            tracing::debug!(next_hop = %hop.next_hop, error = %e, "link back: cannot have the kernel probe a real server");
        }
    }
    chase(resolver, hops).await;
}

/// Asks for the MAC of every next hop in `hops` that the kernel has not resolved, until it has
/// or [`CHASE`] is over.
async fn chase(resolver: Resolver, hops: Vec<NextHop>) {
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
