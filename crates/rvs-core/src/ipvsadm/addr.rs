//! ipvsadm's `parse_service`: `host[:port]`, `[v6]:port`, bare IPv6, names through the resolver,
//! port numbers or `/etc/services` names, with every quirk of the C code (a bracketed IPv4
//! address loses its port, `inet_aton` forms, `strtol` ports).

use super::cparse::{inet_aton, inet_pton6, str_is_digit, string_to_number};
use super::resolve::Resolver;
use crate::model::Protocol;
use std::net::IpAddr;

/// What `parse_service` found: an address (always, on success) and maybe a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedAddr {
    pub addr: IpAddr,
    /// `SERVICE_PORT`: a port was given.
    pub port: Option<u16>,
}

/// Parses `buf` for a service of protocol `proto` (IANA number; 0 when not known yet, in which
/// case port names do not resolve). `None` is `SERVICE_NONE`, or an address without a valid port.
pub fn parse_service(buf: &str, proto: u16, resolver: &dyn Resolver) -> Option<ParsedAddr> {
    if str_is_digit(buf) {
        return None;
    }
    let (host, mut port): (&str, Option<&str>) = match buf.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            (inside, Some(after.strip_prefix(':')?))
        }
        None => (buf, None),
    };
    let addr = if let Some(v6) = inet_pton6(host) {
        IpAddr::V6(v6)
    } else {
        // strrchr(buf, ':') on what is left: for "[v4]:port" the bracket's port is lost.
        let host = match host.rfind(':') {
            Some(i) => {
                port = Some(&host[i + 1..]);
                &host[..i]
            }
            None => {
                port = None;
                host
            }
        };
        IpAddr::V4(inet_aton(host).or_else(|| resolver.host_to_ipv4(host))?)
    };
    let port = match port {
        None => None,
        Some(p) => Some(match string_to_number(p, 0, 65535) {
            Some(n) => u16::try_from(n).ok()?,
            None => resolver.service_to_port(p, Protocol::from_number(proto)?)?,
        }),
    };
    Some(ParsedAddr { addr, port })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::resolve::{NoNames, TableResolver};
    use super::*;

    fn names() -> TableResolver {
        TableResolver {
            hosts: vec![("localhost".into(), "127.0.0.1".parse().unwrap())],
            services: vec![
                ("http".into(), 80, Protocol::Tcp),
                ("domain".into(), 53, Protocol::Udp),
            ],
        }
    }

    fn p(s: &str) -> Option<(String, Option<u16>)> {
        parse_service(s, 6, &names()).map(|r| (r.addr.to_string(), r.port))
    }

    #[test]
    fn addresses_and_ports() {
        assert_eq!(p("10.0.0.1:80"), Some(("10.0.0.1".into(), Some(80))));
        assert_eq!(p("10.0.0.1"), Some(("10.0.0.1".into(), None)));
        assert_eq!(p("10.1:81"), Some(("10.0.0.1".into(), Some(81))));
        assert_eq!(p("10.0.0.1:+80"), Some(("10.0.0.1".into(), Some(80))));
        assert_eq!(p("1.2.3.6 :80"), Some(("1.2.3.6".into(), Some(80))));
        assert_eq!(
            p("[2001:db8::1]:82"),
            Some(("2001:db8::1".into(), Some(82)))
        );
        assert_eq!(p("2001:db8::2"), Some(("2001:db8::2".into(), None)));
        assert_eq!(p("2001:db8::3:83"), Some(("2001:db8::3:83".into(), None)));
        assert_eq!(p("[10.0.0.9]:80"), Some(("10.0.0.9".into(), None)));
        assert_eq!(p("localhost:http"), Some(("127.0.0.1".into(), Some(80))));
    }

    #[test]
    fn refusals() {
        for bad in [
            "12345",
            "",
            "10.0.0.1:",
            "10.0.0.1:-1",
            "10.0.0.1:0x50",
            "10.0.0.1:70000",
            "300.1.1.1:80",
            "[2001:db8::1]",
            "[2001:db8::1]:",
            "[2001:db8::4",
            "1.2.3.4:80x",
            " 1.2.3.5:80",
            "nosuchhost:80",
            "10.0.0.1:nosuchport",
            "10.0.0.1:domain",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        // no protocol yet: names do not resolve, numbers do
        assert!(parse_service("10.0.0.1:http", 0, &names()).is_none());
        assert!(parse_service("10.0.0.1:80", 0, &NoNames).is_some());
        assert_eq!(
            parse_service("10.0.0.1:domain", 17, &names()).and_then(|r| r.port),
            Some(53)
        );
    }
}
