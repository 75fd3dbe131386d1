//! Installing connections received from the MASTER director (IPVS's connection synchronisation)
//! on this BACKUP director.
//!
//! The daemon decodes the sync messages and resolves each connection's real server to a
//! destination slot and its generation; [`Dataplane::install_synced`] then hands the entries to
//! the `rvs_sync_install` program in batches through the mmapable `sync_in` map, and runs it
//! through `BPF_PROG_TEST_RUN` as the sweep runs `rvs_expire`. The program inserts what is new
//! with the packet path's accounting and refreshes what is there with its compare-and-swap (see
//! `bpf/sync.h`).

use std::sync::PoisonError;

use aya::programs::{ProgramError, TestRun, TestRunOptions, Xdp};

use crate::{
    abi::{RVS_KEY_TEMPLATE, RVS_SYNC_BATCH, RvsSyncBatch, RvsSyncEntry},
    error::DataplaneError,
    loader::Dataplane,
    object::PROG_SYNC_INSTALL,
};

/// What an [`Dataplane::install_synced`] call did with its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncInstall {
    /// New entries inserted (connections and persistence templates).
    pub installed: u32,
    /// Live entries under the same key, refreshed and moved to the received state.
    pub updated: u32,
    /// Entries left alone: the entry under the key is DEAD (being deleted), the destination
    /// slot moved on to another generation or is not available, or the entry is malformed.
    pub skipped: u32,
    /// Entries not installed because the connection table is full (nothing could be evicted).
    pub full: u32,
}

impl SyncInstall {
    fn add(&mut self, other: SyncInstall) {
        self.installed += other.installed;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.full += other.full;
    }
}

impl Dataplane {
    /// Installs connection entries received from the MASTER director, a batch at a time.
    /// Templates go first (in their order, then the connections in theirs), so that a
    /// connection controlled by a template of the same call finds it; a controlled connection
    /// whose template is not installed is installed uncontrolled.
    pub fn install_synced(&self, entries: &[RvsSyncEntry]) -> Result<SyncInstall, DataplaneError> {
        let prog: &Xdp = self
            .program(PROG_SYNC_INSTALL)
            .ok_or(DataplaneError::Program { program: PROG_SYNC_INSTALL, source: ProgramError::NotLoaded })?;
        let ordered: Vec<RvsSyncEntry> = entries
            .iter()
            .filter(|e| e.key.kind == RVS_KEY_TEMPLATE)
            .chain(entries.iter().filter(|e| e.key.kind != RVS_KEY_TEMPLATE))
            .copied()
            .collect();
        // One batch in `sync_in` at a time: the map has a single element.
        let _guard = self.sync_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let sync_in = &self.maps.sync_in;
        let mut total = SyncInstall::default();
        for chunk in ordered.chunks(RVS_SYNC_BATCH as usize) {
            let mut batch = RvsSyncBatch { count: chunk.len() as u32, ..Default::default() };
            batch.entries[..chunk.len()].copy_from_slice(chunk);
            // Only this call (under the lock) and the program it is about to run use the batch.
            sync_in.write_unpublished(0, batch);
            let frame = [0u8; 64];
            prog.test_run(TestRunOptions { data_in: Some(&frame), ..TestRunOptions::new() })
                .map_err(|source| DataplaneError::Program { program: PROG_SYNC_INSTALL, source })?;
            // SAFETY (all four): the pointers are to the one element's counters, which the
            // program has written and nothing else touches.
            let read = |field: fn(*mut RvsSyncBatch) -> *mut u32| {
                sync_in.atomic_u32(0, field).map_or(0, |a| a.load(std::sync::atomic::Ordering::Acquire))
            };
            total.add(SyncInstall {
                installed: read(|b| unsafe { &raw mut (*b).installed }),
                updated: read(|b| unsafe { &raw mut (*b).updated }),
                skipped: read(|b| unsafe { &raw mut (*b).skipped }),
                full: read(|b| unsafe { &raw mut (*b).full }),
            });
        }
        Ok(total)
    }
}
