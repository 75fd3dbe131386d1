//! `rvs realserver up|down|status`: prepares this host as an LVS real server, as seeds 000, 001,
//! 003 and 004 do by hand, in the network namespace `rvs` runs in.
//!
//! - `up` sets `arp_ignore=1`/`arp_announce=2` (`all`, then the interface, then `lo`) before
//!   any VIP exists, then in TUN mode relaxes a strict `rp_filter` and readies the kernel's
//!   tunnel device or rvs's XDP decapsulation program, and adds each VIP as a /32 (on `lo`, or
//!   on `tunl0`/`gre0` with the kernel's tunnels). Every change, with the previous value of each
//!   sysctl, goes to a state file; `up` again changes only what drifted.
//! - `down` undoes exactly the recorded changes, newest first.
//! - `status` checks the result, one line per check; exit status 1 when any fails.
//!
//! See `docs/realserver.md`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod decap;
mod doctor;
mod down;
mod net;
mod persist;
mod place;
mod plan;
mod spec;
mod state;
mod status;
mod sysctl;
mod tunnel;
mod up;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rvs_dataplane::AttachMode;

use self::{
    net::Net,
    place::{Netns, Places},
    spec::{DecapChoice, IfName, ModeArg, Spec, TunTypeArg, Vip},
};

/// `rvs realserver …`.
#[derive(Debug, Subcommand)]
pub enum RealserverCommand {
    /// Prepares this host as a real server: ARP settings first, then the VIPs (and the tunnel).
    Up {
        #[command(flatten)]
        target: TargetArgs,
        /// Also make it survive a reboot: a sysctl.d file and a systemd unit (shown).
        #[arg(long)]
        persist: bool,
        /// XDP attach mode of the decapsulation program (TUN without kernel tunnels).
        #[arg(long, default_value = "auto")]
        xdp_mode: AttachMode,
    },
    /// Undoes exactly what `up` (with the same arguments) changed.
    Down {
        #[command(flatten)]
        target: TargetArgs,
        /// Also remove the files `up --persist` wrote.
        #[arg(long)]
        persist: bool,
    },
    /// Checks this host as a real server: one line per check; exit status 1 if any fails.
    Status {
        #[command(flatten)]
        target: TargetArgs,
    },
}

/// What all three take: the configuration.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The virtual IP(s), comma-separated or repeated.
    #[arg(long, value_delimiter = ',', required = true)]
    vip: Vec<Vip>,
    /// How the director forwards to this host.
    #[arg(long, value_enum)]
    mode: ModeArg,
    /// TUN: the encapsulation the director uses [default: ipip].
    #[arg(long, value_enum)]
    tun_type: Option<TunTypeArg>,
    /// TUN with GUE: the UDP port the director sends to.
    #[arg(long)]
    tun_port: Option<u16>,
    /// TUN: who decapsulates, the kernel's tunnel device or rvs's XDP program [default: auto].
    #[arg(long, value_enum)]
    decap: Option<DecapChoice>,
    /// The interface the director's packets arrive on [default: the default route's].
    #[arg(long)]
    interface: Option<IfName>,
    #[command(flatten)]
    places: PlaceArgs,
}

/// Where things are kept; hidden, for tests and unusual systems.
#[derive(Debug, Args)]
struct PlaceArgs {
    /// Directory of the state files.
    #[arg(long, hide = true, env = "RVS_REALSERVER_STATE_DIR", default_value = place::STATE_DIR)]
    state_dir: PathBuf,
    /// Directory of the sysctl.d file of `--persist`.
    #[arg(long, hide = true, env = "RVS_REALSERVER_SYSCTL_DIR", default_value = place::SYSCTL_DIR)]
    sysctl_dir: PathBuf,
    /// Directory of the systemd unit of `--persist`.
    #[arg(long, hide = true, env = "RVS_REALSERVER_SYSTEMD_DIR", default_value = place::SYSTEMD_DIR)]
    systemd_dir: PathBuf,
    /// Root of rvs's BPF pins.
    #[arg(long, hide = true, env = "RVS_REALSERVER_PIN_ROOT", default_value = place::BPF_PIN_ROOT)]
    pin_root: PathBuf,
}

impl TargetArgs {
    /// The spec and the places, the interface found from the default route when not given.
    fn resolve(self) -> Result<(Spec, Places)> {
        let interface = match self.interface {
            Some(name) => name,
            None => default_interface()?,
        };
        let spec = Spec::new(
            &self.vip,
            self.mode,
            self.tun_type,
            self.tun_port,
            self.decap,
            interface,
        )
        .map_err(anyhow::Error::msg)?;
        let places = Places {
            netns: Netns::current()?,
            netns_inode: Netns::current_inode()?,
            state_dir: self.places.state_dir,
            sysctl_dir: self.places.sysctl_dir,
            systemd_dir: self.places.systemd_dir,
            pin_root: self.places.pin_root,
        };
        Ok((spec, places))
    }
}

/// The interface of the default route.
fn default_interface() -> Result<IfName> {
    let route = Net::open()?
        .default_route()?
        .context("there is no default route to take the interface from: pass --interface IF")?;
    route
        .dev
        .parse()
        .map_err(|e: String| anyhow::anyhow!("the default route's interface: {e}"))
}

/// Runs one `rvs realserver` command. `status` exits with status 1 when a check fails.
pub fn run(command: RealserverCommand) -> Result<()> {
    match command {
        RealserverCommand::Up {
            target,
            persist,
            xdp_mode,
        } => {
            let (spec, places) = target.resolve()?;
            up::up(&spec, &places, up::UpOptions { persist, xdp_mode })
        }
        RealserverCommand::Down { target, persist } => {
            let (spec, places) = target.resolve()?;
            down::down(&spec, &places, persist)
        }
        RealserverCommand::Status { target } => {
            let (spec, places) = target.resolve()?;
            if !status::status(&spec, &places)? {
                use std::io::Write;
                let _ = std::io::stdout().flush();
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
