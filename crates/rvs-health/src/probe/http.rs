//! `HTTP_GET` and `SSL_GET` (keepalived's check_http.c, check_ssl.c): for every `url`, one
//! connection (TLS for `SSL_GET`, the certificate not verified), one
//! `GET path HTTP/1.0` with keepalived's headers, the whole answer read; the status must be in
//! `status_code`, the body's MD5 must be `digest`, the body must match `regex` (or must not, with
//! `regex_no_match`). Every url must pass.
//!
//! The answer ends at the close of the connection, at `Content-Length`, or at the end of a
//! chunked body. Bodies longer than [`BODY_MAX`] are cut: enough for the status, too long for a
//! digest or regex (that fails).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use md5::{Digest, Md5};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rvs_core::config::{HttpCheck, HttpVersion, StatusCodes, UrlCheck};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;

use super::net::{Deadline, Endpoint, connect_tcp, hex, io_reason, quote};
use super::{Failure, Pass, ProbeResult};

/// The longest body kept for `digest` and `regex`.
pub(super) const BODY_MAX: usize = 1 << 20;
/// The longest response head accepted.
const HEAD_MAX: usize = 64 << 10;
/// Headers parsed in a response head.
const HEADERS_MAX: usize = 64;

pub(super) async fn probe(check: &HttpCheck, endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    if check.urls.is_empty() {
        return Err(Failure::new("no url to check"));
    }
    for url in &check.urls {
        fetch(check, url, endpoint, deadline).await?;
    }
    Ok(Pass::UP)
}

/// One url: connect, ask, read, judge.
async fn fetch(check: &HttpCheck, url: &UrlCheck, endpoint: &Endpoint, deadline: &Deadline) -> Result<(), Failure> {
    let dest = endpoint.dest;
    let request = request(check, url, dest);
    let stream = connect_tcp(endpoint, deadline).await?;
    let response = match &check.tls {
        None => exchange(stream, &request, dest, deadline).await?,
        Some(tls) => {
            let connector = TlsConnector::from(tls_config()?);
            let sni = tls
                .enable_sni
                .then(|| tls.sni_name.as_ref().or(url.virtualhost.as_ref()).or(check.virtualhost.as_ref()))
                .flatten();
            // A DNS name is sent as SNI; an address (or no name) is not.
            let name = sni
                .and_then(|name| ServerName::try_from(name.clone()).ok())
                .unwrap_or(ServerName::IpAddress(dest.ip().into()));
            let stream = deadline
                .run(|| format!("in the TLS handshake with {dest}"), async {
                    connector
                        .connect(name, stream)
                        .await
                        .map_err(|e| Failure::new(format!("TLS handshake with {dest}: {}", io_reason(&e))))
                })
                .await?;
            exchange(stream, &request, dest, deadline).await?
        }
    };
    judge(url, &response).map_err(|reason| Failure::new(format!("GET {}: {reason}", url.path)))
}

/// keepalived's request: `Host` is the virtual host, else the address and port.
fn request(check: &HttpCheck, url: &UrlCheck, dest: SocketAddr) -> Vec<u8> {
    let host = match url.virtualhost.as_ref().or(check.virtualhost.as_ref()) {
        Some(vhost) => vhost.clone(),
        // SocketAddr's form: "10.0.0.1:80", "[2001:db8::1]:80".
        None => dest.to_string(),
    };
    let (version, close) = match check.version {
        HttpVersion::Http10 => ("1.0", ""),
        HttpVersion::Http10Close => ("1.0", "Connection: close\r\n"),
        HttpVersion::Http11 => ("1.1", "Connection: close\r\n"),
    };
    format!(
        "GET {} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n",
        url.path
    )
    .into_bytes()
}

/// What the check looks at in an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The body was longer than [`BODY_MAX`] and is cut.
    pub truncated: bool,
}

/// How the end of a body is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Close,
    Length(usize),
    Chunked,
}

