//! The health check form of a virtual service: one check that every real server of the service
//! runs (nanny checked each real server the same way): none, a TCP connect, an HTTP GET with
//! its expected status and virtual host, piranha's send/expect, a UDP datagram (answered, or at
//! least not refused), a DNS query, or an ICMP ping; with its interval, timeout and retries.

use std::time::Duration;

use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, Config, DnsQueryType, ExpectPattern, HttpCheck, HttpVersion, ReplyPattern, StatusCodes,
    StatusRange, UdpCheck, UrlCheck, VirtualServer,
};

use super::fields::{Errors, Fields, Reader, escape, unescape};
use super::find_service;
use crate::backend::Edit;

/// The kinds offered, by the form's values.
pub const KINDS: &[(&str, &str)] = &[
    ("none", "none (always up)"),
    ("tcp", "TCP connect"),
    ("http", "HTTP GET"),
    ("send_expect", "send / expect"),
    ("udp", "UDP datagram"),
    ("dns", "DNS query"),
    ("ping", "ICMP ping"),
];

/// The DNS query types offered (keepalived's `type`), shown and read by their names.
pub const DNS_TYPES: [DnsQueryType; 7] =
    [DnsQueryType::Soa, DnsQueryType::A, DnsQueryType::Aaaa, DnsQueryType::Ns, DnsQueryType::Cname, DnsQueryType::Mx, DnsQueryType::Txt];

/// The longest name a DNS query takes.
const DNS_NAME_MAX: usize = 253;

/// Reads the form: `None` for "no check".
pub fn read(fields: &Fields) -> Result<Option<Check>, Errors> {
    let mut r = Reader::new(fields);
    let kind = r.choice("kind", &[("none", 0u8), ("tcp", 1), ("http", 2), ("send_expect", 3), ("udp", 4), ("dns", 5), ("ping", 6)]);
    let interval = r.seconds("interval", 1.0, 3600.0, Duration::from_secs(6));
    let timeout = r.seconds("timeout", 0.1, 600.0, Duration::from_secs(5));
    let retry = r.number("retry", 0, 100, Some(1)).and_then(|n| u32::try_from(n).ok());
    let kind = match kind {
        Some(0) => return r.finish().map(|()| None),
        Some(1) => Some(CheckKind::Tcp),
        Some(2) => {
            let path = fields.text("path");
            if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
                r.errors.add("path", "a path such as / or /health (no blanks)");
            }
            let status = r.number("status", 100, 599, Some(200)).and_then(|s| u16::try_from(s).ok());
            let vhost = fields.text("vhost");
            // The Host header's name (and port): no blanks, no path, no user part.
            if vhost.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '?' | '#')) {
                r.errors.add("vhost", "a host name such as www.example.com (a port may follow, :8080)");
            }
            let virtualhost = Some(vhost.to_owned()).filter(|v| !v.is_empty());
            status.map(|s| {
                let status = if fields.text("status").is_empty() { StatusCodes::success() } else { StatusCodes(vec![StatusRange { first: s, last: s }]) };
                CheckKind::Http(HttpCheck {
                    urls: vec![UrlCheck { path: path.to_owned(), status, digest: None, regex: None, regex_no_match: false, virtualhost: None }],
                    virtualhost,
                    version: HttpVersion::Http10,
                    tls: None,
                })
            })
        }
        Some(4) => unescape(fields.raw("payload")).map_err(|e| r.errors.add("payload", e)).ok().map(|payload| {
            // keepalived's defaults for the rest: any reply of 0 to 255 bytes.
            CheckKind::Udp(UdpCheck {
                payload,
                require_reply: fields.ticked("reply").then(ReplyPattern::default),
                min_reply_length: 0,
                max_reply_length: 255,
            })
        }),
        Some(5) => {
            let names: Vec<(&str, DnsQueryType)> = DNS_TYPES.iter().map(|t| (t.name(), *t)).collect();
            let qtype = r.choice("dns_type", &names);
            let name = match fields.text("dns_name") {
                "" => ".",
                n => n,
            };
            if name.len() > DNS_NAME_MAX || name.chars().any(|c| c.is_whitespace() || c.is_control()) || name.contains("..") {
                r.errors.add("dns_name", "a domain name such as example.com, or . for the root");
            }
            qtype.map(|qtype| CheckKind::Dns { qtype, name: name.to_owned() })
        }
        Some(6) => Some(CheckKind::Ping),
        Some(_) => {
            let send = unescape(fields.raw("send")).map_err(|e| r.errors.add("send", e)).ok();
            let expect = unescape(fields.raw("expect")).map_err(|e| r.errors.add("expect", e)).ok();
            match (send, expect) {
                (Some(send), Some(expect)) => {
                    if send.is_empty() && expect.is_empty() {
                        r.errors.add("send", "give a string to send, one to expect, or both (none at all is a TCP connect)");
                    }
                    let expect = if expect.is_empty() { ExpectPattern::Any } else { ExpectPattern::Prefix(expect) };
                    Some(CheckKind::SendExpect { send, expect })
                }
                _ => None,
            }
        }
        None => None,
    };
    r.finish()?;
    let (Some(kind), Some(interval), Some(timeout), Some(retry)) = (kind, interval, timeout, retry) else {
        return Err(Errors::default());
    };
    let mut timing = CheckTiming::keepalived_default(&kind);
    timing.delay_loop = interval;
    timing.connect_timeout = timeout;
    timing.retry = retry;
    Ok(Some(Check { kind, timing, target: CheckTarget::default() }))
}

