//! printf-style helpers of ipvsadm's listings: byte-width padding, `print_largenum`,
//! `addrport_to_anyname` and glibc's `inet_ntop`.

use super::resolve::Resolver;
use crate::model::Protocol;
use std::net::{IpAddr, Ipv6Addr};

/// `%-Ns`: left-justified in `width` bytes.
pub fn pad_right(s: &str, width: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(s.len())));
    out
}

/// `%Ns`: right-justified in `width` bytes.
pub fn pad_left(s: &str, width: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', width.saturating_sub(s.len())).collect();
    out.push_str(s);
    out
}

/// Keeps at most `max` bytes (as writing a NUL at `buf[max]` does), on a character boundary.
pub fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `print_largenum`: 9 columns, K/M/G/T above 10^8, or exact with at least one leading blank.
pub fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let s = i.to_string();
        let width = if s.len() <= 8 { 9 } else { s.len() + 1 };
        return pad_left(&s, width);
    }
    if i < 100_000_000 {
        format!("{i:9}")
    } else if i < 1_000_000_000 {
        format!("{:8}K", i / 1000)
    } else if i < 100_000_000_000 {
        format!("{:8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:8}G", i / 1_000_000_000)
    } else {
        format!("{:8}T", i / 1_000_000_000_000)
    }
}

/// glibc's `inet_ntop(AF_INET6)`: longest run of at least two zero words compressed (first one
/// on ties), lowercase hex, and the last 32 bits dotted for IPv4-compatible and mapped addresses.
pub fn inet_ntop6(a: &Ipv6Addr) -> String {
    let w = a.segments();
    // longest run of zero words as (start, length); the first one wins ties
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < 8 {
        if w[i] == 0 {
            let start = i;
            while i < 8 && w[i] == 0 {
                i += 1;
            }
            let run = (start, i - start);
            if best.is_none_or(|b| run.1 > b.1) {
                best = Some(run);
            }
        } else {
            i += 1;
        }
    }
    let best = best.filter(|b| b.1 >= 2);
    let in_best = |i: usize| best.is_some_and(|(base, len)| i >= base && i < base + len);
    let embeds_v4 =
        matches!(best, Some((0, 6))) || (matches!(best, Some((0, 5))) && w[5] == 0xffff);
    let mut out = String::new();
    for (i, word) in w.iter().enumerate() {
        if in_best(i) {
            if best.is_some_and(|(base, _)| base == i) {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && embeds_v4 {
            let o = a.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            return out;
        }
        out.push_str(&format!("{word:x}"));
    }
    if best.is_some_and(|(base, len)| base + len == 8) {
        out.push(':');
    }
    out
}

/// `inet_ntop` for either family.
pub fn inet_ntop(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => inet_ntop6(a),
    }
}

/// `addrport_to_anyname`: `addr:port` (IPv6 in brackets), numeric or through the resolver
/// (`gethostbyaddr`, `getservbyport` with the service's protocol), cut to 59 bytes as the C
/// buffer of 60 does.
pub fn addrport_to_anyname(
    addr: &IpAddr,
    port: u16,
    proto: u16,
    numeric: bool,
    resolver: &dyn Resolver,
) -> String {
    let (open, close) = if addr.is_ipv6() { ("[", "]") } else { ("", "") };
    let s = if numeric {
        format!("{open}{}{close}:{port}", inet_ntop(addr))
    } else {
        let host = resolver
            .addr_to_host(*addr)
            .unwrap_or_else(|| inet_ntop(addr));
        let service = Protocol::from_number(proto)
            .and_then(|p| resolver.port_to_service(port, p))
            .unwrap_or_else(|| port.to_string());
        format!("{open}{host}{close}:{service}")
    };
    truncate_bytes(&s, 59).to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::resolve::{NoNames, TableResolver};
    use super::*;

    #[test]
    fn largenum_scales() {
        assert_eq!(largenum(0, false), "        0");
        assert_eq!(largenum(99_999_999, false), " 99999999");
        assert_eq!(largenum(123_456_789, false), "  123456K");
        assert_eq!(largenum(1_234_567_890, false), "    1234M");
        assert_eq!(largenum(123_000_000_000, false), "     123G");
        assert_eq!(largenum(123_000_000_000_000, false), "     123T");
        assert_eq!(largenum(5, true), "        5");
        assert_eq!(largenum(123_456_789, true), " 123456789");
        assert_eq!(largenum(12_345_678, true), " 12345678");
    }

    #[test]
    fn ntop6_like_glibc() {
        let t = |s: &str| inet_ntop6(&s.parse().unwrap());
        assert_eq!(t("2001:db8::1"), "2001:db8::1");
        assert_eq!(t("::"), "::");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("::ffff:10.0.0.10"), "::ffff:10.0.0.10");
        assert_eq!(t("::10.0.0.1"), "::10.0.0.1");
        assert_eq!(t("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(t("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(t("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
        assert_eq!(t("1:2:3:4:5:6:0:0"), "1:2:3:4:5:6::");
        assert_eq!(t("fe80::"), "fe80::");
    }

    #[test]
    fn addrport_names() {
        let r = TableResolver {
            hosts: vec![("localhost".into(), "::1".parse().unwrap())],
            services: vec![("http".into(), 80, Protocol::Tcp)],
        };
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(
            addrport_to_anyname(&v6, 80, 6, false, &r),
            "[localhost]:http"
        );
        assert_eq!(addrport_to_anyname(&v6, 80, 6, true, &r), "[::1]:80");
        assert_eq!(addrport_to_anyname(&v6, 80, 0, false, &r), "[localhost]:80");
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            addrport_to_anyname(&v4, 80, 17, false, &NoNames),
            "10.0.0.1:80"
        );
        let long = TableResolver {
            hosts: vec![("h".repeat(70), v4)],
            services: vec![],
        };
        assert_eq!(addrport_to_anyname(&v4, 80, 6, false, &long).len(), 59);
    }

    #[test]
    fn padding_is_by_bytes() {
        assert_eq!(pad_right("ab", 4), "ab  ");
        assert_eq!(pad_right("abcdef", 4), "abcdef");
        assert_eq!(pad_left("7", 3), "  7");
        assert_eq!(truncate_bytes("abcdef", 3), "abc");
        assert_eq!(truncate_bytes("ab", 3), "ab");
    }
}
