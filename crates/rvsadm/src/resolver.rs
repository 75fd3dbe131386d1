//! ipvsadm's look-ups through the C library, so that `/etc/hosts`, `/etc/services`,
//! `nsswitch.conf` and DNS answer exactly as they answer ipvsadm.

use rvs_core::ipvsadm::Resolver;
use rvs_core::model::Protocol;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::net::{IpAddr, Ipv4Addr};

unsafe extern "C" {
    // Not bound by the libc crate; part of glibc (and every other libc rvs runs on).
    fn gethostbyname(name: *const c_char) -> *mut libc::hostent;
    fn gethostbyaddr(
        addr: *const c_void,
        len: libc::socklen_t,
        family: c_int,
    ) -> *mut libc::hostent;
}

/// The system resolver. Its results point into static storage of the C library: use it from
/// one thread only (rvsadm is single-threaded).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

fn proto_name(p: Protocol) -> &'static CStr {
    match p {
        Protocol::Tcp => c"tcp",
        Protocol::Udp => c"udp",
        Protocol::Sctp => c"sctp",
    }
}

/// Copies a C string owned by the C library.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string that stays valid during the call.
unsafe fn owned(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the contract above.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

impl Resolver for SystemResolver {
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr> {
        let c = CString::new(name).ok()?;
        // SAFETY: `c` is a valid C string; the result is null or points to static storage.
        let h = unsafe { gethostbyname(c.as_ptr()) };
        if h.is_null() {
            return None;
        }
        // SAFETY: non-null hostent from gethostbyname.
        let h = unsafe { &*h };
        if h.h_addrtype != libc::AF_INET || h.h_length != 4 || h.h_addr_list.is_null() {
            return None;
        }
        // SAFETY: h_addr_list is a null-terminated array of h_length-byte addresses.
        let first = unsafe { *h.h_addr_list };
        if first.is_null() {
            return None;
        }
        // SAFETY: the first address has h_length == 4 bytes.
        let b = unsafe { std::slice::from_raw_parts(first.cast::<u8>(), 4) };
        Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }

    fn addr_to_host(&self, addr: IpAddr) -> Option<String> {
        let (bytes, family): (Vec<u8>, c_int) = match addr {
            IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
            IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
        };
        let len = libc::socklen_t::try_from(bytes.len()).ok()?;
        // SAFETY: `bytes` holds `len` bytes of an address of `family`.
        let h = unsafe { gethostbyaddr(bytes.as_ptr().cast(), len, family) };
        if h.is_null() {
            return None;
        }
        // SAFETY: non-null hostent; h_name is a C string in the same static storage.
        unsafe { owned((*h).h_name) }
    }

    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        let c = CString::new(name).ok()?;
        // SAFETY: both arguments are valid C strings.
        let s = unsafe { libc::getservbyname(c.as_ptr(), proto_name(proto).as_ptr()) };
        if s.is_null() {
            return None;
        }
        // SAFETY: non-null servent; s_port holds the port in network order in its low 16 bits.
        let port = unsafe { (*s).s_port };
        Some(u16::from_be(port as u16))
    }

    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String> {
        // SAFETY: the protocol name is a valid C string; the port is in network order.
        let s =
            unsafe { libc::getservbyport(c_int::from(port.to_be()), proto_name(proto).as_ptr()) };
        if s.is_null() {
            return None;
        }
        // SAFETY: non-null servent from getservbyport.
        unsafe { owned((*s).s_name) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_missing_names() {
        let r = SystemResolver;
        assert_eq!(r.host_to_ipv4("no-such-host.invalid"), None);
        assert_eq!(
            r.service_to_port("no-such-service-name", Protocol::Tcp),
            None
        );
        assert_eq!(
            r.port_to_service(1, Protocol::Sctp)
                .filter(|n| n == "tcpmux")
                .map(|_| ()),
            None
        );
    }

    #[test]
    fn services_file_round_trip() {
        // every Debian system has http/tcp in /etc/services (netbase)
        let r = SystemResolver;
        if let Some(port) = r.service_to_port("http", Protocol::Tcp) {
            assert_eq!(port, 80);
            assert_eq!(
                r.port_to_service(80, Protocol::Tcp).as_deref(),
                Some("http")
            );
        }
    }
}
