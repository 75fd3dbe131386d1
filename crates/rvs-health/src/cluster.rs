//! The health of every real server of a configuration, sans-IO: which checks are due, what
//! their results change, what the IPVS table should hold, and what changes when the
//! configuration is replaced (a reload keeps the state of everything that did not change).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rvs_core::config::desired::{self, DesiredService, Quorum, RealHealth};
use rvs_core::config::{Check, Config, RealServer, VirtualServer};
use rvs_core::model::{DestAddr, ServiceKey};

use crate::check_state::{Attempt, CheckState, Verdict};
use crate::real_state::RealState;

/// Where a check belongs: indexes into the configuration, valid until the next replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    vs: usize,
    real: usize,
    check: usize,
}

/// A check to run now.
#[derive(Debug, Clone)]
pub struct Job {
    /// Identifies the check when its result comes back (stale after a replace that dropped it).
    pub id: u64,
    pub check: Check,
    pub service: ServiceKey,
    pub real: RealServer,
}

/// Something that changed, for logs, notify scripts and the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    RealUp { service: ServiceKey, dest: DestAddr, reason: String },
    RealDown { service: ServiceKey, dest: DestAddr, reason: String },
    /// A dynamic weight or a slow-start step.
    RealWeight { service: ServiceKey, dest: DestAddr },
    QuorumUp { service: ServiceKey },
    QuorumDown { service: ServiceKey },
}

struct ServiceState {
    quorum: Quorum,
    reals: Vec<RealState>,
}

impl ServiceState {
    /// Its real servers' health, one per real server of `vs`.
    fn health(&self, vs: &VirtualServer) -> Vec<RealHealth> {
        vs.reals.iter().zip(&self.reals).map(|(r, s)| s.health(r)).collect()
    }

    /// Follows the live weight, reporting a quorum change.
    fn follow_quorum(&mut self, vs: &VirtualServer, events: &mut Vec<Event>) {
        if let Some(up) = self.quorum.update(vs, desired::live_weight(vs, &self.health(vs))) {
            events.push(quorum_event(vs.service.key, up));
        }
    }
}

/// The health of a configuration.
pub struct Health {
    config: Config,
    services: Vec<ServiceState>,
    slots: HashMap<u64, Slot>,
    in_flight: HashMap<u64, ()>,
    next_id: u64,
}

/// A random offset in `0..=warmup`.
fn offset(warmup: Duration, random: &mut dyn FnMut() -> u64) -> Duration {
    let ms = warmup.as_millis() as u64;
    if ms == 0 { Duration::ZERO } else { Duration::from_millis(random() % (ms + 1)) }
}

impl Health {
    /// The health of `config` at start: real servers up (down under `alpha`), first checks
    /// after their warmup; with the quorum changes that causes. `random` draws warmup offsets.
    pub fn new(config: Config, now: Instant, random: &mut dyn FnMut() -> u64) -> (Self, Vec<Event>) {
        let mut h = Health { config: Config::default(), services: Vec::new(), slots: HashMap::new(), in_flight: HashMap::new(), next_id: 1 };
        let (_, events) = h.replace(config, now, random);
        (h, events)
    }

