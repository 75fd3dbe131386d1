//! Programming the data plane: services, real servers, next hops and settings, written so that
//! packets in flight always see a consistent picture.
//!
//! Order of publication: a destination slot and its neighbour are written before any service
//! lists the slot; a service's ring and list are written into a fresh pool region before the
//! service's hash entry (which points at them) is replaced; old regions are freed after a grace
//! period.

use std::{collections::HashMap, net::Ipv4Addr, sync::atomic::Ordering, time::Duration};

use aya::maps::MapError;

use crate::{
    abi::*,
    alloc::{Region, RegionAllocator},
    error::DataplaneError,
    loader::Dataplane,
};

/// How a service picks real servers in the data plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchedSpec {
    /// No usable destination: new connections are dropped (counted).
    None,
    /// A precomputed ring of destination slots, and the cursor to start from.
    Ring {
        /// Destination slots in pick order.
        ring: Vec<u32>,
        /// Cursor value to store, or `None` to keep the current one.
        cursor: Option<u64>,
    },
    /// Least connections over `dests`.
    Lc,
    /// Weighted least connections over `dests`.
    Wlc,
    /// Shortest expected delay over `dests`.
    Sed,
    /// Never queue over `dests`.
    Nq,
    /// Weighted failover over `dests`.
    Fo,
    /// Weighted overflow over `dests`.
    Ovf,
    /// Weighted random power of two choices over `dests`.
    Twos,
    /// Locality-based least connection over `dests` (the cache lives in the data plane).
    Lblc,
    /// lblcr (sets per destination address in the `lblcr` map).
    Lblcr,
    /// Source hashing over a 256-bucket `table` of destination slots (empty: no destination),
    /// hashing the source port too with `port`, walking the table from an unusable bucket with
    /// `fallback`.
    SourceHash {
        /// Destination slots by bucket.
        table: Vec<u32>,
        /// `sh-port`.
        port: bool,
        /// `sh-fallback`.
        fallback: bool,
    },
    /// Destination hashing over a 256-bucket `table` of destination slots.
    DestHash {
        /// Destination slots by bucket.
        table: Vec<u32>,
    },
    /// Maglev hashing over a 4093-position `table` of destination slots (empty: no
    /// destination), with `mh-port` and `mh-fallback` as `port` and `fallback`.
    Maglev {
        /// Destination slots by position.
        table: Vec<u32>,
        /// `mh-port`.
        port: bool,
        /// `mh-fallback`.
        fallback: bool,
    },
}

/// A virtual service as the data plane sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Service slot (stable for the service's life).
    pub slot: u32,
    /// Virtual address.
    pub addr: Ipv4Addr,
    /// Virtual port (0: all ports).
    pub port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Scheduler.
    pub sched: SchedSpec,
    /// Destination slots in IPVS's list order (newest first), only those the data plane forwards to.
    pub dests: Vec<u32>,
    /// One-packet scheduling (`-o`) for UDP.
    pub one_packet: bool,
    /// Persistence (`-p`, `-M`), if the service has it.
    pub persistence: Option<Persistence>,
    /// The firewall mark of a firewall-mark service (`-f`; `addr`, `port` and `proto` are
    /// then ignored).
    pub fwmark: Option<u32>,
}

/// A persistent service's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Persistence {
    /// Seconds a client keeps its real server after its last new connection (`-p`).
    pub timeout_s: u32,
    /// Clients whose addresses agree under this mask share a template (`-M`).
    pub netmask: Ipv4Addr,
}

/// A real server of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestSpec {
    /// Real server address.
    pub addr: Ipv4Addr,
    /// Real server port.
    pub port: u16,
    /// `RVS_FWD_*`.
    pub fwd: u8,
    /// Weight.
    pub weight: i32,
    /// Upper threshold reached.
    pub overloaded: bool,
    /// Slot of its service.
    pub svc: u32,
    /// Neighbour slot of its next hop.
    pub neigh: u32,
    /// Encapsulation for tunnelled destinations (`RVS_FWD_TUNNEL`).
    pub tunnel: TunnelSpec,
    /// Connection thresholds (`-x`, `-y`).
    pub thresholds: Thresholds,
}

/// A destination's connection thresholds; 0 for none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// Upper threshold (`-x`).
    pub upper: u32,
    /// Lower threshold (`-y`).
    pub lower: u32,
}

