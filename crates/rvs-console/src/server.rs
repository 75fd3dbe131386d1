//! The console's HTTP(S) server: the listener (TLS when given a certificate), the routes, and
//! the guards every request passes: security headers on every answer, a session for everything
//! but the login page and the static files, and a CSRF token on every change.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tower::ServiceExt;

use crate::auth::passwd::PasswordFile;
use crate::auth::session::{self, Limits, SessionView, Sessions};
use crate::auth::throttle::LoginThrottle;
use crate::backend::Backend;
use crate::history::{self, History};
use crate::{assets, pages};

/// Largest form the console takes: its forms are a few hundred bytes.
const BODY_LIMIT: usize = 64 * 1024;

/// Connections served at once; more wait in the listen backlog. Each costs a task and a file
/// descriptor of rvsd, whose health checks and control socket need theirs.
const MAX_CONNECTIONS: usize = 64;
/// How long a request's body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Password checks at once (argon2 takes 19 MiB and tens of milliseconds each).
const VERIFYING: usize = 2;

/// How the console is served.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Address and port; rvsd's default is 127.0.0.1:3636.
    pub listen: SocketAddr,
    /// Certificate chain and private key (PEM) for HTTPS; plain HTTP without.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The password file `rvs passwd` writes.
    pub password_file: PathBuf,
    /// Host names the console answers to, besides IP addresses and `localhost` (a name it does
    /// not know may be a DNS-rebinding page's).
    pub hostnames: Vec<String>,
}

/// What every request handler shares.
pub struct App<B> {
    pub backend: Arc<B>,
    pub sessions: Mutex<Sessions>,
    /// A std mutex: it is also taken in a drop guard, and never held across an await.
    pub throttle: std::sync::Mutex<LoginThrottle>,
    /// Permits for password checks running at once.
    pub verifying: tokio::sync::Semaphore,
    pub history: Mutex<History>,
    pub password_file: PathBuf,
    /// Served over TLS: cookies are `Secure`.
    pub secure: bool,
    pub hostnames: Vec<String>,
}

/// The session a request came with, put in its extensions by [`guard`].
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub view: SessionView,
}

// The token never reaches a log through Debug (SessionView's own Debug shows the user only).
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("view", &self.view).finish_non_exhaustive()
    }
}

/// The address a request came from.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The running console.
pub struct Console {
    server: tokio::task::JoinHandle<()>,
    sampler: tokio::task::JoinHandle<()>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    pub local_addr: SocketAddr,
}

impl Console {
    /// Stops listening and ends every open connection: once this returns, nothing of the
    /// console holds the backend (rvsd then takes its director back).
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.server.await;
        self.sampler.abort();
        let _ = self.sampler.await;
    }
}

/// Binds the console's address and serves it. Refused (with the reason) if the address does not
/// bind, the certificate does not load, or the password file is missing or readable by others.
pub async fn start<B: Backend>(config: ConsoleConfig, backend: Arc<B>) -> Result<Console> {
    PasswordFile::load(&config.password_file).with_context(|| "the console's password file (set one with `rvs passwd`)")?;
    tokio::task::spawn_blocking(crate::auth::passwd::prepare);
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding the console address {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let app = Arc::new(App {
        backend,
        sessions: Mutex::new(Sessions::new(Limits::default())),
        throttle: std::sync::Mutex::new(LoginThrottle::new()),
        verifying: tokio::sync::Semaphore::new(VERIFYING),
        history: Mutex::new(History::default()),
        password_file: config.password_file.clone(),
        secure: tls.is_some(),
        hostnames: config.hostnames.iter().map(|h| h.to_ascii_lowercase()).collect(),
    });
    if tls.is_none() && !local_addr.ip().is_loopback() {
        tracing::warn!(address = %local_addr, "the web console is served without TLS on a non-loopback address: passwords and cookies cross the network in clear (--console-tls-cert/--console-tls-key)");
    }
    let router = routes(app.clone());
    let sampler = tokio::spawn(sample(app));
    let (shutdown, stopped) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(accept(listener, tls, router, stopped));
    tracing::info!(address = %local_addr, tls = config.tls.is_some(), "web console listening");
    Ok(Console { server, sampler, shutdown, local_addr })
}

/// The TLS acceptor: the certificate is read now (one that does not load stops the console
/// here) and again whenever its files change ([`crate::tls_cert`]).
fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<tokio_rustls::TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let files = crate::tls_cert::CertFiles::new(cert, key, provider.clone())?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(files));
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves connections until `stopped`, then ends those still open (a browser keeps its
/// connection alive between the monitor's refreshes).
async fn accept(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, router: Router, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let mut connections = tokio::task::JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            _ = &mut stopped => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("console: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let router = router.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _slot = slot;
            let service = router.map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(Peer(peer));
                req
            });
            let service = TowerToHyperService::new(service);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(std::time::Duration::from_secs(10));
            let served = match tls {
                Some(tls) => match tokio::time::timeout(std::time::Duration::from_secs(10), tls.accept(stream)).await {
                    Ok(Ok(stream)) => http.serve_connection(TokioIo::new(stream), service).await,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, "console: TLS handshake: {e}");
                        return;
                    }
                    Err(_) => return,
                },
                None => http.serve_connection(TokioIo::new(stream), service).await,
            };
            if let Err(e) = served {
                tracing::debug!(%peer, "console: {e}");
            }
        });
    }
    connections.shutdown().await;
}

