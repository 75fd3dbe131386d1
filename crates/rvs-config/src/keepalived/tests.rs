//! keepalived's rules on small snippets: defaults, derived settings, refusals.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use rvs_core::config::{Config, VrrpState, VrrpVersion};
use rvs_core::model::{ForwardMethod, Protocol, ServiceKey};

use super::parse;

fn ok(text: &str) -> (Config, Vec<String>) {
    match parse(text, Path::new("k.conf")) {
        Ok((c, w)) => (c, w.iter().map(ToString::to_string).collect()),
        Err(e) => panic!("refused:\n{e}"),
    }
}

fn err(text: &str) -> Vec<String> {
    match parse(text, Path::new("k.conf")) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.errors().map(ToString::to_string).collect(),
    }
}

/// A virtual server with `body` and one real server with `real`.
fn vs(body: &str, real: &str) -> String {
    format!("virtual_server 10.0.0.1 80 {{\n lvs_sched rr\n lvs_method DR\n protocol TCP\n{body}\n real_server 10.0.1.1 80 {{\n{real}\n }}\n}}\n")
}

#[test]
fn a_service_without_port_is_persistent_and_without_protocol_udp() {
    let (c, w) = ok("virtual_server 10.0.0.1 {\n lvs_sched rr\n real_server 10.0.1.1 {\n }\n}\n");
    let s = &c.virtual_servers[0].service;
    assert_eq!(s.key, ServiceKey::Addr { protocol: Protocol::Udp, addr: "10.0.0.1".parse().unwrap(), port: 0 });
    assert!(s.flags.persistent);
    assert_eq!(s.timeout, 360);
    assert_eq!(c.virtual_servers[0].reals[0].dest.fwd, ForwardMethod::Masq);
    assert_eq!(w, [
        "k.conf:1: warning: no `lvs_method`: using NAT (keepalived's default; ipvsadm's is DR)",
        "k.conf:1: warning: no `protocol`: using UDP (keepalived's default)\n  hint: add `protocol TCP`",
        "k.conf:1: warning: a service without a port must be persistent: persistence_timeout 360 (as keepalived does)",
    ]);
}

#[test]
fn quorum_and_hysteresis_are_bounded_as_keepalived_does() {
    let (c, w) = ok(&vs(" quorum 5\n hysteresis 9", " weight 3"));
    let v = &c.virtual_servers[0];
    assert_eq!((v.quorum, v.hysteresis), (3, 2));
    assert_eq!(w, [
        "k.conf:1: warning: quorum 5 exceeds the real servers' total weight 3: using 3 (as keepalived does)",
        "k.conf:1: warning: hysteresis 9 must be below the quorum 3: using 2 (as keepalived does)",
    ]);
}

#[test]
fn the_virtual_servers_weight_is_the_real_servers_default() {
    let (c, _) = ok(&vs(" weight 7", ""));
    assert_eq!(c.virtual_servers[0].reals[0].dest.weight.get(), 7);
}

#[test]
fn checker_alpha_becomes_the_virtual_servers() {
    let (c, w) = ok(&vs("", " TCP_CHECK {\n  alpha\n }"));
    assert!(c.virtual_servers[0].alpha);
    assert_eq!(w, ["k.conf:8: warning: `alpha` applies to the whole virtual server in rvs: all its real servers start failed"]);
}

#[test]
fn notify_words_after_the_command_are_keepalived_s_user() {
    let (c, w) = ok(&vs("", " notify_up /bin/up.sh arg1"));
    assert_eq!(c.virtual_servers[0].reals[0].notify_up.as_ref().unwrap().argv, ["/bin/up.sh"]);
    assert_eq!(w, [
        "k.conf:7: warning: `notify_up`: keepalived runs the script as user `arg1`; rvs runs scripts as its own user (ignored)\n  hint: quote the whole command line: notify_up \"/bin/up.sh arg1\""
    ]);
}

#[test]
fn definitions_and_config_ids_are_expanded() {
    let text = "$VIP=10.0.0.1\n$RS=10.0.1.1\nvirtual_server $VIP 80 {\n lvs_sched rr\n lvs_method DR\n protocol TCP\n real_server ${RS} 80 {\n@^other  weight 4\n }\n}\n";
    let (c, w) = ok(text);
    assert!(w.is_empty(), "{w:?}");
    let v = &c.virtual_servers[0];
    assert_eq!(v.service.key.addr().to_string(), "10.0.0.1");
    assert_eq!(v.reals[0].dest.weight.get(), 4);
}

#[test]
fn vrrp_defaults_follow_keepalived() {
    let base = "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1/24\n }\n";
    let (c, w) = ok(&format!("{base} state MASTER\n}}\n"));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!((c.vrrp[0].state, c.vrrp[0].priority), (VrrpState::Master, 255), "MASTER without priority is the owner");
    let (c, _) = ok(&format!("{base}}}\n"));
    assert_eq!((c.vrrp[0].state, c.vrrp[0].priority, c.vrrp[0].version), (VrrpState::Backup, 100, VrrpVersion::V2));
    let (c, w) = ok(&format!("global_defs {{\n vrrp_version 3\n}}\n{base} advert_int 1.234\n}}\n"));
    assert_eq!((c.vrrp[0].version, c.vrrp[0].advert_int), (VrrpVersion::V3, Duration::from_millis(1230)));
    assert_eq!(w, ["k.conf:10: warning: `advert_int` 1.234s is taken as 1.23s: VRRPv3 sends hundredths of a second below 40.96"]);
    let (c, w) = ok(&format!("{base} advert_int 2.5\n}}\n"));
    assert_eq!(c.vrrp[0].advert_int, Duration::from_secs(3));
    assert_eq!(w, ["k.conf:7: warning: `advert_int` 2.5s is taken as 3s: VRRPv2 sends whole seconds below 256"]);
}

