//! The HTTP server the lab runs on its real servers, in place of the seeds' httpd.
//!
//! - `GET /` → `<name>\n`, what seed 000's `index.html` holds (`webserver1\n`);
//! - `GET /hold?secs=N` → the name at once, then one `.` a second for N seconds: a connection
//!   that stays open, for least-connection scheduling tests;
//! - `GET /bytes?n=N` → N bytes of [`pattern_bytes`], for download and checksum tests;
//! - `GET /stream?seconds=N&rate=R` → `N * R` bytes of [`pattern_bytes`], a share every
//!   [`STREAM_TICK`] so that the download lasts N seconds (defaults 10 s and 256 KiB/s, at
//!   most [`MAX_STREAM_SECS`]): one long-lived connection, for fail-over tests, where a reset
//!   or a stall shows as a short or failed download.
//!
//! Every body has a Content-Length. Keep-alive is off by default, so one request is one TCP
//! connection and one scheduling decision of the director.

mod body;
mod routes;

use std::convert::Infallible;
use std::fs::File;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use body::{STREAM_TICK, TRICKLE_BYTE, fill_pattern, pattern_byte, pattern_bytes};
pub use routes::{
    DEFAULT_STREAM_RATE, DEFAULT_STREAM_SECS, MAX_BYTES, MAX_HOLD_SECS, MAX_STREAM_RATE,
    MAX_STREAM_SECS,
};

use crate::error::LabError;
use crate::host::Host;
use crate::netns::{enter, open_netns};
use body::LabBody;
use routes::{Route, route};

/// How long [`HttpServer::start`] waits for the server thread to report its socket bound.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors of the HTTP server.
#[derive(Debug, thiserror::Error)]
pub enum HttpServerError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The thread, namespace or runtime around the server could not be set up.
    #[error("cannot start the HTTP server: {what}: {source}")]
    Setup {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Settings of the server; the default has keep-alive off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServeOptions {
    /// Serve several requests on one connection (HTTP/1.1 keep-alive). Off by default.
    pub keep_alive: bool,
    /// A broken application: every request is answered with this status and `<name> broken`
    /// (for health checks that look at the status). `None`: the routes below.
    pub fail_with: Option<StatusCode>,
}

/// Serves HTTP on `listen` as the server called `name`, until the future is dropped. This is
/// what the `rvs` binary runs for its hidden HTTP-server subcommand.
pub async fn serve_http(listen: SocketAddr, name: String) -> Result<(), HttpServerError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| HttpServerError::Bind {
            addr: listen,
            source,
        })?;
    serve_http_on(
        listener,
        name,
        ServeOptions::default(),
        std::future::pending(),
    )
    .await;
    Ok(())
}

/// Serves HTTP on an already bound `listener` until `shutdown` completes. Connections in
/// flight then are left to the runtime (they end when it shuts down).
pub async fn serve_http_on(
    listener: TcpListener,
    name: String,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let name: Arc<str> = Arc::from(name);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of descriptors, or a connection reset before we took it: keep serving.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // The trickle of /hold must leave at once, not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let name = Arc::clone(&name);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let response = match options.fail_with {
                    Some(status) => broken(status, &name),
                    None => respond(&request, &name),
                };
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(options.keep_alive)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
}

/// A broken application's answer to any request.
fn broken(status: StatusCode, name: &str) -> Response<LabBody> {
    let body = LabBody::full(format!("{name} broken\n"));
    let length = body.len();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(length));
    response
}

/// The response to one request.
fn respond<B>(request: &Request<B>, name: &str) -> Response<LabBody> {
    let uri = request.uri();
    let (status, body) = match route(request.method(), uri.path(), uri.query()) {
        Route::Index => (StatusCode::OK, LabBody::full(format!("{name}\n"))),
        Route::Hold { secs } => (StatusCode::OK, LabBody::hold(format!("{name}\n"), secs)),
        Route::Bytes { n } => (StatusCode::OK, LabBody::pattern(n)),
        Route::Stream { seconds, rate } => (StatusCode::OK, LabBody::paced(seconds, rate)),
        Route::NotFound => (StatusCode::NOT_FOUND, LabBody::full("not found\n")),
        Route::BadRequest(why) => (StatusCode::BAD_REQUEST, LabBody::full(why)),
        Route::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            LabBody::full("only GET and HEAD\n"),
        ),
    };
    let length = body.len();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let content_type = if matches!(status, StatusCode::OK) && matches!(uri.path(), "/bytes" | "/stream") {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    response
}

