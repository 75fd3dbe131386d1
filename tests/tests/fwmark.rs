//! Firewall-mark services in seed 000's DR cluster with the real rvsd, curl and HTTP servers on
//! ports 80 and 443: rvs's mark classifier (`rvsd --mark`, `rvs mark`) makes both ports one
//! service, so a persistent `-f` service keeps the client on one real server across them, as
//! the real IPVS with an nftables mark does (tests/golden/traffic/fwmark.txt).

use std::time::Duration;

use rvs_e2e::cluster::DrCluster;
use rvs_e2e::root_or_skip;

const RULE: &str = "-p tcp -d 192.168.0.100 --dports 80,443 --set-mark 1";
const LISTING_WAIT: Duration = Duration::from_secs(10);

/// The second client's address, added to the seed's client.
const CLIENT2: &str = "172.25.254.11";

/// The oracle's recording, on seed 000's addresses: rs1 and rs2 are webserver1 and webserver2,
/// client1 is the seed's client and client2 a second address on it.
fn recorded() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/traffic/fwmark.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("10.0.1.100", "192.168.0.100")
        .replace("10.0.1.11", "192.168.0.11")
        .replace("10.0.1.12", "192.168.0.22")
        .replace("10.0.1.2:", "172.25.254.10:")
        .replace("10.0.1.3:", "172.25.254.11:")
        .replace("rs1", "webserver1")
        .replace("rs2", "webserver2")
}

/// The lines of the recording's section `title` up to the next one.
fn section(text: &str, title: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| *l != format!("=== {title} ==="))
        .skip(1)
        .take_while(|l| !l.starts_with("==="))
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The output the recording shows for `$ ipvsadm <args>`.
fn recorded_output(text: &str, args: &str) -> String {
    let mut lines = text.lines().skip_while(|l| *l != format!("$ ipvsadm {args}")).skip(1);
    let out: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("[rc=")).collect();
    out.iter().map(|l| format!("{l}\n")).collect()
}

fn answers(cluster: &DrCluster, ports: &[u16]) -> Vec<String> {
    ports.iter().map(|p| cluster.curl_port(*p, "/").trim_end().to_owned()).collect()
}

fn start() -> DrCluster {
    let mut cluster = DrCluster::start_with(&[&format!("--mark={RULE}")]);
    cluster.serve_also(443);
    cluster.configure(&["-A -f 1 -s rr -p 300", "-a -f 1 -r 192.168.0.11 -g", "-a -f 1 -r 192.168.0.22 -g"]);
    cluster
}

