//! Destination operations: `ip_vs_add_dest`, `ip_vs_edit_dest`, `ip_vs_del_dest` with the checks
//! `ip_vs_genl_set_cmd` and `ip_vs_new_dest` make first.

use super::{Change, Dest, DirectorHost, IpvsError, IpvsTable, Origin};
use crate::model::{
    AddressFamily, DestAddr, DestId, DestSpec, ForwardMethod, ServiceId, ServiceKey, TunnelKind,
    Weight,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `ip_vs_new_dest`: an IPv4 destination must be unicast or local (`inet_addr_type`), an IPv6
/// one global unicast (not link-local) unless it is an address of this host.
fn check_dest_address(addr: IpAddr, host: &dyn DirectorHost) -> Result<(), IpvsError> {
    let ok = match addr {
        IpAddr::V4(a) => {
            !(a == Ipv4Addr::UNSPECIFIED
                || a == Ipv4Addr::BROADCAST
                || a.is_multicast()
                || host.is_broadcast(a))
        }
        IpAddr::V6(a) => {
            let kind = ipv6_addr_kind(a);
            (kind.unicast && !kind.link_local) || host.is_local(addr)
        }
    };
    if ok { Ok(()) } else { Err(IpvsError::Invalid) }
}

struct V6Kind {
    unicast: bool,
    link_local: bool,
}

/// The two bits of the kernel's `__ipv6_addr_type` that `ip_vs_new_dest` looks at.
fn ipv6_addr_kind(a: Ipv6Addr) -> V6Kind {
    let w = a.segments();
    let st = (u32::from(w[0]) << 16) | u32::from(w[1]);
    let unicast = |link_local| V6Kind {
        unicast: true,
        link_local,
    };
    let top3 = st & 0xE000_0000;
    if top3 != 0 && top3 != 0xE000_0000 {
        return unicast(false);
    }
    if st & 0xFF00_0000 == 0xFF00_0000 {
        return V6Kind {
            unicast: false,
            link_local: false,
        };
    }
    if st & 0xFFC0_0000 == 0xFE80_0000 {
        return unicast(true);
    }
    let words: Vec<u32> = (0..4)
        .map(|i| (u32::from(w[2 * i]) << 16) | u32::from(w[2 * i + 1]))
        .collect();
    if words[0] | words[1] == 0 {
        if words[2] == 0 {
            // :: is IPV6_ADDR_ANY; ::1 and IPv4-compatible addresses are unicast
            return V6Kind {
                unicast: words[3] != 0,
                link_local: false,
            };
        }
        if words[2] == 0x0000_ffff {
            // IPv4-mapped: IPV6_ADDR_MAPPED without the unicast bit
            return V6Kind {
                unicast: false,
                link_local: false,
            };
        }
    }
    unicast(false)
}

/// Checks every add/edit makes before looking the destination up: thresholds (`ERANGE`) and the
/// GUE port (`EINVAL`).
fn check_spec(spec: &DestSpec) -> Result<(), IpvsError> {
    if spec.l_threshold > spec.u_threshold {
        return Err(IpvsError::OutOfRange);
    }
    if spec.tunnel.kind == TunnelKind::Gue && spec.tunnel.port == 0 {
        return Err(IpvsError::Invalid);
    }
    Ok(())
}

/// The address union as the kernel stores it: IPv4 in the first four bytes.
fn union_bytes(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            b
        }
        IpAddr::V6(a) => a.octets(),
    }
}

/// `ip_vs_addr_equal(af, ...)`: IPv4 compares only the first word of the union.
fn addr_equal(af: AddressFamily, a: &IpAddr, b: &IpAddr) -> bool {
    let (a, b) = (union_bytes(a), union_bytes(b));
    match af {
        AddressFamily::Inet => a[..4] == b[..4],
        AddressFamily::Inet6 => a == b,
    }
}

impl IpvsTable {
    fn service_id(&self, key: &ServiceKey) -> Result<ServiceId, IpvsError> {
        self.by_key
            .get(key)
            .copied()
            .ok_or(IpvsError::NoSuchService)
    }

