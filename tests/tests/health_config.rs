//! Health checks and configuration files end to end (issue 6): seed 002's NAT cluster with rvsd
//! configured from a keepalived.conf, from seed 002's own lvs.cf and from TOML; real HTTP
//! servers stopped, restarted and broken under curl; a reload under load.

use std::time::Duration;

use rvs_e2e::health_lab::{HealthLab, Rs, weight_of};
use rvs_e2e::root_or_skip;
use rvs_lab::StatusCode;

/// keepalived.conf for seed 002: rr over the two real servers' port 8080, HTTP_GET on `/` with
/// status 200, one-second timings, realserver2 inhibited on failure, a sorry server.
fn keepalived_conf(rs2_weight: u32) -> String {
    keepalived_conf_with(1, Some(rs2_weight))
}

/// [`keepalived_conf`] with realserver1's weight, and realserver2's block only when it has one.
fn keepalived_conf_with(rs1_weight: u32, rs2_weight: Option<u32>) -> String {
    let rs2 = rs2_weight.unwrap_or(0);
    let text = format!(
        r#"! seed 002's NAT service, checked by keepalived's HTTP_GET
global_defs {{
    router_id rvs_e2e
}}

virtual_server 192.168.1.250 80 {{
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    sorry_server 10.0.0.100 8081

    real_server 10.0.0.100 8080 {{
        weight {rs1_weight}
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }}
    }}
    real_server 10.0.0.200 8080 {{
        weight {rs2}
        inhibit_on_failure
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }}
    }}
}}
"#
    );
    match rs2_weight {
        Some(_) => text,
        None => {
            // Cut realserver2's block: from its line to the virtual server's last brace.
            let start = text.find("    real_server 10.0.0.200").unwrap_or(text.len());
            let end = text.rfind("}").unwrap_or(text.len());
            format!("{}{}", &text[..start], &text[end..])
        }
    }
}

/// delay_loop + connect_timeout + retry × (delay_before_retry + connect_timeout), the most a
/// failure may take to be acted on, plus time for polling and a loaded machine.
const TAKEN_OUT_WITHIN: Duration = Duration::from_secs(1 + 1 + (1 + 1) + 3);

fn rs(n: u8) -> String {
    HealthLab::addr(Rs(n), 8080)
}

#[test]
fn keepalived_conf_takes_a_stopped_real_server_out_and_back() {
    if !root_or_skip("keepalived_conf_takes_a_stopped_real_server_out_and_back") {
        return;
    }
    let mut lab = HealthLab::start("keepalived.conf", &keepalived_conf(1), &[8080]);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(10), |r| weight_of(r, &rs(1)) == Some(1) && weight_of(r, &rs(2)) == Some(1));
    assert!(ok, "both real servers in the table:\n{listing}\n{}", lab.rvsd.log());
    assert!(listing.contains("TCP  192.168.1.250:80 rr"), "{listing}");
    let rows = rvs_e2e::listing::dest_rows(&listing);
    assert!(rows.iter().all(|r| r.forward == "Masq"), "keepalived's method NAT:\n{listing}");

    lab.stop_server(Rs(1), 8080);
    let (listing, took, ok) = lab.wait_for(TAKEN_OUT_WITHIN, |r| weight_of(r, &rs(1)).is_none());
    assert!(ok, "realserver1 taken out within {TAKEN_OUT_WITHIN:?}:\n{listing}\n{}", lab.rvsd.log());
    eprintln!("realserver1 taken out {took:?} after its HTTP server stopped");
    let answers = lab.answers(100);
    let others: Vec<_> = answers.iter().filter(|a| *a != "realserver2").collect();
    assert!(others.is_empty(), "100 requests after the removal all answered by realserver2: {others:?}");

    lab.serve(Rs(1), 8080);
    let (listing, took, ok) = lab.wait_for(Duration::from_secs(5), |r| weight_of(r, &rs(1)) == Some(1));
    assert!(ok, "realserver1 back:\n{listing}\n{}", lab.rvsd.log());
    eprintln!("realserver1 back {took:?} after its HTTP server started");
    let answers = lab.answers(4);
    assert!(answers.contains(&"realserver1".to_string()) && answers.contains(&"realserver2".to_string()), "{answers:?}");
    let log = lab.rvsd.log();
    assert!(log.contains("real server down") && log.contains("HTTP_GET failed"), "the change is logged with its reason:\n{log}");

    let health = lab.rvsd.rvs(&["health"]);
    assert_eq!(health.code, 0, "rvs health: {}", health.stderr);
    assert!(health.stdout.contains("10.0.0.100:8080") && health.stdout.contains("HTTP_GET"), "{}", health.stdout);
}

