//! Service operations: `ip_vs_add_service`, `ip_vs_edit_service`, `ip_vs_del_service`,
//! `ip_vs_flush`, `ip_vs_zero_*` and `ip_vs_set_timeout`.

use super::{Change, IpvsError, IpvsTable, Service, is_known_pe, is_known_scheduler};
use crate::model::{
    AddressFamily, Netmask, PeName, SchedulerName, ServiceId, ServiceKey, ServiceSpec,
    TimeoutUpdate,
};

/// `CONFIG_HZ` of the kernels the behaviour was taken from; `ip_vs_set_timeout` refuses values
/// above `INT_MAX / HZ` seconds.
const KERNEL_HZ: u32 = 250;
const MAX_TIMEOUT_SECS: u32 = i32::MAX as u32 / KERNEL_HZ;

/// The scheduler lookup of `ip_vs_add_service`/`ip_vs_edit_service`: `none` means no scheduler,
/// an unknown module is `ENOENT`.
fn lookup_scheduler(name: &SchedulerName) -> Result<Option<SchedulerName>, IpvsError> {
    if name.as_str() == "none" {
        Ok(None)
    } else if is_known_scheduler(name.as_str()) {
        Ok(Some(name.clone()))
    } else {
        Err(IpvsError::NotFound)
    }
}

fn lookup_pe(pe: Option<&PeName>) -> Result<Option<PeName>, IpvsError> {
    match pe {
        None => Ok(None),
        Some(p) if is_known_pe(p.as_str()) => Ok(Some(p.clone())),
        Some(_) => Err(IpvsError::NotFound),
    }
}

/// IPv6 services need a prefix length of 1..=128 (`EINVAL` otherwise). An IPv4 service given a
/// prefix, or an IPv6 one given a dotted mask, cannot come from the kernel's ABI; refuse both.
fn check_netmask(af: AddressFamily, netmask: Netmask) -> Result<(), IpvsError> {
    match (af, netmask) {
        (AddressFamily::Inet6, Netmask::V6(plen)) if (1..=128).contains(&plen) => Ok(()),
        (AddressFamily::Inet, Netmask::V4(_)) => Ok(()),
        _ => Err(IpvsError::Invalid),
    }
}

impl IpvsTable {
    pub(super) fn add_service(&mut self, spec: &ServiceSpec) -> Result<Vec<Change>, IpvsError> {
        if self.by_key.contains_key(&spec.key) {
            return Err(IpvsError::Exists);
        }
        let scheduler = lookup_scheduler(&spec.scheduler)?;
        let pe = lookup_pe(spec.pe.as_ref())?;
        check_netmask(spec.key.af(), spec.netmask)?;
        let id = ServiceId(self.service_ids.alloc().ok_or(IpvsError::NoMemory)?);
        let serial = self.new_serial();
        let service = Service {
            id,
            key: spec.key,
            scheduler,
            flags: spec.flags,
            timeout: spec.timeout,
            netmask: spec.netmask,
            pe,
            dests: Vec::new(),
            serial,
        };
        self.order.insert(&spec.key, id);
        self.by_key.insert(spec.key, id);
        self.services.insert(id, service);
        Ok(vec![Change::ServiceAdded(id)])
    }

    pub(super) fn edit_service(&mut self, spec: &ServiceSpec) -> Result<Vec<Change>, IpvsError> {
        let id = *self.by_key.get(&spec.key).ok_or(IpvsError::NoSuchService)?;
        let scheduler = lookup_scheduler(&spec.scheduler)?;
        let pe = lookup_pe(spec.pe.as_ref())?;
        check_netmask(spec.key.af(), spec.netmask)?;
        let svc = self.services.get_mut(&id).ok_or(IpvsError::NoSuchService)?;
        svc.scheduler = scheduler;
        svc.flags = spec.flags;
        svc.timeout = spec.timeout;
        svc.netmask = spec.netmask;
        svc.pe = pe;
        Ok(vec![Change::ServiceUpdated(id)])
    }

    pub(super) fn delete_service(&mut self, key: &ServiceKey) -> Result<Vec<Change>, IpvsError> {
        let id = *self.by_key.get(key).ok_or(IpvsError::NoSuchService)?;
        Ok(self.remove_service(id))
    }

    /// `ip_vs_unlink_service`: every destination goes to the trash, then the service goes.
    fn remove_service(&mut self, id: ServiceId) -> Vec<Change> {
        let Some(svc) = self.services.remove(&id) else {
            return Vec::new();
        };
        let mut changes = Vec::with_capacity(svc.dests.len() + 1);
        for dest in &svc.dests {
            if self.unlink_dest_to_trash(*dest, svc.key.af()) {
                changes.push(Change::DestRemoved {
                    service: id,
                    dest: *dest,
                });
            }
        }
        self.order.remove(&svc.key, id);
        self.by_key.remove(&svc.key);
        self.service_ids.free(id.0);
        changes.push(Change::ServiceRemoved { id, key: svc.key });
        changes
    }

