//! How the director program is attached to an interface.

use std::{fmt, str::FromStr};

/// XDP attach mode, as configured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AttachMode {
    /// Native on drivers that support it, generic on virtual devices (veth: native `XDP_TX` on
    /// veth needs a program on the peer, which a director does not control).
    #[default]
    Auto,
    /// Native (driver) mode only.
    Native,
    /// Generic (skb) mode only.
    Generic,
}

impl AttachMode {
    /// The mode's name as written in configuration.
    pub fn name(self) -> &'static str {
        match self {
            AttachMode::Auto => "auto",
            AttachMode::Native => "native",
            AttachMode::Generic => "generic",
        }
    }
}

impl fmt::Display for AttachMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An attach mode that is not one of `auto`, `native`, `generic`.
#[derive(Debug, thiserror::Error)]
#[error("unknown XDP mode {0:?} (expected auto, native or generic)")]
pub struct UnknownAttachMode(String);

impl FromStr for AttachMode {
    type Err = UnknownAttachMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(AttachMode::Auto),
            "native" | "drv" | "driver" => Ok(AttachMode::Native),
            "generic" | "skb" => Ok(AttachMode::Generic),
            other => Err(UnknownAttachMode(other.to_string())),
        }
    }
}

/// Drivers of virtual devices on which `auto` chooses generic mode.
const GENERIC_DRIVERS: &[&str] = &["veth", "bridge", "dummy", "tun", "macvlan", "ipvlan", "vxlan"];

/// Whether `auto` should try native mode first on a device with this driver.
pub fn auto_prefers_native(driver: Option<&str>) -> bool {
    match driver {
        Some(d) => !GENERIC_DRIVERS.contains(&d),
        None => false,
    }
}

/// The kernel driver of an interface in the current network namespace (`ETHTOOL_GDRVINFO`).
pub fn driver_name(ifname: &str) -> Option<String> {
    const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;
    #[repr(C)]
    struct DrvInfo {
        cmd: u32,
        driver: [u8; 32],
        version: [u8; 32],
        fw_version: [u8; 32],
        bus_info: [u8; 32],
        erom_version: [u8; 32],
        reserved2: [u8; 12],
        n_priv_flags: u32,
        n_stats: u32,
        testinfo_len: u32,
        eedump_len: u32,
        regdump_len: u32,
    }
    let name = ifname.as_bytes();
    if name.len() >= libc::IFNAMSIZ {
        return None;
    }
    // SAFETY: zeroed plain-data structs filled by the kernel.
    let mut info: DrvInfo = unsafe { std::mem::zeroed() };
    info.cmd = ETHTOOL_GDRVINFO;
    // SAFETY: as above.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name) {
        *dst = *src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&mut info as *mut DrvInfo).cast();
    // SAFETY: a datagram socket only used for the ioctl and closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: SIOCETHTOOL with a valid ifreq pointing at a valid ethtool_drvinfo.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCETHTOOL, &mut ifr) };
    // SAFETY: closing the socket we opened.
    unsafe { libc::close(fd) };
    if rc != 0 {
        return None;
    }
    let len = info.driver.iter().position(|&b| b == 0).unwrap_or(info.driver.len());
    std::str::from_utf8(&info.driver[..len]).ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes_and_aliases() {
        assert_eq!("auto".parse::<AttachMode>().ok(), Some(AttachMode::Auto));
        assert_eq!("skb".parse::<AttachMode>().ok(), Some(AttachMode::Generic));
        assert_eq!("drv".parse::<AttachMode>().ok(), Some(AttachMode::Native));
        assert!("fast".parse::<AttachMode>().is_err());
    }

    #[test]
    fn auto_uses_generic_on_virtual_devices() {
        assert!(!auto_prefers_native(Some("veth")));
        assert!(!auto_prefers_native(None));
        assert!(auto_prefers_native(Some("ixgbe")));
    }

    #[test]
    fn loopback_has_no_ethtool_driver_or_a_named_one() {
        // `lo` answers ETHTOOL_GDRVINFO with an empty or absent driver; it must not crash.
        let _ = driver_name("lo");
        assert_eq!(driver_name("this-name-is-far-too-long-for-linux"), None);
    }
}
