//! The web console's defences, probed from seed 002's client host (192.168.1.100) with curl, as
//! an attacker on the director's public network would: nothing without a session, no change
//! without the session's CSRF token or from another site, cookies a script cannot read nor
//! another site send (and only over TLS when served over TLS), wrong passwords slowed down and
//! logged without secrets, and a password file only root can read.
//!
//! Passwords are random per test, written to 0600 files that curl reads (`password@FILE`), so
//! that they never appear on a command line; no assertion message prints one.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rvs_e2e::bins::binary;
use rvs_e2e::health_lab::HealthLab;
use rvs_e2e::root_or_skip;
use rvs_e2e::rvsd::{CONN_MAX, STOP_TIMEOUT, lock_path, socket_path};
use rvs_lab::Host;
use rvs_lab::topology::Seed002Nat;

/// The director's public address, where the console listens.
const DIRECTOR: &str = "192.168.1.10";
/// The client host: the requests' source.
const CLIENT: &str = "192.168.1.100";
const CONSOLE_PORT: u16 = 3636;
/// Deadline of one curl run (its own `--max-time` is 20 s: the throttle's 4 s delay fits).
const CURL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the console may take to listen once rvsd's control socket answers.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(15);

/// A NAT service the tests do not touch; the add-virtual-server form adds 192.168.1.250:80.
const TOML: &str = r#"
router_id = "rvs-e2e"

[[virtual_server]]
service = "tcp 192.168.1.250:8080"
scheduler = "rr"
forward = "nat"

[[virtual_server.real]]
address = "10.0.0.100:8080"
weight = 1
"#;

/// Pages: without a session they send the browser to the login page.
const PAGES: &[&str] = &["/", "/virtual", "/virtual/tcp-192.168.1.250-80", "/global", "/redundancy"];
/// Fragments and the JSON API: without a session, 401.
const DATA: &[&str] = &["/fragment/monitor", "/api/status", "/api/history"];
/// Every route that changes something (and logout).
const CHANGES: &[&str] = &[
    "/virtual",
    "/virtual/x",
    "/virtual/x/enable",
    "/virtual/x/real",
    "/virtual/x/real/y/weight",
    "/global",
    "/redundancy",
    "/logout",
];

