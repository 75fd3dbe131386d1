//! A configuration as rvs's TOML: every value the model holds that differs from what the reader
//! would assume, in an order an operator reads (the service, then its real servers and checks).

use std::fmt::Write as _;

use rvs_core::config::{
    Check, CheckKind, CheckTiming, Config, ExpectPattern, RealServer, Script, StatusCodes, VirtualServer,
    VrrpAuth, VrrpInstance, VrrpScript, VrrpState, VrrpVersion,
};
use rvs_core::model::{DestSpec, ForwardMethod, Netmask, SchedFlags, ServiceKey, TunnelCsum, TunnelKind, TunnelSpec};

use super::raw::{DEFAULT_FORWARD, DNS_NAME, HELO_NAME, MAX_REPLY_LENGTH, SCRIPT_INTERVAL};
use super::values::{
    dest_text, duration_text, forward_text, hex, http_version_text, quoted, reply_text, script_is_plain,
    service_text, status_text,
};

/// The configuration as TOML that [`super::parse`] reads back to the same configuration.
pub fn to_toml(config: &Config) -> String {
    let mut w = Writer(String::new());
    if let Some(id) = &config.router_id {
        w.line("router_id", quoted(id));
    }
    if !config.marks.is_empty() {
        w.0.push_str("# the mark classifier's rules, for fwmark services (tried in order)\nmarks = [\n");
        for m in &config.marks {
            let _ = writeln!(w.0, "    {},", quoted(&m.to_string()));
        }
        w.0.push_str("]\n");
    }
    if let Some(t) = &config.timeouts {
        w.0.push_str("\n[timeouts]  # ipvsadm --set, in seconds; 0 keeps the kernel's value\n");
        w.line("tcp", t.tcp.to_string());
        w.line("tcp_fin", t.tcp_fin.to_string());
        w.line("udp", t.udp.to_string());
    }
    if let Some(s) = &config.sync_daemon {
        w.0.push_str("\n[sync_daemon]  # IPVS connection sync, master and backup at once\n");
        w.line("interface", quoted(&s.interface));
        if let Some(instance) = &s.instance {
            w.line("instance", quoted(instance));
        }
        w.line("syncid", s.syncid.to_string());
        for (key, value) in [("port", s.port.map(u32::from)), ("ttl", s.ttl.map(u32::from)), ("maxlen", s.maxlen.map(u32::from))] {
            if let Some(v) = value {
                w.line(key, v.to_string());
            }
        }
        if let Some(group) = s.group {
            w.line("group", quoted(&group.to_string()));
        }
    }
    for vs in &config.virtual_servers {
        virtual_server(&mut w, vs);
    }
    for i in &config.vrrp {
        instance(&mut w, i);
    }
    for s in &config.vrrp_scripts {
        script(&mut w, s);
    }
    w.0
}

struct Writer(String);

impl Writer {
    fn line(&mut self, key: &str, value: String) {
        let _ = writeln!(self.0, "{key} = {value}");
    }

    fn header(&mut self, name: &str) {
        let _ = write!(self.0, "\n[[{name}]]\n");
    }

    fn header_noted(&mut self, name: &str, note: &str) {
        let _ = write!(self.0, "\n[[{name}]]  # {note}\n");
    }
}

