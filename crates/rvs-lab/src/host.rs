//! A host of a lab: one network namespace, configured with `ip -n`, sysctl files, and programs
//! started inside it.

use std::ffi::OsStr;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::addr::{Ipv4Cidr, MacAddr};
use crate::error::{LabError, Result};
use crate::ip::{ip, parse_ipv4_addrs, parse_link_mac};
use crate::names::{HostName, IfName};
use crate::netns::{open_netns, run_in_netns};
use crate::process::Process;
use crate::run::{Output, run_with_timeout};
use crate::sysctl::{self, ArpAnnounce, ArpIgnore, RpFilter, SysctlKey};

/// A handle on one host of a lab (cheap to clone). The [`crate::Lab`] owns the namespace:
/// once the lab is down, every call on its hosts fails.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    name: HostName,
    netns: String,
    log_dir: PathBuf,
    spawned: AtomicU32,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("netns", &self.inner.netns)
            .finish()
    }
}

impl Host {
    pub(crate) fn new(name: HostName, netns: String, log_dir: PathBuf) -> Self {
        Host {
            inner: Arc::new(HostInner {
                name,
                netns,
                log_dir,
                spawned: AtomicU32::new(0),
            }),
        }
    }

    /// The host's name in the lab (`client`).
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// Its namespace (`<prefix>-client`), as `ip netns` knows it.
    pub fn netns(&self) -> &str {
        &self.inner.netns
    }

    // ---- iproute2 -------------------------------------------------------------------------

    /// Runs `ip -n <netns> <args>` and returns its stdout: the escape hatch for anything the
    /// typed methods do not cover.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut full = vec!["-n", self.netns()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// Brings interface `ifname` up.
    pub fn link_up(&self, ifname: &str) -> Result<()> {
        let ifname = IfName::new(ifname)?;
        self.ip(&["link", "set", "dev", ifname.as_str(), "up"])
            .map(drop)
    }

    /// Adds `cidr` to interface `ifname` (`lo` for a VIP: pass a `/32`).
    pub fn add_addr(&self, ifname: &str, cidr: Ipv4Cidr) -> Result<()> {
        let ifname = IfName::new(ifname)?;
        self.ip(&["addr", "add", &cidr.to_string(), "dev", ifname.as_str()])
            .map(drop)
    }

    /// Removes `cidr` from interface `ifname`.
    pub fn del_addr(&self, ifname: &str, cidr: Ipv4Cidr) -> Result<()> {
        let ifname = IfName::new(ifname)?;
        self.ip(&["addr", "del", &cidr.to_string(), "dev", ifname.as_str()])
            .map(drop)
    }

    /// Adds a route to `dest` through gateway `via` (which must be on a connected network).
    pub fn add_route(&self, dest: Ipv4Cidr, via: Ipv4Addr) -> Result<()> {
        let dest = Ipv4Cidr::new(dest.network(), dest.prefix_len()).unwrap_or(dest);
        self.ip(&["route", "add", &dest.to_string(), "via", &via.to_string()])
            .map(drop)
    }

    /// Sets (or replaces) the default route through `via`.
    pub fn set_default_gateway(&self, via: Ipv4Addr) -> Result<()> {
        self.ip(&["route", "replace", "default", "via", &via.to_string()])
            .map(drop)
    }

    /// The IPv4 addresses of this host (`ip -4 addr`), each with its interface.
    pub fn ipv4_addrs(&self) -> Result<Vec<(String, Ipv4Cidr)>> {
        Ok(parse_ipv4_addrs(&self.ip(&["-4", "-o", "addr", "show"])?))
    }

    /// Whether this host holds `addr` (with any prefix length) on any interface: a VIP that
    /// VRRP adds to whichever director is master.
    pub fn has_ipv4(&self, addr: Ipv4Addr) -> Result<bool> {
        Ok(self.ipv4_addrs()?.iter().any(|(_, cidr)| cidr.addr() == addr))
    }

    /// The hardware address of interface `ifname`.
    pub fn mac(&self, ifname: &str) -> Result<MacAddr> {
        let ifname = IfName::new(ifname)?;
        let line = self.ip(&["-o", "link", "show", "dev", ifname.as_str()])?;
        parse_link_mac(&line).ok_or(LabError::Parse {
            what: "a MAC address in `ip link` output",
            input: line,
        })
    }

