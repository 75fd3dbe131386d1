//! lvs.cf's lines into its settings, with `lvsconfig.c`'s defaults, before they mean anything to
//! rvs: the keys of the global section, of `virtual NAME { }` and of `server NAME { }`.

use std::net::Ipv4Addr;

use rvs_core::model::{ForwardMethod, Protocol, SchedulerName};

use super::keys::FOS_HINT;
use super::lex::{self, Token};
use crate::format::Diags;

/// A value and the line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct At<T> {
    pub value: T,
    pub line: u32,
}

/// The global section (`struct lvsConfig`).
#[derive(Debug, Default)]
pub(super) struct Global {
    pub primary: Option<At<Ipv4Addr>>,
    pub backup: Option<At<Ipv4Addr>>,
    pub primary_private: Option<At<Ipv4Addr>>,
    pub backup_private: Option<At<Ipv4Addr>>,
    pub backup_active: Option<At<bool>>,
    /// Seconds between heartbeats (lvsconfig.c: 2).
    pub keepalive: Option<At<u32>>,
    /// Seconds without heartbeat before the backup takes over (lvsconfig.c: 5).
    pub deadtime: Option<At<u32>>,
    /// lvsconfig.c: NAT.
    pub network: Option<At<ForwardMethod>>,
    pub nat_router: Option<At<(Ipv4Addr, String)>>,
    /// `nat_nmask` as a prefix length.
    pub nat_nmask: Option<At<u8>>,
    pub monitor_links: Option<At<bool>>,
    pub active_cmd: Option<At<String>>,
    pub inactive_cmd: Option<At<String>>,
    pub tcp_timeout: Option<At<u32>>,
    pub tcpfin_timeout: Option<At<u32>>,
    pub udp_timeout: Option<At<u32>>,
    pub syncdaemon: Option<At<bool>>,
    pub syncd_iface: Option<At<String>>,
    pub syncd_id: Option<At<u8>>,
}

/// One `virtual NAME { }` (`struct lvsVirtualServer`, with `lvsInitVirtualServer`'s defaults).
#[derive(Debug)]
pub(super) struct Virtual {
    pub name: String,
    pub line: u32,
    /// Absent: 0 (the struct is zeroed), so not started.
    pub active: Option<bool>,
    /// The VIP and its device (`eth0:1`).
    pub address: Option<At<(Ipv4Addr, String)>>,
    /// `vip_nmask` as a prefix length.
    pub vip_nmask: Option<u8>,
    pub sorry_server: Option<Ipv4Addr>,
    /// 0: an address service.
    pub fwmark: u32,
    pub protocol: Protocol,
    /// The virtual port; also the default port of the servers declared after it is set.
    pub port: u16,
    pub scheduler: SchedulerName,
    /// Seconds; 0 (or less): not persistent.
    pub persistent: u32,
    /// `pmask`; `None` also for 255.255.255.255, which lvsconfig.c drops.
    pub pmask: Option<Ipv4Addr>,
    /// Raw, before nanny's escapes.
    pub send: Option<At<String>>,
    pub expect: Option<At<String>>,
    pub use_regex: bool,
    pub send_program: Option<At<String>>,
    /// nanny's `-t`: seconds between checks, and the connect and read timeout (10).
    pub timeout: u32,
    /// nanny's `-a` (180; 0 also means 180).
    pub reentry: At<u32>,
    pub quiesce_server: bool,
    pub load_monitor: Option<At<String>>,
    pub servers: Vec<Server>,
}

/// One `server NAME { }` (`struct lvsService`).
#[derive(Debug)]
pub(super) struct Server {
    pub name: String,
    pub line: u32,
    pub address: Option<Ipv4Addr>,
    pub active: Option<bool>,
    pub weight: u32,
    pub port: u16,
}

/// The whole file.
#[derive(Debug, Default)]
pub(super) struct Raw {
    pub global: Global,
    pub virtuals: Vec<Virtual>,
}

/// An open block.
enum Open {
    Virtual(usize),
    Server(usize, usize),
}