/// How a tunnelled destination's packets are encapsulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelSpec {
    /// `RVS_TUN_*`.
    pub kind: u8,
    /// GUE destination port (host order).
    pub port: u16,
    /// `RVS_TUN_F_*`.
    pub flags: u8,
}

impl TunnelSpec {
    /// The `tun_port`, `tun_type`, `tun_flags` fields as the one 32-bit word they share, so that
    /// a change reaches the program in one atomic store.
    fn word(self) -> u32 {
        let p = self.port.to_be_bytes();
        u32::from_ne_bytes([p[0], p[1], self.kind, self.flags])
    }
}

/// A resolved next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighSpec {
    /// Next hop MAC.
    pub dst_mac: [u8; 6],
    /// Egress interface MAC.
    pub src_mac: [u8; 6],
    /// Egress interface index.
    pub ifindex: u32,
    /// The director's address on the egress interface (outer source of tunnelled packets).
    pub src_ip: Ipv4Addr,
    /// MTU of the egress interface.
    pub mtu: u32,
}

/// What the programmer remembers about an installed service.
#[derive(Clone, Copy, Debug)]
struct Installed {
    key: RvsSvcKey,
    ring: Region,
    list: Region,
}

/// Book-keeping of what is installed, owned by the daemon next to its `Dataplane`.
#[derive(Debug)]
pub struct Programmer {
    regions: RegionAllocator,
    services: HashMap<u32, Installed>,
    /// Virtual addresses (network order) the director does not forward for: a VRRP backup's.
    standby: std::collections::HashSet<u32>,
}

impl Default for Programmer {
    fn default() -> Self {
        Self { regions: RegionAllocator::new(RVS_POOL_SIZE), services: HashMap::new(), standby: Default::default() }
    }
}

fn map_err(name: &'static str) -> impl FnOnce(MapError) -> DataplaneError {
    move |source| DataplaneError::Map { name, source }
}

fn svc_key(addr: Ipv4Addr, port: u16, proto: u8) -> RvsSvcKey {
    RvsSvcKey { addr: u32::from(addr).to_be(), port: port.to_be(), proto, pad: 0 }
}

/// The `services` key of a firewall-mark service: the mark where the address goes, protocol 0
/// (no address service has it), as its templates carry it.
fn fwmark_key(mark: u32) -> RvsSvcKey {
    RvsSvcKey { addr: mark.to_be(), port: 0, proto: 0, pad: 0 }
}

impl Programmer {
    /// Writes a destination into a slot that no service references yet (a new or reused slot):
    /// a new generation, zeroed connection counts, then the fields.
    pub fn install_dest(&self, dp: &Dataplane, slot: u32, spec: &DestSpec) -> Result<(), DataplaneError> {
        let dests = &dp.maps.dests;
        let old = dests.read(slot).ok_or(DataplaneError::SlotRange { what: "dest", slot, max: dests.len() })?;
        dp.maps.dest_conns.write_unpublished(slot, RvsDestConns::default());
        dests.write_unpublished(
            slot,
            RvsDest {
                addr: u32::from(spec.addr).to_be(),
                port: spec.port.to_be(),
                fwd: spec.fwd,
                flags: dest_flags(spec),
                weight: spec.weight,
                generation: old.generation.wrapping_add(1),
                neigh: spec.neigh,
                svc: spec.svc,
                tun_port: spec.tunnel.port.to_be(),
                tun_type: spec.tunnel.kind,
                tun_flags: spec.tunnel.flags,
                u_threshold: spec.thresholds.upper,
                l_threshold: spec.thresholds.lower,
                pad: 0,
            },
        );
        Ok(())
    }

