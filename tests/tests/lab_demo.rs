//! `rvs lab demo`: seed 000's DR experiment and seed 002's NAT one as a user runs them, end to
//! end with the real binaries, and nothing left behind afterwards.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rvs_e2e::bins::binary;
use rvs_e2e::{PrefixGuard, lab_prefix, root_or_skip, run_captured};

/// The demo builds a lab, makes ten requests and prints the tables; generous on a loaded box.
const DEMO_TIMEOUT: Duration = Duration::from_secs(120);
const CLIENT_LOOP: &str = "[client]$ for i in $(seq 10); do curl -s http://192.168.0.100/; done";

/// The lines after `header` up to the next empty line.
fn section<'a>(stdout: &'a str, header: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// The `-Lnc` listing the demo prints: its lines after the command up to the next command.
fn connection_listing(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .skip_while(|l| *l != "[director]# rvsadm -Lnc")
        .skip(1)
        .take_while(|l| !l.starts_with("[director]#"))
        .collect()
}

/// Runs `rvs <args>` (at most [`DEMO_TIMEOUT`]), asserts it succeeded, and returns its
/// standard output and both outputs for messages.
fn rvs_ok(args: &[&str]) -> (String, String) {
    let line = format!("rvs {}", args.join(" "));
    let mut command = Command::new(binary("rvs"));
    command.args(args);
    let (status, stdout, stderr) = run_captured(command, DEMO_TIMEOUT).unwrap_or_else(|e| panic!("{line}: {e:#}"));
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(status.success(), "{line}: {status}\n{shown}");
    (stdout, shown)
}

#[test]
fn rvs_lab_demo_alternates_and_lists_connections() {
    if !root_or_skip("rvs_lab_demo_alternates_and_lists_connections") {
        return;
    }
    let prefix = lab_prefix();
    let _cleanup = PrefixGuard(prefix.clone());
    let _files = DemoFiles(prefix.clone());
    let (stdout, shown) = rvs_ok(&["lab", "demo", "--prefix", &prefix]);

    let answers = section(&stdout, CLIENT_LOOP);
    let want: Vec<&str> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                "webserver2"
            } else {
                "webserver1"
            }
        })
        .collect();
    assert_eq!(answers, want, "the ten answers\n{shown}");

    let conns = connection_listing(&stdout);
    assert_eq!(
        conns.get(..2),
        Some(
            &[
                "IPVS connection entries",
                "pro expire state       source             virtual            destination",
            ][..]
        ),
        "{shown}"
    );
    let entries: Vec<&str> = conns.iter().skip(2).copied().collect();
    assert_eq!(entries.len(), 10, "one entry per request\n{shown}");
    for (real, n) in [("192.168.0.11:80", 5), ("192.168.0.22:80", 5)] {
        let on_real = entries
            .iter()
            .filter(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.first() == Some(&"TCP")
                    && words
                        .get(3)
                        .is_some_and(|s| s.starts_with("172.25.254.10:"))
                    && words.get(4) == Some(&"192.168.0.100:80")
                    && words.get(5) == Some(&real)
            })
            .count();
        assert_eq!(on_real, n, "connections to {real}\n{shown}");
    }

    // The demo took its lab down: namespaces, rvsd's pins and socket.
    assert!(
        stdout.contains(&format!("lab {prefix} removed: 6 namespaces")),
        "{shown}"
    );
    let left: Vec<String> = rvs_lab::list_netns()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .collect();
    assert!(left.is_empty(), "namespaces left: {left:?}");
    let pins = Path::new(rvs_lab::BPF_PIN_ROOT).join(format!("{prefix}-director"));
    assert!(!pins.exists(), "{} left behind", pins.display());
    let socket = format!("/run/rvs/{prefix}.sock");
    assert!(!Path::new(&socket).exists(), "{socket} left behind");
}

#[test]
fn rvs_lab_demo_nat_answers_through_the_director_and_counts_the_replies() {
    if !root_or_skip("rvs_lab_demo_nat_answers_through_the_director_and_counts_the_replies") {
        return;
    }
    let prefix = lab_prefix();
    let _cleanup = PrefixGuard(prefix.clone());
    let _files = DemoFiles(prefix.clone());
    let (stdout, shown) = rvs_ok(&["lab", "demo", "nat", "--prefix", &prefix]);

    // wlc with equal weights and no connections left open alternates, newest first.
    let answers = section(&stdout, "[client]$ for i in $(seq 10); do curl -s http://192.168.1.250/; done");
    let want: Vec<&str> = (0..10).map(|i| if i % 2 == 0 { "realserver2" } else { "realserver1" }).collect();
    assert_eq!(answers, want, "the ten answers\n{shown}");

    let entries: Vec<Vec<&str>> = connection_listing(&stdout).iter().skip(2).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(entries.len(), 10, "one entry per request\n{shown}");
    for real in ["10.0.0.100:80", "10.0.0.200:80"] {
        let n = entries
            .iter()
            .filter(|w| w.get(3).is_some_and(|s| s.starts_with("192.168.1.100:")) && w.get(4) == Some(&"192.168.1.250:80") && w.get(5) == Some(&real))
            .count();
        assert_eq!(n, 5, "connections to {real}\n{shown}");
    }
    // The director saw the replies: the service's OutPkts and OutBytes are not zero.
    let service: Vec<u64> = stdout
        .lines()
        .skip_while(|l| *l != "[director]# rvsadm -Ln --stats")
        .find(|l| l.starts_with("TCP  192.168.1.250:80"))
        .unwrap_or_else(|| panic!("no service row in --stats\n{shown}"))
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(matches!(service.as_slice(), [10, i, o, ib, ob] if *i > 0 && *o > 0 && *ib > 0 && *ob > 0), "{service:?}\n{shown}");
    assert!(stdout.contains(&format!("lab {prefix} removed: 6 namespaces")), "{shown}");
}

