//! What `ipvsadm -L --stats/--rate` shows, computed as IPVS does: the data plane's per-CPU
//! counters are folded every 2 s by the rate estimator (`ip_vs_est.c`), listings show the folded
//! totals minus the zero point set by `-Z`, and rates are the estimator's averages.

use std::collections::HashMap;

use rvs_core::{
    est::{Estimator, StatsTotals},
    model::{DestCounters, DestId, ServiceCounters, ServiceId, Stats64},
};

use crate::plane::Plane;

/// Estimator and zero point of one service or destination.
#[derive(Debug, Default)]
struct Counted {
    est: Estimator,
    zero: StatsTotals,
}

impl Counted {
    fn listed(&self) -> Stats64 {
        let t = self.est.last_totals();
        let z = self.zero;
        Stats64 {
            conns: t.conns.saturating_sub(z.conns),
            inpkts: t.inpkts.saturating_sub(z.inpkts),
            outpkts: t.outpkts.saturating_sub(z.outpkts),
            inbytes: t.inbytes.saturating_sub(z.inbytes),
            outbytes: t.outbytes.saturating_sub(z.outbytes),
        }
    }

    /// `-Z`: the last folded totals become the zero point and the rates restart.
    fn zero(&mut self) {
        self.zero = self.est.last_totals();
        self.est.zero();
    }
}

fn totals(c: rvs_dataplane::abi::RvsCounters) -> StatsTotals {
    StatsTotals { conns: c.conns, inpkts: c.inpkts, outpkts: c.outpkts, inbytes: c.inbytes, outbytes: c.outbytes }
}

/// The counters of every service and destination rvsd has installed.
#[derive(Debug, Default)]
pub struct Counters {
    services: HashMap<ServiceId, Counted>,
    dests: HashMap<DestId, Counted>,
}

impl Counters {
    /// A new service or destination slot starts from what its slot counted so far (slots are
    /// reused), so it lists zero.
    pub fn track_service(&mut self, plane: &Plane, id: ServiceId) {
        let base = plane.dp.service_counters(id.0).map(totals).unwrap_or_default();
        self.services.insert(id, Counted { est: Estimator::with_baseline(base), zero: base });
    }

    /// As `track_service`, for a destination; a revived destination keeps its history.
    pub fn track_dest(&mut self, plane: &Plane, id: DestId, reset: bool) {
        if !reset && self.dests.contains_key(&id) {
            return;
        }
        let base = plane.dp.dest_counters(id.0).map(totals).unwrap_or_default();
        self.dests.insert(id, Counted { est: Estimator::with_baseline(base), zero: base });
    }

    /// Forgets a service.
    pub fn forget_service(&mut self, id: ServiceId) {
        self.services.remove(&id);
    }

    /// Forgets a destination whose slot was freed.
    pub fn forget_dest(&mut self, id: DestId) {
        self.dests.remove(&id);
    }

    /// `-Z` for the given services and destinations.
    pub fn zero(&mut self, services: &[ServiceId], dests: &[DestId]) {
        for id in services {
            if let Some(c) = self.services.get_mut(id) {
                c.zero();
            }
        }
        for id in dests {
            if let Some(c) = self.dests.get_mut(id) {
                c.zero();
            }
        }
    }

    /// The estimator's 2-second tick: folds the data plane's counters into every estimator.
    pub fn sample(&mut self, plane: &Plane) {
        for (id, c) in &mut self.services {
            if let Ok(v) = plane.dp.service_counters(id.0) {
                c.est.sample(totals(v));
            }
        }
        for (id, c) in &mut self.dests {
            if let Ok(v) = plane.dp.dest_counters(id.0) {
                c.est.sample(totals(v));
            }
        }
    }

    /// What a listing shows for a service.
    pub fn service(&self, id: ServiceId) -> ServiceCounters {
        self.services
            .get(&id)
            .map(|c| ServiceCounters { stats: c.listed(), rates: c.est.rates() })
            .unwrap_or_default()
    }

    /// What a listing shows for a destination (connection counts are read live, as IPVS does).
    pub fn dest(&self, plane: &Plane, id: DestId) -> DestCounters {
        let (active, inactive, persist) = plane.dest_conns(id);
        let (stats, rates) = self.dests.get(&id).map(|c| (c.listed(), c.est.rates())).unwrap_or_default();
        DestCounters { active_conns: active, inactive_conns: inactive, persistent_conns: persist, stats, rates }
    }
}
