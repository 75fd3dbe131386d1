//! `FILE_CHECK`: the file's number (keepalived's trackers/track_file.c, read on every attempt
//! here where keepalived watches the file with inotify).
//!
//! What is implemented:
//! - The first 127 bytes are read (as keepalived). Surrounding blanks are trimmed; the rest must
//!   be an integer as `strtol(…, 0)` reads it: optional sign, then decimal, `0x` hex or
//!   leading-`0` octal, in `i32::MIN..=i32::MAX + 1` (keepalived's range). An empty file is 0.
//! - `weight 0` (multiplier 0): 0 passes and anything else fails; with `reverse` the other way
//!   round (keepalived's `!value != (multiplier == 1)`).
//! - Otherwise the new weight is the configured weight + value × multiplier (− with `reverse`);
//!   at or below 0 it fails (the configuration model's rule), else it passes, with
//!   `Pass::weight` = the new weight (at most `Weight::MAX`) when `dynamic`, none otherwise.
//!
//! Where keepalived differs: a missing or unreadable file reads as 0 there (here it fails, with
//! the reason), trailing garbage after the number is ignored there (here it fails), and a
//! computed weight below 1 quiesces the real server at weight 0 there, FAULT only when
//! value × multiplier is at or below `i32::MIN`.

use std::path::Path;

use rvs_core::config::FileCheck;
use rvs_core::model::Weight;
use tokio::io::AsyncReadExt;

use super::net::{Deadline, io_reason, quote};
use super::{Failure, Pass, ProbeResult};

/// keepalived reads one 128-byte buffer, NUL included.
const READ_MAX: u64 = 127;

pub(super) async fn probe(check: &FileCheck, weight: Weight, deadline: &Deadline) -> ProbeResult {
    let path = &check.path;
    let content = deadline
        .run(|| format!("reading {}", path.display()), read(path))
        .await?;
    let value = parse_value(&content)
        .map_err(|reason| Failure::new(format!("{}: {reason}", path.display())))?;
    judge(check, weight, value).map_err(|reason| Failure::new(format!("{}: {reason}", path.display())))
}

async fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    let fail = |e: std::io::Error| Failure::new(format!("cannot read {}: {}", path.display(), io_reason(&e)));
    let file = tokio::fs::File::open(path).await.map_err(fail)?;
    let mut content = Vec::with_capacity(READ_MAX as usize);
    file.take(READ_MAX).read_to_end(&mut content).await.map_err(fail)?;
    Ok(content)
}

/// The number in a file's content, as `strtol(s, NULL, 0)` reads a whole string.
pub(super) fn parse_value(content: &[u8]) -> Result<i64, String> {
    let garbage = || format!("{} is not a number", quote(content, 32));
    let text = std::str::from_utf8(content).map_err(|_| garbage())?.trim();
    if text.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    // from_str_radix would take a second sign.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(garbage());
    }
    let magnitude = i64::from_str_radix(digits, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("{text} is out of range"),
        _ => garbage(),
    })?;
    let value = if negative { -magnitude } else { magnitude };
    if value < i64::from(i32::MIN) || value > i64::from(i32::MAX) + 1 {
        return Err(format!("{text} is out of range"));
    }
    Ok(value)
}

/// The verdict on a value (see the module's doc).
pub(super) fn judge(check: &FileCheck, weight: Weight, value: i64) -> Result<Pass, String> {
    if check.multiplier == 0 {
        let up = (value == 0) != check.reverse;
        return if up {
            Ok(Pass::UP)
        } else {
            Err(format!("value {value} means down{}", if check.reverse { " (reverse)" } else { "" }))
        };
    }
    let delta = value * i64::from(check.multiplier);
    let delta = if check.reverse { -delta } else { delta };
    let new = i64::from(weight.get()) + delta;
    if new <= 0 {
        return Err(format!("value {value} brings the weight {} to {new}", weight.get()));
    }
    let clamped = u32::try_from(new).unwrap_or(Weight::MAX).min(Weight::MAX);
    Ok(Pass { weight: if check.dynamic { Weight::new(clamped) } else { None } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn check(multiplier: i32, reverse: bool, dynamic: bool) -> FileCheck {
        FileCheck { path: PathBuf::from("/x"), multiplier, reverse, dynamic }
    }

    fn w(n: u32) -> Weight {
        Weight::new(n).unwrap_or_default()
    }

    #[test]
    fn values() {
        assert_eq!(parse_value(b"42\n"), Ok(42));
        assert_eq!(parse_value(b"  -7 "), Ok(-7));
        assert_eq!(parse_value(b"+3"), Ok(3));
        assert_eq!(parse_value(b"0x1f"), Ok(31));
        assert_eq!(parse_value(b"010"), Ok(8));
        assert_eq!(parse_value(b"0"), Ok(0));
        assert_eq!(parse_value(b""), Ok(0));
        assert_eq!(parse_value(b"\n"), Ok(0));
        assert_eq!(parse_value(b"2147483648"), Ok(2_147_483_648));
        assert!(parse_value(b"2147483649").is_err());
        assert!(parse_value(b"-2147483649").is_err());
        assert!(parse_value(b"99999999999999999999999").is_err());
        assert!(parse_value(b"up").is_err());
        assert!(parse_value(b"12abc").is_err());
        assert!(parse_value(b"--1").is_err());
        assert!(parse_value(b"-+1").is_err());
        assert!(parse_value(b"09").is_err());
        assert!(parse_value(b"0x").is_err());
        assert!(parse_value(b"\xff").is_err());
    }

    #[test]
    fn up_or_down() {
        let c = check(0, false, false);
        assert_eq!(judge(&c, w(1), 0), Ok(Pass::UP));
        assert!(judge(&c, w(1), 1).is_err());
        assert!(judge(&c, w(1), -1).is_err());
        let r = check(0, true, true);
        assert!(judge(&r, w(1), 0).is_err());
        assert_eq!(judge(&r, w(1), 5), Ok(Pass::UP));
    }

    #[test]
    fn weights() {
        let c = check(2, false, true);
        assert_eq!(judge(&c, w(10), 3), Ok(Pass { weight: Some(w(16)) }));
        assert_eq!(judge(&c, w(10), -4), Ok(Pass { weight: Some(w(2)) }));
        assert!(judge(&c, w(10), -5).is_err());
        let r = check(2, true, true);
        assert_eq!(judge(&r, w(10), 3), Ok(Pass { weight: Some(w(4)) }));
        assert!(judge(&r, w(10), 5).is_err());
        assert_eq!(judge(&r, w(10), -1), Ok(Pass { weight: Some(w(12)) }));
        let n = check(-1, false, false);
        assert_eq!(judge(&n, w(10), 3), Ok(Pass::UP));
        assert!(judge(&n, w(10), 10).is_err());
        let big = check(i32::MAX, false, true);
        assert_eq!(judge(&big, w(Weight::MAX), 2_147_483_648), Ok(Pass { weight: Some(w(Weight::MAX)) }));
        let low = check(i32::MIN + 1, false, true);
        assert!(judge(&low, w(1), 2_147_483_648).is_err());
    }
}