    /// `-C`: services go in dump order, as `ip_vs_flush` walks the hash tables.
    pub(super) fn flush(&mut self) -> Vec<Change> {
        let ids: Vec<ServiceId> = self.order.iter().collect();
        ids.into_iter()
            .flat_map(|id| self.remove_service(id))
            .collect()
    }

    pub(super) fn zero(&mut self, key: Option<&ServiceKey>) -> Result<Vec<Change>, IpvsError> {
        let (services, totals): (Vec<ServiceId>, bool) = match key {
            None => (self.order.iter().collect(), true),
            Some(k) => (
                vec![*self.by_key.get(k).ok_or(IpvsError::NoSuchService)?],
                false,
            ),
        };
        let dests = services
            .iter()
            .filter_map(|id| self.services.get(id))
            .flat_map(|s| s.dests.iter().copied())
            .collect();
        Ok(vec![Change::CountersZeroed {
            services,
            dests,
            totals,
        }])
    }

    pub(super) fn set_timeouts(&mut self, t: &TimeoutUpdate) -> Result<Vec<Change>, IpvsError> {
        if [t.tcp, t.tcp_fin, t.udp]
            .iter()
            .any(|&v| v > MAX_TIMEOUT_SECS)
        {
            return Err(IpvsError::Invalid);
        }
        let old = self.timeouts;
        if t.tcp != 0 {
            self.timeouts.tcp = t.tcp;
        }
        if t.tcp_fin != 0 {
            self.timeouts.tcp_fin = t.tcp_fin;
        }
        if t.udp != 0 {
            self.timeouts.udp = t.udp;
        }
        if self.timeouts == old {
            Ok(Vec::new())
        } else {
            Ok(vec![Change::TimeoutsChanged(self.timeouts)])
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{NoLiveData, StaticHost};
    use super::*;
    use crate::model::{Fwmark, Operation, Protocol, ServiceFlags, Timeouts};

    fn spec(addr: &str, port: u16, sched: &str) -> ServiceSpec {
        let addr: std::net::IpAddr = addr.parse().unwrap();
        ServiceSpec {
            key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr,
                port,
            },
            scheduler: SchedulerName::new(sched).unwrap(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(crate::model::AddressFamily::of(&addr)),
            pe: None,
        }
    }

    fn apply(t: &mut IpvsTable, op: Operation) -> Result<Vec<Change>, IpvsError> {
        t.apply(&op, &StaticHost::loopback_only())
    }

    #[test]
    fn add_exists_and_unknown_modules() {
        let mut t = IpvsTable::new();
        let s = spec("10.0.0.1", 80, "rr");
        assert_eq!(
            apply(&mut t, Operation::AddService { spec: s.clone() }),
            Ok(vec![Change::ServiceAdded(ServiceId(0))])
        );
        assert_eq!(
            apply(&mut t, Operation::AddService { spec: s.clone() }),
            Err(IpvsError::Exists)
        );
        // EEXIST wins over a bad scheduler, as the lookup happens first
        assert_eq!(
            apply(
                &mut t,
                Operation::AddService {
                    spec: spec("10.0.0.1", 80, "bogus")
                }
            ),
            Err(IpvsError::Exists)
        );
        assert_eq!(
            apply(
                &mut t,
                Operation::AddService {
                    spec: spec("10.0.0.2", 80, "bogus")
                }
            ),
            Err(IpvsError::NotFound)
        );
        let mut with_pe = spec("10.0.0.3", 80, "rr");
        with_pe.pe = Some(PeName::new("nope").unwrap());
        assert_eq!(
            apply(
                &mut t,
                Operation::AddService {
                    spec: with_pe.clone()
                }
            ),
            Err(IpvsError::NotFound)
        );
        with_pe.pe = Some(PeName::new("sip").unwrap());
        assert!(apply(&mut t, Operation::AddService { spec: with_pe }).is_ok());
        assert!(
            apply(
                &mut t,
                Operation::AddService {
                    spec: spec("10.0.0.4", 80, "none")
                }
            )
            .is_ok()
        );
        let none = t.service(&spec("10.0.0.4", 80, "rr").key).unwrap();
        assert_eq!(none.scheduler, None);
        assert_eq!(none.spec(), spec("10.0.0.4", 80, "none"), "the spec it was added with, `-s none` included");
        assert_eq!(t.generation(), 3);
    }

    #[test]
    fn ipv6_netmask_must_be_a_prefix() {
        let mut t = IpvsTable::new();
        let mut s = spec("2001:db8::1", 80, "wlc");
        s.netmask = Netmask::V6(0);
        assert_eq!(
            apply(&mut t, Operation::AddService { spec: s.clone() }),
            Err(IpvsError::Invalid)
        );
        s.netmask = Netmask::V6(129);
        assert_eq!(
            apply(&mut t, Operation::AddService { spec: s.clone() }),
            Err(IpvsError::Invalid)
        );
        s.netmask = Netmask::V6(64);
        assert!(apply(&mut t, Operation::AddService { spec: s.clone() }).is_ok());
        s.netmask = Netmask::V6(0);
        assert_eq!(
            apply(&mut t, Operation::EditService { spec: s }),
            Err(IpvsError::Invalid)
        );
        let mut v4 = spec("10.0.0.1", 80, "wlc");
        v4.netmask = Netmask::V6(24);
        assert_eq!(
            apply(&mut t, Operation::AddService { spec: v4 }),
            Err(IpvsError::Invalid)
        );
    }

    #[test]
    fn edit_replaces_everything() {
        let mut t = IpvsTable::new();
        let mut s = spec("10.0.0.1", 80, "rr");
        s.flags.persistent = true;
        s.timeout = 300;
        s.pe = Some(PeName::new("sip").unwrap());
        apply(&mut t, Operation::AddService { spec: s.clone() }).unwrap();
        let e = spec("10.0.0.1", 80, "wlc");
        assert_eq!(
            apply(&mut t, Operation::EditService { spec: e.clone() }),
            Ok(vec![Change::ServiceUpdated(ServiceId(0))])
        );
        let svc = t.service(&e.key).unwrap();
        assert_eq!(
            svc.scheduler.as_ref().map(SchedulerName::as_str),
            Some("wlc")
        );
        assert!(!svc.flags.persistent);
        assert_eq!(svc.pe, None);
        assert_eq!(
            apply(
                &mut t,
                Operation::EditService {
                    spec: spec("10.0.0.9", 80, "rr")
                }
            ),
            Err(IpvsError::NoSuchService)
        );
        assert_eq!(
            apply(
                &mut t,
                Operation::EditService {
                    spec: spec("10.0.0.1", 80, "bogus")
                }
            ),
            Err(IpvsError::NotFound)
        );
    }

    #[test]
    fn delete_frees_the_id_and_flush_empties() {
        let mut t = IpvsTable::new();
        apply(
            &mut t,
            Operation::AddService {
                spec: spec("10.0.0.1", 80, "rr"),
            },
        )
        .unwrap();
        apply(
            &mut t,
            Operation::AddService {
                spec: spec("10.0.0.2", 80, "rr"),
            },
        )
        .unwrap();
        let k = spec("10.0.0.1", 80, "rr").key;
        assert_eq!(
            apply(&mut t, Operation::DeleteService { key: k }),
            Ok(vec![Change::ServiceRemoved {
                id: ServiceId(0),
                key: k
            }])
        );
        assert_eq!(
            apply(&mut t, Operation::DeleteService { key: k }),
            Err(IpvsError::NoSuchService)
        );
        apply(
            &mut t,
            Operation::AddService {
                spec: spec("10.0.0.3", 80, "rr"),
            },
        )
        .unwrap();
        assert_eq!(
            t.service(&spec("10.0.0.3", 80, "rr").key).map(|s| s.id),
            Some(ServiceId(0))
        );
        let fw = ServiceSpec {
            key: ServiceKey::Fwmark {
                af: crate::model::AddressFamily::Inet,
                mark: Fwmark::new(1).unwrap(),
            },
            ..spec("10.0.0.1", 80, "rr")
        };
        apply(&mut t, Operation::AddService { spec: fw }).unwrap();
        let changes = apply(&mut t, Operation::Flush).unwrap();
        assert_eq!(changes.len(), 3);
        assert_eq!(t.services().count(), 0);
        assert_eq!(apply(&mut t, Operation::Flush), Ok(vec![]));
        assert!(t.entries(&NoLiveData).is_empty());
    }

    #[test]
    fn zero_reports_what_to_zero() {
        let mut t = IpvsTable::new();
        apply(
            &mut t,
            Operation::AddService {
                spec: spec("10.0.0.1", 80, "rr"),
            },
        )
        .unwrap();
        assert_eq!(
            apply(&mut t, Operation::Zero { service: None }),
            Ok(vec![Change::CountersZeroed {
                services: vec![ServiceId(0)],
                dests: vec![],
                totals: true
            }])
        );
        let missing = spec("10.0.0.9", 80, "rr").key;
        assert_eq!(
            apply(
                &mut t,
                Operation::Zero {
                    service: Some(missing)
                }
            ),
            Err(IpvsError::NoSuchService)
        );
    }

    #[test]
    fn timeouts_zero_keeps_current() {
        let mut t = IpvsTable::new();
        assert_eq!(
            apply(
                &mut t,
                Operation::SetTimeouts {
                    timeouts: TimeoutUpdate::default()
                }
            ),
            Ok(vec![])
        );
        let upd = TimeoutUpdate {
            tcp: 10,
            tcp_fin: 0,
            udp: 5,
        };
        let want = Timeouts {
            tcp: 10,
            tcp_fin: 120,
            udp: 5,
        };
        assert_eq!(
            apply(&mut t, Operation::SetTimeouts { timeouts: upd }),
            Ok(vec![Change::TimeoutsChanged(want)])
        );
        assert_eq!(t.timeouts(), want);
        let too_big = TimeoutUpdate {
            tcp: MAX_TIMEOUT_SECS + 1,
            tcp_fin: 0,
            udp: 0,
        };
        assert_eq!(
            apply(&mut t, Operation::SetTimeouts { timeouts: too_big }),
            Err(IpvsError::Invalid)
        );
        assert_eq!(t.timeouts(), want);
    }
}
