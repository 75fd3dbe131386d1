//! rvs's TOML: what the annotated example means (defaults included), that `to_toml` reads back
//! to the same configuration for the piranha fixtures and for a configuration using every field
//! and check kind, and the messages of broken files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rvs_config::{Format, native, piranha};
use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, Config, DnsQueryType, ExpectPattern, FileCheck, HttpCheck,
    HttpVersion, MiscCheck, RealServer, ReplyPattern, Script, StatusCodes, StatusRange, TlsOptions, UdpCheck,
    UrlCheck, VirtualServer, VrrpAuth, VrrpInstance, VrrpScript, VrrpState, VrrpVersion,
};
use rvs_core::model::{
    AddressFamily, DestSpec, ForwardMethod, Fwmark, Netmask, PeName, Protocol, SchedFlags, SchedulerName,
    ServiceFlags, ServiceKey, ServiceSpec, TimeoutUpdate, TunnelCsum, TunnelKind, TunnelSpec, Weight,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn parse(text: &str) -> Config {
    match native::parse(text, Path::new("rvs.toml")) {
        Ok((c, w)) => {
            assert!(w.is_empty(), "{w:?}");
            c
        }
        Err(e) => panic!("refused:\n{e}\n--- text:\n{text}"),
    }
}

fn error(text: &str) -> String {
    match native::parse(text, Path::new("rvs.toml")) {
        Ok((c, _)) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

/// `to_toml` then `parse` gives the configuration back.
fn round_trip(config: &Config) -> String {
    let text = native::to_toml(config);
    assert_eq!(&parse(&text), config, "--- TOML:\n{text}");
    text
}

fn weight(w: u32) -> Weight {
    Weight::new(w).unwrap_or_else(|| panic!("weight {w}"))
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod) -> DestSpec {
    DestSpec { addr: ip(addr), port, fwd, weight: weight(1), u_threshold: 0, l_threshold: 0, tunnel: TunnelSpec::default() }
}

#[test]
fn the_example_means_what_its_comments_say() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/native/example.toml");
    let loaded = rvs_config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((loaded.format, loaded.warnings.len()), (Format::Toml, 0));
    let c = loaded.config;
    assert_eq!(c.router_id.as_deref(), Some("lvs1"));
    assert_eq!(c.marks[0].to_string(), "-p tcp -d 192.168.1.250/32 --dports 80,443 --set-mark 1");
    assert_eq!(c.timeouts, Some(TimeoutUpdate { tcp: 900, tcp_fin: 120, udp: 300 }));

    let web = &c.virtual_servers[0];
    assert_eq!(web.service.key, ServiceKey::Addr { protocol: Protocol::Tcp, addr: ip("192.168.1.250"), port: 80 });
    assert_eq!((web.service.flags.persistent, web.service.timeout), (true, 300));
    assert_eq!(web.service.netmask, Netmask::V4("255.255.255.0".parse().unwrap_or_else(|e| panic!("{e}"))));
    assert_eq!((web.quorum, web.hysteresis, web.alpha, web.omega), (2, 1, true, false));
    assert_eq!(web.quorum_down, Some(Script { argv: vec!["/bin/logger".into(), "quorum lost".into()] }));
    assert_eq!(web.sorry_server, Some(dest("10.0.0.9", 80, ForwardMethod::Route)));
    let http = Check {
        kind: CheckKind::Http(HttpCheck {
            urls: vec![UrlCheck {
                path: "/".into(),
                status: StatusCodes::success(),
                digest: Some([
                    0x9b, 0x3a, 0x0c, 0x85, 0xa8, 0x87, 0xa2, 0x56, 0xd6, 0x93, 0x9d, 0xa8, 0x8a, 0xab, 0xd8, 0xcd,
                ]),
                regex: None,
                regex_no_match: false,
                virtualhost: None,
            }],
            virtualhost: None,
            version: HttpVersion::Http10,
            tls: None,
        }),
        timing: CheckTiming {
            connect_timeout: Duration::from_secs(3),
            delay_loop: Duration::from_secs(10),
            ..CheckTiming::keepalived_default(&CheckKind::Http(HttpCheck {
                urls: vec![],
                virtualhost: None,
                version: HttpVersion::Http10,
                tls: None,
            }))
        },
        target: CheckTarget::default(),
    };
    let [first, second, third] = &web.reals[..] else { panic!("three reals") };
    assert_eq!(first.dest, DestSpec { weight: weight(2), ..dest("10.0.0.100", 80, ForwardMethod::Route) });
    assert_eq!(first.checks, [http], "the virtual server's checks");
    assert_eq!(second.dest.fwd, ForwardMethod::Masq);
    assert!(second.inhibit_on_failure && second.slow_start);
    assert_eq!(second.checks[0].timing.retry, 0);
    assert_eq!(second.checks[0].timing.delay_before_retry, Duration::from_secs(1), "keepalived's default");
    assert!(third.checks.is_empty(), "`check = []`");

    let fwm = &c.virtual_servers[1];
    let mark = Fwmark::new(1).unwrap_or_else(|| panic!("mark"));
    assert_eq!(fwm.service.key, ServiceKey::Fwmark { af: AddressFamily::Inet, mark });
    assert_eq!((fwm.service.flags.persistent, fwm.service.timeout), (true, 300), "`persistent = true`");
    assert_eq!(fwm.service.scheduler, SchedulerName::wlc());
    assert_eq!(fwm.reals[0].dest.port, 0, "a fwmark service's real server without a port");
    assert_eq!(fwm.reals[0].dest.tunnel, TunnelSpec { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::RemCsum });

    let vi = &c.vrrp[0];
    assert_eq!((vi.state, vi.priority, vi.virtual_router_id), (VrrpState::Master, 150, 51));
    let addresses: Vec<_> = vi.virtual_ipaddress.iter().map(|v| (v.addr, v.prefix)).collect();
    assert_eq!(addresses, [(ip("192.168.1.250"), 24), (ip("2001:db8::250"), 128)]);
    assert_eq!(vi.authentication, Some(VrrpAuth::Pass("secret".into())));
    assert_eq!(vi.garp_master_repeat, 5, "keepalived's default");
    assert_eq!(
        c.vrrp_scripts,
        [VrrpScript {
            name: "chk_rvsd".into(),
            script: Script { argv: vec!["pidof".into(), "rvsd".into()] },
            interval: Duration::from_secs(1),
            timeout: None,
            weight: -20,
            rise: 1,
            fall: 1,
        }]
    );
    round_trip(&c);
}

#[test]
fn piranha_fixtures_round_trip() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/piranha");
    let mut n = 0;
    for name in ["seed002-nat.cf", "seed002-dr-primary.cf", "seed002-dr-backup.cf", "fwmark-persistent.cf", "udp.cf", "nanny-checks.cf"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (config, _) = piranha::parse(&text, Path::new(name)).unwrap_or_else(|e| panic!("{e}"));
        round_trip(&config);
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn the_seed_002_conversion_reads_as_an_operator_writes_it() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/piranha/seed002-dr-primary.cf"))
        .unwrap_or_default();
    let (config, _) = piranha::parse(&text, Path::new("lvs.cf")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        round_trip(&config),
        r#"router_id = "192.168.1.10"

[[virtual_server]]
service = "tcp 192.168.1.250:80"
scheduler = "wlc"
forward = "dr"
alpha = true

[[virtual_server.check]]  # checks of every real server below
type = "send_expect"
send = "GET / HTTP/1.0\r\n\r\n"
expect = "HTTP"
connect_timeout = "6s"
retry = 0
delay_before_retry = "0s"
delay_loop = "6s"
reentry = "15s"

[[virtual_server.real]]
address = "192.168.1.111:80"
weight = 1
slow_start = true

[[virtual_server.real]]
address = "192.168.1.222:80"
weight = 1
slow_start = true

[[vrrp_instance]]
name = "lvs"
state = "backup"
interface = "eth0"
virtual_router_id = 1
priority = 100
advert_int = "6s"
virtual_ipaddress = ["192.168.1.250/24 label eth0:1"]
unicast_peer = ["192.168.1.10", "192.168.1.20"]
track_interface = ["eth0"]
"#
    );
}

fn timing(secs: u64) -> CheckTiming {
    CheckTiming {
        connect_timeout: Duration::from_millis(secs * 1000 + 250),
        retry: 7,
        delay_before_retry: Duration::from_micros(1500),
        delay_loop: Duration::from_secs(secs),
        warmup: Duration::from_nanos(3),
        reentry: Duration::from_secs(90),
    }
}

fn every_check_kind() -> Vec<CheckKind> {
    let url = |path: &str| UrlCheck {
        path: path.into(),
        status: StatusCodes(vec![StatusRange { first: 200, last: 204 }, StatusRange { first: 302, last: 302 }]),
        digest: Some([7; 16]),
        regex: Some("ok|fine \"quoted\"".into()),
        regex_no_match: true,
        virtualhost: Some("www.example.com".into()),
    };
    vec![
        CheckKind::Tcp,
        CheckKind::Ping,
        CheckKind::Http(HttpCheck { urls: vec![url("/"), url("/health")], virtualhost: Some("a.example".into()), version: HttpVersion::Http11, tls: None }),
        CheckKind::Http(HttpCheck {
            urls: vec![],
            virtualhost: None,
            version: HttpVersion::Http10Close,
            tls: Some(TlsOptions { enable_sni: true, sni_name: Some("sni.example".into()) }),
        }),
        CheckKind::Http(HttpCheck { urls: vec![], virtualhost: None, version: HttpVersion::Http10, tls: Some(TlsOptions::default()) }),
        CheckKind::SendExpect { send: b"PING\r\n".to_vec(), expect: ExpectPattern::Prefix(b"+PONG".to_vec()) },
        CheckKind::SendExpect { send: vec![0xff, 0x00], expect: ExpectPattern::Prefix(vec![0xfe]) },
        CheckKind::SendExpect { send: vec![], expect: ExpectPattern::Prefix(vec![]) },
        CheckKind::SendExpect { send: b"x".to_vec(), expect: ExpectPattern::Any },
        CheckKind::SendExpect { send: b"a1 NOOP\r\n".to_vec(), expect: ExpectPattern::Regex("^\\* OK".into()) },
        CheckKind::Smtp { helo_name: "lvs1.example.com".into() },
        CheckKind::Smtp { helo_name: "localhost".into() },
        CheckKind::Dns { qtype: DnsQueryType::Aaaa, name: "example.com".into() },
        CheckKind::Dns { qtype: DnsQueryType::Soa, name: ".".into() },
        CheckKind::Udp(UdpCheck {
            payload: vec![0, 1, 2, 0xff],
            require_reply: Some(ReplyPattern(vec![Some(0), None, Some(0xab)])),
            min_reply_length: 3,
            max_reply_length: 512,
        }),
        CheckKind::Udp(UdpCheck { payload: b"hi".to_vec(), require_reply: Some(ReplyPattern(vec![])), min_reply_length: 0, max_reply_length: 255 }),
        CheckKind::Udp(UdpCheck::default()),
        CheckKind::Misc(MiscCheck {
            script: Script { argv: vec!["/usr/bin/check".into(), "two words".into(), "it's".into()] },
            timeout: Some(Duration::from_millis(2500)),
            dynamic: true,
            user: Some("nobody".into()),
        }),
        CheckKind::Misc(MiscCheck { script: Script { argv: vec!["/bin/true".into()] }, timeout: None, dynamic: false, user: None }),
        CheckKind::File(FileCheck { path: "/run/weight".into(), multiplier: -3, reverse: true, dynamic: true }),
        CheckKind::File(FileCheck { path: "/run/up".into(), multiplier: 0, reverse: false, dynamic: false }),
    ]
}

/// A configuration with every field away from its default, and one of each check kind.
fn everything() -> Config {
    let checks: Vec<Check> = every_check_kind()
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let timing = if i % 2 == 0 { timing(i as u64 + 1) } else { CheckTiming::keepalived_default(&kind) };
            let target = if i % 3 == 0 {
                CheckTarget { ip: Some(ip("10.9.9.9")), port: Some(8080), bind_ip: Some(ip("10.0.0.2")), bind_port: Some(40000) }
            } else {
                CheckTarget::default()
            };
            Check { kind, timing, target }
        })
        .collect();
    let script = |s: &str| Some(Script { argv: s.split(' ').map(str::to_owned).collect() });
    let full_real = RealServer {
        dest: DestSpec {
            addr: ip("2001:db8::10"),
            port: 8443,
            fwd: ForwardMethod::Tunnel,
            weight: weight(2_147_483_647),
            u_threshold: 1000,
            l_threshold: 10,
            tunnel: TunnelSpec { kind: TunnelKind::Gre, port: 0, csum: TunnelCsum::Csum },
        },
        checks: checks.clone(),
        inhibit_on_failure: true,
        notify_up: script("/bin/up %s"),
        notify_down: Some(Script { argv: vec!["/bin/logger".into(), "down now".into()] }),
        slow_start: true,
        enabled: false,
    };
    let plain_real = RealServer::new(DestSpec { weight: weight(0), ..dest("2001:db8::11", 8443, ForwardMethod::Masq) });
    let v6 = VirtualServer {
        service: ServiceSpec {
            key: ServiceKey::Addr { protocol: Protocol::Sctp, addr: ip("2001:db8::1"), port: 443 },
            scheduler: SchedulerName::new("mh").unwrap_or_else(|e| panic!("{e}")),
            flags: ServiceFlags { persistent: true, one_packet: true, sched: SchedFlags::FLAG_1.union(SchedFlags::FLAG_3) },
            timeout: 0,
            netmask: Netmask::V6(64),
            pe: Some(PeName::new("sip").unwrap_or_else(|e| panic!("{e}"))),
        },
        reals: vec![full_real, plain_real],
        quorum: 0,
        hysteresis: 5,
        quorum_up: script("/bin/quorum up"),
        quorum_down: script("/bin/quorum down"),
        sorry_server: Some(DestSpec {
            weight: weight(3),
            u_threshold: 5,
            tunnel: TunnelSpec { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::NoCsum },
            ..dest("2001:db8::99", 443, ForwardMethod::Tunnel)
        }),
        sorry_server_inhibit: true,
        alpha: true,
        omega: true,
        enabled: false,
    };
    let mark = Fwmark::new(4_294_967_295).unwrap_or_else(|| panic!("mark"));
    let shared_checks = vec![checks[0].clone(), checks[5].clone()];
    let fwm_service = ServiceSpec {
        key: ServiceKey::Fwmark { af: AddressFamily::Inet6, mark },
        scheduler: SchedulerName::wlc(),
        flags: ServiceFlags::default(),
        timeout: 120,
        netmask: Netmask::V4("255.255.0.0".parse().unwrap_or_else(|e| panic!("{e}"))),
        pe: None,
    };
    let fwm_reals = ["2001:db8::20", "2001:db8::21"]
        .iter()
        .map(|a| RealServer { checks: shared_checks.clone(), ..RealServer::new(dest(a, 0, ForwardMethod::Local)) })
        .collect();
    let fwm = VirtualServer {
        sorry_server: Some(dest("2001:db8::98", 80, ForwardMethod::Bypass)),
        ..VirtualServer::new(fwm_service, fwm_reals)
    };
    let empty = VirtualServer::new(
        ServiceSpec {
            key: ServiceKey::Addr { protocol: Protocol::Udp, addr: ip("10.0.0.53"), port: 53 },
            scheduler: SchedulerName::new("rr").unwrap_or_else(|e| panic!("{e}")),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Netmask::full(AddressFamily::Inet),
            pe: None,
        },
        vec![],
    );
    let mut vi = VrrpInstance::new("VI \"one\"".into(), "bond0.100".into(), 255);
    vi.state = VrrpState::Master;
    vi.priority = 255;
    vi.advert_int = Duration::from_millis(250);
    vi.version = VrrpVersion::V3;
    vi.preempt = false;
    vi.preempt_delay = Duration::from_secs(30);
    let mut nat_router = rvs_core::config::VirtualAddress::new(ip("10.0.0.254"), 16);
    nat_router.dev = Some("eth1".into());
    nat_router.label = Some("eth1:1".into());
    vi.virtual_ipaddress =
        vec![rvs_core::config::VirtualAddress::new(ip("192.168.1.250"), 24), rvs_core::config::VirtualAddress::new(ip("2001:db8::250"), 64), nat_router];
    vi.unicast_src_ip = Some(ip("192.168.1.10"));
    vi.unicast_peer = vec![ip("192.168.1.20"), ip("192.168.1.30")];
    vi.authentication = Some(VrrpAuth::Pass("pässwd".into()));
    vi.track_interface = vec!["eth0".into(), "eth1".into()];
    vi.track_script = vec!["chk".into()];
    vi.notify_master = script("/etc/rvs/notify master");
    vi.notify_backup = script("/etc/rvs/notify backup");
    vi.notify_fault = script("/etc/rvs/notify fault");
    vi.notify = script("/etc/rvs/notify");
    vi.garp_master_delay = Duration::ZERO;
    vi.garp_master_repeat = 1;
    vi.garp_master_refresh = Duration::from_secs(60);
    Config {
        virtual_servers: vec![v6, fwm, empty],
        marks: vec!["-d 10.0.0.0/8 --dports 1000:2000,80 --set-mark 7".parse().unwrap_or_else(|e| panic!("{e}"))],
        timeouts: Some(TimeoutUpdate::default()),
        sync_daemon: Some(rvs_core::config::SyncDaemonSpec {
            interface: "eth1".into(),
            instance: Some("VI_1".into()),
            syncid: 7,
            port: Some(8849),
            ttl: Some(2),
            group: Some(ip("224.0.0.82")),
            maxlen: Some(1400),
        }),
        vrrp: vec![vi, VrrpInstance::new("plain".into(), "eth0".into(), 1)],
        vrrp_scripts: vec![
            VrrpScript {
                name: "chk".into(),
                script: Script { argv: vec!["/bin/sh".into(), "-c".into(), "pidof rvsd".into()] },
                interval: Duration::from_secs(2),
                timeout: Some(Duration::from_secs(1)),
                weight: 253,
                rise: 2,
                fall: 3,
            },
            VrrpScript {
                name: "plain".into(),
                script: Script { argv: vec!["true".into()] },
                interval: Duration::from_secs(1),
                timeout: None,
                weight: 0,
                rise: 1,
                fall: 1,
            },
        ],
        router_id: Some("lvs \"1\"\tα".into()),
    }
}

