//! Keeping the data plane in step with the IPVS table.
//!
//! The table says what changed (`Change`); this module mirrors each change into the maps in an
//! order that packets in flight can never observe half-done: a real server's slot and next hop
//! are written before a service lists it, a service's new ring before its entry points at it.
//! For rr and wrr it keeps IPVS's scheduler as a model (`SchedService`): before a change it reads
//! the data plane's cursor back and resumes the model from it, applies the change with IPVS's
//! hooks, and installs the ring and cursor that continue IPVS's exact pick sequence.

use std::{
    collections::{BTreeSet, HashMap},
    net::{IpAddr, Ipv4Addr},
    str::FromStr,
    time::{Duration, Instant},
};

use rvs_core::{
    model::{AddressFamily, DestId, ForwardMethod, Protocol, SchedFlags, ServiceId, ServiceKey},
    sched::{HashFlags, RingProgram, SchedDest, SchedService, SchedulerKind},
    table::{Change, IpvsTable},
};
use rvs_dataplane::{
    Dataplane, DataplaneError,
    abi::{RVS_FWD_DROUTE, RVS_FWD_LOCAL, RVS_FWD_MASQ, RVS_FWD_TUNNEL, RVS_TUN_F_CSUM, RVS_TUN_F_REMCSUM, RVS_TUN_GRE, RVS_TUN_GUE, RVS_TUN_IPIP},
    neigh::{NextHop, Resolver},
    program::{DestSpec, Persistence, Programmer, SchedSpec, ServiceSpec, Thresholds, TunnelSpec},
};

use crate::{nat_host::NatHost, neighbours::Neighbours};

/// The data plane and what rvsd knows about what is installed in it.
pub struct Plane {
    /// The loaded programs and maps.
    pub dp: Dataplane,
    /// Map writer with its allocators.
    pub prog: Programmer,
    resolver: Resolver,
    neigh: Neighbours,
    nat_host: NatHost,
    services: HashMap<ServiceId, SvcPlane>,
    dests: HashMap<DestId, DestPlane>,
    epoch: Instant,
}

/// A service as installed.
struct SvcPlane {
    /// Address, port and protocol when the data plane can carry this service.
    key: Option<(Ipv4Addr, u16, u8)>,
    /// IPVS's scheduler over the destinations the data plane forwards to.
    sched: Option<SchedService>,
    /// The ring last installed (rr, wrr).
    program: Option<RingProgram>,
    /// `-b sh-fallback,sh-port` (sh, mh).
    hash_flags: HashFlags,
    /// `-o`: one-packet scheduling.
    one_packet: bool,
    /// `-p`, `-M`.
    persistence: Option<Persistence>,
    /// `-f`: the mark of a firewall-mark service.
    fwmark: Option<u32>,
}

/// A real server as installed.
#[derive(Clone, Copy, Debug)]
struct DestPlane {
    service: ServiceId,
    /// Next hop address whose neighbour slot the destination uses (DR only).
    neigh_addr: Option<Ipv4Addr>,
    neigh_slot: u32,
    /// Whether the data plane forwards to the destination (eligible in the scheduler model).
    scheduled: bool,
    /// Its forwarding method in the data plane, when scheduled.
    fwd: Option<u8>,
}

/// The forwarding methods the data plane implements today.
fn dataplane_fwd(fwd: ForwardMethod) -> Option<u8> {
    match fwd {
        ForwardMethod::Route => Some(RVS_FWD_DROUTE),
        ForwardMethod::Tunnel => Some(RVS_FWD_TUNNEL),
        ForwardMethod::Local => Some(RVS_FWD_LOCAL),
        ForwardMethod::Masq => Some(RVS_FWD_MASQ),
        ForwardMethod::Bypass => None,
    }
}

/// How the data plane encapsulates for a tunnelled real server (`--tun-type`, `--tun-port`,
/// `--tun-[no|rem]csum`).
fn tunnel_spec(t: &rvs_core::model::TunnelSpec) -> TunnelSpec {
    use rvs_core::model::{TunnelCsum, TunnelKind};
    TunnelSpec {
        kind: match t.kind {
            TunnelKind::Ipip => RVS_TUN_IPIP,
            TunnelKind::Gue => RVS_TUN_GUE,
            TunnelKind::Gre => RVS_TUN_GRE,
        },
        port: t.port,
        flags: match t.csum {
            TunnelCsum::NoCsum => 0,
            TunnelCsum::Csum => RVS_TUN_F_CSUM,
            TunnelCsum::RemCsum => RVS_TUN_F_REMCSUM,
        },
    }
}