/// Sends the request and reads the answer.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    dest: SocketAddr,
    deadline: &Deadline,
) -> Result<Response, Failure> {
    deadline
        .run(|| format!("sending the request to {dest}"), async {
            stream
                .write_all(request)
                .await
                .map_err(|e| Failure::new(format!("send to {dest}: {}", io_reason(&e))))
        })
        .await?;
    let mut raw = Vec::with_capacity(4096);
    let mut head: Option<(u16, usize, Framing)> = None;
    let mut buf = [0u8; 8192];
    loop {
        let n = match tokio::time::timeout_at(deadline.at(), stream.read(&mut buf)).await {
            Err(_) => {
                let what = if head.is_some() { "reading the body" } else { "waiting for the answer" };
                return Err(deadline.timed_out(&format!("{what} from {dest}")));
            }
            Ok(Ok(n)) => n,
            // A TLS peer that closes without close_notify: the end of the answer all the same.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Ok(Err(e)) => return Err(Failure::new(format!("read from {dest}: {}", io_reason(&e)))),
        };
        raw.extend_from_slice(&buf[..n]);
        if head.is_none() {
            head = parse_head(&raw).map_err(|reason| Failure::new(format!("{dest}: {reason}")))?;
            if head.is_none() && raw.len() > HEAD_MAX {
                return Err(Failure::new(format!("{dest}: response head longer than {HEAD_MAX} bytes")));
            }
        }
        let eof = n == 0;
        match head {
            None if eof => {
                return Err(Failure::new(if raw.is_empty() {
                    format!("{dest} closed the connection without an answer")
                } else {
                    format!("{dest} closed the connection in the response head: {}", quote(&raw, 64))
                }));
            }
            None => {}
            Some((status, head_len, framing)) => {
                if let Some(response) = complete(status, &raw[head_len..], framing, eof)
                    .map_err(|reason| Failure::new(format!("{dest}: {reason}")))?
                {
                    return Ok(response);
                }
            }
        }
    }
}

/// The status, head length and body framing once the head is complete; `Ok(None)` while more
/// is needed; an error for an answer that is not HTTP ("garbage").
fn parse_head(raw: &[u8]) -> Result<Option<(u16, usize, Framing)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("garbage instead of an HTTP answer ({e}): {}", quote(raw, 64))),
    };
    let status = response.code.unwrap_or(0);
    let mut framing = Framing::Close;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            let chunked = std::str::from_utf8(header.value)
                .map(|v| v.split(',').any(|coding| coding.trim().eq_ignore_ascii_case("chunked")))
                .unwrap_or(false);
            if chunked {
                framing = Framing::Chunked;
            }
        } else if header.name.eq_ignore_ascii_case("content-length") && framing == Framing::Close {
            let length = std::str::from_utf8(header.value).ok().and_then(|v| v.trim().parse().ok());
            match length {
                Some(length) => framing = Framing::Length(length),
                None => return Err(format!("bad Content-Length {}", quote(header.value, 32))),
            }
        }
    }
    Ok(Some((status, head_len, framing)))
}

/// The response once its body is complete (or long enough to cut), `Ok(None)` while more is
/// needed.
fn complete(status: u16, body: &[u8], framing: Framing, eof: bool) -> Result<Option<Response>, String> {
    let done = |mut body: Vec<u8>| {
        let truncated = body.len() > BODY_MAX;
        body.truncate(BODY_MAX);
        Ok(Some(Response { status, body, truncated }))
    };
    match framing {
        Framing::Length(length) if body.len() >= length => done(body[..length].to_vec()),
        Framing::Length(length) if eof => {
            Err(format!("connection closed after {} of {length} body bytes", body.len()))
        }
        Framing::Length(_) | Framing::Close if body.len() > BODY_MAX => done(body.to_vec()),
        Framing::Length(_) => Ok(None),
        Framing::Close if eof => done(body.to_vec()),
        Framing::Close => Ok(None),
        Framing::Chunked => match dechunk(body)? {
            Some(body) => done(body),
            None if body.len() > BODY_MAX + HEAD_MAX => {
                Err(format!("chunked body longer than {BODY_MAX} bytes"))
            }
            None if eof => Err("connection closed in the middle of the chunked body".to_string()),
            None => Ok(None),
        },
    }
}

