//! The VRRP channel of one instance over IPv4: raw sockets of IP protocol 112, as keepalived
//! opens them. Adverts go out with TTL 255 to 224.0.0.18 (or to each unicast peer); everything
//! of protocol 112 that reaches the interface comes in with its IP header, so that the receiver
//! can check the TTL, the addresses and the checksum's pseudo-header itself.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;

/// IANA's protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;
/// The multicast group of VRRP over IPv4 (RFC 5798 §5.1.1.2).
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The TTL every advert carries, and that a receiver requires (RFC 5798 §5.1.1.3).
pub const VRRP_TTL: u32 = 255;

/// One received IPv4 datagram of protocol 112.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub ttl: u8,
    /// The VRRP message (the IP payload).
    pub payload: Vec<u8>,
}

/// Why a datagram was not taken (counted by the caller, never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than its IP header says, or not IPv4.
    Truncated,
}

/// The sockets of one instance on one interface.
#[derive(Debug)]
pub struct VrrpSocket {
    /// Receives: bound to the interface, joined to the group.
    rx: AsyncFd<Socket>,
    /// Sends: bound to the instance's source address, so that the source the checksum's
    /// pseudo-header names is the one the kernel puts in the header.
    tx: Socket,
    source: Ipv4Addr,
}

impl VrrpSocket {
    /// Opens the channel on interface `ifindex`/`ifname`, speaking from `source` (one of the
    /// interface's addresses). Needs CAP_NET_RAW. Must run inside a tokio runtime.
    pub fn open(ifindex: u32, ifname: &str, source: Ipv4Addr) -> io::Result<Self> {
        let rx = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))?;
        rx.bind_device(Some(ifname.as_bytes()))?;
        rx.join_multicast_v4_n(&VRRP_GROUP_V4, &InterfaceIndexOrAddress::Index(ifindex))?;
        rx.set_nonblocking(true)?;
        rx.set_cloexec(true)?;

        let tx = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))?;
        tx.bind_device(Some(ifname.as_bytes()))?;
        tx.bind(&SockAddr::from(SocketAddrV4::new(source, 0)))?;
        tx.set_multicast_if_v4(&source)?;
        tx.set_multicast_ttl_v4(VRRP_TTL)?;
        tx.set_ttl_v4(VRRP_TTL)?;
        // Our own adverts are not news to us.
        tx.set_multicast_loop_v4(false)?;
        tx.set_nonblocking(true)?;
        tx.set_cloexec(true)?;
        // It is never read (the receive socket hears everything): keep its queue small.
        tx.set_recv_buffer_size(1)?;
        // SAFETY: a socket2::Socket owns its descriptor: it stays open, the same, until the
        // AsyncFd (which owns the Socket) is dropped.
        let rx = unsafe { AsyncFd::register(rx) }.map_err(|e| e.into_parts().1)?;
        Ok(VrrpSocket { rx, tx, source })
    }

    /// The address adverts are sent from.
    pub fn source(&self) -> Ipv4Addr {
        self.source
    }

    /// Sends one VRRP message to `destination` (the group, or a unicast peer).
    pub fn send(&self, destination: Ipv4Addr, message: &[u8]) -> io::Result<()> {
        let sent = self.tx.send_to(message, &SockAddr::from(SocketAddrV4::new(destination, 0)))?;
        if sent != message.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, format!("sent {sent} of {} bytes", message.len())));
        }
        Ok(())
    }

    /// Waits for the next datagram. `Ok(Err(_))` is a datagram too short to read.
    pub async fn recv(&self) -> io::Result<Result<Received, Malformed>> {
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
        loop {
            let mut guard = self.rx.readable().await?;
            match guard.try_io(|fd| fd.get_ref().recv(&mut buf)) {
                Ok(Ok(n)) => {
                    // SAFETY: recv(2) initialised the first `n` bytes.
                    let bytes: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
                    return Ok(split_ipv4(&bytes));
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

/// The IPv4 header's facts and the payload of a datagram a raw socket returned.
fn split_ipv4(bytes: &[u8]) -> Result<Received, Malformed> {
    let packet = rvs_wire::Ipv4Packet::new_checked(bytes).map_err(|_| Malformed::Truncated)?;
    let header = packet.header_len();
    let total = usize::from(packet.total_len()).min(bytes.len());
    let payload = bytes.get(header..total).ok_or(Malformed::Truncated)?;
    Ok(Received {
        source: packet.src_addr(),
        destination: packet.dst_addr(),
        ttl: packet.ttl(),
        payload: payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ip_header_is_read_and_stripped() {
        // An IPv4 header (20 bytes, TTL 255, protocol 112, 10.0.0.1 -> 224.0.0.18) and 4 bytes.
        let mut bytes = vec![
            0x45, 0, 0, 24, 0, 0, 0, 0, 255, 112, 0, 0, 10, 0, 0, 1, 224, 0, 0, 18, 0x31, 51, 150, 1,
        ];
        let received = split_ipv4(&bytes).unwrap();
        assert_eq!(received.source, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(received.destination, VRRP_GROUP_V4);
        assert_eq!((received.ttl, received.payload.as_slice()), (255, &[0x31, 51, 150, 1][..]));
        bytes.truncate(12);
        assert_eq!(split_ipv4(&bytes), Err(Malformed::Truncated));
    }
}
