//! `lblc` and `lblcr`: the kernel's locality-based least-connection schedulers (`ip_vs_lblc.c`,
//! `ip_vs_lblcr.c`).
//!
//! Meant for caching proxies: requests for one destination address (the origin server behind a
//! transparent cache cluster) go to the same real server while it is not overloaded, so that
//! its cache stays warm. A cache maps each destination address to a real server; a miss, or a
//! real server that left, is quiesced, or is overloaded in lblc's sense, falls back to `wlc`,
//! whose pick is cached. The data plane keeps the cache in an LRU map (`lblc`); this is the
//! reference its fixtures follow, with the cache passed in.

use std::collections::HashMap;

use super::dest::SchedDest;
use super::least::{least_per_weight, wlc_pick};

/// lblc's cache: destination address (host order) to destination id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LblcCache {
    entries: HashMap<u32, u32>,
}

/// lblc's `is_overloaded`: more active connections than its weight, while some real server of
/// the service has fewer than half its weight.
fn overloaded(dest: &SchedDest, dests: &[SchedDest]) -> bool {
    i64::from(dest.active) > i64::from(dest.weight)
        && dests.iter().any(|d| i64::from(d.active) * 2 < i64::from(d.weight))
}

/// `ip_vs_lblc_schedule` for a packet to `daddr`. The cached real server is kept while it is in
/// the list with weight above 0 and not overloaded in lblc's sense (the threshold's OVERLOAD
/// flag is not looked at there, as in the kernel); otherwise `wlc` picks, and the pick is
/// cached.
pub fn lblc_pick(cache: &mut LblcCache, dests: &[SchedDest], daddr: u32) -> Option<u32> {
    if let Some(dest) = cache
        .entries
        .get(&daddr)
        .and_then(|id| dests.iter().find(|d| d.id == *id))
        && dest.weight > 0
        && !overloaded(dest, dests)
    {
        return Some(dest.id);
    }
    let pick = wlc_pick(dests)?;
    cache.entries.insert(daddr, pick);
    Some(pick)
}

/// lblcr's sets: destination address (host order) to its real servers' ids, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LblcrSets {
    entries: HashMap<u32, Vec<u32>>,
}

impl LblcrSets {
    /// The set of `daddr`, newest first.
    pub fn set(&self, daddr: u32) -> Option<&[u32]> {
        self.entries.get(&daddr).map(Vec::as_slice)
    }
}

/// `ip_vs_dest_set_min`: wlc's search (`least_per_weight`) over the set's members, in the set's
/// order: the first of weight above 0 that no threshold overloads, then any later one (not
/// overloaded) with a smaller overhead / weight.
fn set_min<'a>(set: &[u32], dests: &'a [SchedDest]) -> Option<&'a SchedDest> {
    let members: Vec<SchedDest> = set.iter().filter_map(|id| dests.iter().find(|d| d.id == *id)).copied().collect();
    let least = least_per_weight(&members, |d| i64::from(d.overhead()))?;
    dests.iter().find(|d| d.id == least)
}

/// `ip_vs_lblcr_schedule` for a packet to `daddr` (within `lblcr_expiration`, 24 hours, of the
/// set's last change, so no member is pruned): the least loaded member serves while it is not
/// overloaded in lblc's sense; otherwise `wlc` picks, and its pick joins the set at its head.
pub fn lblcr_pick(sets: &mut LblcrSets, dests: &[SchedDest], daddr: u32) -> Option<u32> {
    if let Some(set) = sets.entries.get_mut(&daddr) {
        if let Some(least) = set_min(set, dests)
            && !overloaded(least, dests)
        {
            return Some(least.id);
        }
        let pick = wlc_pick(dests)?;
        if !set.contains(&pick) {
            set.insert(0, pick);
        }
        return Some(pick);
    }
    let pick = wlc_pick(dests)?;
    sets.entries.insert(daddr, vec![pick]);
    Some(pick)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(id: u32, weight: i32, active: u32) -> SchedDest {
        SchedDest { id, weight, overloaded: false, active, inactive: 0 }
    }

    #[test]
    fn a_destination_address_sticks_to_its_real_server() {
        let mut cache = LblcCache::default();
        let mut dests = [dest(1, 4, 0), dest(2, 4, 0)];
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(1));
        // wlc would now prefer 2; the cache keeps 10 on 1, and sends 11 to 2.
        dests[0].active = 3;
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(1));
        assert_eq!(lblc_pick(&mut cache, &dests, 11), Some(2));
    }

    #[test]
    fn overloaded_only_while_another_is_under_half_load() {
        let mut cache = LblcCache::default();
        let mut dests = [dest(1, 2, 0), dest(2, 4, 3)];
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(1));
        // 1 has 3 active > weight 2, but no one is under half its weight: it stays.
        dests[0].active = 3;
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(1));
        // 2 drops to 1 active (< 4 / 2): 1 is overloaded, wlc moves 10 to 2 and caches it.
        dests[1].active = 1;
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(2));
        dests[1].active = 3;
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(2));
    }

    #[test]
    fn a_quiesced_or_removed_real_server_is_replaced() {
        let mut cache = LblcCache::default();
        let mut dests = vec![dest(1, 1, 0), dest(2, 1, 0)];
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(1));
        dests[0].weight = 0;
        assert_eq!(lblc_pick(&mut cache, &dests, 10), Some(2));
        dests.remove(1);
        assert_eq!(lblc_pick(&mut cache, &dests, 10), None);
    }

    #[test]
    fn lblcr_is_what_the_oracle_recorded_for_held_connections() {
        // tests/golden/traffic/sched-locality.txt, lblcr: rs1 weight 1 (id 1), rs2 weight 3
        // (id 2, the head of the list), every connection held: rs2 x4, rs1 x2, rs2 x2.
        let mut dests = vec![SchedDest::new(2, 3), SchedDest::new(1, 1)];
        let mut sets = LblcrSets::default();
        let mut picks = Vec::new();
        for _ in 0..8 {
            let pick = lblcr_pick(&mut sets, &dests, 0x0a00_0164).expect("a pick");
            picks.push(pick);
            if let Some(d) = dests.iter_mut().find(|d| d.id == pick) {
                d.active += 1;
            }
        }
        assert_eq!(picks, [2, 2, 2, 2, 1, 1, 2, 2]);
        assert_eq!(sets.set(0x0a00_0164), Some(&[1, 2][..]), "rs1 joined at the head");
    }

    #[test]
    fn lblcr_skips_members_a_threshold_overloads_and_of_weight_0() {
        let mut dests = vec![SchedDest::new(1, 1), SchedDest::new(2, 1), SchedDest::new(3, 0)];
        let mut sets = LblcrSets { entries: HashMap::from([(7, vec![3, 1, 2])]) };
        dests[0].overloaded = true;
        dests[1].active = 0;
        assert_eq!(lblcr_pick(&mut sets, &dests, 7), Some(2), "3 has weight 0, 1 is overloaded");
        dests.iter_mut().for_each(|d| d.overloaded = d.id != 3);
        // No member may serve: wlc's pick (none of weight above 0 left but 3) — none at all.
        assert_eq!(lblcr_pick(&mut sets, &dests, 7), None);
    }
}