fn virtual_server(w: &mut Writer, vs: &VirtualServer) {
    let s = &vs.service;
    let key = &s.key;
    w.header("virtual_server");
    w.line("service", quoted(&service_text(key)));
    w.line("scheduler", quoted(s.scheduler.as_str()));
    if s.flags.persistent {
        w.line("persistence", s.timeout.to_string());
    } else if s.timeout != 0 {
        w.line("persistent", "false".to_owned());
        w.line("persistence", s.timeout.to_string());
    }
    if s.netmask != Netmask::full(key.af()) {
        let mask = match s.netmask {
            Netmask::V4(m) => quoted(&m.to_string()),
            Netmask::V6(p) => p.to_string(),
        };
        w.line("persistence_mask", mask);
    }
    if let Some(pe) = &s.pe {
        w.line("persistence_engine", quoted(pe.as_str()));
    }
    if s.flags.one_packet {
        w.line("one_packet", "true".to_owned());
    }
    if !s.flags.sched.is_empty() {
        let flags: Vec<String> = [(SchedFlags::FLAG_1, "flag-1"), (SchedFlags::FLAG_2, "flag-2"), (SchedFlags::FLAG_3, "flag-3")]
            .iter()
            .filter(|(f, _)| s.flags.sched.contains(*f))
            .map(|(_, n)| quoted(n))
            .collect();
        w.line("sched_flags", format!("[{}]", flags.join(", ")));
    }
    let fwd = vs.reals.first().map(|r| r.dest.fwd).or(vs.sorry_server.map(|d| d.fwd)).unwrap_or(DEFAULT_FORWARD);
    if !vs.reals.is_empty() || vs.sorry_server.is_some() || fwd != DEFAULT_FORWARD {
        w.line("forward", quoted(forward_text(fwd)));
    }
    if vs.quorum != 1 {
        w.line("quorum", vs.quorum.to_string());
    }
    if vs.hysteresis != 0 {
        w.line("hysteresis", vs.hysteresis.to_string());
    }
    opt_script(w, "quorum_up", vs.quorum_up.as_ref());
    opt_script(w, "quorum_down", vs.quorum_down.as_ref());
    if let Some(sorry) = &vs.sorry_server {
        let plain = sorry.weight.get() == 1
            && sorry.fwd == fwd
            && sorry.u_threshold == 0
            && sorry.l_threshold == 0
            && sorry.tunnel == TunnelSpec::default();
        let address = quoted(&dest_text(sorry.addr, sorry.port, key));
        if plain {
            w.line("sorry_server", address);
        } else {
            w.line("sorry_server", format!("{{ {} }}", dest_fields(sorry, key, fwd).join(", ")));
        }
    }
    for (flag, name) in [(vs.sorry_server_inhibit, "sorry_server_inhibit"), (vs.alpha, "alpha"), (vs.omega, "omega")] {
        if flag {
            w.line(name, "true".to_owned());
        }
    }
    if !vs.enabled {
        w.line("enabled", "false".to_owned());
    }
    // Checks every real server has, written once.
    let shared = vs.reals.first().map(|r| &r.checks).filter(|c| !c.is_empty() && vs.reals.iter().all(|r| r.checks == **c));
    if let Some(checks) = shared {
        for (i, c) in checks.iter().enumerate() {
            let note = (i == 0).then_some("checks of every real server below");
            check(w, "virtual_server.check", note, c);
        }
    }
    for r in &vs.reals {
        real(w, r, key, fwd, shared.is_none());
    }
}

fn real(w: &mut Writer, r: &RealServer, key: &ServiceKey, fwd: ForwardMethod, own_checks: bool) {
    w.header("virtual_server.real");
    for field in dest_fields(&r.dest, key, fwd) {
        w.0.push_str(&field);
        w.0.push('\n');
    }
    for (flag, name) in [(r.inhibit_on_failure, "inhibit_on_failure"), (r.slow_start, "slow_start")] {
        if flag {
            w.line(name, "true".to_owned());
        }
    }
    if !r.enabled {
        w.line("enabled", "false".to_owned());
    }
    opt_script(w, "notify_up", r.notify_up.as_ref());
    opt_script(w, "notify_down", r.notify_down.as_ref());
    if own_checks {
        for c in &r.checks {
            check(w, "virtual_server.real.check", None, c);
        }
    }
}

/// `key = value` items of a destination: address and weight always, the rest when not default.
fn dest_fields(d: &DestSpec, key: &ServiceKey, fwd: ForwardMethod) -> Vec<String> {
    let mut f = vec![
        format!("address = {}", quoted(&dest_text(d.addr, d.port, key))),
        format!("weight = {}", d.weight.get()),
    ];
    if d.fwd != fwd {
        f.push(format!("forward = {}", quoted(forward_text(d.fwd))));
    }
    if d.u_threshold != 0 {
        f.push(format!("u_threshold = {}", d.u_threshold));
    }
    if d.l_threshold != 0 {
        f.push(format!("l_threshold = {}", d.l_threshold));
    }
    if d.tunnel != TunnelSpec::default() {
        let kind = match d.tunnel.kind {
            TunnelKind::Ipip => "ipip",
            TunnelKind::Gue => "gue",
            TunnelKind::Gre => "gre",
        };
        let csum = match d.tunnel.csum {
            TunnelCsum::NoCsum => "nocsum",
            TunnelCsum::Csum => "csum",
            TunnelCsum::RemCsum => "remcsum",
        };
        f.push(format!("tunnel = {{ type = \"{kind}\", port = {}, csum = \"{csum}\" }}", d.tunnel.port));
    }
    f
}

