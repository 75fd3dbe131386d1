//! `DNS_CHECK`: one query over UDP (random id, RD set, class IN) for `name` and `type`.
//!
//! As keepalived's check_dns.c, datagrams that are not the answer (too short, another id, QR not
//! set) are ignored and the wait goes on; an answer whose RCODE is not NOERROR fails. Beyond
//! keepalived (which passes any NOERROR answer), the answer must also hold at least one record
//! of the asked type, as rvs's configuration model says (`CheckKind::Dns`): a NOERROR answer
//! with no data (NODATA) fails. Messages are encoded and decoded here (header, question, the
//! answer records' owner, type and length), no DNS library.

use rvs_core::config::DnsQueryType;

use super::net::{Deadline, Endpoint, connect_udp, io_reason, quote, random, unreachable_reason};
use super::{Failure, Pass, ProbeResult};

const HEADER_LEN: usize = 12;
const CLASS_IN: u16 = 1;
const FLAG_QR: u16 = 0x8000;
const FLAG_RD: u16 = 0x0100;

pub(super) async fn probe(qtype: DnsQueryType, name: &str, endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    let dest = endpoint.dest;
    let id = u16::from_be_bytes(random::<2>()?);
    let query = encode_query(id, name, qtype.number()).map_err(|reason| Failure::new(format!("DNS name {name:?}: {reason}")))?;
    let socket = connect_udp(endpoint).await?;
    deadline
        .run(|| format!("sending the DNS query to {dest}"), async {
            socket.send(&query).await.map_err(|e| Failure::new(format!("send to {dest}: {}", io_reason(&e))))
        })
        .await?;
    let mut buf = vec![0u8; 4096];
    let mut ignored: Option<(usize, String)> = None;
    loop {
        let n = match tokio::time::timeout_at(deadline.at(), socket.recv(&mut buf)).await {
            Err(_) => {
                let mut doing = format!("waiting for the DNS answer from {dest}");
                if let Some((count, last)) = &ignored {
                    doing.push_str(&format!(" (ignored {count} datagram(s) that were not the answer, last: {last})"));
                }
                return Err(deadline.timed_out(&doing));
            }
            Ok(Err(e)) => return Err(Failure::new(unreachable_reason(&e, dest))),
            Ok(Ok(n)) => n,
        };
        match judge(&buf[..n], id, qtype) {
            Answer::NotOurs(why) => {
                let count = ignored.as_ref().map_or(0, |(count, _)| *count);
                ignored = Some((count + 1, why));
            }
            Answer::Pass => return Ok(Pass::UP),
            Answer::Fail(reason) => {
                return Err(Failure::new(format!("DNS {} {name} to {dest}: {reason}", qtype.name())));
            }
        }
    }
}

/// A query: header (id, RD, one question) and the question.
pub(super) fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut msg = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&FLAG_RD.to_be_bytes());
    msg.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD 1, AN 0, NS 0, AR 0
    let name = name.strip_suffix('.').unwrap_or(name);
    let start = msg.len();
    if !name.is_empty() {
        for label in name.split('.') {
            match label.len() {
                0 => return Err("empty label".into()),
                len @ 1..=63 => msg.push(len as u8),
                _ => return Err(format!("label {label:?} longer than 63 bytes")),
            }
            msg.extend_from_slice(label.as_bytes());
        }
    }
    msg.push(0);
    if msg.len() - start > 255 {
        return Err("longer than 255 bytes".into());
    }
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(msg)
}

/// What a datagram says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// Not the answer to the query (ignored, as keepalived does), and why.
    NotOurs(String),
    Pass,
    Fail(String),
}

/// Judges a datagram received after the query `id` for `qtype`.
pub(super) fn judge(msg: &[u8], id: u16, qtype: DnsQueryType) -> Answer {
    if msg.len() < HEADER_LEN {
        return Answer::NotOurs(format!("{} bytes, too short: {}", msg.len(), quote(msg, 32)));
    }
    let field = |at: usize| u16::from_be_bytes([msg[at], msg[at + 1]]);
    if field(0) != id {
        return Answer::NotOurs(format!("id {:#06x} instead of {id:#06x}", field(0)));
    }
    let flags = field(2);
    if flags & FLAG_QR == 0 {
        return Answer::NotOurs("a query, not an answer".into());
    }
    let rcode = flags & 0x000f;
    if rcode != 0 {
        return Answer::Fail(format!("answered {} ({rcode})", rcode_name(rcode)));
    }
    let (qdcount, ancount) = (field(4), field(6));
    match count_records(msg, qdcount, ancount, qtype.number()) {
        Err(reason) => Answer::Fail(format!("malformed answer: {reason}")),
        Ok(0) => Answer::Fail(format!("no {} record in the answer ({ancount} record(s) of other types)", qtype.name())),
        Ok(_) => Answer::Pass,
    }
}

