//! `rvs realserver down`: undoes what `up` recorded, newest change first (so the VIPs go
//! before the ARP settings that kept them quiet), and nothing else.
//!
//! A sysctl someone changed after `up` is left as that person set it and reported: restoring
//! the value from before `up` would undo their change, not `up`'s. An address or device state
//! already undone by someone else is reported too. The first change that cannot be undone stops
//! `down` (undoing the rest, e.g. the ARP settings while a VIP is still there, could expose the
//! VIP); the state file keeps what is left, so `down` can be run again.

use anyhow::{Result, bail};

use super::{
    decap,
    net::Net,
    persist,
    place::Places,
    spec::Spec,
    state::{self, Change},
    sysctl::ConfTree,
    tunnel,
};

/// What undoing one change did.
#[derive(Debug, PartialEq, Eq)]
enum Undone {
    /// Reverted.
    Reverted(String),
    /// Nothing to do, or left alone on purpose: why.
    Skipped(String),
}

/// Undoes `up` in this namespace; with `persist`, also removes the boot-time files.
pub fn down(spec: &Spec, places: &Places, persist: bool) -> Result<()> {
    let path = places.state_file();
    match state::load_for(&path, places.netns_inode)? {
        None => {
            // A stale file (its namespace is gone) undoes nothing either.
            state::remove(&path)?;
            println!(
                "nothing to undo: there is no state file {} (`rvs realserver up` has not run in this network \
                 namespace, or `down` already undid it)",
                path.display()
            );
        }
        Some(mut st) => {
            if st.spec != *spec {
                bail!(
                    "this network namespace was prepared with `{}`, not these arguments; `{}` undoes it",
                    st.spec.command_line("up"),
                    st.spec.command_line("down"),
                );
            }
            let net = Net::open()?;
            let conf = ConfTree::proc();
            let mut skipped = 0;
            while let Some(change) = st.changes.last().cloned() {
                match undo(&net, &conf, &change) {
                    Ok(Undone::Reverted(what)) => println!("{what}"),
                    Ok(Undone::Skipped(why)) => {
                        println!("left alone: {why}");
                        skipped += 1;
                    }
                    Err(e) => {
                        state::save(&path, &st)?;
                        return Err(e.context(format!(
                            "rvs realserver down stopped; {} change(s) still recorded in {} (run down again once fixed)",
                            st.changes.len(),
                            path.display()
                        )));
                    }
                }
                st.changes.pop();
                state::save(&path, &st)?;
            }
            state::remove(&path)?;
            println!(
                "real server preparation undone{}",
                if skipped > 0 {
                    format!(" ({skipped} change(s) left alone, see above)")
                } else {
                    String::new()
                }
            );
        }
    }
    if persist {
        let removed = persist::remove(places)?;
        if removed.is_empty() {
            println!("no boot-time files to remove");
        }
        for path in removed {
            println!("removed {}", path.display());
        }
        println!(
            "(systemctl daemon-reload makes systemd forget {})",
            persist::UNIT
        );
    }
    Ok(())
}

/// Undoes one change.
fn undo(net: &Net, conf: &ConfTree, change: &Change) -> Result<Undone> {
    match change {
        Change::Sysctl { key, before, after } => {
            let Some(now) = conf.read(key)? else {
                return Ok(Undone::Skipped(format!(
                    "{}: interface {} is gone",
                    key.sysctl_name(),
                    key.scope
                )));
            };
            if now != *after {
                return Ok(Undone::Skipped(format!(
                    "{} is {now}, not the {after} `up` set: someone changed it since, so it stays \
                     (it was {before} before `up`)",
                    key.sysctl_name()
                )));
            }
            conf.write(key, *before)?;
            Ok(Undone::Reverted(format!(
                "{} = {before} (restored)",
                key.sysctl_name()
            )))
        }
        Change::Address {
            dev,
            addr,
            prefix_len,
        } => {
            let Some(link) = net.link(dev.as_str())? else {
                return Ok(Undone::Skipped(format!(
                    "{addr}/{prefix_len}: interface {dev} is gone"
                )));
            };
            if net.del_address(&link, *addr, *prefix_len)? {
                Ok(Undone::Reverted(format!(
                    "removed {addr}/{prefix_len} from {dev}"
                )))
            } else {
                Ok(Undone::Skipped(format!(
                    "{addr}/{prefix_len} was already gone from {dev}"
                )))
            }
        }
        Change::LinkUp { dev } => match net.link(dev.as_str())? {
            None => Ok(Undone::Skipped(format!("interface {dev} is gone"))),
            Some(link) if !link.up => Ok(Undone::Skipped(format!("{dev} is already down"))),
            Some(link) => {
                net.set_up(&link, false)?;
                Ok(Undone::Reverted(format!("set {dev} down")))
            }
        },
        Change::FouPort { port } => {
            if tunnel::fou_ports()?.is_some_and(|ports| ports.contains(port)) {
                tunnel::fou_del(*port)?;
                Ok(Undone::Reverted(format!("closed GUE port {port}")))
            } else {
                Ok(Undone::Skipped(format!(
                    "GUE port {port} was already closed"
                )))
            }
        }
        Change::DecapProgram { ifname, pin_dir } => {
            if decap::remove(pin_dir)? {
                Ok(Undone::Reverted(format!(
                    "removed rvs's XDP decapsulation program from {ifname} (and {})",
                    pin_dir.display()
                )))
            } else {
                Ok(Undone::Skipped(format!(
                    "no XDP decapsulation program was pinned in {}",
                    pin_dir.display()
                )))
            }
        }
    }
}
