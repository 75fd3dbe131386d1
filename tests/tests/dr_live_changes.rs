//! Changing the table of a running director: weight 0 drains a real without breaking its
//! open connections, `-d` and `-e` act on the next connection, and `-S`/`-C`/`-R` round-trip
//! the table with forwarding resuming after the restore.

use std::net::SocketAddr;
use std::time::Duration;

use rvs_e2e::cluster::{DrCluster, WEB1, WEB2};
use rvs_e2e::held::HeldGet;
use rvs_e2e::listing::{dest_row, dest_rows, service_lines};
use rvs_e2e::root_or_skip;
use rvs_lab::pattern_bytes;

const W1: &str = "webserver1";
const W2: &str = "webserver2";
const LISTING_WAIT: Duration = Duration::from_secs(10);
/// Large enough that most of it needs the client's ACKs and window updates, which go
/// through the director, to arrive after the change.
const DOWNLOAD: usize = 8_000_000;

fn vip() -> SocketAddr {
    SocketAddr::from(([192, 168, 0, 100], 80))
}

fn rr_cluster() -> DrCluster {
    let cluster = DrCluster::start();
    cluster.configure(&[
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g",
    ]);
    cluster
}

#[test]
fn weight_0_keeps_open_connections_working_and_sends_new_ones_elsewhere() {
    if !root_or_skip("weight_0_keeps_open_connections_working_and_sends_new_ones_elsewhere") {
        return;
    }
    let cluster = rr_cluster();
    // rr: webserver2, webserver1, webserver2.
    let mut hold = HeldGet::open(cluster.client(), vip(), "/hold?secs=120")
        .unwrap_or_else(|e| panic!("holding a connection: {e:#}"));
    let held_by = hold.read_line().unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(held_by, W2, "the first connection");
    assert_eq!(cluster.curl("/").trim_end(), W1, "the second connection");
    let target = format!("/bytes?n={DOWNLOAD}");
    let mut download = HeldGet::open(cluster.client(), vip(), &target)
        .unwrap_or_else(|e| panic!("starting a download: {e:#}"));
    // The reader pauses here: the server can only fill the client's receive window.
    let start = download
        .read_exact(1000)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (listing, settled) = cluster.wait_for_listing(LISTING_WAIT, |rows| {
        rows.iter().any(|r| r.addr == WEB2 && r.active == 2)
    });
    assert!(settled, "two open connections on webserver2:\n{listing}");

    cluster.configure(&["-e -t 192.168.0.100:80 -r 192.168.0.22:80 -g -w 0"]);
    assert_eq!(
        cluster.answers(4),
        [W1; 4],
        "new connections with webserver2 at weight 0"
    );
    let listing = cluster.listing();
    let web2 = dest_row(&listing, WEB2).unwrap_or_else(|| panic!("no webserver2:\n{listing}"));
    assert_eq!(
        (web2.weight, web2.active),
        (0, 2),
        "webserver2 keeps its open connections at weight 0:\n{listing}"
    );

    // The held connection keeps receiving its trickle ...
    let trickle = hold.read_exact(2).unwrap_or_else(|e| {
        panic!(
            "the held connection stopped after weight 0: {e:#}; rvsd log:\n{}",
            cluster.rvsd.log()
        )
    });
    assert_eq!(trickle, b"..");
    // ... and the paused download completes, byte for byte: every ACK and window update
    // still reaches webserver2 through the director.
    let rest = download.read_to_end().unwrap_or_else(|e| {
        panic!(
            "the download stalled after weight 0: {e:#}; rvsd log:\n{}",
            cluster.rvsd.log()
        )
    });
    let mut body = start;
    body.extend_from_slice(&rest);
    assert_eq!(body.len(), DOWNLOAD, "download length");
    assert!(
        body == pattern_bytes(0, DOWNLOAD),
        "the download's bytes differ from the pattern"
    );
}

