//! What the kernel says about a pinned XDP link, and the identities an install is tied to
//! (interface index, network namespace).
//!
//! aya 0.14's `LinkInfo` exposes neither the file descriptor of a pinned link nor the interface an
//! XDP link is bound to, so the two `bpf(2)` commands needed are issued here directly.

use std::{
    ffi::CString,
    io,
    os::{
        fd::{FromRawFd, OwnedFd},
        unix::{ffi::OsStrExt, fs::MetadataExt},
    },
    path::Path,
};

const BPF_OBJ_GET: libc::c_long = 7;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_LINK_DETACH: libc::c_long = 34;

/// `union bpf_attr` for `BPF_OBJ_GET`.
#[repr(C)]
#[derive(Default)]
struct ObjGetAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
    path_fd: i32,
    pad: u32,
}

/// `union bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// What a pinned XDP link is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct XdpLinkState {
    /// The link's id.
    pub link_id: u32,
    /// The program it runs.
    pub prog_id: u32,
    /// The interface it is attached to; 0 once the interface is gone (the link is defunct).
    pub ifindex: u32,
}

fn bpf(cmd: libc::c_long, attr: *mut libc::c_void, size: usize) -> io::Result<libc::c_long> {
    // SAFETY: `attr` points at a live, zero-initialised `bpf_attr` prefix of `size` bytes that
    // stays valid for the duration of the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr, size) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(rc) }
}

/// A new descriptor of the object pinned at `path`.
fn obj_get(path: &Path) -> io::Result<OwnedFd> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut get = ObjGetAttr { pathname: c_path.as_ptr() as u64, ..Default::default() };
    let fd = bpf(BPF_OBJ_GET, (&raw mut get).cast(), size_of::<ObjGetAttr>())?;
    let fd = i32::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: BPF_OBJ_GET returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Detaches the link pinned at `path` from its interface now; the pin stays (a defunct link).
///
/// Removing the pin alone is not enough before attaching again: the pin's reference is dropped
/// after an RCU grace period and the link freed from a workqueue, so an attach that follows at
/// once would find the interface still busy.
pub(crate) fn detach_pinned(path: &Path) -> io::Result<()> {
    let fd = obj_get(path)?;
    // `union bpf_attr` for BPF_LINK_DETACH: the link's descriptor first.
    let mut attr = [0u32; 4];
    attr[0] = std::os::fd::AsRawFd::as_raw_fd(&fd) as u32;
    match bpf(BPF_LINK_DETACH, attr.as_mut_ptr().cast(), size_of_val(&attr)) {
        // Already defunct: its interface went away.
        Err(e) if e.raw_os_error() == Some(libc::ENOLINK) => Ok(()),
        other => other.map(drop),
    }
}

/// Reads the state of the link pinned at `path`.
pub(crate) fn pinned_xdp_link(path: &Path) -> io::Result<XdpLinkState> {
    let fd = obj_get(path)?;

    // `struct bpf_link_info`: type, id, prog_id, then (8-aligned, at byte 16) the per-type
    // union, whose XDP member is the interface index. The kernel accepts a larger zeroed buffer.
    let mut info = [0u32; 64];
    let mut attr = InfoAttr {
        bpf_fd: std::os::fd::AsRawFd::as_raw_fd(&fd) as u32,
        info_len: size_of_val(&info) as u32,
        info: info.as_mut_ptr() as u64,
    };
    bpf(BPF_OBJ_GET_INFO_BY_FD, (&raw mut attr).cast(), size_of::<InfoAttr>())?;
    const BPF_LINK_TYPE_XDP: u32 = 6;
    if info[0] != BPF_LINK_TYPE_XDP {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{} is not an XDP link", path.display())));
    }
    Ok(XdpLinkState { link_id: info[1], prog_id: info[2], ifindex: info[4] })
}

/// The index of interface `name` in the calling thread's network namespace.
pub(crate) fn ifindex(name: &str) -> Option<u32> {
    let c_name = CString::new(name).ok()?;
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    (index != 0).then_some(index)
}

/// The inode of the calling thread's network namespace (what `ip netns identify` compares).
pub(crate) fn netns_ino() -> io::Result<u64> {
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_have_the_kernel_layout() {
        assert_eq!(std::mem::offset_of!(ObjGetAttr, bpf_fd), 8);
        assert_eq!(std::mem::offset_of!(ObjGetAttr, path_fd), 16);
        assert_eq!(std::mem::offset_of!(InfoAttr, info), 8);
    }

    #[test]
    fn loopback_is_index_one_and_nonsense_is_absent() {
        assert_eq!(ifindex("lo"), Some(1));
        assert_eq!(ifindex("no-such-if-rvs"), None);
        assert_eq!(ifindex("nul\0inside"), None);
    }

    #[test]
    fn a_missing_pin_is_not_found() {
        let err = pinned_xdp_link(Path::new("/sys/fs/bpf/rvs-no-such-link-for-tests")).err();
        assert!(err.is_some());
    }

    #[test]
    fn the_network_namespace_has_an_inode() {
        assert!(netns_ino().is_ok_and(|ino| ino != 0));
    }
}
