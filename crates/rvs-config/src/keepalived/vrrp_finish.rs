//! `vrrp_script` blocks, and instances completed as keepalived's `vrrp/vrrp.c`
//! `vrrp_complete_instance` does: priority and state derived from each other, the version from
//! the addresses, `advert_int` rounded to what the version can send, authentication checked,
//! `track_script` names resolved.

use std::time::Duration;

use rvs_core::config::{VrrpAuth, VrrpInstance, VrrpScript, VrrpState, VrrpVersion};

use super::context::After;
use super::tree::Node;
use super::vrrp::InstanceDraft;
use super::{Ctx, Draft, Pos, value};

pub(super) fn script(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    let Some(name) = node.text(1) else {
        ctx.error(node.pos(), "`vrrp_script` needs a name", Some("vrrp_script chk_haproxy { … }".into()));
        return;
    };
    ctx.extra(node, 2);
    if !ctx.need_block(node) {
        return;
    }
    let mut s = VrrpScript {
        name: name.to_owned(),
        script: rvs_core::config::Script { argv: Vec::new() },
        interval: Duration::from_secs(1),
        timeout: None,
        weight: 0,
        rise: 1,
        fall: 1,
    };
    const SCRIPT: &[&str] = &["script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"];
    for n in node.children() {
        if SCRIPT.contains(&n.keyword()) {
            ctx.no_block(n);
        }
        match n.keyword() {
            "script" => {
                if let Some(sc) = ctx.script(n, After::Nothing) {
                    s.script = sc;
                }
            }
            "interval" | "timeout" => {
                let Some(mut t) = ctx.timer(n, 1, true) else { continue };
                if t.is_zero() {
                    ctx.warn(n.pos(), format!("`{}` 0 is taken as 1 second (as keepalived does)", n.keyword()), None);
                    t = Duration::from_secs(1);
                }
                if n.keyword() == "interval" {
                    s.interval = t;
                } else {
                    s.timeout = Some(t);
                }
            }
            "weight" => {
                if let Some(w) = ctx.int(n, 1, -253, 253) {
                    s.weight = i32::try_from(w).unwrap_or(0);
                }
                if let Some(w) = n.word(2) {
                    ctx.warn(w.pos, format!("`weight` option `{}` is not supported by rvs (ignored)", w.text), None);
                }
            }
            "rise" | "fall" => {
                if let Some(v) = ctx.number(n, 1, 1, i32::MAX as u64) {
                    let v = u32::try_from(v).unwrap_or(1);
                    if n.keyword() == "rise" { s.rise = v } else { s.fall = v }
                }
            }
            "user" => ctx.ignored(n, "is not supported: rvs runs scripts as its own user (ignored)"),
            "init_fail" => ctx.ignored(n, "is not supported by rvs (ignored)"),
            _ => ctx.unknown(n, SCRIPT, "`vrrp_script`"),
        }
    }
    if s.script.argv.is_empty() {
        ctx.error(node.pos(), format!("vrrp_script `{name}` has no `script`"), None);
        return;
    }
    if draft.scripts.iter().any(|(x, _)| x.name == s.name) {
        ctx.error(node.pos(), format!("vrrp_script `{name}` is defined twice"), None);
        return;
    }
    draft.scripts.push((s, node.pos()));
}