#[test]
fn vrrp_refusals() {
    assert_eq!(err("vrrp_instance A {\n virtual_router_id 1\n}\n"), [
        "k.conf:1:1: error: vrrp_instance `A` has no `interface`\n  hint: name the interface VRRP adverts are sent on"
    ]);
    let (c, _) = ok("vrrp_instance A {\n virtual_router_id 1\n unicast_peer {\n  10.0.0.2\n }\n}\n");
    assert_eq!(c.vrrp[0].interface, "", "unicast needs no interface");
    assert_eq!(
        err("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n authentication {\n  auth_type AH\n  auth_pass x\n }\n}\n"),
        ["k.conf:5:13: error: `auth_type AH` is not supported by rvs\n  hint: use `auth_type PASS`, or no authentication"]
    );
    assert_eq!(err("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 0\n}\n"), [
        "k.conf:4:11: error: `priority` 0 is out of range (1-255)"
    ]);
    assert_eq!(err("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n state master\n}\n"), [
        "k.conf:4:8: error: unknown state `master`\n  hint: `MASTER` or `BACKUP`"
    ]);
    assert_eq!(err("vrrp_script s {\n interval 2\n}\n"), ["k.conf:1:1: error: vrrp_script `s` has no `script`"]);
}

#[test]
fn lvs_refusals() {
    assert_eq!(err(&vs(" lvs_method TUN type gue", "")), ["k.conf:5:2: error: `lvs_method`: a gue tunnel needs `port N`"]);
    assert_eq!(err("virtual_server group nope {\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server_group web {\n 10.0.0.1 80\n}\n"), [
        "k.conf:1:1: error: no `virtual_server_group nope` is defined"
    ]);
    assert_eq!(err("virtual_server fwmark 0 {\n}\n"), ["k.conf:1:23: error: fwmark 0 names no service\n  hint: firewall marks start at 1"]);
    assert_eq!(err(&vs("", " TCP_CHECK {\n  connect_ip 10.0.0.999\n }")), ["k.conf:8:14: error: `10.0.0.999` is not an IP address"]);
    assert_eq!(err(&vs("", " HTTP_GET {\n }")), ["k.conf:7:2: error: `HTTP_GET` has no `url` block\n  hint: url { path / }"]);
    assert_eq!(err(&vs("", " FILE_CHECK {\n  track_file f\n }")), ["k.conf:8:3: error: FILE_CHECK: no `track_file f { … }` is defined"]);
    assert_eq!(err(&vs("", " HTTP_GET {\n  url {\n   path /\n   digest 12345\n  }\n }")), [
        "k.conf:10:11: error: `digest` `12345` is not an MD5 sum (32 hex digits)\n  hint: compute it with `genhash`"
    ]);
    assert_eq!(err(&vs("", " HTTP_GET {\n  url {\n   path /\n   status_code 200 600\n  }\n }")), [
        "k.conf:10:20: error: `600` is not a status code or range (100-599)\n  hint: such as `200` or `200-299`"
    ]);
    let v6 = "virtual_server 2001:db8::1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n";
    assert_eq!(err(v6), [
        "k.conf:3:2: error: 10.0.1.1 is IPv4 but the virtual server is IPv6\n  hint: only TUN destinations may be of another family than their service"
    ]);
    assert_eq!(err("global_defs {\n lvs_timeouts tcp 10 fin 5\n}\n"), [
        "k.conf:2:22: error: unknown `lvs_timeouts` option `fin`\n  hint: the options are `tcp`, `tcpfin` and `udp`"
    ]);
}

#[test]
fn sorry_server_port_and_method() {
    let (c, _) = ok(&vs(" sorry_server 10.0.9.9\n sorry_server_lvs_method NAT", ""));
    let s = c.virtual_servers[0].sorry_server.unwrap();
    assert_eq!((s.port, s.fwd, s.weight.get()), (80, ForwardMethod::Masq, 1));
}

#[test]
fn an_ipv6_service_in_brackets_and_scheduler_flags_of_another_scheduler() {
    let (c, w) = ok("virtual_server [2001:db8::1] 443 {\n lvs_sched rr\n sh-port\n lvs_method DR\n protocol TCP\n real_server 2001:db8::2 443 {\n }\n}\n");
    assert_eq!(c.virtual_servers[0].service.key.to_string(), "TCP [2001:db8::1]:443");
    assert!(c.virtual_servers[0].service.flags.sched.is_empty());
    assert_eq!(w, ["k.conf:3: warning: `sh-port` applies to the sh scheduler only (ignored)"]);
}
