//! rvsd's side of the web console (crate rvs-console): what the console reads (the table, the
//! configuration file's health, VRRP) and how its changes are applied (the configuration file's
//! diff reload, then saved to the file).

use std::sync::Arc;

use rvs_console::backend::{Applied, ApplyError, Backend, ConfigView, Edit, Facts, Snapshot};
use rvs_core::control::{Request, Response};
use tokio::sync::Mutex;

use crate::config_file::ConfigFile;
use crate::director::Director;
use crate::ha::HaWatch;

pub struct RvsdBackend {
    pub director: Arc<Mutex<Director>>,
    pub config: Option<Arc<ConfigFile>>,
    pub ha: HaWatch,
    pub facts: Facts,
}

impl Backend for RvsdBackend {
    async fn snapshot(&self) -> Snapshot {
        let health = match &self.config {
            Some(c) => c.health().await,
            None => Vec::new(),
        };
        // In the order `rvsadm -Ln` lists them.
        let mut services = self.services().await;
        rvs_core::ipvsadm::sort_services(&mut services);
        let mut d = self.director.lock().await;
        let mut connections = match d.handle(&Request::GetConnections).await {
            Response::Connections { connections } => connections,
            _ => Vec::new(),
        };
        let sync = d.sync_daemons();
        drop(d);
        let connection_count = connections.len();
        connections.truncate(rvs_console::backend::CONNECTIONS_SHOWN);
        Snapshot { services, health, vrrp: self.ha.views(), connections, connection_count, sync }
    }

    async fn services(&self) -> Vec<rvs_core::model::ServiceEntry> {
        match self.director.lock().await.handle(&Request::GetServices).await {
            Response::Services { services } => services,
            _ => Vec::new(),
        }
    }

    fn vrrp(&self) -> Vec<rvs_console::backend::VrrpView> {
        self.ha.views()
    }

    async fn config(&self) -> Option<ConfigView> {
        let file = self.config.as_ref()?;
        Some(ConfigView { path: file.path().to_path_buf(), format: file.format(), config: file.current(), read_only: file.read_only_reason() })
    }

    async fn apply(&self, edit: Edit, who: &str, what: &str) -> Result<Applied, ApplyError> {
        let Some(file) = &self.config else {
            return Err(ApplyError::ReadOnly("rvsd runs without a configuration file (-f FILE)".to_owned()));
        };
        // A task of its own: a browser that hangs up, or the console stopping, drops the
        // request's handler, and must not cut a change off halfway through.
        let file = file.clone();
        let report = tokio::spawn(async move { file.apply_edit(edit).await })
            .await
            .map_err(|e| ApplyError::Failed(format!("the change did not finish: {e}")))??;
        // The console logs who changed what; the file and its size go with it here.
        tracing::debug!(who, change = what, file = %report.file, virtual_servers = report.virtual_servers, real_servers = report.real_servers, "saved");
        Ok(Applied { warnings: report.warnings })
    }

    fn facts(&self) -> Facts {
        self.facts.clone()
    }
}