    /// What `omega` runs at stop: the down scripts of the real servers that are up, and the
    /// quorum_down script of services that have their quorum, for services with `omega`.
    pub fn omega_scripts(&self) -> Vec<(rvs_core::config::Script, String)> {
        let mut scripts = Vec::new();
        for (vs, st) in self.config.virtual_servers.iter().zip(&self.services).filter(|(vs, _)| vs.omega) {
            for (real, _) in vs.reals.iter().zip(&st.reals).filter(|(_, rs)| rs.is_up()) {
                if let Some(s) = &real.notify_down {
                    scripts.push((s.clone(), format!("{} {} stopped (omega)", vs.service.key, std::net::SocketAddr::from(real.dest.dest_addr()))));
                }
            }
            if let (Some(s), true) = (&vs.quorum_down, st.quorum.is_up()) {
                scripts.push((s.clone(), format!("{} stopped (omega)", vs.service.key)));
            }
        }
        scripts
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn fresh_checks(&mut self, real: &RealServer, up: bool, now: Instant, random: &mut dyn FnMut() -> u64) -> (Vec<CheckState>, Vec<u64>) {
        let checks = real.checks.iter().map(|c| CheckState::new(c.timing, up, now, offset(c.timing.warmup, random))).collect();
        let ids = real.checks.iter().map(|_| self.take_id()).collect();
        (checks, ids)
    }

    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Puts `config` in force. Real servers (same service, same address and port) keep their
    /// state, and so do their checks that did not change; a changed check starts from the real
    /// server's state. Returns the services the old configuration had and the new one has not,
    /// and the quorum changes the new weights cause.
    pub fn replace(&mut self, config: Config, now: Instant, random: &mut dyn FnMut() -> u64) -> (Vec<ServiceKey>, Vec<Event>) {
        let mut old_services: HashMap<ServiceKey, (VirtualServer, ServiceState)> = HashMap::new();
        let old_config = std::mem::take(&mut self.config);
        for (vs, st) in old_config.virtual_servers.into_iter().zip(std::mem::take(&mut self.services)) {
            old_services.insert(vs.service.key, (vs, st));
        }
        let mut events = Vec::new();
        let mut services = Vec::with_capacity(config.virtual_servers.len());
        for vs in &config.virtual_servers {
            let mut old = old_services.remove(&vs.service.key);
            let mut reals = Vec::with_capacity(vs.reals.len());
            for real in &vs.reals {
                let kept = old.as_mut().and_then(|(ovs, ost)| {
                    let i = ovs.reals.iter().position(|r| r.dest.dest_addr() == real.dest.dest_addr())?;
                    Some((ovs.reals[i].checks.clone(), ost.reals[i].clone()))
                });
                let state = match kept {
                    Some((old_checks, mut st)) => {
                        let mut checks = Vec::with_capacity(real.checks.len());
                        let mut ids = Vec::with_capacity(real.checks.len());
                        let mut unused: Vec<Option<(Check, CheckState, u64)>> = old_checks
                            .into_iter()
                            .zip(std::mem::take(&mut st.checks))
                            .zip(std::mem::take(&mut st.ids))
                            .map(|((c, s), id)| Some((c, s, id)))
                            .collect();
                        for c in &real.checks {
                            let reuse = unused.iter_mut().find(|u| u.as_ref().is_some_and(|(oc, _, _)| oc == c)).and_then(Option::take);
                            match reuse {
                                Some((_, s, id)) => {
                                    checks.push(s);
                                    ids.push(id);
                                }
                                None => {
                                    let fresh = CheckState::new(c.timing, st.is_up(), now, offset(c.timing.warmup, random));
                                    checks.push(if st.is_up() { fresh } else { fresh.after_failure() });
                                    ids.push(self.take_id());
                                }
                            }
                        }
                        st.checks = checks;
                        st.ids = ids;
                        // Checks that went away may have been the ones holding it down.
                        if let Some(up) = st.settle(real, now, "its checks changed") {
                            events.push(real_event(vs.service.key, real, up, "its checks changed".into()));
                        }
                        st
                    }
                    None => {
                        let up = !vs.alpha || real.checks.is_empty();
                        let (checks, ids) = self.fresh_checks(real, up, now, random);
                        let reason = if up { "added" } else { "added; alpha: down until a check passes" };
                        RealState::new(checks, ids, up, now, reason.into())
                    }
                };
                reals.push(state);
            }
            // A kept service keeps its quorum state; a new one starts up, as keepalived's.
            let quorum = old.map_or_else(Quorum::up, |(_, st)| st.quorum);
            let mut st = ServiceState { quorum, reals };
            st.follow_quorum(vs, &mut events);
            services.push(st);
        }
        let released = old_services.into_keys().collect();
        self.config = config;
        self.services = services;
        self.slots.clear();
        for (v, st) in self.services.iter().enumerate() {
            for (r, real) in st.reals.iter().enumerate() {
                for (c, id) in real.ids.iter().enumerate() {
                    self.slots.insert(*id, Slot { vs: v, real: r, check: c });
                }
            }
        }
        self.in_flight.retain(|id, _| self.slots.contains_key(id));
        (released, events)
    }

    /// The checks due at `now`, marked as running until their result is recorded.
    pub fn due(&mut self, now: Instant) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (id, slot) in &self.slots {
            if self.in_flight.contains_key(id) {
                continue;
            }
            let state = &self.services[slot.vs].reals[slot.real].checks[slot.check];
            if state.next_attempt() <= now {
                let vs = &self.config.virtual_servers[slot.vs];
                let real = &vs.reals[slot.real];
                jobs.push(Job { id: *id, check: real.checks[slot.check].clone(), service: vs.service.key, real: real.clone() });
            }
        }
        for j in &jobs {
            self.in_flight.insert(j.id, ());
        }
        jobs
    }

