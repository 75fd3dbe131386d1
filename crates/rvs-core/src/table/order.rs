//! The kernel's service hash tables, kept only for their iteration order: `ipvsadm --nosort`
//! (and every dump) lists services bucket by bucket, newest first inside a bucket, the
//! `<proto, addr, port>` table first and the fwmark table after it.

use crate::model::{ServiceId, ServiceKey};
use std::net::IpAddr;

const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;
const TAB_MASK: u32 = (TAB_SIZE as u32) - 1;

/// The per-netns salt of the kernel's hash, `(size_t)ipvs >> 8`: a pointer, so it differs on each
/// boot and in each namespace, and only its low 8 bits matter. 0x40 is one value that reproduces
/// the order the oracle recorded in `recorded/04_order.txt`: that listing needs bit 6 set (UDP
/// 10.0.0.2:53 after the TCP services), bits 0 and 1 clear (10.0.0.2 < 10.0.0.3 < 10.0.0.1 for
/// TCP port 80) and bit 3 clear (fwmark 3 before fwmark 9). Other recordings may have been taken
/// with another salt; `--nosort` over several buckets is not reproducible against the real kernel.
pub const DEFAULT_HASH_SALT: u32 = 0x40;

/// `ip_vs_svc_hashkey`: `(proto ^ (ntohl(addr) ^ salt) ^ (port >> 8) ^ port) & 255`, IPv6
/// addresses folded by XOR of their four words.
pub fn addr_bucket(salt: u32, protocol: u16, addr: &IpAddr, port: u16) -> usize {
    let folded = match addr {
        IpAddr::V4(a) => u32::from(*a),
        IpAddr::V6(a) => {
            let o = a.octets();
            (0..4).fold(0u32, |acc, i| {
                acc ^ u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
            })
        }
    };
    let porth = u32::from(port);
    let h = u32::from(protocol) ^ (folded ^ salt) ^ (porth >> TAB_BITS) ^ porth;
    (h & TAB_MASK) as usize
}

/// `ip_vs_svc_fwm_hashkey`: `(salt ^ fwmark) & 255`.
pub fn fwmark_bucket(salt: u32, fwmark: u32) -> usize {
    ((salt ^ fwmark) & TAB_MASK) as usize
}

/// The two bucket arrays, holding service ids in kernel list order.
#[derive(Debug, Clone)]
pub struct ServiceOrder {
    salt: u32,
    addr: Vec<Vec<ServiceId>>,
    fwmark: Vec<Vec<ServiceId>>,
}

impl ServiceOrder {
    pub fn new(salt: u32) -> Self {
        ServiceOrder {
            salt,
            addr: vec![Vec::new(); TAB_SIZE],
            fwmark: vec![Vec::new(); TAB_SIZE],
        }
    }

    fn bucket_mut(&mut self, key: &ServiceKey) -> &mut Vec<ServiceId> {
        match key {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                let b = addr_bucket(self.salt, protocol.number(), addr, *port);
                &mut self.addr[b]
            }
            ServiceKey::Fwmark { mark, .. } => {
                let b = fwmark_bucket(self.salt, mark.get());
                &mut self.fwmark[b]
            }
        }
    }

    /// `hlist_add_head`: the new service goes first in its bucket.
    pub fn insert(&mut self, key: &ServiceKey, id: ServiceId) {
        self.bucket_mut(key).insert(0, id);
    }

    pub fn remove(&mut self, key: &ServiceKey, id: ServiceId) {
        self.bucket_mut(key).retain(|&x| x != id);
    }

    /// Every service id in the kernel's dump order.
    pub fn iter(&self) -> impl Iterator<Item = ServiceId> + '_ {
        self.addr
            .iter()
            .chain(self.fwmark.iter())
            .flat_map(|b| b.iter().copied())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{AddressFamily, Fwmark, Protocol};

    fn tcp(addr: &str, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: addr.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn bucket_formula() {
        // 6 ^ 1 ^ 80 = 87, no salt
        assert_eq!(addr_bucket(0, 6, &"10.0.0.1".parse().unwrap(), 80), 87);
        // port high byte folds in: 0x1f90 (8080) -> 0x1f ^ 0x90
        assert_eq!(
            addr_bucket(0, 6, &"0.0.0.0".parse().unwrap(), 8080),
            (6 ^ 0x1f ^ 0x1f90) & 255
        );
        // IPv6 folds the four words
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            addr_bucket(0, 6, &v6, 0),
            ((0x2001_0db8u32 ^ 1) ^ 6) as usize & 255
        );
        assert_eq!(fwmark_bucket(0x40, 3), 0x43);
    }

    #[test]
    fn default_salt_reproduces_the_recorded_nosort_order() {
        // recorded/04_order.txt, `ipvsadm -Ln --nosort`
        let mut order = ServiceOrder::new(DEFAULT_HASH_SALT);
        let keys = [
            tcp("10.0.0.3", 80),
            tcp("10.0.0.1", 80),
            ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr: "10.0.0.2".parse().unwrap(),
                port: 53,
            },
            tcp("10.0.0.2", 80),
            ServiceKey::Fwmark {
                af: AddressFamily::Inet,
                mark: Fwmark::new(9).unwrap(),
            },
            ServiceKey::Fwmark {
                af: AddressFamily::Inet,
                mark: Fwmark::new(3).unwrap(),
            },
        ];
        for (i, k) in keys.iter().enumerate() {
            order.insert(k, ServiceId(i as u32));
        }
        let listed: Vec<u32> = order.iter().map(|s| s.0).collect();
        assert_eq!(listed, vec![3, 0, 1, 2, 5, 4]);
        order.remove(&keys[0], ServiceId(0));
        assert_eq!(order.iter().count(), 5);
    }

    #[test]
    fn same_bucket_is_newest_first() {
        let mut order = ServiceOrder::new(0);
        let k = tcp("10.0.0.1", 80);
        order.insert(&k, ServiceId(1));
        order.insert(&k, ServiceId(2));
        assert_eq!(
            order.iter().collect::<Vec<_>>(),
            vec![ServiceId(2), ServiceId(1)]
        );
    }
}
