//! What the `rvs realserver` suite shares (`tests/tests/realserver.rs` includes this file): a
//! two-host lab (a real server and a neighbour on one link, the neighbour standing in for the
//! director and the router), `rvs` run inside the real server with its state and `--persist`
//! files in a private directory, snapshots of everything `down` must restore, and tunnelled
//! test packets built by hand.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rvs_lab::{Host, Ipv4Cidr, Lab, Output};

/// The real server's address on the link.
pub const RS_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 11);
/// The neighbour's (the real server's gateway).
pub const NB_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
/// The VIP, in the link's subnet as in seed 000, so that ARP for it is asked on the link.
pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);
/// A second VIP.
pub const VIP2: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 101);

const RVS_TIMEOUT: Duration = Duration::from_secs(60);

/// The lab: `rs` (the real server) and `nb` (its neighbour and default gateway), joined by a
/// veth pair whose ends are both called `eth0`.
pub struct RsLab {
    /// The lab; taken down with this value.
    pub lab: Lab,
    /// The real server.
    pub rs: Host,
    /// The neighbour.
    pub nb: Host,
    /// Holds the state file (`state/`) and the `--persist` targets (`sysctl.d/`, `system/`).
    pub dir: PathBuf,
}

impl RsLab {
    /// Builds the lab. Panics with the reason on failure.
    pub fn new() -> RsLab {
        crate::bins::binary("rvs");
        let prefix = crate::lab_prefix();
        let lab = Lab::new(&prefix).unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        let fail = |e: rvs_lab::LabError| -> ! { panic!("lab {prefix}: {e}") };
        let rs = lab.add_host("rs").unwrap_or_else(|e| fail(e));
        let nb = lab.add_host("nb").unwrap_or_else(|e| fail(e));
        lab.link(&rs, "eth0", &nb, "eth0")
            .unwrap_or_else(|e| fail(e));
        let cidr = |a| Ipv4Cidr::new(a, 24).unwrap_or_else(|| panic!("{a}/24"));
        rs.add_addr("eth0", cidr(RS_IP)).unwrap_or_else(|e| fail(e));
        nb.add_addr("eth0", cidr(NB_IP)).unwrap_or_else(|e| fail(e));
        rs.set_default_gateway(NB_IP).unwrap_or_else(|e| fail(e));
        let dir = std::env::temp_dir().join(format!("rvs-realserver-{prefix}"));
        let _ = std::fs::remove_dir_all(&dir);
        RsLab { lab, rs, nb, dir }
    }

    /// Runs `rvs realserver <args>` in the real server.
    pub fn rvs(&self, args: &[&str]) -> Output {
        let mut command = Command::new(crate::bins::binary("rvs"));
        command
            .arg("realserver")
            .args(args)
            .env("RVS_REALSERVER_STATE_DIR", self.dir.join("state"))
            .env("RVS_REALSERVER_SYSCTL_DIR", self.dir.join("sysctl.d"))
            .env("RVS_REALSERVER_SYSTEMD_DIR", self.dir.join("system"));
        self.rs
            .run_command(command, RVS_TIMEOUT)
            .unwrap_or_else(|e| panic!("rvs realserver {}: {e}", args.join(" ")))
    }

    /// [`RsLab::rvs`] the way users enter a namespace, `ip netns exec <rs> rvs realserver …`,
    /// which also gives `rvs` a private `/sys` (without the machine's BPF filesystem).
    pub fn rvs_via_ip_netns_exec(&self, args: &[&str]) -> Output {
        let rvs = crate::bins::binary("rvs");
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", self.rs.netns()])
            .arg(&rvs)
            .arg("realserver")
            .args(args)
            .env("RVS_REALSERVER_STATE_DIR", self.dir.join("state"))
            .env("RVS_REALSERVER_SYSCTL_DIR", self.dir.join("sysctl.d"))
            .env("RVS_REALSERVER_SYSTEMD_DIR", self.dir.join("system"));
        let shown = format!(
            "ip netns exec {} rvs realserver {}",
            self.rs.netns(),
            args.join(" ")
        );
        let (status, stdout, stderr) = crate::run_captured(command, RVS_TIMEOUT)
            .unwrap_or_else(|e| panic!("{shown}: {e:#}"));
        Output {
            command: shown,
            status,
            stdout,
            stderr,
        }
    }

    /// [`RsLab::rvs`], which must succeed; returns its stdout.
    pub fn rvs_ok(&self, args: &[&str]) -> String {
        let out = self.rvs(args);
        assert!(
            out.success(),
            "{} failed ({}):\n{}\n{}",
            out.command,
            out.status,
            out.stdout,
            out.stderr
        );
        out.stdout
    }