/// A chunked body decoded, `Ok(None)` while its last chunk has not come.
fn dechunk(mut raw: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return if raw.len() > 1024 { Err("chunk size line too long".into()) } else { Ok(None) };
        };
        let line = std::str::from_utf8(&raw[..eol]).map_err(|_| "bad chunk size line".to_string())?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| format!("bad chunk size {}", quote(line.as_bytes(), 32)))?;
        if size == 0 {
            return Ok(Some(body));
        }
        let rest = &raw[eol + 2..];
        let Some(end) = size.checked_add(2).filter(|end| *end <= rest.len()) else {
            return Ok(None);
        };
        if &rest[size..end] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        body.extend_from_slice(&rest[..size]);
        raw = &rest[end..];
    }
}

/// Whether the answer passes the url's tests; the reason when not.
pub(super) fn judge(url: &UrlCheck, response: &Response) -> Result<(), String> {
    if !url.status.contains(response.status) {
        return Err(format!("HTTP status {} is not in {}", response.status, fmt_status(&url.status)));
    }
    if (url.digest.is_some() || url.regex.is_some()) && response.truncated {
        return Err(format!("body longer than {BODY_MAX} bytes: too long to check"));
    }
    if let Some(expected) = &url.digest {
        let digest = Md5::digest(&response.body);
        if digest.as_slice() != expected.as_slice() {
            return Err(format!("body MD5 {} is not the expected {}", hex(digest.as_slice()), hex(expected)));
        }
    }
    if let Some(pattern) = &url.regex {
        let regex = regex::bytes::Regex::new(pattern).map_err(|e| format!("bad regex {pattern:?}: {e}"))?;
        match (regex.is_match(&response.body), url.regex_no_match) {
            (true, true) => return Err(format!("body matches regex {pattern:?} (regex_no_match)")),
            (false, false) => return Err(format!("body does not match regex {pattern:?}")),
            _ => {}
        }
    }
    Ok(())
}

/// "200-299", "200,301-302".
fn fmt_status(codes: &StatusCodes) -> String {
    let ranges: Vec<String> = codes
        .0
        .iter()
        .map(|r| if r.first == r.last { r.first.to_string() } else { format!("{}-{}", r.first, r.last) })
        .collect();
    if ranges.is_empty() { "(no status code)".to_string() } else { ranges.join(",") }
}

/// The TLS client's configuration, made once: ring, TLS 1.2 and 1.3, any certificate.
fn tls_config() -> Result<Arc<ClientConfig>, Failure> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS client configuration: {e}"))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
        .map_err(Failure::new)
}