/// The lab's HTTP server running on a thread of this process, in some namespace. Dropping it
/// stops the server and closes its open connections.
pub struct HttpServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Starts a server on `listen` in this thread's own namespace.
    pub fn start(
        listen: SocketAddr,
        name: &str,
        options: ServeOptions,
    ) -> Result<HttpServer, LabError> {
        Self::start_in(None, listen, name, options)
    }

    fn start_in(
        netns: Option<(String, File)>,
        listen: SocketAddr,
        name: &str,
        options: ServeOptions,
    ) -> Result<HttpServer, LabError> {
        let (ready_tx, ready_rx) = std_mpsc::sync_channel::<Result<SocketAddr, HttpServerError>>(1);
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let name = name.to_owned();
        let thread_name = format!("http:{name}");
        let thread = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                // The runtime is current-thread and lives on this thread: every socket it
                // makes belongs to the namespace entered here.
                if let Some((netns, file)) = &netns
                    && let Err(e) = enter(file)
                {
                    let what = format!("entering network namespace {netns}");
                    let _ = ready_tx.send(Err(HttpServerError::Setup { what, source: e }));
                    return;
                }
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let what = "building a tokio runtime".to_owned();
                        let _ = ready_tx.send(Err(HttpServerError::Setup { what, source: e }));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match TcpListener::bind(listen).await {
                        Ok(listener) => listener,
                        Err(source) => {
                            let _ = ready_tx.send(Err(HttpServerError::Bind {
                                addr: listen,
                                source,
                            }));
                            return;
                        }
                    };
                    let bound = listener.local_addr().unwrap_or(listen);
                    let _ = ready_tx.send(Ok(bound));
                    serve_http_on(listener, name, options, async move {
                        let _ = shutdown_rx.await;
                    })
                    .await;
                });
            })
            .map_err(|e| LabError::io("starting the HTTP server thread", e))?;
        let addr = match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(addr)) => addr,
            Ok(Err(err)) => {
                let _ = thread.join();
                return Err(err.into());
            }
            Err(_) => {
                return Err(LabError::WaitTimeout {
                    what: format!("the HTTP server to listen on {listen}"),
                    timeout: START_TIMEOUT,
                });
            }
        };
        Ok(HttpServer {
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on (with the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Host {
    /// Runs the lab's HTTP server in this host, in this process, as the server called `name`.
    /// For a separate process (as `rvs lab` does), spawn a program that calls [`serve_http`].
    pub fn serve_http(&self, listen: SocketAddr, name: &str) -> Result<HttpServer, LabError> {
        self.serve_http_with(listen, name, ServeOptions::default())
    }

    /// [`Host::serve_http`] with other settings.
    pub fn serve_http_with(&self, listen: SocketAddr, name: &str, options: ServeOptions) -> Result<HttpServer, LabError> {
        let file = open_netns(self.netns())?;
        HttpServer::start_in(Some((self.netns().to_owned(), file)), listen, name, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    fn get(addr: SocketAddr, target: &str) -> (String, Vec<u8>) {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nHost: lab\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        (head, raw[split + 4..].to_vec())
    }

    fn local_server(name: &str) -> HttpServer {
        HttpServer::start(
            "127.0.0.1:0".parse().unwrap(),
            name,
            ServeOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_index_is_the_name_and_a_newline() {
        let server = local_server("webserver1");
        let (head, body) = get(server.local_addr(), "/");
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("content-length: 11"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("connection: close"),
            "{head}"
        );
        assert_eq!(body, b"webserver1\n");
    }

    #[test]
    fn bytes_are_the_pattern() {
        let server = local_server("w");
        let (head, body) = get(server.local_addr(), "/bytes?n=300000");
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert_eq!(body, pattern_bytes(0, 300_000));
    }

    #[test]
    fn hold_sends_the_name_first_and_stays_open() {
        let server = local_server("webserver2");
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        stream
            .write_all(b"GET /hold?secs=2 HTTP/1.1\r\nHost: lab\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 512];
        let n = stream.read(&mut first).unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "head took {:?}",
            started.elapsed()
        );
        let head = String::from_utf8_lossy(&first[..n]).into_owned();
        assert!(head.ends_with("webserver2\n"), "{head:?}");
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"..");
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "closed after {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn errors_have_their_status() {
        let server = local_server("w");
        assert!(
            get(server.local_addr(), "/nope")
                .0
                .starts_with("HTTP/1.1 404")
        );
        let (head, body) = get(server.local_addr(), "/hold?secs=x");
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("secs"));
    }

    #[test]
    fn many_connections_are_served_at_once() {
        let server = local_server("w");
        let addr = server.local_addr();
        let started = Instant::now();
        let holders: Vec<_> = (0..64)
            .map(|_| std::thread::spawn(move || get(addr, "/hold?secs=1").1))
            .collect();
        for holder in holders {
            assert_eq!(holder.join().unwrap(), b"w\n.");
        }
        // Served one after another they would take 64 s.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn stream_keeps_one_connection_open_for_its_seconds_and_sends_it_all() {
        let server = local_server("w");
        let started = Instant::now();
        let (head, body) = get(server.local_addr(), "/stream?seconds=2&rate=50000");
        let took = started.elapsed();
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains("content-length: 100000"), "{head}");
        assert!(lower.contains("content-type: application/octet-stream"), "{head}");
        assert_eq!(body, pattern_bytes(0, 100_000));
        assert!(
            took >= Duration::from_millis(1950) && took < Duration::from_secs(5),
            "took {took:?}"
        );
    }

    #[test]
    fn stream_trickles_from_the_start() {
        let server = local_server("w");
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        stream
            .write_all(b"GET /stream?seconds=3&rate=20000 HTTP/1.1\r\nHost: lab\r\n\r\n")
            .unwrap();
        // The first bytes of the body come within a few ticks, long before the end.
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        while !raw.windows(4).any(|w| w == b"\r\n\r\n") || raw.len() < 200 {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed early");
            raw.extend_from_slice(&buf[..n]);
        }
        assert!(started.elapsed() < Duration::from_secs(1), "first bytes after {:?}", started.elapsed());
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert_eq!(raw.len() - split - 4, 60_000);
        assert!(started.elapsed() >= Duration::from_millis(2950), "{:?}", started.elapsed());
    }

    #[test]
    fn stream_refuses_more_than_ten_minutes() {
        let server = local_server("w");
        let (head, body) = get(server.local_addr(), "/stream?seconds=601");
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("seconds"));
    }

    #[test]
    fn a_taken_port_is_a_bind_error() {
        let server = local_server("w");
        let err = HttpServer::start(server.local_addr(), "w2", ServeOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("cannot listen on"), "{err}");
    }
}
