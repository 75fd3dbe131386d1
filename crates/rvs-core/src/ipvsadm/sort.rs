//! libipvs' sort order, reproduced with its quirks: `ipvs_cmp_services`/`ipvs_cmp_dests`
//! subtract unsigned host-order values and return the difference as a C `int` (so addresses
//! 2^31 apart compare "backwards"), and glibc 2.36's `qsort` is a top-down merge sort, whose
//! result with such a comparator is only reproduced by doing the same merges.

use std::net::IpAddr;

/// The comparison key of one listed service (fwmark services have protocol 0 and address ::).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSortKey {
    pub fwmark: u32,
    pub af: u16,
    pub protocol: u16,
    pub addr: [u32; 4],
    pub port: u16,
}

/// The comparison key of one listed destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestSortKey {
    pub af: u16,
    pub addr: [u32; 4],
    pub port: u16,
}

/// The address as the four host-order words of the kernel's union (IPv4 in the first word).
pub fn addr_words(addr: &IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(a) => [u32::from(*a), 0, 0, 0],
        IpAddr::V6(a) => {
            let s = a.segments();
            [0, 1, 2, 3].map(|i| (u32::from(s[2 * i]) << 16) | u32::from(s[2 * i + 1]))
        }
    }
}

/// `(int)(a - b)` for two unsigned ints.
fn int_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn addr_cmp(af: u16, a: &[u32; 4], b: &[u32; 4]) -> i32 {
    if af == 10 {
        let mut r = 0;
        for i in 0..4 {
            r = int_diff(a[i], b[i]);
            if r != 0 {
                break;
            }
        }
        r
    } else {
        int_diff(a[0], b[0])
    }
}

/// `ipvs_cmp_services`
pub fn cmp_services(s1: &ServiceSortKey, s2: &ServiceSortKey) -> i32 {
    let r = int_diff(s1.fwmark, s2.fwmark);
    if r != 0 {
        return r;
    }
    let r = i32::from(s1.af) - i32::from(s2.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(s1.protocol) - i32::from(s2.protocol);
    if r != 0 {
        return r;
    }
    let r = addr_cmp(s1.af, &s1.addr, &s2.addr);
    if r != 0 {
        return r;
    }
    i32::from(s1.port) - i32::from(s2.port)
}

/// `ipvs_cmp_dests` (the first destination's family decides how addresses compare).
pub fn cmp_dests(d1: &DestSortKey, d2: &DestSortKey) -> i32 {
    let r = addr_cmp(d1.af, &d1.addr, &d2.addr);
    if r != 0 {
        return r;
    }
    i32::from(d1.port) - i32::from(d2.port)
}

/// glibc's `msort_with_tmp`: split in halves (first half `n / 2`), sort each, merge taking from
/// the left while `cmp(left, right) <= 0`. Never panics, whatever the comparator says.
pub fn glibc_msort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    glibc_msort(&mut v[..n1], cmp);
    glibc_msort(&mut v[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..n]);
    v.clone_from_slice(&merged);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dest(a: &str, port: u16) -> DestSortKey {
        let ip: IpAddr = a.parse().unwrap();
        DestSortKey {
            af: if ip.is_ipv6() { 10 } else { 2 },
            addr: addr_words(&ip),
            port,
        }
    }

    fn sorted(list: &[(&str, u16)]) -> Vec<String> {
        let mut v: Vec<DestSortKey> = list.iter().map(|&(a, p)| dest(a, p)).collect();
        glibc_msort(&mut v, &|a, b| cmp_dests(a, b));
        let mut names = Vec::new();
        for d in v {
            let orig = list.iter().find(|&&(a, p)| dest(a, p) == d).unwrap();
            names.push(format!("{}:{}", orig.0, orig.1));
        }
        names
    }

    #[test]
    fn plain_order() {
        assert_eq!(
            sorted(&[
                ("10.9.0.2", 81),
                ("10.9.0.3", 80),
                ("10.9.0.2", 80),
                ("10.9.0.1", 80)
            ]),
            vec!["10.9.0.1:80", "10.9.0.2:80", "10.9.0.2:81", "10.9.0.3:80"]
        );
    }

    #[test]
    fn signed_difference_quirk_matches_the_oracle() {
        // newest first, as the kernel lists them (oracle case e1_local); the real ipvsadm
        // printed 240.0.0.1, 0.1.2.3, 10.1.1.9, [2001:db8::5], 127.0.0.0, 127.0.0.1, 127.0.0.5
        let kernel_order = [
            ("10.1.1.9", 80),
            ("2001:db8::5", 80),
            ("240.0.0.1", 80),
            ("0.1.2.3", 80),
            ("127.0.0.0", 80),
            ("127.0.0.5", 80),
            ("127.0.0.1", 80),
        ];
        assert_eq!(
            sorted(&kernel_order),
            vec![
                "240.0.0.1:80",
                "0.1.2.3:80",
                "10.1.1.9:80",
                "2001:db8::5:80",
                "127.0.0.0:80",
                "127.0.0.1:80",
                "127.0.0.5:80"
            ]
        );
        // the same service one destination earlier
        assert_eq!(
            sorted(&kernel_order[1..]),
            vec![
                "127.0.0.0:80",
                "127.0.0.1:80",
                "127.0.0.5:80",
                "240.0.0.1:80",
                "0.1.2.3:80",
                "2001:db8::5:80"
            ]
        );
    }

    #[test]
    fn fwmark_above_int_max_sorts_first() {
        let s = |fwmark, protocol| ServiceSortKey {
            fwmark,
            af: 2,
            protocol,
            addr: [0; 4],
            port: 0,
        };
        assert!(cmp_services(&s(u32::MAX, 0), &s(0, 6)) < 0);
        assert!(cmp_services(&s(3, 0), &s(9, 0)) < 0);
        assert!(cmp_services(&s(0, 6), &s(0, 17)) < 0);
        assert_eq!(cmp_services(&s(1, 0), &s(1, 0)), 0);
    }
}