/// Reads the table's counters every [`history::PERIOD`] for the charts.
async fn sample<B: Backend>(app: Arc<App<B>>) {
    let mut tick = tokio::time::interval(history::PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let services = app.backend.services().await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let services: Vec<_> = services.iter().map(|s| (s.key.to_string(), s.stats)).collect();
        app.history.lock().await.record(now, &services);
    }
}

fn routes<B: Backend>(app: Arc<App<B>>) -> Router {
    Router::new()
        .route("/", get(pages::monitor::page::<B>))
        .route("/fragment/monitor", get(pages::monitor::fragment::<B>))
        .route("/api/status", get(pages::monitor::status_json::<B>))
        .route("/api/history", get(pages::monitor::history_json::<B>))
        .route("/login", get(pages::login::page::<B>).post(pages::login::submit::<B>))
        .route("/logout", post(pages::login::logout::<B>))
        .route("/virtual", get(pages::virtuals::list::<B>).post(pages::virtuals::add::<B>))
        .route("/virtual/{service}", get(pages::virtuals::show::<B>).post(pages::virtuals::update::<B>))
        .route("/virtual/{service}/{action}", post(pages::virtuals::service_action::<B>))
        .route("/virtual/{service}/real", post(pages::virtuals::add_real::<B>))
        .route("/virtual/{service}/real/{real}/{action}", post(pages::virtuals::real_action::<B>))
        .route("/global", get(pages::global::page::<B>).post(pages::global::submit::<B>))
        .route("/redundancy", get(pages::redundancy::page::<B>).post(pages::redundancy::submit::<B>))
        .route("/static/console.css", get(assets::css))
        .route("/static/console.js", get(assets::js))
        .layer(middleware::from_fn_with_state(app.clone(), guard::<B>))
        .layer(middleware::from_fn_with_state(app.secure, headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
}

/// Paths served without a session: the login page and the files it needs.
fn public(method: &Method, path: &str) -> bool {
    path == "/login" || (method == Method::GET && path.starts_with("/static/"))
}

/// Every request: a change must come from the console's own pages (Origin), and everything but
/// the public paths needs a live session; a change also needs the session's CSRF token, in the
/// `X-CSRF-Token` header or the form's `csrf` field.
async fn guard<B: Backend>(State(app): State<Arc<App<B>>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let changes = method != Method::GET && method != Method::HEAD;
    if !known_host(&request, &app.hostnames) {
        return refuse(StatusCode::MISDIRECTED_REQUEST, "unknown host name (rvsd --console-hostname NAME serves one)");
    }
    if changes && !same_origin(&request) {
        return refuse(StatusCode::FORBIDDEN, "cross-origin request refused");
    }
    // Every body, the login's included, arrives in time and whole, or the request goes; the
    // CSRF check below reads its token from these bytes.
    let (parts, body) = request.into_parts();
    let (body, bytes) = if changes {
        match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT)).await {
            Ok(Ok(bytes)) => (Body::from(bytes.clone()), Some(bytes)),
            Ok(Err(_)) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request too large"),
            Err(_) => return refuse(StatusCode::REQUEST_TIMEOUT, "request body too slow"),
        }
    } else {
        (body, None)
    };
    let mut request = Request::from_parts(parts, body);
    if public(&method, &path) {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::token_from_cookie_header)
        .map(str::to_owned);
    let view = match &token {
        Some(t) => app.sessions.lock().await.get(t, Instant::now()),
        None => None,
    };
    // A session lasts only while its user's password is the one they logged in with.
    let view = match (view, &token) {
        (Some(v), Some(t)) if !credential_holds(&app.password_file, &v).await => {
            app.sessions.lock().await.remove(t);
            tracing::info!(user = %v.user, "console: session ended: the user's password changed or the user was removed");
            None
        }
        (view, _) => view,
    };
    let (Some(token), Some(view)) = (token, view) else {
        if path.starts_with("/api/") || path.starts_with("/fragment/") || changes {
            return refuse(StatusCode::UNAUTHORIZED, "log in first");
        }
        return Redirect::to("/login").into_response();
    };
    if changes {
        let given = request
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| bytes.as_deref().and_then(|b| form_field(b, "csrf")));
        if !given.is_some_and(|g| session::csrf_matches(&view.csrf, &g)) {
            let peer = request.extensions().get::<Peer>().map(|p| p.0.ip());
            tracing::warn!(user = %view.user, from = ?peer, path, "console: change refused: missing or wrong CSRF token");
            return refuse(StatusCode::FORBIDDEN, "missing or wrong CSRF token: reload the page and try again");
        }
    }
    request.extensions_mut().insert(Session { token, view });
    next.run(request).await
}

