//! `rvs lab`: the seed tutorials' clusters, built from network namespaces on this machine.
//!
//! A lab is named by a prefix: its namespaces are `<prefix>-<host>`, rvsd's pins live in
//! `/sys/fs/bpf/rvs/<prefix>-director`, its control socket is `/run/rvs/<prefix>.sock` and the
//! logs of its daemons are in `/run/rvs/<prefix>/`. `rvs lab down` removes all of it, whatever
//! state a crashed run left.

mod daemons;
mod dr;
mod experiment;
mod nat;
mod tun;

use std::{fmt, path::PathBuf, str::FromStr};

use anyhow::Result;
use rvs_lab::topology::TunLayout;

/// Prefix used when none is given.
pub const DEFAULT_PREFIX: &str = "rvslab";

/// The seed topologies `rvs lab` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Seed 000: client, router, director and two web servers, Direct Routing.
    Dr,
    /// Seed 002: NAT, the director between a public and a private network.
    Nat,
    /// Seed 004: IP tunnelling with the real servers on the director's network.
    Tun,
    /// Seed 004 with the real servers on another network behind the router.
    TunRouted,
}

impl Topology {
    const ALL: [(Topology, &'static str); 4] =
        [(Topology::Dr, "dr"), (Topology::Nat, "nat"), (Topology::Tun, "tun"), (Topology::TunRouted, "tun-routed")];
}

impl FromStr for Topology {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Topology::ALL.iter().find(|(_, name)| *name == s).map(|(t, _)| *t).ok_or_else(|| {
            let names: Vec<&str> = Topology::ALL.iter().map(|(_, n)| *n).collect();
            format!("unknown topology {s:?} (available: {})", names.join(", "))
        })
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Topology::ALL.iter().find(|(t, _)| t == self).map_or("?", |(_, n)| *n);
        f.write_str(name)
    }
}

/// Where a lab keeps its control socket and logs.
#[derive(Clone, Debug)]
pub struct LabPaths {
    /// rvsd's control socket.
    pub socket: PathBuf,
    /// Daemon logs.
    pub logs: PathBuf,
    /// rvsd's instance name (its pin directory).
    pub instance: String,
}

impl LabPaths {
    /// The paths of the lab with this prefix.
    pub fn new(prefix: &str) -> Self {
        Self {
            socket: PathBuf::from(format!("/run/rvs/{prefix}.sock")),
            logs: PathBuf::from(format!("/run/rvs/{prefix}")),
            instance: format!("{prefix}-director"),
        }
    }
}

/// `rvs lab up TOPOLOGY`: builds it and leaves it running.
pub fn up(topology: Topology, prefix: &str) -> Result<()> {
    match topology {
        Topology::Dr => dr::up(prefix, true).map(|_| ()),
        Topology::Nat => nat::up(prefix, true).map(|_| ()),
        Topology::Tun => tun::up(prefix, TunLayout::Flat, true).map(|_| ()),
        Topology::TunRouted => tun::up(prefix, TunLayout::Routed, true).map(|_| ()),
    }
}

/// `rvs lab demo TOPOLOGY`: the seed's experiment, then everything is removed.
pub fn demo(topology: Topology, prefix: &str) -> Result<()> {
    match topology {
        Topology::Dr => dr::demo(prefix),
        Topology::Nat => nat::demo(prefix),
        Topology::Tun => tun::demo(prefix, TunLayout::Flat),
        Topology::TunRouted => tun::demo(prefix, TunLayout::Routed),
    }
}

/// `rvs lab down`: removes everything a lab with this prefix may have left.
pub fn down(prefix: &str) -> Result<()> {
    let paths = LabPaths::new(prefix);
    daemons::stop_rvsd(&paths);
    // `rvs realserver up` in the lab's hosts pinned its decap programs under
    // /sys/fs/bpf/rvs/<prefix>-<host>-realserver-*, which down_prefix removes with the rest, and
    // kept its record in /run/rvs/realserver/<prefix>-<host>.json.
    if let Ok(entries) = std::fs::read_dir("/run/rvs/realserver") {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&format!("{prefix}-")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let report = rvs_lab::down_prefix(prefix)?;
    for p in [&paths.socket, &paths.socket.with_extension("sock.lock")] {
        let _ = std::fs::remove_file(p);
    }
    let _ = std::fs::remove_dir_all(&paths.logs);
    println!(
        "lab {prefix} removed: {} namespaces, {} processes, {} pin directories",
        report.namespaces.len(),
        report.killed,
        report.bpf_dirs.len()
    );
    Ok(())
}
