//! Names of services and real servers in the console's URLs (`/virtual/tcp-10.0.0.1-80`): the
//! key itself, spelt with URL-safe characters, so that a URL keeps meaning the same service
//! whatever is added or removed around it.

use rvs_core::model::{AddressFamily, ServiceKey};
use std::net::IpAddr;

fn addr(a: IpAddr) -> String {
    a.to_string().replace(':', "_")
}

/// `tcp-10.0.0.1-80`, `udp-2001_db8__1-53`, `fwm-1-inet`.
pub fn service(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr { protocol, addr: a, port } => format!("{}-{}-{port}", protocol.name().to_ascii_lowercase(), addr(*a)),
        ServiceKey::Fwmark { af, mark } => {
            format!("fwm-{}-{}", mark.get(), if *af == AddressFamily::Inet6 { "inet6" } else { "inet" })
        }
    }
}

/// `10.0.0.2-80`.
pub fn real(a: IpAddr, port: u16) -> String {
    format!("{}-{port}", addr(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::model::Protocol;

    #[test]
    fn slugs_are_url_safe_and_distinct() {
        let v4 = ServiceKey::Addr { protocol: Protocol::Tcp, addr: [10, 0, 0, 1].into(), port: 80 };
        let v6 = ServiceKey::Addr { protocol: Protocol::Udp, addr: "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 16])), port: 53 };
        assert_eq!(service(&v4), "tcp-10.0.0.1-80");
        assert_eq!(service(&v6), "udp-2001_db8__1-53");
        assert!(service(&v6).bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)));
        assert_eq!(real([10, 0, 0, 2].into(), 8080), "10.0.0.2-8080");
    }
}
