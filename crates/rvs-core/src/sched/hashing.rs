//! `sh` and `dh`: the kernel's hashing schedulers (`ip_vs_sh.c`, `ip_vs_dh.c`).
//!
//! Both keep a 256-bucket table of destinations, rebuilt from the destination list on every
//! change (`ip_vs_{sh,dh}_reassign`), and pick the bucket of a hash of the packet's source
//! (`sh`, optionally with the source port: `sh-port`) or destination address (`dh`). The
//! tables are pure functions of the list, so the daemon builds them and the XDP data plane only
//! hashes and reads; the hash and the fallback walk (`sh-fallback`) are reproduced exactly.

use super::dest::SchedDest;

/// Buckets of a table (`CONFIG_IP_VS_SH_TAB_BITS` and `..._DH_TAB_BITS`, 8 by default).
pub const HASH_TABLE_SIZE: usize = 256;

/// The kernel's `GOLDEN_RATIO_32` (`include/linux/hash.h`).
const GOLDEN_RATIO_32: u32 = 0x61C8_8647;

/// The kernel's `hash_32(val, 8)`: the top 8 bits of `val * GOLDEN_RATIO_32`.
fn hash_32(val: u32) -> usize {
    (val.wrapping_mul(GOLDEN_RATIO_32) >> 24) as usize
}

/// `ip_vs_sh_hashkey`: `(offset + hash_32(port + addr, 8)) & 255`, the sum in a C
/// `unsigned int`. (Kernels before 4.x multiplied by 2654435761 and kept the low byte; the
/// real IPVS this was checked against, 6.1, hashes with `hash_32`.)
pub fn sh_bucket(addr: u32, port: u16, offset: u32) -> usize {
    (offset as usize + hash_32(u32::from(port).wrapping_add(addr))) & (HASH_TABLE_SIZE - 1)
}

/// `ip_vs_dh_hashkey`: `hash_32(addr, 8)`.
pub fn dh_bucket(addr: u32) -> usize {
    hash_32(addr)
}

/// What a hashing scheduler reads of a new connection's first packet, in host order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashInput {
    /// Source address.
    pub saddr: u32,
    /// Source port (TCP, UDP, SCTP; 0 for other protocols).
    pub sport: u16,
    /// Destination address.
    pub daddr: u32,
}

/// `ip_vs_sh_reassign`: the buckets in order take the destinations in list order, each for
/// `weight` buckets in a row (one for weight 0: the kernel moves on once its count reaches the
/// weight), cycling through the list. Empty without destinations.
pub fn sh_table(dests: &[SchedDest]) -> Vec<u32> {
    if dests.is_empty() {
        return Vec::new();
    }
    let mut table = Vec::with_capacity(HASH_TABLE_SIZE);
    let (mut at, mut count) = (0, 0);
    while table.len() < HASH_TABLE_SIZE {
        let dest = &dests[at];
        table.push(dest.id);
        count += 1;
        if count >= dest.weight {
            at = (at + 1) % dests.len();
            count = 0;
        }
    }
    table
}

/// `ip_vs_dh_reassign`: one bucket per destination in list order, cycling; weights play no
/// part. Empty without destinations.
pub fn dh_table(dests: &[SchedDest]) -> Vec<u32> {
    if dests.is_empty() {
        return Vec::new();
    }
    (0..HASH_TABLE_SIZE).map(|i| dests[i % dests.len()].id).collect()
}

/// The kernel's `is_unavailable` for these schedulers: weight 0 or overloaded.
fn usable(dests: &[SchedDest], id: u32) -> bool {
    dests.iter().any(|d| d.id == id && d.is_available())
}

/// `ip_vs_sh_schedule` over `table` (from [`sh_table`] of `dests`): the bucket of the source
/// address (plus the source port with `port`), or none if its destination is unusable. With
/// `fallback` (`sh-fallback`), an unusable destination sends the search around the table from
/// that bucket (`ip_vs_sh_get_fallback`).
pub fn sh_pick(
    table: &[u32],
    dests: &[SchedDest],
    input: &HashInput,
    port: bool,
    fallback: bool,
) -> Option<u32> {
    let port = if port { input.sport } else { 0 };
    table_pick(table, dests, fallback, |offset| sh_bucket(input.saddr, port, offset))
}

/// The lookup `sh` and `mh` share (`ip_vs_{sh,mh}_get` and `..._get_fallback`): the
/// destination at `position(0)` if it is usable; else, with `fallback`, the first usable one at
/// `position((offset + position(0)) % len)` for each offset around the table.
pub(super) fn table_pick(
    table: &[u32],
    dests: &[SchedDest],
    fallback: bool,
    position: impl Fn(u32) -> usize,
) -> Option<u32> {
    let ihash = position(0);
    let first = *table.get(ihash)?;
    if usable(dests, first) {
        return Some(first);
    }
    if !fallback {
        return None;
    }
    let len = table.len() as u32;
    (0..len)
        .filter_map(|offset| table.get(position((offset + ihash as u32) % len)).copied())
        .find(|&id| usable(dests, id))
}

