//! The destination trash (`ipvs->dest_trash`): destinations removed from their service that
//! connections may still use. Re-adding the same destination to the same virtual service revives
//! it (see `add_dest`); the daemon frees the others when no connection refers to them any more.

use super::{Dest, IpvsTable};
use crate::model::DestId;

impl IpvsTable {
    /// Trashed destinations, most recently trashed first.
    pub fn trash(&self) -> impl Iterator<Item = &Dest> + '_ {
        self.trash.iter()
    }

    /// Frees every trashed destination for which `still_referenced` answers `false` (the kernel's
    /// `ip_vs_dest_trash_expire`, with the refcount question asked of the daemon's connection
    /// table). Returns the freed ids; they may be handed out again from now on.
    pub fn reap_trash(&mut self, mut still_referenced: impl FnMut(DestId) -> bool) -> Vec<DestId> {
        let mut freed = Vec::new();
        self.trash.retain(|d| {
            if still_referenced(d.id) {
                true
            } else {
                freed.push(d.id);
                false
            }
        });
        for id in &freed {
            self.dest_ids.free(id.0);
        }
        if !freed.is_empty() {
            self.generation += 1;
        }
        freed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{Change, StaticHost};
    use super::*;
    use crate::model::{
        AddressFamily, DestSpec, ForwardMethod, Fwmark, Netmask, Operation, Protocol,
        SchedulerName, ServiceFlags, ServiceId, ServiceKey, ServiceSpec, TunnelSpec, Weight,
    };

    fn svc_key(port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port,
        }
    }

    fn spec(key: ServiceKey) -> ServiceSpec {
        ServiceSpec {
            key,
            scheduler: SchedulerName::wlc(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(key.af()),
            pe: None,
        }
    }

    fn dest(addr: &str, weight: u32) -> DestSpec {
        DestSpec {
            addr: addr.parse().unwrap(),
            port: 80,
            fwd: ForwardMethod::Masq,
            weight: Weight::new(weight).unwrap(),
            u_threshold: 0,
            l_threshold: 0,
            tunnel: TunnelSpec::default(),
        }
    }

    fn run(t: &mut IpvsTable, op: Operation) -> Vec<Change> {
        t.apply(&op, &StaticHost::loopback_only()).unwrap()
    }

    #[test]
    fn readding_revives_with_same_id() {
        let mut t = IpvsTable::new();
        let k = svc_key(80);
        run(&mut t, Operation::AddService { spec: spec(k) });
        run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.1", 1),
            },
        );
        run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.2", 1),
            },
        );
        run(
            &mut t,
            Operation::DeleteDest {
                service: k,
                dest: dest("10.1.1.1", 1).dest_addr(),
            },
        );
        assert_eq!(t.trash().map(|d| d.id).collect::<Vec<_>>(), vec![DestId(0)]);
        let changes = run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.1", 7),
            },
        );
        assert_eq!(
            changes,
            vec![Change::DestAdded {
                service: ServiceId(0),
                dest: DestId(0),
                revived: true,
                stats_reset: false
            }]
        );
        assert_eq!(t.trash().count(), 0);
        assert_eq!(t.dest(DestId(0)).unwrap().spec.weight.get(), 7);
        // revived destinations go to the head of the list again
        assert_eq!(t.service(&k).unwrap().dests, vec![DestId(0), DestId(1)]);
    }

    #[test]
    fn other_virtual_service_does_not_revive() {
        let mut t = IpvsTable::new();
        let (a, b) = (svc_key(80), svc_key(81));
        run(&mut t, Operation::AddService { spec: spec(a) });
        run(&mut t, Operation::AddService { spec: spec(b) });
        run(
            &mut t,
            Operation::AddDest {
                service: a,
                dest: dest("10.1.1.1", 1),
            },
        );
        run(
            &mut t,
            Operation::DeleteDest {
                service: a,
                dest: dest("10.1.1.1", 1).dest_addr(),
            },
        );
        let changes = run(
            &mut t,
            Operation::AddDest {
                service: b,
                dest: dest("10.1.1.1", 1),
            },
        );
        assert_eq!(
            changes,
            vec![Change::DestAdded {
                service: ServiceId(1),
                dest: DestId(1),
                revived: false,
                stats_reset: false
            }]
        );
        assert_eq!(t.trash().count(), 1);
    }

    #[test]
    fn recreated_service_revives_with_stats_reset() {
        let mut t = IpvsTable::new();
        let k = svc_key(80);
        run(&mut t, Operation::AddService { spec: spec(k) });
        run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.1", 1),
            },
        );
        let changes = run(&mut t, Operation::DeleteService { key: k });
        assert_eq!(
            changes,
            vec![
                Change::DestRemoved {
                    service: ServiceId(0),
                    dest: DestId(0)
                },
                Change::ServiceRemoved {
                    id: ServiceId(0),
                    key: k
                }
            ]
        );
        run(&mut t, Operation::AddService { spec: spec(k) });
        let changes = run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.1", 1),
            },
        );
        assert_eq!(
            changes,
            vec![Change::DestAdded {
                service: ServiceId(0),
                dest: DestId(0),
                revived: true,
                stats_reset: true
            }]
        );
    }

    #[test]
    fn fwmark_trash_ignores_service_family() {
        let mut t = IpvsTable::new();
        let mark = Fwmark::new(5).unwrap();
        let v4 = ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark,
        };
        let v6 = ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark,
        };
        run(&mut t, Operation::AddService { spec: spec(v4) });
        let mut d = dest("10.1.1.1", 1);
        d.fwd = ForwardMethod::Tunnel;
        run(
            &mut t,
            Operation::AddDest {
                service: v4,
                dest: d,
            },
        );
        run(&mut t, Operation::DeleteService { key: v4 });
        run(&mut t, Operation::AddService { spec: spec(v6) });
        let changes = run(
            &mut t,
            Operation::AddDest {
                service: v6,
                dest: d,
            },
        );
        assert!(matches!(
            changes[0],
            Change::DestAdded { revived: true, .. }
        ));
    }

    #[test]
    fn reap_frees_ids_for_reuse() {
        let mut t = IpvsTable::new();
        let k = svc_key(80);
        run(&mut t, Operation::AddService { spec: spec(k) });
        run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.1", 1),
            },
        );
        run(
            &mut t,
            Operation::AddDest {
                service: k,
                dest: dest("10.1.1.2", 1),
            },
        );
        run(&mut t, Operation::Flush);
        assert_eq!(t.trash().count(), 2);
        let g = t.generation();
        // dest 1 still has connections
        let freed = t.reap_trash(|id| id == DestId(1));
        assert_eq!(freed, vec![DestId(0)]);
        assert!(t.generation() > g);
        assert_eq!(t.reap_trash(|_| true), vec![]);
        run(
            &mut t,
            Operation::AddService {
                spec: spec(svc_key(81)),
            },
        );
        let changes = run(
            &mut t,
            Operation::AddDest {
                service: svc_key(81),
                dest: dest("10.1.1.9", 1),
            },
        );
        assert!(matches!(
            changes[0],
            Change::DestAdded {
                dest: DestId(0),
                revived: false,
                ..
            }
        ));
    }
}