    /// The state file of the real server's namespace.
    pub fn state_file(&self) -> PathBuf {
        self.dir
            .join("state")
            .join(format!("{}.json", self.rs.netns()))
    }

    /// Where `rvs realserver` pins the decapsulation program on the real server's `eth0`.
    pub fn pin_dir(&self) -> PathBuf {
        Path::new("/sys/fs/bpf/rvs").join(format!("{}-realserver-eth0", self.rs.netns()))
    }

    /// Everything `down` must give back, in the real server.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.rs)
    }
}

impl Default for RsLab {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RsLab {
    fn drop(&mut self) {
        if let Err(e) = self.lab.down() {
            eprintln!("taking lab {} down: {e}", self.lab.prefix());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every IPv4 per-interface sysctl (all of `/proc/sys/net/ipv4/conf/*/*`), the IPv4 addresses,
/// the IPv4 routes of every table, and the XDP programs on the links, of one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `<scope>/<setting>` → value.
    pub sysctls: BTreeMap<String, String>,
    /// `ip -o -4 addr show`.
    pub addrs: String,
    /// `ip -4 route show table all`.
    pub routes: String,
    /// `ip -o link show` reduced to each link's name, flags and XDP program, if any.
    pub links: String,
}

impl Snapshot {
    /// Takes it.
    pub fn of(host: &Host) -> Snapshot {
        let sysctls = host
            .run_in(read_conf_tree)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("reading /proc/sys/net/ipv4/conf in {}: {e}", host.netns()));
        let ip = |args: &[&str]| host.ip(args).unwrap_or_else(|e| panic!("{e}"));
        let links = ip(&["-o", "link", "show"])
            .lines()
            .map(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                // `xdp/id:N`, `xdpgeneric/id:N`, … when a program is attached.
                let xdp = words.iter().find(|w| w.starts_with("xdp")).copied();
                format!(
                    "{} {} {}",
                    words.get(1).unwrap_or(&""),
                    words.get(2).unwrap_or(&""),
                    xdp.unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        Snapshot {
            sysctls,
            addrs: ip(&["-o", "-4", "addr", "show"]),
            routes: ip(&["-4", "route", "show", "table", "all"]),
            links,
        }
    }

    /// What differs from `other`, one line per difference (empty when equal).
    pub fn diff(&self, other: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        for (key, value) in &self.sysctls {
            match other.sysctls.get(key) {
                Some(v) if v == value => {}
                Some(v) => out.push(format!("{key}: {value} -> {v}")),
                None => out.push(format!("{key}: {value} -> (gone)")),
            }
        }
        for key in other
            .sysctls
            .keys()
            .filter(|k| !self.sysctls.contains_key(*k))
        {
            out.push(format!("{key}: (new)"));
        }
        for (what, a, b) in [
            ("addresses", &self.addrs, &other.addrs),
            ("routes", &self.routes, &other.routes),
            ("links", &self.links, &other.links),
        ] {
            if a != b {
                out.push(format!("{what} before:\n{a}\n{what} after:\n{b}"));
            }
        }
        out
    }
}

/// Reads every readable file under `/proc/sys/net/ipv4/conf/*/` of the calling thread's
/// namespace.
fn read_conf_tree() -> std::io::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for scope in std::fs::read_dir("/proc/sys/net/ipv4/conf")? {
        let scope = scope?;
        for setting in std::fs::read_dir(scope.path())? {
            let setting = setting?;
            // A few entries are write-only; they cannot change behind our back either.
            if let Ok(value) = std::fs::read_to_string(setting.path()) {
                let key = format!(
                    "{}/{}",
                    scope.file_name().to_string_lossy(),
                    setting.file_name().to_string_lossy()
                );
                out.insert(key, value.trim().to_owned());
            }
        }
    }
    Ok(out)
}

/// Reads one `/proc/sys/net/ipv4/conf/<scope>/<setting>` in `host`.
pub fn conf(host: &Host, scope: &str, setting: &str) -> String {
    host.sysctl_read(&format!("net.ipv4.conf.{scope}.{setting}"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An IPv4 header (no options) with its checksum.
fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload_len: usize) -> Vec<u8> {
    let total = u16::try_from(20 + payload_len).unwrap_or(u16::MAX);
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34, 0x40, 0]); // id, DF
    h.extend_from_slice(&[64, protocol, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let sum = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let folded = (sum & 0xffff) + (sum >> 16);
    let folded = (folded & 0xffff) + (folded >> 16);
    let csum = !u16::try_from(folded).unwrap_or(0xffff);
    h[10..12].copy_from_slice(&csum.to_be_bytes());
    h
}

/// An IPv4/UDP packet (UDP checksum 0: none, which IPv4 allows).
pub fn udp_packet(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let (SocketAddr::V4(src), SocketAddr::V4(dst)) = (src, dst) else {
        panic!("IPv4 only")
    };
    let udp_len = 8 + payload.len();
    let mut p = ipv4_header(*src.ip(), *dst.ip(), 17, udp_len);
    p.extend_from_slice(&src.port().to_be_bytes());
    p.extend_from_slice(&dst.port().to_be_bytes());
    p.extend_from_slice(&u16::try_from(udp_len).unwrap_or(u16::MAX).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// How a test packet is wrapped, as IPVS's tunnels do.
#[derive(Clone, Copy, Debug)]
pub enum Encap {
    /// IP in IP: the kernel adds the outer header on a raw `IPPROTO_IPIP` socket.
    Ipip,
    /// GRE without key, checksum or sequence (protocol 0x0800) on a raw `IPPROTO_GRE` socket.
    Gre,
    /// GUE version 0 to this UDP port, carrying IPIP.
    Gue(u16),
}

/// Sends `inner` (a whole IPv4 packet) from `host` to `outer_dst`, wrapped in `encap`.
pub fn send_tunnelled(host: &Host, encap: Encap, outer_dst: Ipv4Addr, inner: &[u8]) {
    let inner = inner.to_vec();
    host.run_in(move || match encap {
        Encap::Gue(port) => {
            let mut datagram = vec![0, 4, 0, 0]; // version 0, no options, proto_ctype 4 (IPIP)
            datagram.extend_from_slice(&inner);
            let socket = UdpSocket::bind("0.0.0.0:0")?;
            // No UDP checksum, as IPVS sends GUE by default (`--tun-nocsum`). A checksummed
            // datagram would cross the veth with only its pseudo-header sum filled in
            // (checksum offload), which the decapsulation program rightly refuses.
            no_udp_checksum(&socket)?;
            socket.send_to(&datagram, (outer_dst, port)).map(drop)
        }
        Encap::Ipip => raw_send(libc::IPPROTO_IPIP, outer_dst, &inner),
        Encap::Gre => {
            let mut datagram = vec![0, 0, 0x08, 0x00];
            datagram.extend_from_slice(&inner);
            raw_send(libc::IPPROTO_GRE, outer_dst, &datagram)
        }
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("sending a {encap:?} packet from {}: {e}", host.netns()));
}

/// `SO_NO_CHECK`: IPv4 UDP datagrams from `socket` carry checksum 0 (none).
fn no_udp_checksum(socket: &UdpSocket) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NO_CHECK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Sends `payload` on a raw IPv4 socket of `protocol`: the kernel adds the outer header.
fn raw_send(protocol: libc::c_int, dst: Ipv4Addr, payload: &[u8]) -> std::io::Result<()> {
    // SAFETY: plain socket creation; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(dst).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: a valid buffer and a valid sockaddr_in of the size given.
    let sent = unsafe {
        libc::sendto(
            fd,
            payload.as_ptr().cast(),
            payload.len(),
            0,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    let result = if sent < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    result
}

/// A UDP socket bound to `addr` inside `host`.
pub fn udp_listener(host: &Host, addr: SocketAddr) -> UdpSocket {
    let socket = host
        .run_in(move || UdpSocket::bind(addr))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("binding {addr} in {}: {e}", host.netns()));
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap_or_else(|e| panic!("{e}"));
    socket
}

/// Waits up to `timeout` for a datagram on `socket`; returns it and its sender.
pub fn receive(socket: &UdpSocket, timeout: Duration) -> Option<(Vec<u8>, SocketAddr)> {
    let deadline = std::time::Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    while std::time::Instant::now() < deadline {
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            return Some((buf[..n].to_vec(), from));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_packets_carry_valid_ipv4_checksums() {
        let p = udp_packet(
            "10.0.0.1:4000".parse().unwrap_or_else(|e| panic!("{e}")),
            "10.0.0.2:9".parse().unwrap_or_else(|e| panic!("{e}")),
            b"hi",
        );
        assert_eq!(p.len(), 20 + 8 + 2);
        assert_eq!(&p[2..4], &30u16.to_be_bytes());
        // The one's-complement sum over a header with its checksum is 0xffff.
        let sum: u32 = p[..20]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        assert_eq!((folded & 0xffff) + (folded >> 16), 0xffff);
        assert_eq!(&p[24..26], &10u16.to_be_bytes());
    }
}
