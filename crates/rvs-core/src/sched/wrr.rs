//! `wrr`: the kernel's weighted round robin (`ip_vs_wrr.c`).
//!
//! State `{cl, cw, mw, di}`: the list position of the last pick (`cl`), the current weight
//! threshold (`cw`), the top threshold (`mw`) and the step (`di`). `di` is the gcd of the
//! weights above 0 (1 if there are none) and `mw = max weight - (di - 1)`, both taken over
//! every destination, overloaded or not. Thresholds therefore run `mw, mw - di, ..., 1`.
//!
//! A pick scans forward from just after `cl` for a destination that is not overloaded and
//! whose weight is at least `cw`. Each time the scan passes the end of the list `cw` drops by
//! `di`; when it reaches 0 or below it restarts at `mw`. A pick fails when `mw` is 0, or when
//! every destination was checked against threshold 1 without success (then `cl` and `cw`
//! may still have moved, exactly as in the kernel).
//!
//! Every add, edit (even one that changes nothing) and delete of a destination calls
//! `ip_vs_wrr_dest_changed` ([`WeightedRoundRobin::dest_changed`]): `cl` goes back to the
//! head, `di` and `mw` are recomputed, and `cw` is kept but clamped to `mw` (0 also becomes
//! `mw`) or, when `di > 1`, realigned to `(cw / di) * di + 1`. Overload changes call nothing.

use super::dest::{DestCursor, SchedDest};

/// The kernel's wrr scheduler state (`struct ip_vs_wrr_mark`) for one service.
///
/// Fields are private so that every value comes from [`WeightedRoundRobin::init`] and the
/// kernel's transitions; the threshold `cw` then always lies on the `mw, mw - di, ..., 1`
/// grid, which the ring compiler relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeightedRoundRobin {
    cl: DestCursor,
    cw: i32,
    mw: i32,
    di: i32,
}

/// `lib/math/gcd.c` for the positive weights the kernel feeds it.
fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `ip_vs_wrr_gcd_weight`: gcd of the weights above 0, or 1 if there are none.
fn gcd_weight(dests: &[SchedDest]) -> i32 {
    let g = dests
        .iter()
        .filter(|d| d.weight > 0)
        .fold(0, |g, d| if g > 0 { gcd(d.weight, g) } else { d.weight });
    if g == 0 { 1 } else { g }
}

/// `ip_vs_wrr_max_weight`: the largest weight, starting from 0.
fn max_weight(dests: &[SchedDest]) -> i32 {
    dests.iter().fold(0, |max, d| max.max(d.weight))
}

impl WeightedRoundRobin {
    /// `ip_vs_wrr_init_svc`: `cl` at the head, `cw = mw`. The kernel runs it when the
    /// scheduler is bound to a service: at `ipvsadm -A` (no destinations yet, so `mw = 0`)
    /// or when `ipvsadm -E` switches a populated service to wrr.
    pub fn init(dests: &[SchedDest]) -> Self {
        let di = gcd_weight(dests);
        let mw = max_weight(dests) - (di - 1);
        Self {
            cl: DestCursor::Head,
            cw: mw,
            mw,
            di,
        }
    }

