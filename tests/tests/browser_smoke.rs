//! The browser-test harness ([`rvs_e2e::browser`]) on a lab of two hosts: Debian's headless
//! Chromium, driven by Playwright from the client's namespace, shows the page of the lab's
//! HTTP server on the other host and saves a screenshot; a script past its deadline is killed
//! together with its browser.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rvs_e2e::{browser, lab_prefix, root_or_skip};
use rvs_lab::{Host, HttpServer, Ipv4Cidr, Lab};

/// The server's address on the link, and its HTTP port.
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 79, 0, 1);
const PORT: u16 = 8080;

/// What the server answers on `/` (its name).
const NAME: &str = "browser-smoke-server";

/// A client and a server joined by one veth link, the server running the lab's HTTP server.
/// Fields drop in order: the HTTP server, then the lab (namespaces and their processes), also
/// when a test fails.
struct TwoHosts {
    _http: HttpServer,
    client: Host,
    _lab: Lab,
}

impl TwoHosts {
    fn build() -> TwoHosts {
        let prefix = lab_prefix();
        let lab = Lab::new(&prefix).unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        let client = lab.add_host("client").unwrap_or_else(|e| panic!("{e}"));
        let server = lab.add_host("server").unwrap_or_else(|e| panic!("{e}"));
        lab.link(&client, "eth0", &server, "eth0")
            .unwrap_or_else(|e| panic!("{e}"));
        let cidr = |addr: Ipv4Addr| Ipv4Cidr::new(addr, 30).unwrap_or_else(|| panic!("bad cidr"));
        client
            .add_addr("eth0", cidr(Ipv4Addr::new(10, 79, 0, 2)))
            .unwrap_or_else(|e| panic!("{e}"));
        server
            .add_addr("eth0", cidr(SERVER))
            .unwrap_or_else(|e| panic!("{e}"));
        let http = server
            .serve_http(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)), NAME)
            .unwrap_or_else(|e| panic!("HTTP server: {e}"));
        client
            .wait_for_tcp(SocketAddr::from((SERVER, PORT)), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e}"));
        TwoHosts {
            _http: http,
            client,
            _lab: lab,
        }
    }
}

#[test]
fn chromium_in_a_lab_host_shows_another_hosts_page() {
    if !root_or_skip("chromium_in_a_lab_host_shows_another_hosts_page") {
        return;
    }
    let lab = TwoHosts::build();
    let artefacts = browser::artefacts_dir("browser_smoke");
    let url = format!("http://{SERVER}:{PORT}/");
    let started = Instant::now();
    let out = browser::run_script(
        &lab.client,
        &browser::script("smoke.py"),
        &[&url, NAME],
        &artefacts,
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("smoke.py took {:?}", started.elapsed());
    assert_eq!(out.trim_end(), "ok", "stdout:\n{out}");
    let png = artefacts.join("smoke.png");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is no PNG",
        png.display()
    );
    assert!(
        bytes.len() > 1024,
        "{} has only {} bytes",
        png.display(),
        bytes.len()
    );
}

#[test]
fn a_script_past_its_deadline_is_killed_with_its_browser() {
    if !root_or_skip("a_script_past_its_deadline_is_killed_with_its_browser") {
        return;
    }
    let lab = TwoHosts::build();
    let artefacts = browser::artefacts_dir("browser_deadline");
    let started = Instant::now();
    let err = browser::run_script(
        &lab.client,
        &browser::script("hang.py"),
        &[],
        &artefacts,
        Duration::from_secs(15),
    )
    .expect_err("hang.py never exits by itself");
    let err = format!("{err:#}");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("did not finish within 15s"), "{err}");
    // The browser had started (so there was one to kill), and nothing is left of it.
    assert!(err.contains("--- stdout ---\nlaunched\n"), "{err}");
    let left = rvs_lab::pids_in_netns(lab.client.netns());
    assert!(
        left.is_empty(),
        "processes left in {}: {left:?}",
        lab.client.netns()
    );
}

#[test]
fn a_failing_script_leaves_a_failure_screenshot_and_its_output_in_the_error() {
    if !root_or_skip("a_failing_script_leaves_a_failure_screenshot_and_its_output_in_the_error") {
        return;
    }
    let lab = TwoHosts::build();
    let artefacts = browser::artefacts_dir("browser_failure");
    let url = format!("http://{SERVER}:{PORT}/no-such-page");
    let err = browser::run_script(
        &lab.client,
        &browser::script("smoke.py"),
        &[&url, NAME],
        &artefacts,
        Duration::from_secs(60),
    )
    .expect_err("the lab's server has no such page");
    let err = format!("{err:#}");
    // Python's traceback, in full, and where the screenshot went.
    assert!(
        err.contains("AssertionError: GET http://10.79.0.1:8080/no-such-page: HTTP 404"),
        "{err}"
    );
    assert!(err.contains("Traceback (most recent call last)"), "{err}");
    assert!(err.contains("failure.png"), "{err}");
    let png = artefacts.join("failure.png");
    let len = std::fs::metadata(&png).map_or(0, |m| m.len());
    assert!(len > 1024, "{}: {len} bytes", png.display());
}
