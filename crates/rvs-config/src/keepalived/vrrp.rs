//! `vrrp_instance` blocks (`vrrp/vrrp_parser.c`), read as stated; [`super::vrrp_finish`]
//! completes them once the whole file is read.

use std::time::Duration;

use rvs_core::config::{VirtualAddress, VrrpInstance, VrrpState, VrrpVersion};

use super::context::After;
use super::tree::Node;
use super::{Ctx, Draft, Pos, value};

/// `global_defs` settings that are the instances' defaults.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Defaults {
    /// `vrrp_version 3`
    pub version: Option<bool>,
    pub garp_delay: Option<Duration>,
    pub garp_repeat: Option<u32>,
    pub garp_refresh: Option<Duration>,
}

/// An instance as its block states it, finished once the whole file is read.
#[derive(Debug, Clone)]
pub(super) struct InstanceDraft {
    pub inst: VrrpInstance,
    pub pos: Pos,
    pub vrid: bool,
    pub interface: bool,
    pub priority: bool,
    pub state: bool,
    pub unicast: bool,
    pub ipv6: bool,
    pub version: Option<(VrrpVersion, Pos)>,
    pub advert_int: Option<Pos>,
    pub garp_delay: bool,
    pub garp_repeat: bool,
    pub garp_refresh: bool,
    pub auth_type: Option<(String, Pos)>,
    pub auth_pass: Option<(String, Pos)>,
    pub track_script: Vec<(String, Pos)>,
    pub nopreempt: Option<Pos>,
    pub preempt_delay: Option<Pos>,
}

const INSTANCE: &[&str] = &[
    "state",
    "interface",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "nopreempt",
    "preempt",
    "preempt_delay",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "unicast_src_ip",
    "mcast_src_ip",
    "unicast_peer",
    "authentication",
    "track_interface",
    "track_script",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify",
    "garp_master_delay",
    "garp_master_repeat",
    "garp_master_refresh",
];

/// `vrrp_instance` keywords keepalived knows for what rvs does not do.
const INSTANCE_UNSUPPORTED: &[&str] = &[
    "use_vmac",
    "use_vmac_addr",
    "vmac_xmit_base",
    "use_ipvlan",
    "unicast_fault_no_peer",
    "check_unicast_src",
    "old_unicast_checksum",
    "native_ipv6",
    "vrf",
    "dont_track_primary",
    "track_file",
    "track_process",
    "track_bfd",
    "mcast_dst_ip",
    "track_src_ip",
    "unicast_ttl",
    "no_virtual_ipaddress",
    "promote_secondaries",
    "linkbeat_use_polling",
    "v3_checksum_as_v2",
    "virtual_routes",
    "virtual_rules",
    "accept",
    "no_accept",
    "skip_check_adv_addr",
    "strict_mode",
    "debug",
    "notify_stop",
    "notify_deleted",
    "notify_master_rx_lower_pri",
    "smtp_alert",
    "notify_priority_changes",
    "lvs_sync_daemon_interface",
    "garp_master_refresh_repeat",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "down_timer_adverts",
    "timer_expired_backup",
    "thread_timer_expired",
    "garp_extra_if",
    "vmac_garp_intvl",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "owner_ignore_adverts",
    "kernel_rx_buf_size",
    "auth_hmac",
];

/// Longest interface name (`IFNAMSIZ` − 1).
const IFNAME_MAX: usize = 15;

pub(super) fn instance(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    let Some(name) = node.text(1) else {
        ctx.error(node.pos(), "`vrrp_instance` needs a name", Some("vrrp_instance VI_1 { … }".into()));
        return;
    };
    ctx.extra(node, 2);
    if !ctx.need_block(node) {
        return;
    }
    if draft.instances.iter().any(|i| i.inst.name == name) {
        ctx.error(node.pos(), format!("vrrp_instance `{name}` is defined twice"), None);
        return;
    }
    let mut d = InstanceDraft {
        inst: VrrpInstance::new(name.to_owned(), String::new(), 0),
        pos: node.pos(),
        vrid: false,
        interface: false,
        priority: false,
        state: false,
        unicast: false,
        ipv6: false,
        version: None,
        advert_int: None,
        garp_delay: false,
        garp_repeat: false,
        garp_refresh: false,
        auth_type: None,
        auth_pass: None,
        track_script: Vec::new(),
        nopreempt: None,
        preempt_delay: None,
    };
    for n in node.children() {
        keyword(n, &mut d, ctx);
    }
    draft.instances.push(d);
}

