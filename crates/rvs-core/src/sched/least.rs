//! `lc` and `wlc`: the kernel's least-connection schedulers (`ip_vs_lc.c`, `ip_vs_wlc.c`).
//!
//! Both are stateless: each pick reads the connection counters of the destinations. The XDP
//! data plane computes them live; these reference implementations are what its fixtures are
//! compared against, down to the integer types the kernel compares in.

use super::dest::SchedDest;

/// `ip_vs_lc_schedule`: the destination with the smallest overhead
/// (`activeconns * 256 + inactconns`, see [`SchedDest::overhead`]).
///
/// Destinations that are overloaded or have weight exactly 0 are skipped (the kernel tests
/// `weight == 0`; negative weights cannot be configured). Overheads are compared as the
/// kernel's `unsigned int` with a strict `<`, so the first destination in list order wins
/// ties.
pub fn lc_pick(dests: &[SchedDest]) -> Option<u32> {
    let mut least: Option<(u32, u32)> = None;
    for dest in dests {
        if dest.overloaded || dest.weight == 0 {
            continue;
        }
        let overhead = dest.overhead() as u32;
        if least.is_none_or(|(_, least_overhead)| overhead < least_overhead) {
            least = Some((dest.id, overhead));
        }
    }
    least.map(|(id, _)| id)
}

/// `ip_vs_wlc_schedule`: the destination with the smallest `overhead / weight`.
///
/// The first destination that is not overloaded and has weight above 0 seeds the search;
/// every later destination that is not overloaded replaces it only if
/// `least_overhead * weight > overhead * least_weight`, multiplied in 64 bits as the kernel
/// does. So the first in list order wins ties, and a later destination with weight 0 can
/// never win (its side of the comparison is 0).
pub fn wlc_pick(dests: &[SchedDest]) -> Option<u32> {
    least_per_weight(dests, |d| i64::from(d.overhead()))
}

/// The search `wlc` and `sed` share: the first destination that is not overloaded and has
/// weight above 0 seeds it; every later one that is not overloaded replaces the current choice
/// only if `least_overhead * weight > overhead * least_weight` (64-bit), so ties keep the
/// earlier destination and a weight-0 one never wins.
pub(super) fn least_per_weight(dests: &[SchedDest], overhead: impl Fn(&SchedDest) -> i64) -> Option<u32> {
    let seed = dests.iter().position(SchedDest::is_available)?;
    let mut least = &dests[seed];
    let mut least_overhead = overhead(least);
    for dest in &dests[seed + 1..] {
        if dest.overloaded {
            continue;
        }
        let doh = overhead(dest);
        if least_overhead * i64::from(dest.weight) > doh * i64::from(least.weight) {
            least = dest;
            least_overhead = doh;
        }
    }
    Some(least.id)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A destination with these connection counts (also for the other schedulers' tests).
    pub(in crate::sched) fn dest(id: u32, weight: i32, active: u32, inactive: u32) -> SchedDest {
        SchedDest {
            id,
            weight,
            overloaded: false,
            active,
            inactive,
        }
    }

    #[test]
    fn lc_takes_the_smallest_overhead() {
        // 1 active (256) weighs more than 255 inactive.
        let dests = [dest(1, 1, 1, 0), dest(2, 1, 0, 255), dest(3, 1, 0, 256)];
        assert_eq!(lc_pick(&dests), Some(2));
    }

    #[test]
    fn lc_ties_go_to_the_first_in_list() {
        let dests = [dest(7, 1, 0, 3), dest(8, 5, 0, 3), dest(9, 1, 0, 3)];
        assert_eq!(lc_pick(&dests), Some(7));
    }

    #[test]
    fn lc_ignores_weight_except_zero_and_skips_overload() {
        let mut dests = [dest(1, 0, 0, 0), dest(2, 100, 0, 9), dest(3, 1, 0, 8)];
        assert_eq!(lc_pick(&dests), Some(3));
        dests[2].overloaded = true;
        assert_eq!(lc_pick(&dests), Some(2));
        dests[1].weight = 0;
        assert_eq!(lc_pick(&dests), None);
        assert_eq!(lc_pick(&[]), None);
    }

    #[test]
    fn lc_compares_unsigned_like_the_kernel() {
        // An overhead that wrapped negative in the kernel's int is huge as unsigned.
        let dests = [dest(1, 1, 1 << 23, 0), dest(2, 1, 5, 0)];
        assert_eq!(lc_pick(&dests), Some(2));
    }

    #[test]
    fn wlc_divides_by_weight() {
        // 512 / 3 = 170.7 beats 256 / 1 and 600 / 2 = 300.
        let dests = [dest(1, 1, 1, 0), dest(2, 3, 2, 0), dest(3, 2, 0, 600)];
        assert_eq!(wlc_pick(&dests), Some(2));
    }

    #[test]
    fn wlc_ties_go_to_the_first_eligible() {
        // 256 / 1 == 512 / 2: no strict improvement, first stays.
        let dests = [dest(1, 1, 1, 0), dest(2, 2, 2, 0)];
        assert_eq!(wlc_pick(&dests), Some(1));
        let all_idle = [dest(3, 1, 0, 0), dest(2, 4, 0, 0), dest(1, 9, 0, 0)];
        assert_eq!(wlc_pick(&all_idle), Some(3));
    }

    #[test]
    fn wlc_seeds_at_the_first_available_destination() {
        // The weight-0 and overloaded destinations before it cannot seed.
        let mut dests = [
            dest(1, 0, 0, 0),
            dest(2, 1, 0, 0),
            dest(3, 1, 0, 5),
            dest(4, 1, 0, 0),
        ];
        dests[1].overloaded = true;
        assert_eq!(wlc_pick(&dests), Some(4));
    }

    #[test]
    fn wlc_never_moves_to_a_weight_zero_destination() {
        // The seed is loaded, the idle weight-0 destination after it still loses:
        // 1000 * 0 > 0 * 1 is false.
        let dests = [dest(1, 1, 0, 1000), dest(2, 0, 0, 0)];
        assert_eq!(wlc_pick(&dests), Some(1));
    }

    #[test]
    fn wlc_without_available_destination_is_none() {
        let mut dests = [dest(1, 0, 0, 0), dest(2, 3, 0, 0)];
        dests[1].overloaded = true;
        assert_eq!(wlc_pick(&dests), None);
        assert_eq!(wlc_pick(&[]), None);
    }

    #[test]
    fn wlc_products_do_not_overflow() {
        // (8,388,607 * 256) * 65535 needs more than 32 bits; wrapped, it would lose.
        let dests = [dest(1, 1, 8_388_607, 0), dest(2, 65535, 8_388_607, 0)];
        assert_eq!(wlc_pick(&dests), Some(2));
    }
}
