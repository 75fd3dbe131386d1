//! lvs.cf's settings into rvs's model, the way lvsd, nanny and pulse act on them.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use rvs_core::config::{
    Check, CheckKind, CheckTarget, CheckTiming, Config, ExpectPattern, MiscCheck, RealServer, ReplyPattern, Script,
    SyncDaemonSpec, UdpCheck, VirtualAddress, VirtualServer, VrrpInstance,
};
use rvs_core::model::{
    AddressFamily, DestSpec, ForwardMethod, Fwmark, MAX_PORT_RANGES, MarkRule, Netmask, PortRange, Protocol,
    ServiceFlags, ServiceKey, ServiceSpec, TimeoutUpdate, TunnelSpec, Weight,
};

use super::lex;
use super::read::{At, Global, Raw, Virtual};
use crate::format::Diags;

/// nanny's test of a port-80 service that has no send, expect or send_program.
const HTTP_SEND: &str = "GET / HTTP/1.0\r\n\r\n";
const HTTP_EXPECT: &str = "HTTP";

/// The name of the one VRRP instance an lvs.cf gives.
pub(super) const INSTANCE: &str = "lvs";
/// Its virtual router id: pulse has none; 1 unless the operator changes it.
pub(super) const VRID: u8 = 1;

pub(super) fn build(raw: Raw, d: &mut Diags) -> Config {
    let g = &raw.global;
    let fwd = g.network.as_ref().map_or(ForwardMethod::Masq, |n| n.value);
    let mut config = Config { router_id: g.primary.as_ref().map(|p| p.value.to_string()), ..Config::default() };
    let mut started: Vec<&Virtual> = Vec::new();
    let mut marks: Vec<(u32, Protocol, Ipv4Addr, Vec<u16>, u32)> = Vec::new();
    for v in &raw.virtuals {
        match v.active {
            Some(true) => {}
            Some(false) => continue,
            None => {
                d.warn(v.line, format!("virtual {} has no `active = 1`: piranha does not start it", v.name), None);
                continue;
            }
        }
        let Some(address) = &v.address else {
            d.error(
                v.line,
                1,
                format!("virtual {} has no `address`", v.name),
                Some("give its VIP and device: `address = 192.168.1.250 eth0:1`".to_owned()),
            );
            continue;
        };
        let vip = address.value.0;
        if v.fwmark != 0 {
            match marks.iter_mut().find(|m| m.0 == v.fwmark && m.1 == v.protocol && m.2 == vip) {
                Some(m) => m.3.push(v.port),
                None => marks.push((v.fwmark, v.protocol, vip, vec![v.port], v.line)),
            }
        }
        let key = match Fwmark::new(v.fwmark) {
            Some(mark) => ServiceKey::Fwmark { af: AddressFamily::Inet, mark },
            None => ServiceKey::Addr { protocol: v.protocol, addr: IpAddr::V4(vip), port: v.port },
        };
        if let Some(first) = started.iter().zip(&config.virtual_servers).find(|(_, vs)| vs.service.key == key) {
            d.warn(
                v.line,
                format!("virtual {}: service {key} is already virtual {}'s; skipped", v.name, first.0.name),
                Some("lvsd's `ipvsadm -A` fails for the second one, so piranha never starts it".to_owned()),
            );
            continue;
        }
        let Some(vs) = virtual_server(v, key, fwd, d) else { continue };
        config.virtual_servers.push(vs);
        started.push(v);
    }
    if started.is_empty() && !d.has_errors() {
        d.warn(0, "no active virtual server: pulse would refuse to start".to_owned(), None);
    }
    config.marks = mark_rules(&marks, d);
    let timeouts = [&g.tcp_timeout, &g.tcpfin_timeout, &g.udp_timeout];
    if timeouts.iter().any(|t| t.is_some()) {
        let secs = |t: &Option<At<u32>>| t.as_ref().map_or(0, |t| t.value);
        config.timeouts =
            Some(TimeoutUpdate { tcp: secs(&g.tcp_timeout), tcp_fin: secs(&g.tcpfin_timeout), udp: secs(&g.udp_timeout) });
    }
    if g.syncdaemon.as_ref().is_some_and(|s| s.value) {
        // pulse ran `ipvsadm --start-daemon master|backup --mcast-interface syncd_iface
        // --syncid syncd_id` (eth0 without syncd_iface); rvs runs both at once.
        let interface = g.syncd_iface.as_ref().map_or_else(|| "eth0".to_owned(), |i| base_device(&i.value));
        let mut spec = SyncDaemonSpec::new(interface);
        spec.syncid = g.syncd_id.as_ref().map_or(0, |i| i.value);
        config.sync_daemon = Some(spec);
    }
    if let Some(instance) = vrrp(g, &started, d) {
        config.vrrp.push(instance);
    }
    config
}

