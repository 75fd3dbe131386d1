//! `lblc`: the kernel's locality-based least-connection scheduler (`ip_vs_lblc.c`).
//!
//! Meant for caching proxies: requests for one destination address (the origin server behind a
//! transparent cache cluster) go to the same real server while it is not overloaded, so that
//! its cache stays warm. A cache maps each destination address to a real server; a miss, or a
//! real server that left, is quiesced, or is overloaded in lblc's sense, falls back to `wlc`,
//! whose pick is cached. The data plane keeps the cache in an LRU map (`lblc`); this is the
//! reference its fixtures follow, with the cache passed in.

use std::collections::HashMap;

use super::dest::SchedDest;
use super::least::wlc_pick;

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
}