/// `ip_vs_dh_schedule` over `table` (from [`dh_table`] of `dests`): the bucket of the
/// destination address, or none if its destination is unusable.
pub fn dh_pick(table: &[u32], dests: &[SchedDest], input: &HashInput) -> Option<u32> {
    let id = *table.get(dh_bucket(input.daddr))?;
    usable(dests, id).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests(weights: &[i32]) -> Vec<SchedDest> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| SchedDest::new(i as u32 + 1, w))
            .collect()
    }

    #[test]
    fn buckets_are_the_top_byte_of_the_golden_ratio_product() {
        // The top byte of the 32-bit product, for 10.0.1.2.
        let addr = 0x0a00_0102u32;
        let want = (u64::from(addr) * 0x61c8_8647) as u32 >> 24;
        assert_eq!(dh_bucket(addr), want as usize);
        assert_eq!(sh_bucket(addr, 0, 0), dh_bucket(addr));
        // The port is added to the address before hashing; the offset after.
        assert_eq!(sh_bucket(addr, 80, 0), dh_bucket(addr + 80));
        assert_eq!(sh_bucket(addr, 0, 3), (dh_bucket(addr) + 3) % 256);
        // The sum wraps as a C unsigned int.
        assert_eq!(sh_bucket(u32::MAX, 1, 0), dh_bucket(0));
    }

    #[test]
    fn sh_fills_weight_buckets_in_a_row_cycling_the_list() {
        let table = sh_table(&dests(&[3, 1, 2]));
        assert_eq!(table.len(), 256);
        assert_eq!(table[..8], [1, 1, 1, 2, 3, 3, 1, 1]);
        // 256 = 42 rounds of 6 and 4 more: 1 has 3 * 42 + 3, 2 has 42 + 1... of the rest.
        let count = |id| table.iter().filter(|&&d| d == id).count();
        assert_eq!((count(1), count(2), count(3)), (129, 43, 84));
    }

    #[test]
    fn sh_gives_a_weight_zero_destination_one_bucket_a_round() {
        let table = sh_table(&dests(&[2, 0]));
        assert_eq!(table[..6], [1, 1, 2, 1, 1, 2]);
    }

    #[test]
    fn dh_ignores_weights() {
        let table = dh_table(&dests(&[5, 1, 0]));
        assert_eq!(table[..6], [1, 2, 3, 1, 2, 3]);
        assert!(dh_table(&[]).is_empty() && sh_table(&[]).is_empty());
    }

    #[test]
    fn sh_without_fallback_fails_on_an_unusable_bucket() {
        let mut d = dests(&[1, 1]);
        let table = sh_table(&d);
        let input = HashInput { saddr: 0x0a00_0102, ..HashInput::default() };
        let first = sh_pick(&table, &d, &input, false, false).expect("a destination");
        assert_eq!(first, table[sh_bucket(input.saddr, 0, 0)]);
        let at = d.iter().position(|x| x.id == first).expect("in list");
        d[at].overloaded = true;
        assert_eq!(sh_pick(&table, &d, &input, false, false), None);
        // With the fallback the walk finds the other one.
        let other = d.iter().find(|x| x.id != first).expect("two").id;
        assert_eq!(sh_pick(&table, &d, &input, false, true), Some(other));
        d.iter_mut().for_each(|x| x.weight = 0);
        assert_eq!(sh_pick(&table, &d, &input, false, true), None);
    }

    #[test]
    fn sh_port_spreads_one_client_over_the_table() {
        let d = dests(&[1, 1, 1, 1]);
        let table = sh_table(&d);
        let picks: std::collections::BTreeSet<u32> = (1000..1064)
            .filter_map(|sport| {
                let input = HashInput { saddr: 0x0a00_0102, sport, daddr: 0 };
                sh_pick(&table, &d, &input, true, false)
            })
            .collect();
        assert_eq!(picks.len(), 4);
        let without: std::collections::BTreeSet<u32> = (1000..1064)
            .filter_map(|sport| {
                let input = HashInput { saddr: 0x0a00_0102, sport, daddr: 0 };
                sh_pick(&table, &d, &input, false, false)
            })
            .collect();
        assert_eq!(without.len(), 1);
    }

    #[test]
    fn dh_picks_by_destination_address() {
        let mut d = dests(&[1, 1, 1]);
        let table = dh_table(&d);
        let input = HashInput { daddr: 0x0a00_0164, ..HashInput::default() };
        let id = dh_pick(&table, &d, &input).expect("a destination");
        assert_eq!(id, table[dh_bucket(0x0a00_0164)]);
        d.iter_mut().filter(|x| x.id == id).for_each(|x| x.weight = 0);
        assert_eq!(dh_pick(&table, &d, &input), None);
    }
}
