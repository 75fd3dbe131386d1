//! What the console needs from the director, and nothing more: rvsd implements [`Backend`] over
//! its table, its configuration file and its VRRP instances. The console never touches the data
//! plane itself; every change goes through [`Backend::apply`], the configuration file's own diff
//! reload.

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;

use rvs_core::config::Config;
use rvs_core::control::RealStatus;
use rvs_core::model::{ConnEntry, ServiceEntry, SyncDaemonEntry};

/// Connections a snapshot carries (the page lists them; `rvsadm -Lnc` lists all).
pub const CONNECTIONS_SHOWN: usize = 50;

/// Everything the monitoring page shows, read at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The table as `rvsadm -Ln --stats --rate` reads it.
    pub services: Vec<ServiceEntry>,
    /// The configuration file's real servers: health, last check result (empty without a file).
    pub health: Vec<RealStatus>,
    /// The VRRP instances running.
    pub vrrp: Vec<VrrpView>,
    /// The first [`CONNECTIONS_SHOWN`] entries of the connection table (`rvsadm -Lnc`).
    pub connections: Vec<ConnEntry>,
    /// How many entries the connection table has.
    pub connection_count: usize,
    /// The connection sync daemons running.
    pub sync: Vec<SyncDaemonEntry>,
}

/// One VRRP instance as the monitoring page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpView {
    pub instance: String,
    pub interface: String,
    /// `MASTER`, `BACKUP`, `FAULT` or `INIT`.
    pub state: String,
    /// The priority in force (tracking may have changed the configured one).
    pub priority: u8,
    /// The master last heard, this director included.
    pub master: Option<IpAddr>,
    /// The configured peers (unicast), empty for multicast.
    pub peers: Vec<IpAddr>,
    /// The virtual addresses it holds as master.
    pub addresses: Vec<String>,
}

/// How rvsd was started: what the console shows but cannot change (command-line settings).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The interfaces the data plane is attached to (`rvsd -i`).
    pub interfaces: Vec<String>,
    /// `--nat-router ADDR/PREFIX` on its interface, as `10.0.0.254/24 on eth1:1`.
    pub nat_router: Option<String>,
    /// The rvsd instance name.
    pub instance: String,
}

/// The configuration file in force.
#[derive(Debug, Clone)]
pub struct ConfigView {
    pub path: PathBuf,
    pub format: rvs_config::Format,
    pub config: Config,
    /// `None` when the console may change and save it; otherwise why not (keepalived.conf and
    /// lvs.cf are not rewritten: that would lose what rvs does not model, and comments).
    pub read_only: Option<String>,
}

/// A change made through a form, applied to the configuration in force when the change is
/// applied (not to the one the form was drawn from), so that two operators' changes both land.
pub type Edit = Box<dyn FnOnce(&mut Config) -> Result<(), EditError> + Send>;

/// Why an edit could not be made: the field it concerns (the form's input name) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl EditError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        EditError { field: Some(field), message: message.into() }
    }

    pub fn form(message: impl Into<String>) -> Self {
        EditError { field: None, message: message.into() }
    }
}

/// Why a change was not applied. In every case nothing was applied and the file is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    ReadOnly(String),
    #[error("{}", .0.message)]
    Edit(EditError),
    /// The changed configuration does not pass the file's own validation.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// Validated, but putting it in force or saving it failed.
    #[error("{0}")]
    Failed(String),
}

/// What a change did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Warnings of the reload (such as VRRP changes that wait for a restart).
    pub warnings: Vec<String>,
}

/// The director, as the console sees it.
pub trait Backend: Send + Sync + 'static {
    /// The table, health, VRRP, connections and sync, read now.
    fn snapshot(&self) -> impl Future<Output = Snapshot> + Send;
    /// The table's services and counters only (what the charts sample every few seconds).
    fn services(&self) -> impl Future<Output = Vec<ServiceEntry>> + Send;
    /// The VRRP instances running.
    fn vrrp(&self) -> Vec<VrrpView>;
    /// The configuration file in force, if rvsd runs with one.
    fn config(&self) -> impl Future<Output = Option<ConfigView>> + Send;
    /// Applies `edit` to the configuration in force, validates the result as a reload would,
    /// puts it in force through the diff reload and saves it to the file; all or nothing.
    /// `who` (user and address) and `what` go to the log.
    fn apply(&self, edit: Edit, who: &str, what: &str) -> impl Future<Output = Result<Applied, ApplyError>> + Send;
    /// How rvsd was started.
    fn facts(&self) -> Facts;
}
