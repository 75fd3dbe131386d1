//! Links, IPv4 addresses and the default route of the namespace `rvs` runs in, through
//! rtnetlink, behind a blocking interface (the rest of `rvs realserver` is sequential).

use std::net::Ipv4Addr;

use anyhow::{Context, Result, anyhow};
use futures_util::TryStreamExt;
use rtnetlink::{
    Handle, LinkUnspec, RouteMessageBuilder,
    packet_route::{
        AddressFamily,
        address::{AddressAttribute, AddressMessage},
        link::{LinkAttribute, LinkFlags},
        route::{RouteAddress, RouteAttribute, RouteType},
    },
};

use super::spec::IfName;

/// One network interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Its index.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Administratively up.
    pub up: bool,
    /// The loopback device.
    pub loopback: bool,
    /// Speaks no ARP (tunnels, `ip link set … arp off`).
    pub noarp: bool,
}

/// One IPv4 address of an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    /// The interface's index.
    pub index: u32,
    /// The interface's name.
    pub dev: String,
    /// The address.
    pub addr: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
}

/// The main table's default route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultRoute {
    /// The interface it leaves through.
    pub dev: String,
    /// Its gateway, if any.
    pub gateway: Option<Ipv4Addr>,
}

/// An rtnetlink connection with a runtime to drive it.
pub struct Net {
    rt: tokio::runtime::Runtime,
    handle: Handle,
}

impl Net {
    /// Opens a netlink socket in this process's network namespace.
    pub fn open() -> Result<Net> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the netlink runtime")?;
        let handle = rt.block_on(async {
            let (conn, handle, _) =
                rtnetlink::new_connection().context("opening a netlink socket")?;
            tokio::spawn(conn);
            Ok::<_, anyhow::Error>(handle)
        })?;
        Ok(Net { rt, handle })
    }

    /// Every interface.
    pub fn links(&self) -> Result<Vec<Link>> {
        self.rt.block_on(async {
            let mut out = Vec::new();
            let mut links = self.handle.link().get().execute();
            while let Some(msg) = links.try_next().await.context("listing interfaces")? {
                let name = msg.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                });
                let Some(name) = name else { continue };
                let flags = msg.header.flags;
                out.push(Link {
                    index: msg.header.index,
                    name,
                    up: flags.contains(LinkFlags::Up),
                    loopback: flags.contains(LinkFlags::Loopback),
                    noarp: flags.contains(LinkFlags::Noarp),
                });
            }
            Ok(out)
        })
    }

    /// The interface called `name`, if there is one.
    pub fn link(&self, name: &str) -> Result<Option<Link>> {
        Ok(self.links()?.into_iter().find(|l| l.name == name))
    }

    /// The interface called `name`, or an error saying it does not exist.
    pub fn require_link(&self, name: &IfName) -> Result<Link> {
        self.link(name.as_str())?.ok_or_else(|| {
            anyhow!("there is no interface {name} in this network namespace (see `ip link`)")
        })
    }

    /// Every IPv4 address, with its interface's name.
    pub fn addresses(&self) -> Result<Vec<Addr>> {
        let links = self.links()?;
        let messages = self.address_messages()?;
        Ok(messages
            .iter()
            .filter_map(|msg| {
                let addr = local_of(msg)?;
                let dev = links
                    .iter()
                    .find(|l| l.index == msg.header.index)?
                    .name
                    .clone();
                Some(Addr {
                    index: msg.header.index,
                    dev,
                    addr,
                    prefix_len: msg.header.prefix_len,
                })
            })
            .collect())
    }

    fn address_messages(&self) -> Result<Vec<AddressMessage>> {
        self.rt.block_on(async {
            let mut out = Vec::new();
            let mut addrs = self.handle.address().get().execute();
            while let Some(msg) = addrs.try_next().await.context("listing addresses")? {
                if msg.header.family == AddressFamily::Inet {
                    out.push(msg);
                }
            }
            Ok(out)
        })
    }

    /// `ip addr add <addr>/<prefix_len> dev <link>`.
    pub fn add_address(&self, link: &Link, addr: Ipv4Addr, prefix_len: u8) -> Result<()> {
        self.rt
            .block_on(
                self.handle
                    .address()
                    .add(link.index, addr.into(), prefix_len)
                    .execute(),
            )
            .with_context(|| format!("adding {addr}/{prefix_len} to {}", link.name))
    }

    /// `ip addr del <addr>/<prefix_len> dev <link>`; `false` when it was not there.
    pub fn del_address(&self, link: &Link, addr: Ipv4Addr, prefix_len: u8) -> Result<bool> {
        let found = self.address_messages()?.into_iter().find(|m| {
            m.header.index == link.index
                && m.header.prefix_len == prefix_len
                && local_of(m) == Some(addr)
        });
        let Some(msg) = found else { return Ok(false) };
        self.rt
            .block_on(self.handle.address().del(msg).execute())
            .with_context(|| format!("removing {addr}/{prefix_len} from {}", link.name))?;
        Ok(true)
    }

    /// `ip link set <link> up|down`.
    pub fn set_up(&self, link: &Link, up: bool) -> Result<()> {
        let builder = LinkUnspec::new_with_index(link.index);
        let msg = if up { builder.up() } else { builder.down() }.build();
        self.rt
            .block_on(self.handle.link().set(msg).execute())
            .with_context(|| format!("setting {} {}", link.name, if up { "up" } else { "down" }))
    }

    /// The main table's default route with the lowest metric, if any.
    pub fn default_route(&self) -> Result<Option<DefaultRoute>> {
        let links = self.links()?;
        self.rt.block_on(async {
            let msg = RouteMessageBuilder::<Ipv4Addr>::new().build();
            let mut routes = self.handle.route().get(msg).execute();
            let mut best: Option<(u32, DefaultRoute)> = None;
            while let Some(route) = routes.try_next().await.context("listing routes")? {
                let main = route.header.table
                    == rtnetlink::packet_route::route::RouteHeader::RT_TABLE_MAIN;
                if route.header.destination_prefix_length != 0
                    || !main
                    || route.header.kind != RouteType::Unicast
                {
                    continue;
                }
                let mut oif = None;
                let mut gateway = None;
                let mut metric = 0;
                for attr in &route.attributes {
                    match attr {
                        RouteAttribute::Oif(i) => oif = Some(*i),
                        RouteAttribute::Gateway(RouteAddress::Inet(g)) => gateway = Some(*g),
                        RouteAttribute::Priority(p) => metric = *p,
                        _ => {}
                    }
                }
                let Some(dev) = oif.and_then(|i| links.iter().find(|l| l.index == i)) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(m, _)| metric < *m) {
                    best = Some((
                        metric,
                        DefaultRoute {
                            dev: dev.name.clone(),
                            gateway,
                        },
                    ));
                }
            }
            Ok(best.map(|(_, r)| r))
        })
    }
}

