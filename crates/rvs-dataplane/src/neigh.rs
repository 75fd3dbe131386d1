//! Next-hop resolution through the kernel's routing and neighbour tables (rtnetlink).
//!
//! The director never sends the forwarded packets through the kernel, so the kernel would never
//! resolve or refresh the real servers' MAC addresses by itself: the daemon asks for a route to
//! each real server, then for the next hop's neighbour entry, and when that is missing or stale
//! it asks the kernel to probe (`NTF_USE`, as `ip neigh … use` does), then reads the answer.

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Duration,
};

use futures_util::TryStreamExt;
use rtnetlink::{
    Handle, RouteMessageBuilder,
    packet_route::{
        link::LinkAttribute,
        neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState},
        route::{RouteAddress, RouteAttribute, RouteType},
    },
};

/// Errors talking to the kernel's tables.
#[derive(Debug, thiserror::Error)]
pub enum NeighError {
    /// A netlink request failed.
    #[error("netlink: {0}")]
    Netlink(#[from] rtnetlink::Error),
    /// Opening the netlink socket failed.
    #[error("netlink socket: {0}")]
    Socket(#[from] std::io::Error),
    /// No route to the address.
    #[error("no route to {0}")]
    NoRoute(Ipv4Addr),
    /// The route's interface has no usable MAC address.
    #[error("interface {0} has no Ethernet address")]
    NoLinkAddress(u32),
}

/// Where the kernel would send a packet for an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The address is the director's own (IPVS's "Local" forwarding).
    Local,
    /// Out of `ifindex`, to `next_hop` (the address itself when on-link, else a gateway).
    Via {
        /// Egress interface.
        ifindex: u32,
        /// The neighbour to address frames to.
        next_hop: Ipv4Addr,
        /// Whether the next hop is a gateway rather than the address itself.
        gateway: bool,
        /// The source address the kernel would use (the route's preferred source).
        src: Option<Ipv4Addr>,
    },
}

/// The kind of route the kernel has for an address (as `inet_addr_type()` sees it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    /// One of the director's own addresses.
    Local,
    /// A broadcast address.
    Broadcast,
    /// Anything else that is routable.
    Unicast,
}

/// A fully resolved next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextHop {
    /// Egress interface.
    pub ifindex: u32,
    /// Next hop address.
    pub next_hop: Ipv4Addr,
    /// Next hop MAC (None while unresolved).
    pub dst_mac: Option<[u8; 6]>,
    /// Egress interface MAC.
    pub src_mac: [u8; 6],
    /// The director's source address towards the destination (outer source of tunnels).
    pub src_ip: Option<Ipv4Addr>,
    /// Egress interface MTU.
    pub mtu: u32,
}

/// Whether a neighbour entry in `state` has a MAC the director can send to.
fn usable(state: NeighbourState) -> bool {
    !matches!(state, NeighbourState::Incomplete | NeighbourState::Failed | NeighbourState::None)
}

/// The IPv4 address a neighbour entry is for.
fn destination(n: &NeighbourMessage) -> Option<Ipv4Addr> {
    n.attributes.iter().find_map(|attr| match attr {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => Some(*a),
        _ => None,
    })
}

/// A handle on rtnetlink for resolving next hops.
#[derive(Clone)]
pub struct Resolver {
    handle: Handle,
}

impl Resolver {
    /// Opens a netlink connection; its driver task is spawned on the current tokio runtime.
    pub fn new() -> Result<Self, NeighError> {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        Ok(Self { handle })
    }

