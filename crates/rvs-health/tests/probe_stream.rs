//! The TCP checkers against real servers on loopback: TCP_CHECK, HTTP_GET and SSL_GET (hyper,
//! rustls with a self-signed certificate), nanny's send/expect, SMTP_CHECK (Python's smtpd).

mod probe_common;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use probe_common::*;
use rvs_core::config::{
    CheckKind, ExpectPattern, HttpCheck, HttpVersion, StatusCodes, StatusRange, TlsOptions, UrlCheck,
};
use rvs_health::probe::Pass;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const SECOND: Duration = Duration::from_secs(1);
const HELLO_MD5: [u8; 16] = [
    0x5e, 0xb6, 0x3b, 0xbb, 0xe0, 0x1e, 0xee, 0xd0, 0x93, 0xcb, 0x22, 0xbb, 0x8f, 0x5a, 0xcd, 0xc3,
];

// ---- TCP_CHECK ----

#[tokio::test]
async fn tcp_open_port_passes() {
    let addr = silent_server().await;
    assert_eq!(run(&check(CheckKind::Tcp, SECOND), addr).await, Ok(Pass { weight: None }));
}

#[tokio::test]
async fn tcp_closed_port_is_refused() {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_tcp_port()));
    let reason = failed(run(&check(CheckKind::Tcp, SECOND), addr).await);
    assert_eq!(reason, format!("connect to {addr}: connection refused"));
}

/// A listener whose accept queue is full drops SYNs (Linux): the connect hangs, deterministically,
/// on loopback. (192.0.2.1 is not used: on this machine it is the default gateway.)
#[tokio::test]
async fn tcp_unanswered_connect_times_out() {
    let listener = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).expect("bind");
    listener.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr").as_socket().expect("inet");
    // Fill the queue until a connect hangs.
    let mut held = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(300), tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(e)) => panic!("connect: {e}"),
            Err(_) => break,
        }
    }
    let start = Instant::now();
    let reason = failed(run(&check(CheckKind::Tcp, SECOND), addr).await);
    let elapsed = start.elapsed();
    assert_eq!(reason, format!("timed out after 1s connecting to {addr}"));
    assert!(elapsed >= Duration::from_millis(950) && elapsed < Duration::from_millis(1800), "{elapsed:?}");
}

/// connect_port overrides the real server's port; bindto and bind_port set the source.
#[tokio::test]
async fn tcp_connect_port_and_bindto() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = peers.clone();
    tokio::spawn(async move {
        while let Ok((_stream, peer)) = listener.accept().await {
            seen.lock().expect("lock").push(peer);
        }
    });
    let mut c = check(CheckKind::Tcp, SECOND);
    c.target.port = Some(addr.port());
    c.target.bind_ip = Some(IpAddr::from([127, 0, 0, 2]));
    let source_port = free_tcp_port();
    c.target.bind_port = Some(source_port);
    let closed = SocketAddr::from(([127, 0, 0, 1], free_tcp_port()));
    assert_eq!(run(&c, closed).await, Ok(Pass { weight: None }));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let peers = peers.lock().expect("lock").clone();
    assert_eq!(peers, vec![SocketAddr::from(([127, 0, 0, 2], source_port))]);
    // A source of the wrong family fails before connecting.
    c.target.bind_ip = Some("::1".parse().expect("v6"));
    assert!(failed(run(&c, closed).await).contains("not of the address family"));
}

// ---- HTTP_GET ----

async fn handle(req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    let header = |name: hyper::header::HeaderName| {
        req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
    };
    let response = |status: StatusCode, body: String| {
        let mut r = Response::new(body);
        *r.status_mut() = status;
        r
    };
    Ok(match req.uri().path() {
        "/" => response(StatusCode::OK, "hello world".into()),
        "/500" => response(StatusCode::INTERNAL_SERVER_ERROR, "oops".into()),
        "/host" => response(StatusCode::OK, format!("host={}", header(hyper::header::HOST))),
        "/agent" => response(StatusCode::OK, format!("agent={}", header(hyper::header::USER_AGENT))),
        "/big" => response(StatusCode::OK, "x".repeat(2 << 20)),
        _ => response(StatusCode::NOT_FOUND, "no".into()),
    })
}

async fn serve_http<I>(io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let _ = http1::Builder::new().serve_connection(TokioIo::new(io), service_fn(handle)).await;
}

