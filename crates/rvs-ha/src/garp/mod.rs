//! Gratuitous ARP: telling a segment that an address now lives at this interface's MAC, so
//! that neighbours update their ARP caches at once instead of when their entries go stale.
//!
//! - [`frame`]: the frame, exactly as keepalived builds it.
//! - [`GarpSocket`]: sending it through `AF_PACKET`.
//! - [`GarpPolicy`] / [`GarpSchedule`]: how many, when, with keepalived's settings, sans-IO.
//! - [`drive`] / [`Announcer`]: the schedule run on tokio's clock.

mod announce;
pub mod frame;
mod schedule;
mod socket;

use std::io;

pub use announce::{Announcer, AnnouncerTask, drive};
pub use schedule::{GarpCause, GarpPolicy, GarpRound, GarpSchedule, GarpStep};
pub use socket::GarpSocket;

/// What can go wrong sending gratuitous ARPs.
#[derive(Debug, thiserror::Error)]
pub enum GarpError {
    /// The `AF_PACKET` socket could not be opened (it needs CAP_NET_RAW).
    #[error("opening an AF_PACKET socket for gratuitous ARP (needs CAP_NET_RAW): {0}")]
    Open(#[source] io::Error),
    /// A frame could not be sent (interface down or gone, ...).
    #[error("sending a gratuitous ARP on interface #{ifindex}: {source}")]
    Send {
        /// The interface.
        ifindex: u32,
        /// The kernel's answer.
        #[source]
        source: io::Error,
    },
    /// The interface has no Ethernet address, or does not do ARP (`NOARP`).
    #[error("interface {0} does not do ARP (not Ethernet, or NOARP): addresses on it cannot be announced")]
    NoArp(String),
}
