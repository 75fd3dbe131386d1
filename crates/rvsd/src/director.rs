//! The director: the IPVS table (configuration and its semantics), the data plane that carries
//! it out, and the counters that listings show. One instance behind a lock serves every request.

use rvs_core::{
    control::{self, ErrorReply, MarkEdit, NamedCounter, Request, Response},
    config::diff::CurrentService,
    model::{ConnEntry, DestAddr, DestCounters, DestId, MarkRule, ServiceCounters, ServiceId, ServiceKey},
    table::{Change, ConnectionSource, IpvsTable, LiveCounters},
};

use rvs_dataplane::sweep::Sweeper;

use crate::{
    counters::Counters,
    host_facts::HostFacts,
    marks::MarkError,
    plane::Plane,
    sync::{SyncCommand, codec::SyncMemory},
};

/// The table, the data plane and the counters.
pub struct Director {
    table: IpvsTable,
    plane: Plane,
    counters: Counters,
    sweeper: Sweeper,
    /// The mark classifier's rules in force.
    marks: Vec<MarkRule>,
    /// Where sync daemons started or stopped in the table are run (`crate::sync`).
    sync_commands: Option<tokio::sync::mpsc::UnboundedSender<SyncCommand>>,
    sync_memory: SyncMemory,
}

/// Listings' view of live numbers.
struct Live<'a> {
    counters: &'a Counters,
    plane: &'a Plane,
}

impl LiveCounters for Live<'_> {
    fn service(&self, id: ServiceId) -> ServiceCounters {
        self.counters.service(id)
    }

    fn dest(&self, id: DestId) -> DestCounters {
        self.counters.dest(self.plane, id)
    }
}

impl ConnectionSource for Live<'_> {
    fn connections(&self) -> Vec<ConnEntry> {
        crate::conns::entries(self.plane)
    }
}

impl Director {
    /// A director with an empty table over a loaded data plane.
    pub fn new(plane: Plane) -> Self {
        Self {
            table: IpvsTable::new(),
            plane,
            counters: Counters::default(),
            sweeper: Sweeper::default(),
            marks: Vec::new(),
            sync_commands: None,
            sync_memory: SyncMemory::default(),
        }
    }

    /// The sync daemons the table records (`-L --daemon`).
    pub fn sync_daemons(&self) -> Vec<rvs_core::model::SyncDaemonEntry> {
        self.table.sync_daemons()
    }

    /// Makes the data plane pass (to the kernel) instead of forwarding packets for `addresses`
    /// while `standby`: a VRRP backup does not forward for the VIP it does not hold.
    pub fn set_vip_standby(&mut self, addresses: &[std::net::IpAddr], standby: bool) {
        self.plane.set_vip_standby(addresses, standby);
    }

    /// Sync daemons started from now on run through `commands`.
    pub fn run_sync_daemons(&mut self, commands: tokio::sync::mpsc::UnboundedSender<SyncCommand>) {
        self.sync_commands = Some(commands);
    }

    /// Ends the sync daemons' supervisor (see `sync::supervise`).
    pub fn stop_sync_daemons(&self) {
        if let Some(commands) = &self.sync_commands {
            let _ = commands.send(SyncCommand::Shutdown);
        }
    }