    /// `ip_vs_genl_set_cmd`: a destination of another family than its service needs tunnelling
    /// and no running sync daemon.
    fn check_family(&self, svc_af: AddressFamily, spec: &DestSpec) -> Result<(), IpvsError> {
        if spec.af() != svc_af {
            if self.master.is_some() || self.backup.is_some() {
                return Err(IpvsError::Invalid);
            }
            if spec.fwd != ForwardMethod::Tunnel {
                return Err(IpvsError::Invalid);
            }
        }
        Ok(())
    }

    /// `ip_vs_lookup_dest`: by family, address and port.
    fn find_dest(&self, sid: ServiceId, at: DestAddr) -> Option<DestId> {
        let svc = self.services.get(&sid)?;
        svc.dests.iter().copied().find(|id| {
            self.dests
                .get(id)
                .is_some_and(|d| d.spec.addr == at.addr && d.spec.port == at.port)
        })
    }

    /// `ip_vs_trash_get_dest`: a trashed destination created for this virtual service.
    fn find_in_trash(&self, sid: ServiceId, at: DestAddr) -> Option<usize> {
        let svc = self.services.get(&sid)?;
        let fwmark = svc.key.fwmark_value();
        self.trash.iter().position(|d| {
            d.spec.addr == at.addr
                && d.spec.port == at.port
                && d.origin.vfwmark == fwmark
                && d.origin.protocol == svc.key.protocol()
                && (fwmark != 0
                    || (addr_equal(svc.key.af(), &d.origin.vaddr, &svc.key.addr())
                        && d.origin.vport == svc.key.port()))
        })
    }

    pub(super) fn add_dest(
        &mut self,
        key: &ServiceKey,
        spec: &DestSpec,
        host: &dyn DirectorHost,
    ) -> Result<Vec<Change>, IpvsError> {
        let sid = self.service_id(key)?;
        let svc_af = key.af();
        self.check_family(svc_af, spec)?;
        check_spec(spec)?;
        if self.find_dest(sid, spec.dest_addr()).is_some() {
            return Err(IpvsError::Exists);
        }
        let serial = self
            .services
            .get(&sid)
            .map(|s| s.serial)
            .ok_or(IpvsError::NoSuchService)?;
        let (mut dest, revived, stats_reset) = match self.find_in_trash(sid, spec.dest_addr()) {
            Some(pos) => {
                let mut d = self.trash.remove(pos);
                let reset = d.origin.service_serial != serial;
                d.origin.service_serial = serial;
                (d, true, reset)
            }
            None => {
                check_dest_address(spec.addr, host)?;
                let id = DestId(self.dest_ids.alloc().ok_or(IpvsError::NoMemory)?);
                let origin = Origin {
                    vaddr: key.addr(),
                    vport: key.port(),
                    vfwmark: key.fwmark_value(),
                    protocol: key.protocol(),
                    service_serial: serial,
                };
                let d = Dest {
                    id,
                    service: sid,
                    spec: *spec,
                    last_weight: spec.weight,
                    origin,
                };
                (d, false, false)
            }
        };
        if spec.af() != svc_af {
            self.mixed_af_dests += 1;
        }
        dest.service = sid;
        dest.spec = *spec;
        dest.last_weight = spec.weight;
        let id = dest.id;
        self.dests.insert(id, dest);
        if let Some(svc) = self.services.get_mut(&sid) {
            svc.dests.insert(0, id);
        }
        Ok(vec![Change::DestAdded {
            service: sid,
            dest: id,
            revived,
            stats_reset,
        }])
    }

    pub(super) fn edit_dest(
        &mut self,
        key: &ServiceKey,
        spec: &DestSpec,
    ) -> Result<Vec<Change>, IpvsError> {
        let sid = self.service_id(key)?;
        self.check_family(key.af(), spec)?;
        check_spec(spec)?;
        let id = self
            .find_dest(sid, spec.dest_addr())
            .ok_or(IpvsError::NotFound)?;
        let dest = self.dests.get_mut(&id).ok_or(IpvsError::NotFound)?;
        if spec.weight != Weight::default() {
            dest.last_weight = spec.weight;
        }
        dest.spec = *spec;
        Ok(vec![Change::DestUpdated {
            service: sid,
            dest: id,
        }])
    }

