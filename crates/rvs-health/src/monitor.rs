//! The monitor: one task that runs every check of a configuration when it is due (the probes
//! themselves run concurrently, at most [`MAX_CONCURRENT_PROBES`] at once), feeds the results to
//! [`Health`], logs every change with its reason, runs the notify scripts, and sends the table
//! the configuration now wants whenever that changes. Failures while the director's own links
//! are down are not counted ([`crate::own_links`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rvs_core::config::desired::DesiredService;
use rvs_core::config::Config;
use rvs_core::control::{CheckStatus, RealStatus};
use rvs_core::model::ServiceKey;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::check_state::Attempt;
use crate::cluster::{Event, Health, Job};
use crate::own_links::{LinkChange, OwnLinks};
use rvs_core::links::Carrier;
use crate::probe::{ProbeTarget, probe};

/// Probes running at once; more wait for a turn (their timeouts start when they run).
pub const MAX_CONCURRENT_PROBES: usize = 512;

/// What the table should hold now.
#[derive(Debug, Clone)]
pub struct Update {
    pub desired: Vec<DesiredService>,
    /// Services of an earlier configuration that the current one does not have.
    pub released: Vec<ServiceKey>,
}

enum Command {
    Replace(Box<Config>),
    Status(oneshot::Sender<Vec<RealStatus>>),
    /// Runs the `omega` scripts, waits for them (bounded), answers, and ends the task.
    Stop(oneshot::Sender<()>),
}

/// How long `omega` scripts may run at stop before rvsd goes on stopping.
const OMEGA_WAIT: Duration = Duration::from_secs(10);

/// The monitor's task has ended (it only ends when stopped or when it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the health-check monitor is not running")]
pub struct MonitorGone;