#[test]
fn a_persistent_mark_service_keeps_the_client_on_one_real_across_80_and_443_as_ipvs() {
    if !root_or_skip("a_persistent_mark_service_keeps_the_client_on_one_real_across_80_and_443_as_ipvs") {
        return;
    }
    let ipvs = recorded();
    let cluster = start();
    let want = section(&ipvs, "client1: 80 443 80 443");
    assert_eq!(want, ["webserver2"; 4], "the recording");
    assert_eq!(answers(&cluster, &[80, 443, 80, 443]), want, "who answered, against the real IPVS");
    let added = cluster.client().run("ip", ["addr", "add", &format!("{CLIENT2}/24"), "dev", "eth0"], Duration::from_secs(5));
    assert!(added.is_ok_and(|o| o.success()), "second client address");
    let want = section(&ipvs, "client2: 443 80");
    assert_eq!(want, ["webserver1"; 2], "the recording");
    assert_eq!([443, 80].map(|p| cluster.curl_from(Some(CLIENT2), p, "/").trim_end().to_owned()).to_vec(), want, "client2, against the real IPVS");

    // -S -n is the recording's, byte for byte.
    assert_eq!(cluster.rvsd.rvsadm_ok(&["-S", "-n"]), recorded_output(&ipvs, "-S -n"));
    // The template, as IPVS lists a fwmark service's: IP, the mark as the virtual address.
    let listing = cluster.rvsd.rvsadm_ok(&["-Lnc"]);
    let words = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    // Without the expire column, sorted (the table's order is the hash's).
    let templates = |text: &str| {
        let mut t: Vec<Vec<String>> = text.lines().filter(|l| l.starts_with("IP ")).map(|l| {
            let mut w = words(l);
            w.remove(1);
            w
        }).collect();
        t.sort();
        t
    };
    let theirs = templates(&recorded_output(&ipvs, "-Lnc"));
    assert_eq!(templates(&listing), theirs, "ours:\n{listing}");
    assert_eq!(theirs[0], ["IP", "ASSURED", "172.25.254.10:0", "0.0.0.1:0", "192.168.0.22:0"]);
    // The four connections, each listed with the port it was made to.
    for port in ["80", "443"] {
        let n = listing.lines().filter(|l| l.starts_with("TCP") && l.contains(&format!("192.168.0.100:{port} ")) && l.ends_with(&format!("192.168.0.22:{port}"))).count();
        assert_eq!(n, 2, "port {port}:\n{listing}");
    }
    // PersistConn and InActConn as IPVS counts them: each real holds a client's template and
    // its closed connections. (Compared word by word: seed 000's addresses are longer than the
    // recording's.)
    for args in [&["-Ln", "--persistent-conn"][..], &["-Ln"][..]] {
        let all_words = |t: &str| t.lines().map(words).collect::<Vec<_>>();
        let theirs = all_words(&recorded_output(&ipvs, &args.join(" ")));
        let deadline = std::time::Instant::now() + LISTING_WAIT;
        let ours = loop {
            let p = cluster.rvsd.rvsadm_ok(args);
            if all_words(&p) == theirs || std::time::Instant::now() > deadline {
                break p;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(all_words(&ours), theirs, "ipvsadm {}:\n{ours}", args.join(" "));
    }
    assert!(cluster.rvsd.stats().get("svc_by_mark").copied().unwrap_or(0) >= 4);

    // Without persistence the mark still makes one service: rr alternates across the ports.
    cluster.configure(&["-E -f 1 -s rr"]);
    let want = section(&ipvs, "not persistent: client1 80 443 80 443");
    let want: Vec<String> = want.into_iter().filter(|l| !l.starts_with('$') && !l.starts_with("[rc=")).collect();
    assert_eq!(answers(&cluster, &[80, 443, 80, 443]), want, "against the real IPVS");
}

#[test]
fn rvs_mark_changes_the_rules_of_the_running_daemon() {
    if !root_or_skip("rvs_mark_changes_the_rules_of_the_running_daemon") {
        return;
    }
    let cluster = start();
    let list = cluster.rvsd.rvs(&["mark", "list"]);
    assert_eq!((list.code, list.stdout.as_str()), (0, "-p tcp -d 192.168.0.100/32 --dports 80,443 --set-mark 1\n"));
    assert_eq!(cluster.curl_port(443, "/").trim_end(), "webserver2");

    // No rule: neither port belongs to a service now (there is no address service).
    let flush = cluster.rvsd.rvs(&["mark", "flush"]);
    assert_eq!(flush.code, 0, "{}", flush.stderr);
    assert!(cluster.curl_port(443, "/").starts_with("(curl failed"));
    assert_eq!(cluster.rvsd.rvs(&["mark", "list"]).stdout, "");

    // A rule for 443 only, then one for 80: added in order, listed canonically.
    let add = cluster.rvsd.rvs(&["mark", "add", "-p", "tcp", "-d", "192.168.0.100", "--dport", "443", "--set-mark", "1"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert_eq!(cluster.curl_port(443, "/").trim_end(), "webserver2", "the template still holds");
    assert!(cluster.curl_port(80, "/").starts_with("(curl failed"));
    assert_eq!(cluster.rvsd.rvs(&["mark", "add", "-d", "192.168.0.100/32", "--dports", "80", "--set-mark", "1"]).code, 0);
    assert_eq!(cluster.curl_port(80, "/").trim_end(), "webserver2");
    assert_eq!(
        cluster.rvsd.rvs(&["mark", "list"]).stdout,
        "-p tcp -d 192.168.0.100/32 --dports 443 --set-mark 1\n-d 192.168.0.100/32 --dports 80 --set-mark 1\n"
    );

    // Refusals say why and change nothing.
    let again = cluster.rvsd.rvs(&["mark", "add", "-d", "192.168.0.100", "--dports", "80", "--set-mark", "1"]);
    assert_eq!(again.code, 1);
    assert_eq!(again.stderr, "rvs: rvsd refused: the rule `-d 192.168.0.100/32 --dports 80 --set-mark 1' is already there\n");
    let bad = cluster.rvsd.rvs(&["mark", "add", "-d", "192.168.0.100", "--set-mark", "0"]);
    assert_eq!(bad.code, 1);
    assert_eq!(bad.stderr, "rvs: bad rule: mark `0': expected a number from 1 to 4294967295\n");
    let missing = cluster.rvsd.rvs(&["mark", "del", "-d", "192.168.0.100", "--dports", "81", "--set-mark", "1"]);
    assert_eq!(missing.code, 1);
    assert_eq!(missing.stderr, "rvs: rvsd refused: no rule `-d 192.168.0.100/32 --dports 81 --set-mark 1'\n");
    let del = cluster.rvsd.rvs(&["mark", "del", "-p", "tcp", "-d", "192.168.0.100", "--dports", "443", "--set-mark", "1"]);
    assert_eq!(del.code, 0, "{}", del.stderr);
    assert_eq!(cluster.rvsd.rvs(&["mark", "list"]).stdout, "-d 192.168.0.100/32 --dports 80 --set-mark 1\n");
}

#[test]
fn rvsd_refuses_a_bad_mark_rule_at_start() {
    if !root_or_skip("rvsd_refuses_a_bad_mark_rule_at_start") {
        return;
    }
    let rvsd = rvs_e2e::bins::binary("rvsd");
    let out = std::process::Command::new(rvsd)
        .args(["-i", "lo", "--socket", "/run/rvs-e2e-badmark.sock", "--mark=-d 10.0.0.1 --set-mark 0"])
        .output()
        .expect("rvsd runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value '-d 10.0.0.1 --set-mark 0' for '--mark <RULE>': mark `0': expected a number from 1 to 4294967295"), "{stderr}");
}
