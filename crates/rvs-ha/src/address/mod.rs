//! Floating IPv4 addresses on the director's interfaces: the address type, and adding and
//! removing it through rtnetlink.

mod interface_address;
mod netlink;

use std::io;
use std::net::Ipv4Addr;

pub use interface_address::{AddressParseError, InterfaceAddress};
pub use netlink::{ADDRESS_PROTOCOL, Claim, Link, Netlink, Released};

/// What can go wrong owning an address on an interface.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// The rtnetlink socket could not be opened (or there is no tokio runtime to drive it).
    #[error("opening an rtnetlink socket: {0}")]
    Socket(#[source] io::Error),
    /// The kernel refused, or netlink failed, while doing something.
    #[error("{doing}: {source}")]
    Netlink {
        /// What was being done (`adding 10.0.0.254/16 to eth1`).
        doing: String,
        /// The kernel's answer.
        #[source]
        source: io::Error,
    },
    /// There is no interface by that name in this network namespace.
    #[error("interface {0} does not exist in this network namespace")]
    NoSuchInterface(String),
    /// The address is already on another interface.
    #[error("{address} is already on interface {interface}; an address can be owned on one interface only")]
    InUseElsewhere {
        /// The address.
        address: Ipv4Addr,
        /// The interface that has it.
        interface: String,
    },
    /// The address is on the interface already, with another prefix length.
    #[error(
        "{interface} already has {addr}/{existing}, which is not {address}: remove it or give the same prefix length",
        addr = address.addr()
    )]
    OtherPrefix {
        /// The address as asked for.
        address: InterfaceAddress,
        /// The prefix length it has on the interface.
        existing: u8,
        /// The interface.
        interface: String,
    },
    /// An address label the kernel would refuse or that names another interface.
    #[error("address label {label:?} on {interface}: {reason}")]
    BadLabel {
        /// The label.
        label: String,
        /// The interface it was meant for.
        interface: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