/// Reads the file's settings; problems go to `d`.
pub(super) fn read(text: &str, d: &mut Diags) -> Raw {
    let mut r = Reader { d, raw: Raw::default(), stack: Vec::new(), skipping: 0, seen: vec![Vec::new()], stray_seen: false };
    for (n, line) in text.lines().enumerate() {
        let number = u32::try_from(n + 1).unwrap_or(u32::MAX);
        match lex::tokenize(line) {
            Ok(Some(tokens)) => r.line(number, &tokens),
            Ok(None) => {}
            Err(e) => r.d.error(number, e.col, e.message, e.hint),
        }
    }
    for open in r.stack.iter().rev() {
        let (what, line) = match *open {
            Open::Virtual(v) => (format!("virtual {}", r.raw.virtuals[v].name), r.raw.virtuals[v].line),
            Open::Server(v, s) => {
                let server = &r.raw.virtuals[v].servers[s];
                (format!("server {}", server.name), server.line)
            }
        };
        r.d.error(
            line,
            1,
            format!("`{what} {{` is not closed: missing `}}`"),
            Some("close every `virtual NAME {` and `server NAME {` with a `}` line".to_owned()),
        );
    }
    r.raw
}

pub(super) struct Reader<'d> {
    pub(super) d: &'d mut Diags,
    pub(super) raw: Raw,
    stack: Vec<Open>,
    /// Depth inside a block being skipped (`failover`, unknown blocks).
    skipping: u32,
    /// Keys set in each open block (the global section first), for repeats.
    seen: Vec<Vec<String>>,
    /// Whether a line with stray characters was seen (its hint is given once).
    stray_seen: bool,
}