#[test]
fn every_field_and_check_kind_round_trips() {
    let config = everything();
    let text = round_trip(&config);
    assert!(text.contains("send_hex = \"ff00\""), "{text}");
    assert!(text.contains("script = [\"/usr/bin/check\", \"two words\", \"it's\"]"), "{text}");
    assert!(text.contains("[[virtual_server.check]]  # checks of every real server below"), "shared checks once");
    round_trip(&Config::default());
    assert_eq!(native::to_toml(&Config::default()), "");
}

#[test]
fn broken_files_say_where_and_what() {
    let head = "[[virtual_server]]\nservice = \"tcp 10.0.0.1:80\"\n";
    let real = format!("{head}[[virtual_server.real]]\naddress = \"10.0.0.2:80\"\n");
    let cases = [
        (
            format!("{real}wieght = 3\n"),
            "rvs.toml:5:1: error: unknown field `wieght`\n  hint: valid keys here: `address`, `weight`, `forward`, \
             `u_threshold`, `l_threshold`, `tunnel`, `inhibit_on_failure`, `notify_up`, `notify_down`, `slow_start`, `enabled`, \
             `check`"
                .to_owned(),
        ),
        (
            "[[virtual_server]]\nservice = \"tcp 10.0.0.1\"\n".to_owned(),
            "rvs.toml:2:11: error: service `tcp 10.0.0.1`: expected address:port (IPv6 in brackets); write \"tcp \
             192.168.1.250:80\", \"udp [2001:db8::1]:53\" or \"fwmark 1\""
                .to_owned(),
        ),
        (
            format!("{real}[[virtual_server.real.check]]\ntype = \"tcp\"\nsend = \"x\"\n"),
            "rvs.toml:5:1: error: `send` does not apply to a `tcp` check\n  hint: a `tcp` check takes only the timing \
             and target keys"
                .to_owned(),
        ),
        (
            format!("{real}[[virtual_server.real.check]]\ntype = \"htp\"\n"),
            "rvs.toml:6:8: error: unknown variant `htp`\n  hint: one of `tcp`, `http`, `https`, `send_expect`, `smtp`, \
             `dns`, `udp`, `ping`, `misc`, `file`"
                .to_owned(),
        ),
        (
            format!("{real}[[virtual_server.real.check]]\ntype = \"misc\"\n"),
            "rvs.toml:5:1: error: a `misc` check needs `script`".to_owned(),
        ),
        (
            format!("{real}[[virtual_server.real.check]]\ntype = \"tcp\"\nconnect_timeout = \"5 parsecs\"\n"),
            "rvs.toml:7:19: error: `5 parsecs` is not a duration: write a number and a unit (ns, us, ms, s, m, h), such \
             as \"5s\""
                .to_owned(),
        ),
        (format!("{real}weight = -1\n"), "rvs.toml:5:10: error: invalid value: integer `-1`, expected u32".to_owned()),
        (
            format!("{real}[[virtual_server.real]]\naddress = \"10.0.0.2:80\"\n"),
            "rvs.toml:5:1: error: real server 10.0.0.2 is given twice in service TCP 10.0.0.1:80".to_owned(),
        ),
        (
            format!("{head}[[virtual_server.real]]\naddress = \"2001:db8::2\"\n"),
            "rvs.toml:3:1: error: real server 2001:db8::2 is not of the family of service TCP 10.0.0.1:80\n  hint: IPVS \
             mixes IPv4 and IPv6 only for tunnelled real servers (`forward = \"tun\"`)"
                .to_owned(),
        ),
        (format!("{head}{head}"), "rvs.toml:3:1: error: service TCP 10.0.0.1:80 is given twice".to_owned()),
        ("marks = [\"-d 10.0.0.1\"]\n".to_owned(), "rvs.toml:1:10: error: mark rule `-d 10.0.0.1`: a rule needs --set-mark N".to_owned()),
        ("[[virtual_server]]\nscheduler = \"rr\"\n".to_owned(), "rvs.toml:1:1: error: missing field `service`".to_owned()),
        (
            "[[vrrp_instance]]\nname = \"a\"\ninterface = \"eth0\"\nvirtual_router_id = 0\n".to_owned(),
            "rvs.toml:1:1: error: vrrp_instance `a`: virtual_router_id is 1 to 255".to_owned(),
        ),
        (
            "[[vrrp_instance]]\nname = \"a\"\ninterface = \"eth0\"\nvirtual_router_id = 1\nvirtual_ipaddress = \
             [\"10.0.0.1/33\"]\n"
                .to_owned(),
            "rvs.toml:5:22: error: `10.0.0.1/33`: the prefix is at most 32".to_owned(),
        ),
        ("router_id = \"a\"\nrouter_id = \"b\"\n".to_owned(), "rvs.toml:2:1: error: duplicate key".to_owned()),
    ];
    for (text, expected) in &cases {
        assert_eq!(error(text), *expected, "for:\n{text}");
    }
}

#[test]
fn unknown_track_scripts_warn() {
    let text = "[[vrrp_instance]]\nname = \"a\"\ninterface = \"eth0\"\nvirtual_router_id = 1\ntrack_script = [\"nope\"]\n";
    let (_, w) = native::parse(text, Path::new("rvs.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].to_string(), "rvs.toml:1: warning: vrrp_instance `a` tracks `nope`, which no vrrp_script defines");
}

#[test]
fn keepalived_fixtures_round_trip() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keepalived");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "conf")).collect();
    paths.sort();
    let mut loaded = 0;
    for path in paths {
        if let Ok(l) = rvs_config::load_as(&path, Format::Keepalived) {
            round_trip(&l.config);
            loaded += 1;
        }
    }
    assert!(loaded > 0, "no keepalived fixture loaded from {}", dir.display());
}
