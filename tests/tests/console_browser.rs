//! The web console's acceptance test, in a browser: seed 002's NAT cluster with rvsd started
//! from a TOML file that has no virtual server, and its console on the director's public
//! address. From the client, Chromium (tests/browser/console.py) logs in and builds the service
//! through the forms (a virtual server, two NAT real servers, an HTTP check); the service then
//! answers through the VIP; the monitor shows a stopped real server DOWN by itself; a weight
//! set in a form reaches the table; a bad port is refused next to its field; and the file holds
//! what was built. Screenshots of every step are left in target/artefacts/console_browser/.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rvs_e2e::health_lab::{HealthLab, Rs, weight_of};
use rvs_e2e::listing::dest_rows;
use rvs_e2e::{bins, browser, root_or_skip};

/// Where rvsd serves the console: the director's public address (seed 002), which the client
/// reaches.
const CONSOLE: &str = "192.168.1.10:3636";
const USER: &str = "admin";
const PASSWORD: &str = "e2e-console-Pa55";

/// The configuration rvsd starts with: no virtual server at all.
const EMPTY_CONFIG: &str = "# rvs's TOML: no virtual server yet; the console adds them.\n";

/// Each run of the script: Chromium's start, a login and a few pages, or a wait on health.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the `down` phase may take to start watching the monitor.
const WATCH_TIMEOUT: Duration = Duration::from_secs(45);

const RS1: &str = "10.0.0.100:80";
const RS2: &str = "10.0.0.200:80";

