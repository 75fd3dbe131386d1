//! The C library's number and address parsers, reproduced for the quirks ipvsadm inherits from
//! them: `strtol` skips blanks and takes a sign, `atoi` never fails, glibc's `inet_aton` takes hex,
//! octal, 1 to 4 parts and trailing blanks, `inet_pton` is strict.

use std::net::{Ipv4Addr, Ipv6Addr};

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Result of `strtol(s, &end, 10)`: the value (saturated like glibc on overflow), whether it
/// overflowed (`ERANGE`), and how many bytes were consumed (0 when no digits were found).
struct StrtolResult {
    value: i64,
    overflow: bool,
    consumed: usize,
}

fn strtol10(s: &str) -> StrtolResult {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        let d = u64::from(b[i] - b'0');
        match magnitude.checked_mul(10).and_then(|m| m.checked_add(d)) {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return StrtolResult {
            value: 0,
            overflow: false,
            consumed: 0,
        };
    }
    let limit = if negative {
        i64::MIN.unsigned_abs()
    } else {
        i64::MAX as u64
    };
    if overflow || magnitude > limit {
        let value = if negative { i64::MIN } else { i64::MAX };
        return StrtolResult {
            value,
            overflow: true,
            consumed: i,
        };
    }
    let value = if negative {
        // magnitude <= 2^63 here
        0i64.wrapping_sub_unsigned(magnitude)
    } else {
        magnitude as i64
    };
    StrtolResult {
        value,
        overflow: false,
        consumed: i,
    }
}

/// ipvsadm's `string_to_number`: the whole string must be a base-10 `long` within `min..=max`.
pub fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let r = strtol10(s);
    if r.consumed == 0 || r.consumed != s.len() || r.overflow {
        return None;
    }
    (min..=max).contains(&r.value).then_some(r.value)
}

/// `atoi`: `(int) strtol(s, NULL, 10)`, 0 when there is no number.
pub fn atoi(s: &str) -> i32 {
    strtol10(s).value as i32
}

/// ipvsadm's `parse_fwmark` check: a whole base-10 number in 1..=`UINT_MAX`.
pub fn parse_fwmark(s: &str) -> Option<u32> {
    let r = strtol10(s);
    if r.consumed == 0 || r.consumed != s.len() || r.overflow || r.value <= 0 {
        return None;
    }
    u32::try_from(r.value).ok()
}

/// ipvsadm's `str_is_digit`: true when every byte is an ASCII digit (so also for "").
pub fn str_is_digit(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// `strtoul(s, &end, 0)` on a string that starts with a digit: value and bytes consumed; `None`
/// on overflow of `unsigned long`.
fn strtoul0(b: &[u8]) -> Option<(u64, usize)> {
    let (base, start) = if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        if b.get(2).is_some_and(u8::is_ascii_hexdigit) {
            (16, 2)
        } else {
            return Some((0, 1));
        }
    } else if b[0] == b'0' {
        (8, 0)
    } else {
        (10, 0)
    };
    let mut i = start;
    let mut v: u64 = 0;
    while i < b.len() {
        let d = match (b[i] as char).to_digit(base) {
            Some(d) => u64::from(d),
            None => break,
        };
        v = v.checked_mul(u64::from(base))?.checked_add(d)?;
        i += 1;
    }
    Some((v, i))
}

/// glibc `inet_aton`: `a`, `a.b`, `a.b.c`, `a.b.c.d`, each part decimal, octal (`0…`) or hex
/// (`0x…`); the last part fills the remaining bytes; anything after a blank is ignored.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut parts: Vec<u8> = Vec::with_capacity(3);
    let mut i = 0;
    let val: u64 = loop {
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (v, used) = strtoul0(&b[i..])?;
        if v > 0xffff_ffff {
            return None;
        }
        i += used;
        if b.get(i) == Some(&b'.') {
            if parts.len() > 2 || v > 0xff {
                return None;
            }
            parts.push(v as u8);
            i += 1;
        } else {
            break v;
        }
    };
    if let Some(&c) = b.get(i)
        && !(c.is_ascii() && is_c_space(c))
    {
        return None;
    }
    let max: u64 = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff][parts.len()];
    if val > max {
        return None;
    }
    let mut word: u32 = 0;
    for (k, p) in parts.iter().enumerate() {
        word |= u32::from(*p) << (24 - 8 * k);
    }
    Some(Ipv4Addr::from(word | val as u32))
}

