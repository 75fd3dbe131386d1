//! `BPF_MAP_LOOKUP_BATCH` on hash maps (aya 0.14 has no batch operations): reads a map in chunks
//! of whole buckets, each chunk one syscall, so a large table is read without one syscall per
//! entry and without holding the CPU for the whole table at once.

use std::{io, marker::PhantomData, os::fd::{AsRawFd, BorrowedFd}};

use aya::Pod;

const BPF_MAP_LOOKUP_BATCH: libc::c_long = 24;

/// The `batch` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// A position in a hash map's buckets, carried from one chunk to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchCursor {
    /// Bucket to start from; `None` at the beginning of a pass.
    bucket: Option<u32>,
}

impl BatchCursor {
    /// The start of a pass over the map.
    pub const START: BatchCursor = BatchCursor { bucket: None };

    /// Whether this cursor is at the start of a pass.
    pub fn at_start(&self) -> bool {
        self.bucket.is_none()
    }
}

/// Reads up to `max` entries of a hash map from `cursor`; returns them and the cursor to go on
/// from, which is `START` again once the pass reached the end.
pub struct HashBatch<K: Pod, V: Pod> {
    keys: Vec<K>,
    values: Vec<V>,
    _kv: PhantomData<(K, V)>,
}

impl<K: Pod + Default, V: Pod + Default> HashBatch<K, V> {
    /// Buffers for chunks of `max` entries.
    pub fn with_capacity(max: usize) -> Self {
        Self { keys: vec![K::default(); max], values: vec![V::default(); max], _kv: PhantomData }
    }

    /// Reads the next chunk into the buffers; returns the entries read and the next cursor.
    pub fn read(&mut self, map: BorrowedFd<'_>, cursor: BatchCursor) -> io::Result<(usize, BatchCursor)> {
        let mut in_batch: u32 = cursor.bucket.unwrap_or(0);
        let mut out_batch: u32 = 0;
        let mut attr = BatchAttr {
            in_batch: if cursor.bucket.is_some() { (&raw mut in_batch) as u64 } else { 0 },
            out_batch: (&raw mut out_batch) as u64,
            keys: self.keys.as_mut_ptr() as u64,
            values: self.values.as_mut_ptr() as u64,
            count: u32::try_from(self.keys.len()).unwrap_or(u32::MAX),
            map_fd: u32::try_from(map.as_raw_fd()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
            ..Default::default()
        };
        // SAFETY: BPF_MAP_LOOKUP_BATCH with an attribute that points at buffers of `count`
        // keys and values of the map's sizes, and at u32 batch tokens (hash maps use a bucket
        // index), all alive for the call.
        let rc = unsafe {
            libc::syscall(libc::SYS_bpf, BPF_MAP_LOOKUP_BATCH, &raw mut attr, size_of::<BatchAttr>())
        };
        let n = attr.count as usize;
        if rc == 0 {
            return Ok((n, BatchCursor { bucket: Some(out_batch) }));
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ENOENT) {
            // The end of the map: `n` entries (possibly none) were still read.
            return Ok((n, BatchCursor::START));
        }
        Err(err)
    }

    /// The keys of the last chunk.
    pub fn keys(&self) -> &[K] {
        &self.keys
    }

    /// The values of the last chunk.
    pub fn values(&self) -> &[V] {
        &self.values
    }
}
