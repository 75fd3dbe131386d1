//! HTTP connections the test itself holds open from a lab host: a `GET /hold?secs=N` that
//! keeps trickling bytes, or a `GET /bytes?n=N` whose reading the test pauses and resumes.
//! They are what the least-connection and weight-0 tests keep alive across a change.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};
use rvs_lab::Host;

/// How long one read may block before the connection counts as stalled.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// An open HTTP/1.1 GET whose response head has been read.
#[derive(Debug)]
pub struct HeldGet {
    reader: BufReader<TcpStream>,
    /// The response head (status line and headers, without the empty line).
    pub head: String,
    /// Body bytes read so far.
    pub body_read: u64,
}

impl HeldGet {
    /// Connects from `host` to `addr` (the socket belongs to `host`'s namespace), sends
    /// `GET <target>` and reads the response head.
    pub fn open(host: &Host, addr: SocketAddr, target: &str) -> anyhow::Result<HeldGet> {
        let stream = host
            .run_in(|| TcpStream::connect_timeout(&addr, READ_TIMEOUT))?
            .with_context(|| format!("connecting from {} to {addr}", host.netns()))?;
        HeldGet::over(stream, addr, target)
    }

    /// Sends `GET <target>` to `addr` over `stream` and reads the response head.
    pub fn over(stream: TcpStream, addr: SocketAddr, target: &str) -> anyhow::Result<HeldGet> {
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_write_timeout(Some(READ_TIMEOUT))?;
        let mut writer = stream.try_clone()?;
        write!(writer, "GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n")?;
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = reader
                .read_line(&mut line)
                .with_context(|| format!("reading the response head of GET {target}"))?;
            if n == 0 {
                bail!("GET {target}: the connection closed before the end of the head: {head:?}");
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        if !head.starts_with("HTTP/1.1 200") {
            bail!("GET {target}: {head}");
        }
        Ok(HeldGet {
            reader,
            head,
            body_read: 0,
        })
    }

    /// Reads one body line (`webserver2\n` starts `/` and `/hold` bodies), without the newline.
    pub fn read_line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .context("reading a body line")?;
        self.body_read += n as u64;
        if !line.ends_with('\n') {
            bail!("the body ended inside a line: {line:?}");
        }
        line.pop();
        Ok(line)
    }

    /// Reads exactly `n` more body bytes, each read waiting at most [`READ_TIMEOUT`].
    pub fn read_exact(&mut self, n: usize) -> anyhow::Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.reader
            .read_exact(&mut buf)
            .with_context(|| format!("reading {n} body bytes after {}", self.body_read))?;
        self.body_read += n as u64;
        Ok(buf)
    }

    /// Reads the rest of the body until the server closes the connection.
    pub fn read_to_end(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut rest = Vec::new();
        self.reader
            .read_to_end(&mut rest)
            .with_context(|| format!("reading the body to its end after {}", self.body_read))?;
        self.body_read += rest.len() as u64;
        Ok(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server on loopback answering with `response` after reading the request head.
    fn canned(response: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        std::thread::spawn(move || {
            if let Ok((stream, _)) = listener.accept() {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = reader.get_mut().write_all(response);
            }
        });
        addr
    }

    fn open(addr: SocketAddr, target: &str) -> anyhow::Result<HeldGet> {
        HeldGet::over(TcpStream::connect(addr)?, addr, target)
    }

    #[test]
    fn a_hold_body_is_read_line_then_bytes_then_to_the_end() {
        let addr = canned(b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\nwebserver2\n...");
        let mut get = open(addr, "/hold?secs=3").unwrap_or_else(|e| panic!("{e:#}"));
        assert!(get.head.contains("content-length: 14"), "{}", get.head);
        assert_eq!(
            get.read_line().unwrap_or_else(|e| panic!("{e:#}")),
            "webserver2"
        );
        assert_eq!(get.read_exact(2).unwrap_or_else(|e| panic!("{e:#}")), b"..");
        assert_eq!(get.read_to_end().unwrap_or_else(|e| panic!("{e:#}")), b".");
        assert_eq!(get.body_read, 14);
    }

    #[test]
    fn errors_and_short_bodies_are_reported() {
        let addr = canned(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        let err = open(addr, "/nope").expect_err("a 404 is not a held GET");
        assert!(err.to_string().contains("404"), "{err}");

        let addr = canned(b"HTTP/1.1 200 OK\r\n\r\nab");
        let mut get = open(addr, "/").unwrap_or_else(|e| panic!("{e:#}"));
        assert!(get.read_line().is_err());
        let addr = canned(b"HTTP/1.1 200 OK\r\n\r\nab");
        let mut get = open(addr, "/").unwrap_or_else(|e| panic!("{e:#}"));
        assert!(get.read_exact(3).is_err());
    }
}