#[test]
fn http_500_inhibit_on_failure_and_the_sorry_server() {
    if !root_or_skip("http_500_inhibit_on_failure_and_the_sorry_server") {
        return;
    }
    let mut lab = HealthLab::start("keepalived.conf", &keepalived_conf(1), &[8080]);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(10), |r| weight_of(r, &rs(2)) == Some(1));
    assert!(ok, "{listing}\n{}", lab.rvsd.log());

    // A 500 fails HTTP_GET with status_code 200; inhibit_on_failure keeps it with weight 0.
    lab.break_with(Rs(2), 8080, StatusCode::INTERNAL_SERVER_ERROR);
    let (listing, _, ok) = lab.wait_for(TAKEN_OUT_WITHIN, |r| weight_of(r, &rs(2)) == Some(0));
    assert!(ok, "realserver2 at weight 0, not removed:\n{listing}\n{}", lab.rvsd.log());
    assert!(lab.rvsd.log().contains("500"), "the reason names the status:\n{}", lab.rvsd.log());
    let answers = lab.answers(10);
    assert!(answers.iter().all(|a| a == "realserver1"), "{answers:?}");

    // Every real down: the sorry server answers.
    lab.stop_server(Rs(1), 8080);
    let (listing, _, ok) = lab.wait_for(TAKEN_OUT_WITHIN, |r| weight_of(r, "10.0.0.100:8081") == Some(1));
    assert!(ok, "the sorry server in the table:\n{listing}\n{}", lab.rvsd.log());
    assert_eq!(weight_of(&rvs_e2e::listing::dest_rows(&listing), &rs(1)), None, "{listing}");
    let answers = lab.answers(5);
    assert!(answers.iter().all(|a| a == "sorry"), "{answers:?}");

    // One real back: the quorum returns and the sorry server leaves.
    lab.serve(Rs(1), 8080);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(5), |r| weight_of(r, &rs(1)) == Some(1) && weight_of(r, "10.0.0.100:8081").is_none());
    assert!(ok, "{listing}\n{}", lab.rvsd.log());
    assert_eq!(lab.curl(), "realserver1");
}

#[test]
fn a_reload_under_load_loses_no_request() {
    if !root_or_skip("a_reload_under_load_loses_no_request") {
        return;
    }
    let lab = HealthLab::start("keepalived.conf", &keepalived_conf_with(1, None), &[8080]);
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(10), |r| weight_of(r, &rs(1)) == Some(1));
    assert!(ok, "{listing}\n{}", lab.rvsd.log());
    let before = lab.rvsd.rvsadm_ok(&["-Ln", "--stats"]);

    std::thread::scope(|s| {
        // A long transfer across the reload, and a loop of short requests.
        let held = s.spawn(|| {
            let url = format!("http://{}/hold?secs=4", lab.seed.vip);
            lab.seed.client.host.run("curl", ["-s", "--max-time", "10", &url], Duration::from_secs(15))
        });
        let load = s.spawn(|| lab.answers(150));
        std::thread::sleep(Duration::from_millis(700));
        // Adds realserver2 (weight 3) and changes realserver1's weight.
        lab.rewrite(&keepalived_conf_with(2, Some(3)));
        lab.sighup();
        let answers = load.join().unwrap_or_default();
        let failed: Vec<_> = answers.iter().filter(|a| a.starts_with("(curl failed")).collect();
        assert!(failed.is_empty(), "no request lost across the reload: {failed:?}\n{}", lab.rvsd.log());
        assert!(answers.iter().any(|a| a == "realserver2"), "realserver2 joined during the load");
        let held = held.join();
        match held {
            Ok(Ok(out)) => assert!(out.success() && out.stdout.starts_with("realserver1\n...."), "the held connection survived: {out:?}"),
            other => panic!("the held transfer: {other:?}"),
        }
    });
    let (listing, _, ok) = lab.wait_for(Duration::from_secs(5), |r| weight_of(r, &rs(1)) == Some(2) && weight_of(r, &rs(2)) == Some(3) && r.len() == 2);
    assert!(ok, "the reload's weights:\n{listing}\nbefore:\n{before}\n{}", lab.rvsd.log());
    assert!(lab.rvsd.log().contains("configuration reloaded"), "{}", lab.rvsd.log());
}

#[test]
fn a_broken_file_is_refused_and_the_running_configuration_stays() {
    if !root_or_skip("a_broken_file_is_refused_and_the_running_configuration_stays") {
        return;
    }
    let lab = HealthLab::start("keepalived.conf", &keepalived_conf(1), &[8080]);
    let (before, _, ok) = lab.wait_for(Duration::from_secs(10), |r| r.len() == 2);
    assert!(ok, "{before}\n{}", lab.rvsd.log());
    lab.rewrite(&keepalived_conf(1).replace("weight 1\n        HTTP_GET", "weight heavy\n        HTTP_GET"));
    assert!(std::fs::read_to_string(&lab.config).is_ok_and(|t| t.contains("weight heavy")));
    let reload = lab.rvsd.rvs(&["reload"]);
    assert_eq!(reload.code, 1, "rvs reload of a broken file fails: {reload:?}");
    assert!(reload.stderr.contains("keepalived.conf:14:"), "the error names file:line: {}", reload.stderr);
    lab.sighup();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lab.listing(), before, "the running configuration stays");
    assert!(lab.rvsd.log().contains("reload refused"), "{}", lab.rvsd.log());
    assert_eq!(lab.answers(2).len(), 2);
}