impl Plane {
    /// Puts the IPv4 `addresses` in standby or takes them out (see `Director::set_vip_standby`).
    pub fn set_vip_standby(&mut self, addresses: &[IpAddr], standby: bool) {
        let v4: Vec<Ipv4Addr> = addresses.iter().filter_map(|a| if let IpAddr::V4(a) = a { Some(*a) } else { None }).collect();
        if let Err(e) = self.prog.set_vip_standby(&mut self.dp, &v4, standby) {
            tracing::error!(error = %e, ?addresses, standby, "the data plane could not change the virtual addresses' standby");
        }
    }

    /// Wraps a loaded data plane.
    pub fn new(dp: Dataplane, resolver: Resolver) -> Self {
        Self {
            dp,
            prog: Programmer::default(),
            resolver,
            neigh: Neighbours::default(),
            nat_host: NatHost::default(),
            services: HashMap::new(),
            dests: HashMap::new(),
            epoch: Instant::now(),
        }
    }

    /// The resolver (netlink) rvsd shares with the table's host facts.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Mirrors a batch of changes from one table operation.
    pub async fn apply(&mut self, table: &IpvsTable, changes: &[Change]) -> Result<(), DataplaneError> {
        let mut touched = BTreeSet::new();
        for change in changes {
            match change {
                Change::ServiceAdded(id) => {
                    self.add_service(table, *id);
                    touched.insert(*id);
                }
                Change::ServiceUpdated(id) => {
                    self.resume(*id);
                    self.update_service(table, *id);
                    touched.insert(*id);
                }
                Change::ServiceRemoved { id, .. } => {
                    touched.remove(id);
                    self.remove_service(*id)?;
                }
                Change::DestAdded { service, dest, revived, .. } => {
                    self.resume(*service);
                    self.add_dest(table, *service, *dest, *revived).await?;
                    touched.insert(*service);
                }
                Change::DestUpdated { service, dest } => {
                    self.resume(*service);
                    self.update_dest(table, *service, *dest).await?;
                    touched.insert(*service);
                }
                Change::DestRemoved { service, dest } => {
                    self.resume(*service);
                    self.remove_dest(*service, *dest);
                    touched.insert(*service);
                }
                Change::TimeoutsChanged(_) => self.apply_timeouts(table),
                Change::CountersZeroed { .. } => {}
                // Run by the director's sync daemons (`crate::sync`), not the data plane.
                Change::SyncDaemonStarted(_) | Change::SyncDaemonStopped(_) => {}
            }
        }
        for id in touched {
            self.install(id)?;
        }
        if self.dests.values().any(|d| d.scheduled && d.fwd == Some(RVS_FWD_MASQ)) {
            let interfaces: Vec<String> = self.dp.attachments().iter().map(|a| a.interface.clone()).collect();
            self.nat_host.prepare(&interfaces);
        }
        self.update_nat();
        Ok(())
    }

    /// Turns the data plane's NAT handling on while any NAT real server is known, removed ones
    /// included: those stay (in the trash) until their last connection is gone, and the replies
    /// of those connections must still be translated back to the VIP, as IPVS translates them.
    /// Without it they would leave through the kernel with the real server's private source.
    fn update_nat(&mut self) {
        let nat = self.dests.values().any(|d| d.fwd == Some(RVS_FWD_MASQ));
        self.prog.set_nat(&self.dp, nat);
    }

    fn add_service(&mut self, table: &IpvsTable, id: ServiceId) {
        let Some(svc) = table.service_by_id(id) else { return };
        let key = dataplane_key(&svc.key);
        if key.is_none() {
            tracing::warn!(service = %svc.key, "accepted and listed, but not forwarded: the data plane carries IPv4 TCP and UDP address services and IPv4 firewall-mark services only for now");
        }
        let kind = scheduler_kind(svc);
        let sched = kind.and_then(|k| SchedService::new(k).ok());
        self.services.insert(id, SvcPlane {
            key,
            sched,
            program: None,
            hash_flags: hash_flags(svc),
            one_packet: svc.flags.one_packet,
            persistence: persistence(svc),
            fwmark: match svc.key {
                ServiceKey::Fwmark { mark, .. } => Some(mark.get()),
                ServiceKey::Addr { .. } => None,
            },
        });
    }