    /// The kernel's route to `dst` (as `ip route get`).
    pub async fn route(&self, dst: Ipv4Addr) -> Result<Route, NeighError> {
        let msg = RouteMessageBuilder::<Ipv4Addr>::new().destination_prefix(dst, 32).build();
        let mut routes = self.handle.route().get(msg).execute();
        let Some(route) = routes.try_next().await? else {
            return Err(NeighError::NoRoute(dst));
        };
        if route.header.kind == RouteType::Local {
            return Ok(Route::Local);
        }
        let mut ifindex = None;
        let mut gateway = None;
        let mut src = None;
        for attr in &route.attributes {
            match attr {
                RouteAttribute::Oif(i) => ifindex = Some(*i),
                RouteAttribute::Gateway(RouteAddress::Inet(g)) => gateway = Some(*g),
                RouteAttribute::PrefSource(RouteAddress::Inet(s)) => src = Some(*s),
                _ => {}
            }
        }
        let ifindex = ifindex.ok_or(NeighError::NoRoute(dst))?;
        Ok(Route::Via { ifindex, next_hop: gateway.unwrap_or(dst), gateway: gateway.is_some(), src })
    }

    /// The kind of the kernel's route to `addr`, or `None` when there is no route.
    pub async fn route_kind(&self, addr: Ipv4Addr) -> Option<RouteKind> {
        let msg = RouteMessageBuilder::<Ipv4Addr>::new().destination_prefix(addr, 32).build();
        let mut routes = self.handle.route().get(msg).execute();
        let route = routes.try_next().await.ok()??;
        Some(match route.header.kind {
            RouteType::Local => RouteKind::Local,
            RouteType::Broadcast => RouteKind::Broadcast,
            _ => RouteKind::Unicast,
        })
    }

    /// Every interface's name and MTU.
    pub async fn link_mtus(&self) -> Result<Vec<(String, u32)>, NeighError> {
        let mut out = Vec::new();
        let mut links = self.handle.link().get().execute();
        while let Some(link) = links.try_next().await? {
            let mut name = None;
            let mut mtu = None;
            for attr in link.attributes {
                match attr {
                    LinkAttribute::IfName(n) => name = Some(n),
                    LinkAttribute::Mtu(m) => mtu = Some(m),
                    _ => {}
                }
            }
            if let (Some(n), Some(m)) = (name, mtu) {
                out.push((n, m));
            }
        }
        Ok(out)
    }

    /// Whether `addr` is one of the director's own addresses.
    pub async fn is_local(&self, addr: Ipv4Addr) -> bool {
        matches!(self.route(addr).await, Ok(Route::Local))
    }

    /// The Ethernet address and MTU of an interface.
    pub async fn link_info(&self, ifindex: u32) -> Result<([u8; 6], u32), NeighError> {
        let mut links = self.handle.link().get().match_index(ifindex).execute();
        while let Some(link) = links.try_next().await? {
            let mut mac = None;
            let mut mtu = 1500;
            for attr in link.attributes {
                match attr {
                    LinkAttribute::Address(a) => mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
                    LinkAttribute::Mtu(m) => mtu = m,
                    _ => {}
                }
            }
            if let Some(mac) = mac {
                return Ok((mac, mtu));
            }
        }
        Err(NeighError::NoLinkAddress(ifindex))
    }

    /// The kernel's current neighbour entry for `ip` on `ifindex`: its MAC when usable.
    pub async fn neighbour(&self, ifindex: u32, ip: Ipv4Addr) -> Result<Option<([u8; 6], NeighbourState)>, NeighError> {
        let mut entries = self.handle.neighbours().get().execute();
        while let Some(n) = entries.try_next().await? {
            if n.header.ifindex != ifindex || destination(&n) != Some(ip) {
                continue;
            }
            let mac = n.attributes.iter().find_map(|attr| match attr {
                NeighbourAttribute::LinkLayerAddress(l) => <[u8; 6]>::try_from(l.as_slice()).ok(),
                _ => None,
            });
            return Ok(mac.filter(|_| usable(n.header.state)).map(|m| (m, n.header.state)));
        }
        Ok(None)
    }