impl Reader<'_> {
    fn line(&mut self, n: u32, t: &[Token]) {
        let stripped;
        let t = match self.strip_stray(n, t) {
            Some(rest) if rest.is_empty() => return,
            Some(rest) => {
                stripped = rest;
                &stripped[..]
            }
            None => t,
        };
        let first = t[0].text.as_str();
        let opens = t.len() > 1 && t[t.len() - 1].text == "{" && !t[t.len() - 1].quoted;
        if self.skipping > 0 {
            if opens {
                self.skipping += 1;
            } else if first == "}" {
                self.skipping -= 1;
            }
            return;
        }
        let assigns = t.get(1).is_some_and(|eq| eq.text == "=" && !eq.quoted);
        if first == "}" {
            self.close(n, t);
        } else if !assigns && (matches!(first, "virtual" | "server" | "failover") || opens) {
            self.open(n, t, opens);
        } else {
            self.setting(n, t);
        }
    }

    /// A line that starts with characters no lvs.cf line starts with (web pages turn the
    /// indentation of copied files into `? ???`): an error, and the line without them, so
    /// that the rest of the file still reads as it was meant.
    fn strip_stray(&mut self, n: u32, t: &[Token]) -> Option<Vec<Token>> {
        let stray = |c: char| !(c.is_alphanumeric() || "{}#\"'=_-.:/[]*%\\".contains(c));
        let junk = t.iter().take_while(|tok| !tok.quoted && tok.text.chars().all(stray)).count();
        let mut rest: Vec<Token> = t[junk..].to_vec();
        let mut prefix: String = t[..junk].iter().map(|tok| tok.text.as_str()).collect::<Vec<_>>().join(" ");
        if let Some(first) = rest.first_mut().filter(|f| !f.quoted) {
            let cut: String = first.text.chars().take_while(|&c| stray(c)).collect();
            if !cut.is_empty() {
                first.text = first.text[cut.len()..].to_owned();
                first.col += u32::try_from(cut.chars().count()).unwrap_or(0);
                if !prefix.is_empty() {
                    prefix.push(' ');
                }
                prefix.push_str(&cut);
            }
        }
        if prefix.is_empty() {
            return None;
        }
        let before = rest.first().map_or_else(String::new, |f| format!(" before `{}`", f.text));
        let hint = (!self.stray_seen).then(|| {
            "was the file copied from a web page? Remove what precedes the keyword on each such line".to_owned()
        });
        self.stray_seen = true;
        self.d.error(n, t[0].col, format!("stray characters `{prefix}`{before}"), hint);
        Some(rest)
    }

    fn close(&mut self, n: u32, t: &[Token]) {
        if let Some(extra) = t.get(1) {
            self.d.error(n, extra.col, format!("unexpected `{}` after `}}`", extra.text), None);
        }
        if self.stack.pop().is_none() {
            self.d.error(
                n,
                t[0].col,
                "`}` closes no block".to_owned(),
                Some("is there one `}` too many, or a `virtual NAME {` line missing?".to_owned()),
            );
        } else {
            self.seen.pop();
        }
    }

    fn open(&mut self, n: u32, t: &[Token], opens: bool) {
        let first = t[0].text.as_str();
        if first == "failover" {
            self.d.error(
                n,
                t[0].col,
                "fos mode is not supported: `failover` blocks are piranha's failover services".to_owned(),
                Some(FOS_HINT.to_owned()),
            );
            self.skipping = u32::from(opens);
            return;
        }
        if first != "virtual" && first != "server" {
            self.d.warn(n, format!("unknown block `{first}`: ignored"), None);
            self.skipping = 1;
            return;
        }
        let name = match t.get(1) {
            Some(tok) if tok.text != "{" => tok.text.clone(),
            _ => {
                self.d.error(n, t[0].col, format!("`{first}` needs a name: `{first} NAME {{`"), None);
                String::from("?")
            }
        };
        if !opens {
            let col = t.last().map_or(1, |l| l.col + u32::try_from(l.text.len()).unwrap_or(0) + 1);
            self.d.error(
                n,
                col,
                format!("`{first} {name}` must end with `{{`"),
                Some(format!("write `{first} {name} {{` on one line")),
            );
        } else if t.len() > 3 {
            self.d.error(
                n,
                t[2].col,
                format!("unexpected `{}` in `{first} {name} {{`", t[2].text),
                Some("block names are one word".to_owned()),
            );
        }
        match (first, self.stack.last()) {
            ("virtual", None) => {
                self.raw.virtuals.push(Virtual::new(name, n));
                self.stack.push(Open::Virtual(self.raw.virtuals.len() - 1));
            }
            ("virtual", Some(_)) => {
                self.d.error(
                    n,
                    t[0].col,
                    "`virtual` inside another block".to_owned(),
                    Some("a `}` is missing before this line".to_owned()),
                );
                self.skipping = 1;
                return;
            }
            ("server", Some(&Open::Virtual(v))) => {
                let vs = &mut self.raw.virtuals[v];
                vs.servers.push(Server { name, line: n, address: None, active: None, weight: 1, port: vs.port });
                self.stack.push(Open::Server(v, vs.servers.len() - 1));
            }
            ("server", Some(&Open::Server(..))) => {
                self.d.error(
                    n,
                    t[0].col,
                    "`server` inside a `server` block".to_owned(),
                    Some("a `}` is missing before this line".to_owned()),
                );
                self.skipping = 1;
                return;
            }
            _ => {
                self.d.error(
                    n,
                    t[0].col,
                    "`server` outside a `virtual` block".to_owned(),
                    Some("declare real servers inside the `virtual NAME { … }` they serve".to_owned()),
                );
                self.skipping = 1;
                return;
            }
        }
        self.seen.push(Vec::new());
    }

    fn setting(&mut self, n: u32, t: &[Token]) {
        let key = &t[0];
        if t.get(1).is_none_or(|eq| eq.text != "=" || eq.quoted) {
            let hint = if key.text.contains('=') {
                "put blanks around `=`: `key = value`"
            } else {
                "lvs.cf settings are `key = value`"
            };
            let col = t.get(1).map_or(key.col + u32::try_from(key.text.chars().count()).unwrap_or(0), |x| x.col);
            self.d.error(n, col, format!("expected `=` after `{}`", key.text), Some(hint.to_owned()));
            return;
        }
        if matches!(key.text.as_str(), "virtual" | "server" | "failover") {
            let block = &key.text;
            return self.d.error(
                n,
                key.col,
                format!("`{block}` opens a block"),
                Some(format!("write `{block} NAME {{`, then its settings, then `}}`")),
            );
        }
        let values = &t[2..];
        let depth = self.seen.len() - 1;
        if self.seen[depth].contains(&key.text) {
            self.d.warn(n, format!("`{}` is set again; the last value counts", key.text), None);
        } else {
            self.seen[depth].push(key.text.clone());
        }
        match self.stack.last() {
            None => self.global(n, key, values),
            Some(&Open::Virtual(v)) => self.virtual_key(n, v, key, values),
            Some(&Open::Server(v, s)) => self.server_key(n, v, s, key, values),
        }
    }

    /// Exactly one value.
    pub(super) fn one<'t>(&mut self, n: u32, key: &Token, v: &'t [Token]) -> Option<&'t Token> {
        match v {
            [one] => Some(one),
            [] => {
                let col = key.col + u32::try_from(key.text.chars().count()).unwrap_or(0) + 3;
                self.d.error(n, col, format!("`{}` needs a value", key.text), None);
                None
            }
            [_, extra, ..] => {
                self.d.error(
                    n,
                    extra.col,
                    format!("unexpected `{}` after the value of `{}`", extra.text, key.text),
                    Some("quote values that contain blanks; lvs.cf has no comments after a value".to_owned()),
                );
                None
            }
        }
    }

    /// Exactly two values.
    pub(super) fn two<'t>(&mut self, n: u32, key: &Token, v: &'t [Token], example: &str) -> Option<(&'t Token, &'t Token)> {
        match v {
            [a, b] => Some((a, b)),
            _ => {
                let col = v.get(2).or(v.first()).map_or(key.col, |t| t.col);
                self.d.error(
                    n,
                    col,
                    format!("`{}` takes an address and a device", key.text),
                    Some(format!("for example `{example}`")),
                );
                None
            }
        }
    }

    pub(super) fn number(&mut self, n: u32, t: &Token, min: i64, max: i64) -> Option<i64> {
        match lex::c_number(&t.text) {
            Some(x) if (min..=max).contains(&x) => {
                if lex::is_octal(&t.text) && x != 0 {
                    self.d.warn(n, format!("`{}` is read as octal ({x}), as piranha reads it", t.text), None);
                }
                Some(x)
            }
            Some(_) => {
                self.d.error(n, t.col, format!("{} is out of range ({min} to {max})", t.text), None);
                None
            }
            None => {
                self.d.error(n, t.col, format!("expected a number, found `{}`", t.text), None);
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, n: u32, t: &Token) -> Option<bool> {
        match lex::c_number(&t.text) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => {
                self.d.error(n, t.col, format!("expected 0 or 1, found `{}`", t.text), None);
                None
            }
        }
    }

    pub(super) fn port(&mut self, n: u32, t: &Token) -> Option<u16> {
        if let Some(&(_, port)) = SERVICES.iter().find(|(name, _)| *name == t.text) {
            return Some(port);
        }
        if lex::c_number(&t.text).is_none() && t.text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            self.d.error(
                n,
                t.col,
                format!("unknown service name `{}`", t.text),
                Some("rvs knows a few names (http, https, ftp, smtp, domain …); write the port number".to_owned()),
            );
            return None;
        }
        self.number(n, t, 1, 65535).map(|p| p as u16)
    }

    pub(super) fn ipv4(&mut self, n: u32, t: &Token) -> Option<Ipv4Addr> {
        if let Ok(a) = t.text.parse() {
            return Some(a);
        }
        let hint = if t.text.contains(':') {
            "piranha's addresses are IPv4"
        } else if t.text.chars().any(|c| c.is_ascii_alphabetic()) {
            "rvs does not look host names up: write the address"
        } else {
            "write a dotted IPv4 address such as 192.168.1.250"
        };
        self.d.error(n, t.col, format!("`{}` is not an IPv4 address", t.text), Some(hint.to_owned()));
        None
    }

    /// A dotted netmask as a prefix length.
    pub(super) fn netmask(&mut self, n: u32, t: &Token) -> Option<u8> {
        let prefix = t.text.parse::<Ipv4Addr>().ok().and_then(|m| {
            let bits = u32::from(m);
            (bits.leading_ones() + bits.trailing_zeros() == 32).then(|| bits.leading_ones() as u8)
        });
        if prefix.is_none() {
            self.d.error(
                n,
                t.col,
                format!("`{}` is not a netmask", t.text),
                Some("write a dotted mask of contiguous ones such as 255.255.255.0".to_owned()),
            );
        }
        prefix
    }
}

impl Virtual {
    fn new(name: String, line: u32) -> Self {
        Virtual {
            name,
            line,
            active: None,
            address: None,
            vip_nmask: None,
            sorry_server: None,
            fwmark: 0,
            protocol: Protocol::Tcp,
            port: 80,
            scheduler: SchedulerName::wlc(),
            persistent: 0,
            pmask: None,
            send: None,
            expect: None,
            use_regex: false,
            send_program: None,
            timeout: 10,
            reentry: At { value: 180, line },
            quiesce_server: false,
            load_monitor: None,
            servers: Vec::new(),
        }
    }
}

pub(super) fn at<T>(value: T, line: u32) -> Option<At<T>> {
    Some(At { value, line })
}

/// The netmask of a prefix length.
pub(super) fn mask_of(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0))
}

/// Service names `getservbyname(…, "tcp")` commonly knows.
const SERVICES: &[(&str, u16)] = &[
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("http", 80),
    ("www", 80),
    ("pop3", 110),
    ("ntp", 123),
    ("imap", 143),
    ("ldap", 389),
    ("https", 443),
    ("imaps", 993),
    ("pop3s", 995),
    ("mysql", 3306),
];
