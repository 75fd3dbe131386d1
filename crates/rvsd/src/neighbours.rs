//! The next hops of the real servers: one neighbour slot per real-server address, resolved
//! through the kernel and kept fresh.
//!
//! A published neighbour slot never changes; when a next hop's MAC or interface changes, a new
//! slot is written and the destinations are repointed to it with one atomic store each, so a
//! packet never sees half an address.

use std::{collections::HashMap, net::Ipv4Addr, time::Duration};

use rvs_dataplane::{
    Dataplane, DataplaneError,
    abi::RVS_MAX_NEIGHS,
    alloc::SlotAllocator,
    neigh::{NeighError, NextHop, Resolver},
    program::{NeighSpec, Programmer},
};

/// How long an `rvsadm -a` waits for a new real server's MAC before answering anyway.
pub const FIRST_RESOLVE_WAIT: Duration = Duration::from_millis(500);
/// How long a periodic refresh waits per next hop.
pub const REFRESH_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug)]
struct Entry {
    slot: u32,
    hop: Option<NextHop>,
    users: usize,
}

/// Neighbour slots by real-server address.
#[derive(Debug)]
pub struct Neighbours {
    slots: SlotAllocator,
    by_addr: HashMap<Ipv4Addr, Entry>,
}

impl Default for Neighbours {
    fn default() -> Self {
        // Slot 0 stays all-zero: "not resolved", for destinations that need no next hop.
        Self { slots: SlotAllocator::new(1, RVS_MAX_NEIGHS), by_addr: HashMap::new() }
    }
}

/// A change of next hop that destinations must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    /// The real server address.
    pub addr: Ipv4Addr,
    /// Its new neighbour slot.
    pub slot: u32,
}

fn spec(hop: &NextHop) -> Option<NeighSpec> {
    hop.dst_mac.map(|dst_mac| NeighSpec {
        dst_mac,
        src_mac: hop.src_mac,
        ifindex: hop.ifindex,
        src_ip: hop.src_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
        mtu: hop.mtu,
    })
}

impl Neighbours {
    /// The neighbour slot for `addr`, resolving it the first time (up to `FIRST_RESOLVE_WAIT`).
    pub async fn acquire(
        &mut self,
        resolver: &Resolver,
        dp: &Dataplane,
        prog: &Programmer,
        addr: Ipv4Addr,
        now: Duration,
    ) -> Result<u32, DataplaneError> {
        if let Some(e) = self.by_addr.get_mut(&addr) {
            e.users += 1;
            return Ok(e.slot);
        }
        let hop = match resolver.resolve(addr, FIRST_RESOLVE_WAIT).await {
            Ok(hop) => hop,
            Err(e) => {
                tracing::warn!(%addr, error = %e, "cannot resolve the real server's next hop yet");
                None
            }
        };
        if hop.is_some_and(|h| h.dst_mac.is_none()) {
            tracing::warn!(%addr, "real server's MAC address not resolved yet; will keep probing");
        }
        let slot = self.slots.alloc(now).ok_or(DataplaneError::SlotRange { what: "neigh", slot: RVS_MAX_NEIGHS, max: RVS_MAX_NEIGHS })?;
        prog.install_neigh(dp, slot, hop.as_ref().and_then(spec).as_ref())?;
        self.by_addr.insert(addr, Entry { slot, hop, users: 1 });
        Ok(slot)
    }

    /// One destination stopped using `addr`'s next hop.
    pub fn release(&mut self, addr: Ipv4Addr, now: Duration) {
        if let Some(e) = self.by_addr.get_mut(&addr) {
            e.users = e.users.saturating_sub(1);
            if e.users == 0 {
                self.slots.release(e.slot, now);
                self.by_addr.remove(&addr);
            }
        }
    }

    /// The addresses currently tracked.
    pub fn addrs(&self) -> Vec<Ipv4Addr> {
        self.by_addr.keys().copied().collect()
    }

    /// The known next hops out of the interfaces `ifindexes`, each once.
    pub fn hops_on(&self, ifindexes: &[u32]) -> Vec<NextHop> {
        let mut hops: Vec<NextHop> = Vec::new();
        for hop in self.by_addr.values().filter_map(|e| e.hop).filter(|h| ifindexes.contains(&h.ifindex)) {
            if !hops.iter().any(|h| (h.ifindex, h.next_hop) == (hop.ifindex, hop.next_hop)) {
                hops.push(hop);
            }
        }
        hops
    }

    /// Re-resolves `addr`; when its next hop changed, publishes a new slot and reports it.
    pub async fn refresh_one(
        &mut self,
        resolver: &Resolver,
        dp: &Dataplane,
        prog: &Programmer,
        addr: Ipv4Addr,
        now: Duration,
    ) -> Result<Option<Moved>, RefreshError> {
        let hop = resolver.resolve(addr, REFRESH_WAIT).await?;
        let Some(e) = self.by_addr.get(&addr) else { return Ok(None) };
        // Keep a known MAC while a refresh is still probing.
        let hop = match (hop, e.hop) {
            (Some(new), Some(old)) if new.dst_mac.is_none() && new.ifindex == old.ifindex => Some(NextHop { dst_mac: old.dst_mac, ..new }),
            (h, _) => h,
        };
        if hop == e.hop {
            return Ok(None);
        }
        let slot = self.slots.alloc(now).ok_or(RefreshError::Full)?;
        prog.install_neigh(dp, slot, hop.as_ref().and_then(spec).as_ref())?;
        let old = self.by_addr.insert(addr, Entry { slot, hop, users: e.users });
        if let Some(old) = old {
            self.slots.release(old.slot, now);
            tracing::info!(%addr, ?hop, "real server's next hop changed");
        }
        Ok(Some(Moved { addr, slot }))
    }
}

/// Why a refresh failed (logged; the old next hop stays in use).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The kernel could not tell.
    #[error(transparent)]
    Neigh(#[from] NeighError),
    /// The map write failed.
    #[error(transparent)]
    Dataplane(#[from] DataplaneError),
    /// No free neighbour slot.
    #[error("no free neighbour slot")]
    Full,
}
