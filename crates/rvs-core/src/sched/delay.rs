//! `sed` and `nq`: the kernel's shortest-expected-delay schedulers (`ip_vs_sed.c`,
//! `ip_vs_nq.c`).
//!
//! Both weigh only active connections: a destination's expected delay is
//! `(activeconns + 1) / weight`, the time a new connection would wait if each active one were
//! served in turn. `nq` ("never queue") first sends to any idle destination. Like `lc` and
//! `wlc` they are stateless, and the XDP data plane computes them live; these are the
//! reference its fixtures are compared against.

use super::dest::SchedDest;
use super::least::least_per_weight;

/// The kernel's `ip_vs_sed_dest_overhead` (and `nq`'s): `activeconns + 1`, an `unsigned int`.
fn expected_overhead(dest: &SchedDest) -> u32 {
    dest.active.wrapping_add(1)
}

/// Whether `candidate` (overhead `doh`) beats the current choice (`least`, overhead `loh`):
/// `(__s64)loh * candidate->weight > (__s64)doh * least->weight`, so ties keep the earlier
/// destination and a weight-0 candidate never wins.
fn shorter(loh: u32, least: &SchedDest, doh: u32, candidate: &SchedDest) -> bool {
    i64::from(loh) * i64::from(candidate.weight) > i64::from(doh) * i64::from(least.weight)
}

/// `ip_vs_sed_schedule`: the smallest `(activeconns + 1) / weight`.
///
/// The first destination that is not overloaded and has weight above 0 seeds the search;
/// every later one that is not overloaded replaces it only if strictly better.
pub fn sed_pick(dests: &[SchedDest]) -> Option<u32> {
    least_per_weight(dests, |d| i64::from(expected_overhead(d)))
}

/// `ip_vs_nq_schedule`: the first idle destination (no active connection) in list order if
/// there is one, else the smallest `(activeconns + 1) / weight`. Overloaded destinations and
/// those with weight 0 are skipped.
pub fn nq_pick(dests: &[SchedDest]) -> Option<u32> {
    let mut least: Option<(&SchedDest, u32)> = None;
    for dest in dests {
        if dest.overloaded || dest.weight == 0 {
            continue;
        }
        let doh = expected_overhead(dest);
        if dest.active == 0 {
            return Some(dest.id);
        }
        if least.is_none_or(|(l, loh)| shorter(loh, l, doh, dest)) {
            least = Some((dest, doh));
        }
    }
    least.map(|(d, _)| d.id)
}

#[cfg(test)]
mod tests {
    use super::super::least::tests::dest;
    use super::*;

    #[test]
    fn sed_divides_active_plus_one_by_weight() {
        // (2+1)/1 = 3, (4+1)/2 = 2.5, (5+1)/3 = 2: the third.
        let dests = [dest(1, 1, 2, 0), dest(2, 2, 4, 0), dest(3, 3, 5, 0)];
        assert_eq!(sed_pick(&dests), Some(3));
    }

    #[test]
    fn sed_ignores_inactive_connections() {
        // wlc would take 2 (overhead 0 against 256); sed sees (1+1)/3 < (0+1)/1.
        let dests = [dest(1, 1, 0, 1000), dest(2, 3, 1, 0)];
        assert_eq!(sed_pick(&dests), Some(2));
    }

    #[test]
    fn sed_prefers_the_heavier_idle_server_unlike_wlc() {
        // All idle: wlc keeps the first, sed takes the biggest weight (1/4 < 1/1).
        let dests = [dest(1, 1, 0, 0), dest(2, 4, 0, 0), dest(3, 2, 0, 0)];
        assert_eq!(sed_pick(&dests), Some(2));
    }

    #[test]
    fn sed_ties_keep_the_first_and_weight_zero_never_wins() {
        // (1+1)/2 == (0+1)/1: the first stays.
        let dests = [dest(1, 2, 1, 0), dest(2, 1, 0, 0), dest(3, 0, 0, 0)];
        assert_eq!(sed_pick(&dests), Some(1));
    }

    #[test]
    fn sed_seeds_past_weight_zero_and_overloaded() {
        let mut dests = [dest(1, 0, 0, 0), dest(2, 5, 0, 0), dest(3, 1, 3, 0)];
        dests[1].overloaded = true;
        assert_eq!(sed_pick(&dests), Some(3));
        dests[2].overloaded = true;
        assert_eq!(sed_pick(&dests), None);
        assert_eq!(sed_pick(&[]), None);
    }

    #[test]
    fn nq_sends_to_the_first_idle_server_whatever_its_weight() {
        // 2 is idle: taken at once although 3 has the shortest expected delay... of 1/100.
        let dests = [dest(1, 10, 3, 0), dest(2, 1, 0, 50), dest(3, 100, 0, 0)];
        assert_eq!(nq_pick(&dests), Some(2));
    }

    #[test]
    fn nq_without_idle_server_is_sed() {
        let dests = [dest(1, 1, 2, 0), dest(2, 2, 4, 0), dest(3, 3, 5, 0)];
        assert_eq!(nq_pick(&dests), Some(3));
        assert_eq!(nq_pick(&dests), sed_pick(&dests));
        // Ties keep the first.
        let tie = [dest(1, 2, 1, 0), dest(2, 1, 1, 0), dest(3, 4, 3, 0)];
        assert_eq!(nq_pick(&tie), Some(1));
    }

    #[test]
    fn nq_skips_weight_zero_and_overloaded_even_when_idle() {
        let mut dests = [dest(1, 0, 0, 0), dest(2, 3, 0, 0), dest(3, 1, 2, 0)];
        dests[1].overloaded = true;
        assert_eq!(nq_pick(&dests), Some(3));
        dests[2].weight = 0;
        assert_eq!(nq_pick(&dests), None);
        assert_eq!(nq_pick(&[]), None);
    }

    #[test]
    fn products_are_64_bit() {
        // 4,000,000 active * weight 65535 overflows 32 bits.
        let dests = [dest(1, 1, 4_000_000, 0), dest(2, 65535, 4_000_000, 0)];
        assert_eq!(sed_pick(&dests), Some(2));
        assert_eq!(nq_pick(&dests), Some(2));
    }
}
