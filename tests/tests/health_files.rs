//! The same cluster as `health_config`, configured from seed 002's own lvs.cf (piranha's nanny
//! checks, `timeout`, `reentry`) and from rvs's TOML.

use std::time::{Duration, Instant};

use rvs_e2e::health_lab::{HealthLab, Rs, weight_of};
use rvs_e2e::root_or_skip;

/// Seed 002's NAT lvs.cf as its author wrote it (the blog lost the backslashes of `send`; the
/// second file of the seed has them). Its addresses are the lab's own.
const SEED_002_LVS_CF: &str = r#"serial_no = 73
primary = 192.168.1.20
primary_private = 10.0.0.20
service = lvs
backup_active = 1
backup = 192.168.1.20
backup_private = 10.0.0.20
heartbeat = 1
heartbeat_port = 539
keepalive = 6
deadtime = 18
network = nat
nat_router = 10.0.0.254 eth1:1
nat_nmask = 255.255.0.0
debug_level = NONE
monitor_links = 0
virtual HTTP {
     active = 1
     address = 192.168.1.250 eth0:1
     vip_nmask = 255.255.255.0
     port = 80
     send = "GET / HTTP/1.0\r\n\r\n"
     expect = "HTTP"
     use_regex = 0
     load_monitor = none
     scheduler = wlc
     protocol = tcp
     timeout = 6
     reentry = 15
     quiesce_server = 0
     server localhost.localdomain {
         address = 10.0.0.100
         active = 1
         weight = 1
     }
     server localhost.localdomain {
         address = 10.0.0.200
         active = 1
         weight = 1
     }
}
"#;

#[test]
fn seed_002_lvs_cf_routes_around_a_stopped_server_and_takes_it_back_after_reentry() {
    if !root_or_skip("seed_002_lvs_cf_routes_around_a_stopped_server_and_takes_it_back_after_reentry") {
        return;
    }
    let rs1 = HealthLab::addr(Rs(1), 80);
    let mut lab = HealthLab::start("lvs.cf", SEED_002_LVS_CF, &[80]);
    // nanny adds a real server once its first check passed.
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(10), |r| r.len() == 2 && r.iter().all(|d| d.forward == "Masq" && d.weight == 1));
    assert!(ok, "both real servers, NAT, weight 1:\n{listing}\n{}", lab.rvsd.log());
    assert!(listing.contains("TCP  192.168.1.250:80 wlc"), "{listing}");
    // The file's `backup_active = 1` is a VRRP instance: with no other director answering, this
    // one takes the VIP over after 3 x keepalive (6 s) + skew; a backup does not forward before.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lab.rvsd.log().contains("BACKUP -> MASTER") {
        assert!(Instant::now() < deadline, "the lone director never became VRRP master:\n{}", lab.rvsd.log());
        std::thread::sleep(Duration::from_millis(100));
    }

    lab.stop_server(Rs(1), 80);
    // timeout = 6 is nanny's interval and its connect timeout; the first failure takes it out.
    let (listing, took, ok) = lab.wait_for(Duration::from_secs(6 + 6 + 3), |r| weight_of(r, &rs1).is_none());
    assert!(ok, "realserver1 out (quiesce_server = 0 removes it):\n{listing}\n{}", lab.rvsd.log());
    eprintln!("realserver1 out {took:?} after its HTTP server stopped");
    let answers = lab.answers(100);
    let others: Vec<_> = answers.iter().filter(|a| *a != "realserver2").collect();
    assert!(others.is_empty(), "100 requests all answered by realserver2: {others:?}");

    lab.serve(Rs(1), 80);
    let back = Instant::now();
    let (listing, took, ok) = lab.wait_for(Duration::from_secs(6 + 15 + 6 + 3), |r| weight_of(r, &rs1) == Some(1));
    assert!(ok, "realserver1 back:\n{listing}\n{}", lab.rvsd.log());
    assert!(back.elapsed() >= Duration::from_secs(15) - Duration::from_millis(500), "reentry = 15 holds it out 15 s: back after {took:?}");
    eprintln!("realserver1 back {took:?} after its HTTP server started (reentry 15 s)");
    let answers = lab.answers(4);
    assert!(answers.iter().any(|a| a == "realserver1"), "{answers:?}");
}

/// The keepalived test's setup in rvs's TOML.
const TOML: &str = r#"
router_id = "rvs-e2e"

[[virtual_server]]
service = "tcp 192.168.1.250:80"
scheduler = "rr"
forward = "nat"
sorry_server = "10.0.0.100:8081"

[[virtual_server.check]]  # every real server's check
type = "http"
url = [{ path = "/", status = "200" }]
connect_timeout = "1s"
retry = 1
delay_before_retry = "1s"
delay_loop = "1s"

[[virtual_server.real]]
address = "10.0.0.100:8080"
weight = 1

[[virtual_server.real]]
address = "10.0.0.200:8080"
weight = 2
inhibit_on_failure = true
"#;

#[test]
fn toml_configures_checks_inhibit_and_sorry_server() {
    if !root_or_skip("toml_configures_checks_inhibit_and_sorry_server") {
        return;
    }
    let (rs1, rs2) = (HealthLab::addr(Rs(1), 8080), HealthLab::addr(Rs(2), 8080));
    let mut lab = HealthLab::start("rvs.toml", TOML, &[8080]);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(10), |r| weight_of(r, &rs1) == Some(1) && weight_of(r, &rs2) == Some(2));
    assert!(ok, "{listing}\n{}", lab.rvsd.log());
    assert!(listing.contains("TCP  192.168.1.250:80 rr"), "{listing}");

    lab.stop_server(Rs(2), 8080);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(7), |r| weight_of(r, &rs2) == Some(0));
    assert!(ok, "inhibit_on_failure: weight 0:\n{listing}\n{}", lab.rvsd.log());
    let answers = lab.answers(20);
    assert!(answers.iter().all(|a| a == "realserver1"), "{answers:?}");

    lab.stop_server(Rs(1), 8080);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(7), |r| weight_of(r, "10.0.0.100:8081") == Some(1));
    assert!(ok, "the sorry server:\n{listing}\n{}", lab.rvsd.log());
    assert_eq!(lab.curl(), "sorry");

    lab.serve(Rs(2), 8080);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(5), |r| weight_of(r, &rs2) == Some(2) && weight_of(r, "10.0.0.100:8081").is_none());
    assert!(ok, "{listing}\n{}", lab.rvsd.log());
    assert_eq!(lab.curl(), "realserver2");
}
