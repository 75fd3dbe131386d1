//! `IpvsTable`: the kernel's IPVS control semantics (`net/netfilter/ipvs/ip_vs_ctl.c`), sans-IO.
//!
//! The table holds virtual services, their destinations, the destination trash, the three
//! connection timeouts and the sync-daemon settings, and answers every change with exactly the
//! errno the kernel would ([`IpvsError`]). It does no I/O: facts about the host come in through
//! [`DirectorHost`], live numbers through [`LiveCounters`] / [`ConnectionSource`].
//!
//! # How rvsd uses it
//!
//! ```text
//! let mut table = IpvsTable::new();     // or with_config(TableConfig { hash_salt, conn_tab_size })
//!                                       // defaults: timeouts 900/120/300, size=4096
//! // for each control request (crate::control::serve_line does this and the listings for you):
//! let changes = table.apply(&op, &host)?;                  // Err(IpvsError) -> reply with it
//! for change in changes { dataplane.update(&table, change) }
//! // listings merge live data:
//! table.entries(&counters)          // Vec<ServiceEntry>, kernel order, dests newest first
//! // periodically (the kernel does it every 60 s), drop trash entries nobody uses any more:
//! for freed in table.reap_trash(|dest| conn_table.references(dest)) { dataplane.free(freed) }
//! ```
//!
//! * Ids: every service gets a [`ServiceId`], every destination a [`DestId`]; both are small
//!   integers meant as data-plane slots. A service id is freed when the service is deleted; a
//!   destination id lives on while the destination sits in the trash and is freed only by
//!   [`IpvsTable::reap_trash`].
//! * Changes: [`IpvsTable::apply`] returns the list of [`Change`]s it made, in order, and bumps
//!   [`IpvsTable::generation`]. A daemon may instead compare generations and re-read everything
//!   through [`IpvsTable::services`] / [`IpvsTable::dest`].
//! * Trash: deleting a destination (or its service, or `-C`) moves it to the trash, as
//!   `ip_vs_trash_add_dest` does; adding the same destination again to the same virtual service
//!   revives it with the same id.
//! * Zeroing (`-Z`) is reported as [`Change::CountersZeroed`]; counters live in the data plane.
//! * Order: services are kept in the kernel's hash-bucket order ([`order`]), destinations newest
//!   first; ipvsadm sorts on its side unless `--nosort`.

mod change;
mod dests;
mod error;
mod host;
mod ids;
mod live;
pub mod order;
mod services;
mod snapshot;
mod sync;
mod trash;

pub use change::Change;
pub use error::IpvsError;
pub use host::{DirectorHost, StaticHost};
pub use live::{ConnectionSource, LiveCounters, NoLiveData};

use crate::model::{
    DestId, DestSpec, Info, Netmask, Operation, PeName, Protocol, SchedulerName, ServiceFlags,
    ServiceId, ServiceKey, ServiceSpec, SyncDaemonEntry, Timeouts, Weight,
};
use ids::IdAllocator;
use order::ServiceOrder;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Schedulers the table accepts (`ip_vs_<name>` modules). `none` is also accepted and means
/// "no scheduler", as in the kernel.
pub const KNOWN_SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

/// Persistence engines the table accepts.
pub const KNOWN_PERSISTENCE_ENGINES: [&str; 1] = ["sip"];

/// Settings fixed when the table is created.
#[derive(Debug, Clone, Copy)]
pub struct TableConfig {
    /// Low byte of the hash salt that decides the `--nosort` service order.
    pub hash_salt: u32,
    /// Connection hash size reported by `Info` (`1 << conn_tab_bits`).
    pub conn_tab_size: u32,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            hash_salt: order::DEFAULT_HASH_SALT,
            conn_tab_size: 4096,
        }
    }
}

/// A virtual service as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    pub key: ServiceKey,
    /// `None` for `-s none`.
    pub scheduler: Option<SchedulerName>,
    pub flags: ServiceFlags,
    pub timeout: u32,
    pub netmask: Netmask,
    pub pe: Option<PeName>,
    /// Destinations, newest first (the kernel's `list_add_rcu` order).
    pub dests: Vec<DestId>,
    /// Distinguishes successive services that had the same key (the kernel's `svc` pointer).
    serial: u64,
}

impl Service {
    /// The service as `-A`/`-E` would give it (`-s none` for one without a scheduler), which is
    /// what a configuration reload compares with what it wants.
    pub fn spec(&self) -> ServiceSpec {
        ServiceSpec {
            key: self.key,
            scheduler: self.scheduler.clone().unwrap_or_else(SchedulerName::none),
            flags: self.flags,
            timeout: self.timeout,
            netmask: self.netmask,
            pe: self.pe.clone(),
        }
    }
}

/// Where a destination was created: the kernel's `dest->vaddr/vport/vfwmark/protocol`, which
/// decide whether a trashed destination may be revived into a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    vaddr: IpAddr,
    vport: u16,
    vfwmark: u32,
    protocol: Protocol,
    service_serial: u64,
}