/// Whether the password file still gives the session's user the hash they logged in with. The
/// file is a few lines: reading it on each request costs less than keeping it in step.
async fn credential_holds(file: &std::path::Path, view: &SessionView) -> bool {
    let file = file.to_path_buf();
    let (user, credential) = (view.user.clone(), view.credential.clone());
    tokio::task::spawn_blocking(move || {
        PasswordFile::load(&file).is_ok_and(|f| f.credential(&user).is_some_and(|c| session::csrf_matches(c, &credential)))
    })
    .await
    .unwrap_or(false)
}

/// The request's `Host` is an IP address, `localhost`, or a name given with
/// `--console-hostname`: a DNS-rebinding page reaches the console under its own name.
fn known_host(request: &Request, hostnames: &[String]) -> bool {
    let Some(host) = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next().is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok()),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    let name = name.to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok() || name == "localhost" || hostnames.contains(&name)
}

/// One field of an urlencoded body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A request's `Origin` (or, without one, `Referer`) names this console's host, or is absent
/// (curl, scripts): browsers send Origin on every cross-site POST.
fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|o| o.to_str().ok());
    match origin {
        None => true,
        Some(o) => {
            let rest = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://")).unwrap_or("");
            rest.split('/').next() == Some(host)
        }
    }
}

pub fn refuse(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

/// Headers on every answer: no framing, no sniffing, no caching, scripts and styles from the
/// console only (no inline script can run even if some text escaped its escaping).
async fn headers(State(secure): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if secure {
        h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
    }
    for (name, value) in [
        ("content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> Request {
        Request::builder().uri("/").header(header::HOST, host).body(Body::empty()).unwrap_or_default()
    }

    #[test]
    fn only_addresses_localhost_and_given_names_are_hosts() {
        let names = vec!["lvs1.example.net".to_owned()];
        for ok in ["192.168.1.10:3636", "127.0.0.1", "[::1]:3636", "[2001:db8::1]", "localhost:3636", "LOCALHOST", "lvs1.example.net:3636"] {
            assert!(known_host(&with_host(ok), &names), "{ok}");
        }
        for bad in ["evil.example:3636", "rebind.attacker.test", "[evil]:3636", "192.168.1.10.evil.example", ""] {
            assert!(!known_host(&with_host(bad), &names), "{bad}");
        }
        let no_host = Request::builder().uri("/").body(Body::empty()).unwrap_or_default();
        assert!(!known_host(&no_host, &names));
    }

    #[test]
    fn origin_must_name_the_host() {
        let req = |origin: &str| {
            Request::builder().uri("/").header(header::HOST, "192.168.1.10:3636").header(header::ORIGIN, origin).body(Body::empty()).unwrap_or_default()
        };
        assert!(same_origin(&req("http://192.168.1.10:3636")));
        assert!(same_origin(&req("https://192.168.1.10:3636")));
        for bad in ["http://evil.example", "null", "http://192.168.1.10:3636.evil.example", "http://192.168.1.10"] {
            assert!(!same_origin(&req(bad)), "{bad}");
        }
    }
}
