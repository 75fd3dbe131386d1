//! Expiring idle connections without stalling a CPU.
//!
//! The daemon reads the connection table in chunks (`BPF_MAP_LOOKUP_BATCH`, a few thousand
//! entries per syscall) and picks the entries whose timeout has passed by its own clock; the
//! `rvs_expire` program then re-checks each candidate in the kernel and expires it with the
//! packet path's compare-and-swap, so counts stay exact even when a packet races the sweep.
//! Each call covers at most a budget of entries and carries on from there next time, so a large
//! table is swept over several ticks instead of in one long pass. The entries a step reads that
//! were used longest ago are offered for eviction (`evict`), for when the table is full.

use aya::programs::{ProgramError, TestRun, TestRunOptions, Xdp};

use crate::{
    abi::{RVS_CONN_DEAD, RVS_EXPIRE_BATCH, RVS_KEY_TEMPLATE, RvsConfig, RvsConn, RvsConnKey, RvsExpireBatch},
    batch::{BatchCursor, HashBatch},
    error::DataplaneError,
    evict::OldestEntries,
    loader::Dataplane,
    object::PROG_EXPIRE,
};

/// Entries read per syscall.
const CHUNK: usize = 4096;

/// `CLOCK_MONOTONIC_COARSE` in ns: the clock the programs stamp connections with
/// (`bpf_ktime_get_coarse_ns`).
pub fn coarse_now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

/// The timeout that applies to an entry, from the live settings.
pub fn timeout_ns(cfg: &RvsConfig, key: &RvsConnKey, conn: &RvsConn) -> u64 {
    match key.proto {
        17 => cfg.udp_timeout_ns,
        6 => cfg.tcp_timeout_ns.get(conn.state as usize).copied().unwrap_or(0),
        _ => 0,
    }
}

/// Whether an entry is DEAD or past its timeout at `now` (the program decides for good). A
/// persistence template's timeout is its service's, which the program reads, and a template
/// whose service is gone expires whatever it controls: every template is a candidate.
fn candidate(cfg: &RvsConfig, key: &RvsConnKey, conn: &RvsConn, now: u64) -> bool {
    if key.kind == RVS_KEY_TEMPLATE {
        return true;
    }
    conn.state == RVS_CONN_DEAD || (now > conn.last_seen_ns && now - conn.last_seen_ns > timeout_ns(cfg, key, conn))
}

/// Where the sweep is in the table.
pub struct Sweeper {
    cursor: BatchCursor,
    chunk: HashBatch<RvsConnKey, RvsConn>,
    pending: Vec<RvsConnKey>,
    oldest: OldestEntries,
}

impl Default for Sweeper {
    fn default() -> Self {
        Self {
            cursor: BatchCursor::START,
            chunk: HashBatch::with_capacity(CHUNK),
            pending: Vec::new(),
            oldest: OldestEntries::default(),
        }
    }
}

/// What one sweep step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepStep {
    /// Entries read.
    pub scanned: usize,
    /// Candidates handed to the expiry program.
    pub candidates: usize,
    /// Whether this step reached the end of the table (the next starts a new pass).
    pub pass_done: bool,
}

impl Dataplane {
    /// Reads up to `budget` entries from where the last step stopped and expires what is due.
    pub fn sweep_step(&self, sweeper: &mut Sweeper, budget: usize) -> Result<SweepStep, DataplaneError> {
        let cfg = self.maps.config.read(0).unwrap_or_default();
        let fd = self.maps.conns_fd();
        let mut step = SweepStep::default();
        while step.scanned < budget {
            let (n, next) = sweeper
                .chunk
                .read(fd, sweeper.cursor)
                .map_err(|source| DataplaneError::Mmap { name: "conns (batch read)", source })?;
            sweeper.cursor = next;
            step.scanned += n;
            let now = crate::sweep::coarse_now_ns();
            let (keys, values) = (sweeper.chunk.keys(), sweeper.chunk.values());
            for (k, v) in keys.iter().zip(values).take(n) {
                let due = candidate(&cfg, k, v, now);
                if due {
                    sweeper.pending.push(*k);
                }
                // Templates are always expiry candidates (the program knows their timeout);
                // those that control nothing may be evicted too.
                if k.kind == RVS_KEY_TEMPLATE || !due {
                    sweeper.oldest.consider(k, v);
                }
            }
            if next.at_start() {
                step.pass_done = true;
                break;
            }
        }
        step.candidates = sweeper.pending.len();
        self.expire(&sweeper.pending)?;
        sweeper.pending.clear();
        self.offer_evictions(&sweeper.oldest.take());
        Ok(step)
    }

    /// Sweeps the whole table once.
    pub fn sweep(&self) -> Result<(), DataplaneError> {
        let mut sweeper = Sweeper::default();
        while !self.sweep_step(&mut sweeper, usize::MAX)?.pass_done {}
        Ok(())
    }

    /// Runs the expiry program over `keys`, a batch at a time.
    fn expire(&self, keys: &[RvsConnKey]) -> Result<(), DataplaneError> {
        let prog: &Xdp = self
            .program(PROG_EXPIRE)
            .ok_or(DataplaneError::Program { program: PROG_EXPIRE, source: ProgramError::NotLoaded })?;
        for chunk in keys.chunks(RVS_EXPIRE_BATCH as usize) {
            let mut batch = RvsExpireBatch { count: chunk.len() as u32, ..Default::default() };
            batch.keys[..chunk.len()].copy_from_slice(chunk);
            // Only this daemon thread and the program it is about to run use the batch.
            self.maps.expire.write_unpublished(0, batch);
            let frame = [0u8; 64];
            prog.test_run(TestRunOptions { data_in: Some(&frame), ..TestRunOptions::new() })
                .map_err(|source| DataplaneError::Program { program: PROG_EXPIRE, source })?;
        }
        Ok(())
    }
}
