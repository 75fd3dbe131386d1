//! The TOML file as serde reads it (every table refuses keys it does not know), and its
//! conversion into rvs's model with the checks TOML's types cannot make.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, Config, DnsQueryType, ExpectPattern, FileCheck, HttpCheck,
    MiscCheck, RealServer, StatusCodes, TlsOptions, UdpCheck, UrlCheck, VirtualServer, VrrpAuth,
    VrrpInstance, VrrpScript, VrrpState, VrrpVersion,
};
use rvs_core::model::{
    DestSpec, ForwardMethod, MarkRule, Netmask, PeName, SchedFlags, SchedulerName, ServiceFlags, ServiceKey,
    ServiceSpec, TimeoutUpdate, TunnelCsum, TunnelKind, TunnelSpec, Weight,
};
use serde::Deserialize;
use toml::Spanned;

use super::values::{
    DestText, Digest, Dur, Forward, HexBytes, HttpVersionText, MaskValue, ReplyValue, SchedFlag, ScriptValue,
    ServiceText, SorryValue, StatusText, VipText,
};

/// A problem found after serde: where (a byte range of the text) and what.
pub(super) struct Problem {
    pub span: std::ops::Range<usize>,
    pub message: String,
    pub hint: Option<String>,
    pub warning: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    router_id: Option<String>,
    #[serde(default)]
    marks: Vec<Spanned<String>>,
    timeouts: Option<RawTimeouts>,
    sync_daemon: Option<RawSyncDaemon>,
    #[serde(default)]
    virtual_server: Vec<Spanned<RawVirtual>>,
    #[serde(default)]
    vrrp_instance: Vec<Spanned<RawInstance>>,
    #[serde(default)]
    vrrp_script: Vec<Spanned<RawScript>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyncDaemon {
    interface: String,
    instance: Option<String>,
    #[serde(default)]
    syncid: u8,
    port: Option<u16>,
    ttl: Option<u8>,
    group: Option<IpAddr>,
    maxlen: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    #[serde(default)]
    tcp: u32,
    #[serde(default)]
    tcp_fin: u32,
    #[serde(default)]
    udp: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVirtual {
    service: ServiceText,
    scheduler: Option<SchedulerName>,
    persistent: Option<bool>,
    persistence: Option<u32>,
    persistence_mask: Option<MaskValue>,
    persistence_engine: Option<PeName>,
    #[serde(default)]
    one_packet: bool,
    #[serde(default)]
    sched_flags: Vec<SchedFlag>,
    forward: Option<Forward>,
    quorum: Option<u32>,
    #[serde(default)]
    hysteresis: u32,
    quorum_up: Option<ScriptValue>,
    quorum_down: Option<ScriptValue>,
    sorry_server: Option<SorryValue>,
    #[serde(default)]
    sorry_server_inhibit: bool,
    #[serde(default)]
    alpha: bool,
    #[serde(default)]
    omega: bool,
    #[serde(default = "yes")]
    enabled: bool,
    check: Option<Vec<Spanned<RawCheck>>>,
    #[serde(default)]
    real: Vec<Spanned<RawReal>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReal {
    address: DestText,
    weight: Option<Weight>,
    forward: Option<Forward>,
    #[serde(default)]
    u_threshold: u32,
    #[serde(default)]
    l_threshold: u32,
    tunnel: Option<RawTunnel>,
    #[serde(default)]
    inhibit_on_failure: bool,
    notify_up: Option<ScriptValue>,
    notify_down: Option<ScriptValue>,
    #[serde(default)]
    slow_start: bool,
    #[serde(default = "yes")]
    enabled: bool,
    check: Option<Vec<Spanned<RawCheck>>>,
}

/// serde's default of `enabled`.
fn yes() -> bool {
    true
}

/// A sorry server written as a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSorry {
    address: DestText,
    weight: Option<Weight>,
    forward: Option<Forward>,
    #[serde(default)]
    u_threshold: u32,
    #[serde(default)]
    l_threshold: u32,
    tunnel: Option<RawTunnel>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTunnel {
    #[serde(rename = "type", default)]
    kind: TunnelKind,
    #[serde(default)]
    port: u16,
    #[serde(default)]
    csum: TunnelCsum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CheckType {
    Tcp,
    Http,
    Https,
    SendExpect,
    Smtp,
    Dns,
    Udp,
    Ping,
    Misc,
    File,
}

impl CheckType {
    fn name(self) -> &'static str {
        match self {
            CheckType::Tcp => "tcp",
            CheckType::Http => "http",
            CheckType::Https => "https",
            CheckType::SendExpect => "send_expect",
            CheckType::Smtp => "smtp",
            CheckType::Dns => "dns",
            CheckType::Udp => "udp",
            CheckType::Ping => "ping",
            CheckType::Misc => "misc",
            CheckType::File => "file",
        }
    }

    /// The keys of this type, beyond `type`, the timing and the target.
    fn keys(self) -> &'static [&'static str] {
        match self {
            CheckType::Tcp | CheckType::Ping => &[],
            CheckType::Http => &["url", "virtualhost", "http_version"],
            CheckType::Https => &["url", "virtualhost", "http_version", "sni", "sni_name"],
            CheckType::SendExpect => &["send", "send_hex", "expect", "expect_hex", "expect_regex"],
            CheckType::Smtp => &["helo_name"],
            CheckType::Dns => &["query_type", "name"],
            CheckType::Udp => &["payload", "payload_hex", "require_reply", "min_reply_length", "max_reply_length"],
            CheckType::Misc => &["script", "timeout", "dynamic", "user"],
            CheckType::File => &["path", "weight", "reverse", "dynamic"],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    #[serde(rename = "type")]
    kind: CheckType,
    connect_timeout: Option<Dur>,
    retry: Option<u32>,
    delay_before_retry: Option<Dur>,
    delay_loop: Option<Dur>,
    warmup: Option<Dur>,
    reentry: Option<Dur>,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bind_ip: Option<IpAddr>,
    bind_port: Option<u16>,
    url: Option<Vec<RawUrl>>,
    virtualhost: Option<String>,
    http_version: Option<HttpVersionText>,
    sni: Option<bool>,
    sni_name: Option<String>,
    send: Option<String>,
    send_hex: Option<HexBytes>,
    expect: Option<String>,
    expect_hex: Option<HexBytes>,
    expect_regex: Option<String>,
    helo_name: Option<String>,
    query_type: Option<String>,
    name: Option<String>,
    payload: Option<String>,
    payload_hex: Option<HexBytes>,
    require_reply: Option<ReplyValue>,
    min_reply_length: Option<usize>,
    max_reply_length: Option<usize>,
    script: Option<ScriptValue>,
    timeout: Option<Dur>,
    dynamic: Option<bool>,
    user: Option<String>,
    path: Option<PathBuf>,
    weight: Option<i32>,
    reverse: Option<bool>,
}

impl RawCheck {
    /// The type-specific keys present.
    fn present(&self) -> Vec<&'static str> {
        let keys = [
            ("url", self.url.is_some()),
            ("virtualhost", self.virtualhost.is_some()),
            ("http_version", self.http_version.is_some()),
            ("sni", self.sni.is_some()),
            ("sni_name", self.sni_name.is_some()),
            ("send", self.send.is_some()),
            ("send_hex", self.send_hex.is_some()),
            ("expect", self.expect.is_some()),
            ("expect_hex", self.expect_hex.is_some()),
            ("expect_regex", self.expect_regex.is_some()),
            ("helo_name", self.helo_name.is_some()),
            ("query_type", self.query_type.is_some()),
            ("name", self.name.is_some()),
            ("payload", self.payload.is_some()),
            ("payload_hex", self.payload_hex.is_some()),
            ("require_reply", self.require_reply.is_some()),
            ("min_reply_length", self.min_reply_length.is_some()),
            ("max_reply_length", self.max_reply_length.is_some()),
            ("script", self.script.is_some()),
            ("timeout", self.timeout.is_some()),
            ("dynamic", self.dynamic.is_some()),
            ("user", self.user.is_some()),
            ("path", self.path.is_some()),
            ("weight", self.weight.is_some()),
            ("reverse", self.reverse.is_some()),
        ];
        keys.into_iter().filter(|(_, set)| *set).map(|(k, _)| k).collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUrl {
    path: String,
    status: Option<StatusText>,
    digest: Option<Digest>,
    regex: Option<String>,
    #[serde(default)]
    regex_no_match: bool,
    virtualhost: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StateText {
    Master,
    Backup,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    name: String,
    state: Option<StateText>,
    interface: String,
    virtual_router_id: u8,
    priority: Option<u8>,
    advert_int: Option<Dur>,
    version: Option<u8>,
    preempt: Option<bool>,
    preempt_delay: Option<Dur>,
    #[serde(default)]
    virtual_ipaddress: Vec<VipText>,
    unicast_src_ip: Option<IpAddr>,
    #[serde(default)]
    unicast_peer: Vec<IpAddr>,
    auth_pass: Option<String>,
    #[serde(default)]
    track_interface: Vec<String>,
    #[serde(default)]
    track_script: Vec<String>,
    notify_master: Option<ScriptValue>,
    notify_backup: Option<ScriptValue>,
    notify_fault: Option<ScriptValue>,
    notify: Option<ScriptValue>,
    garp_master_delay: Option<Dur>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh: Option<Dur>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    name: String,
    script: ScriptValue,
    interval: Option<Dur>,
    timeout: Option<Dur>,
    #[serde(default)]
    weight: i32,
    rise: Option<u32>,
    fall: Option<u32>,
}

/// The default forwarding method of the format (ipvsadm's).
pub(super) const DEFAULT_FORWARD: ForwardMethod = ForwardMethod::Route;
/// `persistent = true` without `persistence` (ipvsadm's `-p`).
pub(super) const DEFAULT_PERSISTENCE: u32 = 300;
/// `vrrp_script` defaults (keepalived's).
pub(super) const SCRIPT_INTERVAL: Duration = Duration::from_secs(1);
/// DNS check name and SMTP HELO name when none is given.
pub(super) const DNS_NAME: &str = ".";
pub(super) const HELO_NAME: &str = "localhost";
pub(super) const MAX_REPLY_LENGTH: usize = 255;

/// Builds the model; problems that refuse the file or are worth a warning go to `out`.
pub(super) fn convert(raw: RawConfig, out: &mut Vec<Problem>) -> Config {
    let mut marks = Vec::new();
    for m in raw.marks {
        match m.get_ref().parse::<MarkRule>() {
            Ok(rule) => marks.push(rule),
            Err(e) => out.push(error(m.span(), format!("mark rule `{}`: {e}", m.get_ref()), None)),
        }
    }
    let mut config = Config {
        router_id: raw.router_id,
        marks,
        timeouts: raw.timeouts.map(|t| TimeoutUpdate { tcp: t.tcp, tcp_fin: t.tcp_fin, udp: t.udp }),
        sync_daemon: raw.sync_daemon.map(|s| rvs_core::config::SyncDaemonSpec {
            interface: s.interface,
            instance: s.instance,
            syncid: s.syncid,
            port: s.port,
            ttl: s.ttl,
            group: s.group,
            maxlen: s.maxlen,
        }),
        ..Config::default()
    };
    for v in raw.virtual_server {
        let span = v.span();
        let vs = virtual_server(v.into_inner(), out);
        if config.virtual_servers.iter().any(|o| o.service.key == vs.service.key) {
            out.push(error(span, format!("service {} is given twice", vs.service.key), None));
        }
        config.virtual_servers.push(vs);
    }
    for s in raw.vrrp_script {
        let span = s.span();
        let s = s.into_inner();
        if config.vrrp_scripts.iter().any(|o| o.name == s.name) {
            out.push(error(span.clone(), format!("vrrp_script `{}` is given twice", s.name), None));
        }
        if !(-253..=253).contains(&s.weight) {
            out.push(error(span, format!("vrrp_script `{}`: weight {} is outside -253..253", s.name, s.weight), None));
        }
        config.vrrp_scripts.push(VrrpScript {
            name: s.name,
            script: s.script.0,
            interval: s.interval.map_or(SCRIPT_INTERVAL, |d| d.0),
            timeout: s.timeout.map(|d| d.0),
            weight: s.weight,
            rise: s.rise.unwrap_or(1),
            fall: s.fall.unwrap_or(1),
        });
    }
    for i in raw.vrrp_instance {
        let span = i.span();
        let instance = vrrp_instance(i.into_inner(), span.clone(), out);
        if config.vrrp.iter().any(|o| o.name == instance.name) {
            out.push(error(span.clone(), format!("vrrp_instance `{}` is given twice", instance.name), None));
        }
        for t in &instance.track_script {
            if !config.vrrp_scripts.iter().any(|s| s.name == *t) {
                out.push(Problem {
                    span: span.clone(),
                    message: format!("vrrp_instance `{}` tracks `{t}`, which no vrrp_script defines", instance.name),
                    hint: None,
                    warning: true,
                });
            }
        }
        config.vrrp.push(instance);
    }
    config
}

fn error(span: std::ops::Range<usize>, message: String, hint: Option<String>) -> Problem {
    Problem { span, message, hint, warning: false }
}

fn virtual_server(v: RawVirtual, out: &mut Vec<Problem>) -> VirtualServer {
    let key = v.service.0;
    let persistent = v.persistent.unwrap_or(v.persistence.is_some());
    let sched = v.sched_flags.iter().fold(SchedFlags::EMPTY, |f, s| f.union(s.0));
    let service = ServiceSpec {
        key,
        scheduler: v.scheduler.unwrap_or_else(SchedulerName::wlc),
        flags: ServiceFlags { persistent, one_packet: v.one_packet, sched },
        timeout: v.persistence.unwrap_or(if persistent { DEFAULT_PERSISTENCE } else { 0 }),
        netmask: v.persistence_mask.map_or(Netmask::full(key.af()), |m| m.0),
        pe: v.persistence_engine,
    };
    let fwd = v.forward.map_or(DEFAULT_FORWARD, |f| f.0);
    let shared: Option<Vec<Check>> = v.check.map(|c| c.into_iter().filter_map(|c| check(c, out)).collect());
    let mut reals: Vec<RealServer> = Vec::new();
    for r in v.real {
        let span = r.span();
        let r = r.into_inner();
        let dest = dest(&key, r.address, r.weight, r.forward.map_or(fwd, |f| f.0), r.u_threshold, r.l_threshold, r.tunnel);
        if dest.af() != key.af() && dest.fwd != ForwardMethod::Tunnel {
            out.push(error(
                span.clone(),
                format!("real server {} is not of the family of service {key}", dest.addr),
                Some("IPVS mixes IPv4 and IPv6 only for tunnelled real servers (`forward = \"tun\"`)".to_owned()),
            ));
        }
        if reals.iter().any(|o| o.dest.dest_addr() == dest.dest_addr()) {
            out.push(error(span, format!("real server {} is given twice in service {key}", dest.addr), None));
        }
        let checks = match r.check {
            Some(c) => c.into_iter().filter_map(|c| check(c, out)).collect(),
            None => shared.clone().unwrap_or_default(),
        };
        reals.push(RealServer {
            dest,
            checks,
            inhibit_on_failure: r.inhibit_on_failure,
            notify_up: r.notify_up.map(|s| s.0),
            notify_down: r.notify_down.map(|s| s.0),
            slow_start: r.slow_start,
            enabled: r.enabled,
        });
    }
    let sorry_server = v.sorry_server.map(|s| match s {
        SorryValue::Address(a) => dest(&key, a, None, fwd, 0, 0, None),
        SorryValue::Table(t) => dest(&key, t.address, t.weight, t.forward.map_or(fwd, |f| f.0), t.u_threshold, t.l_threshold, t.tunnel),
    });
    VirtualServer {
        service,
        reals,
        quorum: v.quorum.unwrap_or(1),
        hysteresis: v.hysteresis,
        quorum_up: v.quorum_up.map(|s| s.0),
        quorum_down: v.quorum_down.map(|s| s.0),
        sorry_server,
        sorry_server_inhibit: v.sorry_server_inhibit,
        alpha: v.alpha,
        omega: v.omega,
        enabled: v.enabled,
    }
}

#[allow(clippy::too_many_arguments)]
fn dest(
    key: &ServiceKey,
    address: DestText,
    weight: Option<Weight>,
    fwd: ForwardMethod,
    u_threshold: u32,
    l_threshold: u32,
    tunnel: Option<RawTunnel>,
) -> DestSpec {
    DestSpec {
        addr: address.0,
        port: address.1.unwrap_or(key.port()),
        fwd,
        weight: weight.unwrap_or(Weight::new(1).unwrap_or_default()),
        u_threshold,
        l_threshold,
        tunnel: tunnel.map_or_else(TunnelSpec::default, |t| TunnelSpec { kind: t.kind, port: t.port, csum: t.csum }),
    }
}

fn check(c: Spanned<RawCheck>, out: &mut Vec<Problem>) -> Option<Check> {
    let span = c.span();
    let c = c.into_inner();
    let allowed = c.kind.keys();
    if let Some(stray) = c.present().into_iter().find(|k| !allowed.contains(k)) {
        let takes = if allowed.is_empty() {
            "only the timing and target keys".to_owned()
        } else {
            allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        };
        out.push(error(
            span,
            format!("`{stray}` does not apply to a `{}` check", c.kind.name()),
            Some(format!("a `{}` check takes {takes}", c.kind.name())),
        ));
        return None;
    }
    let mut bad = |message: String| {
        out.push(error(span.clone(), message, None));
    };
    let text_or_hex = |text: Option<String>, hex: Option<HexBytes>| text.map(String::into_bytes).or(hex.map(|h| h.0));
    if (c.send.is_some() && c.send_hex.is_some()) || (c.payload.is_some() && c.payload_hex.is_some()) {
        bad("give the bytes as text or as hex, not both".to_owned());
        return None;
    }
    if [c.expect.is_some(), c.expect_hex.is_some(), c.expect_regex.is_some()].iter().filter(|x| **x).count() > 1 {
        bad("give one of `expect`, `expect_hex` and `expect_regex`".to_owned());
        return None;
    }
    let kind = match c.kind {
        CheckType::Tcp => CheckKind::Tcp,
        CheckType::Ping => CheckKind::Ping,
        CheckType::Http | CheckType::Https => CheckKind::Http(HttpCheck {
            urls: c
                .url
                .unwrap_or_default()
                .into_iter()
                .map(|u| UrlCheck {
                    path: u.path,
                    status: u.status.map_or_else(StatusCodes::success, |s| s.0),
                    digest: u.digest.map(|d| d.0),
                    regex: u.regex,
                    regex_no_match: u.regex_no_match,
                    virtualhost: u.virtualhost,
                })
                .collect(),
            virtualhost: c.virtualhost,
            version: c.http_version.map(|v| v.0).unwrap_or_default(),
            tls: (c.kind == CheckType::Https)
                .then(|| TlsOptions { enable_sni: c.sni.unwrap_or(false), sni_name: c.sni_name }),
        }),
        CheckType::SendExpect => CheckKind::SendExpect {
            send: text_or_hex(c.send, c.send_hex).unwrap_or_default(),
            expect: match (text_or_hex(c.expect, c.expect_hex), c.expect_regex) {
                (Some(bytes), _) => ExpectPattern::Prefix(bytes),
                (None, Some(re)) => ExpectPattern::Regex(re),
                (None, None) => ExpectPattern::Any,
            },
        },
        CheckType::Smtp => CheckKind::Smtp { helo_name: c.helo_name.unwrap_or_else(|| HELO_NAME.to_owned()) },
        CheckType::Dns => {
            let qtype = match c.query_type {
                None => DnsQueryType::default(),
                Some(t) => match DnsQueryType::from_name(&t) {
                    Some(q) => q,
                    None => {
                        bad(format!("unknown DNS query type `{t}`: A, NS, CNAME, SOA, MX, TXT or AAAA"));
                        return None;
                    }
                },
            };
            CheckKind::Dns { qtype, name: c.name.unwrap_or_else(|| DNS_NAME.to_owned()) }
        }
        CheckType::Udp => CheckKind::Udp(UdpCheck {
            payload: text_or_hex(c.payload, c.payload_hex).unwrap_or_default(),
            require_reply: c.require_reply.and_then(|r| r.0),
            min_reply_length: c.min_reply_length.unwrap_or(0),
            max_reply_length: c.max_reply_length.unwrap_or(MAX_REPLY_LENGTH),
        }),
        CheckType::Misc => {
            let Some(script) = c.script else {
                bad("a `misc` check needs `script`".to_owned());
                return None;
            };
            CheckKind::Misc(MiscCheck {
                script: script.0,
                timeout: c.timeout.map(|d| d.0),
                dynamic: c.dynamic.unwrap_or(false),
                user: c.user,
            })
        }
        CheckType::File => {
            let Some(path) = c.path else {
                bad("a `file` check needs `path`".to_owned());
                return None;
            };
            CheckKind::File(FileCheck {
                path,
                multiplier: c.weight.unwrap_or(0),
                reverse: c.reverse.unwrap_or(false),
                dynamic: c.dynamic.unwrap_or(false),
            })
        }
    };
    let d = CheckTiming::keepalived_default(&kind);
    let timing = CheckTiming {
        connect_timeout: c.connect_timeout.map_or(d.connect_timeout, |x| x.0),
        retry: c.retry.unwrap_or(d.retry),
        delay_before_retry: c.delay_before_retry.map_or(d.delay_before_retry, |x| x.0),
        delay_loop: c.delay_loop.map_or(d.delay_loop, |x| x.0),
        warmup: c.warmup.map_or(d.warmup, |x| x.0),
        reentry: c.reentry.map_or(d.reentry, |x| x.0),
    };
    let target = CheckTarget { ip: c.connect_ip, port: c.connect_port, bind_ip: c.bind_ip, bind_port: c.bind_port };
    Some(Check { kind, timing, target })
}

fn vrrp_instance(i: RawInstance, span: std::ops::Range<usize>, out: &mut Vec<Problem>) -> VrrpInstance {
    let mut bad = |message: String| out.push(error(span.clone(), message, None));
    if i.virtual_router_id == 0 {
        bad(format!("vrrp_instance `{}`: virtual_router_id is 1 to 255", i.name));
    }
    if i.priority == Some(0) {
        bad(format!("vrrp_instance `{}`: priority is 1 to 255", i.name));
    }
    let version = match i.version {
        None | Some(2) => VrrpVersion::V2,
        Some(3) => VrrpVersion::V3,
        Some(v) => {
            bad(format!("vrrp_instance `{}`: version {v}: VRRP versions are 2 and 3", i.name));
            VrrpVersion::V2
        }
    };
    let mut x = VrrpInstance::new(i.name, i.interface, i.virtual_router_id);
    x.state = match i.state {
        Some(StateText::Master) => VrrpState::Master,
        Some(StateText::Backup) | None => VrrpState::Backup,
    };
    x.priority = i.priority.unwrap_or(x.priority);
    x.advert_int = i.advert_int.map_or(x.advert_int, |d| d.0);
    x.version = version;
    x.preempt = i.preempt.unwrap_or(x.preempt);
    x.preempt_delay = i.preempt_delay.map_or(x.preempt_delay, |d| d.0);
    x.virtual_ipaddress = i.virtual_ipaddress.into_iter().map(|v| v.0).collect();
    x.unicast_src_ip = i.unicast_src_ip;
    x.unicast_peer = i.unicast_peer;
    x.authentication = i.auth_pass.map(VrrpAuth::Pass);
    x.track_interface = i.track_interface;
    x.track_script = i.track_script;
    x.notify_master = i.notify_master.map(|s| s.0);
    x.notify_backup = i.notify_backup.map(|s| s.0);
    x.notify_fault = i.notify_fault.map(|s| s.0);
    x.notify = i.notify.map(|s| s.0);
    x.garp_master_delay = i.garp_master_delay.map_or(x.garp_master_delay, |d| d.0);
    x.garp_master_repeat = i.garp_master_repeat.unwrap_or(x.garp_master_repeat);
    x.garp_master_refresh = i.garp_master_refresh.map_or(x.garp_master_refresh, |d| d.0);
    x
}