#[test]
fn delete_and_edit_take_effect_on_the_next_connection() {
    if !root_or_skip("delete_and_edit_take_effect_on_the_next_connection") {
        return;
    }
    let cluster = rr_cluster();
    assert_eq!(cluster.answers(2), [W2, W1]);

    cluster.configure(&["-d -t 192.168.0.100:80 -r 192.168.0.22:80"]);
    let listing = cluster.listing();
    assert!(
        dest_row(&listing, WEB2).is_none(),
        "webserver2 still listed:\n{listing}"
    );
    assert_eq!(cluster.answers(4), [W1; 4], "after -d webserver2");

    // Back, at the head of the list; rr goes on from webserver1, the last pick, and wraps
    // around to it.
    cluster.configure(&["-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g"]);
    assert_eq!(cluster.answers(2), [W2, W1], "after -a webserver2 again");

    // Switching to wrr binds it afresh (cw = mw = 1, at the head), so with weights 1:1 the
    // two take turns from webserver2.
    cluster.configure(&["-E -t 192.168.0.100:80 -s wrr"]);
    assert_eq!(cluster.answers(4), [W2, W1, W2, W1], "wrr with weights 1:1");

    // -e webserver1 -w 3: ip_vs_wrr_dest_changed restarts at the head and keeps cw = 1, so
    // webserver2 (1 >= 1) comes first, then webserver1 alone at thresholds 1, 3, 2.
    cluster.configure(&["-e -t 192.168.0.100:80 -r 192.168.0.11:80 -g -w 3"]);
    let answers = cluster.answers(8);
    assert_eq!(
        answers,
        [W2, W1, W1, W1, W2, W1, W1, W1],
        "wrr after -e webserver1 -w 3"
    );
    let listing = cluster.listing();
    assert_eq!(
        dest_row(&listing, WEB1).map(|r| r.weight),
        Some(3),
        "{listing}"
    );
}

#[test]
fn save_clear_restore_round_trips_the_table_and_forwarding_resumes() {
    if !root_or_skip("save_clear_restore_round_trips_the_table_and_forwarding_resumes") {
        return;
    }
    let cluster = DrCluster::start();
    cluster.configure(&[
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g -w 1",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g -w 2",
        "-A -t 192.168.0.100:443 -s wlc -p 300",
        "-a -t 192.168.0.100:443 -r 192.168.0.11:443 -g -w 5",
        "-A -u 192.168.0.100:53 -s sh -b sh-port",
        "-a -u 192.168.0.100:53 -r 192.168.0.22:53 -g",
    ]);
    assert_eq!(cluster.answers(2), [W2, W1], "before saving");
    let rules = format!("/run/rvs-e2e/{}.rules", cluster.prefix());
    let _remove_rules = RemoveOnDrop(rules.clone());

    let save = cluster.rvsd.shell(&format!("rvsadm -S > {rules}"));
    assert_eq!((save.code, save.stderr.as_str()), (0, ""), "rvsadm -S");
    let saved = std::fs::read_to_string(&rules).unwrap_or_else(|e| panic!("{rules}: {e}"));
    for line in [
        "-A -t 192.168.0.100:http -s rr",
        "-a -t 192.168.0.100:http -r 192.168.0.22:http -g -w 2",
        "-A -t 192.168.0.100:https -s wlc -p 300",
        "-A -u 192.168.0.100:domain -s sh -b sh-port",
    ] {
        assert!(
            saved.lines().any(|l| l == line),
            "{line:?} not in:\n{saved}"
        );
    }
    let listed = cluster.listing();

    let clear = cluster.rvsd.shell("rvsadm -C");
    assert_eq!((clear.code, clear.stderr.as_str()), (0, ""), "rvsadm -C");
    let empty = cluster.listing();
    assert!(service_lines(&empty).is_empty(), "after -C:\n{empty}");
    let refused = cluster.curl("/");
    assert!(
        refused.starts_with("(curl failed"),
        "the VIP still answers after -C: {refused:?}"
    );

    let restore = cluster.rvsd.shell(&format!("rvsadm -R < {rules}"));
    assert_eq!(
        (restore.code, restore.stderr.as_str()),
        (0, ""),
        "rvsadm -R"
    );
    let again = cluster.rvsd.shell("rvsadm -S");
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, saved, "-S after -C and -R");
    let relisted = cluster.listing();
    assert_eq!(service_lines(&relisted), service_lines(&listed));
    let shape = |listing: &str| -> Vec<(String, String, i64)> {
        dest_rows(listing)
            .into_iter()
            .map(|r| (r.addr, r.forward, r.weight))
            .collect()
    };
    assert_eq!(shape(&relisted), shape(&listed), "{relisted}");

    // -S lists reals by address, so -R added webserver2 last: rr starts there again.
    assert_eq!(cluster.answers(4), [W2, W1, W2, W1], "after -R");
}

/// Removes a file when dropped.
struct RemoveOnDrop(String);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
