//! Reading what the data plane counted: verdict counters, traffic per service and destination,
//! connection entries, and the program's own run-time statistics.

use aya::maps::PerCpuValues;

use crate::{
    abi::{RvsConn, RvsConnKey, RvsCounters, RvsStat},
    batch::{BatchCursor, HashBatch},
    error::DataplaneError,
    loader::Dataplane,
};

fn sum_counters(values: &PerCpuValues<RvsCounters>) -> RvsCounters {
    values.iter().fold(RvsCounters::default(), |a, c| RvsCounters {
        conns: a.conns + c.conns,
        inpkts: a.inpkts + c.inpkts,
        outpkts: a.outpkts + c.outpkts,
        inbytes: a.inbytes + c.inbytes,
        outbytes: a.outbytes + c.outbytes,
    })
}

/// The program's own accounting of its CPU time (`bpf_stats`; zero unless
/// `kernel.bpf_stats_enabled = 1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgramStats {
    /// Total run time, ns.
    pub run_time_ns: u64,
    /// Number of runs.
    pub run_count: u64,
}

impl Dataplane {
    /// Every verdict counter, summed over CPUs, in `RvsStat` order.
    pub fn verdict_counters(&self) -> Result<Vec<(RvsStat, u64)>, DataplaneError> {
        RvsStat::ALL
            .iter()
            .map(|&stat| {
                let values = self
                    .maps
                    .stats
                    .get(&(stat as u32), 0)
                    .map_err(|source| DataplaneError::Map { name: "stats", source })?;
                Ok((stat, values.iter().sum()))
            })
            .collect()
    }

    /// Traffic counters of a service slot, summed over CPUs.
    pub fn service_counters(&self, slot: u32) -> Result<RvsCounters, DataplaneError> {
        let v = self.maps.svc_stats.get(&slot, 0).map_err(|source| DataplaneError::Map { name: "svc_stats", source })?;
        Ok(sum_counters(&v))
    }

    /// Traffic counters of a destination slot, summed over CPUs.
    pub fn dest_counters(&self, slot: u32) -> Result<RvsCounters, DataplaneError> {
        let v = self.maps.dest_stats.get(&slot, 0).map_err(|source| DataplaneError::Map { name: "dest_stats", source })?;
        Ok(sum_counters(&v))
    }

    /// Every connection entry (live or not yet swept), in hash order, read in chunks.
    pub fn connections(&self) -> Result<Vec<(RvsConnKey, RvsConn)>, DataplaneError> {
        let mut out = Vec::new();
        let mut chunk: HashBatch<RvsConnKey, RvsConn> = HashBatch::with_capacity(4096);
        let mut cursor = BatchCursor::START;
        loop {
            let (n, next) = chunk
                .read(self.maps.conns_fd(), cursor)
                .map_err(|source| DataplaneError::Mmap { name: "conns (batch read)", source })?;
            out.extend(chunk.keys().iter().copied().zip(chunk.values().iter().copied()).take(n));
            if next.at_start() {
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// Run-time statistics of the director program.
    pub fn program_stats(&self) -> Result<ProgramStats, DataplaneError> {
        let info = self
            .director()?
            .info()
            .map_err(|source| DataplaneError::Program { program: crate::object::PROG_DIRECTOR, source })?;
        Ok(ProgramStats { run_time_ns: info.run_time().as_nanos() as u64, run_count: info.run_count() })
    }
}
