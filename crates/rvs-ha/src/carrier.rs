//! Which of a director's interfaces are down (administratively, or without carrier: a pulled
//! cable, a dead switch port), followed through the kernel's link notifications, as
//! `ip monitor link` shows them, and read again every [`RESYNC`] in case a notification was
//! lost (a netlink socket drops them when its buffer is full).
//!
//! rvsd's health checks use it: a check that fails while the director's own link is down is not
//! counted against the real server (`rvs_health::own_links`).

use std::time::Duration;

use futures_util::StreamExt;
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::link::{LinkFlags, LinkMessage};
use tokio::sync::watch;

use crate::address::{AddressError, Netlink};

/// How often every watched interface is read again, notifications or not.
pub const RESYNC: Duration = Duration::from_secs(2);

/// A running watch; dropping it stops it (the receivers then keep the last list).
pub struct CarrierWatch {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CarrierWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn is_down(flags: LinkFlags) -> bool {
    !(flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::LowerUp))
}

/// One watched interface.
struct Watched {
    name: String,
    /// Its index when it was last read; `None` while it does not exist.
    index: Option<u32>,
    down: bool,
}

/// The names of the interfaces that are down.
fn down(watched: &[Watched]) -> Vec<String> {
    watched.iter().filter(|w| w.down).map(|w| w.name.clone()).collect()
}

/// Follows one notification; true if it was about a watched interface.
fn follow(watched: &mut [Watched], message: &RouteNetlinkMessage) -> bool {
    let (link, is_down): (&LinkMessage, bool) = match message {
        RouteNetlinkMessage::NewLink(link) => (link, is_down(link.header.flags)),
        // A deleted interface carries nothing any more.
        RouteNetlinkMessage::DelLink(link) => (link, true),
        _ => return false,
    };
    let mut ours = false;
    for w in watched.iter_mut().filter(|w| w.index == Some(link.header.index)) {
        w.down = is_down;
        ours = true;
    }
    ours
}

/// Reads every interface again by name (its index changes if it was re-created). One that does
/// not exist is down.
async fn resync(watched: &mut [Watched], netlink: &Netlink) {
    for w in watched.iter_mut() {
        match netlink.link(&w.name).await {
            Ok(link) => {
                w.index = Some(link.index);
                w.down = !(link.up && link.carrier);
            }
            Err(_) => {
                w.index = None;
                w.down = true;
            }
        }
    }
}

/// Publishes `now` if it differs from what the receivers hold.
fn publish(tx: &watch::Sender<Vec<String>>, now: Vec<String>) {
    tx.send_if_modified(|held| {
        let changed = *held != now;
        *held = now;
        changed
    });
}

/// Starts watching `names`; the receiver holds the names of those that are down now, in the
/// order given. An interface that does not exist counts as down. Needs a tokio runtime.
pub async fn watch_carrier(names: &[String]) -> Result<(CarrierWatch, watch::Receiver<Vec<String>>), AddressError> {
    // Subscribe before the first read, so that no change falls between the two.
    let (connection, _, mut messages) = rtnetlink::new_multicast_connection(&[MulticastGroup::Link]).map_err(AddressError::Socket)?;
    let netlink = Netlink::new()?;
    let mut watched: Vec<Watched> = names.iter().map(|n| Watched { name: n.clone(), index: None, down: true }).collect();
    resync(&mut watched, &netlink).await;
    let (tx, rx) = watch::channel(down(&watched));
    let task = tokio::spawn(async move {
        tokio::pin!(connection);
        let mut notified = true;
        let mut every = tokio::time::interval(RESYNC);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // The connection ended: the periodic reads go on alone.
                () = &mut connection, if notified => notified = false,
                message = messages.next(), if notified => match message {
                    Some((message, _)) => {
                        if let NetlinkPayload::InnerMessage(inner) = &message.payload
                            && follow(&mut watched, inner)
                        {
                            publish(&tx, down(&watched));
                        }
                    }
                    None => notified = false,
                },
                _ = every.tick() => {
                    resync(&mut watched, &netlink).await;
                    publish(&tx, down(&watched));
                }
            }
        }
    });
    Ok((CarrierWatch { task }, rx))
}
