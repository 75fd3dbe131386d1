//! What the IPVS table should hold for a virtual server, given its real servers' health: the
//! rules of keepalived's `check/ipwrapper.c` without its side effects.
//!
//! - A real server that is up is in the table with its weight (or the weight its checks or
//!   slow start give it).
//! - A real server that is down is removed, or kept with weight 0 under `inhibit_on_failure`.
//! - When the live weight falls below the quorum and there is a sorry server, the sorry server
//!   takes the real servers' place until the quorum is back ([`Quorum`] adds the hysteresis).

use crate::model::{DestSpec, ServiceSpec, Weight};

use super::{RealServer, VirtualServer};

/// A real server's health as the checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealHealth {
    pub up: bool,
    /// The weight to use while up, when checks or slow start set one; `None`: the configured one.
    pub weight: Option<Weight>,
}

impl RealHealth {
    pub const UP: RealHealth = RealHealth { up: true, weight: None };
    pub const DOWN: RealHealth = RealHealth { up: false, weight: None };

    /// The weight this real server adds to the live weight (0 when down).
    pub fn live_weight(&self, real: &RealServer) -> u64 {
        if self.up { u64::from(self.weight.unwrap_or(real.dest.weight).get()) } else { 0 }
    }
}

/// A service and the destinations it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    pub spec: ServiceSpec,
    pub dests: Vec<DestSpec>,
}

/// The live weight of a virtual server: the sum of its live real servers' weights.
pub fn live_weight(vs: &VirtualServer, health: &[RealHealth]) -> u64 {
    vs.reals.iter().zip(health).map(|(r, h)| h.live_weight(r)).sum()
}

/// The table entries of `vs` when its real servers' health is `health` (one per real, in
/// order) and its quorum is `quorum_up`.
pub fn desired(vs: &VirtualServer, health: &[RealHealth], quorum_up: bool) -> DesiredService {
    let sorry_in_charge = !quorum_up && vs.sorry_server.is_some();
    let mut dests = Vec::with_capacity(vs.reals.len() + 1);
    for (real, h) in vs.reals.iter().zip(health) {
        let weight = match (h.up && !sorry_in_charge, real.inhibit_on_failure) {
            (true, _) => h.weight.unwrap_or(real.dest.weight),
            (false, true) => Weight::default(),
            (false, false) => continue,
        };
        dests.push(DestSpec { weight, ..real.dest });
    }
    if let Some(sorry) = &vs.sorry_server {
        // A sorry server that is also a real server is that real server's entry.
        let listed = dests.iter_mut().find(|d| d.dest_addr() == sorry.dest_addr());
        match (sorry_in_charge, listed) {
            (true, Some(d)) => d.weight = sorry.weight,
            (true, None) => dests.push(*sorry),
            (false, None) if vs.sorry_server_inhibit => dests.push(DestSpec { weight: Weight::default(), ..*sorry }),
            (false, _) => {}
        }
    }
    DesiredService { spec: vs.service.clone(), dests }
}

/// A virtual server's quorum state: lost when the live weight falls below `quorum − hysteresis`,
/// regained when it reaches `quorum + hysteresis` (keepalived's `update_quorum_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    up: bool,
}