/// A running monitor. Dropping it stops the checks.
pub struct Monitor {
    commands: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Monitor {
    /// Starts checking `config`'s real servers. The first [`Update`] (the table at start) is
    /// sent at once. `links` reports the director's own links (a sender dropped means all
    /// up).
    pub fn start(config: Config, links: watch::Receiver<Carrier>) -> (Monitor, mpsc::UnboundedReceiver<Update>) {
        let (commands, rx) = mpsc::unbounded_channel();
        let (updates, updates_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(config, rx, updates, links));
        (Monitor { commands, task }, updates_rx)
    }

    /// Puts a new configuration in force (see [`Health::replace`]).
    pub fn replace(&self, config: Config) -> Result<(), MonitorGone> {
        self.commands.send(Command::Replace(Box::new(config))).map_err(|_| MonitorGone)
    }

    /// Every real server and its checks (without the table's weight, which the caller knows).
    pub async fn status(&self) -> Vec<RealStatus> {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Status(tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Stops the checks. Services with `omega` first run the down scripts of their live real
    /// servers and, if they have their quorum, quorum_down (keepalived's omega), waited for up
    /// to 10 s.
    pub async fn stop(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Stop(tx)).is_ok() {
            let _ = rx.await;
        }
        self.task.abort();
    }
}

/// Warmup offsets: std's randomly keyed hasher over a counter, enough to spread first checks.
fn random_source() -> impl FnMut() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let keys = std::collections::hash_map::RandomState::new();
    let mut n = 0u64;
    move || {
        n += 1;
        let mut h = keys.build_hasher();
        h.write_u64(n);
        h.finish()
    }
}

/// Follows the director's links; logs what changed.
fn follow_links(own: &mut OwnLinks, links: &mut watch::Receiver<Carrier>) {
    let report = links.borrow_and_update().clone();
    match own.update(&report, Instant::now()) {
        Some(LinkChange::Down(names)) => {
            tracing::warn!(links = ?names, "this director's links are down: health-check failures are not counted until they are back");
        }
        Some(LinkChange::Restored) => tracing::info!("this director's links are back: health-check failures count again"),
        None => {}
    }
}

async fn run(config: Config, mut commands: mpsc::UnboundedReceiver<Command>, updates: mpsc::UnboundedSender<Update>, mut links: watch::Receiver<Carrier>) {
    let mut random = random_source();
    let mut own = OwnLinks::default();
    let mut links_open = true;
    // Said once per outage: failures count again although a link is still down.
    let mut long_outage_said = false;
    follow_links(&mut own, &mut links);
    let (mut health, events) = Health::new(config, Instant::now(), &mut random);
    let _ = updates.send(Update { desired: health.desired(), released: Vec::new() });
    report(&health, &events);
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_PROBES));
    let mut running: JoinSet<(u64, Instant, Attempt)> = JoinSet::new();
    loop {
        for job in health.due(Instant::now()) {
            running.spawn(attempt(job, permits.clone()));
        }
        let wake = health.next_deadline().map(tokio::time::Instant::from_std);
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let (events, released) = tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(Command::Replace(config)) => {
                    let (released, events) = health.replace(*config, Instant::now(), &mut random);
                    tracing::info!(services = health.config().virtual_servers.len(), released = released.len(), "health checks follow the new configuration");
                    let _ = updates.send(Update { desired: health.desired(), released });
                    report(&health, &events);
                    continue;
                }
                Some(Command::Status(reply)) => {
                    let _ = reply.send(status(&health, Instant::now()));
                    continue;
                }
                Some(Command::Stop(done)) => {
                    let scripts: Vec<_> = health.omega_scripts().into_iter().filter_map(|(s, why)| crate::notify::spawn(&s, why)).collect();
                    let _ = tokio::time::timeout(OMEGA_WAIT, futures_join(scripts)).await;
                    let _ = done.send(());
                    return;
                }
            },
            changed = links.changed(), if links_open => {
                match changed {
                    Ok(()) => follow_links(&mut own, &mut links),
                    // Nobody watches the links any more: they count as up from now on.
                    Err(_) => {
                        links_open = false;
                        let _ = own.update(&Carrier::default(), Instant::now());
                    }
                }
                long_outage_said &= !own.down().is_empty();
                continue;
            }
            Some(done) = running.join_next() => match done {
                Ok((id, started, result)) => {
                    // The link event may be waiting behind this result.
                    if links.has_changed().unwrap_or(false) {
                        follow_links(&mut own, &mut links);
                    }
                    let now = Instant::now();
                    if !long_outage_said && own.outage_too_long(now) {
                        long_outage_said = true;
                        tracing::warn!(links = ?own.down(), "this director's links have been down for a minute: health-check failures count again");
                    }
                    match result {
                        Attempt::Fail { reason } if own.excuses(started, now) => {
                            let reason = format!("{reason} ({})", own.excuse());
                            tracing::debug!(check = id, reason, "a failed health check is not counted");
                            health.excuse(id, reason, now);
                            continue;
                        }
                        result => (health.record(id, result, now), Vec::new()),
                    }
                }
                Err(e) => {
                    // attempt() catches a probe's panic itself; this is the runtime shutting down.
                    tracing::error!(error = %e, "a health check task failed");
                    continue;
                }
            },
            () = sleep => (health.tick(Instant::now()), Vec::new()),
        };
        if !events.is_empty() {
            report(&health, &events);
            let _ = updates.send(Update { desired: health.desired(), released });
        }
    }
}

