//! Health checkers of a `real_server` (`check/check_api.c` and `check_{tcp,http,smtp,dns,misc,
//! udp,ping,file}.c`), and the timing keywords a checker inherits from its real and virtual
//! server.

use std::time::Duration;

use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, DnsQueryType, FileCheck, HttpCheck, HttpVersion, MiscCheck,
    ReplyPattern, TlsOptions, UdpCheck,
};

use super::context::After;
use super::global::TrackFile;
use super::tree::Node;
use super::{Ctx, Pos, http, value};

/// The checker keywords.
pub(super) const KINDS: &[&str] = &[
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "SMTP_CHECK",
    "DNS_CHECK",
    "MISC_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "FILE_CHECK",
    "BFD_CHECK",
];

/// The timing keywords as written at one level (virtual server, real server or checker);
/// what is not written there comes from the level above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Timing {
    pub connect_timeout: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub warmup: Option<Duration>,
}

impl Timing {
    /// Reads `n` if it is a timing keyword; `retry_min` is keepalived's lowest `retry` at this
    /// level (1 for virtual and real servers, 0 for checkers).
    pub fn read(&mut self, n: &Node, retry_min: u64, ctx: &mut Ctx) -> bool {
        match n.keyword() {
            "connect_timeout" => self.connect_timeout = ctx.timer(n, 1, false).or(self.connect_timeout),
            "retry" | "nb_get_retry" => {
                if n.keyword() == "nb_get_retry" {
                    ctx.warn(n.pos(), "`nb_get_retry` is the old name of `retry`", Some("write `retry`".into()));
                }
                self.retry = ctx.number(n, 1, retry_min, u64::from(u32::MAX)).map(|r| r as u32).or(self.retry);
            }
            "delay_before_retry" => self.delay_before_retry = ctx.timer(n, 1, true).or(self.delay_before_retry),
            "delay_loop" => self.delay_loop = ctx.timer(n, 1, false).or(self.delay_loop),
            "warmup" => self.warmup = ctx.timer(n, 1, true).or(self.warmup),
            _ => return false,
        }
        ctx.extra(n, 2);
        true
    }

    /// This level's settings, and `above`'s where this level has none.
    pub fn over(self, above: Timing) -> Timing {
        Timing {
            connect_timeout: self.connect_timeout.or(above.connect_timeout),
            retry: self.retry.or(above.retry),
            delay_before_retry: self.delay_before_retry.or(above.delay_before_retry),
            delay_loop: self.delay_loop.or(above.delay_loop),
            warmup: self.warmup.or(above.warmup),
        }
    }
}

/// A checker as its block states it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CheckDraft {
    pub kind: CheckKind,
    pub timing: Timing,
    pub target: CheckTarget,
    /// `alpha` of this checker (rvs has it per virtual server only).
    pub alpha: Option<(bool, Pos)>,
    /// `FILE_CHECK`'s `track_file` name, resolved once the file is read.
    pub track_file: Option<(String, Pos)>,
    /// `FILE_CHECK`'s own `weight`, over the track_file's.
    pub file_weight: Option<(i32, bool)>,
    pub pos: Pos,
}

pub(super) const COMMON: &[&str] =
    &["retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures", "connect_timeout"];