impl Quorum {
    /// The state at start: up, as keepalived starts; the first [`Quorum::update`] applies the
    /// rules (and reports the loss, so that it is logged and scripted).
    pub fn up() -> Self {
        Quorum { up: true }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Follows a new live weight; `Some(new state)` when it flips.
    pub fn update(&mut self, vs: &VirtualServer, live: u64) -> Option<bool> {
        let quorum = u64::from(vs.quorum);
        let hysteresis = u64::from(vs.hysteresis);
        // No live weight at all loses the quorum whatever the hysteresis (keepalived's
        // `!weight_sum ||`).
        let flip = if self.up { live == 0 || live < quorum.saturating_sub(hysteresis) } else { live > 0 && live >= quorum + hysteresis };
        if flip {
            self.up = !self.up;
            Some(self.up)
        } else {
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ForwardMethod, Netmask, ServiceFlags, ServiceKey, TunnelSpec, AddressFamily, Protocol, SchedulerName};

    pub(crate) fn dest(addr: &str, weight: u32) -> DestSpec {
        DestSpec {
            addr: addr.parse().unwrap(),
            port: 80,
            fwd: ForwardMethod::Route,
            weight: Weight::new(weight).unwrap(),
            u_threshold: 0,
            l_threshold: 0,
            tunnel: TunnelSpec::default(),
        }
    }

    pub(crate) fn vs(reals: &[(&str, u32, bool)]) -> VirtualServer {
        let service = ServiceSpec {
            key: ServiceKey::Addr { protocol: Protocol::Tcp, addr: "192.168.1.250".parse().unwrap(), port: 80 },
            scheduler: SchedulerName::wlc(),
            flags: ServiceFlags::default(),
            timeout: 300,
            netmask: Netmask::full(AddressFamily::Inet),
            pe: None,
        };
        let reals = reals.iter().map(|&(addr, w, inhibit)| RealServer { inhibit_on_failure: inhibit, ..RealServer::new(dest(addr, w)) }).collect();
        VirtualServer::new(service, reals)
    }

    fn weights(d: &DesiredService) -> Vec<(String, u32)> {
        d.dests.iter().map(|d| (d.addr.to_string(), d.weight.get())).collect()
    }

    #[test]
    fn down_reals_leave_or_get_weight_zero_with_inhibit() {
        let v = vs(&[("10.0.0.1", 3, false), ("10.0.0.2", 2, true), ("10.0.0.3", 1, false)]);
        let h = [RealHealth::DOWN, RealHealth::DOWN, RealHealth::UP];
        assert_eq!(weights(&desired(&v, &h, true)), [("10.0.0.2".into(), 0), ("10.0.0.3".into(), 1)]);
        let dynamic = [RealHealth { up: true, weight: Weight::new(7) }, RealHealth::UP, RealHealth::UP];
        assert_eq!(weights(&desired(&v, &dynamic, true))[0], ("10.0.0.1".into(), 7));
        assert_eq!(live_weight(&v, &dynamic), 7 + 2 + 1);
    }

    #[test]
    fn the_sorry_server_replaces_the_reals_while_the_quorum_is_lost() {
        let mut v = vs(&[("10.0.0.1", 1, false), ("10.0.0.2", 1, true)]);
        v.sorry_server = Some(dest("10.0.0.9", 1));
        let h = [RealHealth::UP, RealHealth::DOWN];
        assert_eq!(weights(&desired(&v, &h, true)), [("10.0.0.1".into(), 1), ("10.0.0.2".into(), 0)]);
        assert_eq!(
            weights(&desired(&v, &h, false)),
            [("10.0.0.2".into(), 0), ("10.0.0.9".into(), 1)],
            "live reals leave, inhibited ones keep weight 0, the sorry server joins"
        );
        v.sorry_server_inhibit = true;
        assert_eq!(weights(&desired(&v, &h, true)).last().unwrap(), &("10.0.0.9".into(), 0));
    }

    #[test]
    fn no_live_weight_loses_the_quorum_whatever_the_hysteresis() {
        let mut v = vs(&[]);
        v.hysteresis = 1;
        let mut q = Quorum::up();
        assert_eq!(q.update(&v, 0), Some(false));
        assert_eq!(q.update(&v, 1), None, "1 is not quorum + hysteresis");
        assert_eq!(q.update(&v, 2), Some(true));
    }

    #[test]
    fn quorum_flips_with_hysteresis() {
        let mut v = vs(&[]);
        v.quorum = 4;
        v.hysteresis = 1;
        let mut q = Quorum::up();
        assert_eq!(q.update(&v, 4), None);
        assert!(q.is_up());
        assert_eq!(q.update(&v, 3), None, "3 is within the hysteresis");
        assert_eq!(q.update(&v, 2), Some(false));
        assert_eq!(q.update(&v, 4), None, "4 is not yet quorum + hysteresis");
        assert_eq!(q.update(&v, 5), Some(true));
        v.hysteresis = 0;
        v.quorum = 1;
        let mut q = Quorum::up();
        assert_eq!(q.update(&v, 0), Some(false), "at start, the loss is reported");
        assert_eq!(q.update(&v, 1), Some(true));
        assert_eq!(q.update(&v, 0), Some(false));
    }
}
