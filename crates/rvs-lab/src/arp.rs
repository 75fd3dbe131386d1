//! Asking "who has this address?" on a lab interface and collecting every answer: the check
//! that LVS-DR real servers keep quiet about the VIP while the director answers for it.
//!
//! The probe speaks ARP on an AF_PACKET socket of its own rather than through the kernel's
//! neighbour table, so that *every* reply is seen, not just the one the kernel keeps.

use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::addr::MacAddr;
use crate::error::{LabError, Result};
use crate::host::Host;
use crate::names::IfName;

const ETHERTYPE_ARP: u16 = 0x0806;
const ARP_REQUEST: u16 = 1;
const ARP_REPLY: u16 = 2;
/// Ethernet header (14) + ARP for Ethernet/IPv4 (28).
const FRAME_LEN: usize = 42;

/// One answer to an ARP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArpReply {
    /// Who answered (the ARP sender hardware address).
    pub mac: MacAddr,
    /// The address it answered for (the ARP sender protocol address).
    pub ip: Ipv4Addr,
}

impl Host {
    /// Broadcasts an ARP request for `target` out of `ifname`, from `sender_ip` (normally the
    /// interface's own address), twice, and returns every distinct reply heard within `listen`.
    pub fn arp_probe(
        &self,
        ifname: &str,
        sender_ip: Ipv4Addr,
        target: Ipv4Addr,
        listen: Duration,
    ) -> Result<Vec<ArpReply>> {
        let ifname = IfName::new(ifname)?;
        let mac = self.mac(ifname.as_str())?;
        let request = arp_request(mac, sender_ip, target);
        let context = format!("[{}] ARP probe for {target} on {ifname}", self.netns());
        self.run_in(|| probe(&ifname, &request, target, sender_ip, listen))?
            .map_err(|e| LabError::io(context, e))
    }
}

/// Runs inside the host's namespace: opens the socket, sends, listens.
fn probe(
    ifname: &IfName,
    request: &[u8; FRAME_LEN],
    target: Ipv4Addr,
    sender_ip: Ipv4Addr,
    listen: Duration,
) -> std::io::Result<Vec<ArpReply>> {
    let socket = PacketSocket::bind(ifname)?;
    let deadline = Instant::now() + listen;
    let resend_at = Instant::now() + listen / 2;
    let mut resent = false;
    socket.send(request)?;
    let mut replies = Vec::new();
    let mut buf = [0u8; 1514];
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if !resent && now >= resend_at {
            socket.send(request)?;
            resent = true;
        }
        let Some(len) = socket.recv(&mut buf)? else {
            continue;
        };
        let Some(frame) = buf.get(..len) else {
            continue;
        };
        if let Some(reply) = parse_reply(frame, target, sender_ip)
            && !replies.contains(&reply)
        {
            replies.push(reply);
        }
    }
    replies.sort();
    Ok(replies)
}

