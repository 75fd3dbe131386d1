//! The drafts of `virtual_server` blocks into rvs-core's virtual servers, as keepalived's
//! `check_data.c` `validate_check_config` completes them: default scheduler and forwarding
//! method, persistence of port-less services, destination ports, quorum bounds, address
//! families; one virtual server per member of a group.

use std::net::IpAddr;

use rvs_core::config::{RealServer, VirtualServer};
use rvs_core::model::{
    AddressFamily, DestSpec, ForwardMethod, Netmask, Protocol, SchedFlags, SchedulerName, ServiceFlags, ServiceKey,
    ServiceSpec, TunnelSpec, Weight,
};

use super::checkers::{self, Inherited};
use super::lvs::{Fwd, PERSISTENCE_DEFAULT, Target, VsDraft};
use super::{Ctx, Draft, Pos, group, value};

/// The virtual servers of the file, in order, a group's members one after another.
pub(super) fn finish(draft: &Draft, ctx: &mut Ctx) -> Vec<VirtualServer> {
    let mut out: Vec<(VirtualServer, Pos)> = Vec::new();
    for d in &draft.servers {
        let members = match &d.target {
            Target::Addr(ip, port) => vec![group::Member::Addr(*ip, *port)],
            Target::Fwmark(m) => vec![group::Member::Fwmark(*m, None)],
            Target::Group(name) => match draft.groups.iter().find(|g| g.name == *name) {
                Some(g) => g.members.clone(),
                None => {
                    let names: Vec<&str> = draft.groups.iter().map(|g| g.name.as_str()).collect();
                    let hint = value::suggest(name, &names).map(|s| format!("did you mean `{s}`?"));
                    ctx.error(d.pos, format!("no `virtual_server_group {name}` is defined"), hint);
                    continue;
                }
            },
        };
        if members.is_empty() {
            continue;
        }
        if d.reals.is_empty() {
            // A real server refused for an error is not "no real server".
            if !ctx.has_errors() {
                ctx.warn(d.pos, "virtual server has no real servers: ignored (as keepalived does)", None);
            }
            continue;
        }
        let all_fwmark = members.iter().all(|m| matches!(m, group::Member::Fwmark(..)));
        let shared = Shared::new(d, draft, all_fwmark, ctx);
        for m in members {
            let Some(vs) = shared.build(d, m, ctx) else { continue };
            if let Some((_, first)) = out.iter().find(|(v, _)| v.service.key == vs.service.key) {
                let hint = Some(format!("first defined at line {}", first.line));
                ctx.error(d.pos, format!("virtual server {} is defined twice", vs.service.key), hint);
                continue;
            }
            out.push((vs, d.pos));
        }
    }
    out.into_iter().map(|(vs, _)| vs).collect()
}

/// What the members of one `virtual_server` block share.
struct Shared<'a> {
    draft: &'a Draft,
    family: AddressFamily,
    scheduler: SchedulerName,
    flags: SchedFlags,
    fwd: Fwd,
    quorum: u32,
    hysteresis: u32,
    alpha: bool,
    all_fwmark: bool,
}

