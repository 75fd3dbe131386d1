//! `virtual_server` and `real_server` blocks (`check/check_parser.c`, `check/check_data.c`
//! `alloc_vs`/`alloc_rs`), read as stated; [`super::service`] makes them virtual servers once
//! the whole file is read.

use std::net::IpAddr;

use rvs_core::config::Script;
use rvs_core::model::{
    AddressFamily, ForwardMethod, Fwmark, PeName, Protocol, SchedFlags, SchedulerName, TunnelCsum, TunnelKind,
    TunnelSpec, Weight,
};

use super::checkers::{self, CheckDraft, Timing};
use super::context::After;
use super::tree::Node;
use super::{Ctx, Draft, Pos};

/// A forwarding method with its tunnel settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fwd {
    pub method: ForwardMethod,
    pub tunnel: TunnelSpec,
}

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// Address and port (0: none).
    Addr(IpAddr, u16),
    Fwmark(Fwmark),
    Group(String),
}

/// A `virtual_server` block as stated.
#[derive(Debug, Clone)]
pub(super) struct VsDraft {
    pub target: Target,
    pub pos: Pos,
    pub scheduler: Option<SchedulerName>,
    pub flags: SchedFlags,
    /// `sh-*`/`mh-*` flags, checked against the scheduler at the end.
    pub sched_flags: Vec<(String, Pos)>,
    pub ops: Option<Pos>,
    pub fwd: Option<Fwd>,
    pub persistence: Option<u32>,
    pub granularity: Option<(String, Pos)>,
    pub pe: Option<PeName>,
    pub protocol: Option<(Protocol, Pos)>,
    pub family: Option<AddressFamily>,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    pub sorry: Option<Sorry>,
    pub sorry_inhibit: Option<Pos>,
    pub alpha: bool,
    pub omega: bool,
    pub virtualhost: Option<String>,
    pub timing: Timing,
    pub inhibit: bool,
    pub weight: Weight,
    pub reals: Vec<RsDraft>,
}

#[derive(Debug, Clone)]
pub(super) struct Sorry {
    pub ip: IpAddr,
    pub port: u16,
    pub fwd: Option<Fwd>,
    pub pos: Pos,
}

/// A `real_server` block as stated.
#[derive(Debug, Clone)]
pub(super) struct RsDraft {
    pub ip: IpAddr,
    pub port: u16,
    pub pos: Pos,
    pub weight: Option<Weight>,
    pub fwd: Option<Fwd>,
    pub inhibit: Option<bool>,
    pub alpha: Option<(bool, Pos)>,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub virtualhost: Option<String>,
    pub timing: Timing,
    pub checks: Vec<CheckDraft>,
}

const VS: &[&str] = &[
    "ip_family",
    "retry",
    "delay_before_retry",
    "warmup",
    "connect_timeout",
    "delay_loop",
    "inhibit_on_failure",
    "lb_algo",
    "lvs_sched",
    "hashed",
    "ops",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
    "lb_kind",
    "lvs_method",
    "persistence_engine",
    "persistence_timeout",
    "persistence_granularity",
    "protocol",
    "ha_suspend",
    "smtp_alert",
    "virtualhost",
    "snmp_name",
    "alpha",
    "omega",
    "quorum_up",
    "quorum_down",
    "quorum",
    "hysteresis",
    "weight",
    "sorry_server",
    "sorry_server_inhibit",
    "sorry_server_lvs_method",
];

const RS: &[&str] = &[
    "weight",
    "lvs_method",
    "uthreshold",
    "lthreshold",
    "inhibit_on_failure",
    "notify_up",
    "notify_down",
    "alpha",
    "retry",
    "delay_before_retry",
    "warmup",
    "connect_timeout",
    "delay_loop",
    "smtp_alert",
    "virtualhost",
    "snmp_name",
];

/// keepalived's `IPVS_SVC_PERSISTENT_TIMEOUT`: 6 minutes.
pub(super) const PERSISTENCE_DEFAULT: u32 = 360;
/// keepalived's `LVS_MAX_TIMEOUT`.
const PERSISTENCE_MAX: u64 = 86400 * 31;

