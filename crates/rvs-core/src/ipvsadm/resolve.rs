//! Name look-ups ipvsadm makes through the C library. The CLI stays sans-IO: the binary passes
//! a resolver backed by libc (`gethostbyname`, `gethostbyaddr`, `getservbyname`,
//! `getservbyport`), tests pass fixed tables.

use crate::model::Protocol;
use std::net::{IpAddr, Ipv4Addr};

/// The four look-ups of ipvsadm's `host_to_addr`, `addr_to_host`, `service_to_port` and
/// `port_to_service`.
pub trait Resolver {
    /// `gethostbyname(name)`: the first IPv4 address, `None` if the name does not resolve to an
    /// IPv4 host.
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr>;
    /// `gethostbyaddr(addr)`: the official host name.
    fn addr_to_host(&self, addr: IpAddr) -> Option<String>;
    /// `getservbyname(name, proto)`: the port in host order.
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16>;
    /// `getservbyport(port, proto)`: the official service name.
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String>;
}

/// A resolver that knows no names: every look-up fails, as with empty `/etc/hosts` and
/// `/etc/services` and no DNS.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Resolver for NoNames {
    fn host_to_ipv4(&self, _name: &str) -> Option<Ipv4Addr> {
        None
    }
    fn addr_to_host(&self, _addr: IpAddr) -> Option<String> {
        None
    }
    fn service_to_port(&self, _name: &str, _proto: Protocol) -> Option<u16> {
        None
    }
    fn port_to_service(&self, _port: u16, _proto: Protocol) -> Option<String> {
        None
    }
}

/// A resolver over fixed tables: `hosts` maps names to addresses (the first IPv4 one answers
/// `gethostbyname`, the first name of an address answers `gethostbyaddr`), `services` lists
/// `(name, port, protocol)` like `/etc/services`.
#[derive(Debug, Clone, Default)]
pub struct TableResolver {
    pub hosts: Vec<(String, IpAddr)>,
    pub services: Vec<(String, u16, Protocol)>,
}

impl Resolver for TableResolver {
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr> {
        self.hosts.iter().find_map(|(n, a)| match a {
            IpAddr::V4(v4) if n == name => Some(*v4),
            _ => None,
        })
    }

    fn addr_to_host(&self, addr: IpAddr) -> Option<String> {
        self.hosts
            .iter()
            .find(|(_, a)| *a == addr)
            .map(|(n, _)| n.clone())
    }

    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.services
            .iter()
            .find(|(n, _, p)| n == name && *p == proto)
            .map(|&(_, port, _)| port)
    }

    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String> {
        self.services
            .iter()
            .find(|&&(_, p, pr)| p == port && pr == proto)
            .map(|(n, _, _)| n.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table_resolver_answers_like_the_files_backend() {
        let r = TableResolver {
            hosts: vec![
                ("localhost".into(), "::1".parse().unwrap()),
                ("localhost".into(), "127.0.0.1".parse().unwrap()),
            ],
            services: vec![
                ("http".into(), 80, Protocol::Tcp),
                ("www".into(), 80, Protocol::Tcp),
            ],
        };
        assert_eq!(r.host_to_ipv4("localhost"), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(
            r.addr_to_host("::1".parse().unwrap()).as_deref(),
            Some("localhost")
        );
        assert_eq!(r.service_to_port("www", Protocol::Tcp), Some(80));
        assert_eq!(r.service_to_port("www", Protocol::Udp), None);
        assert_eq!(
            r.port_to_service(80, Protocol::Tcp).as_deref(),
            Some("http")
        );
        assert_eq!(NoNames.port_to_service(80, Protocol::Tcp), None);
    }
}