    /// When something is next due (a check not running, or a slow-start step).
    pub fn next_deadline(&self) -> Option<Instant> {
        let checks = self
            .slots
            .iter()
            .filter(|(id, _)| !self.in_flight.contains_key(id))
            .map(|(_, s)| self.services[s.vs].reals[s.real].checks[s.check].next_attempt());
        let slow = self.services.iter().flat_map(|s| s.reals.iter()).filter_map(RealState::slow_start_deadline);
        checks.chain(slow).min()
    }

    /// Takes the result of check `id`; ignored when a replace dropped the check meanwhile.
    pub fn record(&mut self, id: u64, attempt: Attempt, now: Instant) -> Vec<Event> {
        self.in_flight.remove(&id);
        let Some(slot) = self.slots.get(&id).copied() else { return Vec::new() };
        let vs = &self.config.virtual_servers[slot.vs];
        let real = &vs.reals[slot.real];
        let st = &mut self.services[slot.vs].reals[slot.real];
        let mut events = Vec::new();
        match st.checks[slot.check].record(attempt, now) {
            None => {}
            Some(Verdict::Weight(_)) => events.push(Event::RealWeight { service: vs.service.key, dest: real.dest.dest_addr() }),
            Some(verdict) => {
                let reason = match &verdict {
                    Verdict::Down { reason } => format!("{} failed: {reason}", real.checks[slot.check].kind.keyword()),
                    _ => format!("{} passed", real.checks[slot.check].kind.keyword()),
                };
                if let Some(up) = st.settle(real, now, &reason) {
                    events.push(real_event(vs.service.key, real, up, reason));
                }
            }
        }
        self.follow_quorum(slot.vs, &mut events);
        events
    }

    /// Takes a failure of check `id` that does not count (see [`crate::own_links`]); ignored
    /// when a replace dropped the check meanwhile.
    pub fn excuse(&mut self, id: u64, reason: String, now: Instant) {
        self.in_flight.remove(&id);
        if let Some(slot) = self.slots.get(&id).copied() {
            self.services[slot.vs].reals[slot.real].checks[slot.check].excuse(reason, now, crate::own_links::LINK_SETTLE);
        }
    }

    /// Advances slow starts that are due.
    pub fn tick(&mut self, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        for v in 0..self.services.len() {
            let vs = &self.config.virtual_servers[v];
            for (real, st) in vs.reals.iter().zip(&mut self.services[v].reals) {
                if st.advance_slow_start(real, now) {
                    events.push(Event::RealWeight { service: vs.service.key, dest: real.dest.dest_addr() });
                }
            }
            self.follow_quorum(v, &mut events);
        }
        events
    }

    fn follow_quorum(&mut self, v: usize, events: &mut Vec<Event>) {
        self.services[v].follow_quorum(&self.config.virtual_servers[v], events);
    }

    /// What the table should hold, service by service.
    pub fn desired(&self) -> Vec<DesiredService> {
        self.config
            .virtual_servers
            .iter()
            .zip(&self.services)
            .map(|(vs, st)| desired::desired(vs, &st.health(vs), st.quorum.is_up()))
            .collect()
    }

    /// Every real server with its state, for listings.
    pub fn reals(&self) -> impl Iterator<Item = (&VirtualServer, &RealServer, &RealState, bool)> {
        self.config.virtual_servers.iter().zip(&self.services).flat_map(|(vs, st)| {
            vs.reals.iter().zip(&st.reals).map(move |(r, s)| (vs, r, s, st.quorum.is_up()))
        })
    }
}

