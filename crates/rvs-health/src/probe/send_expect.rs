//! piranha nanny's `send`/`expect`: connect over TCP, send the `send` bytes (none: only read),
//! read the answer, up to [`ANSWER_MAX`] bytes (or the prefix's length if longer) or until the
//! server closes. `expect "*"` (or none) passes once connected and sent; a prefix must be the
//! start of the answer; a regex (`use_regex = 1`) must match the answer read so far, as text
//! (invalid UTF-8 replaced).

use regex::Regex;
use rvs_core::config::ExpectPattern;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::net::{Deadline, Endpoint, connect_tcp, io_reason, quote};
use super::{Failure, Pass, ProbeResult};

/// How much of the answer is read (nanny reads one 256-byte buffer).
pub(super) const ANSWER_MAX: usize = 255;

pub(super) async fn probe(send: &[u8], expect: &ExpectPattern, endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    let dest = endpoint.dest;
    // A bad regex fails before anything is sent.
    let matcher = Matcher::new(expect).map_err(Failure::new)?;
    let mut stream = connect_tcp(endpoint, deadline).await?;
    if !send.is_empty() {
        deadline
            .run(|| format!("sending to {dest}"), async {
                stream.write_all(send).await.map_err(|e| Failure::new(format!("send to {dest}: {}", io_reason(&e))))
            })
            .await?;
    }
    if matcher == Matcher::Any {
        return Ok(Pass::UP);
    }
    let max = match expect {
        ExpectPattern::Prefix(prefix) => prefix.len().max(ANSWER_MAX),
        _ => ANSWER_MAX,
    };
    let mut answer = Vec::with_capacity(max);
    let mut buf = [0u8; 512];
    loop {
        let room = (max - answer.len()).min(buf.len());
        let read = tokio::time::timeout_at(deadline.at(), stream.read(&mut buf[..room])).await;
        let n = match read {
            Err(_) => {
                return Err(deadline.timed_out(&format!(
                    "waiting for the answer from {dest} ({} so far)",
                    quote(&answer, 64)
                )));
            }
            Ok(Err(e)) => return Err(Failure::new(format!("read from {dest}: {}", io_reason(&e)))),
            Ok(Ok(n)) => n,
        };
        answer.extend_from_slice(&buf[..n]);
        let done = n == 0 || answer.len() >= max;
        match matcher.verdict(&answer, done) {
            Some(Ok(())) => return Ok(Pass::UP),
            Some(Err(reason)) => return Err(Failure::new(format!("{dest}: {reason}"))),
            None => {}
        }
    }
}

/// An `expect` ready to test answers.
#[derive(Debug)]
pub(super) enum Matcher<'a> {
    Any,
    Prefix(&'a [u8]),
    Regex(Regex),
}

impl PartialEq for Matcher<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Matcher::Any, Matcher::Any) => true,
            (Matcher::Prefix(a), Matcher::Prefix(b)) => a == b,
            (Matcher::Regex(a), Matcher::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl<'a> Matcher<'a> {
    pub fn new(expect: &'a ExpectPattern) -> Result<Self, String> {
        Ok(match expect {
            ExpectPattern::Any => Matcher::Any,
            ExpectPattern::Prefix(prefix) if prefix.is_empty() => Matcher::Any,
            ExpectPattern::Prefix(prefix) => Matcher::Prefix(prefix),
            ExpectPattern::Regex(pattern) => {
                Matcher::Regex(Regex::new(pattern).map_err(|e| format!("bad expect regex {pattern:?}: {e}"))?)
            }
        })
    }

    /// The verdict on the answer read so far: `None` while more may change it; `done` when no
    /// more will come.
    pub fn verdict(&self, answer: &[u8], done: bool) -> Option<Result<(), String>> {
        match self {
            Matcher::Any => Some(Ok(())),
            Matcher::Prefix(prefix) => {
                let common = answer.len().min(prefix.len());
                if answer[..common] != prefix[..common] {
                    Some(Err(format!("answer {} does not start with {}", quote(answer, 64), quote(prefix, 64))))
                } else if common == prefix.len() {
                    Some(Ok(()))
                } else if done {
                    Some(Err(format!("answer {} ended before {}", quote(answer, 64), quote(prefix, 64))))
                } else {
                    None
                }
            }
            Matcher::Regex(regex) => {
                if regex.is_match(&String::from_utf8_lossy(answer)) {
                    Some(Ok(()))
                } else if done {
                    Some(Err(format!("answer {} does not match regex {:?}", quote(answer, 64), regex.as_str())))
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(p: &[u8]) -> ExpectPattern {
        ExpectPattern::Prefix(p.to_vec())
    }

    #[test]
    fn any_passes_at_once() {
        let any = ExpectPattern::Any;
        let m = Matcher::new(&any);
        assert_eq!(m.as_ref().ok().and_then(|m| m.verdict(b"", false)), Some(Ok(())));
        let empty = prefix(b"");
        assert_eq!(Matcher::new(&empty).ok(), Some(Matcher::Any));
    }

    #[test]
    fn prefixes() {
        let p = prefix(b"HTTP");
        let Ok(m) = Matcher::new(&p) else { panic!("prefix matcher") };
        assert_eq!(m.verdict(b"HT", false), None);
        assert!(matches!(m.verdict(b"HT", true), Some(Err(_))));
        assert_eq!(m.verdict(b"HTTP/1.0 200 OK", false), Some(Ok(())));
        assert_eq!(m.verdict(b"HTTP", true), Some(Ok(())));
        assert!(matches!(m.verdict(b"SSH-2.0", false), Some(Err(_))));
        assert!(matches!(m.verdict(b"X", false), Some(Err(_))));
    }

    #[test]
    fn regexes() {
        let r = ExpectPattern::Regex("^\\+OK .*ready".into());
        let Ok(m) = Matcher::new(&r) else { panic!("regex matcher") };
        assert_eq!(m.verdict(b"+OK pop3 ", false), None);
        assert_eq!(m.verdict(b"+OK pop3 ready\r\n", false), Some(Ok(())));
        assert!(matches!(m.verdict(b"-ERR\xff", true), Some(Err(_))));
        assert!(Matcher::new(&ExpectPattern::Regex("(".into())).is_err());
    }
}