pub(super) fn virtual_server(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    let Some(target) = target(node, ctx) else { return };
    ctx.extra(node, 3);
    if !ctx.need_block(node) {
        return;
    }
    let mut d = VsDraft {
        target,
        pos: node.pos(),
        scheduler: None,
        flags: SchedFlags::EMPTY,
        sched_flags: Vec::new(),
        ops: None,
        fwd: None,
        persistence: None,
        granularity: None,
        pe: None,
        protocol: None,
        family: None,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry: None,
        sorry_inhibit: None,
        alpha: false,
        omega: false,
        virtualhost: None,
        timing: Timing::default(),
        inhibit: false,
        weight: Weight::new(1).unwrap_or_default(),
        reals: Vec::new(),
    };
    for n in node.children() {
        let kw = n.keyword();
        if VS.contains(&kw) {
            ctx.no_block(n);
        }
        if d.timing.read(n, 1, ctx) {
            continue;
        }
        match kw {
            "real_server" => {
                if let Some(rs) = real_server(n, ctx) {
                    d.reals.push(rs);
                }
            }
            "lvs_sched" | "lb_algo" => match ctx.value(n, 1).map(|s| (s, SchedulerName::new(s))) {
                Some((_, Ok(s))) => d.scheduler = Some(s),
                Some((s, Err(_))) => ctx.error(n.words[1].pos, format!("scheduler name `{s}` is longer than 15 characters"), None),
                None => {}
            },
            "ops" => d.ops = Some(n.pos()),
            "flag-1" => d.flags = d.flags.union(SchedFlags::FLAG_1),
            "flag-2" => d.flags = d.flags.union(SchedFlags::FLAG_2),
            "flag-3" => d.flags = d.flags.union(SchedFlags::FLAG_3),
            "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" => d.sched_flags.push((kw.to_owned(), n.pos())),
            "hashed" | "snmp_name" => {}
            "lvs_method" | "lb_kind" => d.fwd = forwarding(n, ctx).or(d.fwd),
            "persistence_timeout" => {
                d.persistence = match n.word(1) {
                    None => Some(PERSISTENCE_DEFAULT),
                    Some(_) => ctx.number(n, 1, 1, PERSISTENCE_MAX).map(|t| t as u32).or(d.persistence),
                }
            }
            "persistence_granularity" => d.granularity = ctx.value(n, 1).map(|g| (g.to_owned(), n.words[1].pos)),
            "persistence_engine" => match ctx.value(n, 1).map(|s| (s, PeName::new(s))) {
                Some((_, Ok(pe))) => d.pe = Some(pe),
                Some((s, Err(_))) => ctx.error(n.words[1].pos, format!("persistence engine name `{s}` is longer than 15 characters"), None),
                None => {}
            },
            "protocol" => match ctx.value(n, 1).map(str::to_ascii_uppercase).as_deref() {
                Some("TCP") => d.protocol = Some((Protocol::Tcp, n.pos())),
                Some("UDP") => d.protocol = Some((Protocol::Udp, n.pos())),
                Some("SCTP") => d.protocol = Some((Protocol::Sctp, n.pos())),
                Some(_) => ctx.error(n.words[1].pos, format!("unknown protocol `{}`", n.words[1].text), Some("TCP, UDP or SCTP".into())),
                None => {}
            },
            "ip_family" => match ctx.value(n, 1) {
                Some("inet") => d.family = Some(AddressFamily::Inet),
                Some("inet6") => d.family = Some(AddressFamily::Inet6),
                Some(f) => ctx.error(n.words[1].pos, format!("unknown address family `{f}`"), Some("`inet` or `inet6`".into())),
                None => {}
            },
            "ha_suspend" => ctx.ignored(n, "is not supported by rvs: checks run whether or not the address is local (ignored)"),
            "smtp_alert" => ctx.ignored(n, "is not supported: rvs sends no email (ignored)"),
            "virtualhost" => d.virtualhost = ctx.value(n, 1).map(str::to_owned),
            "alpha" => d.alpha = true,
            "omega" => d.omega = true,
            "quorum" => d.quorum = ctx.number(n, 1, 1, u64::from(u32::MAX)).map_or(d.quorum, |q| q as u32),
            "hysteresis" => d.hysteresis = ctx.number(n, 1, 0, u64::from(u32::MAX)).map_or(d.hysteresis, |h| h as u32),
            "quorum_up" => d.quorum_up = ctx.script(n, After::User),
            "quorum_down" => d.quorum_down = ctx.script(n, After::User),
            "weight" => d.weight = weight(n, 1, ctx).unwrap_or(d.weight),
            "inhibit_on_failure" => d.inhibit = true,
            "sorry_server" => {
                let fwd = d.sorry.as_ref().and_then(|s| s.fwd);
                d.sorry = address(n, ctx).map(|(ip, port)| Sorry { ip, port, fwd, pos: n.pos() });
            }
            "sorry_server_inhibit" => d.sorry_inhibit = Some(n.pos()),
            "sorry_server_lvs_method" => match &mut d.sorry {
                Some(s) => s.fwd = forwarding(n, ctx).or(s.fwd),
                None => ctx.warn(n.pos(), "`sorry_server_lvs_method` without a `sorry_server` before it (ignored)", None),
            },
            _ if checkers::KINDS.contains(&kw) => {
                ctx.error(n.pos(), format!("`{kw}` is not allowed in `virtual_server`"), Some(format!("`{kw}` belongs in a `real_server` block")));
            }
            _ => ctx.unknown(n, &[VS, &["real_server"]].concat(), "`virtual_server`"),
        }
    }
    draft.servers.push(d);
}

