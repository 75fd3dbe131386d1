//! Installing the decapsulation program into a pin directory, replacing an earlier install,
//! reading it back and taking it down (see the parent module for the layout of an install).

use std::{
    io,
    path::{Path, PathBuf},
};

use aya::programs::{ProgramError, Xdp, XdpMode, links::FdLink, links::PinnedLink, xdp::XdpLink};

use super::{
    DecapInstall, DecapProgram, DecapSpec, DecapStatus, LinkState, Replaced, link,
    maps::{DecapMaps, MAP_NAMES},
    pin_err, xdp_mut,
};
use crate::{
    attach::{AttachMode, auto_prefers_native, driver_name},
    bpffs,
    decap_abi::{RVS_DECAP_ABI_VERSION, RVS_DECAP_IFNAMSIZ, RVS_DECAP_MODE_GENERIC, RVS_DECAP_MODE_NATIVE, RvsDecapConfig},
    error::DataplaneError,
};

/// File name of the pinned link in an install's directory.
const LINK_PIN: &str = "link";
/// Where a BPF filesystem is mounted when an install directory is under it and none is.
const DEFAULT_BPFFS: &str = "/sys/fs/bpf";

/// Loads the decap program, configures it, attaches it to `ifname` (mode as in `AttachMode`) and
/// pins the link and maps under `pin_dir`, so it keeps working after this process exits.
/// Replaces an earlier install in the same dir.
///
/// `ifname` is looked up in the calling thread's network namespace. A BPF filesystem is mounted
/// at `/sys/fs/bpf` when `pin_dir` lies under it and none is mounted.
///
/// # Errors
///
/// `NoSuchInterface`; `Bpffs` when `pin_dir` is on no BPF filesystem; `Attach` when the kernel
/// refuses the mode (or attached through netlink, which cannot be pinned); load, map and pin
/// failures. When nothing stays attached from `pin_dir`, a failed install removes what it created.
pub fn install_pinned(
    ifname: &str,
    mode: AttachMode,
    pin_dir: &Path,
    spec: &DecapSpec,
) -> Result<DecapInstall, DataplaneError> {
    let ifindex = link::ifindex(ifname)
        .filter(|_| ifname.len() < RVS_DECAP_IFNAMSIZ)
        .ok_or_else(|| DataplaneError::NoSuchInterface(ifname.to_string()))?;
    ensure_bpffs_for(pin_dir)?;
    let netns_ino = link::netns_ino().map_err(pin_err(pin_dir))?;
    let plan = plan_replacement(pin_dir, ifindex, netns_ino, mode)?;
    let replaced = match &plan {
        Plan::Fresh => Replaced::Nothing,
        Plan::Swap { .. } => Replaced::InPlace,
        Plan::Reattach => Replaced::Reattached,
    };
    let result = install(ifname, ifindex, netns_ino, mode, pin_dir, spec, plan);
    if result.is_err() && !pin_dir.join(LINK_PIN).exists() {
        // Nothing runs from this directory: leave nothing behind either.
        if let Err(e) = remove_pinned(pin_dir) {
            tracing::warn!(path = %pin_dir.display(), error = %e, "could not clean up a failed decap install");
        }
    }
    let (mode, link_id, program_id) = result?;
    tracing::info!(interface = ifname, %mode, link_id, program_id, ?replaced, "decap program installed");
    Ok(DecapInstall { interface: ifname.to_string(), ifindex, mode, link_id, program_id, replaced })
}

/// What to do with an earlier install in the directory.
enum Plan {
    /// Nothing there (or it was removed): load, attach and pin.
    Fresh,
    /// Same ABI, interface, namespace and a compatible mode: reuse the maps and swap the program
    /// on this link.
    Swap { link: PinnedLink, mode: AttachMode },
    /// Same ABI elsewhere: the old link is detached and unpinned, the maps are reused.
    Reattach,
}