fn keyword(n: &Node, d: &mut InstanceDraft, ctx: &mut Ctx) {
    let inst = &mut d.inst;
    let blocks = ["virtual_ipaddress", "virtual_ipaddress_excluded", "unicast_peer", "authentication", "track_interface", "track_script"];
    if INSTANCE.contains(&n.keyword()) && !blocks.contains(&n.keyword()) {
        ctx.no_block(n);
    }
    match n.keyword() {
        "state" => match ctx.value(n, 1) {
            Some("MASTER") => (inst.state, d.state) = (VrrpState::Master, true),
            Some("BACKUP") => (inst.state, d.state) = (VrrpState::Backup, true),
            Some(other) => ctx.error(n.words[1].pos, format!("unknown state `{other}`"), Some("`MASTER` or `BACKUP`".into())),
            None => {}
        },
        "interface" => {
            if let Some(name) = ctx.value(n, 1) {
                if name.len() > IFNAME_MAX {
                    ctx.error(n.words[1].pos, format!("interface name `{name}` is longer than {IFNAME_MAX} characters"), None);
                } else {
                    (inst.interface, d.interface) = (name.to_owned(), true);
                }
            }
        }
        "virtual_router_id" => {
            if let Some(v) = ctx.number(n, 1, 1, 255) {
                (inst.virtual_router_id, d.vrid) = (u8::try_from(v).unwrap_or(1), true);
            }
        }
        "priority" => {
            if let Some(v) = ctx.number(n, 1, 1, 255) {
                (inst.priority, d.priority) = (u8::try_from(v).unwrap_or(100), true);
            }
        }
        "advert_int" => {
            if let Some(t) = ctx.timer(n, 1, false) {
                if t < Duration::from_millis(10) || t > Duration::from_secs(255) {
                    ctx.error(n.words[1].pos, "`advert_int` is out of range (0.01-255 seconds)", None);
                } else {
                    (inst.advert_int, d.advert_int) = (t, Some(n.pos()));
                }
            }
        }
        "version" => {
            if let Some(v) = ctx.number(n, 1, 2, 3) {
                d.version = Some((if v == 3 { VrrpVersion::V3 } else { VrrpVersion::V2 }, n.pos()));
            }
        }
        "nopreempt" => (inst.preempt, d.nopreempt) = (false, Some(n.pos())),
        "preempt" => (inst.preempt, d.nopreempt) = (true, None),
        "preempt_delay" => {
            if let Some(t) = ctx.timer(n, 1, true) {
                if t > Duration::from_secs(1000) {
                    ctx.error(n.words[1].pos, "`preempt_delay` is out of range (0-1000 seconds)", None);
                } else {
                    (inst.preempt_delay, d.preempt_delay) = (t, Some(n.pos()));
                }
            }
        }
        "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
            if n.keyword() == "virtual_ipaddress_excluded" {
                let why = "is not supported: rvs adds these addresses as virtual_ipaddress (sent in adverts)";
                ctx.ignored(n, why);
            }
            for entry in n.children() {
                if let Some(vip) = vip(entry, &inst.interface, ctx) {
                    d.ipv6 |= vip.addr.is_ipv6();
                    inst.virtual_ipaddress.push(vip);
                }
            }
        }
        "unicast_src_ip" | "mcast_src_ip" => {
            d.unicast |= n.keyword() == "unicast_src_ip";
            inst.unicast_src_ip = ctx.ip(n, 1).or(inst.unicast_src_ip);
        }
        "unicast_peer" => {
            d.unicast = true;
            for p in n.children() {
                let Some(ip) = value::ip(p.keyword()) else {
                    ctx.bad_ip(p.pos(), p.keyword());
                    continue;
                };
                if inst.unicast_peer.contains(&ip) {
                    ctx.warn(p.pos(), format!("unicast_peer {ip} is listed twice"), None);
                    continue;
                }
                if p.words.len() > 1 {
                    ctx.warn(p.words[1].pos, format!("unicast_peer {ip}: `min_ttl`/`max_ttl` are not supported by rvs (ignored)"), None);
                }
                inst.unicast_peer.push(ip);
            }
        }
        "authentication" => {
            for a in n.children() {
                match a.keyword() {
                    "auth_type" => d.auth_type = ctx.value(a, 1).map(|t| (t.to_owned(), a.words[1].pos)),
                    "auth_pass" => d.auth_pass = ctx.value(a, 1).map(|p| (p.to_owned(), a.words[1].pos)),
                    _ => ctx.unknown(a, &["auth_type", "auth_pass"], "`authentication`"),
                }
            }
        }
        "track_interface" => {
            for t in n.children() {
                if t.words.len() > 1 {
                    ctx.warn(t.words[1].pos, "track_interface weights are not supported by rvs (ignored)", None);
                }
                inst.track_interface.push(t.keyword().to_owned());
            }
        }
        "track_script" => {
            for t in n.children() {
                if t.words.len() > 1 {
                    let message = format!("track_script `{}`: a weight here is not supported by rvs; the vrrp_script's weight is used", t.keyword());
                    ctx.warn(t.words[1].pos, message, None);
                }
                if d.track_script.iter().any(|(s, _)| s == t.keyword()) {
                    ctx.warn(t.pos(), format!("track_script `{}` is listed twice", t.keyword()), None);
                    continue;
                }
                d.track_script.push((t.keyword().to_owned(), t.pos()));
            }
        }
        "notify_master" => inst.notify_master = ctx.script(n, After::User),
        "notify_backup" => inst.notify_backup = ctx.script(n, After::User),
        "notify_fault" => inst.notify_fault = ctx.script(n, After::User),
        "notify" => inst.notify = ctx.script(n, After::User),
        "garp_master_delay" => {
            if let Some(t) = garp_delay(n, ctx) {
                (inst.garp_master_delay, d.garp_delay) = (t, true);
            }
        }
        "garp_master_repeat" => {
            if let Some(r) = garp_repeat(n, ctx) {
                (inst.garp_master_repeat, d.garp_repeat) = (r, true);
            }
        }
        "garp_master_refresh" => {
            if let Some(t) = garp_refresh(n, ctx) {
                (inst.garp_master_refresh, d.garp_refresh) = (t, true);
            }
        }
        kw if INSTANCE_UNSUPPORTED.contains(&kw) => ctx.ignored(n, "is not supported by rvs (ignored)"),
        _ => ctx.unknown(n, INSTANCE, "`vrrp_instance`"),
    }
}