impl<'a> Shared<'a> {
    fn new(d: &VsDraft, draft: &'a Draft, all_fwmark: bool, ctx: &mut Ctx) -> Self {
        let scheduler = d.scheduler.clone().unwrap_or_else(|| {
            ctx.warn(d.pos, "no `lvs_sched`: using wlc (keepalived's default)", None);
            SchedulerName::wlc()
        });
        let mut flags = d.flags;
        for (f, pos) in &d.sched_flags {
            let (sched, bit) = f.split_once('-').map_or(("", ""), |x| x);
            if scheduler.as_str() != sched {
                ctx.warn(*pos, format!("`{f}` applies to the {sched} scheduler only (ignored)"), None);
                continue;
            }
            flags = flags.union(if bit == "fallback" { SchedFlags::FLAG_1 } else { SchedFlags::FLAG_2 });
        }
        let uses_default = d.reals.iter().any(|r| r.fwd.is_none()) || d.sorry.as_ref().is_some_and(|s| s.fwd.is_none());
        let fwd = d.fwd.unwrap_or_else(|| {
            if uses_default {
                ctx.warn(d.pos, "no `lvs_method`: using NAT (keepalived's default; ipvsadm's is DR)", None);
            }
            Fwd { method: ForwardMethod::Masq, tunnel: TunnelSpec::default() }
        });
        let family = d.family.unwrap_or_else(|| {
            let tunnelled = |f: Option<Fwd>| f.unwrap_or(fwd).method == ForwardMethod::Tunnel;
            d.reals
                .iter()
                .find(|r| !tunnelled(r.fwd))
                .map(|r| r.ip)
                .or(d.sorry.as_ref().filter(|s| !tunnelled(s.fwd)).map(|s| s.ip))
                .map_or(AddressFamily::Inet, |ip| AddressFamily::of(&ip))
        });
        let total: u64 = d.reals.iter().map(|r| u64::from(r.weight.unwrap_or(d.weight).get())).sum();
        let mut quorum = d.quorum;
        if u64::from(quorum) > total {
            let message = format!("quorum {quorum} exceeds the real servers' total weight {total}: using {total} (as keepalived does)");
            ctx.warn(d.pos, message, None);
            quorum = total as u32;
        }
        let mut hysteresis = d.hysteresis;
        if hysteresis >= quorum && hysteresis > 0 {
            let h = quorum.saturating_sub(1);
            ctx.warn(d.pos, format!("hysteresis {hysteresis} must be below the quorum {quorum}: using {h} (as keepalived does)"), None);
            hysteresis = h;
        }
        let mut alpha = d.alpha;
        let alphas = d.reals.iter().flat_map(|r| r.alpha.iter().chain(r.checks.iter().flat_map(|c| c.alpha.iter())));
        for (a, pos) in alphas {
            if *a != d.alpha {
                let message = if *a {
                    "`alpha` applies to the whole virtual server in rvs: all its real servers start failed"
                } else {
                    "`alpha no` here is not supported: rvs applies the virtual server's `alpha` to all its real servers"
                };
                ctx.warn(*pos, message, None);
                alpha |= *a;
            }
        }
        Shared { draft, family, scheduler, flags, fwd, quorum, hysteresis, alpha, all_fwmark }
    }

    fn build(&self, d: &VsDraft, member: group::Member, ctx: &mut Ctx) -> Option<VirtualServer> {
        let (key, af, port) = match member {
            group::Member::Addr(ip, port) => {
                let protocol = match d.protocol {
                    Some((p, _)) => p,
                    None => {
                        let hint = Some("add `protocol TCP`".to_owned());
                        ctx.warn(d.pos, "no `protocol`: using UDP (keepalived's default)", hint);
                        Protocol::Udp
                    }
                };
                (ServiceKey::Addr { protocol, addr: ip, port }, AddressFamily::of(&ip), port)
            }
            group::Member::Fwmark(mark, af) => {
                if let Some((_, pos)) = d.protocol.filter(|_| self.all_fwmark) {
                    ctx.warn(pos, "`protocol` does not apply to a fwmark service (ignored)", None);
                }
                let af = af.unwrap_or(self.family);
                let message = format!("fwmark {}: keepalived.conf does not say which packets carry the mark", mark.get());
                ctx.warn(d.pos, message, Some("give rvsd a classifier rule that sets it (rvsd --mark)".into()));
                (ServiceKey::Fwmark { af, mark }, af, 0)
            }
        };
        let is_addr = matches!(key, ServiceKey::Addr { .. });
        let mut one_packet = d.ops.is_some();
        if let (Some(pos), ServiceKey::Addr { protocol, .. }) = (d.ops, key)
            && protocol != Protocol::Udp
        {
            ctx.warn(pos, "`ops` (one-packet scheduling) applies to UDP services only (ignored)", None);
            one_packet = false;
        }
        let mut timeout = d.persistence.unwrap_or(0);
        if timeout == 0 && d.granularity.is_some() {
            timeout = PERSISTENCE_DEFAULT;
        }
        if timeout == 0 && is_addr && port == 0 {
            ctx.warn(d.pos, "a service without a port must be persistent: persistence_timeout 360 (as keepalived does)", None);
            timeout = PERSISTENCE_DEFAULT;
        }
        let netmask = match &d.granularity {
            None => Netmask::full(af),
            Some((g, pos)) => granularity(g, *pos, af, ctx)?,
        };
        let service = ServiceSpec {
            key,
            scheduler: self.scheduler.clone(),
            flags: ServiceFlags { persistent: timeout > 0, one_packet, sched: self.flags },
            timeout,
            netmask,
            pe: d.pe.clone(),
        };
        let mut reals: Vec<RealServer> = Vec::new();
        for r in &d.reals {
            let fwd = r.fwd.unwrap_or(self.fwd);
            let Some(dest_port) = self.dest_port(r.port, fwd, is_addr, port, r.pos, "real server", ctx) else { continue };
            if !self.family_ok(r.ip, fwd, af, r.pos, ctx) {
                continue;
            }
            if reals.iter().any(|x| x.dest.addr == r.ip && x.dest.port == dest_port) {
                ctx.error(r.pos, format!("real server {} is listed twice in this virtual server", show(r.ip, dest_port)), None);
                continue;
            }
            let dest = DestSpec {
                addr: r.ip,
                port: dest_port,
                fwd: fwd.method,
                weight: r.weight.unwrap_or(d.weight),
                u_threshold: r.u_threshold,
                l_threshold: r.l_threshold,
                tunnel: fwd.tunnel,
            };
            let up = Inherited {
                timing: r.timing.over(d.timing),
                virtualhost: r.virtualhost.as_deref().or(d.virtualhost.as_deref()),
                addr_port: dest_port,
                track_files: &self.draft.track_files,
            };
            let checks = r.checks.iter().filter_map(|c| checkers::finish(c, &up, ctx)).collect();
            reals.push(RealServer {
                dest,
                checks,
                inhibit_on_failure: r.inhibit.unwrap_or(d.inhibit),
                notify_up: r.notify_up.clone(),
                notify_down: r.notify_down.clone(),
                slow_start: false,
                enabled: true,
            });
        }
        let sorry_server = d.sorry.as_ref().and_then(|s| {
            let fwd = s.fwd.unwrap_or(self.fwd);
            let p = if s.port == 0 && is_addr { port } else { s.port };
            let dest_port = self.dest_port(p, fwd, is_addr, port, s.pos, "sorry server", ctx)?;
            self.family_ok(s.ip, fwd, af, s.pos, ctx).then_some(DestSpec {
                addr: s.ip,
                port: dest_port,
                fwd: fwd.method,
                weight: Weight::new(1).unwrap_or_default(),
                u_threshold: 0,
                l_threshold: 0,
                tunnel: fwd.tunnel,
            })
        });
        if let (Some(pos), None) = (d.sorry_inhibit, &d.sorry) {
            ctx.warn(pos, "`sorry_server_inhibit` without a `sorry_server` (ignored)", None);
        }
        Some(VirtualServer {
            service,
            reals,
            quorum: self.quorum,
            hysteresis: self.hysteresis,
            quorum_up: d.quorum_up.clone(),
            quorum_down: d.quorum_down.clone(),
            sorry_server,
            sorry_server_inhibit: d.sorry_inhibit.is_some() && d.sorry.is_some(),
            alpha: self.alpha,
            omega: d.omega,
            enabled: true,
        })
    }