/// hyper's HTTP/1 server: "/" 200 "hello world", "/500", "/host" echoes Host, "/big" 2 MiB.
async fn http_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_http(stream));
        }
    });
    addr
}

fn url(path: &str) -> UrlCheck {
    UrlCheck {
        path: path.into(),
        status: StatusCodes::success(),
        digest: None,
        regex: None,
        regex_no_match: false,
        virtualhost: None,
    }
}

fn http_get(urls: Vec<UrlCheck>) -> CheckKind {
    CheckKind::Http(HttpCheck { urls, virtualhost: None, version: HttpVersion::Http10, tls: None })
}

fn with_http(kind: &mut CheckKind, f: impl FnOnce(&mut HttpCheck)) {
    if let CheckKind::Http(http) = kind {
        f(http);
    }
}

#[tokio::test]
async fn http_status() {
    let addr = http_server().await;
    assert_eq!(run(&check(http_get(vec![url("/")]), SECOND), addr).await, Ok(Pass { weight: None }));
    let reason = failed(run(&check(http_get(vec![url("/500")]), SECOND), addr).await);
    assert_eq!(reason, "GET /500: HTTP status 500 is not in 200-299");
    let mut u = url("/500");
    u.status = StatusCodes(vec![StatusRange { first: 500, last: 599 }]);
    assert!(run(&check(http_get(vec![u]), SECOND), addr).await.is_ok());
    // Every url must pass.
    let reason = failed(run(&check(http_get(vec![url("/"), url("/missing")]), SECOND), addr).await);
    assert!(reason.contains("HTTP status 404"), "{reason}");
}

#[tokio::test]
async fn http_versions() {
    let addr = http_server().await;
    for version in [HttpVersion::Http10, HttpVersion::Http10Close, HttpVersion::Http11] {
        let mut kind = http_get(vec![url("/")]);
        with_http(&mut kind, |h| h.version = version);
        assert!(run(&check(kind, SECOND), addr).await.is_ok(), "{version:?}");
    }
}

#[tokio::test]
async fn http_digest() {
    let addr = http_server().await;
    let mut u = url("/");
    u.digest = Some(HELLO_MD5);
    assert!(run(&check(http_get(vec![u.clone()]), SECOND), addr).await.is_ok());
    u.digest = Some([0x11; 16]);
    let reason = failed(run(&check(http_get(vec![u]), SECOND), addr).await);
    assert_eq!(
        reason,
        "GET /: body MD5 5eb63bbbe01eeed093cb22bb8f5acdc3 is not the expected 11111111111111111111111111111111"
    );
}

#[tokio::test]
async fn http_regex() {
    let addr = http_server().await;
    let mut u = url("/");
    u.regex = Some("hel+o w".into());
    assert!(run(&check(http_get(vec![u.clone()]), SECOND), addr).await.is_ok());
    u.regex_no_match = true;
    assert!(failed(run(&check(http_get(vec![u.clone()]), SECOND), addr).await).contains("regex_no_match"));
    u.regex = Some("^bye".into());
    assert!(run(&check(http_get(vec![u.clone()]), SECOND), addr).await.is_ok());
    u.regex_no_match = false;
    assert!(failed(run(&check(http_get(vec![u]), SECOND), addr).await).contains("does not match regex"));
}

#[tokio::test]
async fn http_host_header() {
    let addr = http_server().await;
    // No virtual host: the address and port, as keepalived.
    let mut u = url("/host");
    u.regex = Some(format!("^host={}$", regex_escape(&addr.to_string())));
    assert!(run(&check(http_get(vec![u]), SECOND), addr).await.is_ok());
    // The check's virtual host, unless the url has its own.
    let mut u = url("/host");
    u.regex = Some("^host=www\\.example\\.test$".into());
    let mut kind = http_get(vec![u]);
    with_http(&mut kind, |h| h.virtualhost = Some("www.example.test".into()));
    assert!(run(&check(kind.clone(), SECOND), addr).await.is_ok());
    with_http(&mut kind, |h| h.urls[0].virtualhost = Some("url.example.test".into()));
    assert!(run(&check(kind.clone(), SECOND), addr).await.is_err());
    with_http(&mut kind, |h| h.urls[0].regex = Some("^host=url\\.example\\.test$".into()));
    assert!(run(&check(kind, SECOND), addr).await.is_ok());
    let mut u = url("/agent");
    u.regex = Some("^agent=KeepAliveClient$".into());
    assert!(run(&check(http_get(vec![u]), SECOND), addr).await.is_ok());
}