    fn update_service(&mut self, table: &IpvsTable, id: ServiceId) {
        let Some(svc) = table.service_by_id(id) else { return };
        let kind = scheduler_kind(svc);
        let Some(plane) = self.services.get_mut(&id) else { return };
        plane.hash_flags = hash_flags(svc);
        plane.one_packet = svc.flags.one_packet;
        plane.persistence = persistence(svc);
        match (kind, plane.sched.as_mut()) {
            (Some(k), Some(s)) => {
                if let Err(e) = s.set_scheduler(k) {
                    tracing::warn!(service = %svc.key, error = %e, "scheduler change");
                }
            }
            (Some(k), None) => {
                // A service had no scheduler ("none") and now has one: start from its list.
                let mut s = match SchedService::new(k) {
                    Ok(s) => s,
                    Err(_) => return,
                };
                for d in table.dests_of(svc).collect::<Vec<_>>().into_iter().rev() {
                    let _ = s.add_dest(SchedDest::new(d.id.0, weight_i32(d.spec.weight.get())));
                    locate(&mut s, d.id, &d.spec);
                    if !self.dests.get(&d.id).is_some_and(|p| p.scheduled) {
                        let _ = s.set_overloaded(d.id.0, true);
                    }
                }
                plane.sched = Some(s);
            }
            (None, _) => plane.sched = None,
        }
    }

    fn remove_service(&mut self, id: ServiceId) -> Result<(), DataplaneError> {
        if self.services.remove(&id).is_some() {
            let now = self.now();
            self.prog.remove_service(&mut self.dp, id.0, now)?;
        }
        // Its destinations went to the trash: stop forwarding for them.
        for (did, d) in self.dests.iter_mut().filter(|(_, d)| d.service == id) {
            self.prog.retire_dest(&self.dp, did.0);
            d.scheduled = false;
        }
        Ok(())
    }

    /// Whether the data plane can forward to this real server of this service today.
    fn forwardable(&self, service: ServiceId, spec: &rvs_core::model::DestSpec) -> Option<(u8, Ipv4Addr)> {
        self.services.get(&service)?.key?;
        let fwd = dataplane_fwd(spec.fwd)?;
        match spec.addr {
            IpAddr::V4(a) => Some((fwd, a)),
            IpAddr::V6(_) => None,
        }
    }

    /// The next hop a DR destination needs, acquired once per destination.
    async fn neighbour_for(&mut self, current: Option<DestPlane>, fwd: u8, addr: Ipv4Addr) -> Result<(Option<Ipv4Addr>, u32), DataplaneError> {
        if let Some(c) = current.filter(|c| c.neigh_addr.is_some()) {
            return Ok((c.neigh_addr, c.neigh_slot));
        }
        // NAT does not use the neighbour slot (bpf_fib_lookup reads the kernel's table), but
        // tracking the real server keeps the kernel's entry resolved and fresh.
        if fwd == RVS_FWD_LOCAL {
            return Ok((None, 0));
        }
        let now = self.now();
        let slot = self.neigh.acquire(&self.resolver, &self.dp, &self.prog, addr, now).await?;
        Ok((Some(addr), slot))
    }

    fn dest_spec(service: ServiceId, spec: &rvs_core::model::DestSpec, fwd: u8, addr: Ipv4Addr, neigh: u32) -> DestSpec {
        DestSpec {
            addr,
            port: spec.port,
            fwd,
            weight: weight_i32(spec.weight.get()),
            overloaded: false,
            svc: service.0,
            neigh,
            tunnel: if fwd == RVS_FWD_TUNNEL { tunnel_spec(&spec.tunnel) } else { TunnelSpec::default() },
            thresholds: Thresholds { upper: spec.u_threshold, lower: spec.l_threshold },
        }
    }

