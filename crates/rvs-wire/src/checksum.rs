//! The internet checksum: RFC 1071 sums, pseudo-header sums and RFC 1624 incremental updates.
//!
//! A *sum* here is the 16-bit one's-complement sum of big-endian words, folded, not complemented.
//! A checksum *field* holds the complement of the sum taken with the field set to zero, so a
//! buffer whose field is right sums to `0xffff`. NAT code that rewrites an address or port fixes
//! the field with [`update_u16`], [`update_u32`], [`update_ipv4_address`] or [`update_bytes`]
//! instead of summing the packet again; all of them use RFC 1624 equation 3,
//! `HC' = ~(~HC + ~m + m')`, which (unlike equation 2) never yields the wrong zero.

use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Address;
use crate::ipv6::Ipv6Address;

/// Folds a wide accumulator of 16-bit words into a one's-complement 16-bit sum.
fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // The loop leaves at most 0xffff, so the cast keeps every bit.
    acc as u16
}

/// One's-complement sum of `bytes` as big-endian 16-bit words; an odd last byte is padded with zero.
///
/// Sums of pieces can be [`combine`]d as long as every piece but the last has an even length.
pub fn data(bytes: &[u8]) -> u16 {
    let mut words = bytes.chunks_exact(2);
    let mut acc: u64 = 0;
    for word in &mut words {
        acc += u64::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    fold(acc)
}

/// One's-complement sum of partial sums.
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// Turns a sum into the value of a checksum field (its complement).
pub fn finish(sum: u16) -> u16 {
    !sum
}

/// Sum of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 793, RFC 768).
pub fn pseudo_header_v4(
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: IpProtocol,
    length: u32,
) -> u16 {
    let [s0, s1, s2, s3] = src.octets();
    let [d0, d1, d2, d3] = dst.octets();
    combine(&[
        u16::from_be_bytes([s0, s1]),
        u16::from_be_bytes([s2, s3]),
        u16::from_be_bytes([d0, d1]),
        u16::from_be_bytes([d2, d3]),
        u16::from(u8::from(protocol)),
        (length >> 16) as u16,
        (length & 0xffff) as u16,
    ])
}

/// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1).
pub fn pseudo_header_v6(
    src: Ipv6Address,
    dst: Ipv6Address,
    next_header: IpProtocol,
    length: u32,
) -> u16 {
    combine(&[
        data(&src.octets()),
        data(&dst.octets()),
        (length >> 16) as u16,
        (length & 0xffff) as u16,
        u16::from(u8::from(next_header)),
    ])
}

/// New checksum field after a 16-bit word covered by `checksum` changes from `old` to `new`.
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    !combine(&[!checksum, !old, new])
}

/// New checksum field after a 32-bit value at an even offset changes from `old` to `new`.
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let (old_hi, old_lo) = ((old >> 16) as u16, (old & 0xffff) as u16);
    let (new_hi, new_lo) = ((new >> 16) as u16, (new & 0xffff) as u16);
    !combine(&[!checksum, !old_hi, !old_lo, new_hi, new_lo])
}

/// New checksum field after an IPv4 address (in the header or the pseudo-header) is rewritten.
pub fn update_ipv4_address(checksum: u16, old: Ipv4Address, new: Ipv4Address) -> u16 {
    update_u32(checksum, old.to_bits(), new.to_bits())
}

/// New checksum field after bytes at an even offset change from `old` to `new`.
///
/// Both slices must start at the same even offset of the covered data; an odd length is only
/// right at the very end of the data, where the checksum pads with a zero byte too.
pub fn update_bytes(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    !combine(&[!checksum, !data(old), data(new)])
}

