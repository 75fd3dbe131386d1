//! The sysctls an LVS lab sets, as values that cannot be out of range.
//!
//! `/proc/sys/net` shows the network namespace of the thread that opens a file there, so the
//! lab reads and writes these files from a thread inside the host's namespace.

use std::fmt;
use std::path::PathBuf;

use crate::error::{LabError, Result};
use crate::names::IfName;

/// `net.ipv4.conf.<if>.arp_ignore`: when to answer an ARP request for a local address.
/// The kernel uses the larger of the `all` value and the interface's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpIgnore {
    /// 0: answer for any local address, on any interface (the default).
    AnyLocal = 0,
    /// 1: answer only if the address is configured on the interface the request came in on.
    /// What LVS-DR real servers use, so that the VIP on `lo` is never answered for.
    TargetOnInterface = 1,
    /// 2: as 1, and the sender must be in the same subnet as that address.
    TargetAndSenderSubnet = 2,
    /// 3: do not answer for addresses of host scope.
    NotHostScope = 3,
    /// 8: answer nothing.
    Never = 8,
}

/// `net.ipv4.conf.<if>.arp_announce`: which source address to put in our own ARP requests.
/// The kernel uses the larger of the `all` value and the interface's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpAnnounce {
    /// 0: any local address (the default).
    Any = 0,
    /// 1: avoid addresses outside the target's subnet.
    AvoidOtherSubnets = 1,
    /// 2: always the best local address for the target. What LVS-DR real servers use, so that
    /// the VIP never appears as an ARP sender address.
    BestLocal = 2,
}

/// `net.ipv4.conf.<if>.rp_filter`: reverse-path source validation. The kernel uses the larger
/// of the `all` value and the interface's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpFilter {
    /// 0: no check.
    Off = 0,
    /// 1: the reply route must leave through the interface the packet came in on.
    Strict = 1,
    /// 2: some route back to the source must exist.
    Loose = 2,
}

/// One sysctl key: a file under `/proc/sys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlKey(PathBuf);

impl SysctlKey {
    /// A key in the dotted form `sysctl` takes (`net.ipv4.ip_forward`). Interface names holding
    /// dots cannot be written this way: use [`SysctlKey::ipv4_conf`].
    pub fn dotted(key: &str) -> Result<Self> {
        let valid = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !valid {
            return Err(LabError::Parse {
                what: "a sysctl key",
                input: key.to_owned(),
            });
        }
        Ok(SysctlKey(
            PathBuf::from("/proc/sys").join(key.replace('.', "/")),
        ))
    }

    /// `net.ipv4.conf.<ifname>.<setting>`; `ifname` may be `all` or `default`.
    pub fn ipv4_conf(ifname: &IfName, setting: &str) -> Self {
        SysctlKey(
            PathBuf::from("/proc/sys/net/ipv4/conf")
                .join(ifname.as_str())
                .join(setting),
        )
    }

    /// `net.ipv4.ip_forward`.
    pub fn ip_forward() -> Self {
        SysctlKey(PathBuf::from("/proc/sys/net/ipv4/ip_forward"))
    }

    /// The file behind the key.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl fmt::Display for SysctlKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())
    }
}

/// Writes `value` to the key's file in the calling thread's namespace.
pub(crate) fn write_here(key: &SysctlKey, value: &str) -> Result<()> {
    std::fs::write(key.path(), value)
        .map_err(|e| LabError::io(format!("writing {value:?} to {key}"), e))
}

/// Reads the key's value (trimmed) in the calling thread's namespace.
pub(crate) fn read_here(key: &SysctlKey) -> Result<String> {
    std::fs::read_to_string(key.path())
        .map(|text| text.trim().to_owned())
        .map_err(|e| LabError::io(format!("reading {key}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_map_to_proc_sys() {
        let key = SysctlKey::dotted("net.ipv4.conf.all.arp_ignore").unwrap();
        assert_eq!(
            key.path(),
            std::path::Path::new("/proc/sys/net/ipv4/conf/all/arp_ignore")
        );
        for bad in ["", "net..ipv4", "net/ipv4", "../etc", "net.ipv4.x y"] {
            assert!(SysctlKey::dotted(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn interface_keys_keep_dots_in_interface_names() {
        let vlan = IfName::new("eth0.100").unwrap();
        let key = SysctlKey::ipv4_conf(&vlan, "rp_filter");
        assert_eq!(
            key.path(),
            std::path::Path::new("/proc/sys/net/ipv4/conf/eth0.100/rp_filter")
        );
    }

    #[test]
    fn values_are_the_kernel_numbers() {
        assert_eq!(ArpIgnore::TargetOnInterface as u8, 1);
        assert_eq!(ArpIgnore::Never as u8, 8);
        assert_eq!(ArpAnnounce::BestLocal as u8, 2);
        assert_eq!(RpFilter::Loose as u8, 2);
    }

    #[test]
    fn our_own_ip_forward_is_readable() {
        let value = read_here(&SysctlKey::ip_forward()).unwrap();
        assert!(value == "0" || value == "1", "{value:?}");
    }
}