pub(super) const CONNECTION: &[&str] = &["connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "fwmark"];
pub(super) const HTTP: &[&str] =
    &["nb_get_retry", "virtualhost", "http_protocol", "enable_sni", "sni_name", "fast_recovery", "tls_compliant", "url"];

/// Whether `k` is a checker keyword that takes no block.
fn scalar(k: &str) -> bool {
    const OTHERS: &[&str] = &[
        "helo_name",
        "type",
        "name",
        "misc_path",
        "misc_timeout",
        "misc_dynamic",
        "user",
        "payload",
        "require_reply",
        "min_reply_length",
        "max_reply_length",
        "track_file",
        "weight",
        "dynamic",
    ];
    [COMMON, CONNECTION, HTTP, OTHERS].iter().any(|l| l.contains(&k))
}

/// A checker block; `None` when it is refused or not supported.
pub(super) fn parse(node: &Node, ctx: &mut Ctx) -> Option<CheckDraft> {
    let kw = node.keyword();
    ctx.extra(node, 1);
    if kw == "BFD_CHECK" {
        ctx.warn(node.pos(), "`BFD_CHECK` is not supported by rvs: this check is skipped", None);
        return None;
    }
    let mut kind = match kw {
        "TCP_CHECK" => CheckKind::Tcp,
        "HTTP_GET" | "SSL_GET" => CheckKind::Http(HttpCheck {
            urls: Vec::new(),
            virtualhost: None,
            version: HttpVersion::Http10,
            tls: (kw == "SSL_GET").then(TlsOptions::default),
        }),
        "SMTP_CHECK" => CheckKind::Smtp { helo_name: "smtpchecker.keepalived.org".to_owned() },
        "DNS_CHECK" => CheckKind::Dns { qtype: DnsQueryType::Soa, name: ".".to_owned() },
        "MISC_CHECK" => CheckKind::Misc(MiscCheck {
            script: rvs_core::config::Script { argv: Vec::new() },
            timeout: None,
            dynamic: false,
            user: None,
        }),
        "UDP_CHECK" => CheckKind::Udp(UdpCheck { max_reply_length: 255, ..UdpCheck::default() }),
        "PING_CHECK" => CheckKind::Ping,
        _ => CheckKind::File(FileCheck { path: Default::default(), multiplier: 1, reverse: false, dynamic: false }),
    };
    let mut d = CheckDraft {
        kind: CheckKind::Tcp,
        timing: Timing::default(),
        target: CheckTarget::default(),
        alpha: None,
        track_file: None,
        file_weight: None,
        pos: node.pos(),
    };
    let connection = !matches!(kind, CheckKind::Misc(_) | CheckKind::File(_));
    let mut smtp_hosts = 0;
    for n in node.children() {
        let k = n.keyword();
        if k != "url" && k != "host" && scalar(k) {
            ctx.no_block(n);
        }
        if matches!(kind, CheckKind::File(_)) {
            file_keyword(n, &mut kind, &mut d, ctx);
            continue;
        }
        if connection && connection_keyword(n, &mut d.target, ctx) {
            continue;
        }
        if k == "connect_timeout" && !connection {
            ctx.unknown(n, &[], &format!("`{kw}`"));
            continue;
        }
        if d.timing.read(n, 0, ctx) {
            continue;
        }
        match (k, &mut kind) {
            ("alpha", _) => d.alpha = ctx.flag(n).map(|a| (a, n.pos())),
            ("log_all_failures", _) => {}
            (_, CheckKind::Http(h)) => http::keyword(n, h, ctx),
            ("helo_name", CheckKind::Smtp { helo_name }) => {
                if let Some(v) = ctx.value(n, 1) {
                    *helo_name = v.to_owned();
                }
            }
            ("host", CheckKind::Smtp { .. }) => {
                smtp_hosts += 1;
                if smtp_hosts > 1 {
                    let why = "rvs checks the first `host` of an SMTP_CHECK; write one SMTP_CHECK per host";
                    ctx.warn(n.pos(), format!("`host` block ignored: {why}"), None);
                    continue;
                }
                if d.target != CheckTarget::default() {
                    ctx.warn(n.pos(), "`host` block ignored: the SMTP_CHECK has its own connection options", None);
                    continue;
                }
                for h in n.children() {
                    if !connection_keyword(h, &mut d.target, ctx) && !d.timing.read(h, 0, ctx) {
                        ctx.unknown(h, CONNECTION, "`host`");
                    }
                }
            }
            ("type", CheckKind::Dns { qtype, .. }) => {
                if let Some(t) = ctx.value(n, 1) {
                    match DnsQueryType::from_name(t) {
                        Some(q) => *qtype = q,
                        None => ctx.error(n.words[1].pos, format!("unknown DNS_CHECK type `{t}`"), Some("A, NS, CNAME, SOA, MX, TXT or AAAA".into())),
                    }
                }
            }
            ("name", CheckKind::Dns { name, .. }) => {
                if let Some(v) = ctx.value(n, 1) {
                    if (v.starts_with('.') && v != ".") || v.contains("..") {
                        ctx.error(n.words[1].pos, format!("DNS_CHECK name `{v}` has an empty label"), None);
                    } else {
                        *name = v.to_owned();
                    }
                }
            }
            ("misc_path", CheckKind::Misc(m)) => {
                if let Some(s) = ctx.script(n, After::Nothing) {
                    m.script = s;
                }
            }
            ("misc_timeout", CheckKind::Misc(m)) => {
                m.timeout = ctx.number(n, 1, 0, u64::from(u32::MAX / 1_000_000)).map(Duration::from_secs);
            }
            ("misc_dynamic", CheckKind::Misc(m)) => m.dynamic = true,
            ("user", CheckKind::Misc(m)) => {
                m.user = ctx.value(n, 1).map(str::to_owned);
                if n.words.len() > 2 {
                    ctx.warn(n.words[2].pos, "MISC_CHECK `user`: the group is not supported by rvs (ignored)", None);
                }
            }
            ("payload", CheckKind::Udp(u)) => {
                if let Some(bytes) = hex_value(n, false, ctx) {
                    u.payload = bytes.into_iter().map(|(b, _)| b).collect();
                }
            }
            ("require_reply", CheckKind::Udp(u)) => {
                let pattern = match n.words.len() {
                    1 => Some(Vec::new()),
                    _ => hex_value(n, true, ctx).map(|bytes| reply_pattern(bytes, n, ctx)),
                };
                if let Some(p) = pattern {
                    u.require_reply = Some(ReplyPattern(p));
                }
            }
            ("min_reply_length", CheckKind::Udp(u)) => {
                u.min_reply_length = ctx.number(n, 1, 0, 65535).map_or(u.min_reply_length, |v| v as usize);
            }
            ("max_reply_length", CheckKind::Udp(u)) => {
                u.max_reply_length = ctx.number(n, 1, 0, 65535).map_or(u.max_reply_length, |v| v as usize);
            }
            _ => {
                let mut known: Vec<&str> = COMMON.to_vec();
                if connection {
                    known.extend(CONNECTION);
                }
                known.extend(match &kind {
                    CheckKind::Smtp { .. } => &["helo_name", "host"][..],
                    CheckKind::Dns { .. } => &["type", "name"],
                    CheckKind::Misc(_) => &["misc_path", "misc_timeout", "misc_dynamic", "user"],
                    CheckKind::Udp(_) => &["payload", "require_reply", "min_reply_length", "max_reply_length"],
                    _ => &[],
                });
                ctx.unknown(n, &known, &format!("`{kw}`"));
            }
        }
    }
    match &kind {
        CheckKind::Http(h) if h.urls.is_empty() => {
            ctx.error(node.pos(), format!("`{kw}` has no `url` block"), Some("url { path / }".into()));
            return None;
        }
        CheckKind::Misc(m) if m.script.argv.is_empty() => {
            ctx.error(node.pos(), "`MISC_CHECK` has no `misc_path`", None);
            return None;
        }
        CheckKind::Udp(u) if u.min_reply_length > u.max_reply_length => {
            let message = format!("UDP_CHECK: min_reply_length {} > max_reply_length {}: the check always fails", u.min_reply_length, u.max_reply_length);
            ctx.warn(node.pos(), message, None);
        }
        CheckKind::File(_) if d.track_file.is_none() => {
            ctx.error(node.pos(), "`FILE_CHECK` has no `track_file`", None);
            return None;
        }
        _ => {}
    }
    d.kind = kind;
    Some(d)
}

/// `connect_ip`, `connect_port`, `bindto`, `bind_port` (and the unsupported `bind_if`, `fwmark`).
fn connection_keyword(n: &Node, target: &mut CheckTarget, ctx: &mut Ctx) -> bool {
    match n.keyword() {
        "connect_ip" => target.ip = ctx.ip(n, 1).or(target.ip),
        "connect_port" => target.port = ctx.port(n, 1).or(target.port),
        "bindto" => target.bind_ip = ctx.ip(n, 1).or(target.bind_ip),
        "bind_port" => target.bind_port = ctx.port(n, 1).or(target.bind_port),
        "bind_if" | "fwmark" => ctx.ignored(n, "is not supported by rvs checks (ignored)"),
        _ => return false,
    }
    ctx.extra(n, 2);
    if let (Some(a), Some(b)) = (target.ip, target.bind_ip)
        && a.is_ipv4() != b.is_ipv4()
    {
        ctx.error(n.pos(), format!("`connect_ip` {a} and `bindto` {b} are of different address families"), None);
    }
    true
}

fn hex_value(n: &Node, wildcard: bool, ctx: &mut Ctx) -> Option<Vec<(u8, u8)>> {
    let text = n.rest();
    if text.is_empty() {
        ctx.value(n, 1);
        return None;
    }
    let bytes = value::hex(text, wildcard);
    if bytes.is_none() {
        let x = if wildcard { " (X for any 4 bits)" } else { "" };
        ctx.error(n.words[1].pos, format!("`{}`: `{text}` is not a hex string{x}", n.keyword()), None);
    }
    bytes
}

/// `require_reply`'s bytes: rvs matches whole bytes, so a byte with one wildcard digit
/// matches any byte (with a warning).
fn reply_pattern(bytes: Vec<(u8, u8)>, n: &Node, ctx: &mut Ctx) -> Vec<Option<u8>> {
    if bytes.iter().any(|(_, m)| *m == 0x0f || *m == 0xf0) {
        ctx.warn(n.pos(), "`require_reply`: a byte with one `X` digit matches any byte in rvs", None);
    }
    bytes.into_iter().map(|(b, m)| (m == 0).then_some(b)).collect()
}

fn file_keyword(n: &Node, kind: &mut CheckKind, d: &mut CheckDraft, ctx: &mut Ctx) {
    let CheckKind::File(f) = kind else { return };
    match n.keyword() {
        "track_file" => d.track_file = ctx.value(n, 1).map(|t| (t.to_owned(), n.pos())),
        "weight" => {
            let Some(w) = ctx.int(n, 1, -i64::from(i32::MAX), i64::from(i32::MAX)) else { return };
            let reverse = match n.text(2) {
                None | Some("noreverse") => false,
                Some("reverse") => true,
                Some(o) => {
                    ctx.error(n.words[2].pos, format!("unknown `weight` option `{o}`"), Some("`reverse`".into()));
                    return;
                }
            };
            d.file_weight = Some((w as i32, reverse));
        }
        "dynamic" => f.dynamic = true,
        _ => ctx.unknown(n, &["track_file", "weight", "dynamic"], "`FILE_CHECK`"),
    }
}

/// The levels of a checker's settings: its own, its real server's, its virtual server's.
pub(super) struct Inherited<'a> {
    pub timing: Timing,
    pub virtualhost: Option<&'a str>,
    pub addr_port: u16,
    pub track_files: &'a [TrackFile],
}

