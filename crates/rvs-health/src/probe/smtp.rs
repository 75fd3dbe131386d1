//! `SMTP_CHECK` (keepalived's check_smtp.c): the server's banner must be 220, `HELO helo_name`
//! must be answered 250, then `QUIT` is sent and its answer (any, or a close) awaited. Multi-line replies
//! (`220-…` lines before `220 …`) are read whole (RFC 5321), where keepalived reads one line.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::net::{Deadline, Endpoint, connect_tcp, io_reason, quote};
use super::{Failure, Pass, ProbeResult};

/// The longest reply accepted.
const REPLY_MAX: usize = 4096;

pub(super) async fn probe(helo_name: &str, endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    let stream = connect_tcp(endpoint, deadline).await?;
    let mut session = Session { stream, buf: Vec::new(), dest: endpoint.dest, deadline };
    let banner = session.reply("waiting for the SMTP banner").await?;
    session.expect(&banner, 220, "banner")?;
    session.send(format!("HELO {helo_name}\r\n").as_bytes()).await?;
    let helo = session.reply("waiting for the answer to HELO").await?;
    session.expect(&helo, 250, "answer to HELO")?;
    session.send(b"QUIT\r\n").await?;
    session.any_answer("waiting for the answer to QUIT").await?;
    Ok(Pass::UP)
}

/// A complete reply: its code and its raw lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    pub code: u16,
    pub text: Vec<u8>,
}

struct Session<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    dest: SocketAddr,
    deadline: &'a Deadline,
}

impl Session<'_> {
    async fn send(&mut self, line: &[u8]) -> Result<(), Failure> {
        let dest = self.dest;
        let stream = &mut self.stream;
        self.deadline
            .run(|| format!("sending to {dest}"), async {
                stream.write_all(line).await.map_err(|e| Failure::new(format!("send to {dest}: {}", io_reason(&e))))
            })
            .await
    }

    /// Reads the next complete reply.
    async fn reply(&mut self, waiting: &str) -> Result<Reply, Failure> {
        let dest = self.dest;
        let mut chunk = [0u8; 1024];
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(reply);
                }
                Ok(None) if self.buf.len() > REPLY_MAX => {
                    return Err(Failure::new(format!("{dest}: SMTP reply longer than {REPLY_MAX} bytes")));
                }
                Ok(None) => {}
                Err(reason) => return Err(Failure::new(format!("{dest}: {reason}"))),
            }
            let n = match tokio::time::timeout_at(self.deadline.at(), self.stream.read(&mut chunk)).await {
                Err(_) => return Err(self.deadline.timed_out(&format!("{waiting} from {dest}"))),
                Ok(Err(e)) => return Err(Failure::new(format!("read from {dest}: {}", io_reason(&e)))),
                Ok(Ok(0)) => {
                    return Err(Failure::new(format!(
                        "{dest} closed the connection {waiting} ({} so far)",
                        quote(&self.buf, 64)
                    )));
                }
                Ok(Ok(n)) => n,
            };
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Waits for anything, an answer, an error or a close (the answer to `QUIT` does not matter).
    async fn any_answer(&mut self, waiting: &str) -> Result<(), Failure> {
        if !self.buf.is_empty() {
            return Ok(());
        }
        let mut chunk = [0u8; 512];
        match tokio::time::timeout_at(self.deadline.at(), self.stream.read(&mut chunk)).await {
            Err(_) => Err(self.deadline.timed_out(&format!("{waiting} from {}", self.dest))),
            Ok(_) => Ok(()),
        }
    }

    fn expect(&self, reply: &Reply, code: u16, what: &str) -> Result<(), Failure> {
        if reply.code == code {
            Ok(())
        } else {
            Err(Failure::new(format!("{}: SMTP {what} is not {code}: {}", self.dest, quote(&reply.text, 80))))
        }
    }
}

/// The first complete reply in `buf` and the bytes it takes; `Ok(None)` while its last line has
/// not come; an error when a line does not start with a 3-digit code. A reply is lines
/// `NNN-text` ending with a line `NNN text` (or just `NNN`); lines end with CRLF (or LF).
pub(super) fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let mut start = 0;
    while let Some(len) = buf[start..].iter().position(|&b| b == b'\n') {
        let end = start + len + 1;
        let line = buf[start..end].strip_suffix(b"\n").unwrap_or(&buf[start..end]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let code = match line.get(..3) {
            Some(digits) if digits.iter().all(u8::is_ascii_digit) => {
                digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
            }
            _ => return Err(format!("not an SMTP reply: {}", quote(&buf[start..end], 80))),
        };
        match line.get(3) {
            Some(b'-') => start = end,
            None | Some(b' ') => return Ok(Some((Reply { code, text: buf[..end].to_vec() }, end))),
            Some(_) => return Err(format!("not an SMTP reply: {}", quote(&buf[start..end], 80))),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(buf: &[u8]) -> Result<Option<(u16, usize)>, String> {
        parse_reply(buf).map(|r| r.map(|(reply, used)| (reply.code, used)))
    }

    #[test]
    fn single_line() {
        assert_eq!(code(b"220 mail.example ESMTP\r\n"), Ok(Some((220, 24))));
        assert_eq!(code(b"250\r\n"), Ok(Some((250, 5))));
        assert_eq!(code(b"220 mail.example ESMTP\n"), Ok(Some((220, 23))));
        assert_eq!(code(b"220 mail.exa"), Ok(None));
        assert_eq!(code(b""), Ok(None));
    }

    #[test]
    fn multi_line() {
        let reply = b"220-mail.example ESMTP\r\n220-no UCE\r\n220 ready\r\n250 next";
        assert_eq!(code(reply), Ok(Some((220, 47))));
        assert_eq!(code(&reply[..30]), Ok(None));
        let text = parse_reply(reply).ok().flatten().map(|(r, _)| r.text);
        assert_eq!(text.as_deref(), Some(&reply[..47]));
    }

    #[test]
    fn garbage() {
        assert!(code(b"hello\r\n").is_err());
        assert!(code(b"22\r\n").is_err());
        assert!(code(b"220x\r\n").is_err());
        assert_eq!(code(b"500 go away\r\n"), Ok(Some((500, 13))));
    }
}