/// Waits for every task.
async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// Runs one probe, bounded by its timeout whatever the probe does. The probe runs in a task of
/// its own, so that a panic in it is a failed attempt rather than a check that never returns.
async fn attempt(job: Job, permits: Arc<Semaphore>) -> (u64, Instant, Attempt) {
    let _permit = permits.acquire_owned().await;
    let started = Instant::now();
    let target = ProbeTarget {
        addr: job.check.target.ip.unwrap_or(job.real.dest.addr),
        port: job.check.target.port.unwrap_or(job.real.dest.port),
        weight: job.real.dest.weight,
    };
    let limit = outer_limit(&job);
    let check = job.check.clone();
    let probing = tokio::spawn(async move { tokio::time::timeout(limit, probe(&check, &target)).await });
    let result = match probing.await {
        Ok(Ok(Ok(pass))) => Attempt::Pass { weight: pass.weight },
        Ok(Ok(Err(failure))) => Attempt::Fail { reason: failure.reason },
        Ok(Err(_)) => Attempt::Fail { reason: format!("no result after {}s", limit.as_secs()) },
        Err(e) => {
            tracing::error!(error = %e, check = job.check.kind.keyword(), "a health check failed unexpectedly");
            Attempt::Fail { reason: "the check failed unexpectedly (see rvsd's log)".into() }
        }
    };
    (job.id, started, result)
}

/// A bound above the probe's own timeouts, in case one of them does not hold.
fn outer_limit(job: &Job) -> Duration {
    let own = match &job.check.kind {
        rvs_core::config::CheckKind::Misc(m) => m.timeout.unwrap_or(job.check.timing.delay_loop),
        _ => job.check.timing.connect_timeout,
    };
    own.saturating_add(Duration::from_secs(2))
}

/// Logs the events and runs their scripts.
fn report(health: &Health, events: &[Event]) {
    let config = health.config();
    for event in events {
        match event {
            Event::RealUp { service, dest, reason } => {
                tracing::info!(%service, real = %format_dest(dest), reason, "real server up");
                if let Some(s) = config.virtual_server(service).and_then(|vs| vs.real(*dest)).and_then(|r| r.notify_up.as_ref()) {
                    crate::notify::spawn(s, format!("{} up", format_dest(dest)));
                }
            }
            Event::RealDown { service, dest, reason } => {
                tracing::warn!(%service, real = %format_dest(dest), reason, "real server down");
                if let Some(s) = config.virtual_server(service).and_then(|vs| vs.real(*dest)).and_then(|r| r.notify_down.as_ref()) {
                    crate::notify::spawn(s, format!("{} down", format_dest(dest)));
                }
            }
            Event::RealWeight { service, dest } => tracing::info!(%service, real = %format_dest(dest), "real server weight changed"),
            Event::QuorumUp { service } => {
                tracing::info!(%service, "quorum regained");
                if let Some(s) = config.virtual_server(service).and_then(|vs| vs.quorum_up.as_ref()) {
                    crate::notify::spawn(s, format!("{service} quorum up"));
                }
            }
            Event::QuorumDown { service } => {
                tracing::warn!(%service, "quorum lost");
                if let Some(s) = config.virtual_server(service).and_then(|vs| vs.quorum_down.as_ref()) {
                    crate::notify::spawn(s, format!("{service} quorum down"));
                }
            }
        }
    }
}

fn format_dest(d: &rvs_core::model::DestAddr) -> String {
    std::net::SocketAddr::from(*d).to_string()
}

fn status(health: &Health, now: Instant) -> Vec<RealStatus> {
    health
        .reals()
        .map(|(vs, real, st, quorum_up)| RealStatus {
            service: vs.service.key,
            dest: real.dest.dest_addr(),
            up: st.is_up(),
            table_weight: None,
            since_secs: now.saturating_duration_since(st.since()).as_secs(),
            reason: st.reason().to_string(),
            quorum_up,
            checks: real
                .checks
                .iter()
                .zip(st.checks())
                .map(|(c, s)| CheckStatus {
                    kind: c.kind.keyword().to_string(),
                    up: s.is_up(),
                    last: s.last().map(|(_, a)| match a {
                        Attempt::Pass { .. } => "ok".to_string(),
                        Attempt::Fail { reason } => reason.clone(),
                    }),
                    last_secs_ago: s.last().map(|(at, _)| now.saturating_duration_since(*at).as_secs()),
                })
                .collect(),
        })
        .collect()
}
