//! rvs's XDP decapsulation program, for kernels that cannot decapsulate by themselves (no
//! `ipip`, `fou` or `ip_gre`): what `rvs realserver` asks of `rvs_dataplane::decap`.

use std::{
    net::Ipv4Addr,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use rvs_dataplane::{
    AttachMode,
    decap::{DecapSpec, DecapStatus, LinkState},
};

use super::spec::{IfName, Tunnel};

/// What an installed decapsulation program does, as the doctor needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdpDecap {
    /// The interface it was installed on, when known.
    pub ifname: Option<String>,
    /// Whether it is attached (not when its interface went away, or an install failed).
    pub attached: bool,
    /// The outer destination addresses it decapsulates for.
    pub addrs: Vec<Ipv4Addr>,
    /// IPIP.
    pub ipip: bool,
    /// GRE.
    pub gre: bool,
    /// GUE ports.
    pub gue_ports: Vec<u16>,
}

impl XdpDecap {
    /// The program wanted for `tunnel` to `addrs`.
    pub fn wanted(tunnel: Tunnel, addrs: Vec<Ipv4Addr>) -> XdpDecap {
        XdpDecap {
            ifname: None,
            attached: true,
            addrs,
            ipip: matches!(tunnel, Tunnel::Ipip),
            gre: matches!(tunnel, Tunnel::Gre),
            gue_ports: match tunnel {
                Tunnel::Gue { port } => vec![port.get()],
                _ => Vec::new(),
            },
        }
    }

    /// Whether `self` (installed) does what `wanted` asks.
    pub fn serves(&self, wanted: &XdpDecap) -> bool {
        self.ipip == wanted.ipip
            && self.gre == wanted.gre
            && self.gue_ports == wanted.gue_ports
            && sorted(&self.addrs) == sorted(&wanted.addrs)
    }
}

fn sorted(addrs: &[Ipv4Addr]) -> Vec<Ipv4Addr> {
    let mut v = addrs.to_vec();
    v.sort();
    v.dedup();
    v
}

impl From<DecapStatus> for XdpDecap {
    fn from(status: DecapStatus) -> Self {
        XdpDecap {
            ifname: Some(status.interface),
            attached: matches!(status.link, LinkState::Attached { .. }),
            addrs: status.spec.addrs,
            ipip: status.spec.ipip,
            gre: status.spec.gre,
            gue_ports: status.spec.gue_ports,
        }
    }
}

/// Loads the program, attaches it to `ifname` and pins it (link and maps) in `pin_dir`, where
/// it keeps working after `rvs` exits. Replaces an earlier install in the same directory.
/// Returns the attach mode used (`native` or `generic`).
pub fn install(
    ifname: &IfName,
    mode: AttachMode,
    pin_dir: &Path,
    wanted: &XdpDecap,
) -> Result<AttachMode> {
    let spec = DecapSpec {
        addrs: wanted.addrs.clone(),
        ipip: wanted.ipip,
        gre: wanted.gre,
        gue_ports: wanted.gue_ports.clone(),
    };
    let done =
        rvs_dataplane::decap::install_pinned(ifname.as_str(), mode, &reachable(pin_dir)?, &spec)
            .with_context(|| {
                format!(
                    "attaching the XDP decapsulation program to {ifname} (pins in {})",
                    pin_dir.display()
                )
            })?;
    Ok(done.mode)
}

/// Detaches and unpins the program pinned in `pin_dir`; `false` when there was none.
pub fn remove(pin_dir: &Path) -> Result<bool> {
    rvs_dataplane::decap::remove_pinned(&reachable(pin_dir)?).with_context(|| {
        format!(
            "removing the XDP decapsulation program pinned in {}",
            pin_dir.display()
        )
    })
}

/// The program pinned in `pin_dir`, if any.
pub fn status(pin_dir: &Path) -> Result<Option<XdpDecap>> {
    let found = rvs_dataplane::decap::status_pinned(&reachable(pin_dir)?).with_context(|| {
        format!(
            "reading the XDP decapsulation program pinned in {}",
            pin_dir.display()
        )
    })?;
    Ok(found.map(XdpDecap::from))
}

/// The machine's BPF filesystem.
const BPFFS: &str = "/sys/fs/bpf";
/// Processes whose root is the machine's: init, else `kthreadd` (process 1 may be out of reach,
/// as in some sandboxes, while kernel threads are not).
const INIT_PROCS: [&str; 2] = ["/proc/1", "/proc/2"];

