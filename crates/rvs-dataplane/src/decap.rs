//! Decapsulation on the real servers of a TUN-mode cluster: the `rvs_decap` XDP program
//! (`bpf/decap.c`), loaded, configured, attached and pinned so that it outlives the process that
//! installed it (`rvs realserver up`), and read back or taken down later (`status`, `down`).
//!
//! An install lives in one directory of a BPF filesystem: the four maps pinned by name
//! (`decap_addrs`, `decap_ports`, `decap_config`, `decap_stats`) and the XDP link (`link`).
//! Pinning the link, not the program, is what keeps the program attached: a bpf_link stays
//! attached for as long as something references it, and the pin is such a reference.
//!
//! Installing again into the same directory replaces the earlier install. With the same ABI, on
//! the same interface, in the same network namespace and a compatible mode, the maps are
//! rewritten in place and the new program is swapped onto the existing link atomically
//! (`BPF_LINK_UPDATE`): tunnelled traffic is never passed undecapsulated. Otherwise the old link
//! is detached first.
//!
//! The pins live in the mount namespace's BPF filesystem. Under `ip netns exec`, `/sys` is
//! remounted and `/sys/fs/bpf` is empty: a BPF filesystem mounted there vanishes with that mount
//! namespace, and the program is detached when the last process in it exits. Run the installer
//! with only the network namespace switched (as the lab does for rvsd).

mod install;
mod link;
mod maps;

pub use install::{default_pin_dir, install_pinned, remove_pinned, status_pinned};

use std::{io, net::Ipv4Addr, path::Path};

use aya::{
    EbpfLoader,
    programs::{ProgramError, Xdp},
};

use crate::{
    attach::AttachMode,
    decap_abi::{RVS_DECAP_ABI_VERSION, RvsDecapStat},
    error::DataplaneError,
    object::{DECAP, PROG_DECAP},
};
use maps::DecapMaps;

/// What to decapsulate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecapSpec {
    /// Local tunnel endpoint addresses: outer destinations whose tunnels are stripped (the
    /// addresses the director sends to, i.e. the real server's own addresses, not the VIPs).
    pub addrs: Vec<Ipv4Addr>,
    /// Strip IPIP.
    pub ipip: bool,
    /// Strip GRE (with or without checksum).
    pub gre: bool,
    /// UDP ports on which GUE is stripped; empty turns GUE off.
    pub gue_ports: Vec<u16>,
}

/// The named counters of an install, summed over CPUs, in `RvsDecapStat` order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecapCounters(Vec<(RvsDecapStat, u64)>);

impl DecapCounters {
    /// The value of one counter.
    pub fn get(&self, stat: RvsDecapStat) -> u64 {
        self.0.iter().find(|(s, _)| *s == stat).map_or(0, |(_, v)| *v)
    }

    /// Every counter with its value.
    pub fn iter(&self) -> impl Iterator<Item = (RvsDecapStat, u64)> + '_ {
        self.0.iter().copied()
    }
}

/// How an install treated what it found in its directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replaced {
    /// Nothing was installed there.
    Nothing,
    /// The program was swapped atomically on the existing link; the maps were rewritten.
    InPlace,
    /// The earlier install was detached first (other interface, namespace, mode or ABI).
    Reattached,
}

/// What `install_pinned` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecapInstall {
    /// Interface name.
    pub interface: String,
    /// Its index in the installer's network namespace.
    pub ifindex: u32,
    /// The mode actually used (`Native` or `Generic`, never `Auto`).
    pub mode: AttachMode,
    /// Kernel id of the XDP link (what `bpftool link` shows).
    pub link_id: u32,
    /// Kernel id of the program.
    pub program_id: u32,
    /// What happened to an earlier install in the same directory.
    pub replaced: Replaced,
}

/// The state of an install's link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Attached and running.
    Attached {
        /// Kernel id of the link.
        link_id: u32,
        /// Kernel id of the program.
        program_id: u32,
    },
    /// The link exists but its interface is gone: nothing is decapsulated.
    Defunct {
        /// Kernel id of the link.
        link_id: u32,
    },
    /// No link is pinned (an install that failed half-way): nothing is decapsulated.
    Missing,
}

