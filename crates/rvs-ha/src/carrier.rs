//! Which of a director's interfaces are down (administratively, or without carrier: a pulled
//! cable, a dead switch port), followed through the kernel's link notifications, as
//! `ip monitor link` shows them, and read again every [`RESYNC`] in case a notification was
//! lost (a netlink socket drops them when its buffer is full).
//!
//! rvsd's health checks use it (a check that fails while the director's own link is down is not
//! counted against the real server, `rvs_health::own_links`), and so does its next-hop
//! resolution (the real servers behind a link that comes back are asked for their MAC at once).
//!
//! Interfaces are followed by the index they had at start, as the XDP program is attached by
//! index: a renamed interface is still the same one. One that is gone counts as down.

use std::time::Duration;

use futures_util::StreamExt;
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::link::{LinkFlags, LinkMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rvs_core::links::Carrier;
use tokio::sync::watch;

use crate::address::{AddressError, Netlink};

/// How often every watched interface is read again, notifications or not.
pub const RESYNC: Duration = Duration::from_secs(2);

/// A running watch; dropping it stops it (the receivers then see the channel closed).
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
    /// Its index at start; `None` if it did not exist then (it is looked up by name until it
    /// does).
    index: Option<u32>,
    down: bool,
}

/// The watched interfaces and the count of returns.
struct State {
    links: Vec<Watched>,
    returns: u64,
}

impl State {
    fn report(&self) -> Carrier {
        Carrier {
            down: self.links.iter().filter(|w| w.down).map(|w| w.name.clone()).collect(),
            up_indexes: self.links.iter().filter(|w| !w.down).filter_map(|w| w.index).collect(),
            returns: self.returns,
        }
    }

    /// Sets one interface's state, counting a return.
    fn set(&mut self, i: usize, down: bool) {
        let w = &mut self.links[i];
        if w.down && !down {
            self.returns += 1;
        }
        w.down = down;
    }

    /// Follows one notification; true if it was about a watched interface.
    fn follow(&mut self, message: &RouteNetlinkMessage) -> bool {
        let (link, down): (&LinkMessage, bool) = match message {
            RouteNetlinkMessage::NewLink(link) => (link, is_down(link.header.flags)),
            // A deleted interface carries nothing any more.
            RouteNetlinkMessage::DelLink(link) => (link, true),
            _ => return false,
        };
        // A bridge port's own messages (AF_BRIDGE) say nothing of the interface's carrier.
        if link.header.interface_family != AddressFamily::Unspec {
            return false;
        }
        let Some(i) = self.links.iter().position(|w| w.index == Some(link.header.index)) else { return false };
        self.set(i, down);
        true
    }

    /// Reads every interface again: by its index when it had one at start, else by name. A
    /// failed read other than "no such interface" leaves the state as it was.
    async fn resync(&mut self, netlink: &Netlink) {
        for i in 0..self.links.len() {
            let read = match self.links[i].index {
                Some(index) => netlink.link_by_index(index).await,
                None => netlink.link(&self.links[i].name).await,
            };
            match read {
                Ok(link) => {
                    self.links[i].index = Some(link.index);
                    self.set(i, !(link.up && link.carrier));
                }
                Err(AddressError::NoSuchInterface(_)) => self.set(i, true),
                Err(e) => tracing::debug!(interface = %self.links[i].name, error = %e, "carrier watch: cannot read the interface; its state stays"),
            }
        }
    }
}

/// Publishes `now` if it differs from what the receivers hold.
fn publish(tx: &watch::Sender<Carrier>, now: Carrier) {
    tx.send_if_modified(|held| {
        let changed = *held != now;
        *held = now;
        changed
    });
}

/// Starts watching `names`. Needs a tokio runtime.
pub async fn watch_carrier(names: &[String]) -> Result<(CarrierWatch, watch::Receiver<Carrier>), AddressError> {
    // Subscribe before the first read, so that no change falls between the two.
    let (connection, _, mut messages) = rtnetlink::new_multicast_connection(&[MulticastGroup::Link]).map_err(AddressError::Socket)?;
    let netlink = Netlink::new()?;
    let mut state = State { links: names.iter().map(|n| Watched { name: n.clone(), index: None, down: false }).collect(), returns: 0 };
    state.resync(&netlink).await;
    // What start found is not a return.
    state.returns = 0;
    let (tx, rx) = watch::channel(state.report());
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
                            && state.follow(inner)
                        {
                            publish(&tx, state.report());
                        }
                    }
                    None => notified = false,
                },
                _ = every.tick() => {
                    state.resync(&netlink).await;
                    publish(&tx, state.report());
                }
            }
        }
    });
    Ok((CarrierWatch { task }, rx))
}
