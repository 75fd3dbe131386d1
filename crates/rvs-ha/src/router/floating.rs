//! The virtual addresses of an instance while it is master: added with a lifetime the running
//! router keeps renewing (so that the kernel drops them by itself if rvsd dies without a word),
//! and announced with gratuitous ARP on keepalived's schedule.

use std::time::Duration;

use crate::address::{Claim, InterfaceAddress, Netlink, Released};
use crate::garp::{Announcer, AnnouncerTask, GarpPolicy, GarpSocket};

/// One `virtual_ipaddress` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatingAddress {
    pub address: InterfaceAddress,
    /// The interface it goes on.
    pub interface: String,
    /// Its label (`eth1:1`).
    pub label: Option<String>,
}

/// The addresses held, and their announcers.
#[derive(Debug, Default)]
pub(super) struct Held {
    claims: Vec<Claim>,
    announcers: Vec<AnnouncerTask>,
}

/// Adds every address and starts announcing them, one announcer per interface. An address
/// that cannot be added is logged and skipped: the others still move, as keepalived does.
pub(super) async fn take(
    netlink: &Netlink,
    addresses: &[FloatingAddress],
    policy: GarpPolicy,
    lifetime: Duration,
) -> Held {
    let mut held = Held::default();
    let mut interfaces: Vec<&str> = Vec::new();
    for a in addresses {
        if !interfaces.contains(&a.interface.as_str()) {
            interfaces.push(&a.interface);
        }
    }
    for interface in interfaces {
        let link = match netlink.link(interface).await {
            Ok(link) => link,
            Err(e) => {
                tracing::error!(%interface, error = %e, "cannot take the virtual addresses of this interface");
                continue;
            }
        };
        let mut announced = Vec::new();
        for a in addresses.iter().filter(|a| a.interface == interface) {
            match netlink.claim_for(&link, a.address, a.label.as_deref(), Some(lifetime)).await {
                Ok(claim) => {
                    announced.push(a.address.addr());
                    held.claims.push(claim);
                }
                Err(e) => tracing::error!(address = %a.address, %interface, error = %e, "cannot add virtual address"),
            }
        }
        let socket = match GarpSocket::open() {
            Ok(socket) => socket,
            Err(e) => {
                tracing::error!(%interface, error = %e, "no gratuitous ARP: cannot open the socket");
                continue;
            }
        };
        match Announcer::new(socket, &link, announced) {
            Ok(announcer) => held.announcers.push(announcer.spawn(policy)),
            Err(e) => tracing::warn!(%interface, error = %e, "the virtual addresses will not be announced"),
        }
    }
    held
}

/// Gives every address another `lifetime`.
pub(super) async fn renew(netlink: &Netlink, held: &Held, lifetime: Duration) {
    for claim in &held.claims {
        if let Err(e) = netlink.renew(claim, lifetime).await {
            tracing::warn!(address = %claim.address(), error = %e, "cannot renew virtual address");
        }
    }
}

/// Stops announcing and removes the addresses.
pub(super) async fn release(netlink: &Netlink, held: Held) {
    for announcer in held.announcers {
        announcer.stop().await;
    }
    for claim in held.claims {
        let address = claim.address();
        match netlink.release(claim).await {
            Ok(Released::Removed | Released::AlreadyGone) => {}
            Ok(Released::LeftInPlace) => tracing::info!(%address, "virtual address left in place (it was there before rvsd)"),
            Err(e) => tracing::error!(%address, error = %e, "cannot remove virtual address"),
        }
    }
}

/// Removes the addresses an earlier rvsd left (killed while master): a director that starts
/// is not master yet, and must not answer for them.
pub(super) async fn remove_leftovers(netlink: &Netlink, addresses: &[FloatingAddress]) {
    for a in addresses {
        let Ok(link) = netlink.link(&a.interface).await else { continue };
        match netlink.remove_leftover(&link, a.address).await {
            Ok(true) => tracing::warn!(address = %a.address, interface = %a.interface, "removed a virtual address an earlier rvsd left"),
            Ok(false) => {}
            Err(e) => tracing::warn!(address = %a.address, error = %e, "cannot check for a leftover virtual address"),
        }
    }
}
