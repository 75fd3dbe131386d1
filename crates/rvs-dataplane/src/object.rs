//! The BPF object built by `build.rs`, embedded in every binary that links this crate.

/// `bpf/director.c` compiled for the BPF target: programs `rvs_director`, `rvs_expire` and
/// `rvs_sync_install`.
pub static DIRECTOR: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/director.o"));

/// Name of the packet-path program in the object.
pub const PROG_DIRECTOR: &str = "rvs_director";
/// Name of the connection-expiry program in the object.
pub const PROG_EXPIRE: &str = "rvs_expire";
/// Name of the program that installs connections received from the MASTER director.
pub const PROG_SYNC_INSTALL: &str = "rvs_sync_install";

/// `bpf/bench.c`: the benchmark's traffic generator (`bench_gen`, run in live-frames mode) and
/// receiver-side counter (`bench_sink`), used by `rvs bench`.
pub static BENCH: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bench.o"));

/// `bpf/decap.c`: the real servers' decapsulation program (`rvs_decap`), installed by
/// `rvs realserver` in TUN mode (see `crate::decap`).
pub static DECAP: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/decap.o"));

/// Name of the decapsulation program in its object.
pub const PROG_DECAP: &str = "rvs_decap";