/// glibc `inet_pton(AF_INET, …)`: exactly four decimal parts, no leading zeros, nothing else.
pub fn inet_pton4(s: &str) -> Option<Ipv4Addr> {
    let mut out = [0u8; 4];
    let mut octets = 0usize;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for ch in s.bytes() {
        if ch.is_ascii_digit() {
            if saw_digit && cur == 0 {
                return None;
            }
            cur = cur * 10 + u32::from(ch - b'0');
            if cur > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    (octets == 4).then(|| Ipv4Addr::from(out))
}

/// glibc `inet_pton(AF_INET6, …)`.
pub fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    let src = s.as_bytes();
    let mut tmp = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    let mut i = 0usize;
    if src.is_empty() {
        return None;
    }
    if src[0] == b':' {
        i = 1;
        if src.get(1) != Some(&b':') {
            return None;
        }
    }
    let mut curtok = i;
    let mut xdigits = 0;
    let mut val: u32 = 0;
    while i < src.len() {
        let ch = src[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            if xdigits == 4 {
                return None;
            }
            val = (val << 4) | d;
            xdigits += 1;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if xdigits == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == src.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            tmp[tp] = (val >> 8) as u8;
            tmp[tp + 1] = val as u8;
            tp += 2;
            xdigits = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            let v4 = std::str::from_utf8(&src[curtok..])
                .ok()
                .and_then(inet_pton4)?;
            tmp[tp..tp + 4].copy_from_slice(&v4.octets());
            tp += 4;
            xdigits = 0;
            break;
        }
        return None;
    }
    if xdigits > 0 {
        if tp + 2 > 16 {
            return None;
        }
        tmp[tp] = (val >> 8) as u8;
        tmp[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(c) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - c;
        tmp.copy_within(c..tp, 16 - n);
        tmp[c..16 - n].fill(0);
        tp = 16;
    }
    (tp == 16).then(|| Ipv6Addr::from(tmp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_number_follows_strtol() {
        assert_eq!(string_to_number("80", 0, 65535), Some(80));
        assert_eq!(string_to_number("+80", 0, 65535), Some(80));
        assert_eq!(string_to_number(" 80", 0, 65535), Some(80));
        assert_eq!(string_to_number("080", 0, 65535), Some(80));
        assert_eq!(string_to_number("-0", 0, 65535), Some(0));
        assert_eq!(string_to_number("80 ", 0, 65535), None);
        assert_eq!(string_to_number("0x50", 0, 65535), None);
        assert_eq!(string_to_number("", 0, 65535), None);
        assert_eq!(string_to_number("-", 0, 65535), None);
        assert_eq!(string_to_number("65536", 0, 65535), None);
        assert_eq!(string_to_number("-1", 0, 65535), None);
        assert_eq!(string_to_number("99999999999999999999", 0, i64::MAX), None);
        assert_eq!(
            string_to_number("2147483647", 0, 2_147_483_647),
            Some(2_147_483_647)
        );
    }

    #[test]
    fn atoi_truncates_like_c() {
        assert_eq!(atoi("64x"), 64);
        assert_eq!(atoi("255.255.255.0"), 255);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("4294967360"), 64);
        assert_eq!(atoi("99999999999999999999"), -1);
        assert_eq!(atoi("  -5"), -5);
    }

    #[test]
    fn fwmarks() {
        assert_eq!(parse_fwmark("1"), Some(1));
        assert_eq!(parse_fwmark("4294967295"), Some(u32::MAX));
        assert_eq!(parse_fwmark("4294967296"), None);
        assert_eq!(parse_fwmark("0"), None);
        assert_eq!(parse_fwmark("-1"), None);
        assert_eq!(parse_fwmark("abc"), None);
        assert_eq!(parse_fwmark("5x"), None);
    }

    #[test]
    fn inet_aton_quirks() {
        let a = |s| inet_aton(s).map(|a| a.to_string());
        assert_eq!(a("10.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(a("0x0a000002").as_deref(), Some("10.0.0.2"));
        assert_eq!(a("012.0.0.3").as_deref(), Some("10.0.0.3"));
        assert_eq!(a("1.2.3.6 ").as_deref(), Some("1.2.3.6"));
        assert_eq!(a("1.2.3.6 junk").as_deref(), Some("1.2.3.6"));
        assert_eq!(a("24").as_deref(), Some("0.0.0.24"));
        assert_eq!(a("1.2.65535").as_deref(), Some("1.2.255.255"));
        assert_eq!(a("1.2.65536"), None);
        assert_eq!(a(" 1.2.3.5"), None);
        assert_eq!(a("300.1.1.1"), None);
        assert_eq!(a("1.2.3.4.5"), None);
        assert_eq!(a("1.2.3."), None);
        assert_eq!(a("08"), None);
        assert_eq!(a("0x"), None);
        assert_eq!(a("localhost"), None);
        assert_eq!(a(""), None);
    }

    #[test]
    fn inet_pton_is_strict() {
        assert_eq!(inet_pton4("224.0.0.81"), Some(Ipv4Addr::new(224, 0, 0, 81)));
        assert_eq!(inet_pton4("01.2.3.4"), None);
        assert_eq!(inet_pton4("1.2.3"), None);
        assert_eq!(inet_pton4("1.2.3.4 "), None);
        let p = |s| inet_pton6(s).map(|a| a.to_string());
        assert_eq!(p("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(p("::").as_deref(), Some("::"));
        assert_eq!(p("::ffff:10.0.0.10").as_deref(), Some("::ffff:10.0.0.10"));
        assert_eq!(p("1:2:3:4:5:6:7:8").as_deref(), Some("1:2:3:4:5:6:7:8"));
        assert_eq!(p("1:2:3:4:5:6:7::"), Some("1:2:3:4:5:6:7:0".to_owned()));
        assert_eq!(p("1:2:3:4:5:6:7:8::"), None);
        assert_eq!(p(":1::2"), None);
        assert_eq!(p("1::2::3"), None);
        assert_eq!(p("2001:db8::1:"), None);
        assert_eq!(p("12345::"), None);
        assert_eq!(p("ff::1x"), None);
        assert_eq!(p("10.0.0.1"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("2001:db8::3:83").as_deref(), Some("2001:db8::3:83"));
    }

    #[test]
    fn digits_only() {
        assert!(str_is_digit("12345"));
        assert!(str_is_digit(""));
        assert!(!str_is_digit("1.2"));
    }
}