fn real_event(service: ServiceKey, real: &RealServer, up: bool, reason: String) -> Event {
    let dest = real.dest.dest_addr();
    if up { Event::RealUp { service, dest, reason } } else { Event::RealDown { service, dest, reason } }
}

fn quorum_event(service: ServiceKey, up: bool) -> Event {
    if up { Event::QuorumUp { service } } else { Event::QuorumDown { service } }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rvs_core::config::{CheckKind, CheckTarget, CheckTiming};
    use rvs_core::model::{AddressFamily, DestSpec, ForwardMethod, Netmask, Protocol, SchedulerName, ServiceFlags, ServiceSpec, TunnelSpec, Weight};

    fn check(retry: u32) -> Check {
        let mut timing = CheckTiming::keepalived_default(&CheckKind::Tcp);
        timing.retry = retry;
        timing.delay_loop = Duration::from_secs(6);
        Check { kind: CheckKind::Tcp, timing, target: CheckTarget::default() }
    }

    fn real(addr: &str, weight: u32, checks: Vec<Check>) -> RealServer {
        let dest = DestSpec {
            addr: addr.parse().unwrap(),
            port: 80,
            fwd: ForwardMethod::Route,
            weight: Weight::new(weight).unwrap(),
            u_threshold: 0,
            l_threshold: 0,
            tunnel: TunnelSpec::default(),
        };
        RealServer { checks, ..RealServer::new(dest) }
    }

    fn config(reals: Vec<RealServer>) -> Config {
        let service = ServiceSpec {
            key: ServiceKey::Addr { protocol: Protocol::Tcp, addr: "192.168.1.250".parse().unwrap(), port: 80 },
            scheduler: SchedulerName::wlc(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(AddressFamily::Inet),
            pe: None,
        };
        Config { virtual_servers: vec![VirtualServer::new(service, reals)], ..Config::default() }
    }

    fn table(h: &Health) -> Vec<(String, u32)> {
        h.desired()[0].dests.iter().map(|d| (d.addr.to_string(), d.weight.get())).collect()
    }

    fn fail() -> Attempt {
        Attempt::Fail { reason: "connection refused".into() }
    }

    fn zero() -> u64 {
        0
    }

    #[test]
    fn a_failing_real_leaves_the_table_after_its_retries_and_comes_back() {
        let t0 = Instant::now();
        let (mut h, _) = Health::new(config(vec![real("10.0.0.1", 1, vec![check(1)]), real("10.0.0.2", 2, vec![check(1)])]), t0, &mut zero);
        assert_eq!(table(&h), [("10.0.0.1".into(), 1), ("10.0.0.2".into(), 2)]);
        let jobs = h.due(t0);
        assert_eq!(jobs.len(), 2);
        assert!(h.due(t0).is_empty(), "running checks are not due again");
        let id = jobs.iter().find(|j| j.real.dest.addr.to_string() == "10.0.0.1").unwrap().id;
        assert!(h.record(id, fail(), t0).is_empty(), "one retry first");
        assert_eq!(h.due(t0 + Duration::from_secs(1)).len(), 1);
        let events = h.record(id, fail(), t0 + Duration::from_secs(1));
        assert!(matches!(&events[..], [Event::RealDown { reason, .. }] if reason == "TCP_CHECK failed: connection refused"), "{events:?}");
        assert_eq!(table(&h), [("10.0.0.2".into(), 2)]);
        assert!(h.due(t0 + Duration::from_secs(6)).is_empty(), "down: next check after delay_loop");
        assert_eq!(h.due(t0 + Duration::from_secs(7)).len(), 1);
        let events = h.record(id, Attempt::Pass { weight: None }, t0 + Duration::from_secs(7));
        assert!(matches!(&events[..], [Event::RealUp { .. }]));
        assert_eq!(table(&h).len(), 2);
    }

    #[test]
    fn losing_every_real_loses_the_quorum_and_a_reload_keeps_state() {
        let t0 = Instant::now();
        let (mut h, _) = Health::new(config(vec![real("10.0.0.1", 1, vec![check(0)])]), t0, &mut zero);
        let id = h.due(t0)[0].id;
        let events = h.record(id, fail(), t0);
        assert!(matches!(&events[..], [Event::RealDown { .. }, Event::QuorumDown { .. }]), "{events:?}");

        // Reload: the same real (kept down, same check id), a new one (up), a new weight.
        let mut new = config(vec![real("10.0.0.1", 1, vec![check(0)]), real("10.0.0.3", 4, vec![check(0)])]);
        new.virtual_servers[0].reals[0].dest.weight = Weight::new(3).unwrap();
        let (released, events) = h.replace(new, t0, &mut zero);
        assert!(released.is_empty());
        assert!(matches!(&events[..], [Event::QuorumUp { .. }]), "the new real brings the quorum back: {events:?}");
        assert_eq!(table(&h), [("10.0.0.3".into(), 4)], "10.0.0.1 is still down after the reload");
        assert!(h.record(id, Attempt::Pass { weight: None }, t0).iter().any(|e| matches!(e, Event::RealUp { .. })), "its check kept its id");
        assert_eq!(table(&h), [("10.0.0.1".into(), 3), ("10.0.0.3".into(), 4)]);

        // A changed check starts from the real's state; a removed service is released.
        let mut changed = config(vec![real("10.0.0.1", 3, vec![check(5)])]);
        let (_, events) = h.replace(changed.clone(), t0, &mut zero);
        assert!(events.is_empty());
        assert_eq!(table(&h), [("10.0.0.1".into(), 3)]);
        assert!(h.record(id, fail(), t0).is_empty(), "results of dropped checks are ignored");
        changed.virtual_servers.clear();
        let (released, _) = h.replace(changed, t0, &mut zero);
        assert_eq!(released.len(), 1);
        assert!(h.desired().is_empty());
    }

    #[test]
    fn a_failed_real_whose_check_changes_still_waits_for_reentry_and_omega_skips_it() {
        let t0 = Instant::now();
        let with_reentry = |retry| {
            let mut c = check(retry);
            c.timing.reentry = Duration::from_secs(15);
            c
        };
        let mut c = config(vec![real("10.0.0.1", 1, vec![with_reentry(0)]), real("10.0.0.2", 1, vec![])]);
        c.virtual_servers[0].omega = true;
        c.virtual_servers[0].reals[0].notify_down = rvs_core::config::Script::new(vec!["/bin/true".into(), "down1".into()]);
        c.virtual_servers[0].reals[1].notify_down = rvs_core::config::Script::new(vec!["/bin/true".into(), "down2".into()]);
        let (mut h, _) = Health::new(c.clone(), t0, &mut zero);
        let id = h.due(t0)[0].id;
        assert!(matches!(&h.record(id, fail(), t0)[..], [Event::RealDown { .. }]));
        let omega: Vec<String> = h.omega_scripts().into_iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(omega, ["/bin/true down2"], "omega runs the down script of live reals only");

        c.virtual_servers[0].reals[0].checks = vec![with_reentry(3)];
        h.replace(c, t0, &mut zero);
        let id = h.due(t0)[0].id;
        assert!(h.record(id, Attempt::Pass { weight: None }, t0).is_empty(), "the new check of a failed real waits for reentry");
        assert_eq!(table(&h), [("10.0.0.2".into(), 1)]);
    }

    #[test]
    fn alpha_starts_reals_down_until_a_check_passes() {
        let t0 = Instant::now();
        let mut c = config(vec![real("10.0.0.1", 1, vec![check(0)]), real("10.0.0.2", 1, vec![])]);
        c.virtual_servers[0].alpha = true;
        let (mut h, _) = Health::new(c, t0, &mut zero);
        assert_eq!(table(&h), [("10.0.0.2".into(), 1)], "a real without checks is always up");
        let id = h.due(t0)[0].id;
        assert!(matches!(&h.record(id, Attempt::Pass { weight: None }, t0)[..], [Event::RealUp { .. }]));
    }
}
