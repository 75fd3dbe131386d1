//! `rvs lab`: the seed tutorials' clusters, built from network namespaces on this machine.
//!
//! A lab is named by a prefix: its namespaces are `<prefix>-<host>`, rvsd's pins live in
//! `/sys/fs/bpf/rvs/<prefix>-director`, its control socket is `/run/rvs/<prefix>.sock` and the
//! logs of its daemons are in `/run/rvs/<prefix>/`. The two-director labs (`ha`, `ha-dr`) run
//! one rvsd per director: instance and pins `<prefix>-primary` / `<prefix>-backup`, sockets
//! `/run/rvs/<prefix>-primary.sock` / `-backup.sock`, config files and logs in
//! `/run/rvs/<prefix>/`. `rvs lab down` removes all of it, whatever state a crashed run left.

mod daemons;
mod dr;
mod experiment;
mod ha;
mod ha_config;
mod nat;
mod tun;

use std::{fmt, path::PathBuf, str::FromStr};

use anyhow::Result;
use rvs_lab::topology::{Director, HaMode, TunLayout};

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
    /// Seed 002 with its backup director: NAT, VRRP between two rvsd.
    Ha,
    /// Seed 002's DR variant with its backup director.
    HaDr,
}

impl Topology {
    const ALL: [(Topology, &'static str); 6] = [
        (Topology::Dr, "dr"),
        (Topology::Nat, "nat"),
        (Topology::Tun, "tun"),
        (Topology::TunRouted, "tun-routed"),
        (Topology::Ha, "ha"),
        (Topology::HaDr, "ha-dr"),
    ];
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

/// Where a lab keeps an rvsd's control socket, and the logs.
#[derive(Clone, Debug)]
pub struct LabPaths {
    /// rvsd's control socket.
    pub socket: PathBuf,
    /// Daemon logs (and the two-director labs' config files).
    pub logs: PathBuf,
    /// rvsd's instance name (its pin directory).
    pub instance: String,
    /// The rvsd's name in `logs`: `<daemon>.log`, `<daemon>.pid`.
    pub daemon: String,
}

impl LabPaths {
    /// The paths of the lab with this prefix (its only director's rvsd).
    pub fn new(prefix: &str) -> Self {
        Self {
            socket: PathBuf::from(format!("/run/rvs/{prefix}.sock")),
            logs: PathBuf::from(format!("/run/rvs/{prefix}")),
            instance: format!("{prefix}-director"),
            daemon: "rvsd".to_owned(),
        }
    }

    /// The paths of the rvsd on director `which` of a two-director lab.
    pub fn director(prefix: &str, which: Director) -> Self {
        let name = which.name();
        Self {
            socket: PathBuf::from(format!("/run/rvs/{prefix}-{name}.sock")),
            logs: PathBuf::from(format!("/run/rvs/{prefix}")),
            instance: format!("{prefix}-{name}"),
            daemon: format!("rvsd-{name}"),
        }
    }

    /// Every rvsd a lab with this prefix may run: the single director's, then the two of HA.
    pub fn all(prefix: &str) -> Vec<Self> {
        let mut all = vec![Self::new(prefix)];
        all.extend(Director::BOTH.map(|which| Self::director(prefix, which)));
        all
    }

    /// The rvsd's log.
    pub fn rvsd_log(&self) -> PathBuf {
        self.logs.join(format!("{}.log", self.daemon))
    }

    /// Where the rvsd's pid is kept, for `rvs lab down`.
    pub fn rvsd_pid(&self) -> PathBuf {
        self.logs.join(format!("{}.pid", self.daemon))
    }
}

/// `rvs lab up TOPOLOGY`: builds it and leaves it running.
pub fn up(topology: Topology, prefix: &str) -> Result<()> {
    match topology {
        Topology::Dr => dr::up(prefix, true).map(|_| ()),
        Topology::Nat => nat::up(prefix, true).map(|_| ()),
        Topology::Tun => tun::up(prefix, TunLayout::Flat, true).map(|_| ()),
        Topology::TunRouted => tun::up(prefix, TunLayout::Routed, true).map(|_| ()),
        Topology::Ha => ha::up(prefix, HaMode::Nat, true).map(|_| ()),
        Topology::HaDr => ha::up(prefix, HaMode::Dr, true).map(|_| ()),
    }
}

/// `rvs lab demo TOPOLOGY`: the seed's experiment, then everything is removed.
pub fn demo(topology: Topology, prefix: &str) -> Result<()> {
    match topology {
        Topology::Dr => dr::demo(prefix),
        Topology::Nat => nat::demo(prefix),
        Topology::Tun => tun::demo(prefix, TunLayout::Flat),
        Topology::TunRouted => tun::demo(prefix, TunLayout::Routed),
        Topology::Ha => ha::demo(prefix, HaMode::Nat),
        Topology::HaDr => ha::demo(prefix, HaMode::Dr),
    }
}

/// `rvs lab down`: removes everything a lab with this prefix may have left.
pub fn down(prefix: &str) -> Result<()> {
    let all = LabPaths::all(prefix);
    for paths in &all {
        daemons::stop_rvsd(paths);
    }
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
    for paths in &all {
        for p in [&paths.socket, &paths.socket.with_extension("sock.lock")] {
            let _ = std::fs::remove_file(p);
        }
        let _ = std::fs::remove_dir_all(&paths.logs);
    }
    println!(
        "lab {prefix} removed: {} namespaces, {} processes, {} pin directories",
        report.namespaces.len(),
        report.killed,
        report.bpf_dirs.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topologies_have_names_both_ways() {
        for (topology, name) in Topology::ALL {
            assert_eq!(name.parse::<Topology>(), Ok(topology));
            assert_eq!(topology.to_string(), name);
        }
        let Err(err) = "ha-tun".parse::<Topology>() else { panic!("ha-tun is no topology") };
        assert!(err.contains("ha, ha-dr"), "{err}");
    }

    #[test]
    fn one_director_labs_keep_their_paths_and_two_director_labs_get_one_set_each() {
        let one = LabPaths::new("lab");
        assert_eq!(one.socket, PathBuf::from("/run/rvs/lab.sock"));
        assert_eq!(one.instance, "lab-director");
        assert_eq!(one.rvsd_log(), PathBuf::from("/run/rvs/lab/rvsd.log"));
        assert_eq!(one.rvsd_pid(), PathBuf::from("/run/rvs/lab/rvsd.pid"));
        let primary = LabPaths::director("lab", Director::Primary);
        assert_eq!(primary.socket, PathBuf::from("/run/rvs/lab-primary.sock"));
        assert_eq!(primary.instance, "lab-primary");
        assert_eq!(primary.rvsd_pid(), PathBuf::from("/run/rvs/lab/rvsd-primary.pid"));
        let backup = LabPaths::director("lab", Director::Backup);
        assert_eq!(backup.socket, PathBuf::from("/run/rvs/lab-backup.sock"));
        assert_eq!(backup.rvsd_log(), PathBuf::from("/run/rvs/lab/rvsd-backup.log"));
        let sockets: Vec<PathBuf> = LabPaths::all("lab").into_iter().map(|p| p.socket).collect();
        assert_eq!(sockets.len(), 3);
    }
}