/// `IP [PORT]`, `fwmark N` or `group NAME`.
fn target(node: &Node, ctx: &mut Ctx) -> Option<Target> {
    match ctx.value(node, 1)? {
        "group" => Some(Target::Group(ctx.value(node, 2)?.to_owned())),
        "fwmark" => {
            let mark = ctx.number(node, 2, 0, u64::from(u32::MAX))?;
            let f = Fwmark::new(mark as u32);
            if f.is_none() {
                ctx.error(node.words[2].pos, "fwmark 0 names no service", Some("firewall marks start at 1".into()));
            }
            f.map(Target::Fwmark)
        }
        _ => address(node, ctx).map(|(ip, port)| Target::Addr(ip, port)),
    }
}

/// `IP [PORT]` after the keyword; port 0 or none: 0.
fn address(node: &Node, ctx: &mut Ctx) -> Option<(IpAddr, u16)> {
    let ip = ctx.ip(node, 1)?;
    let port = match node.word(2) {
        None => 0,
        Some(w) if w.text.bytes().all(|b| b == b'0') => 0,
        Some(w) => ctx.port_text(w.pos, &w.text)?,
    };
    Some((ip, port))
}

fn weight(n: &Node, min: u64, ctx: &mut Ctx) -> Option<Weight> {
    ctx.number(n, 1, min, u64::from(Weight::MAX)).and_then(|w| Weight::new(w as u32))
}

