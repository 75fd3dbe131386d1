//! Putting an address on an interface and taking it off again, through rtnetlink.
//!
//! [`Netlink::claim`] is idempotent: an address already on the interface is not added twice,
//! and is remembered as not ours, so that [`Netlink::release`] leaves it where it was. Addresses
//! rvs adds carry a protocol mark ([`ADDRESS_PROTOCOL`], `IFA_PROTO`, as keepalived marks its
//! own): one found with that mark was left by an rvsd that did not stop cleanly, and is taken
//! back as ours, so that it does not stay behind for ever.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures_util::TryStreamExt;
use rtnetlink::Handle;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressProtocol, CacheInfo};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkLayerType};
use rvs_wire::EthernetAddress;

use super::{AddressError, InterfaceAddress};

/// The `IFA_PROTO` value on the addresses rvs adds (`ip addr` shows it as `proto 114`): an
/// unassigned number (the kernel's own are 1 to 3), 114 being ASCII `r`.
pub const ADDRESS_PROTOCOL: u8 = 114;

/// The longest interface name or address label the kernel takes (IFNAMSIZ less the NUL).
const IFNAME_MAX: usize = 15;

/// An interface, as far as owning an address on it and announcing that address goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its index.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Its Ethernet address; `None` on links that are not Ethernet (tunnels, loopback).
    pub mac: Option<EthernetAddress>,
    /// Whether it speaks ARP: Ethernet, and `IFF_NOARP` not set.
    pub arp: bool,
    /// Whether it is administratively up.
    pub up: bool,
    /// Whether it has a carrier (`IFF_LOWER_UP`): a pulled cable, or a veth whose peer is
    /// down, reads false while `up` stays true.
    pub carrier: bool,
}

/// An address on an interface, held by [`Netlink::claim`] until [`Netlink::release`].
#[must_use = "an address claim must be released, or the address stays on the interface"]
#[derive(Debug, PartialEq, Eq)]
pub struct Claim {
    address: InterfaceAddress,
    ifindex: u32,
    interface: String,
    label: Option<String>,
    ours: bool,
}

impl Claim {
    /// The address.
    pub fn address(&self) -> InterfaceAddress {
        self.address
    }

    /// The interface's index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Whether rvs put the address there (then releasing removes it), rather than finding it.
    pub fn is_ours(&self) -> bool {
        self.ours
    }
}

/// What [`Netlink::release`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// The address was ours and has been removed.
    Removed,
    /// The address was there before it was claimed: left in place.
    LeftInPlace,
    /// The address was ours, but someone else had removed it already.
    AlreadyGone,
}

/// One IPv4 address the kernel reported.
struct Found {
    ifindex: u32,
    prefix_len: u8,
    marked: bool,
    message: AddressMessage,
}

/// The [`Link`] a link message describes.
fn link_of(message: &rtnetlink::packet_route::link::LinkMessage, name: String) -> Link {
    let mut mac = None;
    for attr in &message.attributes {
        if let LinkAttribute::Address(bytes) = attr {
            mac = <[u8; 6]>::try_from(bytes.as_slice()).ok().map(EthernetAddress);
        }
    }
    let flags = message.header.flags;
    let ethernet = message.header.link_layer_type == LinkLayerType::Ether;
    let mac = mac.filter(|_| ethernet);
    Link {
        index: message.header.index,
        name,
        mac,
        arp: mac.is_some() && !flags.contains(LinkFlags::Noarp),
        up: flags.contains(LinkFlags::Up),
        carrier: flags.contains(LinkFlags::LowerUp),
    }
}

/// A connection to the kernel's rtnetlink, for links and addresses (cheap to clone).
#[derive(Clone)]
pub struct Netlink {
    handle: Handle,
}