/// How many of the answer section's records are of type `qtype`.
fn count_records(msg: &[u8], qdcount: u16, ancount: u16, qtype: u16) -> Result<usize, String> {
    let mut at = HEADER_LEN;
    for _ in 0..qdcount {
        at = skip_name(msg, at)?;
        at = at.checked_add(4).filter(|&end| end <= msg.len()).ok_or("question cut short")?;
    }
    let mut matching = 0;
    for _ in 0..ancount {
        at = skip_name(msg, at)?;
        let fixed = msg.get(at..at + 10).ok_or("record cut short")?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        at += 10;
        if at + rdlength > msg.len() {
            return Err("record data cut short".into());
        }
        at += rdlength;
        if rtype == qtype {
            matching += 1;
        }
    }
    Ok(matching)
}

/// The offset after an encoded name (labels, ended by a zero byte or a compression pointer).
fn skip_name(msg: &[u8], mut at: usize) -> Result<usize, String> {
    // A name has at most 127 labels.
    for _ in 0..128 {
        let len = *msg.get(at).ok_or("name cut short")?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(at + 1),
            0x00 => at += 1 + usize::from(len),
            0xc0 if at + 2 <= msg.len() => return Ok(at + 2),
            0xc0 => return Err("name cut short".into()),
            _ => return Err(format!("bad label byte {len:#04x}")),
        }
    }
    Err("name with too many labels".into())
}

fn rcode_name(rcode: u16) -> &'static str {
    match rcode {
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "an error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = encode_query(0x1234, "example.test.", 1);
        let expected: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x04test\x00\x00\x01\x00\x01";
        assert_eq!(q.as_deref(), Ok(expected));
        let root = encode_query(1, ".", 6);
        assert_eq!(root.map(|q| q[HEADER_LEN..].to_vec()), Ok(vec![0, 0, 6, 0, 1]));
        assert!(encode_query(1, "a..b", 1).is_err());
        assert!(encode_query(1, &"x".repeat(64), 1).is_err());
        assert!(encode_query(1, &["abcdefghi"; 30].join("."), 1).is_err());
    }

    /// An answer to `encode_query(0x1234, "example.test", qtype)` with these records
    /// (type, rdata), owners compressed to the question's name.
    fn answer(flags: u16, qtype: u16, records: &[(u16, &[u8])]) -> Vec<u8> {
        let mut msg = encode_query(0x1234, "example.test", qtype).unwrap_or_default();
        msg[2..4].copy_from_slice(&flags.to_be_bytes());
        msg[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
        for (rtype, rdata) in records {
            msg.extend_from_slice(&[0xc0, 12]);
            msg.extend_from_slice(&rtype.to_be_bytes());
            msg.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            msg.extend_from_slice(rdata);
        }
        msg
    }

    #[test]
    fn answers() {
        let a = DnsQueryType::A;
        assert_eq!(judge(&answer(0x8180, 1, &[(1, &[10, 1, 2, 3])]), 0x1234, a), Answer::Pass);
        // A CNAME then the A record.
        let cname: &[u8] = b"\x03www\xc0\x0c";
        assert_eq!(judge(&answer(0x8180, 1, &[(5, cname), (1, &[10, 1, 2, 3])]), 0x1234, a), Answer::Pass);
        // NODATA and NXDOMAIN fail.
        assert!(matches!(judge(&answer(0x8180, 28, &[]), 0x1234, DnsQueryType::Aaaa), Answer::Fail(_)));
        assert_eq!(judge(&answer(0x8183, 1, &[]), 0x1234, a), Answer::Fail("answered NXDOMAIN (3)".into()));
        // Not ours: another id, a query, a runt.
        assert!(matches!(judge(&answer(0x8180, 1, &[(1, &[1, 2, 3, 4])]), 0x4321, a), Answer::NotOurs(_)));
        assert!(matches!(judge(&answer(0x0100, 1, &[]), 0x1234, a), Answer::NotOurs(_)));
        assert!(matches!(judge(b"junk", 0x1234, a), Answer::NotOurs(_)));
        // Cut short.
        let mut cut = answer(0x8180, 1, &[(1, &[10, 1, 2, 3])]);
        cut.truncate(cut.len() - 2);
        assert!(matches!(judge(&cut, 0x1234, a), Answer::Fail(_)));
        let mut bad = answer(0x8180, 1, &[]);
        bad[12] = 0x80;
        assert!(matches!(judge(&bad, 0x1234, a), Answer::Fail(_)));
    }
}