/// The form's values for a check, to draw it filled in.
pub fn values(check: Option<&Check>) -> Vec<(&'static str, String)> {
    let Some(check) = check else {
        return vec![("kind", "none".into())];
    };
    let secs = |d: Duration| format!("{}", d.as_secs_f64());
    let mut v = vec![
        ("interval", secs(check.timing.delay_loop)),
        ("timeout", secs(check.timing.connect_timeout)),
        ("retry", check.timing.retry.to_string()),
    ];
    match &check.kind {
        CheckKind::Tcp => v.push(("kind", "tcp".into())),
        CheckKind::Http(h) => {
            v.push(("kind", "http".into()));
            if let Some(url) = h.urls.first() {
                v.push(("path", url.path.clone()));
                if url.status != StatusCodes::success()
                    && let Some(first) = url.status.0.first()
                {
                    v.push(("status", first.first.to_string()));
                }
            }
            if let Some(host) = &h.virtualhost {
                v.push(("vhost", host.clone()));
            }
        }
        CheckKind::Udp(u) => {
            v.push(("kind", "udp".into()));
            v.push(("payload", escape(&u.payload)));
            if u.require_reply.is_some() {
                v.push(("reply", "on".into()));
            }
        }
        CheckKind::Dns { qtype, name } => {
            v.push(("kind", "dns".into()));
            v.push(("dns_type", qtype.name().to_owned()));
            v.push(("dns_name", name.clone()));
        }
        CheckKind::Ping => v.push(("kind", "ping".into())),
        CheckKind::SendExpect { send, expect } => {
            v.push(("kind", "send_expect".into()));
            v.push(("send", escape(send)));
            if let ExpectPattern::Prefix(p) = expect {
                v.push(("expect", escape(p)));
            }
        }
        other => v.push(("kind", other.keyword().to_owned())),
    }
    v
}

/// The check the form edits for this service: `Ok` when every real server has the same one
/// check (or none) and the form can show all of it; otherwise why the form cannot change it
/// without losing something (TLS, a URL's own virtual host, a digest, per-server checks …).
pub fn editable(vs: &VirtualServer) -> Result<Option<&Check>, String> {
    let first = vs.reals.first().map(|r| r.checks.as_slice()).unwrap_or_default();
    let same = vs.reals.iter().all(|r| r.checks == first);
    let shown = match first {
        [] => return if same { Ok(None) } else { Err(not_editable("its real servers have different checks")) },
        [c] => c,
        _ => return Err(not_editable("its real servers have several checks each")),
    };
    if !same {
        return Err(not_editable("its real servers have different checks"));
    }
    match read(&Fields::new(values(Some(shown)))) {
        Ok(Some(c)) if c == *shown => Ok(Some(shown)),
        _ => Err(not_editable(&format!("its {} check has settings this form does not show", shown.kind.keyword()))),
    }
}