fn regex_escape(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_ascii_alphanumeric() { vec![c] } else { vec!['\\', c] }).collect()
}

#[tokio::test]
async fn http_big_body() {
    let addr = http_server().await;
    assert!(run(&check(http_get(vec![url("/big")]), SECOND), addr).await.is_ok());
    let mut u = url("/big");
    u.digest = Some(HELLO_MD5);
    assert!(failed(run(&check(http_get(vec![u]), SECOND), addr).await).contains("too long"));
}

#[tokio::test]
async fn http_garbage_fails() {
    let addr = raw_server(b"hello\r\n").await;
    let reason = failed(run(&check(http_get(vec![url("/")]), SECOND), addr).await);
    assert!(reason.contains("garbage") && reason.contains("\"hello\\r\\n\""), "{reason}");
}

#[tokio::test]
async fn http_closed_without_answer_fails() {
    let addr = raw_server(b"").await;
    let reason = failed(run(&check(http_get(vec![url("/")]), SECOND), addr).await);
    assert!(reason.contains("without an answer"), "{reason}");
}

#[tokio::test]
async fn http_silent_server_times_out() {
    let addr = silent_server().await;
    let start = Instant::now();
    let reason = failed(run(&check(http_get(vec![url("/")]), SECOND), addr).await);
    assert_eq!(reason, format!("timed out after 1s waiting for the answer from {addr}"));
    assert!(start.elapsed() < Duration::from_millis(1800));
}

// ---- SSL_GET ----

/// A TLS server (self-signed certificate for "localhost") in front of the HTTP handler; it
/// records the SNI of every handshake.
async fn https_server() -> (SocketAddr, Arc<Mutex<Vec<Option<String>>>>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let snis = Arc::new(Mutex::new(Vec::new()));
    let seen = snis.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    seen.lock().expect("lock").push(tls.get_ref().1.server_name().map(str::to_string));
                    serve_http(tls).await;
                }
            });
        }
    });
    (addr, snis)
}

fn ssl_get(urls: Vec<UrlCheck>, tls: TlsOptions) -> CheckKind {
    CheckKind::Http(HttpCheck { urls, virtualhost: None, version: HttpVersion::Http10, tls: Some(tls) })
}

#[tokio::test]
async fn https_passes_without_sni() {
    let (addr, snis) = https_server().await;
    let mut u = url("/");
    u.digest = Some(HELLO_MD5);
    let mut kind = ssl_get(vec![u], TlsOptions::default());
    with_http(&mut kind, |h| h.virtualhost = Some("www.example.test".into()));
    assert_eq!(run(&check(kind, SECOND), addr).await, Ok(Pass { weight: None }));
    let mut u = url("/500");
    u.status = StatusCodes::success();
    assert!(failed(run(&check(ssl_get(vec![u], TlsOptions::default()), SECOND), addr).await).contains("500"));
    assert_eq!(*snis.lock().expect("lock"), vec![None, None]);
}

#[tokio::test]
async fn https_sends_sni_when_enabled() {
    let (addr, snis) = https_server().await;
    let sni = TlsOptions { enable_sni: true, sni_name: None };
    let mut kind = ssl_get(vec![url("/")], sni.clone());
    with_http(&mut kind, |h| h.virtualhost = Some("www.example.test".into()));
    assert!(run(&check(kind.clone(), SECOND), addr).await.is_ok());
    with_http(&mut kind, |h| h.tls = Some(TlsOptions { enable_sni: true, sni_name: Some("sni.example.test".into()) }));
    assert!(run(&check(kind, SECOND), addr).await.is_ok());
    // Enabled but no name: none sent.
    assert!(run(&check(ssl_get(vec![url("/")], sni), SECOND), addr).await.is_ok());
    assert_eq!(
        *snis.lock().expect("lock"),
        vec![Some("www.example.test".to_string()), Some("sni.example.test".to_string()), None]
    );
}

#[tokio::test]
async fn https_against_plain_http_fails() {
    let addr = http_server().await;
    let reason = failed(run(&check(ssl_get(vec![url("/")], TlsOptions::default()), SECOND), addr).await);
    assert!(reason.starts_with(&format!("TLS handshake with {addr}")), "{reason}");
}

// ---- nanny's send/expect ----

