//! The scheduler's view of a real server, and a position in the destination list.

/// What a scheduler needs to know about one destination (real server) of a service.
///
/// A slice of these, in the kernel's list order (newest-added first), is the input of every
/// scheduler here. Ids must be unique within a slice; [`crate::sched::SchedService`] keeps
/// them so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchedDest {
    /// Caller-chosen identifier; it is what the schedulers and rings return.
    pub id: u32,
    /// The kernel's `dest->weight`. ipvsadm cannot set it below 0 (the kernel answers
    /// `-ERANGE`); 0 quiesces the destination.
    pub weight: i32,
    /// `IP_VS_DEST_F_OVERLOAD`, set when the upper connection threshold is reached.
    pub overloaded: bool,
    /// `dest->activeconns`.
    pub active: u32,
    /// `dest->inactconns`.
    pub inactive: u32,
}

impl SchedDest {
    /// A destination with no connections and no overload flag.
    pub const fn new(id: u32, weight: i32) -> Self {
        Self {
            id,
            weight,
            overloaded: false,
            active: 0,
            inactive: 0,
        }
    }

    /// Whether rr and wlc's first stage may choose it: weight above 0 and not overloaded.
    pub const fn is_available(&self) -> bool {
        !self.overloaded && self.weight > 0
    }

    /// The kernel's `ip_vs_dest_conn_overhead`: `(activeconns << 8) + inactconns`, computed
    /// in a C `int` exactly as the kernel does, wrapping past 8,388,607 active connections.
    pub const fn overhead(&self) -> i32 {
        ((self.active as i32) << 8).wrapping_add(self.inactive as i32)
    }
}

/// A position in the destination list: the kernel's `struct list_head *` that rr keeps in
/// `svc->sched_data` and wrr in `mark->cl`. [`DestCursor::Head`] is the list head itself,
/// before the first destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DestCursor {
    /// The list head: the next scan starts at the first (newest) destination.
    #[default]
    Head,
    /// Just after the destination with this id.
    At(u32),
}

impl DestCursor {
    /// The list index the cursor stands on, `None` for the head.
    ///
    /// A cursor naming a destination that is not in `dests` is treated as the head. That
    /// cannot happen when deletions go through the schedulers' hooks, as in the kernel.
    pub(crate) fn index_in(self, dests: &[SchedDest]) -> Option<usize> {
        match self {
            DestCursor::Head => None,
            DestCursor::At(id) => dests.iter().position(|d| d.id == id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_weighs_active_256_times() {
        let d = SchedDest {
            active: 3,
            inactive: 7,
            ..SchedDest::new(1, 1)
        };
        assert_eq!(d.overhead(), 3 * 256 + 7);
    }

    #[test]
    fn overhead_wraps_like_a_c_int() {
        // 2^23 active connections shift into the sign bit of a 32-bit int.
        let d = SchedDest {
            active: 1 << 23,
            inactive: 0,
            ..SchedDest::new(1, 1)
        };
        assert_eq!(d.overhead(), i32::MIN);
    }

    #[test]
    fn availability_needs_positive_weight_and_no_overload() {
        assert!(SchedDest::new(1, 1).is_available());
        assert!(!SchedDest::new(1, 0).is_available());
        assert!(!SchedDest::new(1, -1).is_available());
        assert!(
            !SchedDest {
                overloaded: true,
                ..SchedDest::new(1, 5)
            }
            .is_available()
        );
    }

    #[test]
    fn stale_cursor_reads_as_head() {
        let dests = [SchedDest::new(4, 1), SchedDest::new(9, 1)];
        assert_eq!(DestCursor::At(9).index_in(&dests), Some(1));
        assert_eq!(DestCursor::At(5).index_in(&dests), None);
        assert_eq!(DestCursor::Head.index_in(&dests), None);
    }
}