    /// Bytes interface `ifname` has received, from this host's `/proc/net/dev`. (Read through
    /// `/proc/thread-self`: `/proc/net` follows the process's namespace, not the thread's.)
    pub fn rx_bytes(&self, ifname: &str) -> Result<u64> {
        let text = self
            .run_in(|| std::fs::read_to_string("/proc/thread-self/net/dev"))?
            .map_err(|e| LabError::io(format!("reading /proc/net/dev in {}", self.netns()), e))?;
        parse_rx_bytes(&text, ifname).ok_or(LabError::Parse { what: "an interface's rx bytes in /proc/net/dev", input: text })
    }

    // ---- sysctls --------------------------------------------------------------------------

    /// Writes `value` to the sysctl `key` (dotted, like `net.ipv4.ip_forward`) in this host.
    pub fn sysctl_write(&self, key: &str, value: &str) -> Result<()> {
        let key = SysctlKey::dotted(key)?;
        self.write_sysctls(&[(key, value.to_owned())])
    }

    /// Reads the sysctl `key` (dotted) in this host.
    pub fn sysctl_read(&self, key: &str) -> Result<String> {
        let key = SysctlKey::dotted(key)?;
        self.run_in(|| sysctl::read_here(&key))?
    }

    /// Writes several sysctls in order, from one thread inside the namespace.
    pub(crate) fn write_sysctls(&self, settings: &[(SysctlKey, String)]) -> Result<()> {
        self.run_in(|| {
            settings
                .iter()
                .try_for_each(|(key, value)| sysctl::write_here(key, value))
        })?
        .map_err(|e| self.context(e))
    }

    /// `net.ipv4.ip_forward`: routes between its interfaces when on.
    pub fn set_ip_forward(&self, on: bool) -> Result<()> {
        self.write_sysctls(&[(SysctlKey::ip_forward(), u8::from(on).to_string())])
    }

    /// `net.ipv4.conf.<ifname>.arp_ignore` (`ifname` may be `all`).
    pub fn set_arp_ignore(&self, ifname: &str, value: ArpIgnore) -> Result<()> {
        let key = SysctlKey::ipv4_conf(&IfName::new(ifname)?, "arp_ignore");
        self.write_sysctls(&[(key, (value as u8).to_string())])
    }

    /// `net.ipv4.conf.<ifname>.arp_announce` (`ifname` may be `all`).
    pub fn set_arp_announce(&self, ifname: &str, value: ArpAnnounce) -> Result<()> {
        let key = SysctlKey::ipv4_conf(&IfName::new(ifname)?, "arp_announce");
        self.write_sysctls(&[(key, (value as u8).to_string())])
    }

    /// `net.ipv4.conf.<ifname>.rp_filter` (`ifname` may be `all`).
    pub fn set_rp_filter(&self, ifname: &str, value: RpFilter) -> Result<()> {
        let key = SysctlKey::ipv4_conf(&IfName::new(ifname)?, "rp_filter");
        self.write_sysctls(&[(key, (value as u8).to_string())])
    }

    // ---- running things -------------------------------------------------------------------

    /// Runs `f` on a thread inside this host's namespace and returns its result. Sockets made
    /// there stay in this host for good:
    /// `client.run_in(|| TcpStream::connect(addr))??`.
    pub fn run_in<T, F>(&self, f: F) -> Result<T>
    where
        T: Send,
        F: FnOnce() -> T + Send,
    {
        run_in_netns(self.netns(), f)
    }