/// `rvs lab up ha` leaves two directors running, each rvsd with its own socket, pins and
/// config file; `rvs lab down` removes both. (The fail-over itself is the HA suite's.)
#[test]
fn rvs_lab_up_ha_runs_two_directors_and_down_removes_both() {
    if !root_or_skip("rvs_lab_up_ha_runs_two_directors_and_down_removes_both") {
        return;
    }
    let prefix = lab_prefix();
    let _cleanup = PrefixGuard(prefix.clone());
    let _files = DemoFiles(prefix.clone());
    let (stdout, shown) = rvs_ok(&["lab", "up", "ha", "--prefix", &prefix]);
    for director in ["primary", "backup"] {
        let socket = format!("/run/rvs/{prefix}-{director}.sock");
        let line = format!(
            "{director}: rvsd --interface eth0 --interface eth1 --socket {socket} --instance {prefix}-{director} --config /run/rvs/{prefix}/{director}.conf"
        );
        assert!(stdout.contains(&line), "no {line:?}\n{shown}");
        let config = std::fs::read_to_string(format!("/run/rvs/{prefix}/{director}.conf"))
            .unwrap_or_else(|e| panic!("{director}'s config: {e}\n{shown}"));
        assert!(config.contains(&format!("router_id {director}")), "{config}");
        // Both directors carry the seed's service, read from their config files.
        let out = Command::new(binary("rvsadm"))
            .arg("-Ln")
            .env("RVS_SOCKET", &socket)
            .output()
            .unwrap_or_else(|e| panic!("rvsadm: {e}"));
        let listing = String::from_utf8_lossy(&out.stdout);
        for row in ["TCP  192.168.1.250:80 rr", "-> 10.0.0.100:80", "-> 10.0.0.200:80"] {
            assert!(listing.contains(row), "{director}: no {row:?} in\n{listing}\n{shown}");
        }
    }

    let (stdout, shown) = rvs_ok(&["lab", "down", "--prefix", &prefix]);
    assert!(stdout.contains(&format!("lab {prefix} removed: 7 namespaces")), "{shown}");
    let left: Vec<String> = rvs_lab::list_netns()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .collect();
    assert!(left.is_empty(), "namespaces left: {left:?}");
    for director in ["primary", "backup"] {
        let pins = Path::new(rvs_lab::BPF_PIN_ROOT).join(format!("{prefix}-{director}"));
        assert!(!pins.exists(), "{} left behind", pins.display());
        let socket = format!("/run/rvs/{prefix}-{director}.sock");
        assert!(!Path::new(&socket).exists(), "{socket} left behind");
    }
    assert!(!Path::new(&format!("/run/rvs/{prefix}")).exists(), "/run/rvs/{prefix} left behind");
}

/// Removes what `rvs lab` keeps under `/run/rvs` for a prefix (one director's socket, or the
/// two of an HA lab), should the demo fail midway.
struct DemoFiles(String);

impl Drop for DemoFiles {
    fn drop(&mut self) {
        for name in [self.0.clone(), format!("{}-primary", self.0), format!("{}-backup", self.0)] {
            let socket = format!("/run/rvs/{name}.sock");
            let _ = std::fs::remove_file(format!("{socket}.lock"));
            let _ = std::fs::remove_file(socket);
        }
        let _ = std::fs::remove_dir_all(format!("/run/rvs/{}", self.0));
    }
}

#[test]
fn demo_output_sections_are_found() {
    let out = format!(
        "x\n{CLIENT_LOOP}\nwebserver2\nwebserver1\n\n[director]# rvsadm -Lnc\nIPVS connection entries\nTCP ...\n[director]# rvsadm -Ln --stats\n"
    );
    assert_eq!(section(&out, CLIENT_LOOP), ["webserver2", "webserver1"]);
    assert_eq!(
        connection_listing(&out),
        ["IPVS connection entries", "TCP ..."]
    );
}