fn send_expect(send: &[u8], expect: ExpectPattern) -> CheckKind {
    CheckKind::SendExpect { send: send.to_vec(), expect }
}

#[tokio::test]
async fn send_expect_against_http() {
    let addr = http_server().await;
    let get = b"GET / HTTP/1.0\r\n\r\n";
    let ok = |kind| async move { run(&check(kind, SECOND), addr).await };
    assert!(ok(send_expect(get, ExpectPattern::Prefix(b"HTTP".to_vec()))).await.is_ok());
    assert!(ok(send_expect(get, ExpectPattern::Any)).await.is_ok());
    assert!(ok(send_expect(get, ExpectPattern::Regex("^HTTP/1\\.[01] 200".into()))).await.is_ok());
    let reason = failed(ok(send_expect(get, ExpectPattern::Prefix(b"SSH-".to_vec()))).await);
    assert!(reason.contains("does not start with \"SSH-\""), "{reason}");
    let reason = failed(ok(send_expect(get, ExpectPattern::Regex("^HTTP/1\\.[01] 5".into()))).await);
    assert!(reason.contains("does not match regex"), "{reason}");
}

#[tokio::test]
async fn send_expect_reads_banners_and_times_out() {
    let addr = raw_server(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    let kind = send_expect(b"", ExpectPattern::Prefix(b"SSH-2.0".to_vec()));
    assert!(run(&check(kind, SECOND), addr).await.is_ok());
    let silent = silent_server().await;
    let kind = send_expect(b"ping\n", ExpectPattern::Prefix(b"pong".to_vec()));
    let reason = failed(run(&check(kind, SECOND), silent).await);
    assert!(reason.starts_with("timed out after 1s waiting for the answer"), "{reason}");
    // `*` does not wait for an answer.
    assert!(run(&check(send_expect(b"ping\n", ExpectPattern::Any), SECOND), silent).await.is_ok());
}

// ---- SMTP_CHECK ----

fn smtp() -> CheckKind {
    CheckKind::Smtp { helo_name: "smtpchecker.keepalived.org".into() }
}

/// Debian's Python 3.11 still has the deprecated `smtpd` module: a real SMTP server.
#[tokio::test]
async fn smtp_against_python_smtpd() {
    let port = free_tcp_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = tokio::process::Command::new("/usr/bin/python3")
        .args(["-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("/usr/bin/python3 -m smtpd (python3 of Debian 12)");
    wait_tcp(addr).await;
    let result = run(&check(smtp(), Duration::from_secs(3)), addr).await;
    let _ = server.kill().await;
    assert_eq!(result, Ok(Pass { weight: None }));
}

/// A scripted SMTP server: `banner`, then `helo_reply` to the first line.
async fn scripted_smtp(banner: &'static [u8], helo_reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let _ = stream.get_mut().write_all(banner).await;
                let mut line = String::new();
                if stream.read_line(&mut line).await.is_ok() && line.starts_with("HELO smtpchecker.keepalived.org\r\n") {
                    let _ = stream.get_mut().write_all(helo_reply).await;
                }
                line.clear();
                if stream.read_line(&mut line).await.is_ok() && line == "QUIT\r\n" {
                    let _ = stream.get_mut().write_all(b"221 bye\r\n").await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn smtp_replies() {
    let multi = scripted_smtp(b"220-mx.example ESMTP\r\n220 ready\r\n", b"250-mx.example\r\n250 ok\r\n").await;
    assert!(run(&check(smtp(), SECOND), multi).await.is_ok());
    let refused = scripted_smtp(b"500 go away\r\n", b"250 ok\r\n").await;
    let reason = failed(run(&check(smtp(), SECOND), refused).await);
    assert_eq!(reason, format!("{refused}: SMTP banner is not 220: \"500 go away\\r\\n\""));
    let helo = scripted_smtp(b"220 ready\r\n", b"550 who are you\r\n").await;
    let reason = failed(run(&check(smtp(), SECOND), helo).await);
    assert!(reason.contains("answer to HELO is not 250"), "{reason}");
    let garbage = raw_server(b"hello\r\n").await;
    assert!(failed(run(&check(smtp(), SECOND), garbage).await).contains("not an SMTP reply"));
    let silent = silent_server().await;
    let reason = failed(run(&check(smtp(), SECOND), silent).await);
    assert_eq!(reason, format!("timed out after 1s waiting for the SMTP banner from {silent}"));
}
