//! Errors of the data plane, with the context an operator needs to act on them.

use std::{io, path::PathBuf};

/// What went wrong while loading, attaching or driving the BPF programs.
#[derive(Debug, thiserror::Error)]
pub enum DataplaneError {
    /// The BPF filesystem could not be found or mounted.
    #[error("BPF filesystem at {path}: {source}")]
    Bpffs {
        /// Where it was expected.
        path: PathBuf,
        /// Why it is unusable.
        source: io::Error,
    },
    /// The instance's pin directory could not be prepared.
    #[error("pin directory {path}: {source}")]
    PinDir {
        /// The directory.
        path: PathBuf,
        /// The failure.
        source: io::Error,
    },
    /// Maps pinned by another version of rvs are in the way.
    #[error(
        "maps pinned under {path} were created by data-plane ABI {found}, this rvsd uses {expected}; \
         stop the other rvsd or remove the directory"
    )]
    AbiMismatch {
        /// The pin directory.
        path: PathBuf,
        /// Version found in the pinned config map.
        found: u32,
        /// Version of this build.
        expected: u32,
    },
    /// Loading the object or its maps failed (verifier errors land here).
    #[error("loading the BPF object: {0}")]
    Load(#[from] aya::EbpfError),
    /// A program could not be loaded, attached or run.
    #[error("BPF program {program}: {source}")]
    Program {
        /// Program name.
        program: &'static str,
        /// The failure.
        source: aya::programs::ProgramError,
    },
    /// An interface to attach to does not exist.
    #[error("interface {0} does not exist")]
    NoSuchInterface(String),
    /// Attaching to an interface failed.
    #[error("attaching to {interface} in {mode} mode: {source}")]
    Attach {
        /// Interface name.
        interface: String,
        /// Mode tried.
        mode: &'static str,
        /// The failure.
        source: aya::programs::ProgramError,
    },
    /// A map is missing from the object or has an unexpected type.
    #[error("map {name}: {source}")]
    Map {
        /// Map name.
        name: &'static str,
        /// The failure.
        source: aya::maps::MapError,
    },
    /// A map could not be memory-mapped.
    #[error("mmap of map {name}: {source}")]
    Mmap {
        /// Map name.
        name: &'static str,
        /// The failure.
        source: io::Error,
    },
    /// A slot number is past the end of its map.
    #[error("{what} slot {slot} out of range (max {max})")]
    SlotRange {
        /// What kind of slot.
        what: &'static str,
        /// The slot.
        slot: u32,
        /// The map's size.
        max: u32,
    },
    /// More classifier rules than the data plane holds.
    #[error("{rules} mark rules (one per port range) exceed the data plane's {max}")]
    TooManyMarkRules {
        /// Rules asked for.
        rules: usize,
        /// The limit.
        max: u32,
    },
}