/// `rvs passwd --file FILE --user admin --stdin`, the password on its standard input.
fn set_password(file: &Path) {
    let rvs = bins::binary("rvs");
    let mut child = Command::new(&rvs)
        .args(["passwd", "--file"])
        .arg(file)
        .args(["--user", USER, "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", rvs.display()));
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{PASSWORD}").unwrap_or_else(|e| panic!("rvs passwd's stdin: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("rvs passwd: {e}"));
    assert!(
        out.status.success(),
        "rvs passwd failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(file.is_file(), "rvs passwd made no {}", file.display());
}

/// The last `n` lines of rvsd's log, for failure messages.
fn log_tail(lab: &HealthLab, n: usize) -> String {
    let log = lab.rvsd.log();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `console.py URL USER PASSWORD <phase>` from `client`; panics with its output and
/// rvsd's log if it fails.
fn phase(lab: &HealthLab, client: &rvs_lab::Host, artefacts: &Path, name: &str) {
    let url = format!("http://{CONSOLE}");
    let started = Instant::now();
    let out = browser::run_script(
        client,
        &browser::script("console.py"),
        &[&url, USER, PASSWORD, name],
        artefacts,
        SCRIPT_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("phase {name}: {e:#}\n--- rvsd's log (end) ---\n{}", log_tail(lab, 60)));
    eprintln!("console.py {name} took {:?}", started.elapsed());
    check_output(name, &out);
}

/// A phase's stdout ends with "ok"; what it printed before (what it measured) is shown.
fn check_output(name: &str, out: &str) {
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.pop(), Some("ok"), "phase {name}: stdout:\n{out}");
    for line in lines {
        eprintln!("console.py {name}: {line}");
    }
}

/// Polls `rvsadm -Ln` until `check` accepts its rows; panics with the listing after `timeout`.
fn wait_for_table(lab: &HealthLab, what: &str, timeout: Duration, check: impl Fn(&[rvs_e2e::listing::DestRow]) -> bool) -> String {
    let (listing, took, ok) = lab.wait_for(timeout, check);
    assert!(ok, "{what}: not within {timeout:?}; rvsadm -Ln:\n{listing}\n--- rvsd's log (end) ---\n{}", log_tail(lab, 40));
    eprintln!("{what} after {took:?}");
    listing
}

#[test]
fn the_console_builds_a_service_watches_its_health_and_changes_a_weight() {
    if !root_or_skip("the_console_builds_a_service_watches_its_health_and_changes_a_weight") {
        return;
    }
    // Before the lab: the browser is there (else the error says how to install it).
    browser::python().unwrap_or_else(|e| panic!("{e:#}"));
    let started = Instant::now();
    let password_file: std::cell::RefCell<Option<PathBuf>> = std::cell::RefCell::new(None);
    let mut lab = HealthLab::start_with("rvs.toml", EMPTY_CONFIG, &[80], &|dir| {
        let file = dir.join("console.passwd");
        set_password(&file);
        *password_file.borrow_mut() = Some(file.clone());
        vec![
            "--console".to_owned(),
            CONSOLE.to_owned(),
            "--console-password-file".to_owned(),
            file.to_string_lossy().into_owned(),
        ]
    });
    let password_file = password_file.take().unwrap_or_else(|| panic!("start_with did not call back"));
    let client = lab.seed.client.host.clone();
    let console: SocketAddr = CONSOLE.parse().unwrap_or_else(|e| panic!("{CONSOLE}: {e}"));
    client
        .wait_for_tcp(console, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("the console at {CONSOLE}: {e}\n--- rvsd's log ---\n{}", lab.rvsd.log()));
    assert!(lab.listing().lines().all(|l| !l.starts_with("TCP")), "an empty table at first:\n{}", lab.listing());
    // Mode 0600: the console refuses a password file others can read.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&password_file).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600, "{}", password_file.display());
    }
    let artefacts = browser::artefacts_dir("console_browser");

    // 1. The service, built in the browser: up through the VIP, and in the table.
    phase(&lab, &client, &artefacts, "setup");
    let listing = wait_for_table(&lab, "both real servers in the table", Duration::from_secs(10), |rows| {
        weight_of(rows, RS1) == Some(1) && weight_of(rows, RS2) == Some(1)
    });
    assert!(listing.contains("TCP  192.168.1.250:80 wlc"), "rvsadm -Ln:\n{listing}");
    assert!(!listing.contains("192.168.1.251"), "the refused service is not in the table:\n{listing}");
    for row in dest_rows(&listing) {
        assert_eq!(row.forward, "Masq", "{row:?}");
    }
    let answers = lab.answers(4);
    for answer in &answers {
        assert!(
            answer == "realserver1" || answer == "realserver2",
            "curl through the VIP: {answer:?} (all: {answers:?})\nrvsadm -Ln:\n{}",
            lab.listing()
        );
    }
    // wlc, equal weights, each connection left inactive: they take turns.
    for name in ["realserver1", "realserver2"] {
        assert!(answers.iter().any(|a| a == name), "{name} never answered: {answers:?}");
    }
    eprintln!("through the VIP: {answers:?}");

    // 2. Real server 2 stops: the monitor, loaded before, shows it DOWN by itself. The
    // script loads it, writes `down.watching` and waits; then the server stops.
    let watching = artefacts.join("down.watching");
    let watcher = {
        let (client, artefacts) = (client.clone(), artefacts.clone());
        std::thread::spawn(move || {
            let url = format!("http://{CONSOLE}");
            let args = [url.as_str(), USER, PASSWORD, "down"];
            browser::run_script(&client, &browser::script("console.py"), &args, &artefacts, SCRIPT_TIMEOUT)
        })
    };
    let deadline = Instant::now() + WATCH_TIMEOUT;
    while !watching.exists() && !watcher.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !watching.exists() {
        let result = watcher.join();
        panic!("phase down never started watching: {result:?}\n--- rvsd's log (end) ---\n{}", log_tail(&lab, 60));
    }
    let stopped = Instant::now();
    lab.stop_server(Rs(2), 80);
    let result = watcher.join().unwrap_or_else(|_| panic!("the thread of phase down panicked"));
    let out = result.unwrap_or_else(|e| panic!("phase down: {e:#}\n--- rvsd's log (end) ---\n{}", log_tail(&lab, 60)));
    check_output("down", &out);
    let _ = std::fs::remove_file(&watching);
    eprintln!("console.py down: DOWN shown within {:?} of the stop", stopped.elapsed());
    let listing = lab.listing();
    assert_ne!(weight_of(&dest_rows(&listing), RS1), None, "realserver1 stays:\n{listing}");
    assert!(
        weight_of(&dest_rows(&listing), RS2).is_none_or(|w| w == 0),
        "realserver2 is out of the table (or at weight 0):\n{listing}"
    );
    let answers = lab.answers(3);
    assert!(answers.iter().all(|a| a == "realserver1"), "only realserver1 answers now: {answers:?}");

    // 3. A weight set in the form reaches the table.
    phase(&lab, &client, &artefacts, "weight");
    let listing = wait_for_table(&lab, "weight 5 for realserver1", Duration::from_secs(5), |rows| weight_of(rows, RS1) == Some(5));
    eprintln!("rvsadm -Ln after the weight:\n{listing}");

    // 4. The other pages, and the monitor's charts.
    phase(&lab, &client, &artefacts, "pages");

    // The timeout set on the global page is in force, the others as they were.
    let timeouts = lab.rvsd.rvsadm_ok(&["-L", "--timeout"]);
    assert_eq!(timeouts.trim(), "Timeout (tcp tcpfin udp): 3600 120 300", "rvsadm -L --timeout");

    // The file holds what the forms built, and loads again.
    let saved = std::fs::read_to_string(&lab.config).unwrap_or_else(|e| panic!("{}: {e}", lab.config.display()));
    eprintln!("{} as the console saved it:\n{saved}", lab.config.display());
    for needle in ["192.168.1.250:80", "\"wlc\"", RS1, RS2, "\"http\"", "weight = 5", "sorry_server = \"10.0.0.250:80\"", "inhibit_on_failure = true", "virtualhost = \"www.example.com\""] {
        assert!(saved.contains(needle), "{} lacks {needle:?}:\n{saved}", lab.config.display());
    }
    assert!(!saved.contains("192.168.1.251"), "the refused service was saved:\n{saved}");
    assert_eq!(saved.matches("[[virtual_server]]").count(), 1, "one virtual server:\n{saved}");
    assert_eq!(saved.matches("[[virtual_server.real]]").count(), 2, "two real servers:\n{saved}");
    let config_path = lab.config.to_string_lossy().into_owned();
    let check = lab.rvsd.rvs(&["config", "check", &config_path]);
    assert_eq!(check.code, 0, "rvs config check: {}{}", check.stdout, check.stderr);
    eprintln!("rvs config check: {}{}", check.stdout.trim_end(), check.stderr.trim_end());

    // The screenshots: every step's, each a real picture.
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(&artefacts)
        .unwrap_or_else(|e| panic!("{}: {e}", artefacts.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pngs.sort();
    let names: Vec<String> = pngs.iter().filter_map(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned()).collect();
    for expected in [
        "01-login",
        "02-monitor-empty",
        "03-virtual-empty",
        "04-service-added",
        "05-real-added-10.0.0.100",
        "06-real-added-10.0.0.200",
        "07-check-saved",
        "08-monitor-up",
        "09-virtual-bad-port",
        "10-monitor-before-down",
        "11-monitor-down",
        "12-weight-set",
        "13-monitor-weight",
        "14-global",
        "15-redundancy",
        "16-monitor-charts",
    ] {
        assert!(names.iter().any(|n| n == expected), "no {expected}.png in {}: {names:?}", artefacts.display());
    }
    assert!(!names.iter().any(|n| n == "failure"), "a failure screenshot: {names:?}");
    for png in &pngs {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is no PNG", png.display());
        assert!(bytes.len() > 1024, "{} has only {} bytes", png.display(), bytes.len());
        eprintln!("{} ({} bytes)", png.display(), bytes.len());
    }
    eprintln!("the console's browser test took {:?}", started.elapsed());
}
