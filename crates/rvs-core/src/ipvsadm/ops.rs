//! From a checked command entry to the [`Operation`] libipvs would send. Names the model cannot
//! hold (too long, a '/' in an interface name) become the error the kernel would answer, so the
//! output is the same as ipvsadm's.

use super::cli::{AF_INET6, DestState, Entry, SVC_F_ONEPACKET, SVC_F_PERSISTENT, SvcState};
use super::options::Cmd;
use crate::model::{
    AddressFamily, DestAddr, DestSpec, ForwardMethod, Fwmark, IfName, Netmask, Operation, PeName,
    Protocol, SchedFlags, SchedulerName, ServiceFlags, ServiceKey, ServiceSpec, SyncDaemonConfig,
    TimeoutUpdate, TunnelCsum, TunnelKind, TunnelSpec, Weight,
};
use crate::table::IpvsError;
use std::net::Ipv4Addr;

/// The service an entry names, if any (`-t/-u/--sctp-service/-f`).
pub fn service_key(svc: &SvcState) -> Option<ServiceKey> {
    if let Some(mark) = Fwmark::new(svc.fwmark) {
        let af = if svc.af == AF_INET6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        return Some(ServiceKey::Fwmark { af, mark });
    }
    Some(ServiceKey::Addr {
        protocol: Protocol::from_number(svc.protocol)?,
        addr: svc.addr?,
        port: svc.port,
    })
}

fn service_spec(svc: &SvcState) -> Result<ServiceSpec, IpvsError> {
    let key = service_key(svc).ok_or(IpvsError::Invalid)?;
    let scheduler = SchedulerName::new(&svc.sched_name).map_err(|_| IpvsError::NotFound)?;
    let pe = if svc.pe_name.is_empty() {
        None
    } else {
        Some(PeName::new(&svc.pe_name).map_err(|_| IpvsError::NotFound)?)
    };
    let netmask = match key.af() {
        AddressFamily::Inet => Netmask::V4(Ipv4Addr::from(svc.netmask)),
        AddressFamily::Inet6 => Netmask::V6(u8::try_from(svc.netmask).unwrap_or(0)),
    };
    let flags = ServiceFlags {
        persistent: svc.flags & SVC_F_PERSISTENT != 0,
        one_packet: svc.flags & SVC_F_ONEPACKET != 0,
        sched: SchedFlags::from_bits(((svc.flags >> 3) & 7) as u8).unwrap_or_default(),
    };
    Ok(ServiceSpec {
        key,
        scheduler,
        flags,
        timeout: svc.timeout,
        netmask,
        pe,
    })
}

fn dest_spec(d: &DestState) -> Result<DestSpec, IpvsError> {
    let addr = d.addr.ok_or(IpvsError::Invalid)?;
    let kind = match d.tun_type {
        1 => TunnelKind::Gue,
        2 => TunnelKind::Gre,
        _ => TunnelKind::Ipip,
    };
    let csum = match d.tun_flags {
        1 => TunnelCsum::Csum,
        2 => TunnelCsum::RemCsum,
        _ => TunnelCsum::NoCsum,
    };
    Ok(DestSpec {
        addr,
        port: d.port,
        fwd: ForwardMethod::from_value(d.fwd).ok_or(IpvsError::Invalid)?,
        weight: Weight::new(d.weight).ok_or(IpvsError::OutOfRange)?,
        u_threshold: d.u_threshold,
        l_threshold: d.l_threshold,
        tunnel: TunnelSpec {
            kind,
            port: d.tun_port,
            csum,
        },
    })
}