/// One started virtual server, or `None` when it has an error.
fn virtual_server(v: &Virtual, key: ServiceKey, fwd: ForwardMethod, d: &mut Diags) -> Option<VirtualServer> {
    let service = ServiceSpec {
        key,
        scheduler: v.scheduler.clone(),
        flags: ServiceFlags { persistent: v.persistent > 0, ..ServiceFlags::default() },
        timeout: v.persistent,
        netmask: match v.pmask {
            Some(mask) if v.persistent > 0 => Netmask::V4(mask),
            _ => Netmask::full(AddressFamily::Inet),
        },
        pe: None,
    };
    let plan = plan_check(v, d);
    let mut reals: Vec<RealServer> = Vec::new();
    let mut ok = true;
    for s in &v.servers {
        match s.active {
            Some(true) => {}
            Some(false) => continue,
            None => {
                d.warn(s.line, format!("server {} has no `active = 1`: piranha does not start it", s.name), None);
                continue;
            }
        }
        let Some(addr) = s.address else {
            d.error(s.line, 1, format!("server {} has no `address`", s.name), Some("add `address = 10.0.0.100`".to_owned()));
            ok = false;
            continue;
        };
        let addr = IpAddr::V4(addr);
        if reals.iter().any(|r| r.dest.addr == addr && r.dest.port == s.port) {
            d.warn(
                s.line,
                format!("server {} ({addr}:{}) is listed twice in virtual {}; skipped", s.name, s.port, v.name),
                Some("lvsd starts one monitor per address and port".to_owned()),
            );
            continue;
        }
        if s.weight == 0 {
            d.warn(s.line, format!("server {} has weight 0: nanny would have used 1", s.name), None);
        }
        let dest = DestSpec {
            addr,
            port: s.port,
            fwd,
            weight: Weight::new(s.weight).unwrap_or_default(),
            u_threshold: 0,
            l_threshold: 0,
            tunnel: TunnelSpec::default(),
        };
        reals.push(RealServer {
            checks: vec![plan.check_for(addr, s.port)],
            inhibit_on_failure: v.quiesce_server,
            slow_start: true,
            ..RealServer::new(dest)
        });
    }
    let sorry_server = v.sorry_server.map(|a| DestSpec {
        addr: IpAddr::V4(a),
        port: v.port,
        fwd,
        weight: Weight::new(1).unwrap_or_default(),
        u_threshold: 0,
        l_threshold: 0,
        tunnel: TunnelSpec::default(),
    });
    // nanny adds a real server once its first check passed: alpha.
    ok.then_some(VirtualServer { sorry_server, alpha: true, ..VirtualServer::new(service, reals) })
}

/// nanny's test of a virtual server's real servers.
struct CheckPlan {
    kind: CheckKind,
    /// send_program's words, with `%h` and `%p` still in them.
    program: Option<Vec<String>>,
    timing: CheckTiming,
}