/// `n` random bytes from the kernel, in hex.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap_or_else(|e| panic!("reading /dev/urandom: {e}"));
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `text` to a new file of mode 0600 (a secret for curl to read).
fn write_secret(path: &Path, text: &str) {
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    file.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `rvs passwd --file <file> --user admin --stdin` with the password on its stdin.
fn set_password(file: &Path, password: &str) {
    let mut child = Command::new(binary("rvs"))
        .args(["passwd", "--file", &file.to_string_lossy(), "--user", "admin", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting rvs passwd: {e}"));
    let mut stdin = child.stdin.take().expect("rvs passwd's stdin");
    stdin.write_all(format!("{password}\n").as_bytes()).expect("writing the password to rvs passwd");
    drop(stdin);
    let out = child.wait_with_output().expect("waiting for rvs passwd");
    let redact = |s: &[u8]| String::from_utf8_lossy(s).replace(password, "<password>");
    assert!(
        out.status.success(),
        "rvs passwd exited {}: stdout {:?} stderr {:?}",
        out.status,
        redact(&out.stdout),
        redact(&out.stderr)
    );
}

/// A self-signed certificate for the director's public address, and its key, as PEM files.
fn write_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec![DIRECTOR.to_owned()]).expect("rcgen: a self-signed certificate");
    let (cert, key) = (dir.join("console.crt"), dir.join("console.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap_or_else(|e| panic!("writing {}: {e}", cert.display()));
    write_secret(&key, &certified.signing_key.serialize_pem());
    (cert, key)
}

/// One answer, as curl got it.
#[derive(Debug)]
struct Reply {
    /// The HTTP status; 0 when curl got none.
    status: u16,
    /// The response's header block (`-D`).
    headers: String,
    body: String,
    /// curl's `time_total`.
    took: Duration,
    /// curl's stderr (why it failed).
    error: String,
}

impl Reply {
    /// The values of header `name` (case-insensitive).
    fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.header_values(name).into_iter().next()
    }

    /// The `rvs_session` cookie this answer sets, if any: its value and the whole header.
    fn session_cookie(&self) -> Option<(String, String)> {
        self.header_values("set-cookie").into_iter().find_map(|v| {
            let value = v.strip_prefix("rvs_session=")?.split(';').next()?.to_owned();
            Some((value, v))
        })
    }

    /// The hidden `csrf` field of a page's forms.
    fn csrf(&self) -> String {
        const MARK: &str = r#"name="csrf" value=""#;
        let start = self.body.find(MARK).unwrap_or_else(|| panic!("no csrf field in the page:\n{}", self.body)) + MARK.len();
        let len = self.body[start..].find('"').expect("the csrf field's closing quote");
        self.body[start..start + len].to_owned()
    }

    /// One line for messages.
    fn brief(&self) -> String {
        let body: String = self.body.chars().take(300).collect();
        format!("status {} in {:?}; headers:\n{}body: {body:?} {}", self.status, self.took, self.headers, self.error)
    }
}

/// Runs curl in `client` against the console at `base`: the answer's status, headers, body and
/// time. `files` is where the header and body files go.
fn curl(client: &Host, base: &str, files: &Path, tag: &str, path: &str, extra: &[String]) -> Reply {
    let (headers, body) = (files.join(format!("{tag}.headers")), files.join(format!("{tag}.body")));
    let mut args: Vec<String> = ["-s", "-S", "--max-time", "20", "--path-as-is", "-o"].iter().map(|s| (*s).to_owned()).collect();
    args.push(body.to_string_lossy().into_owned());
    args.push("-D".into());
    args.push(headers.to_string_lossy().into_owned());
    args.push("-w".into());
    args.push("%{http_code} %{time_total}".into());
    args.extend_from_slice(extra);
    args.push(format!("{base}{path}"));
    let out = client.run("curl", &args, CURL_TIMEOUT).unwrap_or_else(|e| panic!("curl {path}: {e}"));
    let mut words = out.stdout.split_whitespace();
    let status = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let took = words.next().and_then(|s| s.parse::<f64>().ok()).map_or(Duration::ZERO, Duration::from_secs_f64);
    let reply = Reply {
        status,
        headers: std::fs::read_to_string(&headers).unwrap_or_default(),
        body: std::fs::read_to_string(&body).unwrap_or_default(),
        took,
        error: out.stderr.trim().to_owned(),
    };
    let _ = std::fs::remove_file(headers);
    let _ = std::fs::remove_file(body);
    reply
}

/// Seed 002 from a TOML file, with the console on the director's public address.
struct Console {
    lab: HealthLab,
    /// The lab's directory: the password file, the certificate, curl's files.
    dir: PathBuf,
    /// `http://192.168.1.10:3636` (or https).
    base: String,
    /// The certificate curl trusts, under TLS.
    cacert: Option<PathBuf>,
    /// The password file `rvs passwd` wrote.
    passwd: PathBuf,
    /// A file holding the right password, for curl.
    password_file: PathBuf,
    /// The right password (never printed).
    password: String,
    requests: Cell<u32>,
}

impl Console {
    fn start(tls: bool) -> Console {
        let password = format!("right-{}", random_hex(12));
        let seen: RefCell<Option<(PathBuf, Option<PathBuf>)>> = RefCell::new(None);
        let lab = HealthLab::start_with("rvs.toml", TOML, &[8080], &|dir| {
            let passwd = dir.join("console.passwd");
            set_password(&passwd, &password);
            let mut args = vec![
                "--console".to_owned(),
                format!("{DIRECTOR}:{CONSOLE_PORT}"),
                "--console-password-file".to_owned(),
                passwd.to_string_lossy().into_owned(),
            ];
            let mut cacert = None;
            if tls {
                let (cert, key) = write_certificate(dir);
                args.extend(["--console-tls-cert".to_owned(), cert.to_string_lossy().into_owned()]);
                args.extend(["--console-tls-key".to_owned(), key.to_string_lossy().into_owned()]);
                cacert = Some(cert);
            }
            *seen.borrow_mut() = Some((dir.to_owned(), cacert));
            args
        });
        let (dir, cacert) = seen.into_inner().expect("the lab's directory");
        let listen: SocketAddr = format!("{DIRECTOR}:{CONSOLE_PORT}").parse().expect("the console's address");
        if let Err(e) = lab.seed.client.host.wait_for_tcp(listen, LISTEN_TIMEOUT) {
            panic!("the console does not listen: {e}; rvsd's log:\n{}", lab.rvsd.log());
        }
        let password_file = dir.join("right.password");
        write_secret(&password_file, &password);
        let scheme = if tls { "https" } else { "http" };
        Console {
            base: format!("{scheme}://{DIRECTOR}:{CONSOLE_PORT}"),
            passwd: dir.join("console.passwd"),
            lab,
            dir,
            cacert,
            password_file,
            password,
            requests: Cell::new(0),
        }
    }

    fn client(&self) -> &Host {
        &self.lab.seed.client.host
    }

    /// A new file name in the lab's directory.
    fn file(&self, what: &str) -> PathBuf {
        let n = self.requests.get();
        self.requests.set(n + 1);
        self.dir.join(format!("{what}.{n}"))
    }

    /// curl's arguments common to all requests: the CA certificate under TLS.
    fn common(&self) -> Vec<String> {
        match &self.cacert {
            Some(cert) => vec!["--cacert".into(), cert.to_string_lossy().into_owned()],
            None => Vec::new(),
        }
    }

    fn request(&self, path: &str, extra: &[String]) -> Reply {
        let tag = self.file("req");
        let tag = tag.file_name().expect("a file name").to_string_lossy().into_owned();
        let mut args = self.common();
        args.extend_from_slice(extra);
        curl(self.client(), &self.base, &self.dir, &tag, path, &args)
    }

    /// `GET path`, with the cookie jar `jar` if given.
    fn get(&self, path: &str, jar: Option<&Path>) -> Reply {
        self.request(path, &jar_args(jar))
    }

    /// `POST path` with an urlencoded form, the cookie jar, and more headers (`Origin: …`).
    fn post(&self, path: &str, jar: Option<&Path>, form: &[(&str, &str)], headers: &[&str]) -> Reply {
        let mut args = jar_args(jar);
        args.extend(["-X".into(), "POST".into(), "-H".into(), "Content-Type: application/x-www-form-urlencoded".into()]);
        if form.is_empty() {
            args.extend(["--data-binary".into(), String::new()]);
        }
        for (k, v) in form {
            args.extend(["--data-urlencode".into(), format!("{k}={v}")]);
        }
        for h in headers {
            args.extend(["-H".into(), (*h).to_owned()]);
        }
        self.request(path, &args)
    }

    /// `POST /login` as admin with the password in `password_file`, keeping the cookie in `jar`.
    fn login_with(&self, jar: &Path, password_file: &Path) -> Reply {
        let mut args = jar_args(Some(jar));
        args.extend([
            "--data-urlencode".into(),
            "user=admin".into(),
            "--data-urlencode".into(),
            format!("password@{}", password_file.display()),
        ]);
        self.request("/login", &args)
    }

    /// Logs in with the right password into a new cookie jar; the jar and the answer.
    fn login(&self) -> (PathBuf, Reply) {
        let jar = self.file("jar");
        let reply = self.login_with(&jar, &self.password_file);
        assert_eq!(reply.status, 303, "login with the right password: {}\n{}", reply.brief(), self.lab.rvsd.log());
        assert_eq!(reply.header("location").as_deref(), Some("/"), "{}", reply.brief());
        (jar, reply)
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(&self.lab.config).unwrap_or_else(|e| panic!("reading {}: {e}", self.lab.config.display()))
    }
}

/// `-b jar -c jar`: send the jar's cookies, keep the ones set.
fn jar_args(jar: Option<&Path>) -> Vec<String> {
    match jar {
        Some(jar) => {
            let j = jar.to_string_lossy().into_owned();
            vec!["-b".into(), j.clone(), "-c".into(), j]
        }
        None => Vec::new(),
    }
}

/// The security headers every answer carries.
fn assert_security_headers(reply: &Reply, what: &str) {
    let csp = reply.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no content-security-policy: {}", reply.brief()));
    for directive in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
        assert!(csp.contains(directive), "{what}: the CSP {csp:?} lacks {directive:?}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: CSP {csp:?}");
    assert_eq!(reply.header("x-frame-options").as_deref(), Some("DENY"), "{what}: {}", reply.brief());
    assert_eq!(reply.header("x-content-type-options").as_deref(), Some("nosniff"), "{what}: {}", reply.brief());
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"), "{what}: {}", reply.brief());
}

#[test]
fn every_page_and_api_refuses_without_a_session() {
    if !root_or_skip("every_page_and_api_refuses_without_a_session") {
        return;
    }
    let started = Instant::now();
    let console = Console::start(false);
    let before = console.config_text();
    // The console is there: the login page and its files need no session.
    let login = console.get("/login", None);
    assert_eq!(login.status, 200, "GET /login: {}", login.brief());
    assert!(login.body.contains(r#"name="password""#), "{}", login.brief());
    assert_eq!(console.get("/static/console.css", None).status, 200);

    let forged_jar = console.file("forged");
    // A cookie of the right shape that names no session.
    let forged = format!("rvs_session={}", random_hex(32));
    std::fs::write(&forged_jar, "").expect("an empty jar");
    let cookies: [(&str, Vec<String>); 3] = [
        ("no cookie", Vec::new()),
        ("a forged cookie", vec!["-H".into(), format!("Cookie: {forged}")]),
        ("a malformed cookie", vec!["-H".into(), "Cookie: rvs_session=../../etc/passwd; rvs_session=".into()]),
    ];
    for (what, cookie) in &cookies {
        for page in PAGES {
            let r = console.request(page, cookie);
            assert_eq!(r.status, 303, "GET {page} with {what}: {}", r.brief());
            assert_eq!(r.header("location").as_deref(), Some("/login"), "GET {page} with {what}: {}", r.brief());
            assert!(!r.body.contains("192.168.1.250"), "GET {page} with {what} shows the table: {}", r.brief());
            assert_security_headers(&r, &format!("GET {page} with {what}"));
        }
        for path in DATA {
            let r = console.request(path, cookie);
            assert_eq!(r.status, 401, "GET {path} with {what}: {}", r.brief());
            assert!(!r.body.contains("192.168.1.250"), "GET {path} with {what} shows the table: {}", r.brief());
        }
        for path in CHANGES {
            let mut args = cookie.clone();
            args.extend(
                ["-X", "POST", "--data-urlencode", "csrf=0000", "--data-urlencode", "protocol=tcp", "--data-urlencode", "address=192.168.1.251", "--data-urlencode", "port=80", "--data-urlencode", "scheduler=rr"]
                    .iter()
                    .map(|s| (*s).to_owned()),
            );
            let r = console.request(path, &args);
            assert_eq!(r.status, 401, "POST {path} with {what}: {}", r.brief());
        }
    }
    // Paths that start like the public ones but lead elsewhere.
    for path in ["/static/../api/status", "/static/%2e%2e/api/status", "/static//../virtual", "/login/../api/status", "//api/status", "/api/status/", "/API/status"] {
        let r = console.get(path, None);
        eprintln!("GET {path} without a session: {}", r.status);
        assert!(r.status != 200 || !r.body.contains("192.168.1.250"), "GET {path} without a session: {}", r.brief());
        assert!(matches!(r.status, 303 | 401 | 404), "GET {path} without a session: {}", r.brief());
    }
    // The login form echoes the user name back: escaped, and logged escaped (no forged line).
    let wrong = console.dir.join("wrong.password");
    write_secret(&wrong, &format!("wrong-{}", random_hex(10)));
    let evil_user = "\"><script>alert(1)</script>\nFORGED-LOG-LINE";
    let r = console.request(
        "/login",
        &["--data-urlencode".into(), format!("user={evil_user}"), "--data-urlencode".into(), format!("password@{}", wrong.display())],
    );
    assert_eq!(r.status, 401, "{}", r.brief());
    assert!(!r.body.contains("<script>alert(1)"), "the user name is echoed unescaped: {}", r.brief());
    assert!(r.body.contains("&lt;script&gt;alert(1)"), "the user name is echoed escaped: {}", r.brief());
    let log = console.lab.rvsd.log();
    assert!(log.lines().all(|l| !l.starts_with("FORGED-LOG-LINE")), "a user name forged a log line:\n{log}");

    assert_eq!(console.config_text(), before, "the configuration file changed");
    let listing = console.lab.listing();
    assert!(!listing.contains("192.168.1.251"), "{listing}");
    eprintln!("every_page_and_api_refuses_without_a_session: {:?}", started.elapsed());
}

#[test]
fn csrf_missing_or_forged_is_refused() {
    if !root_or_skip("csrf_missing_or_forged_is_refused") {
        return;
    }
    let started = Instant::now();
    let console = Console::start(false);
    let before = console.config_text();
    let (jar, logged_in) = console.login();
    let (token, _) = logged_in.session_cookie().expect("login sets the session cookie");
    let page = console.get("/virtual", Some(&jar));
    assert_eq!(page.status, 200, "GET /virtual logged in: {}", page.brief());
    let csrf = page.csrf();
    assert_eq!(csrf.len(), 64, "a 256-bit token in hex");
    let (other_jar, _) = console.login();
    let other = console.get("/virtual", Some(&other_jar)).csrf();
    assert_ne!(csrf, other, "two sessions, two CSRF tokens");

    let form = [("protocol", "tcp"), ("address", "192.168.1.250"), ("port", "80"), ("scheduler", "wlc")];
    fn with<'a>(form: &[(&'a str, &'a str)], token: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut f = form.to_vec();
        f.push(("csrf", token));
        f
    }
    /// What a request is, its form, its extra headers.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let wrong = random_hex(32);
    let cases: Vec<Case> = vec![
        ("without a CSRF token", form.to_vec(), vec![]),
        ("with an empty CSRF token", with(&form, ""), vec![]),
        ("with a wrong CSRF token", with(&form, &wrong), vec![]),
        ("with the other session's CSRF token", with(&form, &other), vec![]),
        ("with a truncated CSRF token", with(&form, &csrf[..32]), vec![]),
        ("with a wrong X-CSRF-Token header", form.to_vec(), vec!["X-CSRF-Token: 00"]),
        ("from another site (Origin)", with(&form, &csrf), vec!["Origin: http://evil.example"]),
        ("from another site (Origin, same host as a prefix)", with(&form, &csrf), vec!["Origin: http://192.168.1.10:3636.evil.example"]),
        ("from an opaque origin", with(&form, &csrf), vec!["Origin: null"]),
        ("from another site (Referer)", with(&form, &csrf), vec!["Referer: http://evil.example/attack.html"]),
    ];
    for (what, fields, headers) in &cases {
        let r = console.post("/virtual", Some(&jar), fields, headers);
        assert_eq!(r.status, 403, "add a virtual server {what}: {}", r.brief());
        assert_eq!(console.config_text(), before, "the file changed after a request {what}");
    }
    let listing = console.lab.listing();
    assert!(!listing.contains("192.168.1.250:80 "), "refused, yet in the table:\n{listing}");

    // A refused form is shown again with what was typed: escaped.
    let mut bad = with(&form, &csrf);
    bad[1] = ("address", "<script>alert(1)</script>");
    let r = console.post("/virtual", Some(&jar), &bad, &[]);
    assert_eq!(r.status, 422, "an invalid address: {}", r.brief());
    assert!(!r.body.contains("<script>alert(1)"), "the address is echoed unescaped: {}", r.brief());
    assert_eq!(console.config_text(), before, "the file changed after an invalid form");

    // The session's own token, from the console's own page: the change is made.
    let r = console.post("/virtual", Some(&jar), &with(&form, &csrf), &[&format!("Origin: {}", console.base)]);
    assert_eq!(r.status, 303, "add a virtual server with the right CSRF token: {}\n{}", r.brief(), console.lab.rvsd.log());
    assert_eq!(r.header("location").as_deref(), Some("/virtual/tcp-192.168.1.250-80?saved=1"), "{}", r.brief());
    let after = console.config_text();
    assert!(after.contains("192.168.1.250:80\"") && after.contains("wlc"), "the file holds the service:\n{after}");
    assert!(after.contains("192.168.1.250:8080"), "the old service is kept:\n{after}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listing = console.lab.listing();
        if listing.contains("192.168.1.250:80 wlc") {
            break;
        }
        assert!(Instant::now() < deadline, "the new service is not in the table:\n{listing}\n{}", console.lab.rvsd.log());
        std::thread::sleep(Duration::from_millis(100));
    }

    // After logout the cookie and its token are worth nothing.
    let out = console.post("/logout", Some(&jar), &[("csrf", &csrf)], &[]);
    assert_eq!(out.status, 303, "logout: {}", out.brief());
    let (_, cleared) = out.session_cookie().expect("logout clears the cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let stale_cookie = format!("Cookie: rvs_session={token}");
    let stale = console.request(
        "/virtual/tcp-192.168.1.250-80/disable",
        &["-X".into(), "POST".into(), "-H".into(), format!("X-CSRF-Token: {csrf}"), "-H".into(), stale_cookie.clone()],
    );
    assert_eq!(stale.status, 401, "a change with the cookie of a logged-out session: {}", stale.brief());
    let stale = console.request("/api/status", &["-H".into(), stale_cookie]);
    assert_eq!(stale.status, 401, "the API with the cookie of a logged-out session: {}", stale.brief());
    assert!(after == console.config_text(), "the file changed after logout");
    eprintln!("csrf_missing_or_forged_is_refused: {:?}", started.elapsed());
}

/// `attribute` (`Secure`, `HttpOnly`) among a Set-Cookie value's attributes.
fn has_attribute(cookie: &str, attribute: &str) -> bool {
    cookie.split(';').skip(1).any(|a| a.trim().split('=').next().is_some_and(|n| n.trim().eq_ignore_ascii_case(attribute)))
}

/// A Set-Cookie attribute's value (`SameSite` → `Strict`).
fn attribute_value(cookie: &str, attribute: &str) -> Option<String> {
    cookie.split(';').skip(1).find_map(|a| {
        let (n, v) = a.trim().split_once('=')?;
        n.trim().eq_ignore_ascii_case(attribute).then(|| v.trim().to_owned())
    })
}

#[test]
fn cookies_are_httponly_samesite_and_secure_under_tls() {
    if !root_or_skip("cookies_are_httponly_samesite_and_secure_under_tls") {
        return;
    }
    let started = Instant::now();
    {
        let console = Console::start(false);
        let (jar, login) = console.login();
        let (token, cookie) = login.session_cookie().expect("login sets rvs_session");
        assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "a 256-bit token: {cookie}");
        assert!(has_attribute(&cookie, "HttpOnly"), "{cookie}");
        assert_eq!(attribute_value(&cookie, "SameSite").as_deref(), Some("Strict"), "{cookie}");
        assert_eq!(attribute_value(&cookie, "Path").as_deref(), Some("/"), "{cookie}");
        assert!(!has_attribute(&cookie, "Secure"), "over plain HTTP the cookie cannot be Secure: {cookie}");
        let jar_text = std::fs::read_to_string(&jar).expect("curl's jar");
        assert!(jar_text.contains("#HttpOnly_"), "curl keeps it as HttpOnly:\n{jar_text}");
        assert_security_headers(&login, "the login answer");
        let page = console.get("/", Some(&jar));
        assert_eq!(page.status, 200, "GET / logged in: {}", page.brief());
        assert_security_headers(&page, "GET / over HTTP");
        let form = console.get("/login", None);
        assert_security_headers(&form, "GET /login over HTTP");
        let refused = console.get("/api/status", None);
        assert_security_headers(&refused, "a 401");
        let api = console.get("/api/status", Some(&jar));
        assert_eq!(api.status, 200, "{}", api.brief());
        assert_security_headers(&api, "GET /api/status");
        assert!(api.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{}", api.brief());
    }
    {
        let console = Console::start(true);
        // Verified against the generated certificate, not -k.
        let (jar, login) = console.login();
        let (_, cookie) = login.session_cookie().expect("login sets rvs_session");
        assert!(has_attribute(&cookie, "Secure"), "over HTTPS the cookie is Secure: {cookie}");
        assert!(has_attribute(&cookie, "HttpOnly"), "{cookie}");
        assert_eq!(attribute_value(&cookie, "SameSite").as_deref(), Some("Strict"), "{cookie}");
        let page = console.get("/virtual", Some(&jar));
        assert_eq!(page.status, 200, "GET /virtual over HTTPS: {}", page.brief());
        assert_security_headers(&page, "GET /virtual over HTTPS");
        assert_security_headers(&console.get("/login", None), "GET /login over HTTPS");
        let csrf = page.csrf();
        let out = console.post("/logout", Some(&jar), &[("csrf", &csrf)], &[]);
        assert_eq!(out.status, 303, "logout over HTTPS: {}", out.brief());
        let (_, cleared) = out.session_cookie().expect("logout clears the cookie");
        assert!(has_attribute(&cleared, "Secure") && cleared.contains("Max-Age=0"), "{cleared}");
        // No cleartext answer on the TLS port.
        let plain = curl(console.client(), &format!("http://{DIRECTOR}:{CONSOLE_PORT}"), &console.dir, "plain", "/login", &[]);
        assert_eq!(plain.status, 0, "plain HTTP to the HTTPS console: {}", plain.brief());
        // A renewed certificate is served from the next handshake on, without a restart.
        let old = console.dir.join("old.crt");
        std::fs::copy(console.dir.join("console.crt"), &old).expect("keeping the old certificate");
        write_certificate(&console.dir);
        let renewed = console.get("/login", None);
        assert_eq!(renewed.status, 200, "verified against the renewed certificate: {}\n{}", renewed.brief(), console.lab.rvsd.log());
        let stale = curl(console.client(), &console.base, &console.dir, "stale", "/login", &["--cacert".into(), old.to_string_lossy().into_owned()]);
        assert_eq!(stale.status, 0, "the old certificate is no longer served: {}", stale.brief());
        assert!(console.lab.rvsd.log().contains("serving the new one"), "rvsd says so:\n{}", console.lab.rvsd.log());
    }
    eprintln!("cookies_are_httponly_samesite_and_secure_under_tls: {:?}", started.elapsed());
}

/// `text` with every secret replaced by a mark, for messages.
fn redact(text: &str, secrets: &[(&str, String)]) -> String {
    let mut text = text.to_owned();
    for (what, secret) in secrets {
        if !secret.is_empty() {
            text = text.replace(secret.as_str(), &format!("<{what}>"));
        }
    }
    text
}

#[test]
fn wrong_passwords_are_slowed_and_logged_without_secrets() {
    if !root_or_skip("wrong_passwords_are_slowed_and_logged_without_secrets") {
        return;
    }
    let started = Instant::now();
    let console = Console::start(false);
    let wrong: Vec<String> = (1..=6).map(|i| format!("wrong{i}-{}", random_hex(10))).collect();
    let wrong_files: Vec<PathBuf> = wrong
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let f = console.dir.join(format!("wrong{i}.password"));
            write_secret(&f, w);
            f
        })
        .collect();
    let jar = console.file("jar");

    // The policy (auth/throttle.rs): 2 free failures, then 1 s, 2 s, 4 s … before the answer.
    let mut took = Vec::new();
    for (i, file) in wrong_files.iter().take(4).enumerate() {
        let r = console.login_with(&jar, file);
        assert_eq!(r.status, 401, "wrong password {}: {}", i + 1, r.brief());
        assert!(!r.body.contains(wrong[i].as_str()), "the wrong password is echoed in the page");
        assert!(r.session_cookie().is_none(), "a wrong password got a cookie: {}", r.brief());
        took.push(r.took);
    }
    eprintln!("wrong passwords 1-4 answered in {took:?}");
    assert!(took[0] < Duration::from_secs(1) && took[1] < Duration::from_secs(1), "the first two failures are free: {took:?}");
    assert!(took[2] >= Duration::from_millis(900) && took[2] < Duration::from_secs(3), "the third waits 1 s: {took:?}");
    assert!(took[3] >= Duration::from_millis(1900) && took[3] < Duration::from_secs(4), "the fourth waits 2 s: {took:?}");

    // The fifth waits 4 s; meanwhile every attempt from the address is refused at once.
    let fifth = {
        let (client, base, dir) = (console.client().clone(), console.base.clone(), console.dir.clone());
        let args = vec!["--data-urlencode".to_owned(), "user=admin".to_owned(), "--data-urlencode".to_owned(), format!("password@{}", wrong_files[4].display())];
        std::thread::spawn(move || curl(&client, &base, &dir, "fifth", "/login", &args))
    };
    std::thread::sleep(Duration::from_millis(1200));
    let early_jar = console.file("jar");
    let early = console.login_with(&early_jar, &console.password_file);
    assert_eq!(early.status, 429, "the right password while the fifth failure's delay runs: {}", early.brief());
    assert!(early.took < Duration::from_secs(1), "refused at once: {}", early.brief());
    assert!(early.session_cookie().is_none(), "{}", early.brief());
    let retry: u64 = early.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no Retry-After: {}", early.brief()));
    assert!((1..=4).contains(&retry), "Retry-After {retry} (about 3 s left of 4 s)");
    let fifth = fifth.join().expect("the fifth attempt's thread");
    eprintln!("wrong password 5 answered in {:?}; the right one during its delay: 429 Retry-After {retry}", fifth.took);
    assert_eq!(fifth.status, 401, "wrong password 5: {}", fifth.brief());
    assert!(fifth.took >= Duration::from_millis(3500) && fifth.took < Duration::from_secs(8), "the fifth waits 4 s: {:?}", fifth.took);

    // The wait is over: the right password is accepted, and the count starts again.
    let (jar, login) = console.login();
    let (token, _) = login.session_cookie().expect("a cookie");
    let page = console.get("/", Some(&jar));
    assert_eq!(page.status, 200, "{}", page.brief());
    let again = console.login_with(&console.file("jar"), &wrong_files[5]);
    assert_eq!(again.status, 401, "{}", again.brief());
    assert!(again.took < Duration::from_secs(1), "after a successful login a failure is free again: {:?}", again.took);

    let log = console.lab.rvsd.log();
    let passwd = std::fs::read_to_string(&console.passwd).expect("the password file");
    let phc = passwd.lines().find_map(|l| l.strip_prefix("admin:")).expect("admin's line").trim().to_owned();
    let parts: Vec<&str> = phc.split('$').collect();
    assert_eq!(parts.len(), 6, "a PHC string: $argon2id$v=19$m=…$salt$hash");
    let mut secrets: Vec<(&str, String)> = vec![
        ("the right password", console.password.clone()),
        ("the argon2 hash", phc.clone()),
        ("the argon2 salt", parts[4].to_owned()),
        ("the argon2 hash's digest", parts[5].to_owned()),
        ("the session token", token),
        ("the CSRF token", page.csrf()),
    ];
    secrets.extend(wrong.iter().map(|w| ("a wrong password", w.clone())));
    let shown = redact(&log, &secrets);
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "rvsd's log holds {what}:\n{shown}");
    }
    assert!(!log.contains("$argon2"), "rvsd's log holds an argon2 string:\n{shown}");
    let failed: Vec<&str> = log.lines().filter(|l| l.contains("console: failed login")).collect();
    assert_eq!(failed.len(), 6, "one line per failed login:\n{shown}");
    assert!(failed.iter().all(|l| l.contains(CLIENT) && l.contains("admin")), "each names the address and the user:\n{shown}");
    // Attempts refused during a delay are not password checks, and a flood of them must not
    // drown the director's log: debug only.
    assert!(!log.lines().any(|l| l.contains("login refused")), "refusals are not logged at info:\n{shown}");
    assert!(log.lines().any(|l| l.contains("logged in") && l.contains(CLIENT)), "{shown}");
    eprintln!("wrong_passwords_are_slowed_and_logged_without_secrets: {:?}", started.elapsed());
}

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `cat file` as user nobody: whether it succeeded, and its stdout.
fn cat_as_nobody(file: &Path) -> (bool, String, String) {
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat"])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running setpriv: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_password_file_is_for_root_only() {
    if !root_or_skip("the_password_file_is_for_root_only") {
        return;
    }
    rvs_e2e::bins::require_all();
    let started = Instant::now();
    let prefix = rvs_e2e::lab_prefix();
    let dir = TempDir(std::env::temp_dir().join(format!("rvs-e2e-{prefix}-passwd")));
    std::fs::create_dir_all(&dir.0).expect("a directory");
    // Anyone may enter the directory: only the file's own mode keeps others out.
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).expect("chmod 755 the directory");
    let file = dir.0.join("console.passwd");
    let password = format!("right-{}", random_hex(12));
    set_password(&file, &password);

    let meta = std::fs::metadata(&file).expect("the password file");
    assert_eq!(meta.mode() & 0o7777, 0o600, "rvs passwd writes mode 0600");
    assert_eq!(meta.uid(), 0, "owned by root");
    let text = std::fs::read_to_string(&file).expect("the password file");
    assert!(text.contains("admin:$argon2id$"), "an argon2id line for admin");
    assert!(!text.contains(&password), "the file holds the password itself");
    let (ok, stdout, stderr) = cat_as_nobody(&file);
    assert!(!ok && stdout.is_empty(), "nobody read the password file (stderr {stderr:?})");
    assert!(stderr.contains("Permission denied"), "{stderr}");

    // Loosened by hand: now others can read it (the check above tested the mode), and rvsd
    // refuses to serve the console from it.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod 644");
    let (ok, stdout, _) = cat_as_nobody(&file);
    assert!(ok && stdout.contains("admin:"), "the control: nobody reads a 0644 file here");

    let seed = Seed002Nat::build(&prefix).unwrap_or_else(|e| panic!("building seed 002 as {prefix}: {e}"));
    let socket = socket_path(&prefix);
    std::fs::create_dir_all(socket.parent().expect("the socket's directory")).expect("the socket's directory");
    let instance = format!("{prefix}-director");
    let (socket_arg, file_arg) = (socket.to_string_lossy().into_owned(), file.to_string_lossy().into_owned());
    let listen = format!("{DIRECTOR}:{CONSOLE_PORT}");
    let args = [
        "--interface", "eth0", "--socket", &socket_arg, "--instance", &instance, "--conn-max", CONN_MAX,
        "--console", &listen, "--console-password-file", &file_arg,
    ];
    let rvsd = binary("rvsd");
    let mut process = seed.director.host.spawn("rvsd", &rvsd.to_string_lossy(), args).expect("starting rvsd");
    let status = process.wait_timeout(Duration::from_secs(30)).expect("waiting for rvsd");
    let log = process.log();
    let status = match status {
        Some(status) => status,
        None => {
            let _ = process.stop(STOP_TIMEOUT);
            panic!("rvsd still runs with a 0644 password file; its log:\n{}", process.log());
        }
    };
    drop(process);
    for path in [socket.clone(), lock_path(&socket)] {
        let _ = std::fs::remove_file(path);
    }
    drop(seed);
    eprintln!("rvsd with a 0644 password file: {status}; its log:\n{log}");
    assert!(!status.success(), "rvsd exited 0 with a 0644 password file:\n{log}");
    assert!(log.contains("chmod 600") && log.contains(&file_arg), "the error says what to do:\n{log}");
    assert!(log.contains("0644"), "the error names the mode:\n{log}");
    let phc = text.lines().find_map(|l| l.strip_prefix("admin:")).expect("admin's line").trim().to_owned();
    assert!(!log.contains(&phc) && !log.contains("$argon2"), "the error shows the hash");
    assert!(!log.contains(&password), "the error shows the password");

    // Setting the password again makes it 0600 again, whatever it was.
    set_password(&file, &format!("again-{}", random_hex(12)));
    let meta = std::fs::metadata(&file).expect("the password file");
    assert_eq!(meta.mode() & 0o7777, 0o600, "rvs passwd rewrites it with mode 0600");
    let (ok, _, _) = cat_as_nobody(&file);
    assert!(!ok, "nobody reads the rewritten file");
    eprintln!("the_password_file_is_for_root_only: {:?}", started.elapsed());
}

