//! Where things are, what was said about them, and reading a statement's values with an
//! error that names the place when they are wrong.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rvs_core::config::Script;

use super::tree::Node;
use super::value;
use crate::{Diagnostic, Severity};

/// A place in a file: `file` indexes [`Ctx`]'s files; `seq` counts the lines read before it
/// across includes, so that diagnostics come out in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub file: usize,
    pub line: u32,
    pub col: u32,
    pub seq: u32,
}

/// The files read and the diagnostics about them.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    files: Vec<PathBuf>,
    diags: Vec<(u32, u32, Diagnostic)>,
}

/// How the words after a script's command line are taken (keepalived's `notify_*` read them as
/// the user and group to run as; `misc_path` and `script` ignore them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    User,
    Nothing,
}

impl Ctx {
    pub fn add_file(&mut self, path: &Path) -> usize {
        self.files.push(path.to_path_buf());
        self.files.len() - 1
    }

    fn push(&mut self, severity: Severity, pos: Pos, message: String, hint: Option<String>) {
        let file = self.files.get(pos.file).cloned().unwrap_or_default();
        // Warnings name the line only (`file:line: warning: …`).
        let column = if severity == Severity::Error { pos.col } else { 0 };
        let d = Diagnostic { severity, file, line: pos.line, column, message, hint };
        // A group's members share their virtual server's statements: say things once.
        if !self.diags.iter().any(|(_, _, e)| *e == d) {
            self.diags.push((pos.seq, pos.col, d));
        }
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Error, pos, message.into(), hint);
    }

    pub fn warn(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Warning, pos, message.into(), hint);
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|(_, _, d)| d.severity == Severity::Error)
    }

    /// The diagnostics in reading order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut diags: Vec<&(u32, u32, Diagnostic)> = self.diags.iter().collect();
        diags.sort_by_key(|(seq, col, _)| (*seq, *col));
        diags.into_iter().map(|(_, _, d)| d.clone()).collect()
    }

    /// The word at `i`, or an error that the keyword needs a value.
    pub fn value<'n>(&mut self, node: &'n Node, i: usize) -> Option<&'n str> {
        let v = node.text(i);
        if v.is_none() {
            self.error(node.pos(), format!("`{}` needs a value", node.keyword()), None);
        }
        v
    }

    /// Warns about words after the first `n` (keyword included).
    pub fn extra(&mut self, node: &Node, n: usize) {
        if let Some(w) = node.word(n) {
            self.warn(w.pos, format!("`{}`: `{}` and what follows are ignored", node.keyword(), w.text), None);
        }
    }

    /// A whole number from `min` to `max`.
    pub fn number(&mut self, node: &Node, i: usize, min: u64, max: u64) -> Option<u64> {
        let v = self.value(node, i)?;
        let pos = node.words[i].pos;
        match value::unsigned(v) {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.error(pos, format!("`{}` {v} is out of range ({min}-{max})", node.keyword()), None);
                None
            }
            None if value::signed(v).is_some() => {
                self.error(pos, format!("`{}` {v} is out of range ({min}-{max})", node.keyword()), None);
                None
            }
            None => {
                self.error(pos, format!("`{}` expects a number, found `{v}`", node.keyword()), None);
                None
            }
        }
    }

    /// A whole number from `min` to `max`, maybe negative.
    pub fn int(&mut self, node: &Node, i: usize, min: i64, max: i64) -> Option<i64> {
        let v = self.value(node, i)?;
        let pos = node.words[i].pos;
        match value::signed(v) {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.error(pos, format!("`{}` {v} is out of range ({min} to {max})", node.keyword()), None);
                None
            }
            None => {
                self.error(pos, format!("`{}` expects a number, found `{v}`", node.keyword()), None);
                None
            }
        }
    }

    /// Seconds, with decimals (`read_timer`); zero only when `zero` allows it.
    pub fn timer(&mut self, node: &Node, i: usize, zero: bool) -> Option<Duration> {
        let v = self.value(node, i)?;
        let pos = node.words[i].pos;
        match value::seconds(v) {
            Some(d) if zero || !d.is_zero() => Some(d),
            Some(_) => {
                self.error(pos, format!("`{}` must be more than 0 seconds", node.keyword()), None);
                None
            }
            None => {
                let hint = Some("seconds, such as `5` or `2.5` (at most 6 decimals)".to_owned());
                self.error(pos, format!("`{}` expects a time in seconds, found `{v}`", node.keyword()), hint);
                None
            }
        }
    }

    /// An IPv4 or IPv6 address.
    pub fn ip(&mut self, node: &Node, i: usize) -> Option<IpAddr> {
        let v = self.value(node, i)?;
        let pos = node.words[i].pos;
        let ip = value::ip(v);
        if ip.is_none() {
            self.bad_ip(pos, v);
        }
        ip
    }

    pub fn bad_ip(&mut self, pos: Pos, v: &str) {
        let hint = if v.contains('/') {
            Some("write the address without a prefix length".to_owned())
        } else if v.chars().any(|c| c.is_ascii_alphabetic()) && !v.contains(':') {
            Some("keepalived.conf takes numeric addresses, not host names".to_owned())
        } else {
            None
        };
        self.error(pos, format!("`{v}` is not an IP address"), hint);
    }

    /// A port from 1 to 65535.
    pub fn port(&mut self, node: &Node, i: usize) -> Option<u16> {
        let v = self.value(node, i)?;
        let pos = node.words[i].pos;
        self.port_text(pos, v)
    }

    pub fn port_text(&mut self, pos: Pos, v: &str) -> Option<u16> {
        match value::unsigned(v) {
            Some(p @ 1..=65535) => u16::try_from(p).ok(),
            Some(_) => {
                self.error(pos, format!("port {v} is out of range (1-65535)"), None);
                None
            }
            None => {
                self.error(pos, format!("`{v}` is not a port number"), None);
                None
            }
        }
    }

    /// A keyword that is on when it stands alone and takes an optional yes/no.
    pub fn flag(&mut self, node: &Node) -> Option<bool> {
        let Some(w) = node.word(1) else { return Some(true) };
        let b = value::boolean(&w.text);
        if b.is_none() {
            let message = format!("`{}` takes yes or no (true/false, on/off), found `{}`", node.keyword(), w.text);
            self.error(w.pos, message, None);
        }
        self.extra(node, 2);
        b
    }

    /// The command line of a script keyword, split as keepalived does: the first word (quoted
    /// when it has blanks) is the command line, itself split on blanks outside quotes.
    pub fn script(&mut self, node: &Node, after: After) -> Option<Script> {
        let words = match value::split_quoted(node.rest(), false) {
            Ok(w) => w,
            Err(q) => {
                self.error(node.pos(), format!("`{}`: unterminated `{q}` in the command line", node.keyword()), None);
                return None;
            }
        };
        let Some(line) = words.first() else {
            self.error(node.pos(), format!("`{}` needs a command line", node.keyword()), None);
            return None;
        };
        let argv = match value::split_quoted(line, true) {
            Ok(a) => a,
            Err(q) => {
                self.error(node.pos(), format!("`{}`: unterminated `{q}` in the command line", node.keyword()), None);
                return None;
            }
        };
        if words.len() > 1 {
            let hint = Some(format!("quote the whole command line: {} \"{}\"", node.keyword(), words.join(" ")));
            let message = match after {
                After::User => format!(
                    "`{}`: keepalived runs the script as user `{}`; rvs runs scripts as its own user (ignored)",
                    node.keyword(),
                    words[1..].join(" ")
                ),
                After::Nothing => format!(
                    "`{}`: only `{line}` is the command line, `{}` is ignored (as keepalived does)",
                    node.keyword(),
                    words[1..].join(" ")
                ),
            };
            self.warn(node.pos(), message, hint);
        }
        let script = Script::new(argv);
        if script.is_none() {
            self.error(node.pos(), format!("`{}` needs a command line", node.keyword()), None);
        }
        script
    }

    /// A keyword the block does not know.
    pub fn unknown(&mut self, node: &Node, known: &[&str], place: &str) {
        let kw = node.keyword();
        let place = if place.starts_with("the ") { format!("at {place}") } else { format!("in {place}") };
        if let Some(home) = home(kw) {
            let message = format!("`{kw}` is not allowed {place}");
            self.error(node.pos(), message, Some(format!("`{kw}` belongs in {home}")));
            return;
        }
        let skipped = if node.block.is_some() { " (its block is skipped)" } else { "" };
        let hint = value::suggest(kw, known).map(|s| format!("did you mean `{s}`?"));
        self.warn(node.pos(), format!("unknown keyword `{kw}` {place}{skipped}"), hint);
    }

    /// A keyword keepalived knows that rvs does not act on.
    pub fn ignored(&mut self, node: &Node, why: &str) {
        self.warn(node.pos(), format!("`{}` {why}", node.keyword()), None);
    }

    /// Refuses a block after a keyword that takes none.
    pub fn no_block(&mut self, node: &Node) {
        if let Some(b) = &node.block {
            self.error(b.open, format!("`{}` takes no `{{ }}` block", node.keyword()), None);
        }
    }

    /// Whether the keyword has its block; an error when not.
    pub fn need_block(&mut self, node: &Node) -> bool {
        if node.block.is_none() {
            self.error(node.pos(), format!("`{}` needs a `{{ … }}` block", node.keyword()), None);
        }
        node.block.is_some()
    }
}

/// Where block keywords belong, for those found elsewhere.
fn home(kw: &str) -> Option<&'static str> {
    Some(match kw {
        "real_server" | "sorry_server" => "a `virtual_server` block",
        "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "SMTP_CHECK" | "DNS_CHECK" | "MISC_CHECK" | "UDP_CHECK"
        | "PING_CHECK" | "FILE_CHECK" | "BFD_CHECK" => "a `real_server` block",
        "url" => "an `HTTP_GET` or `SSL_GET` block",
        "virtual_server" | "virtual_server_group" | "vrrp_instance" | "vrrp_script" | "vrrp_sync_group"
        | "global_defs" => "the top level of the file",
        "virtual_ipaddress" | "unicast_peer" | "track_script" | "authentication" => "a `vrrp_instance` block",
        _ => return None,
    })
}
