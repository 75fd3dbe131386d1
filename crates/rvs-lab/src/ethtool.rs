//! Interface offloads that change what XDP sees, set through the ethtool ioctl (no `ethtool`
//! binary needed).
//!
//! Why the lab cares: a veth sends TCP segments with only a partial checksum
//! (CHECKSUM_PARTIAL), trusting the receiver to know. A native-mode XDP program that bounces
//! such a frame with XDP_TX loses that knowledge, and the real server drops the segment as
//! corrupt (`InCsumErrors`). Generic-mode XDP keeps the skb and is not affected. Tests of
//! native XDP on veth therefore switch TX checksum offload off on the sending hosts.

use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::{LabError, Result};
use crate::host::Host;
use crate::names::IfName;

/// `ETHTOOL_GTXCSUM`: read TX checksum offload.
const ETHTOOL_GTXCSUM: u32 = 0x16;
/// `ETHTOOL_STXCSUM`: set TX checksum offload.
const ETHTOOL_STXCSUM: u32 = 0x17;

/// `struct ethtool_value` from `<linux/ethtool.h>`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

impl Host {
    /// Turns TX checksum offload of interface `ifname` on or off (`ethtool -K <if> tx on|off`).
    pub fn set_tx_checksum_offload(&self, ifname: &str, on: bool) -> Result<()> {
        let ifname = IfName::new(ifname)?;
        let context = format!("[{}] setting tx checksum offload of {ifname}", self.netns());
        self.run_in(|| ethtool_value(&ifname, ETHTOOL_STXCSUM, u32::from(on)))?
            .map(drop)
            .map_err(|e| LabError::io(context, e))
    }

    /// Whether TX checksum offload of interface `ifname` is on.
    pub fn tx_checksum_offload(&self, ifname: &str) -> Result<bool> {
        let ifname = IfName::new(ifname)?;
        let context = format!("[{}] reading tx checksum offload of {ifname}", self.netns());
        self.run_in(|| ethtool_value(&ifname, ETHTOOL_GTXCSUM, 0))?
            .map(|value| value != 0)
            .map_err(|e| LabError::io(context, e))
    }
}

/// Runs one `ethtool_value` command on `ifname` in the calling thread's namespace and returns
/// the value the kernel left in the struct.
fn ethtool_value(ifname: &IfName, cmd: u32, data: u32) -> std::io::Result<u32> {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` is a descriptor we just opened and own.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut value = EthtoolValue { cmd, data };
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { mem::zeroed() };
    // IfName guarantees at most 15 bytes, so the name stays NUL-terminated.
    for (slot, byte) in request.ifr_name.iter_mut().zip(ifname.as_str().bytes()) {
        *slot = byte as libc::c_char;
    }
    request.ifr_ifru.ifru_data = (&raw mut value).cast();
    // SAFETY: `request` is initialised and points at `value`, which outlives the call.
    let rc = unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCETHTOOL, &raw mut request) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(value.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_struct_matches_the_kernels() {
        assert_eq!(mem::size_of::<EthtoolValue>(), 8);
    }

    #[test]
    fn reading_works_and_absent_interfaces_fail() {
        let lo = IfName::new("lo").unwrap();
        // Reading works for any interface in our own namespace, as any user.
        assert!(ethtool_value(&lo, ETHTOOL_GTXCSUM, 0).is_ok());
        let absent = IfName::new("rvs-absent0").unwrap();
        assert!(ethtool_value(&absent, ETHTOOL_GTXCSUM, 0).is_err());
    }
}
