//! `rvsd --config FILE`: the configuration file in force, its health checks, and reloads.
//!
//! The monitor (rvs-health) decides what the IPVS table should hold; the applier here turns each
//! of its updates into the table operations that differ (`rvs_core::config::diff`) and applies
//! them through the director as rvsadm's would be applied, so that listings, counters and the
//! data plane follow in the usual way. A reload (SIGHUP or the `reload` request) reads the file
//! again; a file that does not load changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow};
use rvs_core::config::Config;
use rvs_core::config::diff::{self, CurrentService};
use rvs_core::control::{RealStatus, ReloadReport, Request, Response};
use rvs_core::model::{MarkRule, Operation};
use rvs_health::{Monitor, Update};
use rvs_console::staged_file::{Stamp, stamp};
use tokio::sync::{Mutex, mpsc};

use crate::director::Director;

/// The configuration file and what runs it.
pub struct ConfigFile {
    path: PathBuf,
    /// Mark rules given on the command line, kept ahead of the file's.
    cli_marks: Vec<MarkRule>,
    monitor: Monitor,
    applier: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    director: Arc<Mutex<Director>>,
    /// Held for the whole of a reload: a SIGHUP and an `rvs reload` at once must not put the
    /// older file in force after the newer one.
    reloading: Mutex<()>,
    /// The file as rvsd started with it: its VRRP instances run until rvsd stops.
    started: Config,
    /// The file as last put in force (the console edits this one), and its format.
    current: std::sync::Mutex<Config>,
    format: rvs_config::Format,
    /// The file's stamp when rvsd last read or wrote it: the console does not overwrite a file
    /// changed by hand since.
    on_disk: std::sync::Mutex<Stamp>,
}

/// Reads `path`, logging its warnings; the error lists every diagnostic.
fn load(path: &Path) -> Result<(Config, Vec<String>, rvs_config::Format)> {
    match rvs_config::load(path) {
        Ok(loaded) => {
            let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
            for w in &warnings {
                tracing::warn!("{w}");
            }
            Ok((loaded.config, warnings, loaded.format))
        }
        Err(e) => Err(anyhow!("{e}")),
    }
}

impl ConfigFile {
    /// Loads `path`, puts its settings in force and starts its checks. A file that does not load
    /// is refused with its diagnostics. `links` reports the director's interfaces: a check that
    /// fails while one is down is not counted.
    pub async fn start(
        path: &Path,
        cli_marks: &[MarkRule],
        links: tokio::sync::watch::Receiver<rvs_core::links::Carrier>,
        director: Arc<Mutex<Director>>,
    ) -> Result<ConfigFile> {
        let (config, _, format) = load(path)?;
        settings(&director, cli_marks, &config).await?;
        let (monitor, updates) = Monitor::start(config.in_force(), links);
        let applier = tokio::spawn(apply_updates(updates, director.clone()));
        tracing::info!(file = %path.display(), virtual_servers = config.virtual_servers.len(), "configuration loaded");
        Ok(ConfigFile {
            started: config.clone(),
            current: std::sync::Mutex::new(config.clone()),
            format,
            on_disk: std::sync::Mutex::new(stamp(path)),
            path: path.to_path_buf(),
            cli_marks: cli_marks.to_vec(),
            monitor,
            applier: std::sync::Mutex::new(Some(applier)),
            director,
            reloading: Mutex::new(()),
        })
    }

    /// Reads the file again and puts it in force; on failure the running configuration stays.
    pub async fn reload(&self) -> Result<ReloadReport> {
        let _one_at_a_time = self.reloading.lock().await;
        let read_stamp = stamp(&self.path);
        let (config, warnings, _) = load(&self.path).inspect_err(|e| {
            tracing::error!(file = %self.path.display(), "reload refused, the running configuration stays:\n{e}");
        })?;
        settings(&self.director, &self.cli_marks, &config).await?;
        let mut warnings = warnings;
        if config.vrrp != self.started.vrrp || config.vrrp_scripts != self.started.vrrp_scripts {
            let warning = "VRRP instances and scripts changed: they take effect when rvsd restarts (the running ones stay)";
            tracing::warn!("{warning}");
            warnings.push(warning.to_owned());
        }
        let report = self.report(&config, warnings);
        self.monitor.replace(config.in_force())?;
        self.set_current(config);
        *lock(&self.on_disk) = read_stamp;
        tracing::info!(file = %report.file, virtual_servers = report.virtual_servers, real_servers = report.real_servers, "configuration reloaded");
        Ok(report)
    }

    /// The file as rvsd started with it.
    pub fn started(&self) -> &Config {
        &self.started
    }

    /// The file as last put in force.
    pub fn current(&self) -> Config {
        lock(&self.current).clone()
    }