/// rvsd's peak resident memory (VmHWM) in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

/// Parallel attempts from one address must not each get a password verified: a failure's delay
/// is only known once its verification has failed, so the throttle lets one attempt per address
/// be checked at a time (and each check costs argon2's 19 MiB).
#[test]
fn parallel_wrong_passwords_are_not_all_tried() {
    if !root_or_skip("parallel_wrong_passwords_are_not_all_tried") {
        return;
    }
    const PARALLEL: usize = 24;
    let console = Console::start(false);
    let wrong = console.dir.join("wrong.password");
    write_secret(&wrong, &format!("wrong-{}", random_hex(10)));
    let before = peak_rss_kib(console.lab.rvsd.pid());
    let script = format!(
        "for i in $(seq {PARALLEL}); do curl -s -o /dev/null -w '%{{http_code}}\\n' --max-time 120 --data-urlencode user=admin --data-urlencode password@{} {}/login & done; wait",
        wrong.display(),
        console.base
    );
    let started = Instant::now();
    let out = console.client().run("sh", ["-c", &script], Duration::from_secs(180)).expect("parallel curls");
    let took = started.elapsed();
    let mut statuses: Vec<&str> = out.stdout.lines().collect();
    statuses.sort_unstable();
    let log = console.lab.rvsd.log();
    let tried = log.lines().filter(|l| l.contains("console: failed login")).count();
    let after = peak_rss_kib(console.lab.rvsd.pid());
    eprintln!("{PARALLEL} parallel wrong passwords in {took:?}: {statuses:?}; {tried} verified; rvsd's peak RSS {before} KiB -> {after} KiB");
    // The policy: 2 free failures, then every attempt waits for the previous one's delay.
    assert!(statuses.iter().all(|s| *s == "401" || *s == "429"), "{statuses:?}");
    assert!(tried <= 3, "{tried} of {PARALLEL} parallel wrong passwords were verified");
    assert!(after.saturating_sub(before) < 8 * 19 * 1024, "rvsd grew by {} KiB verifying them", after.saturating_sub(before));
}

