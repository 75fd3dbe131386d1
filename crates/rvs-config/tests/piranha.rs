//! piranha's lvs.cf: the three files of seed 002 (cleaned of the web page's `? ???`), a fwmark
//! and persistence file, a UDP one, nanny's test variants, and broken files with their messages.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rvs_config::{ConfigError, Diagnostic, Format, Severity, piranha};
use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, Config, ExpectPattern, MiscCheck, RealServer, ReplyPattern, Script,
    UdpCheck, VirtualAddress, VirtualServer, VrrpInstance, VrrpState,
};
use rvs_core::model::{
    AddressFamily, DestSpec, ForwardMethod, Fwmark, Netmask, Protocol, SchedulerName, ServiceFlags, ServiceKey,
    ServiceSpec, TimeoutUpdate, TunnelSpec, Weight,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/piranha").join(name)
}

fn load(name: &str) -> (Config, Vec<Diagnostic>) {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    piranha::parse(&text, Path::new(name)).unwrap_or_else(|e| panic!("{name} refused:\n{e}"))
}

fn refused(text: &str) -> ConfigError {
    match piranha::parse(text, Path::new("lvs.cf")) {
        Ok((c, w)) => panic!("accepted: {c:?}\n{w:?}"),
        Err(e) => e,
    }
}

/// The first error as printed.
fn error(text: &str) -> String {
    refused(text).errors().next().map(ToString::to_string).unwrap_or_default()
}