/// The instances with keepalived's derived settings and checks.
pub(super) fn finish(draft: &Draft, ctx: &mut Ctx) -> Vec<VrrpInstance> {
    let names: Vec<&str> = draft.scripts.iter().map(|(s, _)| s.name.as_str()).collect();
    let mut out = Vec::new();
    for d in &draft.instances {
        let mut inst = d.inst.clone();
        let name = inst.name.clone();
        if !d.vrid {
            ctx.error(d.pos, format!("vrrp_instance `{name}` has no `virtual_router_id`"), Some("virtual_router_id 1-255, the same on both directors".into()));
        }
        if !d.interface && !d.unicast {
            ctx.error(d.pos, format!("vrrp_instance `{name}` has no `interface`"), Some("name the interface VRRP adverts are sent on".into()));
        }
        // keepalived: no priority → 255 for state MASTER, else 100; no state → MASTER at 255.
        if !d.priority && inst.state == VrrpState::Master {
            inst.priority = 255;
        }
        if !d.state && inst.priority == 255 {
            inst.state = VrrpState::Master;
        }
        let global_v3 = draft.vrrp_defaults.version.unwrap_or(false);
        inst.version = match d.version {
            Some((VrrpVersion::V2, pos)) if d.ipv6 => {
                ctx.warn(pos, format!("vrrp_instance `{name}`: IPv6 needs VRRP version 3 (using 3)"), None);
                VrrpVersion::V3
            }
            Some((v, _)) => v,
            None if d.ipv6 || global_v3 => VrrpVersion::V3,
            None => VrrpVersion::V2,
        };
        advert_int(&mut inst, d.advert_int, ctx);
        inst.authentication = auth(d, inst.version, ctx);
        if let Some(pos) = d.nopreempt {
            if inst.priority == 255 {
                ctx.warn(pos, "`nopreempt` does not apply to the address owner (priority 255): ignored", None);
                inst.preempt = true;
            } else if inst.state == VrrpState::Master {
                ctx.warn(pos, "`nopreempt` does not work with `state MASTER`: ignored", Some("use `state BACKUP` on both directors".into()));
                inst.preempt = true;
            }
        }
        if let Some(pos) = d.preempt_delay
            && (inst.state == VrrpState::Master || !inst.preempt)
        {
            ctx.warn(pos, "`preempt_delay` does not work with `state MASTER` or `nopreempt`: ignored", None);
            inst.preempt_delay = Duration::ZERO;
        }
        let g = &draft.vrrp_defaults;
        if !d.garp_delay {
            inst.garp_master_delay = g.garp_delay.unwrap_or(inst.garp_master_delay);
        }
        if !d.garp_repeat {
            inst.garp_master_repeat = g.garp_repeat.unwrap_or(inst.garp_master_repeat);
        }
        if !d.garp_refresh {
            inst.garp_master_refresh = g.garp_refresh.unwrap_or(inst.garp_master_refresh);
        }
        for (script, pos) in &d.track_script {
            if names.contains(&script.as_str()) {
                inst.track_script.push(script.clone());
            } else {
                let hint = value::suggest(script, &names).map(|s| format!("did you mean `{s}`?"));
                ctx.error(*pos, format!("track_script `{script}`: no vrrp_script has this name"), hint);
            }
        }
        if inst.virtual_ipaddress.is_empty() {
            ctx.warn(d.pos, format!("vrrp_instance `{name}` has no virtual_ipaddress"), None);
        }
        out.push(inst);
    }
    out
}

/// v2 sends whole seconds below 256; v3 centiseconds below 40.96 s: keepalived rounds.
fn advert_int(inst: &mut VrrpInstance, pos: Option<Pos>, ctx: &mut Ctx) {
    let Some(pos) = pos else { return };
    let micros = inst.advert_int.as_micros();
    let (unit, max) = match inst.version {
        VrrpVersion::V2 => (1_000_000u128, 255_000_000u128),
        VrrpVersion::V3 => (10_000, 40_950_000),
    };
    let rounded = if micros > max { max } else { ((micros + unit / 2) / unit * unit).max(unit) };
    if rounded != micros {
        let fixed = Duration::from_micros(u64::try_from(rounded).unwrap_or(1_000_000));
        let why = match inst.version {
            VrrpVersion::V2 => "VRRPv2 sends whole seconds below 256",
            VrrpVersion::V3 => "VRRPv3 sends hundredths of a second below 40.96",
        };
        ctx.warn(pos, format!("`advert_int` {:?} is taken as {fixed:?}: {why}", inst.advert_int), None);
        inst.advert_int = fixed;
    }
}

fn auth(d: &InstanceDraft, version: VrrpVersion, ctx: &mut Ctx) -> Option<VrrpAuth> {
    let (kind, pos) = match (&d.auth_type, &d.auth_pass) {
        (None, None) => return None,
        (None, Some((_, pos))) => {
            ctx.warn(*pos, "`auth_pass` without `auth_type`: no authentication", None);
            return None;
        }
        (Some((k, pos)), _) => (k.as_str(), *pos),
    };
    match kind {
        "PASS" => {}
        "AH" => {
            ctx.error(pos, "`auth_type AH` is not supported by rvs", Some("use `auth_type PASS`, or no authentication".into()));
            return None;
        }
        other => {
            ctx.error(pos, format!("unknown `auth_type` `{other}`"), Some("`PASS` (or `AH`)".into()));
            return None;
        }
    }
    if version == VrrpVersion::V3 {
        ctx.warn(pos, "VRRP version 3 has no authentication: ignored", None);
        return None;
    }
    let Some((pass, pass_pos)) = &d.auth_pass else {
        ctx.warn(pos, "`auth_type PASS` without `auth_pass`: no authentication", None);
        return None;
    };
    let mut pass = pass.clone();
    if pass.len() > 8 {
        let cut = (0..=8).rev().find(|i| pass.is_char_boundary(*i)).unwrap_or(0);
        pass.truncate(cut);
        ctx.warn(*pass_pos, format!("`auth_pass` is cut to its first 8 characters, `{pass}` (as keepalived does)"), None);
    }
    Some(VrrpAuth::Pass(pass))
}