/// `rvs passwd` after a leak ends the sessions opened with the old password at once.
#[test]
fn a_new_password_ends_the_old_sessions() {
    if !root_or_skip("a_new_password_ends_the_old_sessions") {
        return;
    }
    let console = Console::start(false);
    let (jar, _) = console.login();
    assert_eq!(console.get("/api/status", Some(&jar)).status, 200, "the session works");
    set_password(&console.passwd, &format!("changed-{}", random_hex(12)));
    let after = console.get("/api/status", Some(&jar));
    assert_eq!(after.status, 401, "the old session after rvs passwd: {}", after.brief());
    assert!(console.lab.rvsd.log().contains("session ended"), "{}", console.lab.rvsd.log());
}

/// A page that rebinds its own DNS name to the director's address reaches the console under
/// that name: refused, login included; an IP address or localhost is served.
#[test]
fn an_unknown_host_name_is_refused() {
    if !root_or_skip("an_unknown_host_name_is_refused") {
        return;
    }
    let console = Console::start(false);
    let rebound = console.request("/login", &["-H".into(), "Host: rebind.attacker.test:3636".into()]);
    assert_eq!(rebound.status, 421, "{}", rebound.brief());
    let form = [("user", "admin"), ("password", "whatever-it-is")];
    let post = console.post("/login", None, &form, &["Host: rebind.attacker.test:3636", "Origin: http://rebind.attacker.test:3636"]);
    assert_eq!(post.status, 421, "{}", post.brief());
    assert!(!console.lab.rvsd.log().contains("failed login"), "no password was tried");
    let local = console.request("/login", &["-H".into(), "Host: localhost:3636".into()]);
    assert_eq!(local.status, 200, "{}", local.brief());
}