/// The operation of a table-changing command (`None` for list/save/restore).
pub fn operation(e: &Entry) -> Option<Result<Operation, IpvsError>> {
    let key = || service_key(&e.svc).ok_or(IpvsError::Invalid);
    let op = match e.cmd {
        Cmd::List | Cmd::Save | Cmd::Restore => return None,
        Cmd::Flush => Ok(Operation::Flush),
        Cmd::Add => service_spec(&e.svc).map(|spec| Operation::AddService { spec }),
        Cmd::Edit => service_spec(&e.svc).map(|spec| Operation::EditService { spec }),
        Cmd::Del => key().map(|key| Operation::DeleteService { key }),
        Cmd::Zero => {
            let all = e.svc.fwmark == 0
                && e.svc.addr.is_none_or(|a| a.is_unspecified())
                && e.svc.port == 0;
            if all {
                Ok(Operation::Zero { service: None })
            } else {
                key().map(|k| Operation::Zero { service: Some(k) })
            }
        }
        Cmd::AddDest => key().and_then(|service| {
            Ok(Operation::AddDest {
                service,
                dest: dest_spec(&e.dest)?,
            })
        }),
        Cmd::EditDest => key().and_then(|service| {
            Ok(Operation::EditDest {
                service,
                dest: dest_spec(&e.dest)?,
            })
        }),
        Cmd::DelDest => key().and_then(|service| {
            let addr = e.dest.addr.ok_or(IpvsError::Invalid)?;
            Ok(Operation::DeleteDest {
                service,
                dest: DestAddr {
                    addr,
                    port: e.dest.port,
                },
            })
        }),
        Cmd::Timeout => {
            let [tcp, tcp_fin, udp] = e.timeouts;
            Ok(Operation::SetTimeouts {
                timeouts: TimeoutUpdate { tcp, tcp_fin, udp },
            })
        }
        Cmd::StartDaemon | Cmd::StopDaemon => match e.daemon.state {
            None => Err(IpvsError::Invalid),
            Some(state) if e.cmd == Cmd::StopDaemon => Ok(Operation::StopDaemon { state }),
            Some(state) => {
                let d = &e.daemon;
                IfName::new(&d.mcast_ifn)
                    .map_err(|_| IpvsError::NoDevice)
                    .map(|ifname| Operation::StartDaemon {
                        config: SyncDaemonConfig {
                            state,
                            ifname,
                            syncid: u8::try_from(d.syncid).unwrap_or(u8::MAX),
                            sync_maxlen: (d.sync_maxlen != 0).then_some(d.sync_maxlen),
                            mcast_group: d.mcast_group,
                            mcast_port: (d.mcast_port != 0).then_some(d.mcast_port),
                            mcast_ttl: (d.mcast_ttl != 0).then_some(d.mcast_ttl),
                        },
                    })
            }
        },
    };
    Some(op)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::cli::tests::parse;
    use super::*;

    fn op(line: &str) -> Operation {
        operation(&parse(line).unwrap()).unwrap().unwrap()
    }

    #[test]
    fn services_and_dests() {
        let Operation::AddService { spec } =
            op("-A -t 10.0.0.1:80 -s rr -p 30 -M 255.255.0.0 --pe sip -b flag-2")
        else {
            panic!("not an add")
        };
        assert_eq!(spec.scheduler.as_str(), "rr");
        assert!(spec.flags.persistent && !spec.flags.one_packet);
        assert_eq!(spec.flags.sched, SchedFlags::FLAG_2);
        assert_eq!(spec.timeout, 30);
        assert_eq!(spec.netmask, Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)));
        assert_eq!(spec.pe.as_ref().map(PeName::as_str), Some("sip"));
        let Operation::AddDest { dest, .. } =
            op("-a -f 4 -6 -r 10.0.0.1 -i --tun-type gue --tun-port 9 --tun-csum")
        else {
            panic!("not an add-dest")
        };
        assert_eq!(
            dest.tunnel,
            TunnelSpec {
                kind: TunnelKind::Gue,
                port: 9,
                csum: TunnelCsum::Csum
            }
        );
        assert_eq!(dest.fwd, ForwardMethod::Tunnel);
    }

    #[test]
    fn zero_all_or_one() {
        assert_eq!(op("-Z"), Operation::Zero { service: None });
        assert_eq!(op("-Z -t 0.0.0.0:0"), Operation::Zero { service: None });
        assert!(matches!(
            op("-Z -t 0.0.0.0:80"),
            Operation::Zero { service: Some(_) }
        ));
        assert!(matches!(
            op("-Z -f 1"),
            Operation::Zero {
                service: Some(ServiceKey::Fwmark { .. })
            }
        ));
    }

    #[test]
    fn names_the_model_cannot_hold_get_kernel_errors() {
        let e = parse("--start-daemon master --mcast-interface a/b").unwrap();
        assert_eq!(operation(&e), Some(Err(IpvsError::NoDevice)));
        assert_eq!(
            op("--stop-daemon backup"),
            Operation::StopDaemon {
                state: crate::model::SyncState::Backup
            }
        );
        assert!(operation(&parse("-L").unwrap()).is_none());
        let Operation::SetTimeouts { timeouts } = op("--set 1 0 3") else {
            panic!("not a set")
        };
        assert_eq!((timeouts.tcp, timeouts.tcp_fin, timeouts.udp), (1, 0, 3));
    }
}