fn not_editable(why: &str) -> String {
    format!("The check form cannot change this service's checks: {why}. Change them in the configuration file.")
}

/// Gives every real server of the service this check (or none), if the form can edit what the
/// service has now ([`editable`]).
pub fn set(service: String, check: Option<Check>) -> Edit {
    Box::new(move |config: &mut Config| {
        let vs = find_service(config, &service)?;
        editable(vs).map_err(crate::backend::EditError::form)?;
        for r in &mut vs.reals {
            r.checks = check.iter().cloned().collect();
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn send_expect_as_piranha_writes_it() {
        let f = Fields::new([("kind", "send_expect"), ("send", "GET / HTTP/1.0\\r\\n\\r\\n"), ("expect", "HTTP"), ("interval", "2"), ("timeout", "1")]);
        let check = read(&f).unwrap_or_else(|e| panic!("{e:?}")).unwrap_or_else(|| panic!("a check"));
        assert_eq!(check.kind, CheckKind::SendExpect { send: b"GET / HTTP/1.0\r\n\r\n".to_vec(), expect: ExpectPattern::Prefix(b"HTTP".to_vec()) });
        assert_eq!((check.timing.delay_loop, check.timing.connect_timeout), (Duration::from_secs(2), Duration::from_secs(1)));
        assert_eq!(read(&Fields::new(values(Some(&check)))).ok().flatten(), Some(check), "the drawn form reads back the same");
    }

    #[test]
    fn http_with_and_without_status() {
        let f = Fields::new([("kind", "http"), ("path", "/health")]);
        let Some(Check { kind: CheckKind::Http(h), .. }) = read(&f).ok().flatten() else { panic!("http") };
        assert_eq!(h.urls[0].status, StatusCodes::success());
        let f = Fields::new([("kind", "http"), ("path", "health"), ("status", "700"), ("interval", "0")]);
        let errors = read(&f).err().unwrap_or_default();
        for field in ["path", "status", "interval"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
    }

    #[test]
    fn the_virtual_host_is_the_checks_host_header() {
        let f = Fields::new([("kind", "http"), ("path", "/"), ("vhost", "www.example.com:8080")]);
        let check = read(&f).ok().flatten().unwrap_or_else(|| panic!("http"));
        let CheckKind::Http(h) = &check.kind else { panic!("http") };
        assert_eq!(h.virtualhost.as_deref(), Some("www.example.com:8080"));
        assert_eq!(read(&Fields::new(values(Some(&check)))).ok().flatten(), Some(check), "the drawn form reads back the same");
        for bad in ["www example", "host/path", "user@host"] {
            let errors = read(&Fields::new([("kind", "http"), ("path", "/"), ("vhost", bad)])).err().unwrap_or_default();
            assert!(errors.get("vhost").is_some(), "{bad}");
        }
    }

    #[test]
    fn a_check_the_form_cannot_show_is_not_overwritten() {
        use rvs_core::config::{RealServer, TlsOptions};
        use rvs_core::model::{DestSpec, ForwardMethod, Netmask, Protocol, SchedulerName, ServiceFlags, ServiceKey, ServiceSpec, TunnelSpec, Weight};
        let f = Fields::new([("kind", "http"), ("path", "/health")]);
        let plain = read(&f).ok().flatten().unwrap_or_else(|| panic!("http"));
        let mut tls = plain.clone();
        if let CheckKind::Http(h) = &mut tls.kind {
            h.tls = Some(TlsOptions::default());
        }
        let key = ServiceKey::Addr { protocol: Protocol::Tcp, addr: [10, 0, 0, 1].into(), port: 443 };
        let spec = ServiceSpec { key, scheduler: SchedulerName::wlc(), flags: ServiceFlags::default(), timeout: 0, netmask: Netmask::full(key.af()), pe: None };
        let real = |a: u8, checks: Vec<Check>| RealServer {
            checks,
            ..RealServer::new(DestSpec { addr: [10, 0, 1, a].into(), port: 443, fwd: ForwardMethod::Route, weight: Weight::new(1).unwrap_or_default(), u_threshold: 0, l_threshold: 0, tunnel: TunnelSpec::default() })
        };
        let vs = |checks: [Vec<Check>; 2]| {
            let [a, b] = checks;
            VirtualServer::new(spec.clone(), vec![real(2, a), real(3, b)])
        };
        assert_eq!(editable(&vs([vec![plain.clone()], vec![plain.clone()]])), Ok(Some(&plain)));
        assert!(editable(&vs([vec![tls.clone()], vec![tls.clone()]])).is_err(), "SSL_GET would become HTTP_GET");
        assert!(editable(&vs([vec![plain.clone()], vec![]])).is_err(), "per-server checks");
        assert!(editable(&vs([vec![plain.clone(), plain.clone()], vec![plain.clone(), plain]])).is_err());
        let mut config = Config { virtual_servers: vec![vs([vec![tls.clone()], vec![tls.clone()]])], ..Config::default() };
        assert!(set("tcp-10.0.0.1-443".into(), None)(&mut config).is_err());
        assert_eq!(config.virtual_servers[0].reals[0].checks, vec![tls]);
    }

    #[test]
    fn udp_dns_and_ping_read_back_as_drawn() {
        let cases = [
            Fields::new([("kind", "udp"), ("payload", "ping\\n"), ("reply", "on")]),
            Fields::new([("kind", "udp"), ("payload", "")]),
            Fields::new([("kind", "dns"), ("dns_type", "A"), ("dns_name", "www.example.com")]),
            Fields::new([("kind", "dns"), ("dns_type", "SOA"), ("dns_name", "")]),
            Fields::new([("kind", "ping"), ("interval", "2")]),
        ];
        for f in cases {
            let check = read(&f).unwrap_or_else(|e| panic!("{f:?}: {e:?}")).unwrap_or_else(|| panic!("a check"));
            assert_eq!(read(&Fields::new(values(Some(&check)))).ok().flatten(), Some(check), "the drawn form reads back the same");
        }
        let Ok(Some(Check { kind: CheckKind::Udp(u), .. })) = read(&Fields::new([("kind", "udp"), ("payload", "hi\\n"), ("reply", "on")])) else { panic!("udp") };
        assert_eq!((u.payload.as_slice(), u.require_reply.is_some(), u.max_reply_length), (&b"hi\n"[..], true, 255));
        let Ok(Some(Check { kind: CheckKind::Dns { qtype, name }, .. })) = read(&Fields::new([("kind", "dns"), ("dns_type", "SOA")])) else { panic!("dns") };
        assert_eq!((qtype, name.as_str()), (DnsQueryType::Soa, "."), "keepalived's defaults");
        for (field, f) in [
            ("dns_type", Fields::new([("kind", "dns"), ("dns_type", "ANY")])),
            ("dns_name", Fields::new([("kind", "dns"), ("dns_type", "A"), ("dns_name", "a b")])),
            ("payload", Fields::new([("kind", "udp"), ("payload", "\\q")])),
        ] {
            assert!(read(&f).err().is_some_and(|e| e.get(field).is_some()), "{field}");
        }
    }

    #[test]
    fn none_and_bad_escapes() {
        assert_eq!(read(&Fields::new([("kind", "none")])), Ok(None));
        let errors = read(&Fields::new([("kind", "send_expect"), ("send", "a\\q")])).err().unwrap_or_default();
        assert!(errors.get("send").is_some());
    }
}
