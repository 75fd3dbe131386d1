//! `rvs realserver up`: applies the plan step by step, recording each change in the state file
//! as soon as it is made. Steps already satisfied change nothing, so `up` can run again.

use std::net::Ipv4Addr;

use anyhow::{Context, Result, bail};
use rvs_dataplane::AttachMode;

use super::{
    decap::{self, XdpDecap},
    net::{Addr, Net},
    persist,
    place::Places,
    plan::{self, Step},
    spec::{DecapChoice, Forwarding, IfName, Spec, Tunnel},
    state::{self, Change, Decap, State},
    sysctl::{ConfTree, Key, Setting},
    tunnel,
};

/// Options of `up` that are not part of the configuration itself.
#[derive(Clone, Copy, Debug)]
pub struct UpOptions {
    /// Also write the boot-time files.
    pub persist: bool,
    /// How to attach the XDP decapsulation program.
    pub xdp_mode: AttachMode,
}

/// Prepares this namespace for `spec`.
pub fn up(spec: &Spec, places: &Places, options: UpOptions) -> Result<()> {
    let net = Net::open()?;
    let conf = ConfTree::proc();
    net.require_link(&spec.interface)?;
    let path = places.state_file();
    let mut state = match state::load_for(&path, places.netns_inode)? {
        Some(s) if s.spec == *spec => s,
        Some(s) => bail!(
            "this network namespace was prepared with `{}`; run `{}` first (it undoes that), then `up` again",
            s.spec.command_line("up"),
            s.spec.command_line("down"),
        ),
        None => State::new(spec.clone(), None, places.netns_inode),
    };
    if let Forwarding::Tun { tunnel, decap } = spec.forwarding
        && state.decap.is_none()
    {
        state.decap = Some(choose_decap(&net, places, spec, tunnel, decap)?);
    }
    let vip_dev = plan::vip_device(spec, state.decap.as_ref());
    refuse_conflicting_vips(spec, &vip_dev, &net.addresses()?)?;

    let mut changed = 0;
    for step in plan::steps(spec, state.decap.as_ref()) {
        let change = match apply(&net, &conf, spec, options, &step) {
            Ok(change) => change,
            Err(e) => {
                if !state.changes.is_empty() {
                    eprintln!(
                        "rvs realserver up stopped half-way; what it changed is recorded in {}, and `{}` undoes it",
                        path.display(),
                        spec.command_line("down")
                    );
                }
                return Err(e);
            }
        };
        if let Some(change) = change {
            state.record(change);
            state::save(&path, &state)?;
            changed += 1;
        }
    }
    if changed == 0 {
        // Nothing needed changing: still record the configuration (and the namespace), for
        // `down` and `status`.
        state::save(&path, &state)?;
    }
    let vips = spec
        .vips
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let how = match &state.decap {
        Some(Decap::Kernel { device }) => format!(", decapsulated by the kernel's {device}"),
        Some(Decap::Xdp { .. }) => {
            format!(", decapsulated by rvs's XDP program on {}", spec.interface)
        }
        None => String::new(),
    };
    let recorded = state.changes.len();
    println!(
        "real server ready: {vips} on {vip_dev}{how}; {}{recorded} change{} recorded in {}",
        if changed == 0 {
            "nothing needed changing; "
        } else {
            ""
        },
        if recorded == 1 { "" } else { "s" },
        path.display()
    );
    if options.persist {
        write_persist(places, spec, &conf, &state)?;
    }
    Ok(())
}

/// Kernel device or XDP program, as asked and as the kernel allows.
fn choose_decap(
    net: &Net,
    places: &Places,
    spec: &Spec,
    tunnel: Tunnel,
    choice: DecapChoice,
) -> Result<Decap> {
    let xdp = || Decap::Xdp {
        pin_dir: places.pin_dir(&spec.interface),
    };
    if choice == DecapChoice::Xdp {
        return Ok(xdp());
    }
    let mut loaded = Vec::new();
    let support = tunnel::kernel_support(net, tunnel, true, &mut loaded)?;
    for module in &loaded {
        println!("loaded kernel module {module} (it stays loaded after `down`)");
    }
    match (support, choice) {
        (Ok(()), _) => Ok(Decap::Kernel {
            device: tunnel::kernel_device(tunnel),
        }),
        (Err(why), DecapChoice::Kernel) => {
            bail!("--decap kernel: {why}; --decap xdp uses rvs's XDP program instead")
        }
        (Err(why), _) => {
            println!(
                "the kernel cannot decapsulate {}: {why}; using rvs's XDP program on {}",
                tunnel.name(),
                spec.interface
            );
            Ok(xdp())
        }
    }
}

/// Fails, before anything is changed, when a VIP is already configured where it would hurt: on
/// another interface (it would answer ARP there) or with a mask other than /32.
fn refuse_conflicting_vips(spec: &Spec, dev: &IfName, addrs: &[Addr]) -> Result<()> {
    for vip in &spec.vips {
        for a in addrs.iter().filter(|a| a.addr == vip.addr()) {
            if a.dev != dev.as_str() || a.prefix_len != 32 {
                bail!(
                    "VIP {vip} is already configured as {}/{} on {}; it must be a /32 on {dev} only \
                     (elsewhere this host may answer ARP for it and steal the director's traffic): \
                     remove it first (ip addr del {}/{} dev {})",
                    a.addr,
                    a.prefix_len,
                    a.dev,
                    a.addr,
                    a.prefix_len,
                    a.dev
                );
            }
        }
    }
    Ok(())
}

