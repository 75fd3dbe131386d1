//! Listings: services and destinations merged with the data plane's live counters, in the
//! kernel's order (`IPVS_CMD_GET_SERVICE` dump + `IPVS_CMD_GET_DEST` per service).

use super::{Dest, IpvsError, IpvsTable, LiveCounters, Service};
use crate::model::{DestEntry, ServiceEntry, ServiceKey};

impl IpvsTable {
    /// Every service in dump order, destinations newest first.
    pub fn entries(&self, live: &dyn LiveCounters) -> Vec<ServiceEntry> {
        self.services().map(|s| self.entry_of(s, live)).collect()
    }

    /// One service (`IPVS_CMD_GET_SERVICE`), `ESRCH` if there is none with that key.
    pub fn entry(
        &self,
        key: &ServiceKey,
        live: &dyn LiveCounters,
    ) -> Result<ServiceEntry, IpvsError> {
        self.service(key)
            .map(|s| self.entry_of(s, live))
            .ok_or(IpvsError::NoSuchService)
    }

    fn entry_of(&self, s: &Service, live: &dyn LiveCounters) -> ServiceEntry {
        let counters = live.service(s.id);
        ServiceEntry {
            id: s.id,
            key: s.key,
            scheduler: s.scheduler.clone(),
            flags: s.flags,
            timeout: s.timeout,
            netmask: s.netmask,
            pe: s.pe.clone(),
            stats: counters.stats,
            rates: counters.rates,
            dests: self.dests_of(s).map(|d| dest_entry(d, live)).collect(),
        }
    }
}

fn dest_entry(d: &Dest, live: &dyn LiveCounters) -> DestEntry {
    let c = live.dest(d.id);
    DestEntry {
        id: d.id,
        addr: d.spec.addr,
        port: d.spec.port,
        fwd: d.spec.fwd,
        weight: d.spec.weight,
        u_threshold: d.spec.u_threshold,
        l_threshold: d.spec.l_threshold,
        tunnel: d.spec.tunnel,
        active_conns: c.active_conns,
        inactive_conns: c.inactive_conns,
        persistent_conns: c.persistent_conns,
        stats: c.stats,
        rates: c.rates,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{NoLiveData, StaticHost};
    use super::*;
    use crate::model::{
        DestCounters, DestId, DestSpec, ForwardMethod, Netmask, Operation, Protocol, SchedulerName,
        ServiceCounters, ServiceFlags, ServiceId, ServiceSpec, Stats64, TunnelSpec, Weight,
    };

    struct Fixed;
    impl LiveCounters for Fixed {
        fn service(&self, id: ServiceId) -> crate::model::ServiceCounters {
            ServiceCounters {
                stats: Stats64 {
                    conns: u64::from(id.0) + 100,
                    ..Stats64::default()
                },
                ..Default::default()
            }
        }
        fn dest(&self, id: DestId) -> DestCounters {
            DestCounters {
                active_conns: id.0 + 1,
                inactive_conns: 2,
                ..DestCounters::default()
            }
        }
    }

    #[test]
    fn entries_merge_live_counters() {
        let mut t = IpvsTable::new();
        let key = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 53,
        };
        let spec = ServiceSpec {
            key,
            scheduler: SchedulerName::new("rr").unwrap(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(key.af()),
            pe: None,
        };
        let host = StaticHost::loopback_only();
        t.apply(&Operation::AddService { spec }, &host).unwrap();
        for a in ["10.1.1.1", "10.1.1.2"] {
            let dest = DestSpec {
                addr: a.parse().unwrap(),
                port: 53,
                fwd: ForwardMethod::Masq,
                weight: Weight::new(1).unwrap(),
                u_threshold: 0,
                l_threshold: 0,
                tunnel: TunnelSpec::default(),
            };
            t.apply(&Operation::AddDest { service: key, dest }, &host)
                .unwrap();
        }
        let e = t.entry(&key, &Fixed).unwrap();
        assert_eq!(e.stats.conns, 100);
        assert_eq!(e.dests.len(), 2);
        assert_eq!(e.dests[0].addr.to_string(), "10.1.1.2");
        assert_eq!(e.dests[0].active_conns, 2);
        assert_eq!(t.entries(&NoLiveData)[0].dests[1].active_conns, 0);
        let other = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 53,
        };
        assert_eq!(t.entry(&other, &Fixed), Err(IpvsError::NoSuchService));
    }
}
