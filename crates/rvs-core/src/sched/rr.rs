//! `rr`: the kernel's round robin (`ip_vs_rr.c`).
//!
//! State: one cursor (`svc->sched_data`), the list position of the last destination picked,
//! starting at the list head. A pick scans forward from just after the cursor to the end of
//! the list, then from the start up to and including the cursor's own destination, and takes
//! the first destination with weight above 0 that is not overloaded. A failed pick leaves the
//! cursor where it was.
//!
//! Changes: adding or editing a destination does not touch the cursor (rr has no `add_dest`
//! or `upd_dest` hook); deleting the destination under the cursor moves the cursor back to its
//! predecessor (`ip_vs_rr_del_dest`), so the scan resumes at the deleted one's successor.

use super::dest::{DestCursor, SchedDest};

/// The kernel's rr scheduler state for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RoundRobin {
    cursor: DestCursor,
}

impl RoundRobin {
    /// `ip_vs_rr_init_svc`: the cursor starts at the list head, so the first pick is the
    /// first available destination in list order, i.e. the newest.
    pub const fn new() -> Self {
        Self {
            cursor: DestCursor::Head,
        }
    }

    /// A state whose cursor stands at `cursor`.
    pub const fn with_cursor(cursor: DestCursor) -> Self {
        Self { cursor }
    }

    /// The last destination picked, or the head if none was (or it was deleted as the
    /// first destination of the list).
    pub const fn cursor(&self) -> DestCursor {
        self.cursor
    }

    /// `ip_vs_rr_schedule`: picks the next destination, or `None` ("no destination
    /// available") when none has weight above 0 without being overloaded.
    pub fn pick(&mut self, dests: &[SchedDest]) -> Option<u32> {
        let found = match self.cursor.index_in(dests) {
            // Cursor at the head: one pass over the whole list.
            None => dests.iter().find(|d| d.is_available()),
            // First pass: after the cursor to the end; second pass: from the start up to and
            // including the cursor's destination.
            Some(at) => dests[at + 1..]
                .iter()
                .chain(&dests[..=at])
                .find(|d| d.is_available()),
        };
        let dest = found?;
        self.cursor = DestCursor::At(dest.id);
        Some(dest.id)
    }

    /// `ip_vs_rr_del_dest`, called after the destination `removed_id` was unlinked from list
    /// position `removed_index`; `dests_after` is the list without it.
    ///
    /// If the cursor stood on the removed destination it moves to the destination before it
    /// (the head if it was first); otherwise nothing changes.
    pub fn on_del_dest(
        &mut self,
        dests_after: &[SchedDest],
        removed_id: u32,
        removed_index: usize,
    ) {
        if self.cursor == DestCursor::At(removed_id) {
            self.cursor = match removed_index
                .checked_sub(1)
                .and_then(|i| dests_after.get(i))
            {
                Some(prev) => DestCursor::At(prev.id),
                None => DestCursor::Head,
            };
        }
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

    fn picks(rr: &mut RoundRobin, dests: &[SchedDest], n: usize) -> Vec<Option<u32>> {
        (0..n).map(|_| rr.pick(dests)).collect()
    }

    #[test]
    fn first_pick_is_the_newest_destination() {
        // Added 1, 2, 3: the kernel's list is [3, 2, 1].
        let dests = list(&[(3, 1), (2, 1), (1, 1)]);
        let mut rr = RoundRobin::new();
        assert_eq!(
            picks(&mut rr, &dests, 4),
            [Some(3), Some(2), Some(1), Some(3)]
        );
    }

    #[test]
    fn weights_do_not_matter_but_zero_and_overload_skip() {
        let mut dests = list(&[(3, 100), (2, 0), (1, 1)]);
        let mut rr = RoundRobin::new();
        assert_eq!(picks(&mut rr, &dests, 3), [Some(3), Some(1), Some(3)]);
        dests[0].overloaded = true;
        assert_eq!(picks(&mut rr, &dests, 2), [Some(1), Some(1)]);
    }

    #[test]
    fn only_the_cursor_destination_left_is_picked_again() {
        // Second pass checks the cursor's own destination last.
        let dests = list(&[(3, 0), (2, 1), (1, 0)]);
        let mut rr = RoundRobin::with_cursor(DestCursor::At(2));
        assert_eq!(picks(&mut rr, &dests, 2), [Some(2), Some(2)]);
    }

    #[test]
    fn failure_leaves_the_cursor_alone() {
        let dests = list(&[(3, 0), (2, 0)]);
        let mut rr = RoundRobin::with_cursor(DestCursor::At(2));
        assert_eq!(rr.pick(&dests), None);
        assert_eq!(rr.cursor(), DestCursor::At(2));
        assert_eq!(RoundRobin::new().pick(&[]), None);
    }

    #[test]
    fn added_destination_is_reached_after_the_wrap() {
        let mut rr = RoundRobin::new();
        let dests = list(&[(2, 1), (1, 1)]);
        assert_eq!(rr.pick(&dests), Some(2));
        // ipvsadm -a adds 3 at the front; the cursor stays on 2.
        let dests = list(&[(3, 1), (2, 1), (1, 1)]);
        assert_eq!(picks(&mut rr, &dests, 3), [Some(1), Some(3), Some(2)]);
    }

    #[test]
    fn deleting_the_cursor_destination_resumes_at_its_successor() {
        let mut rr = RoundRobin::new();
        let dests = list(&[(4, 1), (3, 1), (2, 1), (1, 1)]);
        assert_eq!(picks(&mut rr, &dests, 2), [Some(4), Some(3)]);
        let after = list(&[(4, 1), (2, 1), (1, 1)]);
        rr.on_del_dest(&after, 3, 1);
        assert_eq!(rr.cursor(), DestCursor::At(4));
        assert_eq!(picks(&mut rr, &after, 2), [Some(2), Some(1)]);
    }

    #[test]
    fn deleting_the_first_destination_under_the_cursor_goes_to_head() {
        let mut rr = RoundRobin::with_cursor(DestCursor::At(4));
        let after = list(&[(3, 1), (2, 1)]);
        rr.on_del_dest(&after, 4, 0);
        assert_eq!(rr.cursor(), DestCursor::Head);
        assert_eq!(rr.pick(&after), Some(3));
    }

    #[test]
    fn deleting_another_destination_keeps_the_cursor() {
        let mut rr = RoundRobin::with_cursor(DestCursor::At(2));
        rr.on_del_dest(&list(&[(2, 1)]), 3, 0);
        assert_eq!(rr.cursor(), DestCursor::At(2));
    }
}