    pub(super) fn delete_dest(
        &mut self,
        key: &ServiceKey,
        at: &DestAddr,
    ) -> Result<Vec<Change>, IpvsError> {
        let sid = self.service_id(key)?;
        let id = self.find_dest(sid, *at).ok_or(IpvsError::NotFound)?;
        if let Some(svc) = self.services.get_mut(&sid) {
            svc.dests.retain(|&d| d != id);
        }
        self.unlink_dest_to_trash(id, key.af());
        Ok(vec![Change::DestRemoved {
            service: sid,
            dest: id,
        }])
    }

    /// `__ip_vs_unlink_dest` + `__ip_vs_del_dest`: out of the live set, into the trash (newest
    /// first). The caller has already taken it out of its service's list.
    pub(super) fn unlink_dest_to_trash(&mut self, id: DestId, svc_af: AddressFamily) -> bool {
        let Some(dest) = self.dests.remove(&id) else {
            return false;
        };
        if dest.spec.af() != svc_af {
            self.mixed_af_dests = self.mixed_af_dests.saturating_sub(1);
        }
        self.trash.insert(0, dest);
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::StaticHost;
    use super::*;
    use crate::model::{
        Netmask, Operation, Protocol, SchedulerName, ServiceFlags, ServiceSpec, TunnelSpec,
    };

    fn host() -> StaticHost {
        StaticHost::loopback_only()
    }

    fn svc(addr: &str, port: u16) -> ServiceSpec {
        let addr: IpAddr = addr.parse().unwrap();
        ServiceSpec {
            key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr,
                port,
            },
            scheduler: SchedulerName::wlc(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(AddressFamily::of(&addr)),
            pe: None,
        }
    }

    fn dest(addr: &str, port: u16) -> DestSpec {
        DestSpec {
            addr: addr.parse().unwrap(),
            port,
            fwd: ForwardMethod::Route,
            weight: Weight::new(1).unwrap(),
            u_threshold: 0,
            l_threshold: 0,
            tunnel: TunnelSpec::default(),
        }
    }

    fn table_with(svcs: &[ServiceSpec]) -> IpvsTable {
        let mut t = IpvsTable::new();
        for s in svcs {
            t.apply(&Operation::AddService { spec: s.clone() }, &host())
                .unwrap();
        }
        t
    }

    fn add(t: &mut IpvsTable, s: &ServiceSpec, d: DestSpec) -> Result<Vec<Change>, IpvsError> {
        t.apply(
            &Operation::AddDest {
                service: s.key,
                dest: d,
            },
            &host(),
        )
    }

    fn del(t: &mut IpvsTable, s: &ServiceSpec, d: DestSpec) -> Result<Vec<Change>, IpvsError> {
        t.apply(
            &Operation::DeleteDest {
                service: s.key,
                dest: d.dest_addr(),
            },
            &host(),
        )
    }

    #[test]
    fn dests_are_newest_first_and_unique() {
        let s = svc("10.0.0.1", 80);
        let mut t = table_with(std::slice::from_ref(&s));
        add(&mut t, &s, dest("10.1.1.1", 80)).unwrap();
        add(&mut t, &s, dest("10.1.1.2", 80)).unwrap();
        assert_eq!(
            add(&mut t, &s, dest("10.1.1.1", 80)),
            Err(IpvsError::Exists)
        );
        let ids: Vec<u32> = t
            .service(&s.key)
            .unwrap()
            .dests
            .iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(ids, vec![1, 0]);
        assert_eq!(
            add(&mut t, &svc("10.0.0.9", 80), dest("10.1.1.1", 80)),
            Err(IpvsError::NoSuchService)
        );
    }

    #[test]
    fn address_checks_of_new_dest() {
        let s = svc("10.0.0.1", 80);
        let mut t = table_with(std::slice::from_ref(&s));
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "127.255.255.255"] {
            assert_eq!(
                add(&mut t, &s, dest(bad, 80)),
                Err(IpvsError::Invalid),
                "{bad}"
            );
        }
        for good in ["127.0.0.1", "127.0.0.0", "0.1.2.3", "240.0.0.1"] {
            assert!(add(&mut t, &s, dest(good, 80)).is_ok(), "{good}");
        }
        let s6 = svc("2001:db8::1", 80);
        t.apply(&Operation::AddService { spec: s6.clone() }, &host())
            .unwrap();
        for bad in ["fe80::1", "ff02::1", "::", "::ffff:10.0.0.1"] {
            assert_eq!(
                add(&mut t, &s6, dest(bad, 80)),
                Err(IpvsError::Invalid),
                "{bad}"
            );
        }
        for good in [
            "::1",
            "2001:db8::10",
            "fec0::1",
            "fd00::1",
            "::10.0.0.1",
            "e000::1",
        ] {
            assert!(add(&mut t, &s6, dest(good, 80)).is_ok(), "{good}");
        }
        // a link-local address of the host itself is accepted
        let mut h = host();
        h.local.push("fe80::1".parse().unwrap());
        let op = Operation::AddDest {
            service: s6.key,
            dest: dest("fe80::1", 80),
        };
        assert!(t.apply(&op, &h).is_ok());
    }

