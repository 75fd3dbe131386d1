//! Offering the least recently used connection entries for eviction.
//!
//! The connection table is preallocated (`--conn-max`); when it is full, a new connection takes
//! the place of an entry the daemon offered (`bpf/evict.h`). The offer is a sampled LRU, as
//! Redis approximates LRU: at each sweep step the daemon keeps the [`RVS_EVICT_OFFER`] entries
//! it read that were used longest ago and publishes them, oldest first, in the `evict` ring.
//! An entry used since it was read is skipped by the program, so an offer never evicts a
//! connection that is active.

use std::sync::atomic::Ordering;

use crate::{
    abi::{RVS_CONN_DEAD, RVS_EVICT_OFFER, RVS_EVICT_RING, RVS_KEY_TEMPLATE, RvsConn, RvsConnKey, RvsEvictCand},
    loader::Dataplane,
};

/// The entries seen in one sweep step that were used longest ago, at most [`RVS_EVICT_OFFER`].
#[derive(Debug, Default)]
pub struct OldestEntries {
    seen: Vec<RvsEvictCand>,
}

impl OldestEntries {
    /// Considers an entry: live connections, and templates that control none.
    pub fn consider(&mut self, key: &RvsConnKey, conn: &RvsConn) {
        if conn.state == RVS_CONN_DEAD || (key.kind == RVS_KEY_TEMPLATE && conn.flags != 0) {
            return;
        }
        self.seen.push(RvsEvictCand { key: *key, last_seen_ns: conn.last_seen_ns });
        // Keep memory bounded on a large step: cut back to the oldest half-full buffer.
        if self.seen.len() >= 8 * RVS_EVICT_OFFER as usize {
            self.keep_oldest();
        }
    }

    fn keep_oldest(&mut self) {
        let n = RVS_EVICT_OFFER as usize;
        if self.seen.len() > n {
            self.seen.select_nth_unstable_by_key(n, |c| c.last_seen_ns);
            self.seen.truncate(n);
        }
    }

    /// The oldest entries, oldest first; the selection starts afresh.
    pub fn take(&mut self) -> Vec<RvsEvictCand> {
        self.keep_oldest();
        let mut out = std::mem::take(&mut self.seen);
        out.sort_by_key(|c| c.last_seen_ns);
        out
    }
}

impl Dataplane {
    /// Replaces the candidates offered for eviction: what the programs have not claimed is
    /// discarded (`head` moved to `tail`), the new ones are written after `tail` and published
    /// by storing the new `tail`. At most half the ring is written, so the slot a program has
    /// just claimed is not rewritten while it copies it.
    pub fn offer_evictions(&self, cands: &[RvsEvictCand]) {
        let ring = &self.maps.evict;
        // SAFETY (the three views): fields of the one element of the mmapped `evict` map.
        let (Some(head), Some(tail), Some(base)) = (
            ring.atomic_u64(0, |r| unsafe { &raw mut (*r).head }),
            ring.atomic_u64(0, |r| unsafe { &raw mut (*r).tail }),
            ring.get(0),
        ) else {
            return;
        };
        let end = tail.load(Ordering::Acquire);
        // Discard the unclaimed rest: `head` only grows, up to `tail`, so this settles it
        // whatever the programs claim meanwhile (their compare-and-swap then fails).
        head.fetch_max(end, Ordering::AcqRel);
        let n = cands.len().min(RVS_EVICT_OFFER as usize);
        for (i, cand) in (0u64..).zip(&cands[..n]) {
            let slot = ((end + i) % u64::from(RVS_EVICT_RING)) as usize;
            // SAFETY: in bounds (slot < RVS_EVICT_RING); no program reads a slot past `tail`.
            unsafe { std::ptr::write_volatile(&raw mut (*base).cands[slot], *cand) };
        }
        tail.store(end + n as u64, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(port: u16, last_seen_ns: u64, state: u32) -> (RvsConnKey, RvsConn) {
        (RvsConnKey { sport: port, proto: 6, ..Default::default() }, RvsConn { last_seen_ns, state, ..Default::default() })
    }

    #[test]
    fn the_oldest_live_entries_come_first_and_no_more_than_the_offer() {
        let mut o = OldestEntries::default();
        let total = 10 * RVS_EVICT_OFFER as u64;
        // Newest first, so that the bound is exercised while the oldest arrive last.
        for t in (0..total).rev() {
            let (k, c) = entry((t % 60000) as u16, 1000 + t, 3);
            o.consider(&k, &c);
        }
        let (k, c) = entry(1, 1, RVS_CONN_DEAD);
        o.consider(&k, &c);
        let (mut k, mut c) = entry(2, 2, 0xfe);
        k.kind = RVS_KEY_TEMPLATE;
        c.flags = 3;
        o.consider(&k, &c);
        let offer = o.take();
        assert_eq!(offer.len(), RVS_EVICT_OFFER as usize);
        assert_eq!(offer[0].last_seen_ns, 1000, "the oldest first; the dead entry and the busy template are not offered");
        assert!(offer.windows(2).all(|w| w[0].last_seen_ns < w[1].last_seen_ns));
        assert_eq!(offer.last().map(|c| c.last_seen_ns), Some(1000 + u64::from(RVS_EVICT_OFFER) - 1));
        assert!(o.take().is_empty(), "starts afresh");
    }
}
