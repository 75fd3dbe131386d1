//! Shared-memory views of BPF array maps created with `BPF_F_MMAPABLE`.
//!
//! The daemon reads counters and writes single aligned fields with atomic operations through these
//! views, so it never takes a syscall per element and the program never sees a torn value.

use std::{
    io,
    marker::PhantomData,
    os::fd::{AsFd, AsRawFd},
    ptr::NonNull,
    sync::atomic::{AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering},
};

/// An mmap of an array map whose values are `T`.
///
/// The kernel lays array elements out `round_up(value_size, 8)` bytes apart; `stride` follows it.
pub struct MmapArray<T> {
    base: NonNull<u8>,
    bytes: usize,
    stride: usize,
    entries: u32,
    _values: PhantomData<T>,
}

// SAFETY: the mapping is plain shared memory; all access goes through raw pointers and atomics.
unsafe impl<T> Send for MmapArray<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for MmapArray<T> {}

impl<T> MmapArray<T> {
    /// Maps `entries` elements of the array map behind `fd`.
    pub fn new(fd: impl AsFd, entries: u32) -> io::Result<Self> {
        let stride = size_of::<T>().next_multiple_of(8);
        let bytes = (stride * entries as usize).next_multiple_of(page_size());
        // SAFETY: mapping a BPF map fd; the kernel validates size and flags.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_fd().as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned NULL"))?;
        Ok(Self { base, bytes, stride, entries, _values: PhantomData })
    }

    /// Number of elements.
    pub fn len(&self) -> u32 {
        self.entries
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Pointer to element `index`, or `None` past the end.
    pub fn get(&self, index: u32) -> Option<*mut T> {
        if index >= self.entries {
            return None;
        }
        // SAFETY: index < entries, so the offset stays inside the mapping.
        Some(unsafe { self.base.as_ptr().add(index as usize * self.stride) }.cast::<T>())
    }
}

impl<T> Drop for MmapArray<T> {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.bytes) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

impl<T> MmapArray<T> {
    /// Atomic view of a `u32` field of element `index`, chosen by `field`.
    pub fn atomic_u32(&self, index: u32, field: impl FnOnce(*mut T) -> *mut u32) -> Option<&AtomicU32> {
        let p = field(self.get(index)?);
        // SAFETY: `field` projects to a u32 inside the element; elements are 8-byte aligned and
        // the field offset keeps u32 alignment (repr(C)); the mapping lives as long as `self`.
        Some(unsafe { AtomicU32::from_ptr(p) })
    }

    /// Atomic view of an `i32` field of element `index`.
    pub fn atomic_i32(&self, index: u32, field: impl FnOnce(*mut T) -> *mut i32) -> Option<&AtomicI32> {
        let p = field(self.get(index)?);
        // SAFETY: as in `atomic_u32`.
        Some(unsafe { AtomicI32::from_ptr(p) })
    }

    /// Atomic view of a `u64` field of element `index`.
    pub fn atomic_u64(&self, index: u32, field: impl FnOnce(*mut T) -> *mut u64) -> Option<&AtomicU64> {
        let p = field(self.get(index)?);
        // SAFETY: as in `atomic_u32`, with 8-byte alignment for u64 fields of repr(C) elements.
        Some(unsafe { AtomicU64::from_ptr(p) })
    }

    /// Atomic view of a `u8` field of element `index`.
    pub fn atomic_u8(&self, index: u32, field: impl FnOnce(*mut T) -> *mut u8) -> Option<&AtomicU8> {
        let p = field(self.get(index)?);
        // SAFETY: as in `atomic_u32`; bytes need no alignment.
        Some(unsafe { AtomicU8::from_ptr(p) })
    }
}

impl<T: Copy> MmapArray<T> {
    /// Copies element `index` out (fields may be mid-update individually, never torn).
    pub fn read(&self, index: u32) -> Option<T> {
        // SAFETY: the pointer is in bounds; a volatile read of plain data.
        self.get(index).map(|p| unsafe { std::ptr::read_volatile(p) })
    }

    /// Overwrites element `index` whole. Only for elements no program can reach yet (a slot not
    /// referenced by any service), since the copy is not atomic.
    pub fn write_unpublished(&self, index: u32, value: T) -> bool {
        match self.get(index) {
            Some(p) => {
                // SAFETY: in bounds; no concurrent reader by the caller's contract.
                unsafe { std::ptr::write_volatile(p, value) };
                std::sync::atomic::fence(Ordering::Release);
                true
            }
            None => false,
        }
    }
}