/// Warnings as `line: message`.
fn warnings(w: &[Diagnostic]) -> Vec<String> {
    w.iter()
        .inspect(|d| assert_eq!(d.severity, Severity::Warning))
        .map(|d| format!("{}: {}", d.line, d.message))
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn weight(w: u32) -> Weight {
    Weight::new(w).unwrap_or_else(|| panic!("weight {w}"))
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod, w: u32) -> DestSpec {
    DestSpec {
        addr: ip(addr),
        port,
        fwd,
        weight: weight(w),
        u_threshold: 0,
        l_threshold: 0,
        tunnel: TunnelSpec::default(),
    }
}

/// nanny's timing for `timeout` and `reentry`.
fn nanny(timeout: u64, reentry: u64) -> CheckTiming {
    CheckTiming {
        connect_timeout: Duration::from_secs(timeout),
        retry: 0,
        delay_before_retry: Duration::ZERO,
        delay_loop: Duration::from_secs(timeout),
        warmup: Duration::ZERO,
        reentry: Duration::from_secs(reentry),
    }
}

fn check(kind: CheckKind, timing: CheckTiming) -> Check {
    Check { kind, timing, target: CheckTarget::default() }
}

fn send_expect(send: &str, expect: &str) -> CheckKind {
    CheckKind::SendExpect { send: send.as_bytes().to_vec(), expect: ExpectPattern::Prefix(expect.as_bytes().to_vec()) }
}

fn real(dest: DestSpec, checks: Vec<Check>) -> RealServer {
    RealServer { checks, slow_start: true, ..RealServer::new(dest) }
}

fn tcp_service(vip: &str, port: u16) -> ServiceSpec {
    ServiceSpec {
        key: ServiceKey::Addr { protocol: Protocol::Tcp, addr: ip(vip), port },
        scheduler: SchedulerName::wlc(),
        flags: ServiceFlags::default(),
        timeout: 0,
        netmask: Netmask::full(AddressFamily::Inet),
        pe: None,
    }
}

fn virtual_server(service: ServiceSpec, reals: Vec<RealServer>) -> VirtualServer {
    VirtualServer {
        service,
        reals,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        sorry_server_inhibit: false,
        alpha: true,
        omega: false,
        enabled: true,
    }
}

#[test]
fn seed_002_nat_file_is_the_whole_model_it_states() {
    let (config, w) = load("seed002-nat.cf");
    // The blog lost the backslashes of "GET / HTTP/1.0\r\n\r\n": nanny would send it as written.
    let http = check(send_expect("GET / HTTP/1.0rnrn", "HTTP"), nanny(6, 15));
    let mut instance = VrrpInstance::new("lvs".into(), "eth0".into(), 1);
    instance.advert_int = Duration::from_secs(6);
    let mut nat_router = VirtualAddress::new(ip("10.0.0.254"), 16);
    nat_router.dev = Some("eth1".into());
    nat_router.label = Some("eth1:1".into());
    let mut vip = VirtualAddress::new(ip("192.168.1.250"), 24);
    vip.label = Some("eth0:1".into());
    instance.virtual_ipaddress = vec![vip, nat_router];
    instance.unicast_peer = vec![ip("192.168.1.20"), ip("192.168.1.20")];
    let expected = Config {
        virtual_servers: vec![virtual_server(
            tcp_service("192.168.1.250", 80),
            vec![
                real(dest("10.0.0.100", 80, ForwardMethod::Masq, 1), vec![http.clone()]),
                real(dest("10.0.0.200", 80, ForwardMethod::Masq, 1), vec![http]),
            ],
        )],
        marks: vec![],
        timeouts: None,
        vrrp: vec![instance],
        vrrp_scripts: vec![],
        router_id: Some("192.168.1.20".into()),
        sync_daemon: None,
    };
    assert_eq!(config, expected);
    assert_eq!(
        warnings(&w),
        [
            "3: primary_private and backup_private are ignored: VRRP advertises on one interface",
            "5: lvs.cf does not say which director reads it: the VRRP instance is BACKUP, priority 100",
            "6: primary and backup are the same address (192.168.1.20)",
            "22: send \"GET / HTTP/1.0rnrn\" ends in `rnrn`: sent as written",
        ]
    );
    assert_eq!(
        w[3].hint.as_deref(),
        Some("were backslashes lost? `\\r\\n\\r\\n` sends CR LF CR LF")
    );
}

#[test]
fn seed_002_direct_routing_files() {
    let (primary, w) = load("seed002-dr-primary.cf");
    assert_eq!(warnings(&w), ["4: lvs.cf does not say which director reads it: the VRRP instance is BACKUP, priority 100"]);
    let vs = &primary.virtual_servers[0];
    assert_eq!(vs.service, tcp_service("192.168.1.250", 80));
    let http = check(send_expect("GET / HTTP/1.0\r\n\r\n", "HTTP"), nanny(6, 15));
    assert_eq!(
        vs.reals,
        [
            real(dest("192.168.1.111", 80, ForwardMethod::Route, 1), vec![http.clone()]),
            real(dest("192.168.1.222", 80, ForwardMethod::Route, 1), vec![http]),
        ]
    );
    let vrrp = &primary.vrrp[0];
    let addresses: Vec<_> = vrrp.virtual_ipaddress.iter().map(|v| (v.addr, v.prefix)).collect();
    assert_eq!(addresses, [(ip("192.168.1.250"), 24)], "no nat_router without NAT");
    assert_eq!(vrrp.track_interface, ["eth0"], "monitor_links = 1");
    assert_eq!(vrrp.unicast_peer, [ip("192.168.1.10"), ip("192.168.1.20")]);

    // The backup's file differs in `primary` only (the blog's copy names the backup twice).
    let (backup, w) = load("seed002-dr-backup.cf");
    assert_eq!(warnings(&w)[1], "5: primary and backup are the same address (192.168.1.20)");
    assert_eq!(backup.virtual_servers, primary.virtual_servers);
}

#[test]
fn the_director_owning_primary_becomes_master() {
    let (config, _) = load("seed002-dr-primary.cf");
    let mut on_primary = config.clone();
    assert_eq!(piranha::assign_role(&mut on_primary, &[ip("127.0.0.1"), ip("192.168.1.10")]), Some(VrrpState::Master));
    let i = &on_primary.vrrp[0];
    assert_eq!((i.state, i.priority, i.unicast_src_ip), (VrrpState::Master, 150, Some(ip("192.168.1.10"))));
    assert_eq!(i.unicast_peer, [ip("192.168.1.20")]);
    let mut on_backup = config.clone();
    assert_eq!(piranha::assign_role(&mut on_backup, &[ip("192.168.1.20")]), Some(VrrpState::Backup));
    let i = &on_backup.vrrp[0];
    assert_eq!((i.state, i.priority, i.unicast_src_ip), (VrrpState::Backup, 100, Some(ip("192.168.1.20"))));
    assert_eq!(i.unicast_peer, [ip("192.168.1.10")]);
    let mut elsewhere = config.clone();
    assert_eq!(piranha::assign_role(&mut elsewhere, &[ip("10.9.9.9")]), None);
    assert_eq!(elsewhere, config);
}

#[test]
fn the_web_page_copy_is_refused_line_by_line() {
    let text = std::fs::read_to_string(fixture("seed002-nat-garbled.cf")).unwrap_or_default();
    let err = refused(&text);
    let errors: Vec<&Diagnostic> = err.errors().collect();
    assert_eq!(errors.len(), 23, "{err}");
    assert_eq!(
        errors[0].to_string(),
        "lvs.cf:18:1: error: stray characters `? ???` before `active`\n  hint: was the file copied from a web \
         page? Remove what precedes the keyword on each such line"
    );
    assert_eq!(errors[14].to_string(), "lvs.cf:32:1: error: stray characters `? ?? ?? ?` before `address`");
    assert!(errors.iter().all(|e| e.message.starts_with("stray characters")), "{err}");
}

#[test]
fn fwmark_persistence_program_checks_and_quiesce() {
    let (config, w) = load("fwmark-persistent.cf");
    assert_eq!(
        warnings(&w),
        [
            "6: lvs.cf does not say which director reads it: the VRRP instance is BACKUP, priority 100",
            "17: fwmark 80: rvs marks new connections itself with `-p tcp -d 172.25.30.100/32 --dports 80,443 \
             --set-mark 80`",
            "25: send_program: rvs counts the real server up when the program exits with status 0",
            "27: load_monitor = uptime is ignored: rvs does not set weights from the real servers' load",
            "54: virtual https: service FWM 80 is already virtual http's; skipped",
        ]
    );
    let sync = config.sync_daemon.as_ref().unwrap_or_else(|| panic!("syncdaemon = 1"));
    assert_eq!((sync.interface.as_str(), sync.syncid), ("eth0", 0), "pulse's defaults");
    assert_eq!(config.virtual_servers.len(), 1);
    let vs = &config.virtual_servers[0];
    let mark = Fwmark::new(80).unwrap_or_else(|| panic!("mark"));
    assert_eq!(
        vs.service,
        ServiceSpec {
            key: ServiceKey::Fwmark { af: AddressFamily::Inet, mark },
            scheduler: SchedulerName::new("wrr").unwrap_or_else(|e| panic!("{e}")),
            flags: ServiceFlags { persistent: true, ..ServiceFlags::default() },
            timeout: 300,
            netmask: Netmask::V4("255.255.255.0".parse().unwrap_or_else(|e| panic!("{e}"))),
            pe: None,
        }
    );
    assert_eq!(vs.sorry_server, Some(dest("172.25.30.200", 80, ForwardMethod::Route, 1)));
    let program = |host: &str, port: &str| {
        let argv = vec!["/usr/local/bin/check-web".to_owned(), host.to_owned(), port.to_owned()];
        let misc = MiscCheck { script: Script { argv }, timeout: Some(Duration::from_secs(5)), dynamic: false, user: None };
        check(CheckKind::Misc(misc), nanny(5, 20))
    };
    let quiesced = |d, c| RealServer { inhibit_on_failure: true, ..real(d, vec![c]) };
    assert_eq!(
        vs.reals,
        [
            quiesced(dest("192.168.122.224", 80, ForwardMethod::Route, 3), program("192.168.122.224", "80")),
            quiesced(dest("192.168.122.245", 8080, ForwardMethod::Route, 1), program("192.168.122.245", "8080")),
        ],
        "web3 is not active"
    );
    assert_eq!(config.marks.len(), 1);
    assert_eq!(config.marks[0].to_string(), "-p tcp -d 172.25.30.100/32 --dports 80,443 --set-mark 80");
    assert_eq!(config.timeouts, Some(TimeoutUpdate { tcp: 900, tcp_fin: 60, udp: 0 }));
    let vrrp = &config.vrrp[0];
    assert_eq!(vrrp.advert_int, Duration::from_secs(2));
    assert_eq!(vrrp.notify_master, Some(Script { argv: vec!["/usr/local/sbin/lvs-active".into(), "--log".into()] }));
    assert_eq!(vrrp.notify_backup, None);
}

#[test]
fn udp_services_send_a_datagram_and_want_an_answer() {
    let (config, w) = load("udp.cf");
    assert_eq!(warnings(&w), Vec::<String>::new());
    assert_eq!(config.timeouts, Some(TimeoutUpdate { tcp: 0, tcp_fin: 0, udp: 120 }));
    assert!(config.vrrp.is_empty(), "no backup_active");
    let [dns, syslog] = &config.virtual_servers[..] else { panic!("two services: {config:?}") };
    assert_eq!(dns.service.key, ServiceKey::Addr { protocol: Protocol::Udp, addr: ip("10.1.1.53"), port: 53 });
    let udp = |payload: &str, reply: &[u8]| {
        CheckKind::Udp(UdpCheck {
            payload: payload.as_bytes().to_vec(),
            require_reply: Some(ReplyPattern(reply.iter().copied().map(Some).collect())),
            min_reply_length: 0,
            max_reply_length: 65_535,
        })
    };
    assert_eq!(dns.reals, [real(dest("10.2.0.1", 53, ForwardMethod::Tunnel, 1), vec![check(udp("ping\n", b"pong"), nanny(3, 180))])]);
    assert_eq!(syslog.reals, [real(dest("10.2.0.7", 514, ForwardMethod::Tunnel, 5), vec![check(udp("hello", b""), nanny(10, 180))])]);
}

#[test]
fn nanny_tests_by_port_and_regex() {
    let (config, w) = load("nanny-checks.cf");
    assert_eq!(warnings(&w), ["19: reentry = 0: nanny waits 180 s"]);
    let kinds: Vec<&CheckKind> = config.virtual_servers.iter().map(|v| &v.reals[0].checks[0].kind).collect();
    assert_eq!(
        kinds,
        [
            &send_expect("GET / HTTP/1.0\r\n\r\n", "HTTP"),
            &CheckKind::Tcp,
            &CheckKind::SendExpect {
                send: b"a1 CAPABILITY\r\n".to_vec(),
                expect: ExpectPattern::Regex("^\\* (OK|PREAUTH)".into())
            },
        ],
        "the inactive virtual server is left out"
    );
    assert_eq!(config.virtual_servers[1].reals[0].checks[0].timing, nanny(10, 180));
    assert!(config.virtual_servers.iter().all(|v| v.reals[0].dest.fwd == ForwardMethod::Masq), "network defaults to nat");
}

#[test]
fn broken_files_say_where_and_what() {
    let cases: &[(&str, &str)] = &[
        (
            "virtual web {\n  active = 1\n  address = 10.0.0.1 eth0:1\n",
            "lvs.cf:1:1: error: `virtual web {` is not closed: missing `}`\n  hint: close every `virtual NAME {` and \
             `server NAME {` with a `}` line",
        ),
        (
            "server a {\n  address = 10.0.0.1\n}\n",
            "lvs.cf:1:1: error: `server` outside a `virtual` block\n  hint: declare real servers inside the `virtual \
             NAME { … }` they serve",
        ),
        (
            "virtual web {\n  active = 1\n  address = 10.0.0.300 eth0:1\n}\n",
            "lvs.cf:3:13: error: `10.0.0.300` is not an IPv4 address\n  hint: write a dotted IPv4 address such as \
             192.168.1.250",
        ),
        (
            "virtual web {\n  timeout = 6s\n}\n",
            "lvs.cf:2:13: error: expected a number, found `6s`",
        ),
        ("virtual web {\n  timeout = 0\n}\n", "lvs.cf:2:13: error: 0 is out of range (1 to 2147483647)"),
        (
            "primary = lvs1.example.com\n",
            "lvs.cf:1:11: error: `lvs1.example.com` is not an IPv4 address\n  hint: rvs does not look host names up: \
             write the address",
        ),
        (
            "service = fos\n",
            "lvs.cf:1:11: error: fos mode is not supported\n  hint: rvs runs LVS mode only (`service = lvs` with \
             `virtual` blocks); fos's services started by start_cmd on the active node have no rvs equivalent",
        ),
        (
            "failover ftp {\n  address = 10.0.0.1 eth0:1\n  start_cmd = \"/etc/init.d/vsftpd start\"\n}\n",
            "lvs.cf:1:1: error: fos mode is not supported: `failover` blocks are piranha's failover services\n  hint: \
             rvs runs LVS mode only (`service = lvs` with `virtual` blocks); fos's services started by start_cmd on \
             the active node have no rvs equivalent",
        ),
        (
            "virtual web {\n}\n}\n",
            "lvs.cf:3:1: error: `}` closes no block\n  hint: is there one `}` too many, or a `virtual NAME {` line \
             missing?",
        ),
        (
            "virtual web {\n  send = \"GET / HTTP/1.0\n}\n",
            "lvs.cf:2:10: error: unterminated quote: no closing \" on this line\n  hint: close the value with \"; lvs.cf \
             values stay on one line",
        ),
        (
            "virtual web {\n  weight = 2\n}\n",
            "lvs.cf:2:3: error: `weight` belongs in a `server` block, not in a `virtual` block\n  hint: is a `{` or `}` \
             line missing above?",
        ),
        (
            "keepalive 6\n",
            "lvs.cf:1:11: error: expected `=` after `keepalive`\n  hint: lvs.cf settings are `key = value`",
        ),
        (
            "keepalive=6\n",
            "lvs.cf:1:12: error: expected `=` after `keepalive=6`\n  hint: put blanks around `=`: `key = value`",
        ),
        (
            "virtual web {\n  port = 80 # http\n}\n",
            "lvs.cf:2:13: error: unexpected `#` after the value of `port`\n  hint: quote values that contain blanks; \
             lvs.cf has no comments after a value",
        ),
        (
            "virtual web {\n  active = 1\n}\n",
            "lvs.cf:1:1: error: virtual web has no `address`\n  hint: give its VIP and device: `address = \
             192.168.1.250 eth0:1`",
        ),
        (
            "virtual web {\n  address = 10.0.0.1\n}\n",
            "lvs.cf:2:13: error: `address` takes an address and a device\n  hint: for example `address = 192.168.1.250 \
             eth0:1`",
        ),
        (
            "virtual web {\n  scheduler = mh\n}\n",
            "lvs.cf:2:15: error: unknown scheduler `mh`\n  hint: piranha's schedulers are rr, wrr, lc, wlc, lblc, lblcr, \
             dh, sh",
        ),
        (
            "virtual web {\n  sorry_server = 10.0.0.9:80\n}\n",
            "lvs.cf:2:18: error: sorry_server `10.0.0.9:80` has a port\n  hint: lvs.cf's sorry_server is an address; \
             it serves on the virtual server's port",
        ),
        (
            "backup_active = 1\nbackup = 10.0.0.2\n",
            "lvs.cf:1:1: error: backup_active = 1 needs `primary`\n  hint: name the primary director's address: `primary \
             = 192.168.1.10`",
        ),
        (
            "virtual web {\n  server = 10.0.0.5\n}\n",
            "lvs.cf:2:3: error: `server` opens a block\n  hint: write `server NAME {`, then its settings, then `}`",
        ),
        (
            "virtual web {\n  active = 1\n  address = 10.0.0.1 eth0:1\n  server a {\n    active = 1\n  }\n}\n",
            "lvs.cf:4:1: error: server a has no `address`\n  hint: add `address = 10.0.0.100`",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), *expected, "for:\n{text}");
    }
}