    /// A destination's port, as keepalived sets it: NAT keeps its own (none: the service's);
    /// DR and TUN use the service's (none for fwmark services).
    #[allow(clippy::too_many_arguments)]
    fn dest_port(&self, own: u16, fwd: Fwd, is_addr: bool, port: u16, pos: Pos, what: &str, ctx: &mut Ctx) -> Option<u16> {
        if fwd.method == ForwardMethod::Masq {
            return Some(if own == 0 { port } else { own });
        }
        if own != 0 && own != port {
            let message = if is_addr {
                format!("{what} port {own} differs from the service's {port}: DR and TUN keep the port, using {port} (as keepalived does)")
            } else {
                format!("{what} port {own} ignored: DR and TUN destinations of a fwmark service have none (as keepalived does)")
            };
            ctx.warn(pos, message, None);
        }
        Some(port)
    }

    /// Whether a destination's family suits the service (TUN may mix families).
    fn family_ok(&self, ip: IpAddr, fwd: Fwd, af: AddressFamily, pos: Pos, ctx: &mut Ctx) -> bool {
        let ok = fwd.method == ForwardMethod::Tunnel || AddressFamily::of(&ip) == af;
        if !ok {
            let (v, s) = if ip.is_ipv4() { ("IPv4", "IPv6") } else { ("IPv6", "IPv4") };
            let hint = Some("only TUN destinations may be of another family than their service".to_owned());
            ctx.error(pos, format!("{ip} is {v} but the virtual server is {s}"), hint);
        }
        ok
    }
}

/// `persistence_granularity`: a dotted mask for IPv4, a prefix length (1-128) for IPv6.
fn granularity(g: &str, pos: Pos, af: AddressFamily, ctx: &mut Ctx) -> Option<Netmask> {
    let mask = match af {
        AddressFamily::Inet => g.parse().ok().map(Netmask::V4),
        AddressFamily::Inet6 => value::unsigned(g).filter(|p| (1..=128).contains(p)).map(|p| Netmask::V6(p as u8)),
    };
    if mask.is_none() {
        let want = if af == AddressFamily::Inet { "an IPv4 netmask such as 255.255.255.0" } else { "a prefix length (1-128)" };
        ctx.error(pos, format!("`persistence_granularity` `{g}` is not {want}"), None);
    }
    mask
}

fn show(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}