    #[test]
    fn thresholds_gue_port_and_families() {
        let s = svc("10.0.0.1", 80);
        let mut t = table_with(std::slice::from_ref(&s));
        let mut d = dest("10.1.1.1", 80);
        d.l_threshold = 20;
        d.u_threshold = 10;
        assert_eq!(add(&mut t, &s, d), Err(IpvsError::OutOfRange));
        d.u_threshold = 0;
        assert_eq!(add(&mut t, &s, d), Err(IpvsError::OutOfRange));
        let mut g = dest("10.1.1.1", 80);
        g.fwd = ForwardMethod::Tunnel;
        g.tunnel.kind = TunnelKind::Gue;
        assert_eq!(add(&mut t, &s, g), Err(IpvsError::Invalid));
        let mut v6 = dest("2001:db8::5", 80);
        assert_eq!(add(&mut t, &s, v6), Err(IpvsError::Invalid));
        v6.fwd = ForwardMethod::Tunnel;
        assert!(add(&mut t, &s, v6).is_ok());
        assert_eq!(t.mixed_af_dests, 1);
        del(&mut t, &s, v6).unwrap();
        assert_eq!(t.mixed_af_dests, 0);
    }

    #[test]
    fn edit_and_delete() {
        let s = svc("10.0.0.1", 80);
        let mut t = table_with(std::slice::from_ref(&s));
        add(&mut t, &s, dest("10.1.1.1", 80)).unwrap();
        let mut e = dest("10.1.1.1", 80);
        e.fwd = ForwardMethod::Masq;
        e.weight = Weight::new(0).unwrap();
        let op = Operation::EditDest {
            service: s.key,
            dest: e,
        };
        assert_eq!(
            t.apply(&op, &host()),
            Ok(vec![Change::DestUpdated {
                service: ServiceId(0),
                dest: DestId(0)
            }])
        );
        let d = t.dest(DestId(0)).unwrap();
        assert_eq!(d.spec.fwd, ForwardMethod::Masq);
        assert_eq!(d.last_weight.get(), 1, "weight 0 keeps last_weight");
        let op = Operation::EditDest {
            service: s.key,
            dest: dest("10.1.1.9", 80),
        };
        assert_eq!(t.apply(&op, &host()), Err(IpvsError::NotFound));
        assert_eq!(
            del(&mut t, &s, dest("10.1.1.1", 81)),
            Err(IpvsError::NotFound)
        );
        assert_eq!(
            del(&mut t, &s, dest("10.1.1.1", 80)),
            Ok(vec![Change::DestRemoved {
                service: ServiceId(0),
                dest: DestId(0)
            }])
        );
        assert!(t.dest(DestId(0)).is_none());
        assert_eq!(t.trash().count(), 1);
    }
}