fn plan_replacement(pin_dir: &Path, ifindex: u32, netns_ino: u64, mode: AttachMode) -> Result<Plan, DataplaneError> {
    if !installed(pin_dir) {
        return Ok(Plan::Fresh);
    }
    let config = match DecapMaps::from_pins(pin_dir).and_then(|m| m.config()) {
        Ok(c) if c.abi_version == RVS_DECAP_ABI_VERSION => c,
        other => {
            tracing::info!(path = %pin_dir.display(), found = ?other.map(|c| c.abi_version).ok(),
                "replacing a decap install of another ABI");
            remove_pinned(pin_dir)?;
            return Ok(Plan::Fresh);
        }
    };
    let link_path = pin_dir.join(LINK_PIN);
    let old_mode = mode_from_abi(config.mode);
    let live_here = link::pinned_xdp_link(&link_path).is_ok_and(|l| l.ifindex == ifindex);
    let same_place = live_here && config.ifindex == ifindex && config.netns_ino == netns_ino;
    if let (true, Some(old_mode)) = (same_place, old_mode)
        && (mode == AttachMode::Auto || mode == old_mode)
    {
        let link = PinnedLink::from_pin(&link_path).map_err(|e| pin_err(&link_path)(io::Error::other(e)))?;
        return Ok(Plan::Swap { link, mode: old_mode });
    }
    unpin_link(&link_path)?;
    Ok(Plan::Reattach)
}

/// Loads, configures, attaches and pins; returns the mode used, the link id and the program id.
fn install(
    ifname: &str,
    ifindex: u32,
    netns_ino: u64,
    mode: AttachMode,
    pin_dir: &Path,
    spec: &DecapSpec,
    plan: Plan,
) -> Result<(AttachMode, u32, u32), DataplaneError> {
    let mut program = DecapProgram::load(pin_dir, spec)?;
    let link_path = pin_dir.join(LINK_PIN);
    let prog = xdp_mut(&mut program.ebpf)?;
    let used = match plan {
        Plan::Swap { link, mode } => {
            let link = XdpLink::try_from(FdLink::from(link)).map_err(|e| attach_err(ifname, mode, io::Error::other(e)))?;
            let id = prog.attach_to_link(link).map_err(|source| DataplaneError::Attach {
                interface: ifname.to_string(),
                mode: mode.name(),
                source,
            })?;
            // The pin keeps the link; our descriptor of it can go.
            drop(prog.take_link(id));
            mode
        }
        Plan::Fresh | Plan::Reattach => {
            let (used, link) = attach(prog, ifname, mode)?;
            let fd_link = FdLink::try_from(link).map_err(|_| {
                attach_err(
                    ifname,
                    used,
                    io::Error::new(
                        io::ErrorKind::Unsupported,
                        format!(
                            "the kernel attached through netlink, not a bpf_link, which cannot be pinned \
                             (Linux >= 5.9 needed); detach it with `ip link set dev {ifname} xdp off`"
                        ),
                    ),
                )
            })?;
            // Dropping the pinned handle closes our descriptor; the pin keeps the link attached.
            drop(fd_link.pin(&link_path).map_err(|e| pin_err(&link_path)(io::Error::other(e)))?);
            used
        }
    };

    let mut config = program.maps.config()?;
    config.ifindex = ifindex;
    config.mode = if used == AttachMode::Native { RVS_DECAP_MODE_NATIVE } else { RVS_DECAP_MODE_GENERIC };
    config.ifname = ifname_bytes(ifname);
    config.netns_ino = netns_ino;
    program.maps.set_config(&config)?;

    let state = link::pinned_xdp_link(&link_path).map_err(pin_err(&link_path))?;
    Ok((used, state.link_id, state.prog_id))
}

fn attach_err(interface: &str, mode: AttachMode, e: io::Error) -> DataplaneError {
    DataplaneError::Attach { interface: interface.to_string(), mode: mode.name(), source: ProgramError::IOError(e) }
}

