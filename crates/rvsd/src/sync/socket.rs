//! The sync daemons' UDP sockets, bound to their interface as IPVS binds its sync threads.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rvs_core::model::SyncDaemonEntry;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::net::UdpSocket;

fn ifindex(name: &str) -> io::Result<u32> {
    crate::interface_index(name).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}")))
}

fn ipv4_group(entry: &SyncDaemonEntry) -> io::Result<Ipv4Addr> {
    match entry.mcast_group {
        IpAddr::V4(group) => Ok(group),
        IpAddr::V6(_) => Err(io::Error::new(io::ErrorKind::Unsupported, "IPv6 sync groups are not supported by rvs yet")),
    }
}

/// The master's socket: multicast out of the interface with the daemon's TTL, not looped back
/// (the backup daemon of this same director must not install its own connections).
pub async fn master(entry: &SyncDaemonEntry) -> io::Result<UdpSocket> {
    ipv4_group(entry)?;
    let name = entry.ifname.as_str();
    let index = ifindex(name)?;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.bind_device(Some(name.as_bytes()))?;
    multicast_out_of(&socket, index)?;
    socket.set_multicast_ttl_v4(u32::from(entry.mcast_ttl))?;
    socket.set_multicast_loop_v4(false)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)).into())?;
    UdpSocket::from_std(socket.into())
}

/// The backup's socket: the group's port, joined on the interface.
pub async fn backup(entry: &SyncDaemonEntry) -> io::Result<UdpSocket> {
    let group = ipv4_group(entry)?;
    let name = entry.ifname.as_str();
    let index = ifindex(name)?;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind_device(Some(name.as_bytes()))?;
    socket.bind(&SocketAddr::from((group, entry.mcast_port)).into())?;
    socket.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(index))?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// `IP_MULTICAST_IF` by interface index (`struct ip_mreqn`), which socket2 sets by address only.
fn multicast_out_of(socket: &Socket, index: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let mreqn = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: i32::try_from(index).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?,
    };
    // SAFETY: a valid ip_mreqn and its size for IP_MULTICAST_IF on an open socket.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&raw const mreqn).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
