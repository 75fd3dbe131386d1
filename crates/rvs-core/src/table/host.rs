//! What the table needs to know about the director host: which addresses are its own, which are
//! broadcast addresses of its subnets, and the MTU of its interfaces. The daemon implements
//! [`DirectorHost`] from netlink/`getifaddrs`; tests use [`StaticHost`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host facts behind the kernel's address checks in `ip_vs_new_dest` and `start_sync_thread`.
///
/// Note on "Local" forwarding: kernels since 2.6.37 no longer turn a destination whose address is
/// local into `IP_VS_CONN_F_LOCALNODE` when it is added (the oracle's 6.1 kernel lists
/// `-r 127.0.0.1` as `Route`), so [`DirectorHost::is_local`] is only used where the kernel still
/// asks: an IPv6 destination that is not global unicast is accepted when it is local.
pub trait DirectorHost {
    /// `true` if `addr` is an address of this host (RTN_LOCAL / a loopback route).
    fn is_local(&self, addr: IpAddr) -> bool;

    /// `true` if `addr` is the broadcast address of one of the host's IPv4 subnets
    /// (an RTN_BROADCAST entry of the local routing table).
    fn is_broadcast(&self, addr: Ipv4Addr) -> bool {
        let _ = addr;
        false
    }

    /// MTU of the interface called `name`, `None` if there is no such interface.
    fn interface_mtu(&self, name: &str) -> Option<u32>;
}

/// A fixed host description, for tests and for tools that run without a kernel view.
#[derive(Debug, Clone, Default)]
pub struct StaticHost {
    pub local: Vec<IpAddr>,
    pub local_v4_nets: Vec<(Ipv4Addr, u8)>,
    pub broadcast: Vec<Ipv4Addr>,
    pub interfaces: Vec<(String, u32)>,
}

impl StaticHost {
    /// A fresh network namespace with only `lo` up: 127.0.0.0/8 and ::1 local, 127.255.255.255
    /// broadcast, `lo` with MTU 65536. This is what the ipvs-oracle runs each case in.
    pub fn loopback_only() -> Self {
        StaticHost {
            local: vec![IpAddr::V6(Ipv6Addr::LOCALHOST)],
            local_v4_nets: vec![(Ipv4Addr::new(127, 0, 0, 0), 8)],
            broadcast: vec![Ipv4Addr::new(127, 255, 255, 255)],
            interfaces: vec![("lo".to_owned(), 65536)],
        }
    }
}

impl DirectorHost for StaticHost {
    fn is_local(&self, addr: IpAddr) -> bool {
        if self.local.contains(&addr) {
            return true;
        }
        match addr {
            IpAddr::V4(a) => self.local_v4_nets.iter().any(|&(net, len)| {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(len.min(32)))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(net) & mask
            }),
            IpAddr::V6(_) => false,
        }
    }

    fn is_broadcast(&self, addr: Ipv4Addr) -> bool {
        self.broadcast.contains(&addr)
    }

    fn interface_mtu(&self, name: &str) -> Option<u32> {
        self.interfaces
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, mtu)| mtu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_host() {
        let h = StaticHost::loopback_only();
        assert!(h.is_local(IpAddr::V4(Ipv4Addr::new(127, 1, 2, 3))));
        assert!(!h.is_local(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert!(h.is_local(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(h.is_broadcast(Ipv4Addr::new(127, 255, 255, 255)));
        assert!(!h.is_broadcast(Ipv4Addr::new(127, 0, 0, 0)));
        assert_eq!(h.interface_mtu("lo"), Some(65536));
        assert_eq!(h.interface_mtu("eth0"), None);
    }

    #[test]
    fn zero_length_prefix_matches_everything() {
        let h = StaticHost {
            local_v4_nets: vec![(Ipv4Addr::UNSPECIFIED, 0)],
            ..StaticHost::default()
        };
        assert!(h.is_local(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8))));
    }
}