    /// Changes the mutable fields of a live destination with single atomic stores.
    pub fn update_dest(&self, dp: &Dataplane, slot: u32, spec: &DestSpec) -> Result<(), DataplaneError> {
        let dests = &dp.maps.dests;
        let range = || DataplaneError::SlotRange { what: "dest", slot, max: dests.len() };
        dests.atomic_u32(slot, |d| unsafe { &raw mut (*d).neigh }).ok_or_else(range)?.store(spec.neigh, Ordering::Release);
        dests.atomic_u32(slot, |d| unsafe { &raw mut (*d).svc }).ok_or_else(range)?.store(spec.svc, Ordering::Release);
        dests.atomic_i32(slot, |d| unsafe { &raw mut (*d).weight }).ok_or_else(range)?.store(spec.weight, Ordering::Release);
        dests.atomic_u8(slot, |d| unsafe { &raw mut (*d).fwd }).ok_or_else(range)?.store(spec.fwd, Ordering::Release);
        // tun_port, tun_type and tun_flags share one aligned 32-bit word.
        dests
            .atomic_u32(slot, |d| unsafe { (&raw mut (*d).tun_port).cast::<u32>() })
            .ok_or_else(range)?
            .store(spec.tunnel.word(), Ordering::Release);
        dests.atomic_u8(slot, |d| unsafe { &raw mut (*d).flags }).ok_or_else(range)?.store(dest_flags(spec), Ordering::Release);
        // As __ip_vs_update_dest: removing the upper threshold or raising it ends an overload.
        let upper = dests.atomic_u32(slot, |d| unsafe { &raw mut (*d).u_threshold }).ok_or_else(range)?;
        let old_upper = upper.swap(spec.thresholds.upper, Ordering::AcqRel);
        dests.atomic_u32(slot, |d| unsafe { &raw mut (*d).l_threshold }).ok_or_else(range)?.store(spec.thresholds.lower, Ordering::Release);
        if (spec.thresholds.upper == 0 || spec.thresholds.upper > old_upper)
            && let Some(o) = dp.maps.dest_conns.atomic_i32(slot, |c| unsafe { &raw mut (*c).overload })
        {
            o.store(0, Ordering::Release);
        }
        Ok(())
    }

    /// Marks a destination removed: its connections' packets are dropped from now on (IPVS with
    /// `expire_nodest_conn = 0`) until they expire; its counts drain as they do.
    pub fn retire_dest(&self, dp: &Dataplane, slot: u32) {
        if let Some(flags) = dp.maps.dests.atomic_u8(slot, |d| unsafe { &raw mut (*d).flags }) {
            flags.store(0, Ordering::Release);
        }
    }

    /// Empties the configuration an earlier, uncleanly stopped run left in reused maps: services
    /// and virtual addresses go, destinations become unavailable (their generations stay, so
    /// reused slots still move on to new generations). Connection entries stay and expire.
    pub fn clear_stale(&mut self, dp: &mut Dataplane) -> Result<(), DataplaneError> {
        let keys: Vec<RvsSvcKey> = dp.maps.services.keys().filter_map(Result::ok).collect();
        for k in keys {
            dp.maps.services.remove(&k).map_err(map_err("services"))?;
        }
        let vips: Vec<u32> = dp.maps.vips.keys().filter_map(Result::ok).collect();
        for v in vips {
            dp.maps.vips.remove(&v).map_err(map_err("vips"))?;
        }
        for slot in 0..dp.maps.dests.len() {
            self.retire_dest(dp, slot);
        }
        Ok(())
    }

    /// Current connection counts of a destination slot.
    pub fn dest_conns(&self, dp: &Dataplane, slot: u32) -> RvsDestConns {
        dp.maps.dest_conns.read(slot).unwrap_or_default()
    }

    /// Writes a neighbour slot that no destination references yet.
    pub fn install_neigh(&self, dp: &Dataplane, slot: u32, spec: Option<&NeighSpec>) -> Result<(), DataplaneError> {
        let value = match spec {
            Some(n) => RvsNeigh {
                dst_mac: n.dst_mac,
                src_mac: n.src_mac,
                ifindex: n.ifindex,
                flags: RVS_NEIGH_F_VALID,
                src_ip: u32::from(n.src_ip).to_be(),
                mtu: n.mtu,
                pad: 0,
            },
            None => RvsNeigh::default(),
        };
        if dp.maps.neighs.write_unpublished(slot, value) {
            Ok(())
        } else {
            Err(DataplaneError::SlotRange { what: "neigh", slot, max: dp.maps.neighs.len() })
        }
    }