impl CheckPlan {
    fn check_for(&self, addr: IpAddr, port: u16) -> Check {
        let mut kind = self.kind.clone();
        if let (Some(words), CheckKind::Misc(misc)) = (&self.program, &mut kind) {
            let argv = words
                .iter()
                .map(|w| match w.as_str() {
                    "%h" => addr.to_string(),
                    "%p" => port.to_string(),
                    _ => w.clone(),
                })
                .collect();
            misc.script = Script { argv };
        }
        Check { kind, timing: self.timing, target: CheckTarget::default() }
    }
}

fn plan_check(v: &Virtual, d: &mut Diags) -> CheckPlan {
    let interval = Duration::from_secs(u64::from(v.timeout));
    let reentry = match v.reentry.value {
        0 => {
            d.warn(v.reentry.line, "reentry = 0: nanny waits 180 s".to_owned(), None);
            180
        }
        r => r,
    };
    // lvsd passes `timeout` as nanny's `-t`: the pause between checks and the time a connect or
    // a read may take. The first failure takes the real server out.
    let timing = CheckTiming {
        connect_timeout: interval,
        retry: 0,
        delay_before_retry: Duration::ZERO,
        delay_loop: interval,
        warmup: Duration::ZERO,
        reentry: Duration::from_secs(u64::from(reentry)),
    };
    if let Some(lm) = v.load_monitor.as_ref().filter(|lm| lm.value != "none") {
        d.warn(
            lm.line,
            format!("load_monitor = {} is ignored: rvs does not set weights from the real servers' load", lm.value),
            None,
        );
    }
    if let Some(program) = &v.send_program {
        if let Some(send) = &v.send {
            d.warn(send.line, "send is ignored: send_program takes precedence, as in nanny".to_owned(), None);
        }
        let expect = v.expect.as_ref().map_or(String::new(), |e| format!(" (\"{}\")", e.value));
        d.warn(
            program.line,
            "send_program: rvs counts the real server up when the program exits with status 0".to_owned(),
            Some(format!("nanny compared what it printed with expect{expect}: make it exit 0 when healthy")),
        );
        // nanny's external_check splits on spaces (strtok) and replaces words that are exactly
        // `%h` or `%p`.
        let words: Vec<String> = program.value.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
        let kind = CheckKind::Misc(MiscCheck {
            script: Script { argv: words.clone() },
            timeout: Some(interval),
            dynamic: false,
            user: None,
        });
        return CheckPlan { kind, program: Some(words), timing };
    }
    if let Some(send) = v.send.as_ref().filter(|s| s.value.ends_with("rnrn") && !s.value.contains('\\')) {
        d.warn(
            send.line,
            format!("send \"{}\" ends in `rnrn`: sent as written", send.value),
            Some("were backslashes lost? `\\r\\n\\r\\n` sends CR LF CR LF".to_owned()),
        );
    }
    let builtin = v.port == 80 && v.send.is_none() && v.expect.is_none();
    let (send, expect) = if builtin {
        (Some(HTTP_SEND.to_owned()), Some(HTTP_EXPECT.to_owned()))
    } else {
        (v.send.as_ref().map(|s| lex::unescape(&s.value)), v.expect.as_ref().map(|e| lex::unescape(&e.value)))
    };
    let pattern = match expect {
        None => None,
        Some(e) if v.use_regex => Some(ExpectPattern::Regex(e)),
        Some(e) if e == "*" || e.is_empty() => Some(ExpectPattern::Any),
        Some(e) => Some(ExpectPattern::Prefix(e.into_bytes())),
    };
    let kind = match v.protocol {
        Protocol::Udp => {
            let require_reply = match pattern {
                Some(ExpectPattern::Prefix(bytes)) => Some(ReplyPattern(bytes.into_iter().map(Some).collect())),
                Some(ExpectPattern::Regex(_)) => {
                    d.warn(
                        v.expect.as_ref().map_or(v.line, |e| e.line),
                        "use_regex on a UDP virtual server: rvs's UDP check matches bytes; any reply counts".to_owned(),
                        None,
                    );
                    Some(ReplyPattern::default())
                }
                Some(ExpectPattern::Any) => Some(ReplyPattern::default()),
                None if send.is_some() => Some(ReplyPattern::default()),
                None => {
                    d.warn(
                        v.line,
                        format!("virtual {} (udp) has no send or expect: nanny has no test for it", v.name),
                        Some("rvs sends an empty datagram; only an ICMP port unreachable fails the check".to_owned()),
                    );
                    None
                }
            };
            // nanny reads as much of the reply as it compares: longer replies pass.
            CheckKind::Udp(UdpCheck {
                payload: send.map(String::into_bytes).unwrap_or_default(),
                require_reply,
                min_reply_length: 0,
                max_reply_length: 65_535,
            })
        }
        _ if send.is_none() && pattern.is_none() => CheckKind::Tcp,
        _ => CheckKind::SendExpect {
            send: send.map(String::into_bytes).unwrap_or_default(),
            expect: pattern.unwrap_or(ExpectPattern::Any),
        },
    };
    CheckPlan { kind, program: None, timing }
}

