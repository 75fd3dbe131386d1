//! High availability for rvs: what makes an address *float* between directors.
//!
//! [`vrrp`] decides where an address lives: a sans-IO VRRP v2/v3 state machine with
//! keepalived's behaviour (its socket driver is to come). Then the two pieces every floating
//! address needs, whoever decides where it lives (rvsd's NAT router today, VRRP next):
//!
//! - [`address`]: putting an IPv4 address on an interface and taking it off again through
//!   rtnetlink, idempotently. An address that was there before is remembered as not ours and
//!   left in place.
//! - [`garp`]: telling the segment where the address now lives with gratuitous ARP, laid out
//!   as keepalived sends it, repeated on keepalived's schedule (a sans-IO [`garp::GarpSchedule`]
//!   driven by a small async loop) through an `AF_PACKET` socket.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rvs_ha::address::{InterfaceAddress, Netlink};
//! use rvs_ha::garp::{Announcer, GarpPolicy, GarpSocket};
//!
//! let netlink = Netlink::new()?;
//! let link = netlink.link("eth1").await?;
//! let address: InterfaceAddress = "10.0.0.254/16".parse()?;
//! let claim = netlink.claim(&link, address, None).await?;
//! let announcer = Announcer::new(GarpSocket::open()?, &link, vec![address.addr()])?;
//! let task = announcer.spawn(GarpPolicy::default());
//! // ... until the address must go:
//! task.stop().await;
//! netlink.release(claim).await?;
//! # Ok(()) }
//! ```
//!
//! Everything that touches the kernel needs CAP_NET_ADMIN (addresses) or CAP_NET_RAW (frames).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod address;
pub mod carrier;
pub mod garp;
pub mod router;
pub mod vrrp;
