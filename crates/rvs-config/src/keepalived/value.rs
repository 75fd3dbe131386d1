//! The values keepalived.conf's keywords take, read as keepalived reads them (`lib/parser.c`:
//! `read_unsigned`, `read_timer`, `check_true_false`, `read_hex_str`,
//! `alloc_strvec_quoted_escaped`; `lib/utils.c`: `inet_stosockaddr`).

use std::net::IpAddr;
use std::time::Duration;

/// `true|on|yes` / `false|off|no` (`check_true_false`).
pub(super) fn boolean(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// A decimal number without sign.
pub(super) fn unsigned(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A decimal number with an optional `-`/`+`.
pub(super) fn signed(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Seconds with up to 6 decimals, as `read_timer` takes them (`1`, `2.5`, `0.001`).
pub(super) fn seconds(s: &str) -> Option<Duration> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 6 {
        return None;
    }
    if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let micros: u32 = format!("{frac:0<6}").parse().ok()?;
    Duration::from_secs(secs).checked_add(Duration::from_micros(u64::from(micros)))
}

/// An IPv4 or IPv6 address (an IPv6 one may be written in brackets).
pub(super) fn ip(s: &str) -> Option<IpAddr> {
    let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
    s.parse().ok()
}

/// A hex string as `read_hex_str` reads it: blanks separate, each group gives bytes two digits
/// at a time (a lone digit is one byte); with `wildcard`, `X` stands for any 4 bits. Each byte
/// comes with the mask of its wildcard bits. `None` when a character is not hex or there is
/// nothing.
pub(super) fn hex(s: &str, wildcard: bool) -> Option<Vec<(u8, u8)>> {
    let digit = |c: char| match c {
        'x' | 'X' if wildcard => Some((0, 0x0f)),
        c => c.to_digit(16).map(|d| (d as u8, 0)),
    };
    let mut out = Vec::new();
    for group in s.split([' ', '\t']).filter(|g| !g.is_empty()) {
        let chars: Vec<char> = group.chars().collect();
        for pair in chars.chunks(2) {
            let (hi, hi_mask) = digit(pair[0])?;
            match pair.get(1) {
                Some(&c) => {
                    let (lo, lo_mask) = digit(c)?;
                    out.push(((hi << 4) | lo, (hi_mask << 4) | lo_mask));
                }
                None => out.push((hi, hi_mask)),
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Words of a command line as keepalived splits them (`alloc_strvec_quoted_escaped_common`):
/// blanks separate, `"…"` and `'…'` keep blanks together, `\` escapes the next character
/// (with `escapes`, `\n`, `\t`, `\x41`, `\101` … are translated; without, the `\` is kept).
/// The error is the quote left open.
pub(super) fn split_quoted(s: &str, escapes: bool) -> Result<Vec<String>, char> {
    let mut words = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => match chars.next() {
                    Some(e) if escapes => word.push(unescape(e, &mut chars)),
                    Some(e) => {
                        word.push('\\');
                        word.push(e);
                    }
                    None => word.push('\\'),
                },
                (c, Some(q)) if c == q => quote = None,
                (c, Some(_)) => word.push(c),
                ('"' | '\'', None) => quote = Some(c),
                (' ' | '\t', None) => break,
                (c, None) => word.push(c),
            }
        }
        if let Some(q) = quote {
            return Err(q);
        }
        words.push(word);
    }
}

fn unescape(e: char, rest: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    let code = |radix: u32, max: usize, first: Option<char>, rest: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut v = first.and_then(|c| c.to_digit(radix)).unwrap_or(0);
        for _ in 0..max {
            match rest.next_if(|c| c.is_digit(radix)) {
                Some(c) => v = v * radix + c.to_digit(radix).unwrap_or(0),
                None => break,
            }
        }
        char::from_u32(v & 0xff).unwrap_or('?')
    };
    match e {
        'x' if rest.peek().is_some_and(|c| c.is_ascii_hexdigit()) => code(16, 2, None, rest),
        'c' => match rest.next() {
            Some(c) => char::from(c as u8 & 0x1f),
            None => 'c',
        },
        '0'..='7' => code(8, 2, Some(e), rest),
        'a' => '\x07',
        'b' => '\x08',
        'E' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        other => other,
    }
}

/// The candidate closest to `word` when it is a plausible typo of it (edit distance at most 1
/// for short words, 2 from 5 characters on).
pub(super) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = if word.chars().count() < 5 { 1 } else { 2 };
    candidates
        .iter()
        .map(|c| (distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, with a swap of two neighbours counted as one edit.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_take_up_to_six_decimals() {
        assert_eq!(seconds("3"), Some(Duration::from_secs(3)));
        assert_eq!(seconds("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(seconds("0.000001"), Some(Duration::from_micros(1)));
        assert_eq!(seconds(".5"), Some(Duration::from_millis(500)));
        assert_eq!(seconds("1.0000001"), None);
        assert_eq!(seconds("-1"), None);
        assert_eq!(seconds("1s"), None);
        assert_eq!(seconds("."), None);
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(unsigned("42"), Some(42));
        assert_eq!(unsigned("-1"), None);
        assert_eq!(unsigned("0x10"), None);
        assert_eq!(signed("-253"), Some(-253));
        assert_eq!(signed("+7"), Some(7));
        assert_eq!(signed("-"), None);
        assert_eq!(boolean("on"), Some(true));
        assert_eq!(boolean("no"), Some(false));
        assert_eq!(boolean("1"), None);
    }

    #[test]
    fn hex_strings_group_by_two_digits_as_keepalived() {
        // keepalived.conf(5): "Ab12f 3 456 546443123" is AB 12 0F 03 45 06 54 64 43 12 03.
        let bytes: Vec<u8> = hex("Ab12f 3 456 546443123", false).unwrap_or_default().iter().map(|b| b.0).collect();
        assert_eq!(bytes, [0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03]);
        assert_eq!(hex("1X x2", true), Some(vec![(0x10, 0x0f), (0x02, 0xf0)]));
        assert_eq!(hex("1X", false), None);
        assert_eq!(hex("  ", false), None);
    }

    #[test]
    fn command_lines_split_on_blanks_outside_quotes() {
        assert_eq!(split_quoted("/bin/check -p 'a b' \"c d\"", true), Ok(vec![
            "/bin/check".to_owned(),
            "-p".to_owned(),
            "a b".to_owned(),
            "c d".to_owned()
        ]));
        assert_eq!(split_quoted(r"a\ b c\tx", true), Ok(vec!["a b".to_owned(), "c\tx".to_owned()]));
        assert_eq!(split_quoted(r"a\ b", false), Ok(vec![r"a\ b".to_owned()]));
        assert_eq!(split_quoted(r"\x41\101", true), Ok(vec!["AA".to_owned()]));
        assert_eq!(split_quoted("'open", true), Err('\''));
        assert_eq!(split_quoted("   ", true), Ok(vec![]));
    }

    #[test]
    fn near_misses_are_suggested() {
        let kws = ["delay_loop", "delay_before_retry", "weight", "retry"];
        assert_eq!(suggest("dealy_loop", &kws), Some("delay_loop"));
        assert_eq!(suggest("delay_lop", &kws), Some("delay_loop"));
        assert_eq!(suggest("wieght", &kws), Some("weight"));
        assert_eq!(suggest("retyr", &kws), Some("retry"));
        assert_eq!(suggest("quorum", &kws), None);
    }
}
