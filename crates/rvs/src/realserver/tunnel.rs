//! The kernel's own tunnel endpoints, where the kernel has them: seed 004's `tunl0` (module
//! `ipip`), `gre0` (module `ip_gre`), and for GUE a fou receive port (module `fou`) whose
//! inner IPIP packets `tunl0` then takes. These fallback devices catch every tunnelled packet
//! addressed to one of the host's addresses, which is what IPVS's tunnels send.

use std::{path::Path, process::Command};

use anyhow::{Context, Result, bail};

use super::{
    net::Net,
    spec::{IfName, Tunnel},
};

/// The kernel device that receives this kind of tunnel.
pub fn kernel_device(tunnel: Tunnel) -> IfName {
    let name = match tunnel {
        Tunnel::Ipip | Tunnel::Gue { .. } => "tunl0",
        Tunnel::Gre => "gre0",
    };
    IfName::try_from(name.to_owned()).unwrap_or_else(|_| IfName::loopback())
}

/// The kernel module that provides the device.
fn device_module(tunnel: Tunnel) -> &'static str {
    match tunnel {
        Tunnel::Ipip | Tunnel::Gue { .. } => "ipip",
        Tunnel::Gre => "ip_gre",
    }
}

/// What the kernel can do for a tunnel: `Ok(())` when it can decapsulate it, else why not.
/// With `load`, missing modules are loaded first (`modprobe`, as seed 004 does); the modules
/// loaded are added to `loaded`. Loading a module is not undone by `down`: it is the whole
/// machine's, not this namespace's.
pub fn kernel_support(
    net: &Net,
    tunnel: Tunnel,
    load: bool,
    loaded: &mut Vec<String>,
) -> Result<Result<(), String>> {
    let device = kernel_device(tunnel);
    let module = device_module(tunnel);
    if net.link(device.as_str())?.is_none() {
        let mut tried = String::new();
        if load && !module_loaded(module) {
            match modprobe(module) {
                Ok(()) => loaded.push(module.to_owned()),
                Err(why) => tried = format!(", and `modprobe {module}` failed: {why}"),
            }
        }
        if net.link(device.as_str())?.is_none() {
            let why = if module_loaded(module) {
                format!(
                    "the {module} module is loaded but this namespace has no {device} \
                     (net.core.fb_tunnels_only_for_init_net is set?)"
                )
            } else {
                format!("the kernel has no {module} module (no {device} here{tried})")
            };
            return Ok(Err(why));
        }
    }
    if let Tunnel::Gue { .. } = tunnel {
        if fou_ports()?.is_none() && load && !module_loaded("fou") {
            match modprobe("fou") {
                Ok(()) => loaded.push("fou".to_owned()),
                Err(why) => {
                    return Ok(Err(format!(
                        "the kernel has no fou module (GUE): `modprobe fou` failed: {why}"
                    )));
                }
            }
        }
        if fou_ports()?.is_none() {
            return Ok(Err(
                "the kernel has no fou module, which receives GUE".to_owned()
            ));
        }
    }
    Ok(Ok(()))
}

fn module_loaded(module: &str) -> bool {
    Path::new("/sys/module").join(module).exists()
}

/// `modprobe <module>`; the error is modprobe's message.
fn modprobe(module: &str) -> std::result::Result<(), String> {
    let out = Command::new("modprobe")
        .arg(module)
        .output()
        .map_err(|e| format!("running modprobe: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(if text.is_empty() {
            out.status.to_string()
        } else {
            text
        })
    }
}

/// Runs `ip <args>` in this namespace; fails with `ip`'s message.
fn ip(args: &[&str]) -> Result<String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .with_context(|| format!("running `ip {}`", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The GUE ports open for receiving in this namespace, or `None` when the kernel has no fou.
pub fn fou_ports() -> Result<Option<Vec<u16>>> {
    let out = Command::new("ip")
        .args(["fou", "show"])
        .output()
        .context("running `ip fou show`")?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(Some(parse_fou_gue_ports(&String::from_utf8_lossy(
        &out.stdout,
    ))))
}

/// The ports of the `gue` lines of `ip fou show` (`port 5555 gue`).
fn parse_fou_gue_ports(text: &str) -> Vec<u16> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let port = words
                .windows(2)
                .find(|w| w[0] == "port")?
                .get(1)?
                .parse()
                .ok()?;
            words.contains(&"gue").then_some(port)
        })
        .collect()
}

/// `ip fou add port <port> gue`.
pub fn fou_add(port: u16) -> Result<()> {
    ip(&["fou", "add", "port", &port.to_string(), "gue"]).map(drop)
}

/// `ip fou del port <port>`.
pub fn fou_del(port: u16) -> Result<()> {
    ip(&["fou", "del", "port", &port.to_string()]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tunnel_has_its_fallback_device() {
        assert_eq!(kernel_device(Tunnel::Ipip).as_str(), "tunl0");
        assert_eq!(kernel_device(Tunnel::Gre).as_str(), "gre0");
        let port = std::num::NonZeroU16::new(5555).unwrap();
        assert_eq!(kernel_device(Tunnel::Gue { port }).as_str(), "tunl0");
        assert_eq!(device_module(Tunnel::Gre), "ip_gre");
    }

    #[test]
    fn gue_ports_are_read_from_ip_fou_show() {
        let text = "port 5555 gue\nport 6000 ipproto 4\nport 6080 gue local 10.0.0.1\n";
        assert_eq!(parse_fou_gue_ports(text), [5555, 6080]);
        assert!(parse_fou_gue_ports("").is_empty());
        assert!(parse_fou_gue_ports("port x gue\n").is_empty());
    }
}