/// The address of an IPv4 address message (`IFA_LOCAL`, else `IFA_ADDRESS`).
fn local_of(msg: &AddressMessage) -> Option<Ipv4Addr> {
    let v4 = |a: &std::net::IpAddr| match a {
        std::net::IpAddr::V4(v) => Some(*v),
        std::net::IpAddr::V6(_) => None,
    };
    msg.attributes
        .iter()
        .find_map(|a| match a {
            AddressAttribute::Local(ip) => v4(ip),
            _ => None,
        })
        .or_else(|| {
            msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(ip) => v4(ip),
                _ => None,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtnetlink::packet_route::address::AddressHeader;

    fn message(attrs: Vec<AddressAttribute>) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header = AddressHeader {
            family: AddressFamily::Inet,
            prefix_len: 32,
            ..msg.header
        };
        msg.attributes = attrs;
        msg
    }

    #[test]
    fn the_local_address_wins_over_the_peer_address() {
        let local = Ipv4Addr::new(10, 0, 0, 1);
        let peer = Ipv4Addr::new(10, 0, 0, 2);
        let msg = message(vec![
            AddressAttribute::Address(peer.into()),
            AddressAttribute::Local(local.into()),
        ]);
        assert_eq!(local_of(&msg), Some(local));
        let msg = message(vec![AddressAttribute::Address(peer.into())]);
        assert_eq!(local_of(&msg), Some(peer));
        assert_eq!(local_of(&message(vec![])), None);
    }
}
