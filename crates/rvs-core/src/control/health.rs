//! What rvsd reports about its configuration file and its health checks (`get_health`,
//! `reload`).

use serde::{Deserialize, Serialize};

use crate::model::{DestAddr, ServiceKey};

/// One real server of the configuration and what its checks say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealStatus {
    pub service: ServiceKey,
    pub dest: DestAddr,
    /// Whether its checks pass.
    pub up: bool,
    /// The weight it has in the table now; `None` when it is not in the table.
    pub table_weight: Option<u32>,
    /// Seconds since it last changed state, and why it did.
    pub since_secs: u64,
    pub reason: String,
    /// Whether its virtual service has its quorum.
    pub quorum_up: bool,
    pub checks: Vec<CheckStatus>,
}

/// One check of a real server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatus {
    /// keepalived's keyword (`HTTP_GET` …).
    pub kind: String,
    pub up: bool,
    /// The last attempt: `ok` or the failure's reason, and how many seconds ago.
    pub last: Option<String>,
    pub last_secs_ago: Option<u64>,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// The file read.
    pub file: String,
    /// Virtual and real servers the file now configures.
    pub virtual_servers: usize,
    pub real_servers: usize,
    /// Warnings about the file, one per line.
    pub warnings: Vec<String>,
}
