//! Sending whole Ethernet frames out of an interface: an `AF_PACKET` raw socket, as keepalived's
//! gratuitous ARP channel, that never receives anything.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::GarpError;

/// EtherType of ARP, which the frames carry (`ETH_P_ARP`).
const ETH_P_ARP: u16 = 0x0806;

/// A send-only `AF_PACKET` socket for gratuitous ARP (needs CAP_NET_RAW). One is enough for
/// every interface: the interface is chosen per frame.
#[derive(Debug)]
pub struct GarpSocket {
    fd: OwnedFd,
}

impl GarpSocket {
    /// Opens the socket. It is bound to no protocol, so the kernel hands it no frames at all
    /// (keepalived binds to ARP and then filters everything out; this is the same, cheaper).
    pub fn open() -> Result<Self, GarpError> {
        // SAFETY: socket(2) with constant arguments; the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
        if fd < 0 {
            return Err(GarpError::Open(io::Error::last_os_error()));
        }
        // SAFETY: `fd` is a descriptor socket(2) just returned, owned by nothing else.
        Ok(GarpSocket { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// Sends `frame` (Ethernet header included) out of interface `ifindex`, as it is.
    pub fn send(&self, ifindex: u32, frame: &[u8]) -> Result<(), GarpError> {
        let failed = |source| GarpError::Send { ifindex, source };
        let index = i32::try_from(ifindex).map_err(|_| failed(io::Error::from_raw_os_error(libc::ENODEV)))?;
        // The kernel takes the destination from the frame itself; the link-layer address here
        // only names the interface and the protocol the frame is counted as.
        let to = libc::sockaddr_ll {
            sll_family: libc::AF_PACKET as libc::c_ushort,
            sll_protocol: ETH_P_ARP.to_be(),
            sll_ifindex: index,
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 6,
            sll_addr: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0],
        };
        let to_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `frame` is valid for `frame.len()` bytes and `to` is a properly initialised
        // sockaddr_ll whose size is passed along; the descriptor is open while `self` lives.
        let sent = unsafe {
            libc::sendto(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0, (&raw const to).cast(), to_len)
        };
        match usize::try_from(sent) {
            Err(_) => Err(failed(io::Error::last_os_error())),
            Ok(n) if n != frame.len() => {
                Err(failed(io::Error::new(io::ErrorKind::WriteZero, format!("sent {n} of {} bytes", frame.len()))))
            }
            Ok(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_to_an_interface_that_does_not_exist_fails_with_enxio() {
        // Without CAP_NET_RAW the socket cannot even be opened; that is an error too.
        let socket = match GarpSocket::open() {
            Ok(socket) => socket,
            Err(GarpError::Open(e)) => {
                assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
                return;
            }
            Err(other) => panic!("unexpected {other}"),
        };
        let err = socket.send(0x7fff_fff0, &[0u8; 42]).unwrap_err();
        match err {
            GarpError::Send { ifindex, source } => {
                assert_eq!(ifindex, 0x7fff_fff0);
                assert_eq!(source.raw_os_error(), Some(libc::ENXIO), "{source}");
            }
            other => panic!("unexpected {other}"),
        }
        let err = socket.send(u32::MAX, &[0u8; 42]).unwrap_err();
        assert!(matches!(err, GarpError::Send { ifindex: u32::MAX, .. }), "{err}");
    }
}