/// A change in the console does not overwrite a file edited by hand since rvsd read it; after
/// `rvs reload` (SIGHUP here) it does, and the hand edit is kept.
#[test]
fn a_file_edited_by_hand_is_not_overwritten() {
    if !root_or_skip("a_file_edited_by_hand_is_not_overwritten") {
        return;
    }
    let console = Console::start(false);
    let (jar, _) = console.login();
    let csrf = console.get("/virtual", Some(&jar)).csrf();
    let by_hand = format!("{}\n[[virtual_server]]\nservice = \"udp 192.168.1.250:53\"\n", console.config_text());
    console.lab.rewrite(&by_hand);
    let form = [("csrf", csrf.as_str()), ("protocol", "tcp"), ("address", "192.168.1.250"), ("port", "443"), ("scheduler", "rr")];
    let refused = console.post("/virtual", Some(&jar), &form, &[]);
    assert_eq!(refused.status, 422, "{}", refused.brief());
    assert!(refused.body.contains("changed on disk"), "{}", refused.brief());
    assert_eq!(console.config_text(), by_hand, "the hand edit stays");
    console.lab.sighup();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !console.lab.listing().contains("192.168.1.250:53") {
        assert!(Instant::now() < deadline, "the reload: {}", console.lab.listing());
        std::thread::sleep(Duration::from_millis(100));
    }
    let applied = console.post("/virtual", Some(&jar), &form, &[]);
    assert_eq!(applied.status, 303, "{}", applied.brief());
    let text = console.config_text();
    assert!(text.contains("udp 192.168.1.250:53") && text.contains("tcp 192.168.1.250:443"), "{text}");
}
