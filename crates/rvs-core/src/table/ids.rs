//! Allocation of the stable numeric ids (data-plane slots) of services and destinations.

use std::collections::BTreeSet;

/// Hands out the smallest free number; a number comes back only after [`IdAllocator::free`].
#[derive(Debug, Clone, Default)]
pub struct IdAllocator {
    next: u32,
    freed: BTreeSet<u32>,
}

impl IdAllocator {
    /// A fresh id, or `None` when all 2^32 are in use.
    pub fn alloc(&mut self) -> Option<u32> {
        if let Some(id) = self.freed.pop_first() {
            return Some(id);
        }
        let id = self.next;
        self.next = self.next.checked_add(1)?;
        Some(id)
    }

    /// Makes `id` available again. Freeing an id that is not in use is ignored.
    pub fn free(&mut self, id: u32) {
        if id < self.next {
            self.freed.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_only_after_free_smallest_first() {
        let mut a = IdAllocator::default();
        assert_eq!(a.alloc(), Some(0));
        assert_eq!(a.alloc(), Some(1));
        assert_eq!(a.alloc(), Some(2));
        a.free(2);
        a.free(0);
        assert_eq!(a.alloc(), Some(0));
        assert_eq!(a.alloc(), Some(2));
        assert_eq!(a.alloc(), Some(3));
        a.free(99);
        assert_eq!(a.alloc(), Some(4));
    }
}
