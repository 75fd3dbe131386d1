//! `mh`: the kernel's Maglev hashing scheduler (`ip_vs_mh.c`).
//!
//! Each destination gets a preference list over a lookup table of 4093 positions (a prime,
//! `CONFIG_IP_VS_MH_TAB_INDEX = 12`), from an offset and a skip hashed from its address and
//! port; the destinations take turns (in proportion to their weights) claiming their next
//! preferred free position until the table is full. A connection goes to the position its
//! source address (and port, `mh-port`) hashes to. The hash keys are fixed constants, so two
//! directors, and a kernel IPVS, with the same real servers fill the same table and send a
//! client to the same real server. The table follows each destination's *last non-zero*
//! weight, so quiescing a real server (weight 0) does not reshuffle anyone else.

use super::dest::SchedDest;
use super::hashing::table_pick;

/// Positions in the lookup table (`primes[CONFIG_IP_VS_MH_TAB_INDEX - 8]`).
pub const MH_TABLE_SIZE: usize = 4093;
/// `IP_VS_MH_TAB_BITS` (`CONFIG_IP_VS_MH_TAB_INDEX / 2`): how many bits of `weight / gcd`
/// the turns keep.
const MH_TAB_BITS: u32 = 6;

/// `generate_hash_secret`: the two fixed hsiphash keys (each word of a key the same).
pub const MH_KEY1: u64 = 2_654_435_761;
/// The second key, for the skips.
pub const MH_KEY2: u64 = 2_654_446_892;

/// The kernel's `hsiphash` of one 32-bit word on a 64-bit machine, where it is SipHash-1-3
/// with the key `(k, k)`: the words of `data` little-endian, the length in the top byte.
pub fn hsiphash_u32(data: u32, k: u64) -> u32 {
    let mut v = [
        0x736f_6d65_7073_6575 ^ k,
        0x646f_7261_6e64_6f6d ^ k,
        0x6c79_6765_6e65_7261 ^ k,
        0x7465_6462_7974_6573 ^ k,
    ];
    let b = (4u64 << 56) | u64::from(data);
    v[3] ^= b;
    sip_round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    ((v[0] ^ v[1]) ^ (v[2] ^ v[3])) as u32
}

fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// `ip_vs_mh_hashkey`: `hsiphash(offset + port + addr)` (a C `unsigned int` sum), host order.
pub fn mh_hash(addr: u32, port: u16, key: u64, offset: u32) -> u32 {
    hsiphash_u32(offset.wrapping_add(u32::from(port)).wrapping_add(addr), key)
}

/// A destination as `mh` sees it: where it is and its last non-zero weight
/// (`dest->last_weight`: set when it is added, and by every edit to a weight above 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaglevDest {
    /// Identifier, as in [`SchedDest::id`].
    pub id: u32,
    /// Real server address, host order.
    pub addr: u32,
    /// Real server port, host order.
    pub port: u16,
    /// `last_weight`.
    pub last_weight: i32,
}

fn gcd(a: i32, b: i32) -> i32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `ip_vs_mh_permutate` and `ip_vs_mh_populate`: the lookup table for `dests` in list order
/// (newest first). Empty when no destination has a last weight above 0 (the kernel's table of
/// empty positions).
pub fn mh_table(dests: &[MaglevDest]) -> Vec<u32> {
    let m = MH_TABLE_SIZE as u32;
    let g = dests
        .iter()
        .map(|d| d.last_weight)
        .filter(|&w| w > 0)
        .fold(0, |g, w| if g > 0 { gcd(w, g) } else { w });
    if g < 1 {
        return Vec::new();
    }
    let max = dests.iter().map(|d| d.last_weight).max().unwrap_or(0);
    // fls(max / gcd) - IP_VS_MH_TAB_BITS, at least 0.
    let fls = 32 - ((max / g) as u32).leading_zeros();
    let rshift = fls.saturating_sub(MH_TAB_BITS);
    let skip: Vec<u32> = dests
        .iter()
        .map(|d| mh_hash(d.addr, d.port, MH_KEY2, 0) % (m - 1) + 1)
        .collect();
    let mut perm: Vec<u32> = dests.iter().map(|d| mh_hash(d.addr, d.port, MH_KEY1, 0) % m).collect();
    let turns: Vec<i32> = dests
        .iter()
        .map(|d| {
            let t = (d.last_weight / g) >> rshift;
            if t != 0 { t } else { i32::from(d.last_weight != 0) }
        })
        .collect();

    let mut table = vec![0u32; MH_TABLE_SIZE];
    let mut taken = vec![false; MH_TABLE_SIZE];
    let (mut n, mut dt_count) = (0, 0);
    loop {
        let mut i = 0;
        while i < dests.len() {
            if turns[i] < 1 {
                i += 1;
                continue;
            }
            let mut c = perm[i];
            while taken[c as usize] {
                perm[i] += skip[i];
                if perm[i] >= m {
                    perm[i] -= m;
                }
                c = perm[i];
            }
            taken[c as usize] = true;
            table[c as usize] = dests[i].id;
            n += 1;
            if n == MH_TABLE_SIZE {
                return table;
            }
            dt_count += 1;
            if dt_count >= turns[i] {
                dt_count = 0;
                i += 1;
            }
        }
    }
}