#[test]
fn unknown_keys_warn_and_the_file_still_loads() {
    let text = "serial_no = 0x10\nservice = lvs\nheartbeet = 1\nrsh_command = ssh\nvirtual web {\n  active = 1\n  \
                address = 10.0.0.1 eth0:1\n  port = 8080\n  persistant = 60\n  persistent = 010\n  server a {\n    \
                address = 10.0.0.5\n    active = 1\n    wieght = 3\n  }\n  server b {\n    address = 10.0.0.6\n  }\n}\n";
    let (config, w) = piranha::parse(text, Path::new("lvs.cf")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        warnings(&w),
        [
            "3: unknown key `heartbeet` in the global section: ignored",
            "4: rsh_command is ignored: rvs neither copies lvs.cf to the backup nor reads the real servers' load",
            "9: unknown key `persistant` in a `virtual` block: ignored",
            "10: `010` is read as octal (8), as piranha reads it",
            "14: unknown key `wieght` in a `server` block: ignored",
            "16: server b has no `active = 1`: piranha does not start it",
        ]
    );
    assert_eq!(w[0].hint.as_deref(), Some("did you mean `heartbeat`?"));
    assert_eq!(w[2].hint.as_deref(), Some("did you mean `persistent`?"));
    assert_eq!(w[4].hint.as_deref(), Some("did you mean `weight`?"));
    assert_eq!(w[0].to_string(), "lvs.cf:3: warning: unknown key `heartbeet` in the global section: ignored\n  hint: did you mean `heartbeat`?");
    let vs = &config.virtual_servers[0];
    assert_eq!((vs.service.flags.persistent, vs.service.timeout), (true, 8));
    assert_eq!(vs.reals.len(), 1);
    assert_eq!(vs.reals[0].dest.port, 8080, "a server's port defaults to the virtual's");
    assert_eq!(vs.reals[0].checks[0].kind, CheckKind::Tcp, "not port 80: a connect");
}

#[test]
fn the_format_is_detected_and_loaded() {
    let loaded = rvs_config::load(&fixture("udp.cf")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.format, Format::Piranha, "serial_no-less files start with `primary =`");
    let loaded = rvs_config::load(&fixture("seed002-nat-garbled.cf"));
    assert!(loaded.is_err());
}