    /// The scheduler model holds every real server in IPVS's list order; those the data plane
    /// cannot forward to yet are marked ineligible, so IPVS's order and hooks stay exact.
    async fn add_dest(&mut self, table: &IpvsTable, service: ServiceId, dest: DestId, revived: bool) -> Result<(), DataplaneError> {
        let Some(d) = table.dest(dest) else { return Ok(()) };
        let spec = d.spec;
        let existing = self.dests.get(&dest).copied();
        let forward = self.forwardable(service, &spec);
        let mut plane = DestPlane { service, neigh_addr: None, neigh_slot: 0, scheduled: false, fwd: None };
        match forward {
            Some((fwd, addr)) => {
                let (neigh_addr, neigh_slot) = self.neighbour_for(existing, fwd, addr).await?;
                plane = DestPlane { service, neigh_addr, neigh_slot, scheduled: true, fwd: Some(fwd) };
                let dspec = Self::dest_spec(service, &spec, fwd, addr, neigh_slot);
                // IPVS revives a destination from its trash with its connections: keep the
                // slot's generation so they resume.
                if revived && existing.is_some_and(|e| e.scheduled || e.neigh_addr.is_some()) {
                    self.prog.update_dest(&self.dp, dest.0, &dspec)?;
                } else {
                    self.prog.install_dest(&self.dp, dest.0, &dspec)?;
                }
            }
            None if self.services.get(&service).is_some_and(|s| s.key.is_some()) => {
                tracing::warn!(real = %spec.addr, fwd = ?spec.fwd, "accepted and listed, but the data plane does not forward with this method yet: no connections are scheduled to it");
                self.prog.retire_dest(&self.dp, dest.0);
            }
            None => {}
        }
        self.dests.insert(dest, plane);
        if let Some(s) = self.services.get_mut(&service).and_then(|p| p.sched.as_mut()) {
            if let Err(e) = s.add_dest(SchedDest::new(dest.0, weight_i32(spec.weight.get()))) {
                tracing::warn!(dest = %dest, error = %e, "scheduler add");
            }
            locate(s, dest, &spec);
            if !plane.scheduled {
                let _ = s.set_overloaded(dest.0, true);
            }
        }
        Ok(())
    }

    async fn update_dest(&mut self, table: &IpvsTable, service: ServiceId, dest: DestId) -> Result<(), DataplaneError> {
        let Some(d) = table.dest(dest) else { return Ok(()) };
        let spec = d.spec;
        let existing = self.dests.get(&dest).copied();
        let mut plane = existing.unwrap_or(DestPlane { service, neigh_addr: None, neigh_slot: 0, scheduled: false, fwd: None });
        match self.forwardable(service, &spec) {
            Some((fwd, addr)) => {
                let (neigh_addr, neigh_slot) = self.neighbour_for(existing, fwd, addr).await?;
                let dspec = Self::dest_spec(service, &spec, fwd, addr, neigh_slot);
                if plane.scheduled {
                    self.prog.update_dest(&self.dp, dest.0, &dspec)?;
                } else {
                    // It had no connections while the data plane could not forward to it.
                    self.prog.install_dest(&self.dp, dest.0, &dspec)?;
                }
                plane = DestPlane { service, neigh_addr, neigh_slot, scheduled: true, fwd: Some(fwd) };
            }
            None => {
                self.prog.retire_dest(&self.dp, dest.0);
                plane.scheduled = false;
                plane.fwd = None;
            }
        }
        self.dests.insert(dest, plane);
        if let Some(s) = self.services.get_mut(&service).and_then(|p| p.sched.as_mut()) {
            let _ = s.set_overloaded(dest.0, !plane.scheduled);
            let _ = s.edit_dest(dest.0, weight_i32(spec.weight.get()));
        }
        Ok(())
    }

    fn remove_dest(&mut self, service: ServiceId, dest: DestId) {
        let Some(plane) = self.dests.get_mut(&dest) else { return };
        self.prog.retire_dest(&self.dp, dest.0);
        plane.scheduled = false;
        if let Some(s) = self.services.get_mut(&service).and_then(|p| p.sched.as_mut()) {
            let _ = s.del_dest(dest.0);
        }
    }