fn check(w: &mut Writer, table: &str, note: Option<&str>, c: &Check) {
    match note {
        Some(note) => w.header_noted(table, note),
        None => w.header(table),
    }
    let kind = match &c.kind {
        CheckKind::Tcp => "tcp",
        CheckKind::Http(h) if h.tls.is_some() => "https",
        CheckKind::Http(_) => "http",
        CheckKind::SendExpect { .. } => "send_expect",
        CheckKind::Smtp { .. } => "smtp",
        CheckKind::Dns { .. } => "dns",
        CheckKind::Udp(_) => "udp",
        CheckKind::Ping => "ping",
        CheckKind::Misc(_) => "misc",
        CheckKind::File(_) => "file",
    };
    w.line("type", quoted(kind));
    match &c.kind {
        CheckKind::Tcp | CheckKind::Ping => {}
        CheckKind::Http(h) => {
            if !h.urls.is_empty() {
                w.0.push_str("url = [\n");
                for u in &h.urls {
                    let mut f = vec![format!("path = {}", quoted(&u.path))];
                    if u.status != StatusCodes::success() {
                        f.push(format!("status = {}", quoted(&status_text(&u.status))));
                    }
                    if let Some(d) = &u.digest {
                        f.push(format!("digest = {}", quoted(&hex(d))));
                    }
                    if let Some(r) = &u.regex {
                        f.push(format!("regex = {}", quoted(r)));
                    }
                    if u.regex_no_match {
                        f.push("regex_no_match = true".to_owned());
                    }
                    if let Some(v) = &u.virtualhost {
                        f.push(format!("virtualhost = {}", quoted(v)));
                    }
                    let _ = writeln!(w.0, "    {{ {} }},", f.join(", "));
                }
                w.0.push_str("]\n");
            }
            if let Some(v) = &h.virtualhost {
                w.line("virtualhost", quoted(v));
            }
            if h.version != Default::default() {
                w.line("http_version", quoted(http_version_text(h.version)));
            }
            if let Some(tls) = &h.tls {
                if tls.enable_sni {
                    w.line("sni", "true".to_owned());
                }
                if let Some(n) = &tls.sni_name {
                    w.line("sni_name", quoted(n));
                }
            }
        }
        CheckKind::SendExpect { send, expect } => {
            bytes(w, "send", send, false);
            match expect {
                ExpectPattern::Any => {}
                ExpectPattern::Prefix(b) => bytes(w, "expect", b, true),
                ExpectPattern::Regex(r) => w.line("expect_regex", quoted(r)),
            }
        }
        CheckKind::Smtp { helo_name } => {
            if helo_name != HELO_NAME {
                w.line("helo_name", quoted(helo_name));
            }
        }
        CheckKind::Dns { qtype, name } => {
            w.line("query_type", quoted(qtype.name()));
            if name != DNS_NAME {
                w.line("name", quoted(name));
            }
        }
        CheckKind::Udp(u) => {
            bytes(w, "payload", &u.payload, false);
            match &u.require_reply {
                None => {}
                Some(p) if p.0.is_empty() => w.line("require_reply", "true".to_owned()),
                Some(p) => w.line("require_reply", quoted(&reply_text(p))),
            }
            if u.min_reply_length != 0 {
                w.line("min_reply_length", u.min_reply_length.to_string());
            }
            if u.max_reply_length != MAX_REPLY_LENGTH {
                w.line("max_reply_length", u.max_reply_length.to_string());
            }
        }
        CheckKind::Misc(m) => {
            w.line("script", script_value(&m.script));
            if let Some(t) = m.timeout {
                w.line("timeout", quoted(&duration_text(t)));
            }
            if m.dynamic {
                w.line("dynamic", "true".to_owned());
            }
            if let Some(u) = &m.user {
                w.line("user", quoted(u));
            }
        }
        CheckKind::File(f) => {
            w.line("path", quoted(&f.path.to_string_lossy()));
            if f.multiplier != 0 {
                w.line("weight", f.multiplier.to_string());
            }
            if f.reverse {
                w.line("reverse", "true".to_owned());
            }
            if f.dynamic {
                w.line("dynamic", "true".to_owned());
            }
        }
    }
    timing(w, &c.timing, &CheckTiming::keepalived_default(&c.kind));
    let t = &c.target;
    if let Some(ip) = t.ip {
        w.line("connect_ip", quoted(&ip.to_string()));
    }
    if let Some(p) = t.port {
        w.line("connect_port", p.to_string());
    }
    if let Some(ip) = t.bind_ip {
        w.line("bind_ip", quoted(&ip.to_string()));
    }
    if let Some(p) = t.bind_port {
        w.line("bind_port", p.to_string());
    }
}