    /// Installs or replaces a service.
    pub fn install_service(
        &mut self,
        dp: &mut Dataplane,
        spec: &ServiceSpec,
        now: Duration,
    ) -> Result<(), DataplaneError> {
        let key = match spec.fwmark {
            Some(mark) => fwmark_key(mark),
            None => svc_key(spec.addr, spec.port, spec.proto),
        };
        let any_port = spec.fwmark.is_some() || spec.port == 0;
        let mut flags = 0;
        let (sched, ring_src, cursor) = match &spec.sched {
            SchedSpec::None => (RvsSched::None, &[][..], None),
            SchedSpec::Ring { ring, cursor } => (RvsSched::Ring, &ring[..], *cursor),
            SchedSpec::Lc => (RvsSched::Lc, &[][..], None),
            SchedSpec::Wlc => (RvsSched::Wlc, &[][..], None),
            SchedSpec::Sed => (RvsSched::Sed, &[][..], None),
            SchedSpec::Nq => (RvsSched::Nq, &[][..], None),
            SchedSpec::Fo => (RvsSched::Fo, &[][..], None),
            SchedSpec::Ovf => (RvsSched::Ovf, &[][..], None),
            SchedSpec::Twos => (RvsSched::Twos, &[][..], None),
            SchedSpec::Lblc => (RvsSched::Lblc, &[][..], None),
            SchedSpec::Lblcr => (RvsSched::Lblcr, &[][..], None),
            SchedSpec::SourceHash { table, port, fallback } => {
                flags = u32::from(*port) * RVS_SVC_F_HASH_PORT + u32::from(*fallback) * RVS_SVC_F_HASH_FALLBACK;
                (RvsSched::Sh, &table[..], None)
            }
            SchedSpec::DestHash { table } => (RvsSched::Dh, &table[..], None),
            SchedSpec::Maglev { table, port, fallback } => {
                flags = u32::from(*port) * RVS_SVC_F_HASH_PORT + u32::from(*fallback) * RVS_SVC_F_HASH_FALLBACK;
                (RvsSched::Mh, &table[..], None)
            }
        };
        let ring = self.write_region(dp, ring_src, now)?;
        let list = match self.write_region(dp, &spec.dests, now) {
            Ok(list) => list,
            Err(e) => {
                self.regions.release(ring, now);
                return Err(e);
            }
        };
        if let Some(cursor) = cursor
            && let Some(c) = dp.maps.sched.atomic_u64(spec.slot, |s| unsafe { &raw mut (*s).cursor }) {
                c.store(cursor, Ordering::Release);
            }
        if spec.one_packet {
            flags |= RVS_SVC_F_ONE_PACKET;
        }
        if spec.persistence.is_some() {
            flags |= RVS_SVC_F_PERSISTENT;
        }
        if any_port {
            flags |= RVS_SVC_F_ANY_PORT;
        }
        if spec.fwmark.is_some() {
            flags |= RVS_SVC_F_FWMARK;
        }
        let value = RvsSvc {
            slot: spec.slot,
            sched: sched as u32,
            flags,
            ring_off: ring.off,
            ring_len: ring.len,
            list_off: list.off,
            list_len: list.len,
            timeout_s: spec.persistence.map_or(0, |p| p.timeout_s),
            netmask: spec.persistence.map_or(0, |p| u32::from(p.netmask).to_be()),
            tmpl: spec.persistence.map_or(0, |p| u32::from(template_bits(p.netmask, any_port))),
            mark: spec.fwmark.unwrap_or(0),
        };
        dp.maps.services.insert(key, value, 0).map_err(map_err("services"))?;
        let previous = self.services.insert(spec.slot, Installed { key, ring, list });
        if let Some(old) = previous {
            self.regions.release(old.ring, now);
            self.regions.release(old.list, now);
            if old.key != key {
                dp.maps.services.remove(&old.key).map_err(map_err("services"))?;
            }
        }
        self.refresh_vips(dp)
    }

    /// Removes a service; its connections keep their destinations until they expire.
    pub fn remove_service(&mut self, dp: &mut Dataplane, slot: u32, now: Duration) -> Result<(), DataplaneError> {
        let Some(old) = self.services.remove(&slot) else { return Ok(()) };
        match dp.maps.services.remove(&old.key) {
            Ok(()) | Err(MapError::KeyNotFound) => {}
            Err(e) => return Err(map_err("services")(e)),
        }
        self.regions.release(old.ring, now);
        self.regions.release(old.list, now);
        self.refresh_vips(dp)
    }

    /// The ring cursor of a service slot (how many ring picks were made).
    pub fn cursor(&self, dp: &Dataplane, slot: u32) -> u64 {
        dp.maps.sched.atomic_u64(slot, |s| unsafe { &raw mut (*s).cursor }).map_or(0, |c| c.load(Ordering::Acquire))
    }

    /// The ring installed for a service slot.
    pub fn ring(&self, dp: &Dataplane, slot: u32) -> Vec<u32> {
        self.services.get(&slot).map_or_else(Vec::new, |s| read_region(dp, s.ring))
    }