/// Where `pin_dir` (a path under the machine's `/sys/fs/bpf`, as recorded) is reached from this
/// process. `ip netns exec` runs its command with a private `/sys` that lacks the machine's BPF
/// filesystem: a program pinned in a BPF filesystem mounted there would be detached as soon as
/// `rvs` exits. The machine's one is still there through the root of init (or `kthreadd`).
fn reachable(pin_dir: &Path) -> Result<PathBuf> {
    let private_mounts = INIT_PROCS
        .iter()
        .find_map(|p| same_file(Path::new("/proc/self/ns/mnt"), &Path::new(p).join("ns/mnt")))
        .is_some_and(|same| !same);
    reachable_with(pin_dir, rvs_dataplane::bpffs::is_bpffs, private_mounts)
}

/// Whether two paths are the same file (`None` when either cannot be read).
fn same_file(a: &Path, b: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (std::fs::metadata(a).ok()?, std::fs::metadata(b).ok()?);
    Some((a.dev(), a.ino()) == (b.dev(), b.ino()))
}

fn reachable_with(
    pin_dir: &Path,
    is_bpffs: impl Fn(&Path) -> bool,
    private_mounts: bool,
) -> Result<PathBuf> {
    let Ok(rest) = pin_dir.strip_prefix(BPFFS) else {
        return Ok(pin_dir.to_owned());
    };
    if is_bpffs(Path::new(BPFFS)) {
        return Ok(pin_dir.to_owned());
    }
    for init in INIT_PROCS {
        let via_init = Path::new(init)
            .join("root")
            .join(BPFFS.trim_start_matches('/'));
        if is_bpffs(&via_init) {
            return Ok(via_init.join(rest));
        }
    }
    if private_mounts {
        bail!(
            "{BPFFS} here is not the machine's BPF filesystem (`ip netns exec` gives its command a private \
             /sys), and the machine's cannot be reached: a program pinned now would be detached as soon as \
             rvs exits. Run rvs with only the network namespace switched (nsenter --net=/run/netns/NAME rvs …)"
        );
    }
    // The machine's own /sys without a BPF filesystem yet: the install mounts one, which stays.
    Ok(pin_dir.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wanted_program_follows_the_tunnel() {
        let a: Ipv4Addr = [10, 0, 0, 2].into();
        let ipip = XdpDecap::wanted(Tunnel::Ipip, vec![a]);
        assert!(ipip.ipip && !ipip.gre && ipip.gue_ports.is_empty());
        let port = std::num::NonZeroU16::new(6080).unwrap();
        let gue = XdpDecap::wanted(Tunnel::Gue { port }, vec![a]);
        assert!(!gue.ipip && gue.gue_ports == [6080]);
        assert!(!gue.serves(&ipip));
        let mut installed = XdpDecap::wanted(Tunnel::Gue { port }, vec![a, a]);
        installed.ifname = Some("eth0".into());
        assert!(installed.serves(&gue));
    }

    #[test]
    fn pins_are_reached_through_init_when_sys_is_private() {
        let pin = Path::new("/sys/fs/bpf/rvs/realserver-eth0");
        // The machine's /sys: as is.
        assert_eq!(reachable_with(pin, |_| true, false).unwrap(), pin);
        // `ip netns exec`: /sys/fs/bpf is an empty directory; init (or kthreadd) sees the real one.
        let via_1 = |p: &Path| p.starts_with("/proc/1/root");
        let want = Path::new("/proc/1/root/sys/fs/bpf/rvs/realserver-eth0");
        assert_eq!(reachable_with(pin, via_1, true).unwrap(), want);
        let via_2 = |p: &Path| p.starts_with("/proc/2/root");
        let want = Path::new("/proc/2/root/sys/fs/bpf/rvs/realserver-eth0");
        assert_eq!(reachable_with(pin, via_2, true).unwrap(), want);
        // Out of reach in a private mount namespace: refused, saying what to do.
        let err = reachable_with(pin, |_| false, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nsenter --net"), "{err}");
        // The machine's own /sys without a BPF filesystem: the install mounts one.
        assert_eq!(reachable_with(pin, |_| false, false).unwrap(), pin);
        // Elsewhere (tests): untouched.
        let other = Path::new("/tmp/bpf/rvs/x");
        assert_eq!(reachable_with(other, via_1, true).unwrap(), other);
    }
}
