//! The XDP data plane: BPF programs, their loader and typed maps.

pub mod abi;
pub mod alloc;
pub mod attach;
pub mod batch;
pub mod bench_abi;
pub mod bpffs;
pub mod config;
pub mod decap;
pub mod decap_abi;
pub mod error;
pub mod evict;
pub mod loader;
pub mod maps;
pub mod mmap;
pub mod neigh;
pub mod object;
pub mod program;
pub mod readout;
pub mod sweep;
pub mod sync;

pub use attach::AttachMode;
pub use error::DataplaneError;
pub use loader::{Dataplane, DataplaneOptions};
