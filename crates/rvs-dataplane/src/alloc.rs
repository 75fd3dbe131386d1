//! Allocation of regions of the `pool` map (scheduling rings and destination lists).
//!
//! A region that a service stops using may still be read by a program run that started before
//! the service's map entry was replaced, so freed regions wait out a grace period before reuse.
//! Sans-IO: the caller passes the current time.

use std::{collections::BTreeMap, time::Duration};

/// How long a freed region stays untouched: far longer than any program run.
pub const GRACE: Duration = Duration::from_secs(1);

/// A region of the pool: `len` entries from `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First entry.
    pub off: u32,
    /// Number of entries.
    pub len: u32,
}

/// First-fit allocator over `[0, size)` with a grace period on frees.
#[derive(Debug)]
pub struct RegionAllocator {
    /// Free ranges by offset (coalesced).
    free: BTreeMap<u32, u32>,
    /// Freed ranges waiting out the grace period, with the time they were freed.
    cooling: Vec<(Region, Duration)>,
}

impl RegionAllocator {
    /// An allocator over `size` entries, all free.
    pub fn new(size: u32) -> Self {
        let mut free = BTreeMap::new();
        if size > 0 {
            free.insert(0, size);
        }
        Self { free, cooling: Vec::new() }
    }

    /// A region of `len` entries, or `None` when no free range is large enough. `len` 0 gives an
    /// empty region at offset 0 that needs no freeing.
    pub fn alloc(&mut self, len: u32, now: Duration) -> Option<Region> {
        if len == 0 {
            return Some(Region { off: 0, len: 0 });
        }
        self.settle(now);
        let (&off, &avail) = self.free.iter().find(|&(_, &avail)| avail >= len)?;
        self.free.remove(&off);
        if avail > len {
            self.free.insert(off + len, avail - len);
        }
        Some(Region { off, len })
    }

    /// Returns a region; it becomes allocatable `GRACE` after `now`.
    pub fn release(&mut self, region: Region, now: Duration) {
        if region.len > 0 {
            self.cooling.push((region, now));
        }
    }

    /// Entries free right now (not counting cooling ones).
    pub fn free_entries(&self) -> u64 {
        self.free.values().map(|&l| u64::from(l)).sum()
    }

    fn settle(&mut self, now: Duration) {
        let (ready, waiting): (Vec<_>, Vec<_>) =
            self.cooling.drain(..).partition(|&(_, at)| now.saturating_sub(at) >= GRACE);
        self.cooling = waiting;
        for (region, _) in ready {
            self.insert_free(region);
        }
    }

    fn insert_free(&mut self, Region { mut off, mut len }: Region) {
        if let Some((&prev_off, &prev_len)) = self.free.range(..off).next_back()
            && prev_off + prev_len == off {
                self.free.remove(&prev_off);
                off = prev_off;
                len += prev_len;
            }
        if let Some(&next_len) = self.free.get(&(off + len)) {
            self.free.remove(&(off + len));
            len += next_len;
        }
        self.free.insert(off, len);
    }
}

/// Allocation of numbered slots (neighbours) with the same grace period on frees.
#[derive(Debug)]
pub struct SlotAllocator {
    next: u32,
    max: u32,
    free: Vec<u32>,
    cooling: Vec<(u32, Duration)>,
}

impl SlotAllocator {
    /// Slots `[first, max)`.
    pub fn new(first: u32, max: u32) -> Self {
        Self { next: first, max, free: Vec::new(), cooling: Vec::new() }
    }

    /// A free slot, or `None` when all are in use.
    pub fn alloc(&mut self, now: Duration) -> Option<u32> {
        let (ready, waiting): (Vec<_>, Vec<_>) =
            self.cooling.drain(..).partition(|&(_, at)| now.saturating_sub(at) >= GRACE);
        self.cooling = waiting;
        self.free.extend(ready.into_iter().map(|(s, _)| s));
        if let Some(slot) = self.free.pop() {
            return Some(slot);
        }
        (self.next < self.max).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    /// Returns a slot; it is reused no earlier than `GRACE` after `now`.
    pub fn release(&mut self, slot: u32, now: Duration) {
        self.cooling.push((slot, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Duration = Duration::from_secs(100);

    #[test]
    fn first_fit_and_exhaustion() {
        let mut a = RegionAllocator::new(10);
        assert_eq!(a.alloc(4, T0), Some(Region { off: 0, len: 4 }));
        assert_eq!(a.alloc(6, T0), Some(Region { off: 4, len: 6 }));
        assert_eq!(a.alloc(1, T0), None);
        assert_eq!(a.alloc(0, T0), Some(Region { off: 0, len: 0 }));
    }

    #[test]
    fn freed_regions_wait_out_the_grace_period_then_coalesce() {
        let mut a = RegionAllocator::new(10);
        let r1 = a.alloc(4, T0).expect("room");
        let r2 = a.alloc(6, T0).expect("room");
        a.release(r1, T0);
        a.release(r2, T0);
        assert_eq!(a.alloc(10, T0 + GRACE / 2), None, "still cooling");
        assert_eq!(a.alloc(10, T0 + GRACE), Some(Region { off: 0, len: 10 }), "coalesced");
    }

    #[test]
    fn slots_are_reused_only_after_grace() {
        let mut s = SlotAllocator::new(1, 3);
        assert_eq!(s.alloc(T0), Some(1));
        assert_eq!(s.alloc(T0), Some(2));
        assert_eq!(s.alloc(T0), None);
        s.release(1, T0);
        assert_eq!(s.alloc(T0), None);
        assert_eq!(s.alloc(T0 + GRACE), Some(1));
    }
}