/// Carries out one step; returns the change made, if any.
fn apply(
    net: &Net,
    conf: &ConfTree,
    spec: &Spec,
    options: UpOptions,
    step: &Step,
) -> Result<Option<Change>> {
    match step {
        Step::Sysctl { key, rule } => {
            let before = conf.read_existing(key)?;
            if rule.accepts(before) {
                return Ok(None);
            }
            conf.write(key, rule.target)?;
            println!("{} = {} (was {before})", key.sysctl_name(), rule.target);
            Ok(Some(Change::Sysctl {
                key: key.clone(),
                before,
                after: rule.target,
            }))
        }
        Step::FouPort(port) => {
            if tunnel::fou_ports()?.is_some_and(|ports| ports.contains(port)) {
                return Ok(None);
            }
            tunnel::fou_add(*port)?;
            println!("opened GUE port {port} (ip fou add port {port} gue)");
            Ok(Some(Change::FouPort { port: *port }))
        }
        Step::LinkUp(dev) => {
            let link = net.require_link(dev)?;
            if link.up {
                return Ok(None);
            }
            net.set_up(&link, true)?;
            println!("set {dev} up");
            Ok(Some(Change::LinkUp { dev: dev.clone() }))
        }
        Step::DecapProgram { ifname, pin_dir } => {
            let Forwarding::Tun { tunnel, .. } = spec.forwarding else {
                return Ok(None);
            };
            let wanted = XdpDecap::wanted(tunnel, endpoint_addrs(net, spec, ifname)?);
            if let Some(found) = decap::status(pin_dir)?
                && found.attached
                && found.serves(&wanted)
                && found.ifname.as_deref().is_none_or(|n| n == ifname.as_str())
            {
                return Ok(None);
            }
            let mode = decap::install(ifname, options.xdp_mode, pin_dir, &wanted)?;
            let addrs = wanted
                .addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "attached rvs's XDP decapsulation program to {ifname} ({mode} mode) for {} to {addrs}, pinned in {}",
                tunnel.name(),
                pin_dir.display()
            );
            Ok(Some(Change::DecapProgram {
                ifname: ifname.clone(),
                pin_dir: pin_dir.clone(),
            }))
        }
        Step::Vip { dev, vip } => {
            let link = net.require_link(dev)?;
            let present = net
                .addresses()?
                .iter()
                .any(|a| a.index == link.index && a.addr == vip.addr() && a.prefix_len == 32);
            if present {
                return Ok(None);
            }
            net.add_address(&link, vip.addr(), 32)?;
            println!("added {vip}/32 to {dev}");
            Ok(Some(Change::Address {
                dev: dev.clone(),
                addr: vip.addr(),
                prefix_len: 32,
            }))
        }
    }
}

/// The interface's own addresses, which the director sends tunnelled packets to (not the VIPs).
fn endpoint_addrs(net: &Net, spec: &Spec, ifname: &IfName) -> Result<Vec<Ipv4Addr>> {
    let addrs: Vec<Ipv4Addr> = net
        .addresses()?
        .into_iter()
        .filter(|a| a.dev == ifname.as_str() && !spec.vips.iter().any(|v| v.addr() == a.addr))
        .map(|a| a.addr)
        .collect();
    if addrs.is_empty() {
        bail!(
            "{ifname} has no IPv4 address: the director sends tunnelled packets to an address of this host"
        );
    }
    Ok(addrs)
}

/// Writes the boot-time files and shows them.
fn write_persist(places: &Places, spec: &Spec, conf: &ConfTree, state: &State) -> Result<()> {
    let mut settings: Vec<(Key, u32)> = Vec::new();
    for step in plan::steps(spec, state.decap.as_ref()) {
        let Step::Sysctl { key, .. } = step else {
            continue;
        };
        if key.setting == Setting::RpFilter {
            // Only what `up` had to relax: the distribution's own rp_filter stays in charge.
            let recorded = state.changes.iter().find_map(|c| match c {
                Change::Sysctl { key: k, after, .. } if *k == key => Some(*after),
                _ => None,
            });
            if let Some(after) = recorded {
                settings.push((key, after));
            }
        } else {
            settings.push((key.clone(), conf.read_existing(&key)?));
        }
    }
    let exe =
        std::env::current_exe().context("finding this program's path for the systemd unit")?;
    for (path, text) in persist::write(places, &settings, spec, &exe)? {
        println!("\nwrote {}:", path.display());
        for line in text.lines() {
            println!("    {line}");
        }
    }
    println!(
        "\nto prepare this host at every boot:\n    systemctl daemon-reload\n    systemctl enable {}",
        persist::UNIT
    );
    Ok(())
}
