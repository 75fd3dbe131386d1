//! keepalived.conf files as deployed (written from keepalived.conf(5), keepalived's
//! doc/samples and the usual LVS-DR/NAT tutorials) into the exact model, broken files into
//! their exact diagnostics, unknown keywords into warnings.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use rvs_config::keepalived::parse;
use rvs_config::{Diagnostic, Severity};
use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, Config, DnsQueryType, FileCheck, HttpCheck, HttpVersion, MiscCheck,
    RealServer, ReplyPattern, Script, StatusCodes, StatusRange, TlsOptions, UdpCheck, UrlCheck, VirtualServer,
    VrrpAuth, VrrpState, VrrpVersion,
};
use rvs_core::model::{
    AddressFamily, DestSpec, ForwardMethod, Fwmark, Netmask, Protocol, SchedFlags, ServiceKey, TimeoutUpdate,
    TunnelCsum, TunnelKind, TunnelSpec,
};

fn path(rel: &str) -> std::path::PathBuf {
    Path::new("tests/keepalived").join(rel)
}

fn read(rel: &str) -> Result<(Config, Vec<Diagnostic>), rvs_config::ConfigError> {
    let p = path(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    parse(&text, &p)
}

/// A file that loads, and its warnings as displayed.
fn load(rel: &str) -> (Config, Vec<String>) {
    match read(rel) {
        Ok((c, w)) => (c, w.iter().map(ToString::to_string).collect()),
        Err(e) => panic!("{rel} refused:\n{e}"),
    }
}

/// The errors of a refused file, as displayed.
fn errors(rel: &str) -> Vec<String> {
    match read(rel) {
        Ok(_) => panic!("{rel} loaded"),
        Err(e) => e.errors().map(ToString::to_string).collect(),
    }
}

fn vip(s: &str, prefix: u8) -> rvs_core::config::VirtualAddress {
    rvs_core::config::VirtualAddress::new(ip(s), prefix)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn script(words: &[&str]) -> Option<Script> {
    Script::new(words.iter().map(|w| (*w).to_owned()).collect())
}

fn key(proto: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr { protocol: proto, addr: ip(addr), port }
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod, weight: u32) -> DestSpec {
    DestSpec {
        addr: ip(addr),
        port,
        fwd,
        weight: rvs_core::model::Weight::new(weight).unwrap(),
        u_threshold: 0,
        l_threshold: 0,
        tunnel: TunnelSpec::default(),
    }
}

/// keepalived's timing with the given delay_loop (warmup defaults to it).
fn timing(kind: &CheckKind, delay_loop: f64) -> CheckTiming {
    let mut t = CheckTiming::keepalived_default(kind);
    t.delay_loop = secs(delay_loop);
    t.warmup = secs(delay_loop);
    t
}

fn url(path: &str) -> UrlCheck {
    UrlCheck {
        path: path.to_owned(),
        status: StatusCodes::success(),
        digest: None,
        regex: None,
        regex_no_match: false,
        virtualhost: None,
    }
}

fn hex16(s: &str) -> [u8; 16] {
    let mut out = [0; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn http(check: &Check) -> &HttpCheck {
    match &check.kind {
        CheckKind::Http(h) => h,
        other => panic!("not HTTP: {other:?}"),
    }
}

#[test]
fn man_page_sample_with_http_get_and_ssl_get() {
    let (c, warnings) = load("man-sample.conf");
    assert_eq!(c.router_id.as_deref(), Some("LVS_DEVEL"));
    assert_eq!((c.timeouts, c.vrrp.len(), c.marks.len()), (None, 0, 0));
    assert_eq!(c.virtual_servers.len(), 2);

    let vs = &c.virtual_servers[0];
    assert_eq!(vs.service.key, key(Protocol::Tcp, "192.168.200.100", 443));
    assert_eq!(vs.service.scheduler.as_str(), "rr");
    assert!(vs.service.flags.persistent && !vs.service.flags.one_packet);
    assert_eq!(vs.service.flags.sched, SchedFlags::EMPTY);
    assert_eq!(vs.service.timeout, 50);
    assert_eq!(vs.service.netmask, Netmask::full(AddressFamily::Inet));
    assert_eq!(vs.service.pe, None);
    assert_eq!((vs.quorum, vs.hysteresis, vs.alpha, vs.omega), (1, 0, false, false));
    assert_eq!((&vs.sorry_server, &vs.quorum_up), (&None, &None));
    assert_eq!(vs.reals.len(), 1);
    let rs = &vs.reals[0];
    assert_eq!(rs.dest, dest("192.168.201.100", 443, ForwardMethod::Masq, 1));
    assert!(!rs.inhibit_on_failure && !rs.slow_start && rs.notify_up.is_none());
    assert_eq!(rs.checks.len(), 1);
    let ssl = &rs.checks[0];
    let expected = HttpCheck {
        urls: vec![
            UrlCheck { digest: Some(hex16("ff20ad2481f97b1754ef3e12ecd3a9cc")), ..url("/") },
            UrlCheck {
                status: StatusCodes(vec![
                    StatusRange { first: 200, last: 299 },
                    StatusRange { first: 301, last: 301 },
                    StatusRange { first: 302, last: 302 },
                ]),
                virtualhost: Some("mrtg.firewall.loc".into()),
                ..url("/mrtg/")
            },
        ],
        virtualhost: Some("www.firewall.loc".into()),
        version: HttpVersion::Http10,
        tls: Some(TlsOptions { enable_sni: true, sni_name: Some("secure.firewall.loc".into()) }),
    };
    assert_eq!(http(ssl), &expected);
    assert_eq!(ssl.kind.keyword(), "SSL_GET");
    let t = ssl.timing;
    assert_eq!((t.connect_timeout, t.retry, t.delay_before_retry), (secs(3.0), 3, secs(3.0)));
    assert_eq!((t.delay_loop, t.warmup, t.reentry), (secs(6.0), secs(6.0), Duration::ZERO));
    assert_eq!(ssl.target, CheckTarget::default());

    let vs = &c.virtual_servers[1];
    assert_eq!(vs.service.key, key(Protocol::Tcp, "10.10.10.2", 1358));
    assert!(vs.service.flags.persistent);
    assert_eq!(vs.service.timeout, 360, "persistence_timeout without a value");
    assert_eq!(vs.service.netmask, Netmask::V4("255.255.255.0".parse().unwrap()));
    assert_eq!(vs.sorry_server, Some(dest("192.168.200.200", 1358, ForwardMethod::Masq, 1)));
    let h = http(&vs.reals[0].checks[0]);
    assert_eq!(h.version, HttpVersion::Http11);
    assert_eq!(h.virtualhost, None);
    assert_eq!(h.urls[0].digest, Some(hex16("640205b7b0fc66c1ea91c463fac6334d")));
    assert_eq!(h.urls[1].regex.as_deref(), Some("Welcome to .* server"));
    assert_eq!(h.tls, None);
    assert_eq!(vs.reals[0].checks[0].timing.retry, 3, "nb_get_retry");
    let rs = &vs.reals[1];
    assert_eq!(rs.dest, dest("192.168.200.3", 1358, ForwardMethod::Masq, 2));
    let check = &rs.checks[0];
    let h = http(check);
    assert_eq!(h.virtualhost.as_deref(), Some("www.sample.loc"), "the real server's virtualhost");
    assert_eq!(h.urls, vec![UrlCheck {
        status: StatusCodes(vec![StatusRange { first: 200, last: 200 }]),
        regex: Some("maintenance".into()),
        regex_no_match: true,
        ..url("/testurl/test.jsp")
    }]);
    assert_eq!(check.target, CheckTarget { port: Some(8080), bind_ip: Some(ip("192.168.200.254")), ..CheckTarget::default() });
    assert_eq!(check.timing, timing(&check.kind, 6.0), "HTTP defaults: retry 1, delay_before_retry 3 s, connect 5 s");
    assert_eq!(check.timing.delay_before_retry, secs(3.0));

    assert_eq!(warnings, [
        "tests/keepalived/man-sample.conf:67: warning: `nb_get_retry` is the old name of `retry`\n  hint: write `retry`"
    ]);
}

#[test]
fn direct_routing_with_tcp_checks() {
    let (c, warnings) = load("dr-tcp.conf");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(c.router_id.as_deref(), Some("lb01"));
    assert_eq!(c.timeouts, Some(TimeoutUpdate { tcp: 7200, tcp_fin: 60, udp: 300 }));
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.service.key, key(Protocol::Tcp, "192.168.1.100", 80));
    assert_eq!((vs.service.scheduler.as_str(), vs.service.timeout, vs.service.flags.persistent), ("wrr", 360, true));
    let [a, b] = &vs.reals[..] else { panic!("two reals") };
    assert_eq!(a.dest, dest("192.168.1.11", 80, ForwardMethod::Route, 3));
    assert_eq!(b.dest, dest("192.168.1.12", 80, ForwardMethod::Route, 1), "port defaults to the service's");
    let ta = a.checks[0].timing;
    assert_eq!(a.checks[0].kind, CheckKind::Tcp);
    assert_eq!(a.checks[0].target, CheckTarget { port: Some(80), ..CheckTarget::default() });
    assert_eq!((ta.connect_timeout, ta.retry, ta.delay_before_retry), (secs(3.0), 2, secs(1.0)));
    assert_eq!((ta.delay_loop, ta.warmup), (secs(10.0), secs(10.0)));
    let tb = b.checks[0].timing;
    assert_eq!((tb.connect_timeout, tb.retry, tb.delay_loop, tb.warmup), (secs(2.5), 2, secs(5.0), Duration::ZERO));

    let vs = &c.virtual_servers[1];
    assert_eq!(vs.service.key, key(Protocol::Tcp, "192.168.1.100", 443));
    assert_eq!(vs.service.scheduler.as_str(), "sh");
    assert_eq!(vs.service.flags.sched, SchedFlags::FLAG_1.union(SchedFlags::FLAG_2), "sh-fallback, sh-port");
    assert_eq!((vs.service.flags.persistent, vs.service.timeout), (false, 0));
    assert_eq!(vs.reals[1].dest, dest("192.168.1.12", 443, ForwardMethod::Route, 1));
    let check = &vs.reals[1].checks[0];
    assert_eq!(check.timing, timing(&CheckKind::Tcp, 60.0));
    assert_eq!(check.timing.connect_timeout, secs(5.0));
}

#[test]
fn nat_with_sorry_server_quorum_and_scripts() {
    let (c, warnings) = load("nat-sorry.conf");
    assert_eq!(warnings, [
        "tests/keepalived/nat-sorry.conf:3: warning: no `lvs_method`: using NAT (keepalived's default; ipvsadm's is DR)"
    ]);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.service.key, key(Protocol::Tcp, "10.0.0.10", 8080));
    assert_eq!((vs.service.scheduler.as_str(), vs.service.flags.persistent), ("wlc", false));
    assert_eq!((vs.quorum, vs.hysteresis, vs.alpha, vs.omega), (2, 1, true, true));
    assert_eq!(vs.quorum_up, script(&["/usr/local/bin/notify.sh", "quorum", "up"]));
    assert_eq!(vs.quorum_down, script(&["/usr/local/bin/quorum-down.sh"]));
    assert_eq!(vs.sorry_server, Some(dest("10.0.1.99", 80, ForwardMethod::Masq, 1)));
    assert!(vs.sorry_server_inhibit);
    let [a, b, z] = &vs.reals[..] else { panic!("three reals") };
    assert_eq!(a.dest, dest("10.0.1.1", 80, ForwardMethod::Masq, 2));
    assert!(a.inhibit_on_failure, "from the virtual server");
    assert_eq!(a.notify_up, script(&["/usr/local/bin/notify.sh", "up", "10.0.1.1"]));
    assert_eq!(a.notify_down, script(&["/usr/local/bin/notify.sh", "down now", "10.0.1.1"]));
    let t = a.checks[0].timing;
    assert_eq!((t.connect_timeout, t.delay_before_retry, t.retry, t.delay_loop), (secs(4.0), secs(2.0), 1, secs(60.0)));
    assert_eq!(b.dest, DestSpec { u_threshold: 1000, l_threshold: 800, ..dest("10.0.1.2", 80, ForwardMethod::Masq, 2) });
    assert!(!b.inhibit_on_failure, "inhibit_on_failure no");
    assert_eq!(http(&b.checks[0]).urls, vec![url("/health")]);
    assert_eq!(b.checks[0].timing.delay_before_retry, secs(2.0), "the virtual server's, over HTTP's 3 s");
    assert_eq!(*z, RealServer {
        dest: dest("10.0.1.3", 8080, ForwardMethod::Masq, 0),
        checks: vec![],
        inhibit_on_failure: true,
        notify_up: None,
        notify_down: None,
        slow_start: false,
        enabled: true,
    });
}

#[test]
fn virtual_server_group_with_range_ipv6_and_fwmark() {
    let (c, warnings) = load("group.conf");
    let keys: Vec<String> = c.virtual_servers.iter().map(|v| v.service.key.to_string()).collect();
    assert_eq!(keys, [
        "TCP 192.168.10.1:80",
        "TCP 192.168.10.2:80",
        "TCP 192.168.10.3:80",
        "TCP 192.168.10.20:8080",
        "TCP [2001:db8::10]:80",
        "FWM 7",
        "FWM 20",
        "UDP [2001:db8::80]:53",
    ]);
    let gue = TunnelSpec { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::Csum };
    for (vs, port) in c.virtual_servers[..6].iter().zip([80, 80, 80, 8080, 80, 0]) {
        assert_eq!(vs.service.scheduler.as_str(), "lc");
        assert!(!vs.service.flags.persistent);
        assert_eq!(vs.reals[0].dest, dest("10.1.0.1", port, ForwardMethod::Tunnel, 1));
        assert_eq!(vs.reals[1].dest, DestSpec { tunnel: gue, ..dest("2001:db8:1::1", port, ForwardMethod::Tunnel, 1) });
        let check = &vs.reals[0].checks[0];
        assert_eq!((check.target.port, check.timing.delay_loop), (Some(80), secs(15.0)));
    }
    assert_eq!(c.virtual_servers[5].service.key, ServiceKey::Fwmark { af: AddressFamily::Inet, mark: Fwmark::new(7).unwrap() });

    let fw = &c.virtual_servers[6];
    assert_eq!(fw.service.key, ServiceKey::Fwmark { af: AddressFamily::Inet, mark: Fwmark::new(20).unwrap() });
    assert_eq!((fw.service.scheduler.as_str(), fw.service.timeout, fw.service.flags.persistent), ("rr", 600, true));
    assert_eq!(fw.service.netmask, Netmask::V4("255.255.255.0".parse().unwrap()));
    assert_eq!(fw.reals[0].dest, dest("10.2.0.1", 0, ForwardMethod::Route, 1));
    assert_eq!(fw.reals[0].checks[0].kind, CheckKind::Ping);
    assert_eq!(fw.reals[0].checks[0].timing, timing(&CheckKind::Ping, 2.0));
    assert_eq!(fw.reals[1].dest, dest("10.2.0.2", 0, ForwardMethod::Route, 4), "DR to a fwmark service: no port");

    let v6 = &c.virtual_servers[7];
    assert_eq!(v6.service.scheduler.as_str(), "mh");
    assert_eq!(v6.service.flags.sched, SchedFlags::FLAG_2, "mh-port");
    assert!(v6.service.flags.one_packet && v6.service.flags.persistent);
    assert_eq!((v6.service.timeout, v6.service.netmask), (360, Netmask::V6(64)), "a granularity makes it persistent");
    assert_eq!(v6.reals[0].dest, dest("2001:db8:2::1", 5353, ForwardMethod::Masq, 1));

    assert_eq!(warnings, [
        "tests/keepalived/group.conf:10: warning: fwmark 7: keepalived.conf does not say which packets carry the mark\n  hint: give rvsd a classifier rule that sets it (rvsd --mark)",
        "tests/keepalived/group.conf:16: warning: real server port 80 differs from the service's 8080: DR and TUN keep the port, using 8080 (as keepalived does)",
        "tests/keepalived/group.conf:16: warning: real server port 80 ignored: DR and TUN destinations of a fwmark service have none (as keepalived does)",
        "tests/keepalived/group.conf:21: warning: real server port 80 differs from the service's 8080: DR and TUN keep the port, using 8080 (as keepalived does)",
        "tests/keepalived/group.conf:21: warning: real server port 80 ignored: DR and TUN destinations of a fwmark service have none (as keepalived does)",
        "tests/keepalived/group.conf:26: warning: fwmark 20: keepalived.conf does not say which packets carry the mark\n  hint: give rvsd a classifier rule that sets it (rvsd --mark)",
        "tests/keepalived/group.conf:36: warning: real server port 8443 ignored: DR and TUN destinations of a fwmark service have none (as keepalived does)",
    ]);
}

#[test]
fn misc_check_with_misc_dynamic() {
    let (c, warnings) = load("misc-dynamic.conf");
    assert!(warnings.is_empty(), "{warnings:?}");
    let vs = &c.virtual_servers[0];
    let a = &vs.reals[0].checks[0];
    let misc = MiscCheck {
        script: Script::new(
            ["/usr/lib/keepalived/check_mysql.sh", "-h", "172.16.0.11", "-p", "3306", "SELECT 1"]
                .map(String::from)
                .to_vec(),
        )
        .unwrap(),
        timeout: Some(secs(5.0)),
        dynamic: true,
        user: Some("keepalived_script".into()),
    };
    assert_eq!(a.kind, CheckKind::Misc(misc));
    assert_eq!(a.timing, timing(&a.kind, 20.0));
    assert_eq!((a.timing.retry, a.timing.delay_before_retry), (0, secs(1.0)), "MISC_CHECK's retry is 0");
    let b = &vs.reals[1].checks[0];
    let CheckKind::Misc(m) = &b.kind else { panic!("misc") };
    assert_eq!((m.script.argv.as_slice(), m.timeout, m.dynamic, &m.user), (&["/usr/lib/keepalived/check_mysql.sh".to_owned()][..], None, false, &None));
    assert_eq!((b.timing.warmup, b.timing.retry), (secs(3.0), 2));
}

#[test]
fn dns_smtp_udp_ping_and_file_checks() {
    let (c, warnings) = load("checkers.conf");
    let checks: Vec<&Check> = c.virtual_servers[0].reals[0].checks.iter().collect();
    assert_eq!(checks.len(), 6);
    assert_eq!(checks[0].kind, CheckKind::Dns { qtype: DnsQueryType::A, name: "www.example.com".into() });
    let t = checks[0].timing;
    assert_eq!((t.retry, t.delay_before_retry, t.delay_loop), (3, secs(60.0), secs(60.0)), "DNS: retry 3, delay_before_retry = delay_loop");
    assert_eq!(checks[1].kind, CheckKind::Dns { qtype: DnsQueryType::Soa, name: ".".into() });
    assert_eq!(checks[1].target.port, Some(5353));
    assert_eq!((checks[1].timing.delay_before_retry, checks[1].timing.warmup), (secs(30.0), secs(30.0)));
    assert_eq!(checks[2].kind, CheckKind::Udp(UdpCheck {
        payload: vec![0x00, 0x01, 0xab],
        require_reply: Some(ReplyPattern(vec![Some(0), None, Some(1)])),
        min_reply_length: 2,
        max_reply_length: 512,
    }));
    assert_eq!(checks[3].kind, CheckKind::Udp(UdpCheck { max_reply_length: 255, ..UdpCheck::default() }));
    assert_eq!(checks[4].kind, CheckKind::File(FileCheck { path: "/run/lb/maintenance".into(), multiplier: 0, reverse: false, dynamic: false }));
    assert_eq!(checks[5].kind, CheckKind::File(FileCheck { path: "/run/lb/load".into(), multiplier: 3, reverse: false, dynamic: true }));

    let smtp: Vec<&Check> = c.virtual_servers[1].reals[0].checks.iter().collect();
    assert_eq!(smtp.len(), 3, "BFD_CHECK skipped");
    assert_eq!(smtp[0].kind, CheckKind::Smtp { helo_name: "mail.example.com".into() });
    assert_eq!(smtp[0].target, CheckTarget {
        ip: Some(ip("10.3.2.2")),
        port: Some(587),
        bind_ip: Some(ip("10.3.0.250")),
        bind_port: None
    });
    assert_eq!(smtp[0].timing.connect_timeout, secs(10.0));
    assert_eq!(smtp[1].kind, CheckKind::Smtp { helo_name: "smtpchecker.keepalived.org".into() });
    assert_eq!((&smtp[2].kind, smtp[2].timing.retry), (&CheckKind::Ping, 0));
    assert_eq!(warnings, [
        "tests/keepalived/checkers.conf:55: warning: `host` block ignored: rvs checks the first `host` of an SMTP_CHECK; write one SMTP_CHECK per host",
        "tests/keepalived/checkers.conf:64: warning: `BFD_CHECK` is not supported by rvs: this check is skipped",
    ]);
}

#[test]
fn include_of_a_directory_glob() {
    let (c, warnings) = load("include/main.conf");
    assert_eq!(c.router_id.as_deref(), Some("lb-include"));
    let keys: Vec<String> = c.virtual_servers.iter().map(|v| v.service.key.to_string()).collect();
    assert_eq!(keys, ["TCP 10.9.0.1:80", "UDP 10.9.0.1:53"], "conf.d/*.conf in name order, README left out");
    assert_eq!(c.vrrp.len(), 1);
    let v = &c.vrrp[0];
    assert_eq!((v.name.as_str(), v.interface.as_str(), v.virtual_router_id), ("VI_INC", "eth0", 9));
    assert_eq!(v.virtual_ipaddress, [vip("10.9.0.1", 24)]);
    assert_eq!(warnings, [
        "tests/keepalived/include/conf.d/10-web.conf:7: warning: unknown keyword `dealy_loop` in `TCP_CHECK`\n  hint: did you mean `delay_loop`?"
    ], "positions name the included file");
}

#[test]
fn ha_pair_with_vrrp_instances_and_scripts() {
    let (c, warnings) = load("ha-pair.conf");
    assert_eq!(c.router_id.as_deref(), Some("director-a"));
    let [lvs, uplink] = &c.vrrp_scripts[..] else { panic!("two scripts") };
    assert_eq!((lvs.name.as_str(), &lvs.script), ("chk_lvs", &script(&["/usr/bin/pgrep", "-x", "rvsd"]).unwrap()));
    assert_eq!((lvs.interval, lvs.timeout, lvs.weight, lvs.rise, lvs.fall), (secs(2.0), Some(secs(1.5)), -20, 2, 3));
    assert_eq!((uplink.interval, uplink.timeout, uplink.weight, uplink.rise, uplink.fall), (secs(1.0), None, 0, 1, 1));
    assert_eq!(uplink.script, script(&["/usr/local/bin/check-uplink"]).unwrap());

    let [a, b] = &c.vrrp[..] else { panic!("two instances") };
    assert_eq!((a.name.as_str(), a.state, a.interface.as_str()), ("VI_LB", VrrpState::Master, "eth0"));
    assert_eq!((a.virtual_router_id, a.priority, a.advert_int, a.version), (51, 150, secs(1.0), VrrpVersion::V2));
    assert_eq!((a.preempt, a.preempt_delay), (true, Duration::ZERO), "preempt_delay does not work with state MASTER");
    let mut labelled = vip("192.168.100.10", 24);
    labelled.label = Some("eth0:vip".into());
    assert_eq!(a.virtual_ipaddress, [labelled, vip("192.168.100.11", 32)]);
    assert_eq!((a.unicast_src_ip, a.unicast_peer.as_slice()), (Some(ip("10.0.0.2")), &[ip("10.0.0.3")][..]));
    assert_eq!(a.authentication, Some(VrrpAuth::Pass("k33p4l1v".into())));
    assert_eq!((a.track_interface.as_slice(), a.track_script.as_slice()), (&["eth0".to_owned(), "eth1".to_owned()][..], &["chk_lvs".to_owned(), "chk_uplink".to_owned()][..]));
    assert_eq!(a.notify_master, script(&["/etc/keepalived/notify.sh", "MASTER"]));
    assert_eq!(a.notify_backup, script(&["/etc/keepalived/notify.sh", "BACKUP"]));
    assert_eq!(a.notify_fault, script(&["/etc/keepalived/notify.sh", "FAULT"]));
    assert_eq!(a.notify, script(&["/etc/keepalived/notify-all.sh"]));
    assert_eq!((a.garp_master_delay, a.garp_master_repeat, a.garp_master_refresh), (secs(3.0), 2, secs(60.0)));

    assert_eq!((b.state, b.priority, b.preempt), (VrrpState::Master, 255, true), "priority 255 owns the address");
    assert_eq!((b.version, b.advert_int), (VrrpVersion::V3, secs(0.5)), "IPv6: VRRPv3");
    assert_eq!(b.virtual_ipaddress, [vip("2001:db8:100::10", 64)]);
    assert_eq!((b.garp_master_delay, b.garp_master_repeat, b.garp_master_refresh), (secs(5.0), 5, secs(60.0)));
    assert_eq!(b.authentication, None);

    assert_eq!(c.virtual_servers.len(), 1);
    assert_eq!(warnings, [
        "tests/keepalived/ha-pair.conf:6: warning: `script_user` is not supported: rvs runs scripts as its own user (ignored)",
        "tests/keepalived/ha-pair.conf:28: warning: `preempt_delay` does not work with `state MASTER` or `nopreempt`: ignored",
        "tests/keepalived/ha-pair.conf:33: warning: `auth_pass` is cut to its first 8 characters, `k33p4l1v` (as keepalived does)",
        "tests/keepalived/ha-pair.conf:61: warning: `nopreempt` does not apply to the address owner (priority 255): ignored",
    ]);
}

#[test]
fn unknown_and_unsupported_keywords_are_warnings() {
    let (c, warnings) = load("warnings.conf");
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.service.key, key(Protocol::Udp, "10.0.0.1", 80), "keepalived's protocol without `protocol` is UDP");
    assert_eq!(vs.reals[0].dest.weight.get(), 1, "the misspelt weight is not read");
    assert_eq!(vs.reals[0].checks.len(), 1, "the misspelt HTTP_GTE is skipped");
    assert!(warnings.iter().all(|w| w.contains(": warning: ")));
    assert_eq!(warnings, [
        "tests/keepalived/warnings.conf:3: warning: `vrrp_strict` is not supported by rvs (ignored)",
        "tests/keepalived/warnings.conf:4: warning: `lvs_flush` is not supported by rvs (ignored)",
        "tests/keepalived/warnings.conf:5: warning: unknown keyword `notification_emial` in `global_defs`\n  hint: did you mean `notification_email`?",
        "tests/keepalived/warnings.conf:8: warning: no `lvs_sched`: using wlc (keepalived's default)",
        "tests/keepalived/warnings.conf:8: warning: no `lvs_method`: using NAT (keepalived's default; ipvsadm's is DR)",
        "tests/keepalived/warnings.conf:8: warning: no `protocol`: using UDP (keepalived's default)\n  hint: add `protocol TCP`",
        "tests/keepalived/warnings.conf:9: warning: unknown keyword `dealy_loop` in `virtual_server`\n  hint: did you mean `delay_loop`?",
        "tests/keepalived/warnings.conf:10: warning: `ha_suspend` is not supported by rvs: checks run whether or not the address is local (ignored)",
        "tests/keepalived/warnings.conf:12: warning: unknown keyword `wieght` in `real_server`\n  hint: did you mean `weight`?",
        "tests/keepalived/warnings.conf:13: warning: unknown keyword `HTTP_GTE` in `real_server` (its block is skipped)\n  hint: did you mean `HTTP_GET`?",
        "tests/keepalived/warnings.conf:19: warning: `bind_if` is not supported by rvs checks (ignored)",
        "tests/keepalived/warnings.conf:20: warning: unknown keyword `conect_timeout` in `TCP_CHECK`\n  hint: did you mean `connect_timeout`?",
    ]);
}

#[test]
fn broken_files_say_where_and_why() {
    let cases: &[(&str, &[&str])] = &[
        ("broken/bad-ip.conf", &["tests/keepalived/broken/bad-ip.conf:4:17: error: `10.0.0.300` is not an IP address"]),
        ("broken/port-range.conf", &["tests/keepalived/broken/port-range.conf:1:25: error: port 70000 is out of range (1-65535)"]),
        ("broken/weight-range.conf", &[
            "tests/keepalived/broken/weight-range.conf:4:16: error: `weight` 2147483648 is out of range (0-2147483647)",
        ]),
        ("broken/missing-brace.conf", &[
            "tests/keepalived/broken/missing-brace.conf:1:28: error: missing `}`: this block is never closed\n  hint: add the `}` that ends it (perhaps the block of line 3's: its `}` is out of line with it)",
            "tests/keepalived/broken/missing-brace.conf:6:5: error: `real_server` is not allowed in `real_server`\n  hint: `real_server` belongs in a `virtual_server` block",
        ]),
        ("broken/stray-brace.conf", &[
            "tests/keepalived/broken/stray-brace.conf:7:1: error: unexpected `}`: no block is open here\n  hint: remove it, or look for a missing `{` above",
        ]),
        ("broken/rs-outside.conf", &[
            "tests/keepalived/broken/rs-outside.conf:5:1: error: `real_server` is not allowed at the top level\n  hint: `real_server` belongs in a `virtual_server` block",
        ]),
        ("broken/duplicate-rs.conf", &[
            "tests/keepalived/broken/duplicate-rs.conf:5:5: error: real server 10.0.1.1:80 is listed twice in this virtual server",
        ]),
        ("broken/duplicate-vs.conf", &[
            "tests/keepalived/broken/duplicate-vs.conf:7:1: error: virtual server TCP 10.0.0.1:80 is defined twice\n  hint: first defined at line 1",
        ]),
        ("broken/lvs-method.conf", &[
            "tests/keepalived/broken/lvs-method.conf:3:16: error: unknown `lvs_method` `DSR`\n  hint: NAT, DR or TUN (in capitals)",
        ]),
        ("broken/non-numeric.conf", &[
            "tests/keepalived/broken/non-numeric.conf:3:16: error: `delay_loop` expects a time in seconds, found `six`\n  hint: seconds, such as `5` or `2.5` (at most 6 decimals)",
        ]),
        ("broken/missing-value.conf", &["tests/keepalived/broken/missing-value.conf:3:5: error: `lvs_sched` needs a value"]),
        ("broken/include-missing.conf", &[
            "tests/keepalived/broken/include-missing.conf:1:1: error: cannot read included file `tests/keepalived/broken/missing.conf`: no such file",
        ]),
        ("loop/a.conf", &[
            "tests/keepalived/loop/b.conf:4:1: error: include loop: `tests/keepalived/loop/a.conf` is already being read\n  hint: a file must not include itself, directly or through other files",
        ]),
        ("broken/vrrp.conf", &[
            "tests/keepalived/broken/vrrp.conf:5:1: error: vrrp_instance `VI_1` has no `virtual_router_id`\n  hint: virtual_router_id 1-255, the same on both directors",
            "tests/keepalived/broken/vrrp.conf:7:23: error: `virtual_router_id` 300 is out of range (1-255)",
            "tests/keepalived/broken/vrrp.conf:9:9: error: track_script `chk_haproxi`: no vrrp_script has this name\n  hint: did you mean `chk_haproxy`?",
        ]),
    ];
    for (file, expected) in cases {
        assert_eq!(&errors(file), expected, "{file}");
    }
}

#[test]
fn refusals_keep_the_warnings_seen_before() {
    let Err(e) = read("broken/duplicate-rs.conf") else { panic!("loaded") };
    let severities: Vec<Severity> = e.diagnostics.iter().map(|d| d.severity).collect();
    assert_eq!(severities, [Severity::Warning, Severity::Warning, Severity::Error]);
    assert_eq!(e.diagnostics[0].to_string(), "tests/keepalived/broken/duplicate-rs.conf:1: warning: no `lvs_sched`: using wlc (keepalived's default)");
}

#[test]
fn every_fixture_that_loads_gives_a_virtual_server_per_service() {
    let total: usize = ["man-sample.conf", "dr-tcp.conf", "nat-sorry.conf", "group.conf", "misc-dynamic.conf", "checkers.conf", "ha-pair.conf"]
        .iter()
        .map(|f| load(f).0.virtual_servers.len())
        .sum();
    assert_eq!(total, 2 + 2 + 1 + 8 + 1 + 2 + 1);
    let vs: &VirtualServer = &load("nat-sorry.conf").0.virtual_servers[0];
    assert!(vs.real("10.0.1.3:8080".parse::<std::net::SocketAddr>().map(|s| rvs_core::model::DestAddr { addr: s.ip(), port: s.port() }).unwrap()).is_some());
}