    /// Brings the scheduler model up to where the data plane's cursor is, before a change.
    fn resume(&mut self, id: ServiceId) {
        let Some(plane) = self.services.get_mut(&id) else { return };
        let (Some(sched), Some(program)) = (plane.sched.as_mut(), plane.program.take()) else { return };
        let cursor = self.prog.cursor(&self.dp, id.0);
        if let Err(e) = sched.resume_from(&program, cursor) {
            tracing::warn!(service = %id, error = %e, "could not resume the scheduler from the data plane");
        }
    }

    /// Writes a service's current scheduler and destination list into the data plane.
    fn install(&mut self, id: ServiceId) -> Result<(), DataplaneError> {
        let Some(plane) = self.services.get_mut(&id) else { return Ok(()) };
        let Some((addr, port, proto)) = plane.key else { return Ok(()) };
        let dests: Vec<u32> = plane.sched.as_ref().map_or_else(Vec::new, |s| s.dests().iter().map(|d| d.id).collect());
        let sched = match plane.sched.as_ref() {
            None => SchedSpec::None,
            Some(s) if s.scheduler().kind().is_ring_scheduled() => match s.compile_ring() {
                Ok(program) => {
                    let spec = SchedSpec::Ring { ring: program.ring().to_vec(), cursor: Some(program.cursor()) };
                    plane.program = Some(program);
                    spec
                }
                Err(e) => {
                    tracing::error!(service = %id, error = %e, "cannot build the scheduling ring; falling back to wlc");
                    plane.program = None;
                    SchedSpec::Wlc
                }
            },
            Some(s) => match s.scheduler().kind() {
                SchedulerKind::Lc => SchedSpec::Lc,
                SchedulerKind::Sed => SchedSpec::Sed,
                SchedulerKind::Nq => SchedSpec::Nq,
                SchedulerKind::Fo => SchedSpec::Fo,
                SchedulerKind::Ovf => SchedSpec::Ovf,
                SchedulerKind::Twos => SchedSpec::Twos,
                SchedulerKind::Lblc => SchedSpec::Lblc,
                SchedulerKind::Lblcr => SchedSpec::Lblcr,
                SchedulerKind::Sh => SchedSpec::SourceHash {
                    table: s.hash_table().unwrap_or_default(),
                    port: plane.hash_flags.port,
                    fallback: plane.hash_flags.fallback,
                },
                SchedulerKind::Dh => SchedSpec::DestHash { table: s.hash_table().unwrap_or_default() },
                SchedulerKind::Mh => SchedSpec::Maglev {
                    table: s.hash_table().unwrap_or_default(),
                    port: plane.hash_flags.port,
                    fallback: plane.hash_flags.fallback,
                },
                _ => SchedSpec::Wlc,
            },
        };
        let spec = ServiceSpec {
            slot: id.0,
            addr,
            port,
            proto,
            sched,
            dests,
            one_packet: plane.one_packet,
            persistence: plane.persistence,
            fwmark: plane.fwmark,
        };
        let now = self.now();
        self.prog.install_service(&mut self.dp, &spec, now)
    }

    fn apply_timeouts(&mut self, table: &IpvsTable) {
        let t = table.timeouts();
        let mut timeouts = rvs_core::conn::Timeouts::default();
        let set = rvs_core::conn::TimeoutSet { tcp: t.tcp, tcpfin: t.tcp_fin, udp: t.udp };
        if let Err(e) = timeouts.apply(set, crate::HZ) {
            tracing::warn!(error = %e, "timeouts");
            return;
        }
        let cfg = rvs_dataplane::config::build_config(&timeouts, rvs_dataplane::config::ConnSettings::default());
        self.prog.set_config(&self.dp, &cfg);
    }

    /// Puts the mark classifier's rules in force.
    pub fn set_marks(&self, rules: &[rvs_core::model::MarkRule]) -> Result<(), crate::marks::MarkError> {
        let compiled = crate::marks::compile(rules)?;
        self.prog.set_mark_rules(&self.dp, &compiled).map_err(crate::marks::MarkError::Dataplane)
    }

    /// Connection counts of a destination (ActiveConn, InActConn, PersistConn).
    pub fn dest_conns(&self, dest: DestId) -> (u32, u32, u32) {
        if !self.dests.contains_key(&dest) {
            return (0, 0, 0);
        }
        let c = self.prog.dest_conns(&self.dp, dest.0);
        let clamp = |v: i32| u32::try_from(v).unwrap_or(0);
        (clamp(c.active), clamp(c.inactive), clamp(c.persist))
    }

