//! `rvs realserver status`: gathers the facts the doctor needs from this namespace, without
//! changing anything, and prints one line per check.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{
    decap,
    doctor::{self, Check, Facts},
    net::Net,
    place::Places,
    spec::{DecapChoice, Forwarding, IfName, Spec},
    state::{self, Decap},
    sysctl::{ConfTree, Key, Scope, Setting},
    tunnel,
};

/// Runs the checks and prints them; `true` when all pass.
pub fn status(spec: &Spec, places: &Places) -> Result<bool> {
    let net = Net::open()?;
    let decap = expected_decap(&net, spec, places)?;
    let facts = gather(&net, &ConfTree::proc(), decap.as_ref())?;
    let checks = doctor::checks(spec, decap.as_ref(), &facts);
    for check in &checks {
        println!("{check}");
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    println!(
        "{} check{}, {}",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" },
        if failed == 0 {
            "all passed".to_owned()
        } else {
            format!("{failed} failed")
        }
    );
    Ok(checks.iter().all(|c: &Check| c.pass))
}

/// How TUN packets should be decapsulated: as `up` recorded for this same configuration, else
/// as `up` would choose now (without loading any module).
fn expected_decap(net: &Net, spec: &Spec, places: &Places) -> Result<Option<Decap>> {
    let Forwarding::Tun {
        tunnel,
        decap: choice,
    } = spec.forwarding
    else {
        return Ok(None);
    };
    if let Some(st) = state::load_for(&places.state_file(), places.netns_inode)?
        && st.spec == *spec
        && st.decap.is_some()
    {
        return Ok(st.decap);
    }
    let kernel = || Decap::Kernel {
        device: tunnel::kernel_device(tunnel),
    };
    let xdp = || Decap::Xdp {
        pin_dir: places.pin_dir(&spec.interface),
    };
    Ok(Some(match choice {
        DecapChoice::Kernel => kernel(),
        DecapChoice::Xdp => xdp(),
        DecapChoice::Auto => {
            if tunnel::kernel_support(net, tunnel, false, &mut Vec::new())?.is_ok() {
                kernel()
            } else {
                xdp()
            }
        }
    }))
}

fn gather(net: &Net, conf: &ConfTree, decap: Option<&Decap>) -> Result<Facts> {
    let links = net.links()?;
    let mut sysctls = BTreeMap::new();
    let scopes = std::iter::once(Scope::All).chain(
        links
            .iter()
            .filter_map(|l| l.name.parse::<IfName>().ok().map(Scope::If)),
    );
    for scope in scopes {
        for setting in [Setting::ArpIgnore, Setting::ArpAnnounce, Setting::RpFilter] {
            let key = Key::new(scope.clone(), setting);
            if let Some(value) = conf.read(&key)? {
                sysctls.insert(key, value);
            }
        }
    }
    let xdp = match decap {
        Some(Decap::Xdp { pin_dir }) => decap::status(pin_dir)?,
        _ => None,
    };
    Ok(Facts {
        addrs: net.addresses()?,
        links,
        sysctls,
        default_route: net.default_route()?,
        fou_ports: match decap {
            Some(Decap::Kernel { .. }) => tunnel::fou_ports()?,
            _ => None,
        },
        xdp,
    })
}