/// keepalived does not verify the real server's certificate: neither does SSL_GET. The
/// handshake's signatures are still checked (the peer holds the certificate's key).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::config::StatusRange;

    fn url() -> UrlCheck {
        UrlCheck {
            path: "/".into(),
            status: StatusCodes::success(),
            digest: None,
            regex: None,
            regex_no_match: false,
            virtualhost: None,
        }
    }

    fn http(version: HttpVersion, virtualhost: Option<&str>) -> HttpCheck {
        HttpCheck { urls: vec![url()], virtualhost: virtualhost.map(Into::into), version, tls: None }
    }

    #[test]
    fn requests_as_keepalived() {
        let dest = SocketAddr::from(([10, 0, 0, 1], 80));
        let req = request(&http(HttpVersion::Http10, None), &url(), dest);
        assert_eq!(req, b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1:80\r\n\r\n");
        let req = request(&http(HttpVersion::Http11, Some("www.example.com")), &url(), dest);
        assert_eq!(
            req,
            b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n"
        );
        let v6 = SocketAddr::new("2001:db8::1".parse().unwrap_or(dest.ip()), 8080);
        let mut u = url();
        u.virtualhost = Some("u.example".into());
        let req = request(&http(HttpVersion::Http10Close, Some("c.example")), &u, v6);
        assert!(String::from_utf8_lossy(&req).ends_with("Connection: close\r\nHost: u.example\r\n\r\n"));
        let req = request(&http(HttpVersion::Http10, None), &url(), v6);
        assert!(String::from_utf8_lossy(&req).contains("Host: [2001:db8::1]:8080\r\n"));
    }

    #[test]
    fn heads() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le"), Ok(None));
        assert_eq!(parse_head(b"HTTP/1.0 404 Not Found\r\n\r\nx"), Ok(Some((404, 26, Framing::Close))));
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
            Ok(Some((200, 38, Framing::Length(5))))
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n")
                .map(|h| h.map(|h| h.2)),
            Ok(Some(Framing::Chunked))
        );
        assert!(parse_head(b"hello\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }

    #[test]
    fn bodies() {
        assert_eq!(complete(200, b"abc", Framing::Length(5), false), Ok(None));
        assert!(complete(200, b"abc", Framing::Length(5), true).is_err());
        let r = complete(200, b"abcdefg", Framing::Length(5), false);
        assert_eq!(r.map(|r| r.map(|r| r.body)), Ok(Some(b"abcde".to_vec())));
        assert_eq!(complete(200, b"abc", Framing::Close, false), Ok(None));
        let r = complete(200, b"abc", Framing::Close, true);
        assert_eq!(r.map(|r| r.map(|r| r.body)), Ok(Some(b"abc".to_vec())));
        let big = vec![b'x'; BODY_MAX + 1];
        let r = complete(200, &big, Framing::Close, false);
        assert_eq!(r.map(|r| r.map(|r| (r.body.len(), r.truncated))), Ok(Some((BODY_MAX, true))));
    }

    #[test]
    fn chunks() {
        assert_eq!(dechunk(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"), Ok(Some(b"hello world".to_vec())));
        assert_eq!(dechunk(b"5\r\nhel"), Ok(None));
        assert_eq!(dechunk(b"5\r\nhello\r\n"), Ok(None));
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"2\r\nhello\r\n").is_err());
    }

    #[test]
    fn judging() {
        let ok = Response { status: 200, body: b"hello world".to_vec(), truncated: false };
        assert_eq!(judge(&url(), &ok), Ok(()));
        let err = Response { status: 500, ..ok.clone() };
        assert_eq!(judge(&url(), &err), Err("HTTP status 500 is not in 200-299".to_string()));
        let mut u = url();
        u.status = StatusCodes(vec![StatusRange { first: 200, last: 200 }, StatusRange { first: 500, last: 599 }]);
        assert_eq!(judge(&u, &err), Ok(()));
        u.status = StatusCodes(vec![StatusRange { first: 301, last: 302 }]);
        assert_eq!(judge(&u, &ok), Err("HTTP status 200 is not in 301-302".to_string()));

        // md5("hello world") = 5eb63bbbe01eeed093cb22bb8f5acdc3
        let mut u = url();
        u.digest = Some([
            0x5e, 0xb6, 0x3b, 0xbb, 0xe0, 0x1e, 0xee, 0xd0, 0x93, 0xcb, 0x22, 0xbb, 0x8f, 0x5a, 0xcd, 0xc3,
        ]);
        assert_eq!(judge(&u, &ok), Ok(()));
        u.digest = Some([0; 16]);
        assert_eq!(
            judge(&u, &ok),
            Err("body MD5 5eb63bbbe01eeed093cb22bb8f5acdc3 is not the expected 00000000000000000000000000000000".into())
        );
        let cut = Response { truncated: true, ..ok.clone() };
        assert!(judge(&u, &cut).is_err());

        let mut u = url();
        u.regex = Some("wor.d".into());
        assert_eq!(judge(&u, &ok), Ok(()));
        u.regex_no_match = true;
        assert!(judge(&u, &ok).is_err());
        u.regex = Some("^nope".into());
        assert_eq!(judge(&u, &ok), Ok(()));
        u.regex_no_match = false;
        assert!(judge(&u, &ok).is_err());
        u.regex = Some("(".into());
        assert!(judge(&u, &ok).is_err());
    }
}
