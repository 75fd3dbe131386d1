//! Typed handles on the director's maps, taken out of the loaded object.

use aya::{
    Ebpf,
    maps::{HashMap, IterableMap, Map, MapData, PerCpuArray},
};

use crate::{abi::*, error::DataplaneError, mmap::MmapArray};

/// Every map of the director program.
pub struct Maps {
    /// Virtual services (hash; whole-element replacement).
    pub services: HashMap<MapData, RvsSvcKey, RvsSvc>,
    /// Virtual addresses.
    pub vips: HashMap<MapData, u32, RvsVip>,
    /// Connection table.
    pub conns: HashMap<MapData, RvsConnKey, RvsConn>,
    /// Real servers by slot.
    pub dests: MmapArray<RvsDest>,
    /// Active/inactive counts by destination slot.
    pub dest_conns: MmapArray<RvsDestConns>,
    /// Next hops.
    pub neighs: MmapArray<RvsNeigh>,
    /// Rings and destination lists.
    pub pool: MmapArray<u32>,
    /// Ring cursors by service slot.
    pub sched: MmapArray<RvsSchedState>,
    /// Run-time settings (one element).
    pub config: MmapArray<RvsConfig>,
    /// The mark classifier's rules (two banks).
    pub mark_rules: MmapArray<RvsMarkRule>,
    /// Candidates for eviction (one element).
    pub evict: MmapArray<RvsEvictRing>,
    /// Candidates for the expiry program (one element).
    pub expire: MmapArray<RvsExpireBatch>,
    /// Synchronised entries for the sync install program (one element).
    pub sync_in: MmapArray<RvsSyncBatch>,
    /// Traffic per service slot.
    pub svc_stats: PerCpuArray<MapData, RvsCounters>,
    /// Traffic per destination slot.
    pub dest_stats: PerCpuArray<MapData, RvsCounters>,
    /// Verdict counters.
    pub stats: PerCpuArray<MapData, u64>,
    /// Capacity of the connection table.
    pub conn_max: u32,
}

fn take(ebpf: &mut Ebpf, name: &'static str) -> Result<Map, DataplaneError> {
    ebpf.take_map(name).ok_or(DataplaneError::Map {
        name,
        source: aya::maps::MapError::InvalidName { name: name.to_string() },
    })
}

fn typed<T: TryFrom<Map, Error = aya::maps::MapError>>(
    ebpf: &mut Ebpf,
    name: &'static str,
) -> Result<T, DataplaneError> {
    T::try_from(take(ebpf, name)?).map_err(|source| DataplaneError::Map { name, source })
}

fn mmapped<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<MmapArray<T>, DataplaneError> {
    let Map::Array(data) = take(ebpf, name)? else {
        return Err(DataplaneError::Map {
            name,
            source: aya::maps::MapError::InvalidName { name: format!("{name} is not an array") },
        });
    };
    let info = data.info().map_err(|source| DataplaneError::Map { name, source })?;
    MmapArray::new(data.fd(), info.max_entries()).map_err(|source| DataplaneError::Mmap { name, source })
}

impl Maps {
    /// The connection table's descriptor, for batch reads.
    pub fn conns_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.conns.map().fd().as_fd()
    }

    /// Takes every map out of a freshly loaded object.
    pub fn take_from(ebpf: &mut Ebpf) -> Result<Self, DataplaneError> {
        let conns_map = take(ebpf, "conns")?;
        let conn_max = match &conns_map {
            Map::HashMap(data) => data
                .info()
                .map_err(|source| DataplaneError::Map { name: "conns", source })?
                .max_entries(),
            _ => 0,
        };
        let conns = HashMap::try_from(conns_map)
            .map_err(|source| DataplaneError::Map { name: "conns", source })?;
        Ok(Self {
            services: typed(ebpf, "services")?,
            vips: typed(ebpf, "vips")?,
            conns,
            dests: mmapped(ebpf, "dests")?,
            dest_conns: mmapped(ebpf, "dest_conns")?,
            neighs: mmapped(ebpf, "neighs")?,
            pool: mmapped(ebpf, "pool")?,
            sched: mmapped(ebpf, "sched")?,
            config: mmapped(ebpf, "config")?,
            mark_rules: mmapped(ebpf, "mark_rules")?,
            evict: mmapped(ebpf, "evict")?,
            expire: mmapped(ebpf, "expire")?,
            sync_in: mmapped(ebpf, "sync_in")?,
            svc_stats: typed(ebpf, "svc_stats")?,
            dest_stats: typed(ebpf, "dest_stats")?,
            stats: typed(ebpf, "stats")?,
            conn_max,
        })
    }
}