/// The check with what it inherits and keepalived's defaults filled in.
pub(super) fn finish(d: &CheckDraft, up: &Inherited<'_>, ctx: &mut Ctx) -> Option<Check> {
    let mut kind = d.kind.clone();
    match &mut kind {
        CheckKind::Http(h) => h.virtualhost = h.virtualhost.take().or(up.virtualhost.map(str::to_owned)),
        CheckKind::File(f) => {
            let (name, pos) = d.track_file.as_ref()?;
            let Some(tf) = up.track_files.iter().find(|t| t.name == *name) else {
                let names: Vec<&str> = up.track_files.iter().map(|t| t.name.as_str()).collect();
                let hint = value::suggest(name, &names).map(|s| format!("did you mean `{s}`?"));
                ctx.error(*pos, format!("FILE_CHECK: no `track_file {name} {{ … }}` is defined"), hint);
                return None;
            };
            let (multiplier, reverse) = d.file_weight.unwrap_or((tf.weight, tf.reverse));
            // keepalived adds value × weight to the real server's weight whenever the
            // multiplier is not 0, `dynamic` or not (its parser has no `dynamic`).
            *f = FileCheck { path: tf.path.clone(), multiplier, reverse, dynamic: f.dynamic || multiplier != 0 };
        }
        _ => {}
    }
    let mut timing = CheckTiming::keepalived_default(&kind);
    let t = d.timing.over(up.timing);
    timing.delay_loop = t.delay_loop.unwrap_or(timing.delay_loop);
    timing.connect_timeout = t.connect_timeout.unwrap_or(timing.connect_timeout);
    timing.retry = t.retry.unwrap_or(timing.retry);
    timing.delay_before_retry = match (t.delay_before_retry, &kind) {
        (Some(v), _) => v,
        (None, CheckKind::Dns { .. }) => timing.delay_loop,
        (None, _) => timing.delay_before_retry,
    };
    // keepalived.conf(5): warmup is "enabled by default, with the maximum at delay_loop".
    timing.warmup = t.warmup.unwrap_or(timing.delay_loop);
    let connects = !matches!(kind, CheckKind::Misc(_) | CheckKind::File(_) | CheckKind::Ping);
    if connects && d.target.port.is_none() && up.addr_port == 0 {
        let hint = Some("add `connect_port`".to_owned());
        ctx.warn(d.pos, format!("`{}` of a real server without a port connects to port 0", kind.keyword()), hint);
    }
    Some(Check { kind, timing, target: d.target })
}