/// `ip_vs_mh_schedule` over `table` (from [`mh_table`]; `dests` tells which are usable): the
/// position of the source address (plus the source port with `port`), or none if its
/// destination is unusable. With `fallback` (`mh-fallback`), an unusable destination sends the
/// search around the table (`ip_vs_mh_get_fallback`).
pub fn mh_pick(
    table: &[u32],
    dests: &[SchedDest],
    saddr: u32,
    sport: u16,
    port: bool,
    fallback: bool,
) -> Option<u32> {
    let m = MH_TABLE_SIZE as u32;
    let port = if port { sport } else { 0 };
    table_pick(table, dests, fallback, |offset| (mh_hash(saddr, port, MH_KEY1, offset) % m) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(id: u32, last_weight: i32) -> MaglevDest {
        MaglevDest { id, addr: 0x0a00_010a + id, port: 80, last_weight }
    }

    #[test]
    fn the_table_is_full_and_follows_the_weights() {
        let table = mh_table(&[md(3, 1), md(2, 4), md(1, 1)]);
        assert_eq!(table.len(), MH_TABLE_SIZE);
        let count = |id| table.iter().filter(|&&d| d == id).count() as f64;
        let share = count(2) / MH_TABLE_SIZE as f64;
        assert!((share - 4.0 / 6.0).abs() < 0.01, "{share}");
        assert!((count(1) - count(3)).abs() < 10.0);
    }

    #[test]
    fn a_quiesced_real_keeps_its_positions() {
        // Quiescing changes the weight, not last_weight: the same table.
        let before = mh_table(&[md(3, 1), md(2, 1), md(1, 1)]);
        let d = [SchedDest::new(3, 1), SchedDest::new(2, 0), SchedDest::new(1, 1)];
        let after = mh_table(&[md(3, 1), md(2, 1), md(1, 1)]);
        assert_eq!(before, after);
        // Its clients now find no one, or another real with the fallback.
        let client = (0..1000u32)
            .map(|a| 0x0a00_0000 + a)
            .find(|&a| before[(mh_hash(a, 0, MH_KEY1, 0) % MH_TABLE_SIZE as u32) as usize] == 2)
            .expect("some client hashes to real 2");
        assert_eq!(mh_pick(&after, &d, client, 0, false, false), None);
        assert!(matches!(mh_pick(&after, &d, client, 0, false, true), Some(1 | 3)));
    }

    #[test]
    fn removing_a_real_moves_only_its_clients() {
        let three = mh_table(&[md(3, 1), md(2, 1), md(1, 1)]);
        let two = mh_table(&[md(3, 1), md(1, 1)]);
        let moved = three.iter().zip(&two).filter(|(a, b)| a != b).count();
        let owned_by_2 = three.iter().filter(|&&d| d == 2).count();
        // Maglev's promise: nearly only the removed real's positions change hands.
        assert!(moved >= owned_by_2 && moved < owned_by_2 + MH_TABLE_SIZE / 20, "{moved} {owned_by_2}");
    }

    #[test]
    fn no_weight_no_table() {
        assert!(mh_table(&[md(1, 0), md(2, 0)]).is_empty());
        assert!(mh_table(&[]).is_empty());
    }
}
