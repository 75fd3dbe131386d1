//! The NAT router: the floating address on the director's private side that the real servers
//! of NAT services use as their default gateway, so that their replies come back through the
//! director (piranha's `nat_router = 10.0.0.254 eth1:1` with `nat_nmask = 255.255.0.0`).
//!
//! rvsd owns it: adds it once the data plane is attached, announces it with gratuitous ARP
//! (keepalived's schedule, so that real servers and switches drop whatever MAC they had for it,
//! the other director's after a failover), and removes it when it stops cleanly, unless it was
//! there before rvsd started. In the HA issue the same pieces will move it with VRRP.

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use rvs_ha::address::{Claim, InterfaceAddress, Netlink, Released};
use rvs_ha::garp::{Announcer, AnnouncerTask, GarpError, GarpPolicy, GarpSocket};

/// The longest interface name or label the kernel takes (IFNAMSIZ less the NUL).
const IFNAME_MAX: usize = 15;

/// Where the NAT router lives: an interface, or piranha's `<interface>:<alias>` form, which
/// becomes the address's label (as `ifconfig eth1:1` made it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatRouterDevice {
    interface: String,
    label: Option<String>,
}

impl NatRouterDevice {
    /// The interface.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The address label, for the `eth1:1` form.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
}

impl fmt::Display for NatRouterDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label.as_deref().unwrap_or(&self.interface))
    }
}

/// Why a device name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an interface name (expected IF or IF:ALIAS of at most 15 characters, such as eth1 or eth1:1)")]
pub struct BadDevice(String);

impl FromStr for NatRouterDevice {
    type Err = BadDevice;

    fn from_str(s: &str) -> Result<Self, BadDevice> {
        let bad = || BadDevice(s.to_owned());
        if s.is_empty() || s.len() > IFNAME_MAX || s.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(bad());
        }
        match s.split_once(':') {
            None => Ok(NatRouterDevice { interface: s.to_owned(), label: None }),
            Some((interface, alias)) if !interface.is_empty() && !alias.is_empty() && !alias.contains(':') => {
                Ok(NatRouterDevice { interface: interface.to_owned(), label: Some(s.to_owned()) })
            }
            Some(_) => Err(bad()),
        }
    }
}

/// What `--nat-router`, `--nat-router-interface` and the `--garp-*` options ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatRouterConfig {
    /// The address and its prefix.
    pub address: InterfaceAddress,
    /// Where it goes.
    pub device: NatRouterDevice,
    /// How it is announced.
    pub policy: GarpPolicy,
}

/// The check that can be made before anything is loaded: the interface exists.
pub fn preflight(config: &NatRouterConfig) -> Result<()> {
    let interface = config.device.interface();
    if crate::interface_index(interface).is_none() {
        bail!("--nat-router-interface: interface {interface} does not exist in this network namespace");
    }
    Ok(())
}

/// The NAT router address while rvsd holds it.
pub struct NatRouter {
    netlink: Netlink,
    claim: Claim,
    announcer: Option<AnnouncerTask>,
}

impl NatRouter {
    /// Takes the address and starts announcing it. `data_plane` are the interfaces the XDP
    /// program runs on: the NAT router's should be one of them, or the real servers' replies
    /// reach the director where the data plane never sees them.
    pub async fn start(config: &NatRouterConfig, data_plane: &[String]) -> Result<NatRouter> {
        let NatRouterConfig { address, device, policy } = config;
        let what = || format!("NAT router {address} on {device}");
        let netlink = Netlink::new().context("opening rtnetlink for the NAT router")?;
        let link = netlink.link(device.interface()).await.context("--nat-router-interface")?;
        if !data_plane.iter().any(|name| name == &link.name) {
            tracing::warn!(
                interface = %link.name,
                "the NAT router's interface is not one of --interface: replies from real servers will not go through the data plane"
            );
        }
        if !link.up {
            tracing::warn!(interface = %link.name, "the NAT router's interface is down: the address is useless until it is up");
        }
        // The socket before the address, so that a refusal leaves nothing to undo.
        let announcer = match Announcer::new(GarpSocket::open().with_context(what)?, &link, vec![address.addr()]) {
            Ok(announcer) => Some(announcer),
            Err(e @ GarpError::NoArp(_)) => {
                tracing::warn!(error = %e, "the NAT router will not be announced");
                None
            }
            Err(e) => return Err(e).with_context(what),
        };
        let claim =
            netlink.claim(&link, *address, device.label()).await.with_context(|| format!("taking the {}", what()))?;
        if claim.is_ours() {
            tracing::info!(address = %address, device = %device, "NAT router address added");
        } else {
            tracing::info!(address = %address, device = %device, "NAT router address was already there; it will be left in place at stop");
        }
        let announcer = announcer.map(|a| a.spawn(*policy));
        Ok(NatRouter { netlink, claim, announcer })
    }

    /// Stops announcing, and removes the address if rvsd added it.
    pub async fn stop(self) -> Result<()> {
        let NatRouter { netlink, claim, announcer } = self;
        if let Some(announcer) = announcer {
            announcer.stop().await;
        }
        let address = claim.address();
        let interface = claim.interface().to_owned();
        match netlink.release(claim).await {
            Ok(Released::Removed) => tracing::info!(%address, %interface, "NAT router address removed"),
            Ok(Released::LeftInPlace) => {
                tracing::info!(%address, %interface, "NAT router address left in place (it was there before rvsd)")
            }
            Ok(Released::AlreadyGone) => {
                tracing::warn!(%address, %interface, "NAT router address had already been removed by someone else")
            }
            Err(e) => return Err(e).context("removing the NAT router address"),
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_interfaces_or_piranha_aliases() {
        let plain: NatRouterDevice = "eth1".parse().unwrap();
        assert_eq!((plain.interface(), plain.label()), ("eth1", None));
        assert_eq!(plain.to_string(), "eth1");
        let alias: NatRouterDevice = "eth1:1".parse().unwrap();
        assert_eq!((alias.interface(), alias.label()), ("eth1", Some("eth1:1")));
        assert_eq!(alias.to_string(), "eth1:1");
        for bad in ["", "eth1:", ":1", "eth1:1:2", "eth 1", "a/b", "averyverylongname0"] {
            let err = bad.parse::<NatRouterDevice>().unwrap_err();
            assert_eq!(err, BadDevice(bad.to_owned()));
            assert!(err.to_string().contains("IF:ALIAS"), "{err}");
        }
    }

    #[test]
    fn a_missing_interface_is_named_before_anything_is_loaded() {
        let config = NatRouterConfig {
            address: "10.0.0.254/16".parse().unwrap(),
            device: "nosuch7".parse().unwrap(),
            policy: GarpPolicy::default(),
        };
        let err = preflight(&config).unwrap_err().to_string();
        assert!(err.contains("nosuch7") && err.contains("--nat-router-interface"), "{err}");
    }
}