/// `garp_master_delay` / `vrrp_garp_master_delay`: whole seconds.
pub(super) fn garp_delay(n: &Node, ctx: &mut Ctx) -> Option<Duration> {
    ctx.number(n, 1, 0, u64::from(u32::MAX / 1_000_000)).map(Duration::from_secs)
}

/// `garp_master_repeat`: at least 1 (keepalived takes 0 as 1).
pub(super) fn garp_repeat(n: &Node, ctx: &mut Ctx) -> Option<u32> {
    let r = ctx.number(n, 1, 0, u64::from(u32::MAX))?;
    if r == 0 {
        ctx.warn(n.pos(), format!("`{}` 0 is taken as 1 (as keepalived does)", n.keyword()), None);
    }
    Some(u32::try_from(r.max(1)).unwrap_or(u32::MAX))
}

/// `garp_master_refresh`: whole seconds, 0 for none.
pub(super) fn garp_refresh(n: &Node, ctx: &mut Ctx) -> Option<Duration> {
    ctx.number(n, 1, 0, u64::from(u32::MAX)).map(Duration::from_secs)
}

/// One `virtual_ipaddress` line: `IP[/PREFIX] [dev IF] [brd X] [scope X] [label X] …`.
fn vip(entry: &Node, interface: &str, ctx: &mut Ctx) -> Option<VirtualAddress> {
    let text = entry.keyword();
    let (addr, prefix) = text.split_once('/').map_or((text, None), |(a, p)| (a, Some(p)));
    let Some(ip) = value::ip(addr) else {
        ctx.bad_ip(entry.pos(), addr);
        return None;
    };
    let max = if ip.is_ipv6() { 128 } else { 32 };
    let prefix = match prefix {
        None => max,
        Some(p) => match value::unsigned(p) {
            Some(p) if p <= u64::from(max) => u8::try_from(p).unwrap_or(max),
            _ => {
                ctx.error(entry.pos(), format!("`{text}`: prefix length `{p}` is out of range (0-{max})"), None);
                return None;
            }
        },
    };
    let mut vip = VirtualAddress::new(ip, prefix);
    let mut i = 1;
    while let Some(w) = entry.word(i) {
        match w.text.as_str() {
            "dev" => {
                match entry.text(i + 1) {
                    Some(dev) if dev.len() > IFNAME_MAX => {
                        ctx.error(w.pos, format!("`{text}`: interface name `{dev}` is longer than {IFNAME_MAX} characters"), None);
                    }
                    Some(dev) if dev != interface => vip.dev = Some(dev.to_owned()),
                    Some(_) => {}
                    None => ctx.error(w.pos, format!("`{text}`: `dev` needs an interface name"), None),
                }
                i += 1;
            }
            "label" => {
                match entry.text(i + 1) {
                    Some(label) if label.len() <= IFNAME_MAX => vip.label = Some(label.to_owned()),
                    Some(label) => ctx.error(w.pos, format!("`{text}`: label `{label}` is longer than {IFNAME_MAX} characters"), None),
                    None => ctx.error(w.pos, format!("`{text}`: `label` needs a name"), None),
                }
                i += 1;
            }
            "brd" | "broadcast" | "scope" | "preferred_lft" => i += 1,
            "peer" => {
                ctx.warn(w.pos, format!("`{text}`: `peer` is not supported by rvs (ignored)"), None);
                i += 1;
            }
            "home" | "-nodad" | "nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin" | "no_track" | "use_vmac" => {}
            other => ctx.warn(w.pos, format!("`{text}`: unknown address option `{other}` (ignored)"), None),
        }
        i += 1;
    }
    // A label belongs to its interface (`eth1:1` on eth1), as the kernel requires.
    if let Some(label) = &vip.label {
        let dev = vip.dev.as_deref().unwrap_or(interface);
        if label != dev && !label.strip_prefix(dev).is_some_and(|rest| rest.starts_with(':') && rest.len() > 1) {
            ctx.error(entry.pos(), format!("`{text}`: label `{label}` must be `{dev}` or `{dev}:<alias>`"), None);
            return None;
        }
    }
    Some(vip)
}