fn timing(w: &mut Writer, t: &CheckTiming, d: &CheckTiming) {
    let durations = [
        ("connect_timeout", t.connect_timeout, d.connect_timeout),
        ("delay_before_retry", t.delay_before_retry, d.delay_before_retry),
        ("delay_loop", t.delay_loop, d.delay_loop),
        ("warmup", t.warmup, d.warmup),
        ("reentry", t.reentry, d.reentry),
    ];
    for (i, (name, value, default)) in durations.into_iter().enumerate() {
        if i == 1 && t.retry != d.retry {
            w.line("retry", t.retry.to_string());
        }
        if value != default {
            w.line(name, quoted(&duration_text(value)));
        }
    }
}

/// Bytes as text when they are UTF-8, else as hex (`KEY_hex`); empty ones only when
/// `keep_empty` (an empty `expect` is not an absent one).
fn bytes(w: &mut Writer, key: &str, b: &[u8], keep_empty: bool) {
    if b.is_empty() && !keep_empty {
        return;
    }
    match std::str::from_utf8(b) {
        Ok(s) => w.line(key, quoted(s)),
        Err(_) => w.line(&format!("{key}_hex"), quoted(&hex(b))),
    }
}

fn script_value(s: &Script) -> String {
    if script_is_plain(s) {
        quoted(&s.argv.join(" "))
    } else {
        format!("[{}]", s.argv.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(", "))
    }
}

fn opt_script(w: &mut Writer, key: &str, s: Option<&Script>) {
    if let Some(s) = s {
        w.line(key, script_value(s));
    }
}

fn instance(w: &mut Writer, i: &VrrpInstance) {
    let d = VrrpInstance::new(i.name.clone(), i.interface.clone(), i.virtual_router_id);
    w.header("vrrp_instance");
    w.line("name", quoted(&i.name));
    w.line("state", quoted(if i.state == VrrpState::Master { "master" } else { "backup" }));
    w.line("interface", quoted(&i.interface));
    w.line("virtual_router_id", i.virtual_router_id.to_string());
    w.line("priority", i.priority.to_string());
    w.line("advert_int", quoted(&duration_text(i.advert_int)));
    if i.version != VrrpVersion::V2 {
        w.line("version", "3".to_owned());
    }
    if i.preempt != d.preempt {
        w.line("preempt", i.preempt.to_string());
    }
    if i.preempt_delay != d.preempt_delay {
        w.line("preempt_delay", quoted(&duration_text(i.preempt_delay)));
    }
    let vips: Vec<String> = i.virtual_ipaddress.iter().map(|v| quoted(&super::values::vip_text(v))).collect();
    w.line("virtual_ipaddress", format!("[{}]", vips.join(", ")));
    if let Some(src) = i.unicast_src_ip {
        w.line("unicast_src_ip", quoted(&src.to_string()));
    }
    if !i.unicast_peer.is_empty() {
        let peers: Vec<String> = i.unicast_peer.iter().map(|a| quoted(&a.to_string())).collect();
        w.line("unicast_peer", format!("[{}]", peers.join(", ")));
    }
    if let Some(VrrpAuth::Pass(p)) = &i.authentication {
        w.line("auth_pass", quoted(p));
    }
    for (key, list) in [("track_interface", &i.track_interface), ("track_script", &i.track_script)] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|x| quoted(x)).collect();
            w.line(key, format!("[{}]", items.join(", ")));
        }
    }
    opt_script(w, "notify_master", i.notify_master.as_ref());
    opt_script(w, "notify_backup", i.notify_backup.as_ref());
    opt_script(w, "notify_fault", i.notify_fault.as_ref());
    opt_script(w, "notify", i.notify.as_ref());
    if i.garp_master_delay != d.garp_master_delay {
        w.line("garp_master_delay", quoted(&duration_text(i.garp_master_delay)));
    }
    if i.garp_master_repeat != d.garp_master_repeat {
        w.line("garp_master_repeat", i.garp_master_repeat.to_string());
    }
    if i.garp_master_refresh != d.garp_master_refresh {
        w.line("garp_master_refresh", quoted(&duration_text(i.garp_master_refresh)));
    }
}

fn script(w: &mut Writer, s: &VrrpScript) {
    w.header("vrrp_script");
    w.line("name", quoted(&s.name));
    w.line("script", script_value(&s.script));
    if s.interval != SCRIPT_INTERVAL {
        w.line("interval", quoted(&duration_text(s.interval)));
    }
    if let Some(t) = s.timeout {
        w.line("timeout", quoted(&duration_text(t)));
    }
    if s.weight != 0 {
        w.line("weight", s.weight.to_string());
    }
    if s.rise != 1 {
        w.line("rise", s.rise.to_string());
    }
    if s.fall != 1 {
        w.line("fall", s.fall.to_string());
    }
}