impl Netlink {
    /// Opens the connection; its driver task runs on the current tokio runtime, which must exist.
    pub fn new() -> Result<Self, AddressError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| AddressError::Socket(io::Error::other(e)))?;
        let (connection, handle, _) = rtnetlink::new_connection().map_err(AddressError::Socket)?;
        runtime.spawn(connection);
        Ok(Netlink { handle })
    }

    /// The interface called `name`.
    pub async fn link(&self, name: &str) -> Result<Link, AddressError> {
        let missing = || AddressError::NoSuchInterface(name.to_owned());
        if name.is_empty() || name.len() > IFNAME_MAX || name.contains(['/', ':']) || name.contains(char::is_whitespace)
        {
            return Err(missing());
        }
        let mut links = self.handle.link().get().match_name(name.to_owned()).execute();
        match links.try_next().await {
            Ok(Some(message)) => Ok(link_of(&message, name.to_owned())),
            Ok(None) => Err(missing()),
            Err(e) if errno(&e) == Some(libc::ENODEV) => Err(missing()),
            Err(e) => Err(netlink_error(format!("looking up interface {name}"), e)),
        }
    }

    /// The interface with index `index` (whatever it is called now).
    pub async fn link_by_index(&self, index: u32) -> Result<Link, AddressError> {
        let missing = || AddressError::NoSuchInterface(format!("#{index}"));
        let mut links = self.handle.link().get().match_index(index).execute();
        match links.try_next().await {
            Ok(Some(message)) => {
                let name = message.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                });
                Ok(link_of(&message, name.unwrap_or_else(|| format!("#{index}"))))
            }
            Ok(None) => Err(missing()),
            Err(e) if errno(&e) == Some(libc::ENODEV) => Err(missing()),
            Err(e) => Err(netlink_error(format!("looking up interface #{index}"), e)),
        }
    }

    /// Makes sure `address` is on `link`, adding it (with `label`, such as piranha's `eth1:1`,
    /// if given) when it is not there. Fails if the address is on another interface, or on this
    /// one with another prefix length: then it belongs to someone else's configuration.
    pub async fn claim(
        &self,
        link: &Link,
        address: InterfaceAddress,
        label: Option<&str>,
    ) -> Result<Claim, AddressError> {
        self.claim_for(link, address, label, None).await
    }

    /// As [`Netlink::claim`], but an address rvs adds (or takes back) lives only `lifetime`
    /// unless [`Netlink::renew`] extends it: the kernel removes it by itself when the process
    /// that holds it dies without a word (`kill -9`), so that a dead director does not keep
    /// answering ARP for a floating address. An address found without rvs's mark is not
    /// touched.
    pub async fn claim_for(
        &self,
        link: &Link,
        address: InterfaceAddress,
        label: Option<&str>,
        lifetime: Option<Duration>,
    ) -> Result<Claim, AddressError> {
        if let Some(label) = label {
            check_label(label, &link.name)?;
        }
        let claim = |ours| Claim {
            address,
            ifindex: link.index,
            interface: link.name.clone(),
            label: label.map(str::to_owned),
            ours,
        };
        if let Some(found) = self.found_on(link, address).await? {
            let claim = claim(found.marked);
            if let (true, Some(lifetime)) = (claim.ours, lifetime) {
                self.renew(&claim, lifetime).await?;
            }
            return Ok(claim);
        }
        let request = self.add_request(link.index, address, label, lifetime, false);
        match request.execute().await {
            Ok(()) => Ok(claim(true)),
            // Added by someone else between the look and the add: theirs.
            Err(e) if errno(&e) == Some(libc::EEXIST) => match self.found_on(link, address).await? {
                Some(found) => Ok(claim(found.marked)),
                None => Err(netlink_error(format!("adding {address} to {}", link.name), e)),
            },
            Err(e) => Err(netlink_error(format!("adding {address} to {}", link.name), e)),
        }
    }

    /// Gives an address of [`Netlink::claim_for`] another `lifetime` (`ip addr change ...
    /// valid_lft`). Addresses that are not ours are left as they are.
    pub async fn renew(&self, claim: &Claim, lifetime: Duration) -> Result<(), AddressError> {
        if !claim.ours {
            return Ok(());
        }
        let request = self.add_request(claim.ifindex, claim.address, claim.label.as_deref(), Some(lifetime), true);
        request
            .execute()
            .await
            .map_err(|e| netlink_error(format!("renewing {} on {}", claim.address, claim.interface), e))
    }

    /// An RTM_NEWADDR for `address` with rvs's mark, `label` and `lifetime` (forever without).
    fn add_request(
        &self,
        ifindex: u32,
        address: InterfaceAddress,
        label: Option<&str>,
        lifetime: Option<Duration>,
        replace: bool,
    ) -> rtnetlink::AddressAddRequest {
        let mut request = self.handle.address().add(ifindex, IpAddr::V4(address.addr()), address.prefix_len());
        if replace {
            request = request.replace();
        }
        let message = request.message_mut();
        message.attributes.push(AddressAttribute::Protocol(AddressProtocol::from(ADDRESS_PROTOCOL)));
        if let Some(label) = label {
            message.attributes.push(AddressAttribute::Label(label.to_owned()));
        }
        if let Some(lifetime) = lifetime {
            // Whole seconds, at least one: 0 would mean "already expired".
            let secs = u32::try_from(lifetime.as_secs().max(1)).unwrap_or(u32::MAX - 1);
            let mut info = CacheInfo::default();
            info.ifa_valid = secs;
            info.ifa_preferred = secs;
            message.attributes.push(AddressAttribute::CacheInfo(info));
        }
        request
    }

    /// The interface's own IPv4 address: the first one rvs did not add (VRRP's source address,
    /// as keepalived takes it). `None` when it has none.
    pub async fn primary_ipv4(&self, link: &Link) -> Result<Option<Ipv4Addr>, AddressError> {
        let mut dump = self.handle.address().get().set_link_index_filter(link.index).execute();
        loop {
            let message = match dump.try_next().await {
                Ok(Some(message)) => message,
                Ok(None) => return Ok(None),
                Err(e) => return Err(netlink_error(format!("listing the addresses of {}", link.name), e)),
            };
            let mut local = None;
            let mut marked = false;
            for attr in &message.attributes {
                match attr {
                    AddressAttribute::Local(IpAddr::V4(a)) => local = Some(*a),
                    AddressAttribute::Protocol(p) => marked = u8::from(*p) == ADDRESS_PROTOCOL,
                    _ => {}
                }
            }
            if let (Some(addr), false) = (local, marked) {
                return Ok(Some(addr));
            }
        }
    }

    /// Removes `address` from `link` if an rvsd left it there (it carries rvs's mark): a
    /// floating address found at start-up belongs to an earlier run that did not stop cleanly,
    /// and must not be held by a director that is not master. Returns whether it was there.
    pub async fn remove_leftover(&self, link: &Link, address: InterfaceAddress) -> Result<bool, AddressError> {
        match self.found_on(link, address).await {
            Ok(Some(found)) if found.marked => {
                let claim = Claim {
                    address,
                    ifindex: link.index,
                    interface: link.name.clone(),
                    label: None,
                    ours: true,
                };
                Ok(self.release(claim).await? == Released::Removed)
            }
            Ok(_) | Err(AddressError::InUseElsewhere { .. } | AddressError::OtherPrefix { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the address up: removes it if it was ours and is still there, else leaves it.
    pub async fn release(&self, claim: Claim) -> Result<Released, AddressError> {
        if !claim.ours {
            return Ok(Released::LeftInPlace);
        }
        let addr = claim.address.addr();
        let found = self
            .find(addr)
            .await?
            .into_iter()
            .find(|f| f.ifindex == claim.ifindex && f.prefix_len == claim.address.prefix_len());
        let Some(found) = found else {
            return Ok(Released::AlreadyGone);
        };
        match self.handle.address().del(found.message).execute().await {
            Ok(()) => Ok(Released::Removed),
            Err(e) if errno(&e) == Some(libc::EADDRNOTAVAIL) => Ok(Released::AlreadyGone),
            Err(e) => Err(netlink_error(format!("removing {} from {}", claim.address, claim.interface), e)),
        }
    }

    /// Whether `address` (with its prefix length) is on interface `ifindex`.
    pub async fn has_address(&self, ifindex: u32, address: InterfaceAddress) -> Result<bool, AddressError> {
        let found = self.find(address.addr()).await?;
        Ok(found.iter().any(|f| f.ifindex == ifindex && f.prefix_len == address.prefix_len()))
    }

    /// The record of `address` on `link` if it is there; an error if it is elsewhere or has
    /// another prefix length.
    async fn found_on(&self, link: &Link, address: InterfaceAddress) -> Result<Option<Found>, AddressError> {
        let mut here = None;
        for found in self.find(address.addr()).await? {
            if found.ifindex != link.index {
                return Err(AddressError::InUseElsewhere {
                    address: address.addr(),
                    interface: self.link_name(found.ifindex).await,
                });
            }
            if found.prefix_len != address.prefix_len() {
                return Err(AddressError::OtherPrefix {
                    address,
                    existing: found.prefix_len,
                    interface: link.name.clone(),
                });
            }
            here = Some(found);
        }
        Ok(here)
    }

    /// Every record of the local address `addr`, on any interface.
    async fn find(&self, addr: Ipv4Addr) -> Result<Vec<Found>, AddressError> {
        let mut dump = self.handle.address().get().set_address_filter(IpAddr::V4(addr)).execute();
        let mut out = Vec::new();
        loop {
            let message = match dump.try_next().await {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(e) => return Err(netlink_error(format!("listing the addresses (looking for {addr})"), e)),
            };
            // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on
            // point-to-point links, and the same as IFA_LOCAL elsewhere.
            let mut local = None;
            let mut other = None;
            let mut marked = false;
            for attr in &message.attributes {
                match attr {
                    AddressAttribute::Local(IpAddr::V4(a)) => local = Some(*a),
                    AddressAttribute::Address(IpAddr::V4(a)) => other = Some(*a),
                    AddressAttribute::Protocol(p) => marked = u8::from(*p) == ADDRESS_PROTOCOL,
                    _ => {}
                }
            }
            if local.or(other) == Some(addr) {
                out.push(Found {
                    ifindex: message.header.index,
                    prefix_len: message.header.prefix_len,
                    marked,
                    message,
                });
            }
        }
        Ok(out)
    }

    /// The name of interface `ifindex`, or `#<index>` when it cannot be read.
    async fn link_name(&self, ifindex: u32) -> String {
        let mut links = self.handle.link().get().match_index(ifindex).execute();
        if let Ok(Some(message)) = links.try_next().await {
            for attr in message.attributes {
                if let LinkAttribute::IfName(name) = attr {
                    return name;
                }
            }
        }
        format!("#{ifindex}")
    }
}

/// A label must name the interface itself or one of its aliases (`eth1`, `eth1:1`), and fit in
/// IFNAMSIZ, as the kernel and iproute2 require.
fn check_label(label: &str, interface: &str) -> Result<(), AddressError> {
    let bad = |reason| AddressError::BadLabel { label: label.to_owned(), interface: interface.to_owned(), reason };
    if label.len() > IFNAME_MAX {
        return Err(bad("longer than 15 bytes"));
    }
    match label.strip_prefix(interface) {
        Some("") => Ok(()),
        Some(rest) if rest.starts_with(':') && rest.len() > 1 && !rest.contains(char::is_whitespace) => Ok(()),
        _ => Err(bad("must be the interface's name or <interface>:<alias>")),
    }
}

/// The errno a netlink error carries, if it is the kernel's refusal.
fn errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(message) => message.code.map(|c| -c.get()),
        _ => None,
    }
}

/// A netlink failure while `doing` something; the kernel's refusals read as errno texts.
fn netlink_error(doing: String, e: rtnetlink::Error) -> AddressError {
    let source = match &e {
        rtnetlink::Error::NetlinkError(message) if message.code.is_some() => message.to_io(),
        _ => io::Error::other(e.to_string()),
    };
    AddressError::Netlink { doing, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_interface_or_an_alias_of_it() {
        assert!(check_label("eth1", "eth1").is_ok());
        assert!(check_label("eth1:1", "eth1").is_ok());
        assert!(check_label("eth1:nat", "eth1").is_ok());
        for bad in ["eth2:1", "eth1:", "eth10", "eth1:1 x", "eth1:0123456789a"] {
            let err = check_label(bad, "eth1").unwrap_err();
            assert!(matches!(err, AddressError::BadLabel { .. }), "{bad}: {err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn kernel_refusals_keep_their_errno() {
        use std::num::NonZeroI32;
        let mut message = rtnetlink::packet_core::ErrorMessage::default();
        message.code = NonZeroI32::new(-libc::EPERM);
        let e = rtnetlink::Error::NetlinkError(message);
        assert_eq!(errno(&e), Some(libc::EPERM));
        let err = netlink_error("adding 10.0.0.254/16 to eth1".into(), e);
        let text = err.to_string();
        assert!(text.starts_with("adding 10.0.0.254/16 to eth1: "), "{text}");
        assert!(text.contains("not permitted"), "{text}");
        assert_eq!(errno(&rtnetlink::Error::RequestFailed), None);
    }
}