/// Attaches in `mode`, trying native then generic for `Auto` on drivers that prefer native.
fn attach(prog: &mut Xdp, ifname: &str, mode: AttachMode) -> Result<(AttachMode, XdpLink), DataplaneError> {
    let tries: &[AttachMode] = match mode {
        AttachMode::Auto if auto_prefers_native(driver_name(ifname).as_deref()) => {
            &[AttachMode::Native, AttachMode::Generic]
        }
        AttachMode::Auto | AttachMode::Generic => &[AttachMode::Generic],
        AttachMode::Native => &[AttachMode::Native],
    };
    let mut last = None;
    for &m in tries {
        let xdp_mode = if m == AttachMode::Native { XdpMode::Driver } else { XdpMode::Skb };
        match prog.attach(ifname, xdp_mode) {
            Ok(id) => {
                let link = prog.take_link(id).map_err(|source| DataplaneError::Attach {
                    interface: ifname.to_string(),
                    mode: m.name(),
                    source,
                })?;
                return Ok((m, link));
            }
            Err(ProgramError::UnknownInterface { name }) => return Err(DataplaneError::NoSuchInterface(name)),
            Err(source) => {
                tracing::debug!(interface = ifname, mode = %m, error = %source, "decap attach failed");
                last = Some(DataplaneError::Attach { interface: ifname.to_string(), mode: m.name(), source });
            }
        }
    }
    Err(last.unwrap_or_else(|| DataplaneError::NoSuchInterface(ifname.to_string())))
}

/// Detaches and removes everything under `pin_dir`; Ok(false) if nothing was installed there.
///
/// The link is detached synchronously (`BPF_LINK_DETACH`) before its pin goes. Only the
/// install's own files are removed, then the directory if that leaves it empty.
///
/// # Errors
///
/// A pin cannot be removed.
pub fn remove_pinned(pin_dir: &Path) -> Result<bool, DataplaneError> {
    if !installed(pin_dir) {
        return Ok(false);
    }
    unpin_link(&pin_dir.join(LINK_PIN))?;
    for name in MAP_NAMES {
        remove_if_present(&pin_dir.join(name))?;
    }
    match std::fs::remove_dir(pin_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %pin_dir.display(), error = %e, "left the pin directory in place"),
    }
    Ok(true)
}

/// What is installed under `pin_dir` (interface, mode, spec, counters), if anything.
///
/// # Errors
///
/// `AbiMismatch` for an install of another rvs version; a pinned map or link cannot be read.
pub fn status_pinned(pin_dir: &Path) -> Result<Option<DecapStatus>, DataplaneError> {
    if !installed(pin_dir) {
        return Ok(None);
    }
    let maps = DecapMaps::from_pins(pin_dir)?;
    let config = maps.config()?;
    if config.abi_version != RVS_DECAP_ABI_VERSION {
        return Err(DataplaneError::AbiMismatch {
            path: pin_dir.to_owned(),
            found: config.abi_version,
            expected: RVS_DECAP_ABI_VERSION,
        });
    }
    let link_path = pin_dir.join(LINK_PIN);
    let link = match link::pinned_xdp_link(&link_path) {
        Ok(l) if l.ifindex != 0 => LinkState::Attached { link_id: l.link_id, program_id: l.prog_id },
        Ok(l) => LinkState::Defunct { link_id: l.link_id },
        Err(e) if e.kind() == io::ErrorKind::NotFound => LinkState::Missing,
        Err(e) => return Err(pin_err(&link_path)(e)),
    };
    Ok(Some(DecapStatus {
        interface: ifname_string(&config),
        ifindex: config.ifindex,
        mode: mode_from_abi(config.mode),
        spec: maps.read_spec()?,
        link,
        counters: maps.counters()?,
    }))
}

/// Whether any file of an install is in `pin_dir`.
fn installed(pin_dir: &Path) -> bool {
    pin_dir.join(LINK_PIN).exists() || MAP_NAMES.iter().any(|n| pin_dir.join(n).exists())
}

/// Detaches the link pinned at `path` synchronously, then removes the pin.
fn unpin_link(path: &Path) -> Result<(), DataplaneError> {
    match link::detach_pinned(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        // Not a link (or unreadable): removing the pin is all that can be done.
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not detach the pinned link"),
    }
    remove_if_present(path)
}

fn remove_if_present(path: &Path) -> Result<(), DataplaneError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(pin_err(path)(e)),
        _ => Ok(()),
    }
}