    /// Whether NAT services exist: packets matching no connection are then also looked up as
    /// replies from real servers.
    pub fn set_nat(&self, dp: &Dataplane, enabled: bool) {
        set_config_flag(dp, RVS_CFG_F_NAT, enabled);
    }

    /// Whether rewritten NAT packets go to the kernel's routing rather than `bpf_fib_lookup`
    /// and a redirect (see [`RVS_CFG_F_NAT_KERNEL_ROUTE`]; for benchmarks).
    pub fn set_nat_kernel_route(&self, dp: &Dataplane, enabled: bool) {
        set_config_flag(dp, RVS_CFG_F_NAT_KERNEL_ROUTE, enabled);
    }

    /// IPVS's `expire_nodest_conn` (see [`RVS_CFG_F_EXPIRE_NODEST_CONN`]).
    pub fn set_expire_nodest_conn(&self, dp: &Dataplane, enabled: bool) {
        set_config_flag(dp, RVS_CFG_F_EXPIRE_NODEST_CONN, enabled);
    }

    /// IPVS's `expire_quiescent_template` (see [`RVS_CFG_F_EXPIRE_QUIESCENT_TEMPLATE`]).
    pub fn set_expire_quiescent_template(&self, dp: &Dataplane, enabled: bool) {
        set_config_flag(dp, RVS_CFG_F_EXPIRE_QUIESCENT_TEMPLATE, enabled);
    }

    /// Puts a new rule set of the mark classifier in force: it is written into the bank not in
    /// force, then one store switches the programs to it. A packet being classified meanwhile
    /// finishes with the old bank, which is only rewritten by the next change.
    pub fn set_mark_rules(&self, dp: &Dataplane, rules: &[RvsMarkRule]) -> Result<(), DataplaneError> {
        let max = RVS_MAX_MARK_RULES;
        if rules.len() > max as usize {
            return Err(DataplaneError::TooManyMarkRules { rules: rules.len(), max });
        }
        // SAFETY: the pointer is to the one config element's `mark_rules`, read live.
        let Some(sel) = dp.maps.config.atomic_u32(0, |c| unsafe { &raw mut (*c).mark_rules }) else {
            return Ok(());
        };
        let current = sel.load(Ordering::Acquire);
        let bank = if current & RVS_MARK_RULES_BANK != 0 { 0 } else { RVS_MARK_RULES_BANK };
        let base = if bank != 0 { max } else { 0 };
        for (i, r) in (0..).zip(rules) {
            dp.maps.mark_rules.write_unpublished(base + i, *r);
        }
        // `rules.len()` <= RVS_MAX_MARK_RULES, so it fits the length bits.
        sel.store(bank | rules.len() as u32, Ordering::Release);
        Ok(())
    }

    /// Installs the run-time settings (tables and timeouts); fields are written one by one with
    /// atomic stores because the programs read them live.
    pub fn set_config(&self, dp: &Dataplane, cfg: &RvsConfig) {
        let config = &dp.maps.config;
        let Some(p) = config.get(0) else { return };
        // Byte tables: single-byte stores are never torn.
        // SAFETY: p points at the one config element; we write its byte arrays in place.
        unsafe {
            let next = &raw mut (*p).tcp_next;
            for (d, dir) in cfg.tcp_next.iter().enumerate() {
                for (r, row) in dir.iter().enumerate() {
                    for (s, &v) in row.iter().enumerate() {
                        std::ptr::write_volatile(&raw mut (*next)[d][r][s], v);
                    }
                }
            }
            for (s, &v) in cfg.tcp_reuse.iter().enumerate() {
                std::ptr::write_volatile(&raw mut (*p).tcp_reuse[s], v);
            }
            for (s, &v) in cfg.tcp_active.iter().enumerate() {
                std::ptr::write_volatile(&raw mut (*p).tcp_active[s], v);
            }
        }
        for (s, &v) in cfg.tcp_timeout_ns.iter().enumerate() {
            if let Some(a) = config.atomic_u64(0, |c| unsafe { &raw mut (*c).tcp_timeout_ns[s] }) {
                a.store(v, Ordering::Release);
            }
        }
        if let Some(a) = config.atomic_u64(0, |c| unsafe { &raw mut (*c).udp_timeout_ns }) {
            a.store(cfg.udp_timeout_ns, Ordering::Release);
        }
    }

