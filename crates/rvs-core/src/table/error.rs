//! The errors the kernel's IPVS control code returns, as a type that keeps their errno.

use serde::{Deserialize, Serialize};

/// An IPVS control error. Each variant is one errno of `ip_vs_ctl.c`/`ip_vs_sync.c`; ipvsadm's
/// `ipvs_strerror()` turns (operation, errno) into its message, so the errno is what matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpvsError {
    /// `EEXIST`: service, destination or sync daemon already there.
    #[error("already exists (EEXIST)")]
    Exists,
    /// `ESRCH`: no such service (or no such sync daemon).
    #[error("no such service (ESRCH)")]
    NoSuchService,
    /// `ENOENT`: unknown scheduler/persistence engine, or no such destination.
    #[error("not found (ENOENT)")]
    NotFound,
    /// `EINVAL`: bad netmask, non-unicast destination, mixed families without tunnel …
    #[error("invalid argument (EINVAL)")]
    Invalid,
    /// `ERANGE`: lower threshold above upper threshold, negative weight.
    #[error("out of range (ERANGE)")]
    OutOfRange,
    /// `ENODEV`: the sync daemon's interface does not exist.
    #[error("no such device (ENODEV)")]
    NoDevice,
    /// `EAFNOSUPPORT`: address family not supported.
    #[error("address family not supported (EAFNOSUPPORT)")]
    AfNotSupported,
    /// `ENOMEM`: an internal limit was reached (id space exhausted).
    #[error("out of memory (ENOMEM)")]
    NoMemory,
    /// `EPERM`: the caller may not change the table.
    #[error("permission denied (EPERM)")]
    PermissionDenied,
}

impl IpvsError {
    /// The Linux errno value.
    pub const fn errno(self) -> i32 {
        match self {
            IpvsError::Exists => 17,
            IpvsError::NoSuchService => 3,
            IpvsError::NotFound => 2,
            IpvsError::Invalid => 22,
            IpvsError::OutOfRange => 34,
            IpvsError::NoDevice => 19,
            IpvsError::AfNotSupported => 97,
            IpvsError::NoMemory => 12,
            IpvsError::PermissionDenied => 1,
        }
    }

    /// The error with this errno value, if the control plane can return it.
    pub const fn from_errno(errno: i32) -> Option<Self> {
        match errno {
            17 => Some(IpvsError::Exists),
            3 => Some(IpvsError::NoSuchService),
            2 => Some(IpvsError::NotFound),
            22 => Some(IpvsError::Invalid),
            34 => Some(IpvsError::OutOfRange),
            19 => Some(IpvsError::NoDevice),
            97 => Some(IpvsError::AfNotSupported),
            12 => Some(IpvsError::NoMemory),
            1 => Some(IpvsError::PermissionDenied),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trip() {
        for e in [
            IpvsError::Exists,
            IpvsError::NoSuchService,
            IpvsError::NotFound,
            IpvsError::Invalid,
            IpvsError::OutOfRange,
            IpvsError::NoDevice,
            IpvsError::AfNotSupported,
            IpvsError::NoMemory,
            IpvsError::PermissionDenied,
        ] {
            assert_eq!(IpvsError::from_errno(e.errno()), Some(e));
        }
        assert_eq!(IpvsError::from_errno(0), None);
        assert_eq!(IpvsError::Exists.errno(), 17);
    }
}