    /// The connections the sync master announces this round (see `sync::codec::outgoing`).
    pub fn sync_outgoing(&mut self, now: u64, refresh_ns: u64) -> Vec<rvs_wire::ipvs_sync::ConnRepr<'static>> {
        crate::sync::codec::outgoing(&self.table, &self.plane, &mut self.sync_memory, now, refresh_ns)
    }

    /// Installs connections the sync backup received; what cannot be is counted in the log.
    pub fn sync_install(&mut self, conns: &[rvs_wire::ipvs_sync::ConnRepr<'_>]) {
        let mut entries = Vec::with_capacity(conns.len());
        let mut skipped = std::collections::BTreeMap::new();
        for conn in conns {
            match crate::sync::codec::incoming(&self.table, &self.plane, conn) {
                Ok(entry) => entries.push(entry),
                Err(skip) => *skipped.entry(format!("{skip:?}")).or_insert(0u32) += 1,
            }
        }
        if !skipped.is_empty() {
            tracing::debug!(?skipped, "sync backup: entries not installed");
        }
        if entries.is_empty() {
            return;
        }
        match self.plane.dp.install_synced(&entries) {
            Ok(done) => {
                let now = rvs_dataplane::sweep::coarse_now_ns();
                self.sync_memory.installed(entries.iter().map(|e| e.key), now);
                // Installs not refreshed for longer than any connection lives are stale.
                self.sync_memory.forget_installed_before(now.saturating_sub(3_600_000_000_000));
                tracing::trace!(?done, "sync backup: installed");
            }
            Err(e) => tracing::warn!(error = %e, "sync backup: the data plane refused the entries"),
        }
    }

    /// Puts a rule set of the mark classifier in force, or refuses it and keeps the one in force.
    pub fn set_marks(&mut self, rules: Vec<MarkRule>) -> Result<(), MarkError> {
        self.plane.set_marks(&rules)?;
        self.marks = rules;
        Ok(())
    }

    fn edit_marks(&mut self, edit: &MarkEdit) -> Response {
        let result = match crate::marks::edited(&self.marks, edit) {
            Ok(Some(rules)) => self.set_marks(rules),
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => Response::Marks { rules: self.marks.clone() },
            Err(e) => Response::Error { error: ErrorReply::Refused(e.to_string()) },
        }
    }

    /// The mark classifier's rules in force.
    pub fn marks(&self) -> &[MarkRule] {
        &self.marks
    }

    /// Every service of the table with its destinations, as the configuration diff reads them.
    pub fn current_services(&self) -> Vec<CurrentService> {
        self.table
            .services()
            .map(|svc| CurrentService { spec: svc.spec(), dests: self.table.dests_of(svc).map(|d| d.spec).collect() })
            .collect()
    }

    /// The weight of a destination in the table, `None` when it is not there.
    pub fn dest_weight(&self, service: &ServiceKey, dest: DestAddr) -> Option<u32> {
        let svc = self.table.service(service)?;
        self.table.dests_of(svc).find(|d| d.spec.dest_addr() == dest).map(|d| d.spec.weight.get())
    }

    /// Gives the data plane back for teardown.
    pub fn into_plane(self) -> Plane {
        self.plane
    }

    /// Answers one control request. Changes go through the table first (which decides, with
    /// the kernel's errors); the data plane then follows what the table reports changed.
    pub async fn handle(&mut self, request: &Request) -> Response {
        match request {
            Request::GetDataplaneCounters => return Response::DataplaneCounters { counters: self.verdicts() },
            Request::Marks { edit } => return self.edit_marks(edit),
            Request::Reload | Request::GetHealth => {
                return Response::Error { error: ErrorReply::Refused("rvsd runs without a configuration file (--config)".into()) };
            }
            _ => {}
        }
        let facts = match request {
            Request::Apply { operation } => HostFacts::gather(self.plane.resolver(), operation).await,
            _ => HostFacts::default(),
        };
        let live = Live { counters: &self.counters, plane: &self.plane };
        let (response, changes) = control::serve(&mut self.table, request, &facts, &live, &live);
        if !changes.is_empty() {
            self.follow(&changes).await;
        }
        response
    }

    async fn follow(&mut self, changes: &[Change]) {
        if let Err(e) = self.plane.apply(&self.table, changes).await {
            // The table changed (ipvsadm sees the new state); the data plane could not follow.
            tracing::error!(error = %e, ?changes, "the data plane could not follow a configuration change");
        }
        for change in changes {
            match change {
                Change::ServiceAdded(id) => self.counters.track_service(&self.plane, *id),
                Change::ServiceRemoved { id, .. } => self.counters.forget_service(*id),
                Change::DestAdded { dest, stats_reset, .. } => self.counters.track_dest(&self.plane, *dest, *stats_reset),
                Change::CountersZeroed { services, dests, .. } => self.counters.zero(services, dests),
                Change::SyncDaemonStarted(state) => {
                    let entry = self.table.sync_daemons().into_iter().find(|d| d.state == *state);
                    match (&self.sync_commands, entry) {
                        (Some(commands), Some(entry)) => {
                            let _ = commands.send(SyncCommand::Start(entry));
                        }
                        _ => tracing::warn!(?state, "sync daemon recorded, but this rvsd runs no sync daemons"),
                    }
                }
                Change::SyncDaemonStopped(state) => {
                    if let Some(commands) = &self.sync_commands {
                        let _ = commands.send(SyncCommand::Stop(*state));
                    }
                }
                _ => {}
            }
        }
    }

    /// The estimator's 2-second tick.
    pub fn sample(&mut self) {
        self.counters.sample(&self.plane);
    }

    /// Expires idle connections: one step of the incremental sweep (see `housekeeping`).
    pub fn sweep(&mut self, budget: usize) {
        if let Err(e) = self.plane.dp.sweep_step(&mut self.sweeper, budget) {
            tracing::warn!(error = %e, "connection sweep failed");
        }
    }

    /// Frees trash destinations no connection uses any more.
    pub fn reap(&mut self) {
        let before: Vec<DestId> = self.table.trash().map(|d| d.id).collect();
        let n = self.plane.reap(&mut self.table);
        if n > 0 {
            let still: Vec<DestId> = self.table.trash().map(|d| d.id).collect();
            for id in before.into_iter().filter(|id| !still.contains(id)) {
                self.counters.forget_dest(id);
            }
        }
    }

    /// Re-resolves real servers' next hops.
    pub async fn refresh_neighbours(&mut self) {
        self.plane.refresh_neighbours().await;
    }

    /// What the next-hop resolution needs when interfaces come back (see
    /// [`Plane::relink_targets`]).
    pub fn relink_targets(&self, ifindexes: &[u32]) -> (rvs_dataplane::neigh::Resolver, Vec<rvs_dataplane::neigh::NextHop>) {
        self.plane.relink_targets(ifindexes)
    }

    /// The Prometheus metrics page (see `metrics`).
    pub fn metrics(&self) -> String {
        let mut services = Vec::new();
        let mut backends = Vec::new();
        for svc in self.table.services() {
            services.push(self.counters.service(svc.id).stats);
            let [a, b, c, d] = crate::metrics::service_labels(&svc.key);
            for dest in self.table.dests_of(svc) {
                let live = self.counters.dest(&self.plane, dest.id);
                backends.push(crate::metrics::Backend {
                    labels: [
                        a.clone(),
                        b.clone(),
                        c.clone(),
                        d.clone(),
                        ("remote_address", dest.spec.addr.to_string()),
                        ("remote_port", dest.spec.port.to_string()),
                    ],
                    active: live.active_conns,
                    inactive: live.inactive_conns,
                    weight: dest.spec.weight.get(),
                });
            }
        }
        let verdicts: Vec<(String, u64)> = self.verdicts().into_iter().map(|c| (c.name, c.value)).collect();
        crate::metrics::render(&services, &backends, &verdicts)
    }

    /// The data plane's named verdict counters.
    fn verdicts(&self) -> Vec<NamedCounter> {
        self.plane
            .dp
            .verdict_counters()
            .map(|v| v.into_iter().map(|(s, n)| NamedCounter { name: s.name().to_string(), value: n }).collect())
            .unwrap_or_default()
    }
}
