//! `fo` and `ovf`: the kernel's highest-weight-first schedulers (`ip_vs_fo.c`,
//! `ip_vs_ovf.c`).
//!
//! `fo` ("weighted failover") sends every new connection to the available destination with
//! the highest weight; the others are standbys. `ovf` ("weighted overflow") does the same
//! among destinations whose active connections do not exceed their weight, so a destination
//! takes up to `weight` active connections (one more, in fact: the kernel tests
//! `activeconns > weight`) before the next-heaviest one gets the overflow. Both are stateless.

use super::dest::SchedDest;

/// `ip_vs_fo_schedule`: the first destination with the highest weight above 0 that is not
/// overloaded.
pub fn fo_pick(dests: &[SchedDest]) -> Option<u32> {
    let mut best: Option<&SchedDest> = None;
    for dest in dests {
        if !dest.overloaded && dest.weight > best.map_or(0, |b| b.weight) {
            best = Some(dest);
        }
    }
    best.map(|d| d.id)
}

/// `ip_vs_ovf_schedule`: the first destination with the highest weight among those that are
/// not overloaded, have weight above 0 and no more active connections than their weight
/// (compared as the kernel's `int`).
pub fn ovf_pick(dests: &[SchedDest]) -> Option<u32> {
    let mut best: Option<&SchedDest> = None;
    for dest in dests {
        let w = dest.weight;
        if dest.overloaded || dest.active as i32 > w || w == 0 {
            continue;
        }
        if best.is_none_or(|b| w > b.weight) {
            best = Some(dest);
        }
    }
    best.map(|d| d.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(id: u32, weight: i32, active: u32) -> SchedDest {
        SchedDest {
            id,
            weight,
            overloaded: false,
            active,
            inactive: 0,
        }
    }

    #[test]
    fn fo_takes_the_heaviest_whatever_its_load() {
        let dests = [dest(1, 5, 0), dest(2, 9, 1000), dest(3, 7, 0)];
        assert_eq!(fo_pick(&dests), Some(2));
    }

    #[test]
    fn fo_ties_go_to_the_first_in_list() {
        let dests = [dest(1, 3, 0), dest(2, 9, 0), dest(3, 9, 0)];
        assert_eq!(fo_pick(&dests), Some(2));
    }

    #[test]
    fn fo_fails_over_when_the_heaviest_is_overloaded_or_quiesced() {
        let mut dests = [dest(1, 3, 0), dest(2, 9, 0), dest(3, 5, 0)];
        dests[1].overloaded = true;
        assert_eq!(fo_pick(&dests), Some(3));
        dests[2].weight = 0;
        assert_eq!(fo_pick(&dests), Some(1));
        dests[0].weight = 0;
        assert_eq!(fo_pick(&dests), None);
        assert_eq!(fo_pick(&[]), None);
    }

    #[test]
    fn ovf_overflows_past_weight_active_connections() {
        // 2 (weight 3) takes connections while it has at most 3 active, then 1 (weight 2).
        let mut dests = [dest(1, 2, 0), dest(2, 3, 0)];
        let mut picks = Vec::new();
        for _ in 0..9 {
            let Some(id) = ovf_pick(&dests) else {
                picks.push(0);
                continue;
            };
            picks.push(id);
            dests.iter_mut().filter(|d| d.id == id).for_each(|d| d.active += 1);
        }
        assert_eq!(picks, vec![2, 2, 2, 2, 1, 1, 1, 0, 0]);
    }

    #[test]
    fn ovf_ties_first_and_skips_weight_zero_and_overloaded() {
        let mut dests = [dest(1, 0, 0), dest(2, 4, 0), dest(3, 4, 0), dest(4, 1, 0)];
        assert_eq!(ovf_pick(&dests), Some(2));
        dests[1].overloaded = true;
        assert_eq!(ovf_pick(&dests), Some(3));
        dests[2].active = 5;
        assert_eq!(ovf_pick(&dests), Some(4));
    }
}
