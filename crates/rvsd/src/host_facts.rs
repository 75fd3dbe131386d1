//! What the table needs to know about the director host, gathered from the kernel before each
//! change (the table itself does no I/O): which addresses are local (a real server on the
//! director becomes "Local" forwarding, as `inet_addr_type() == RTN_LOCAL` decides in IPVS),
//! which are broadcast, and interface MTUs (sync-daemon message sizes).

use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, Ipv4Addr},
};

use rvs_core::{model::Operation, table::DirectorHost};
use rvs_dataplane::neigh::{Resolver, RouteKind};

/// Answers for the addresses one operation mentions.
#[derive(Debug, Default)]
pub struct HostFacts {
    local: HashSet<IpAddr>,
    broadcast: HashSet<Ipv4Addr>,
    mtus: HashMap<String, u32>,
}

impl HostFacts {
    /// Asks the kernel about the addresses in `op`.
    pub async fn gather(resolver: &Resolver, op: &Operation) -> Self {
        let mut facts = HostFacts::default();
        let mut addrs: Vec<IpAddr> = Vec::new();
        match op {
            Operation::AddService { spec } | Operation::EditService { spec } => addrs.push(spec.key.addr()),
            Operation::AddDest { service, dest } | Operation::EditDest { service, dest } => {
                addrs.push(service.addr());
                addrs.push(dest.addr);
            }
            Operation::StartDaemon { .. } => {
                facts.mtus = resolver.link_mtus().await.unwrap_or_default().into_iter().collect();
            }
            _ => {}
        }
        for addr in addrs {
            match addr {
                IpAddr::V4(v4) => match resolver.route_kind(v4).await {
                    Some(RouteKind::Local) => {
                        facts.local.insert(addr);
                    }
                    Some(RouteKind::Broadcast) => {
                        facts.broadcast.insert(v4);
                    }
                    _ => {}
                },
                IpAddr::V6(v6) if v6.is_loopback() => {
                    facts.local.insert(addr);
                }
                IpAddr::V6(_) => {}
            }
        }
        facts
    }
}

impl DirectorHost for HostFacts {
    fn is_local(&self, addr: IpAddr) -> bool {
        self.local.contains(&addr)
    }

    fn is_broadcast(&self, addr: Ipv4Addr) -> bool {
        self.broadcast.contains(&addr)
    }

    fn interface_mtu(&self, name: &str) -> Option<u32> {
        self.mtus.get(name).copied()
    }
}