/// Applies `update` to a UDP-over-IPv4 checksum field, keeping UDP's special zero.
///
/// A zero field means "no checksum" and stays zero; a computed zero is sent as `0xffff`
/// (RFC 768). Use as `udp_update(c, |c| update_ipv4_address(c, old, new))`.
pub fn udp_update(checksum: u16, update: impl FnOnce(u16) -> u16) -> u16 {
    if checksum == 0 {
        return 0;
    }
    match update(checksum) {
        0 => 0xffff,
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::XorShift;
    use std::vec::Vec;

    /// Reference sum, written independently: one word at a time with end-around carry.
    fn ref_sum(bytes: &[u8]) -> u16 {
        let mut sum: u16 = 0;
        let mut i = 0;
        while i < bytes.len() {
            let hi = bytes[i];
            let lo = if i + 1 < bytes.len() { bytes[i + 1] } else { 0 };
            let word = (u32::from(hi) << 8) | u32::from(lo);
            let total = u32::from(sum) + word;
            sum = ((total & 0xffff) + (total >> 16)) as u16;
            i += 2;
        }
        sum
    }

    /// Reference checksum field over `bytes` (with the field already zero or absent).
    fn ref_checksum(bytes: &[u8]) -> u16 {
        !ref_sum(bytes)
    }

    /// Reference IPv4 pseudo-header bytes.
    fn ref_pseudo(src: [u8; 4], dst: [u8; 4], proto: u8, len: u16) -> Vec<u8> {
        let mut v = Vec::from(src);
        v.extend_from_slice(&dst);
        v.extend_from_slice(&[0, proto]);
        v.extend_from_slice(&len.to_be_bytes());
        v
    }

    #[test]
    fn rfc1071_worked_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(data(&bytes), 0xddf2);
        assert_eq!(finish(data(&bytes)), 0x220d);
    }

    #[test]
    fn rfc1624_worked_example_gives_plus_zero() {
        // RFC 1624 section 4: eqn. 3 turns HC=dd2f, m=5555, m'=3285 into 0000, not ffff.
        assert_eq!(update_u16(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn odd_length_pads_last_byte_with_zero() {
        assert_eq!(data(&[0x12]), 0x1200);
        assert_eq!(data(&[0xab, 0xcd, 0x12]), 0xabcd + 0x1200);
        assert_eq!(data(&[]), 0);
    }

    #[test]
    fn data_matches_reference_on_random_buffers() {
        let mut rng = XorShift::new(0x5eed_0001);
        for _ in 0..5000 {
            let buf = rng.bytes_plus(0, 300);
            assert_eq!(data(&buf), ref_sum(&buf), "buffer {buf:02x?}");
        }
    }

    #[test]
    fn all_ones_buffers_do_not_overflow() {
        let buf = std::vec![0xffu8; 70_001];
        assert_eq!(data(&buf), ref_sum(&buf));
    }

    #[test]
    fn combine_of_even_split_equals_whole() {
        let mut rng = XorShift::new(0x5eed_0002);
        for _ in 0..2000 {
            let buf = rng.bytes_plus(0, 200);
            let split = rng.below(buf.len() / 2 + 1) * 2;
            let (a, b) = buf.split_at(split);
            assert_eq!(combine(&[data(a), data(b)]), data(&buf));
        }
    }

    #[test]
    fn pseudo_header_v4_matches_reference_bytes() {
        let mut rng = XorShift::new(0x5eed_0003);
        for _ in 0..2000 {
            let (src, dst) = (rng.array::<4>(), rng.array::<4>());
            let (proto, len) = (rng.next() as u8, rng.next() as u16);
            let ours = pseudo_header_v4(
                Ipv4Address::from(src),
                Ipv4Address::from(dst),
                IpProtocol::from(proto),
                u32::from(len),
            );
            assert_eq!(ours, ref_sum(&ref_pseudo(src, dst, proto, len)));
        }
    }

    #[test]
    fn pseudo_header_v6_matches_reference_bytes() {
        let mut rng = XorShift::new(0x5eed_0004);
        for _ in 0..500 {
            let (src, dst) = (rng.array::<16>(), rng.array::<16>());
            let len = rng.next() as u32;
            let mut bytes = Vec::from(src);
            bytes.extend_from_slice(&dst);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&[0, 0, 0, 17]);
            let ours = pseudo_header_v6(
                Ipv6Address::from(src),
                Ipv6Address::from(dst),
                IpProtocol::Udp,
                len,
            );
            assert_eq!(ours, ref_sum(&bytes));
        }
    }

    /// A random buffer that is not all zero (the one case where +0 and -0 legitimately differ).
    fn nonzero_after(buf: &[u8]) -> bool {
        buf.iter().any(|&b| b != 0)
    }

    #[test]
    fn update_u16_matches_full_recompute() {
        let mut rng = XorShift::new(0x5eed_0005);
        let mut checked = 0;
        while checked < 5000 {
            let mut buf = rng.bytes_plus(2, 120);
            let before = ref_checksum(&buf);
            let at = rng.below(buf.len() / 2) * 2;
            let old = u16::from_be_bytes([buf[at], buf[at + 1]]);
            let new = rng.next() as u16;
            buf[at..at + 2].copy_from_slice(&new.to_be_bytes());
            if !nonzero_after(&buf) {
                continue;
            }
            assert_eq!(update_u16(before, old, new), ref_checksum(&buf));
            checked += 1;
        }
    }

    #[test]
    fn update_u32_matches_full_recompute_at_any_even_offset() {
        let mut rng = XorShift::new(0x5eed_0006);
        let mut checked = 0;
        while checked < 5000 {
            let mut buf = rng.bytes_plus(4, 120);
            let before = ref_checksum(&buf);
            let at = rng.below((buf.len() - 4) / 2 + 1) * 2;
            let old = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
            let new = rng.next() as u32;
            buf[at..at + 4].copy_from_slice(&new.to_be_bytes());
            if !nonzero_after(&buf) {
                continue;
            }
            assert_eq!(update_u32(before, old, new), ref_checksum(&buf));
            checked += 1;
        }
    }

    #[test]
    fn update_bytes_matches_full_recompute_for_any_span() {
        let mut rng = XorShift::new(0x5eed_0007);
        let mut checked = 0;
        while checked < 5000 {
            let mut buf = rng.bytes_plus(1, 120);
            let before = ref_checksum(&buf);
            let at = rng.below(buf.len().div_ceil(2)) * 2;
            // Even spans anywhere; a span reaching the end may be odd.
            let max_words = (buf.len() - at) / 2;
            let span = if rng.below(4) == 0 {
                buf.len() - at
            } else {
                rng.below(max_words + 1) * 2
            };
            let old = Vec::from(&buf[at..at + span]);
            let new = rng.bytes(span);
            buf[at..at + span].copy_from_slice(&new);
            if !nonzero_after(&buf) {
                continue;
            }
            assert_eq!(update_bytes(before, &old, &new), ref_checksum(&buf));
            checked += 1;
        }
    }

    #[test]
    fn nat_rewrite_of_pseudo_header_address_and_port_matches_recompute() {
        // A NAT rewrites the destination address (pseudo-header) and port (segment) of a TCP
        // segment; two incremental updates must equal summing the new segment from scratch.
        let mut rng = XorShift::new(0x5eed_0008);
        for _ in 0..3000 {
            let (src, old_dst, new_dst) = (rng.array::<4>(), rng.array::<4>(), rng.array::<4>());
            let mut seg = rng.bytes_plus(20, 60);
            seg[16..18].copy_from_slice(&[0, 0]);
            let len = seg.len() as u16;
            let full = |dst: [u8; 4], seg: &[u8]| {
                let mut all = ref_pseudo(src, dst, 6, len);
                all.extend_from_slice(seg);
                ref_checksum(&all)
            };
            let before = full(old_dst, &seg);
            let old_port = u16::from_be_bytes([seg[2], seg[3]]);
            let new_port = rng.next() as u16;
            seg[2..4].copy_from_slice(&new_port.to_be_bytes());
            let after = full(new_dst, &seg);
            let c = update_ipv4_address(
                before,
                Ipv4Address::from(old_dst),
                Ipv4Address::from(new_dst),
            );
            let c = update_u16(c, old_port, new_port);
            assert_eq!(c, after);
        }
    }

    #[test]
    fn all_zero_result_differs_only_in_the_sign_of_zero() {
        // Rewriting the only nonzero word to zero: a fresh sum gives +0 (field ffff), the
        // incremental form gives -0 (field 0000). Both verify, since 0000 and ffff are one value.
        let before = ref_checksum(&[0x12, 0x34, 0, 0]);
        assert_eq!(ref_checksum(&[0, 0, 0, 0]), 0xffff);
        assert_eq!(update_u16(before, 0x1234, 0), 0x0000);
    }

    #[test]
    fn udp_update_keeps_zero_and_never_produces_it() {
        assert_eq!(udp_update(0, |c| update_u16(c, 1, 2)), 0);
        // ~ffff + ~0001 + 0001 = ffff, so the plain update would give the forbidden 0000.
        assert_eq!(update_u16(0xffff, 1, 1), 0);
        assert_eq!(udp_update(0xffff, |c| update_u16(c, 1, 1)), 0xffff);
        assert_eq!(udp_update(0x1234, |c| update_u16(c, 0, 1)), 0x1233);
    }
}