/// A broadcast ARP request for `target` from (`mac`, `sender_ip`).
fn arp_request(mac: MacAddr, sender_ip: Ipv4Addr, target: Ipv4Addr) -> [u8; FRAME_LEN] {
    let mut frame = [0u8; FRAME_LEN];
    frame[0..6].copy_from_slice(&MacAddr::BROADCAST.octets());
    frame[6..12].copy_from_slice(&mac.octets());
    frame[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    frame[14..16].copy_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    frame[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    frame[18] = 6;
    frame[19] = 4;
    frame[20..22].copy_from_slice(&ARP_REQUEST.to_be_bytes());
    frame[22..28].copy_from_slice(&mac.octets());
    frame[28..32].copy_from_slice(&sender_ip.octets());
    // target hardware address stays zero
    frame[38..42].copy_from_slice(&target.octets());
    frame
}

/// The reply in `frame` if it is an Ethernet/IPv4 ARP reply about `target` sent to `asker`.
fn parse_reply(frame: &[u8], target: Ipv4Addr, asker: Ipv4Addr) -> Option<ArpReply> {
    let frame: &[u8; FRAME_LEN] = frame.get(..FRAME_LEN)?.try_into().ok()?;
    let be16 = |at: usize| u16::from_be_bytes([frame[at], frame[at + 1]]);
    let ipv4 = |at: usize| Ipv4Addr::new(frame[at], frame[at + 1], frame[at + 2], frame[at + 3]);
    let shape_ok = be16(12) == ETHERTYPE_ARP
        && be16(14) == 1
        && be16(16) == 0x0800
        && frame[18] == 6
        && frame[19] == 4;
    if !shape_ok || be16(20) != ARP_REPLY || ipv4(28) != target || ipv4(38) != asker {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&frame[22..28]);
    Some(ArpReply {
        mac: MacAddr(mac),
        ip: target,
    })
}

/// An AF_PACKET socket for ARP frames, bound to one interface.
struct PacketSocket {
    fd: OwnedFd,
    ifindex: i32,
}

impl PacketSocket {
    fn bind(ifname: &IfName) -> std::io::Result<Self> {
        let name = std::ffi::CString::new(ifname.as_str()).map_err(std::io::Error::other)?;
        // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let ifindex = i32::try_from(ifindex).map_err(std::io::Error::other)?;
        let protocol = i32::from(ETHERTYPE_ARP.to_be());
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just opened and own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let socket = PacketSocket { fd, ifindex };
        let addr = socket.link_addr(MacAddr([0; 6]));
        // SAFETY: `addr` is a properly initialised sockaddr_ll and its size is passed.
        let rc = unsafe {
            libc::bind(
                socket.fd.as_raw_fd(),
                (&raw const addr).cast(),
                socklen::<libc::sockaddr_ll>(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 20_000,
        };
        // SAFETY: `timeout` is a valid timeval and its size is passed.
        let rc = unsafe {
            libc::setsockopt(
                socket.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                socklen::<libc::timeval>(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(socket)
    }

    fn link_addr(&self, dest: MacAddr) -> libc::sockaddr_ll {
        // SAFETY: sockaddr_ll is plain old data; all zeroes is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETHERTYPE_ARP.to_be();
        addr.sll_ifindex = self.ifindex;
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(&dest.octets());
        addr
    }

    fn send(&self, frame: &[u8; FRAME_LEN]) -> std::io::Result<()> {
        let addr = self.link_addr(MacAddr::BROADCAST);
        // SAFETY: `frame` and `addr` are valid for the lengths passed.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const addr).cast(),
                socklen::<libc::sockaddr_ll>(),
            )
        };
        if sent < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// One frame, or `None` when nothing arrived within the socket's receive timeout.
    fn recv(&self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        // SAFETY: `buf` is valid for writes of its length.
        let got = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if got >= 0 {
            return Ok(usize::try_from(got).ok());
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted => Ok(None),
            _ => Err(err),
        }
    }
}

fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(mem::size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
    const ASKER: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 10);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 100);

    /// A reply as the kernel would send it, written out byte by byte.
    fn reply_from(mac: [u8; 6], ip: [u8; 4]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&ASKER_MAC.octets());
        f.extend_from_slice(&mac);
        f.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02]);
        f.extend_from_slice(&mac);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&ASKER_MAC.octets());
        f.extend_from_slice(&[192, 168, 0, 10]);
        f.extend_from_slice(&[0; 18]); // Ethernet padding to 60 bytes
        f
    }

    #[test]
    fn requests_are_broadcast_who_has_frames() {
        let frame = arp_request(ASKER_MAC, ASKER, VIP);
        let expected: [u8; FRAME_LEN] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x0a, 0x08,
            0x06, // Ethernet
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet/IPv4, request
            0x02, 0, 0, 0, 0, 0x0a, 192, 168, 0, 10, // sender
            0, 0, 0, 0, 0, 0, 192, 168, 0, 100, // target
        ];
        assert_eq!(frame, expected);
    }

    #[test]
    fn replies_about_the_target_are_recognised() {
        let frame = reply_from([0x02, 1, 2, 3, 4, 5], [192, 168, 0, 100]);
        assert_eq!(
            parse_reply(&frame, VIP, ASKER),
            Some(ArpReply {
                mac: MacAddr([0x02, 1, 2, 3, 4, 5]),
                ip: VIP
            })
        );
    }

    #[test]
    fn other_frames_are_ignored() {
        let about_other = reply_from([0x02, 1, 2, 3, 4, 5], [192, 168, 0, 11]);
        assert_eq!(parse_reply(&about_other, VIP, ASKER), None);
        let our_request = arp_request(ASKER_MAC, ASKER, VIP);
        assert_eq!(parse_reply(&our_request, VIP, ASKER), None);
        let mut truncated = reply_from([0x02, 1, 2, 3, 4, 5], [192, 168, 0, 100]);
        truncated.truncate(41);
        assert_eq!(parse_reply(&truncated, VIP, ASKER), None);
        let mut not_arp = reply_from([0x02, 1, 2, 3, 4, 5], [192, 168, 0, 100]);
        not_arp[13] = 0x00;
        assert_eq!(parse_reply(&not_arp, VIP, ASKER), None);
        assert_eq!(parse_reply(&[], VIP, ASKER), None);
    }
}
