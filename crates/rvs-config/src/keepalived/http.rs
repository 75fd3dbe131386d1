//! `HTTP_GET` / `SSL_GET` (`check/check_http.c`): `url` blocks with their path, digest,
//! status codes, virtual host and regex; the protocol version; SSL_GET's SNI.

use rvs_core::config::{HttpCheck, HttpVersion, StatusCodes, StatusRange, UrlCheck};

use super::checkers::{COMMON, CONNECTION, HTTP};
use super::tree::Node;
use super::{Ctx, value};

const URL: &[&str] = &[
    "path",
    "digest",
    "status_code",
    "virtualhost",
    "regex",
    "regex_no_match",
    "regex_options",
    "regex_min_offset",
    "regex_max_offset",
    "regex_stack",
    "tls_compliant",
];

pub(super) fn keyword(n: &Node, h: &mut HttpCheck, ctx: &mut Ctx) {
    let ssl = h.tls.is_some();
    match n.keyword() {
        "virtualhost" => h.virtualhost = ctx.value(n, 1).map(str::to_owned).or(h.virtualhost.take()),
        "http_protocol" => match ctx.value(n, 1) {
            Some("1.0") => h.version = HttpVersion::Http10,
            Some("1.0C" | "1.0c") => h.version = HttpVersion::Http10Close,
            Some("1.1") => h.version = HttpVersion::Http11,
            Some(v) => ctx.error(n.words[1].pos, format!("unknown `http_protocol` `{v}`"), Some("1.0, 1.0C or 1.1".into())),
            None => {}
        },
        "enable_sni" | "sni_name" => match &mut h.tls {
            None => ctx.ignored(n, "applies to SSL_GET only (ignored)"),
            Some(tls) if n.keyword() == "enable_sni" => tls.enable_sni = ctx.flag(n).unwrap_or(tls.enable_sni),
            Some(tls) => {
                if let Some(name) = n.text(1) {
                    tls.sni_name = Some(name.to_owned());
                }
                tls.enable_sni = true;
            }
        },
        "fast_recovery" => ctx.ignored(n, "is not supported by rvs (ignored)"),
        "tls_compliant" if ssl => {}
        "url" => {
            if let Some(url) = url(n, ssl, ctx) {
                h.urls.push(url);
            }
        }
        _ => {
            let mut known = COMMON.to_vec();
            known.extend(CONNECTION);
            known.extend(HTTP);
            ctx.unknown(n, &known, if ssl { "`SSL_GET`" } else { "`HTTP_GET`" });
        }
    }
}

fn url(node: &Node, ssl: bool, ctx: &mut Ctx) -> Option<UrlCheck> {
    let mut u = UrlCheck {
        path: String::new(),
        status: StatusCodes(Vec::new()),
        digest: None,
        regex: None,
        regex_no_match: false,
        virtualhost: None,
    };
    for n in node.children() {
        if URL.contains(&n.keyword()) {
            ctx.no_block(n);
        }
        match n.keyword() {
            "path" => u.path = ctx.value(n, 1).map(str::to_owned).unwrap_or_default(),
            "digest" => u.digest = digest(n, ctx),
            "status_code" => {
                if n.words.len() < 2 {
                    ctx.value(n, 1);
                }
                for w in &n.words[1..] {
                    match status_range(&w.text) {
                        Some(r) => u.status.0.push(r),
                        None => ctx.error(w.pos, format!("`{}` is not a status code or range (100-599)", w.text), Some("such as `200` or `200-299`".into())),
                    }
                }
            }
            "virtualhost" => u.virtualhost = ctx.value(n, 1).map(str::to_owned),
            "regex" => match value::split_quoted(n.rest(), true) {
                Ok(w) if w.len() == 1 => u.regex = w.into_iter().next(),
                _ => ctx.error(n.pos(), "`regex` takes one pattern", Some("quote a pattern with blanks: regex \"a b\"".into())),
            },
            "regex_no_match" => u.regex_no_match = true,
            "regex_options" | "regex_min_offset" | "regex_max_offset" | "regex_stack" => {
                ctx.ignored(n, "is not supported by rvs (ignored)");
            }
            "tls_compliant" if ssl => {}
            _ => ctx.unknown(n, URL, "`url`"),
        }
    }
    if u.path.is_empty() {
        ctx.error(node.pos(), "`url` has no `path`", Some("path /".into()));
        return None;
    }
    if u.regex.is_none() && u.regex_no_match {
        ctx.warn(node.pos(), "`regex_no_match` without `regex` (ignored)", None);
        u.regex_no_match = false;
    }
    if u.status.0.is_empty() {
        u.status = StatusCodes::success();
    }
    Some(u)
}

/// `200` or `200-299`, within 100-599.
fn status_range(s: &str) -> Option<StatusRange> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (first, last) = (value::unsigned(a)?, value::unsigned(b)?);
    ((100..=599).contains(&first) && (first..=599).contains(&last))
        .then_some(StatusRange { first: first as u16, last: last as u16 })
}

/// `digest`: an MD5 in 32 hex digits (genhash's output).
fn digest(n: &Node, ctx: &mut Ctx) -> Option<[u8; 16]> {
    let v = ctx.value(n, 1)?;
    let mut out = [0u8; 16];
    let ok = v.len() == 32
        && v.is_ascii()
        && out.iter_mut().enumerate().all(|(i, b)| match u8::from_str_radix(&v[2 * i..2 * i + 2], 16) {
            Ok(x) => {
                *b = x;
                true
            }
            Err(_) => false,
        });
    if !ok {
        ctx.error(n.words[1].pos, format!("`digest` `{v}` is not an MD5 sum (32 hex digits)"), Some("compute it with `genhash`".into()));
        return None;
    }
    Some(out)
}