/// `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
fn forwarding(n: &Node, ctx: &mut Ctx) -> Option<Fwd> {
    let method = match ctx.value(n, 1)? {
        "NAT" => ForwardMethod::Masq,
        "DR" => ForwardMethod::Route,
        "TUN" => ForwardMethod::Tunnel,
        other => {
            let hint = Some("NAT, DR or TUN (in capitals)".to_owned());
            ctx.error(n.words[1].pos, format!("unknown `{}` `{other}`", n.keyword()), hint);
            return None;
        }
    };
    let mut tunnel = TunnelSpec::default();
    let mut i = 2;
    while let Some(w) = n.word(i) {
        match (w.text.as_str(), method) {
            ("type", ForwardMethod::Tunnel) => {
                tunnel.kind = match ctx.value(n, i + 1)? {
                    "ipip" => TunnelKind::Ipip,
                    "gue" => TunnelKind::Gue,
                    "gre" => TunnelKind::Gre,
                    t => {
                        ctx.error(n.words[i + 1].pos, format!("unknown tunnel type `{t}`"), Some("ipip, gue or gre".into()));
                        return None;
                    }
                };
                i += 1;
            }
            ("port", ForwardMethod::Tunnel) => {
                tunnel.port = ctx.port(n, i + 1)?;
                i += 1;
            }
            ("nocsum", ForwardMethod::Tunnel) => tunnel.csum = TunnelCsum::NoCsum,
            ("csum", ForwardMethod::Tunnel) => tunnel.csum = TunnelCsum::Csum,
            ("remcsum", ForwardMethod::Tunnel) => tunnel.csum = TunnelCsum::RemCsum,
            (o, _) => {
                ctx.error(w.pos, format!("unknown `{}` option `{o}`", n.keyword()), Some("TUN takes `type ipip|gue port N|gre` and `nocsum|csum|remcsum`".into()));
                return None;
            }
        }
        i += 1;
    }
    let bad = match (tunnel.kind, tunnel.port, tunnel.csum) {
        (TunnelKind::Gue, 0, _) => Some("a gue tunnel needs `port N`"),
        (TunnelKind::Ipip | TunnelKind::Gre, p, _) if p != 0 => Some("only gue tunnels take a port"),
        (TunnelKind::Ipip, _, c) if c != TunnelCsum::NoCsum => Some("ipip tunnels take no checksum option"),
        (TunnelKind::Gre, _, TunnelCsum::RemCsum) => Some("gre tunnels do not support remcsum"),
        _ => None,
    };
    if let Some(why) = bad {
        ctx.error(n.pos(), format!("`{}`: {why}", n.keyword()), None);
        return None;
    }
    Some(Fwd { method, tunnel })
}

fn real_server(node: &Node, ctx: &mut Ctx) -> Option<RsDraft> {
    let (ip, port) = address(node, ctx)?;
    ctx.extra(node, 3);
    let mut rs = RsDraft {
        ip,
        port,
        pos: node.pos(),
        weight: None,
        fwd: None,
        inhibit: None,
        alpha: None,
        notify_up: None,
        notify_down: None,
        u_threshold: 0,
        l_threshold: 0,
        virtualhost: None,
        timing: Timing::default(),
        checks: Vec::new(),
    };
    for n in node.children() {
        let kw = n.keyword();
        if RS.contains(&kw) {
            ctx.no_block(n);
        }
        if rs.timing.read(n, 1, ctx) {
            continue;
        }
        match kw {
            "weight" => rs.weight = weight(n, 0, ctx).or(rs.weight),
            "lvs_method" => rs.fwd = forwarding(n, ctx).or(rs.fwd),
            "uthreshold" => rs.u_threshold = ctx.number(n, 1, 0, u64::from(u32::MAX)).map_or(rs.u_threshold, |v| v as u32),
            "lthreshold" => rs.l_threshold = ctx.number(n, 1, 0, u64::from(u32::MAX)).map_or(rs.l_threshold, |v| v as u32),
            "inhibit_on_failure" => rs.inhibit = ctx.flag(n).or(rs.inhibit),
            "alpha" => rs.alpha = ctx.flag(n).map(|a| (a, n.pos())),
            "notify_up" => rs.notify_up = ctx.script(n, After::User),
            "notify_down" => rs.notify_down = ctx.script(n, After::User),
            "smtp_alert" => ctx.ignored(n, "is not supported: rvs sends no email (ignored)"),
            "virtualhost" => rs.virtualhost = ctx.value(n, 1).map(str::to_owned),
            "snmp_name" => {}
            _ if checkers::KINDS.contains(&kw) => {
                if let Some(c) = checkers::parse(n, ctx) {
                    rs.checks.push(c);
                }
            }
            _ => ctx.unknown(n, &[RS, checkers::KINDS].concat(), "`real_server`"),
        }
    }
    Some(rs)
}