    /// Runs `program args...` in this host until it exits or `timeout` passes (then it is
    /// killed and a [`LabError::CommandTimeout`] returned). Any exit status is `Ok`: see
    /// [`Output::check`].
    pub fn run<I, S>(&self, program: &str, args: I, timeout: Duration) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(program);
        command.args(args);
        self.run_command(command, timeout)
    }

    /// [`Host::run`] for a command built by the caller (environment, working directory, ...).
    /// Its stdio is replaced: stdin is /dev/null, stdout and stderr are captured.
    pub fn run_command(&self, command: Command, timeout: Duration) -> Result<Output> {
        let ns = Arc::new(open_netns(self.netns())?);
        run_with_timeout(command, Some((self.netns(), ns)), timeout)
    }

    /// Starts `program args...` in this host and leaves it running. Its stdout and stderr go
    /// to a log file in the lab's log directory (see [`Process::log`]); dropping the returned
    /// handle kills it, and so does tearing the lab down.
    pub fn spawn<I, S>(&self, label: &str, program: &str, args: I) -> Result<Process>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(program);
        command.args(args);
        let n = self.inner.spawned.fetch_add(1, Ordering::Relaxed);
        let log = self
            .inner
            .log_dir
            .join(format!("{}.{n}.{}.log", self.name(), file_safe(label)));
        let ns = Arc::new(open_netns(self.netns())?);
        Process::start(command, self.netns(), ns, Some(log))
    }

    /// Starts a daemon in this host that outlives the calling process (for `rvs lab up`): its
    /// output goes to `log`, and it runs until killed or until the lab is taken down with
    /// [`crate::down_prefix`]. Returns its pid.
    pub fn spawn_daemon<I, S>(&self, program: &str, args: I, log: &std::path::Path) -> Result<u32>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(program);
        command.args(args);
        let describe = crate::spawn::describe(&command);
        let failed = |source: std::io::Error| LabError::Spawn {
            command: describe.clone(),
            source,
        };
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(&failed)?;
        }
        let out = std::fs::File::create(log).map_err(&failed)?;
        let err = out.try_clone().map_err(&failed)?;
        command.stdin(std::process::Stdio::null()).stdout(out).stderr(err);
        crate::spawn::detach(&mut command, Arc::new(open_netns(self.netns())?));
        let child = command.spawn().map_err(&failed)?;
        Ok(child.id())
    }

    /// [`Host::spawn`] for a command built by the caller, whose stdio is left as the caller set
    /// it (by default: inherited from this process).
    pub fn spawn_command(&self, command: Command) -> Result<Process> {
        let ns = Arc::new(open_netns(self.netns())?);
        Process::start(command, self.netns(), ns, None)
    }

    /// Waits until a TCP connection from this host to `addr` succeeds (a server has started
    /// listening), trying every 50 ms for at most `timeout`.
    pub fn wait_for_tcp(&self, addr: SocketAddr, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let connected = self.run_in(|| {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                let attempt = left.min(Duration::from_millis(500));
                if TcpStream::connect_timeout(&addr, attempt).is_ok() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50).min(left));
            }
        })?;
        if connected {
            Ok(())
        } else {
            Err(LabError::WaitTimeout {
                what: format!("{addr} to accept a TCP connection from {}", self.netns()),
                timeout,
            })
        }
    }

    /// Adds this host's namespace to an I/O error's context.
    fn context(&self, err: LabError) -> LabError {
        match err {
            LabError::Io { context, source } => LabError::Io {
                context: format!("[{}] {context}", self.netns()),
                source,
            },
            other => other,
        }
    }
}

/// `label` with everything but letters, digits, `-`, `_` and `.` replaced by `_`.
/// The received-bytes column of `ifname`'s line in `/proc/net/dev` text.
fn parse_rx_bytes(text: &str, ifname: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        (name.trim() == ifname).then(|| rest.split_whitespace().next()?.parse().ok())?
    })
}

fn file_safe(label: &str) -> String {
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    if safe.is_empty() {
        "process".into()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_bytes_are_read_from_the_interfaces_line() {
        let text = "Inter-|   Receive\n face |bytes    packets\n    lo:     120       2 0 0\n  eth1: 10052342    7001 0 0\n";
        assert_eq!(parse_rx_bytes(text, "eth1"), Some(10_052_342));
        assert_eq!(parse_rx_bytes(text, "lo"), Some(120));
        assert_eq!(parse_rx_bytes(text, "eth0"), None);
    }

    #[test]
    fn labels_become_safe_file_names() {
        assert_eq!(file_safe("http"), "http");
        assert_eq!(file_safe("../x y"), ".._x_y");
        assert_eq!(file_safe(""), "process");
        assert_eq!(file_safe(&"a".repeat(100)).len(), 48);
    }

    #[test]
    fn hosts_whose_namespace_is_gone_fail_clearly() {
        let host = Host::new(
            HostName::host("ghost").unwrap(),
            "rvs-lab-test-gone-ghost".into(),
            std::env::temp_dir(),
        );
        let err = host
            .run("true", [""; 0], Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("rvs-lab-test-gone-ghost"), "{err}");
        let err = host.mac("eth0").unwrap_err().to_string();
        assert!(
            err.contains("ip -n rvs-lab-test-gone-ghost -o link show dev eth0"),
            "{err}"
        );
    }
}