    /// Which of `wanted` (interface, address) have a usable neighbour entry: one table dump for
    /// all of them.
    pub async fn resolved(&self, wanted: &[(u32, Ipv4Addr)]) -> Result<Vec<(u32, Ipv4Addr)>, NeighError> {
        let wanted: std::collections::HashSet<&(u32, Ipv4Addr)> = wanted.iter().collect();
        let mut found = Vec::new();
        let mut entries = self.handle.neighbours().get().execute();
        while let Some(n) = entries.try_next().await? {
            if let Some(a) = destination(&n).filter(|a| usable(n.header.state) && wanted.contains(&(n.header.ifindex, *a))) {
                found.push((n.header.ifindex, a));
            }
        }
        Ok(found)
    }

    /// Deletes the neighbour entries of `ifindex` that are still being resolved or failed;
    /// returns how many. The kernel flushes an interface's entries when it loses its carrier,
    /// and while it has none they are re-created and fail. Once it is back, an entry caught
    /// between two probes holds every packet to that neighbour until its next probe, up to a
    /// second later (NAT forwarding hands such packets to the kernel, see `nat.h`); a deleted
    /// entry is probed at the first packet. Every such entry of the interface goes, the
    /// gateway's or a peer's too, with the packets queued on it: they were waiting on a probe
    /// that went into the dead link.
    pub async fn flush_unresolved(&self, ifindex: u32) -> Result<usize, NeighError> {
        let mut stale = Vec::new();
        let mut entries = self.handle.neighbours().get().execute();
        while let Some(n) = entries.try_next().await? {
            if n.header.ifindex == ifindex && matches!(n.header.state, NeighbourState::Incomplete | NeighbourState::Failed) {
                stale.push(n);
            }
        }
        let mut flushed = 0;
        for n in stale {
            match self.handle.neighbours().del(n).execute().await {
                Ok(()) => flushed += 1,
                // Gone meanwhile (resolved and replaced, or expired): nothing to flush.
                Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENOENT => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(flushed)
    }

    /// Asks the kernel to (re)resolve `ip` on `ifindex` without sending it any data.
    pub async fn probe(&self, ifindex: u32, ip: Ipv4Addr) -> Result<(), NeighError> {
        let mut req = self.handle.neighbours().add(ifindex, IpAddr::V4(ip)).replace();
        req.message_mut().header.state = NeighbourState::None;
        req.message_mut().header.flags = NeighbourFlags::Use;
        req.execute().await?;
        Ok(())
    }

    /// Resolves the next hop towards `dst`, probing and waiting up to `wait` for the MAC.
    /// Returns `Ok(None)` for a local address.
    pub async fn resolve(&self, dst: Ipv4Addr, wait: Duration) -> Result<Option<NextHop>, NeighError> {
        let Route::Via { ifindex, next_hop, src, .. } = self.route(dst).await? else {
            return Ok(None);
        };
        let (src_mac, mtu) = self.link_info(ifindex).await?;
        let mut hop = NextHop { ifindex, next_hop, dst_mac: None, src_mac, src_ip: src, mtu };
        if let Some((mac, state)) = self.neighbour(ifindex, next_hop).await? {
            hop.dst_mac = Some(mac);
            if matches!(state, NeighbourState::Reachable | NeighbourState::Permanent | NeighbourState::Noarp) {
                return Ok(Some(hop));
            }
        }
        // Missing or stale: have the kernel probe it, then poll for the answer.
        self.probe(ifindex, next_hop).await?;
        let deadline = tokio::time::Instant::now() + wait;
        let mut delay = Duration::from_millis(1);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(delay).await;
            if let Some((mac, state)) = self.neighbour(ifindex, next_hop).await? {
                hop.dst_mac = Some(mac);
                if !matches!(state, NeighbourState::Delay | NeighbourState::Probe) {
                    return Ok(Some(hop));
                }
            }
            delay = (delay * 2).min(Duration::from_millis(50));
        }
        Ok(Some(hop))
    }
}