    /// `ip_vs_wrr_dest_changed`: the `add_dest`, `upd_dest` and `del_dest` hook, called with
    /// the list as it is after the change.
    pub fn dest_changed(&mut self, dests_after: &[SchedDest]) {
        self.cl = DestCursor::Head;
        self.di = gcd_weight(dests_after);
        self.mw = max_weight(dests_after) - (self.di - 1);
        if self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di) * self.di + 1;
        }
    }

    /// The list position of the last pick (`mark->cl`).
    pub const fn cursor(&self) -> DestCursor {
        self.cl
    }

    /// The current weight threshold (`mark->cw`).
    pub const fn current_weight(&self) -> i32 {
        self.cw
    }

    /// The top threshold (`mark->mw`).
    pub const fn max_weight(&self) -> i32 {
        self.mw
    }

    /// The threshold step (`mark->di`).
    pub const fn step(&self) -> i32 {
        self.di
    }

    /// The same state with `cl` and `cw` replaced; used by the ring compiler, which only
    /// produces values the kernel's own transitions produce.
    pub(crate) const fn with_position(self, cl: DestCursor, cw: i32) -> Self {
        Self { cl, cw, ..self }
    }

    /// `ip_vs_wrr_schedule`: picks the next destination, or `None` when none is available.
    pub fn pick(&mut self, dests: &[SchedDest]) -> Option<u32> {
        if self.mw == 0 {
            // err_noavail: nothing changes.
            return None;
        }
        let last = self.cl.index_in(dests);
        // Where the current traversal resumes: None is the list head.
        let mut pos = last;
        // The kernel's `stop`: once set, reaching this destination ends the search.
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            let from = pos.map_or(0, |p| p + 1);
            for (i, dest) in dests.iter().enumerate().skip(from) {
                if !dest.overloaded && dest.weight >= self.cw {
                    self.cl = DestCursor::At(dest.id);
                    return Some(dest.id);
                }
                if stop == Some(i) {
                    // err_over at `stop`, which is `last`: cl is unchanged.
                    self.cl = DestCursor::At(dest.id);
                    return None;
                }
            }
            // The traversal reached the head.
            pos = None;
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    // err_over at the head.
                    self.cl = DestCursor::Head;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                // The first traversal checked threshold 1 only after `last`; now check the
                // destinations up to `last` as well.
                stop = last;
            }
        }
    }

    /// How many picks one full cycle of this state's thresholds makes over `dests`: each
    /// destination that is not overloaded is picked once per threshold
    /// `mw, mw - di, ..., 1` that its weight reaches. With the kernel's own `mw` and `di`
    /// this is `Σ weight / di` over those destinations.
    pub(crate) fn cycle_len(&self, dests: &[SchedDest]) -> u64 {
        if self.mw <= 0 {
            return 0;
        }
        let (mw, di) = (i64::from(self.mw), i64::from(self.di));
        // Thresholds are mw - k * di for k in 0..=top_k.
        let top_k = (mw - 1) / di;
        dests
            .iter()
            .filter(|d| !d.overloaded && d.weight > 0)
            .map(|d| {
                let w = i64::from(d.weight);
                // Smallest k with mw - k * di <= w.
                let first_k = if w >= mw { 0 } else { (mw - w + di - 1) / di };
                u64::try_from(top_k - first_k + 1).unwrap_or(0)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ids_weights: &[(u32, i32)]) -> Vec<SchedDest> {
        ids_weights
            .iter()
            .map(|&(id, w)| SchedDest::new(id, w))
            .collect()
    }

    fn picks(wrr: &mut WeightedRoundRobin, dests: &[SchedDest], n: usize) -> Vec<u32> {
        (0..n).map(|_| wrr.pick(dests).map_or(0, |id| id)).collect()
    }

    /// ipvsadm -A -s wrr, then -a each destination in turn, as the kernel runs the hooks.
    fn built_by_adding(ids_weights: &[(u32, i32)]) -> (WeightedRoundRobin, Vec<SchedDest>) {
        let mut dests = Vec::new();
        let mut wrr = WeightedRoundRobin::init(&dests);
        for &(id, w) in ids_weights {
            dests.insert(0, SchedDest::new(id, w));
            wrr.dest_changed(&dests);
        }
        (wrr, dests)
    }

    #[test]
    fn gcd_and_max_follow_the_kernel() {
        assert_eq!(gcd_weight(&list(&[(1, 4), (2, 6), (3, 0), (4, -2)])), 2);
        assert_eq!(gcd_weight(&list(&[(1, 0)])), 1);
        assert_eq!(gcd_weight(&[]), 1);
        assert_eq!(max_weight(&list(&[(1, -3)])), 0);
        let wrr = WeightedRoundRobin::init(&list(&[(1, 4), (2, 6)]));
        assert_eq!(
            (wrr.step(), wrr.max_weight(), wrr.current_weight()),
            (2, 5, 5)
        );
    }

    #[test]
    fn one_to_three_built_by_ipvsadm_starts_low() {
        // -a A -w 1 sets cw = mw = 1; -a B -w 3 keeps cw = 1 (1 <= mw, di = 1). So the first
        // round only checks threshold 1, then the steady 3,2,1 cycle follows.
        let (mut wrr, dests) = built_by_adding(&[(1, 1), (2, 3)]);
        assert_eq!(dests.iter().map(|d| d.id).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(wrr.current_weight(), 1);
        assert_eq!(picks(&mut wrr, &dests, 10), [2, 1, 2, 2, 2, 1, 2, 2, 2, 1]);
    }

    #[test]
    fn one_to_three_after_init_starts_at_the_top() {
        // ipvsadm -E -s wrr on a populated service runs init: cw = mw = 3.
        let dests = list(&[(2, 3), (1, 1)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(picks(&mut wrr, &dests, 8), [2, 2, 2, 1, 2, 2, 2, 1]);
    }

    #[test]
    fn classic_interleaving_with_gcd() {
        // Weights 4, 2, 6 (list order): di = 2, mw = 5, thresholds 5, 3, 1.
        let dests = list(&[(1, 4), (2, 2), (3, 6)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!((wrr.step(), wrr.max_weight()), (2, 5));
        // cw 5: 3; cw 3: 1, 3; cw 1: 1, 2, 3.
        assert_eq!(
            picks(&mut wrr, &dests, 12),
            [3, 1, 3, 1, 2, 3, 3, 1, 3, 1, 2, 3]
        );
        assert_eq!(wrr.cycle_len(&dests), 6);
    }

    #[test]
    fn no_weight_means_no_destination_and_no_change() {
        let dests = list(&[(1, 0), (2, 0)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(wrr.max_weight(), 0);
        let before = wrr;
        assert_eq!(wrr.pick(&dests), None);
        assert_eq!(wrr, before);
    }

    #[test]
    fn all_overloaded_fails_and_resets_from_the_head() {
        let mut dests = list(&[(1, 2), (2, 4)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        for d in &mut dests {
            d.overloaded = true;
        }
        // From the head every threshold down to 1 is tried, then err_over with cw = mw.
        assert_eq!(wrr.pick(&dests), None);
        assert_eq!(
            (wrr.cursor(), wrr.current_weight()),
            (DestCursor::Head, wrr.max_weight())
        );
    }

    #[test]
    fn all_overloaded_from_a_low_threshold_stops_at_the_last_pick() {
        let mut dests = list(&[(1, 1), (2, 1)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(wrr.pick(&dests), Some(1));
        for d in &mut dests {
            d.overloaded = true;
        }
        // cw 1 after dest 1 fails, restart at mw = 1 (last pass), scan up to dest 1: stop.
        assert_eq!(wrr.pick(&dests), None);
        assert_eq!((wrr.cursor(), wrr.current_weight()), (DestCursor::At(1), 1));
        // The failure is a fixed point.
        assert_eq!(wrr.pick(&dests), None);
        assert_eq!((wrr.cursor(), wrr.current_weight()), (DestCursor::At(1), 1));
    }

    #[test]
    fn overloaded_heaviest_leaves_empty_passes() {
        // Weights 3 (overloaded), 1: mw stays 3, so thresholds 3 and 2 find nothing.
        let mut dests = list(&[(1, 3), (2, 1)]);
        dests[0].overloaded = true;
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(picks(&mut wrr, &dests, 3), [2, 2, 2]);
        assert_eq!(wrr.current_weight(), 1);
        assert_eq!(wrr.cycle_len(&dests), 1);
    }

    #[test]
    fn dest_changed_resets_cursor_and_realigns_cw() {
        let dests = list(&[(1, 6), (2, 3)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(
            (wrr.step(), wrr.max_weight(), wrr.current_weight()),
            (3, 4, 4)
        );
        assert_eq!(picks(&mut wrr, &dests, 2), [1, 1]);
        assert_eq!(wrr.current_weight(), 1);
        // Weights 6, 4: di = 2, mw = 5; cw 1 -> (1 / 2) * 2 + 1 = 1, cl back to head.
        let changed = list(&[(1, 6), (2, 4)]);
        wrr.dest_changed(&changed);
        assert_eq!(
            (wrr.cursor(), wrr.step(), wrr.max_weight()),
            (DestCursor::Head, 2, 5)
        );
        assert_eq!(wrr.current_weight(), 1);
        // Weights 8, 2: di = 2, thresholds 7, 5, 3, 1. Three picks leave cw at 3; then
        // weights 8, 4 give di = 4, mw = 5 and cw -> (3 / 4) * 4 + 1 = 1.
        let before = list(&[(1, 8), (2, 2)]);
        let mut wrr = WeightedRoundRobin::init(&before);
        assert_eq!(picks(&mut wrr, &before, 3), [1, 1, 1]);
        assert_eq!(wrr.current_weight(), 3);
        let after = list(&[(1, 8), (2, 4)]);
        wrr.dest_changed(&after);
        assert_eq!(
            (wrr.step(), wrr.max_weight(), wrr.current_weight()),
            (4, 5, 1)
        );
        assert_eq!(picks(&mut wrr, &after, 3), [1, 2, 1]);
    }

    #[test]
    fn dest_changed_clamps_a_threshold_above_the_new_top() {
        let mut wrr = WeightedRoundRobin::init(&list(&[(1, 9), (2, 1)]));
        assert_eq!(wrr.current_weight(), 9);
        wrr.dest_changed(&list(&[(1, 2), (2, 1)]));
        assert_eq!((wrr.max_weight(), wrr.current_weight()), (2, 2));
        // A single weight is its own gcd: weight 9 alone gives thresholds 1 only.
        wrr.dest_changed(&list(&[(1, 9)]));
        assert_eq!(
            (wrr.step(), wrr.max_weight(), wrr.current_weight()),
            (9, 1, 1)
        );
    }

    #[test]
    fn an_edit_that_changes_nothing_still_restarts_from_the_head() {
        let dests = list(&[(3, 1), (2, 1), (1, 1)]);
        let mut wrr = WeightedRoundRobin::init(&dests);
        assert_eq!(picks(&mut wrr, &dests, 2), [3, 2]);
        wrr.dest_changed(&dests);
        assert_eq!(picks(&mut wrr, &dests, 2), [3, 2]);
    }

    #[test]
    fn cycle_len_counts_thresholds_reached() {
        let dests = list(&[(1, 4), (2, 2), (3, 6), (4, 0)]);
        assert_eq!(
            WeightedRoundRobin::init(&dests).cycle_len(&dests),
            2 + 1 + 3
        );
        assert_eq!(WeightedRoundRobin::init(&[]).cycle_len(&[]), 0);
    }
}