/// Makes sure `pin_dir` is on a BPF filesystem: one of its ancestors is one, or it lies under
/// `/sys/fs/bpf` and one is mounted there.
fn ensure_bpffs_for(pin_dir: &Path) -> Result<(), DataplaneError> {
    if pin_dir.ancestors().any(bpffs::is_bpffs) {
        return Ok(());
    }
    let default = Path::new(DEFAULT_BPFFS);
    if pin_dir.starts_with(default) {
        bpffs::ensure_bpffs(default)?;
        tracing::warn!(path = DEFAULT_BPFFS, "mounted a BPF filesystem: if this mount namespace is private \
            (ip netns exec), the decap program is detached when its last process exits");
        return Ok(());
    }
    Err(DataplaneError::Bpffs {
        path: pin_dir.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "not on a BPF filesystem"),
    })
}

fn mode_from_abi(mode: u32) -> Option<AttachMode> {
    match mode {
        RVS_DECAP_MODE_NATIVE => Some(AttachMode::Native),
        RVS_DECAP_MODE_GENERIC => Some(AttachMode::Generic),
        _ => None,
    }
}

fn ifname_bytes(name: &str) -> [u8; RVS_DECAP_IFNAMSIZ] {
    let mut out = [0u8; RVS_DECAP_IFNAMSIZ];
    for (dst, src) in out.iter_mut().zip(name.bytes().take(RVS_DECAP_IFNAMSIZ - 1)) {
        *dst = src;
    }
    out
}

fn ifname_string(config: &RvsDecapConfig) -> String {
    let len = config.ifname.iter().position(|&b| b == 0).unwrap_or(config.ifname.len());
    String::from_utf8_lossy(&config.ifname[..len]).into_owned()
}

/// The pin directory `rvs realserver` should use for an interface: one install per interface of
/// a network namespace (the namespace's inode keeps lab hosts sharing a BPF filesystem apart).
pub fn default_pin_dir(bpffs_root: &Path, ifname: &str) -> Result<PathBuf, DataplaneError> {
    let ino = link::netns_ino().map_err(pin_err(bpffs_root))?;
    Ok(bpffs_root.join("rvs").join(format!("decap-{ino}-{ifname}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_round_trip_through_the_config() {
        let config = RvsDecapConfig { ifname: ifname_bytes("eth0"), ..Default::default() };
        assert_eq!(ifname_string(&config), "eth0");
        let long = RvsDecapConfig { ifname: ifname_bytes("a-name-longer-than-ifnamsiz"), ..Default::default() };
        assert_eq!(ifname_string(&long).len(), RVS_DECAP_IFNAMSIZ - 1);
    }

    #[test]
    fn modes_round_trip_and_unattached_has_none() {
        assert_eq!(mode_from_abi(RVS_DECAP_MODE_NATIVE), Some(AttachMode::Native));
        assert_eq!(mode_from_abi(RVS_DECAP_MODE_GENERIC), Some(AttachMode::Generic));
        assert_eq!(mode_from_abi(0), None);
    }

    #[test]
    fn an_empty_directory_holds_no_install() {
        let dir = std::env::temp_dir().join(format!("rvs-decap-unit-{}", std::process::id()));
        assert!(!installed(&dir));
        assert!(matches!(remove_pinned(&dir), Ok(false)));
        assert!(matches!(status_pinned(&dir), Ok(None)));
    }

    #[test]
    fn a_directory_off_any_bpf_filesystem_is_refused() {
        assert!(matches!(ensure_bpffs_for(Path::new("/tmp/rvs-not-bpffs")), Err(DataplaneError::Bpffs { .. })));
    }

    #[test]
    fn default_pin_dirs_name_the_interface_and_namespace() {
        let dir = default_pin_dir(Path::new("/sys/fs/bpf"), "eth0").ok();
        let name = dir.as_ref().and_then(|d| d.file_name()).and_then(|n| n.to_str()).map(str::to_string);
        assert!(name.is_some_and(|n| n.starts_with("decap-") && n.ends_with("-eth0")));
        assert!(dir.is_some_and(|d| d.starts_with("/sys/fs/bpf/rvs")));
    }
}
