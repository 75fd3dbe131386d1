//! `twos`: the kernel's weighted random "power of two choices" scheduler (`ip_vs_twos.c`,
//! Linux 6.2 and later).
//!
//! Two destinations are drawn at random, each with a probability that grows with its weight,
//! and the one with the smaller `overhead / weight` (`activeconns * 256 + inactconns`) wins.
//! The draws are random, so no two directors (nor a director and IPVS) agree connection by
//! connection; the reference takes the two random numbers as arguments, and the data plane
//! draws them with `bpf_get_prandom_u32` where the kernel uses `prandom_u32`.

use super::dest::SchedDest;

/// `ip_vs_twos_schedule` with `r1` and `r2` as the kernel's two `prandom_u32()` draws.
///
/// Over the destinations that are not overloaded and have weight above 0 (in list order), with
/// `total` their weights' sum: each draw is reduced to `r % (total + 1)` and walks the list
/// subtracting weights until it reaches 0 or less (so the first destination also takes the
/// draw 0). The second choice wins only if `weight2 * overhead1 > weight1 * overhead2`, in a
/// C `int`.
pub fn twos_pick(dests: &[SchedDest], r1: u32, r2: u32) -> Option<u32> {
    let available = || dests.iter().filter(|d| d.is_available());
    let total: i32 = available().map(|d| d.weight).fold(0, i32::wrapping_add);
    let last = available().next_back()?;
    let modulus = total.wrapping_add(1) as u32;
    let (mut rw1, mut rw2) = ((r1 % modulus) as i32, (r2 % modulus) as i32);
    let mut choice1: Option<&SchedDest> = None;
    let mut choice2: Option<&SchedDest> = None;
    for d in available() {
        rw1 = rw1.wrapping_sub(d.weight);
        rw2 = rw2.wrapping_sub(d.weight);
        if rw1 <= 0 && choice1.is_none() {
            choice1 = Some(d);
        }
        if rw2 <= 0 && choice2.is_none() {
            choice2 = Some(d);
        }
        if choice1.is_some() && choice2.is_some() {
            break;
        }
    }
    let one = choice1.unwrap_or(last);
    let Some(two) = choice2 else {
        return Some(one.id);
    };
    // The kernel's weight1 is -1 and overhead1 0 when the first draw found nobody.
    let (w1, o1) = choice1.map_or((-1, 0), |c| (c.weight, c.overhead()));
    if two.weight.wrapping_mul(o1) > w1.wrapping_mul(two.overhead()) {
        return Some(two.id);
    }
    Some(one.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(id: u32, weight: i32, active: u32) -> SchedDest {
        SchedDest { id, weight, overloaded: false, active, inactive: 0 }
    }

    #[test]
    fn draws_walk_the_weights_the_first_taking_zero_too() {
        let dests = [dest(1, 2, 0), dest(2, 3, 0)];
        // total 5: draws 0..=2 land on 1, 3..=5 on 2; idle, so the first choice stays.
        let picks: Vec<u32> = (0..6).map(|r| twos_pick(&dests, r, r).unwrap_or(0)).collect();
        assert_eq!(picks, [1, 1, 1, 2, 2, 2]);
        // Draws are reduced modulo total + 1.
        assert_eq!(twos_pick(&dests, 6, 6), Some(1));
    }

    #[test]
    fn the_less_loaded_of_the_two_wins() {
        let dests = [dest(1, 1, 3), dest(2, 1, 1)];
        assert_eq!(twos_pick(&dests, 0, 2), Some(2));
        assert_eq!(twos_pick(&dests, 2, 0), Some(2));
        // Ties keep the first draw.
        let even = [dest(1, 1, 1), dest(2, 1, 1)];
        assert_eq!(twos_pick(&even, 2, 0), Some(2));
        assert_eq!(twos_pick(&even, 0, 2), Some(1));
    }

    #[test]
    fn weight_zero_and_overloaded_are_never_drawn() {
        let mut dests = [dest(1, 0, 0), dest(2, 4, 9), dest(3, 1, 0)];
        dests[2].overloaded = true;
        for r in 0..20 {
            assert_eq!(twos_pick(&dests, r, r * 7), Some(2));
        }
        dests[1].weight = 0;
        assert_eq!(twos_pick(&dests, 1, 2), None);
        assert_eq!(twos_pick(&[], 1, 2), None);
    }
}