/// The mark classifier's rules for fwmark virtual servers: lvs.cf leaves marking to iptables,
/// so rvs marks what the virtual servers name (their VIP, protocol and ports).
fn mark_rules(marks: &[(u32, Protocol, Ipv4Addr, Vec<u16>, u32)], d: &mut Diags) -> Vec<MarkRule> {
    let mut rules = Vec::new();
    for (mark, protocol, vip, ports, line) in marks {
        let Some(fwmark) = Fwmark::new(*mark) else { continue };
        let mut ports = ports.clone();
        ports.sort_unstable();
        ports.dedup();
        for chunk in ports.chunks(MAX_PORT_RANGES) {
            let rule = MarkRule {
                protocol: Some(*protocol),
                addr: *vip,
                prefix: 32,
                ports: chunk.iter().map(|&p| PortRange { first: p, last: p }).collect(),
                mark: fwmark,
            };
            d.warn(
                *line,
                format!("fwmark {mark}: rvs marks new connections itself with `{rule}`"),
                Some("lvs.cf leaves marking to iptables: compare with your `iptables -t mangle` rules".to_owned()),
            );
            rules.push(rule);
        }
    }
    rules
}

/// pulse's heartbeat pair as one VRRP instance (only with `backup_active = 1`).
fn vrrp(g: &Global, started: &[&Virtual], d: &mut Diags) -> Option<VrrpInstance> {
    let nat = g.network.as_ref().is_none_or(|n| n.value == ForwardMethod::Masq);
    let nat_router = g.nat_router.as_ref().filter(|_| nat);
    let Some(active) = g.backup_active.as_ref().filter(|a| a.value) else {
        for cmd in [&g.active_cmd, &g.inactive_cmd].into_iter().flatten() {
            d.warn(cmd.line, "active_cmd and inactive_cmd run only with backup_active = 1 in rvs".to_owned(), None);
        }
        if let Some(m) = g.monitor_links.as_ref().filter(|m| m.value) {
            d.warn(m.line, "monitor_links is ignored without backup_active = 1".to_owned(), None);
        }
        return None;
    };
    let Some(backup) = &g.backup else {
        d.warn(active.line, "backup_active = 1 without `backup`: pulse ignores it".to_owned(), None);
        return None;
    };
    let Some(primary) = &g.primary else {
        d.error(
            active.line,
            1,
            "backup_active = 1 needs `primary`".to_owned(),
            Some("name the primary director's address: `primary = 192.168.1.10`".to_owned()),
        );
        return None;
    };
    // The devices the VIPs go on, as pulse's `ifconfig eth0:1` put them: the interface, and
    // the alias as the address's label.
    let mut vips: Vec<VirtualAddress> = Vec::new();
    let mut add = |addr: Ipv4Addr, prefix: u8, device: &str| {
        if !vips.iter().any(|v| v.addr == IpAddr::V4(addr)) {
            let mut vip = VirtualAddress::new(IpAddr::V4(addr), prefix);
            vip.dev = Some(base_device(device));
            vip.label = Some(device.to_owned()).filter(|d| d.contains(':'));
            vips.push(vip);
        }
    };
    for v in started {
        if let Some(a) = &v.address {
            add(a.value.0, v.vip_nmask.unwrap_or(32), &a.value.1);
        }
    }
    if let Some(n) = nat_router {
        add(n.value.0, g.nat_nmask.as_ref().map_or(32, |m| m.value), &n.value.1);
    }
    // VRRP speaks on the first VIP's interface (the public one in seed 002).
    let interface = vips.first().and_then(|v| v.dev.clone()).unwrap_or_else(|| "eth0".to_owned());
    let mut instance = VrrpInstance::new(INSTANCE.to_owned(), interface.clone(), VRID);
    for vip in &mut vips {
        if vip.dev.as_deref() == Some(interface.as_str()) {
            vip.dev = None;
        }
    }
    let keepalive = g.keepalive.as_ref().map_or(2, |k| k.value);
    instance.advert_int = Duration::from_secs(u64::from(keepalive));
    let deadtime = g.deadtime.as_ref().map_or(5, |k| k.value);
    if deadtime != 3 * keepalive {
        d.warn(
            g.deadtime.as_ref().map_or(active.line, |k| k.line),
            format!("deadtime {deadtime} is not kept: VRRP takes over after 3 advertisements ({} s)", 3 * keepalive),
            Some(format!("keepalive = {} gives about the same takeover time", (deadtime / 3).max(1))),
        );
    }
    instance.virtual_ipaddress = vips;
    instance.unicast_peer = vec![IpAddr::V4(primary.value), IpAddr::V4(backup.value)];
    if primary.value == backup.value {
        d.warn(backup.line, format!("primary and backup are the same address ({})", backup.value), None);
    }
    let private = [(&g.primary_private, primary), (&g.backup_private, backup)];
    if let Some(p) = private.iter().find_map(|(p, public)| p.as_ref().filter(|p| p.value != public.value)) {
        d.warn(
            p.line,
            "primary_private and backup_private are ignored: VRRP advertises on one interface".to_owned(),
            None,
        );
    }
    d.warn(
        active.line,
        "lvs.cf does not say which director reads it: the VRRP instance is BACKUP, priority 100".to_owned(),
        Some(format!(
            "the director owning `primary` ({}) is MASTER, priority 150 (rvs_config::piranha::assign_role); \
             a converted TOML must say so on that director",
            primary.value
        )),
    );
    instance.notify_master = g.active_cmd.as_ref().and_then(|c| words(&c.value));
    instance.notify_backup = g.inactive_cmd.as_ref().and_then(|c| words(&c.value));
    if g.monitor_links.as_ref().is_some_and(|m| m.value) {
        let mut seen = HashSet::new();
        instance.track_interface = std::iter::once(interface)
            .chain(nat_router.map(|n| base_device(&n.value.1)))
            .filter(|dev| seen.insert(dev.clone()))
            .collect();
    }
    Some(instance)
}

/// pulse's executeCommand splits on spaces.
fn words(command: &str) -> Option<Script> {
    Script::new(command.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect())
}

/// `eth0` of `eth0:1`.
fn base_device(dev: &str) -> String {
    dev.split(':').next().unwrap_or(dev).to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::read::mask_of;
    use super::*;

    #[test]
    fn devices_and_masks() {
        assert_eq!(base_device("eth0:1"), "eth0");
        assert_eq!(base_device("bond0"), "bond0");
        assert_eq!(mask_of(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(mask_of(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(mask_of(32), Ipv4Addr::BROADCAST);
    }
}