/// A destination as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub id: DestId,
    /// The service it belongs to (for a trashed destination: the one it was removed from).
    pub service: ServiceId,
    pub spec: DestSpec,
    /// Latest non-zero weight (`dest->last_weight`, used by mh so quiescing does not reshuffle).
    pub last_weight: Weight,
    origin: Origin,
}

/// The IPVS control-plane state of one director (one network namespace in the kernel).
#[derive(Debug, Clone)]
pub struct IpvsTable {
    config: TableConfig,
    services: BTreeMap<ServiceId, Service>,
    by_key: HashMap<ServiceKey, ServiceId>,
    order: ServiceOrder,
    dests: BTreeMap<DestId, Dest>,
    /// Trashed destinations, newest first (`list_add` to `dest_trash`).
    trash: Vec<Dest>,
    service_ids: IdAllocator,
    dest_ids: IdAllocator,
    timeouts: Timeouts,
    master: Option<SyncDaemonEntry>,
    backup: Option<SyncDaemonEntry>,
    /// `ipvs->mixed_address_family_dests`.
    mixed_af_dests: u32,
    next_serial: u64,
    generation: u64,
}

impl Default for IpvsTable {
    fn default() -> Self {
        Self::new()
    }
}

impl IpvsTable {
    /// An empty table with the kernel's defaults.
    pub fn new() -> Self {
        Self::with_config(TableConfig::default())
    }

    pub fn with_config(config: TableConfig) -> Self {
        IpvsTable {
            config,
            services: BTreeMap::new(),
            by_key: HashMap::new(),
            order: ServiceOrder::new(config.hash_salt),
            dests: BTreeMap::new(),
            trash: Vec::new(),
            service_ids: IdAllocator::default(),
            dest_ids: IdAllocator::default(),
            timeouts: Timeouts::default(),
            master: None,
            backup: None,
            mixed_af_dests: 0,
            next_serial: 0,
            generation: 0,
        }
    }

    /// Applies one operation with the kernel's checks, in the kernel's order. On error nothing
    /// changed. On success the changes made are returned and the generation is bumped if any.
    pub fn apply(
        &mut self,
        op: &Operation,
        host: &dyn DirectorHost,
    ) -> Result<Vec<Change>, IpvsError> {
        let changes = match op {
            Operation::AddService { spec } => self.add_service(spec)?,
            Operation::EditService { spec } => self.edit_service(spec)?,
            Operation::DeleteService { key } => self.delete_service(key)?,
            Operation::AddDest { service, dest } => self.add_dest(service, dest, host)?,
            Operation::EditDest { service, dest } => self.edit_dest(service, dest)?,
            Operation::DeleteDest { service, dest } => self.delete_dest(service, dest)?,
            Operation::Flush => self.flush(),
            Operation::Zero { service } => self.zero(service.as_ref())?,
            Operation::SetTimeouts { timeouts } => self.set_timeouts(timeouts)?,
            Operation::StartDaemon { config } => self.start_daemon(config, host)?,
            Operation::StopDaemon { state } => self.stop_daemon(*state)?,
        };
        if !changes.is_empty() {
            self.generation += 1;
        }
        Ok(changes)
    }

    /// Counts the successful changes applied so far (and trash reaps).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Version and connection table size (`IPVS_CMD_GET_INFO`).
    pub fn info(&self) -> Info {
        Info {
            version: Info::VERSION_CODE,
            conn_tab_size: self.config.conn_tab_size,
        }
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Running sync daemons, master first (`IPVS_CMD_GET_DAEMON`).
    pub fn sync_daemons(&self) -> Vec<SyncDaemonEntry> {
        self.master
            .iter()
            .chain(self.backup.iter())
            .cloned()
            .collect()
    }

    /// Services in the kernel's dump order.
    pub fn services(&self) -> impl Iterator<Item = &Service> + '_ {
        self.order.iter().filter_map(|id| self.services.get(&id))
    }

    pub fn service(&self, key: &ServiceKey) -> Option<&Service> {
        self.by_key.get(key).and_then(|id| self.services.get(id))
    }

    pub fn service_by_id(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(&id)
    }

    /// A live (not trashed) destination.
    pub fn dest(&self, id: DestId) -> Option<&Dest> {
        self.dests.get(&id)
    }

    /// The destinations of a service, newest first.
    pub fn dests_of<'a>(&'a self, service: &'a Service) -> impl Iterator<Item = &'a Dest> + 'a {
        service.dests.iter().filter_map(|id| self.dests.get(id))
    }

    fn new_serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }
}

fn is_known_scheduler(name: &str) -> bool {
    KNOWN_SCHEDULERS.contains(&name)
}

fn is_known_pe(name: &str) -> bool {
    KNOWN_PERSISTENCE_ENGINES.contains(&name)
}