/// What is installed in a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecapStatus {
    /// Interface name as given at install time.
    pub interface: String,
    /// Its index in the installer's network namespace at install time.
    pub ifindex: u32,
    /// Mode used, if the program was ever attached.
    pub mode: Option<AttachMode>,
    /// What is decapsulated (addresses and ports sorted).
    pub spec: DecapSpec,
    /// Whether the program is attached.
    pub link: LinkState,
    /// Counters since the maps were created (they survive in-place replacement).
    pub counters: DecapCounters,
}

impl DecapStatus {
    /// Whether packets are being decapsulated.
    pub fn attached(&self) -> bool {
        matches!(self.link, LinkState::Attached { .. })
    }
}

/// The decapsulation program, loaded and configured but not attached: what `install_pinned`
/// builds on, and what fixtures run through `BPF_PROG_TEST_RUN`.
pub struct DecapProgram {
    ebpf: aya::Ebpf,
    maps: DecapMaps,
}

impl DecapProgram {
    /// Loads the program with its maps pinned in `pin_dir` (maps already pinned there are
    /// reused, so check their ABI first) and writes `spec` into them.
    ///
    /// # Errors
    ///
    /// The pin directory cannot be created, the object or program does not load (the verifier's
    /// log is in the error), or a map cannot be written.
    pub fn load(pin_dir: &Path, spec: &DecapSpec) -> Result<Self, DataplaneError> {
        std::fs::create_dir_all(pin_dir).map_err(pin_err(pin_dir))?;
        let mut ebpf = EbpfLoader::new().default_map_pin_directory(pin_dir).load(DECAP)?;
        // The program first: if the verifier refuses it, maps that a running install shares are
        // left as they were.
        xdp_mut(&mut ebpf)?.load().map_err(|source| DataplaneError::Program { program: PROG_DECAP, source })?;
        let mut maps = DecapMaps::take_from(&mut ebpf)?;
        let mut config = maps.config()?;
        config.abi_version = RVS_DECAP_ABI_VERSION;
        maps.set_config(&config)?;
        maps.write_spec(spec)?;
        Ok(Self { ebpf, maps })
    }

    /// Rewrites what is decapsulated.
    pub fn configure(&mut self, spec: &DecapSpec) -> Result<(), DataplaneError> {
        self.maps.write_spec(spec)
    }

    /// The program, for test runs and statistics.
    pub fn program(&self) -> Result<&Xdp, DataplaneError> {
        self.ebpf
            .program(PROG_DECAP)
            .and_then(|p| p.try_into().ok())
            .ok_or(DataplaneError::Program { program: PROG_DECAP, source: ProgramError::NotLoaded })
    }

    /// The counters.
    pub fn counters(&self) -> Result<DecapCounters, DataplaneError> {
        self.maps.counters()
    }
}

fn xdp_mut(ebpf: &mut aya::Ebpf) -> Result<&mut Xdp, DataplaneError> {
    ebpf.program_mut(PROG_DECAP)
        .and_then(|p| p.try_into().ok())
        .ok_or(DataplaneError::Program { program: PROG_DECAP, source: ProgramError::NotLoaded })
}

fn pin_err(path: &Path) -> impl Fn(io::Error) -> DataplaneError + '_ {
    move |source| DataplaneError::PinDir { path: path.to_owned(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_read_by_name_and_default_to_zero() {
        let c = DecapCounters(vec![(RvsDecapStat::DecapGre, 3), (RvsDecapStat::RxFrames, 5)]);
        assert_eq!(c.get(RvsDecapStat::DecapGre), 3);
        assert_eq!(c.get(RvsDecapStat::DecapIpip), 0);
        assert_eq!(c.iter().count(), 2);
    }

    #[test]
    fn only_an_attached_link_counts_as_attached() {
        let status = |link| DecapStatus {
            interface: "eth0".into(),
            ifindex: 2,
            mode: Some(AttachMode::Generic),
            spec: DecapSpec::default(),
            link,
            counters: DecapCounters::default(),
        };
        assert!(status(LinkState::Attached { link_id: 1, program_id: 2 }).attached());
        assert!(!status(LinkState::Defunct { link_id: 1 }).attached());
        assert!(!status(LinkState::Missing).attached());
    }
}