    /// Frees trash entries no connection refers to any more; returns how many.
    pub fn reap(&mut self, table: &mut IpvsTable) -> usize {
        let freed = table.reap_trash(|id| {
            let (a, i, p) = self.dest_conns(id);
            a + i + p > 0
        });
        let now = self.now();
        for id in &freed {
            if let Some(d) = self.dests.remove(id)
                && let Some(addr) = d.neigh_addr {
                    self.neigh.release(addr, now);
                }
        }
        if !freed.is_empty() {
            self.update_nat();
        }
        freed.len()
    }

    /// What [`crate::relink`] needs when the director's interfaces `ifindexes` have their
    /// carrier back: the resolver, and the real servers' next hops out of them. Cheap: the
    /// work is done outside the director's lock.
    pub fn relink_targets(&self, ifindexes: &[u32]) -> (Resolver, Vec<NextHop>) {
        (self.resolver.clone(), self.neigh.hops_on(ifindexes))
    }

    /// Re-resolves every real server's next hop; repoints destinations whose next hop moved.
    pub async fn refresh_neighbours(&mut self) {
        for addr in self.neigh.addrs() {
            let now = self.now();
            match self.neigh.refresh_one(&self.resolver, &self.dp, &self.prog, addr, now).await {
                Ok(Some(moved)) => {
                    for (id, d) in self.dests.iter_mut().filter(|(_, d)| d.neigh_addr == Some(moved.addr)) {
                        d.neigh_slot = moved.slot;
                        if let Some(p) = self.dp.maps.dests.atomic_u32(id.0, |x| unsafe { &raw mut (*x).neigh }) {
                            p.store(moved.slot, std::sync::atomic::Ordering::Release);
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(%addr, error = %e, "neighbour refresh failed"),
            }
        }
    }
}

/// The data-plane key of a service the data plane can carry (IPv4 TCP/UDP address services;
/// IPv4 firewall-mark services, keyed by their mark instead).
fn dataplane_key(key: &ServiceKey) -> Option<(Ipv4Addr, u16, u8)> {
    match key {
        ServiceKey::Fwmark { af: AddressFamily::Inet, .. } => Some((Ipv4Addr::UNSPECIFIED, 0, 0)),
        ServiceKey::Addr { protocol: Protocol::Tcp, addr: IpAddr::V4(a), port } => Some((*a, *port, 6)),
        ServiceKey::Addr { protocol: Protocol::Udp, addr: IpAddr::V4(a), port } => Some((*a, *port, 17)),
        _ => None,
    }
}

/// The scheduler the data plane runs for a service (none for `-s none`).
fn scheduler_kind(svc: &rvs_core::table::Service) -> Option<SchedulerKind> {
    let name = svc.scheduler.as_ref()?;
    SchedulerKind::from_str(name.as_str()).ok()
}

/// A persistent service's timeout and netmask as the data plane takes them (IPv4 only).
fn persistence(svc: &rvs_core::table::Service) -> Option<Persistence> {
    if !svc.flags.persistent {
        return None;
    }
    let netmask = match svc.netmask {
        rvs_core::model::Netmask::V4(m) => m,
        rvs_core::model::Netmask::V6(_) => Ipv4Addr::BROADCAST,
    };
    Some(Persistence { timeout_s: svc.timeout, netmask })
}

/// Tells the scheduler where a real server is (mh places it by its address and port).
fn locate(s: &mut SchedService, id: DestId, spec: &rvs_core::model::DestSpec) {
    if let IpAddr::V4(a) = spec.addr {
        let _ = s.locate(id.0, u32::from(a), spec.port);
    }
}

/// The service's `-b` flags as sh and mh read them (`sh-fallback`/`mh-fallback` is flag-1,
/// `sh-port`/`mh-port` flag-2).
fn hash_flags(svc: &rvs_core::table::Service) -> HashFlags {
    let sched = svc.flags.sched;
    HashFlags { fallback: sched.contains(SchedFlags::FLAG_1), port: sched.contains(SchedFlags::FLAG_2) }
}

fn weight_i32(w: u32) -> i32 {
    i32::try_from(w).unwrap_or(i32::MAX)
}