    fn set_current(&self, config: Config) {
        *lock(&self.current) = config;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> rvs_config::Format {
        self.format
    }

    /// Why the console may not rewrite this file, if it may not.
    pub fn read_only_reason(&self) -> Option<String> {
        (self.format != rvs_config::Format::Toml).then(|| {
            format!(
                "This director runs from {} ({}). The console does not rewrite keepalived.conf or lvs.cf: their comments, and the \
                 settings rvs does not act on, would be lost. Convert it once with `rvs config convert {}` into a TOML file and start \
                 rvsd with -f on that file to manage it here.",
                self.path.display(),
                self.format.name(),
                self.path.display()
            )
        })
    }

    /// The console's change: `edit` applied to the configuration in force, validated as a
    /// reload validates a file (by writing it as rvs's TOML and reading that back), put in force
    /// through the same diff, then saved over the file. The new file is written beside the old
    /// one first and renamed over it only once the change is in force, so nothing is applied if
    /// it cannot be written and nothing is written if it cannot be applied. A file changed by
    /// hand since rvsd last read it is not overwritten.
    pub async fn apply_edit(&self, edit: rvs_console::backend::Edit) -> Result<ReloadReport, rvs_console::backend::ApplyError> {
        use rvs_console::backend::ApplyError;
        let _one_at_a_time = self.reloading.lock().await;
        if let Some(reason) = self.read_only_reason() {
            return Err(ApplyError::ReadOnly(reason));
        }
        // Written through a symlink to the file it names, so that a file kept elsewhere (under
        // version control, say) is the one changed.
        let target = std::fs::canonicalize(&self.path).map_err(|e| ApplyError::Failed(format!("{}: {e}", self.path.display())))?;
        if stamp(&target) != *lock(&self.on_disk) {
            return Err(ApplyError::Failed(format!(
                "{} was changed on disk since rvsd last read it: `rvs reload` it first (nothing was applied)",
                self.path.display()
            )));
        }
        let before = self.current();
        let mut config = before.clone();
        edit(&mut config).map_err(ApplyError::Edit)?;
        let text = format!(
            "# rvs configuration (TOML). The web console rewrites this file when a change is made there;\n\
             # edit it by hand or in the console, then `rvs reload`.\n{}",
            rvs_config::native::to_toml(&config)
        );
        let loaded = rvs_config::parse_str(&text, &self.path, rvs_config::Format::Toml)
            .map_err(|e| ApplyError::Invalid(e.errors().map(|d| d.message.clone()).collect()))?;
        if loaded.config != config {
            return Err(ApplyError::Failed("the change cannot be written as rvs's TOML without loss; nothing was applied".to_owned()));
        }
        let staged = {
            use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
            let meta = std::fs::metadata(&target).map_err(|e| ApplyError::Failed(format!("{}: {e}", target.display())))?;
            let owner = Some((meta.uid(), meta.gid())).filter(|o| o.0 != 0 || o.1 != 0);
            rvs_console::staged_file::stage(&target, text.as_bytes(), meta.permissions().mode() & 0o7777, owner)
                .map_err(|e| ApplyError::Failed(format!("writing beside {}: {e}", target.display())))?
        };
        // Timeouts and mark rules only when the change is theirs: a weight changed in the console
        // must not undo an `rvsadm --set` or `rvs mark` made since. Sync daemons are not started
        // from here: like VRRP, they follow the file at rvsd's next start.
        if config.timeouts != before.timeouts || config.marks != before.marks {
            let mut settings_only = config.clone();
            settings_only.sync_daemon = None;
            settings(&self.director, &self.cli_marks, &settings_only).await.map_err(|e| ApplyError::Failed(format!("{e:#}")))?;
        }
        self.monitor.replace(config.in_force()).map_err(|e| ApplyError::Failed(format!("{e:#}")))?;
        // In force from here on: what follows is saving it.
        self.set_current(config.clone());
        let saved = staged.commit();
        *lock(&self.on_disk) = stamp(&target);
        saved.map_err(|e| ApplyError::Failed(format!("in force, but not saved to {}: {e}", target.display())))?;
        let mut warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        if config.vrrp != self.started.vrrp || config.vrrp_scripts != self.started.vrrp_scripts || config.sync_daemon != self.started.sync_daemon {
            warnings.push("VRRP and sync changes take effect when rvsd restarts".to_owned());
        }
        Ok(self.report(&config, warnings))
    }

    /// What putting `config` in force did, for `rvs reload` and the console.
    fn report(&self, config: &Config, warnings: Vec<String>) -> ReloadReport {
        ReloadReport {
            file: self.path.display().to_string(),
            virtual_servers: config.virtual_servers.len(),
            real_servers: config.virtual_servers.iter().map(|vs| vs.reals.len()).sum(),
            warnings,
        }
    }

    /// Every real server of the file, its checks, and its weight in the table.
    pub async fn health(&self) -> Vec<RealStatus> {
        let mut reals = self.monitor.status().await;
        let director = self.director.lock().await;
        for r in &mut reals {
            r.table_weight = director.dest_weight(&r.service, r.dest);
        }
        reals
    }

    /// Stops applying updates and the checks (running `omega` scripts first). The director is
    /// no longer used once this returns.
    pub async fn stop(&self) {
        let applier = self.applier.lock().ok().and_then(|mut a| a.take());
        if let Some(applier) = applier {
            applier.abort();
            let _ = applier.await;
        }
        self.monitor.stop().await;
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The file's settings other than services: timeouts, then mark rules (the one that can be
/// refused, for too many rules, is tried last; it is applied whole or not at all).
async fn settings(director: &Mutex<Director>, cli_marks: &[MarkRule], config: &Config) -> Result<()> {
    let mut d = director.lock().await;
    if let Some(timeouts) = config.timeouts
        && let Response::Error { error } = d.handle(&Request::Apply { operation: Operation::SetTimeouts { timeouts } }).await
    {
        return Err(anyhow!("the timeouts: {error:?}"));
    }
    let mut marks = cli_marks.to_vec();
    marks.extend(config.marks.iter().cloned());
    if d.marks() != marks.as_slice() {
        d.set_marks(marks).map_err(|e| anyhow!("the mark rules: {e}"))?;
    }
    if let Some(spec) = &config.sync_daemon {
        start_sync_daemons(&mut d, spec).await?;
    }
    Ok(())
}

/// `lvs_sync_daemon`: the master and the backup daemon at once, as keepalived starts them,
/// unless one runs already (started by an earlier load of the file, or by rvsadm).
async fn start_sync_daemons(d: &mut Director, spec: &rvs_core::config::SyncDaemonSpec) -> Result<()> {
    use rvs_core::model::{IfName, SyncDaemonConfig, SyncState};
    let ifname = IfName::new(&spec.interface).map_err(|e| anyhow!("lvs_sync_daemon: {e}"))?;
    let running = d.sync_daemons();
    for state in [SyncState::Master, SyncState::Backup] {
        if running.iter().any(|r| r.state == state) {
            continue;
        }
        let config = SyncDaemonConfig {
            state,
            ifname: ifname.clone(),
            syncid: spec.syncid,
            sync_maxlen: spec.maxlen,
            mcast_group: spec.group,
            mcast_port: spec.port,
            mcast_ttl: spec.ttl,
        };
        if let Response::Error { error } = d.handle(&Request::Apply { operation: Operation::StartDaemon { config } }).await {
            return Err(anyhow!("lvs_sync_daemon on {}: {error:?}", spec.interface));
        }
    }
    Ok(())
}

/// Applies the monitor's updates as they come.
async fn apply_updates(mut updates: mpsc::UnboundedReceiver<Update>, director: Arc<Mutex<Director>>) {
    while let Some(mut update) = updates.recv().await {
        // Only the latest wanted state matters, but every released service must go.
        while let Ok(next) = updates.try_recv() {
            let mut released = std::mem::take(&mut update.released);
            released.extend(next.released.iter().copied());
            update = Update { desired: next.desired, released };
        }
        let mut d = director.lock().await;
        let current: Vec<CurrentService> = d.current_services();
        for operation in diff::operations(&current, &update.desired, &update.released) {
            match d.handle(&Request::Apply { operation: operation.clone() }).await {
                Response::Error { error } => tracing::error!(?operation, ?error, "the table refused a change of the configuration"),
                _ => tracing::info!(operation = %describe(&operation), "table changed"),
            }
        }
    }
}

/// One line for the log: ipvsadm's switch and weight, the service as `-Ln` names it (not a line
/// ipvsadm would parse: `-S` gives those).
fn describe(op: &Operation) -> String {
    let dest = |d: &rvs_core::model::DestSpec| std::net::SocketAddr::from(d.dest_addr());
    match op {
        Operation::AddService { spec } => format!("-A {} -s {}", spec.key, spec.scheduler.as_str()),
        Operation::EditService { spec } => format!("-E {} -s {}", spec.key, spec.scheduler.as_str()),
        Operation::DeleteService { key } => format!("-D {key}"),
        Operation::AddDest { service, dest: d } => format!("-a {service} -r {} -w {}", dest(d), d.weight.get()),
        Operation::EditDest { service, dest: d } => format!("-e {service} -r {} -w {}", dest(d), d.weight.get()),
        Operation::DeleteDest { service, dest: d } => format!("-d {service} -r {}", std::net::SocketAddr::from(*d)),
        other => format!("{other:?}"),
    }
}