    fn write_region(&mut self, dp: &Dataplane, src: &[u32], now: Duration) -> Result<Region, DataplaneError> {
        let len = u32::try_from(src.len()).map_err(|_| pool_full(src.len()))?;
        let region = self.regions.alloc(len, now).ok_or_else(|| pool_full(src.len()))?;
        for (i, &v) in src.iter().enumerate() {
            // Entries of a fresh region are not reachable yet; plain stores suffice.
            if let Some(a) = dp.maps.pool.atomic_u32(region.off + i as u32, |p| p) {
                a.store(v, Ordering::Relaxed);
            }
        }
        std::sync::atomic::fence(Ordering::Release);
        Ok(region)
    }

    /// Puts `addresses` in standby (packets to them are passed to the kernel, not forwarded)
    /// or takes them out of it. Addresses without a service are remembered for when one comes.
    pub fn set_vip_standby(&mut self, dp: &mut Dataplane, addresses: &[Ipv4Addr], standby: bool) -> Result<(), DataplaneError> {
        for a in addresses {
            let be = u32::from(*a).to_be();
            if standby {
                self.standby.insert(be);
            } else {
                self.standby.remove(&be);
            }
        }
        self.refresh_vips(dp)?;
        // The packet path looks standby up only while some address is in it.
        set_config_flag(dp, RVS_CFG_F_STANDBY, !self.standby.is_empty());
        Ok(())
    }

    /// Recomputes the virtual-address set from the installed services.
    fn refresh_vips(&mut self, dp: &mut Dataplane) -> Result<(), DataplaneError> {
        let mut wanted: HashMap<u32, RvsVip> = HashMap::new();
        for s in self.services.values().filter(|s| s.key.proto != 0) {
            let v = wanted.entry(s.key.addr).or_default();
            v.services += 1;
            if s.key.port == 0 {
                v.flags |= RVS_VIP_F_PORT0;
            }
            if self.standby.contains(&s.key.addr) {
                v.flags |= RVS_VIP_F_STANDBY;
            }
        }
        let present: Vec<u32> = dp.maps.vips.keys().filter_map(Result::ok).collect();
        for addr in present {
            if !wanted.contains_key(&addr) {
                dp.maps.vips.remove(&addr).map_err(map_err("vips"))?;
            }
        }
        for (addr, vip) in wanted {
            dp.maps.vips.insert(addr, vip, 0).map_err(map_err("vips"))?;
        }
        Ok(())
    }
}

/// Sets or clears `bit` of the live configuration's flags with one atomic operation.
fn set_config_flag(dp: &Dataplane, bit: u32, enabled: bool) {
    // SAFETY: the pointer is to the one config element's `flags`, read live by the programs.
    if let Some(flags) = dp.maps.config.atomic_u32(0, |c| unsafe { &raw mut (*c).flags }) {
        if enabled {
            flags.fetch_or(bit, Ordering::AcqRel);
        } else {
            flags.fetch_and(!bit, Ordering::AcqRel);
        }
    }
}

/// `RvsSvc::tmpl` for a persistent service: the netmask as a prefix length, and whether the
/// service listens on all ports; 0 when the netmask is no prefix (connections then find their
/// template through the service).
fn template_bits(netmask: Ipv4Addr, any_port: bool) -> u8 {
    let mask = u32::from(netmask);
    let prefix = mask.leading_ones();
    if mask.checked_shl(prefix).unwrap_or(0) != 0 {
        return 0;
    }
    RVS_TMPL_VALID | (prefix as u8 & RVS_TMPL_PREFIX) | if any_port { RVS_TMPL_ANY_PORT } else { 0 }
}

fn dest_flags(spec: &DestSpec) -> u8 {
    RVS_DEST_F_AVAILABLE | if spec.overloaded { RVS_DEST_F_OVERLOAD } else { 0 }
}

fn pool_full(len: usize) -> DataplaneError {
    DataplaneError::SlotRange { what: "pool region of length", slot: u32::try_from(len).unwrap_or(u32::MAX), max: RVS_POOL_SIZE }
}

fn read_region(dp: &Dataplane, region: Region) -> Vec<u32> {
    (region.off..region.off + region.len)
        .filter_map(|i| dp.maps.pool.atomic_u32(i, |p| p).map(|a| a.load(Ordering::Acquire)))
        .collect()
}
