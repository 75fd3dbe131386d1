//! Connection-sync daemon settings (`--start-daemon`, `-L --daemon`). Only the configuration and
//! its state live here; the sync protocol itself is another module's job.

use super::ModelError;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Role of a sync daemon (`IP_VS_STATE_MASTER` = 1, `IP_VS_STATE_BACKUP` = 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    Master,
    Backup,
}

impl SyncState {
    pub const fn name(self) -> &'static str {
        match self {
            SyncState::Master => "master",
            SyncState::Backup => "backup",
        }
    }
}

/// A network interface name: 1..=15 bytes, no NUL, no '/'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IfName(String);

impl IfName {
    pub const MAX_LEN: usize = 15;

    pub fn new(name: &str) -> Result<Self, ModelError> {
        if name.is_empty() || name.len() > Self::MAX_LEN || name.contains(['\0', '/']) {
            return Err(ModelError::IfName(name.to_owned()));
        }
        Ok(IfName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IfName {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        IfName::new(&s)
    }
}

impl From<IfName> for String {
    fn from(s: IfName) -> String {
        s.0
    }
}

/// What `--start-daemon` asks for; `None` fields take the kernel's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemonConfig {
    pub state: SyncState,
    pub ifname: IfName,
    pub syncid: u8,
    /// Maximum sync message length; `None` = derived from the MTU.
    pub sync_maxlen: Option<u16>,
    /// Multicast group; `None` = 224.0.0.81.
    pub mcast_group: Option<IpAddr>,
    /// `None` = 8848.
    pub mcast_port: Option<u16>,
    /// `None` = 1.
    pub mcast_ttl: Option<u8>,
}

/// A running sync daemon as reported by `-L --daemon` (defaults resolved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemonEntry {
    pub state: SyncState,
    pub ifname: IfName,
    pub syncid: u8,
    pub sync_maxlen: u16,
    pub mcast_group: IpAddr,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_are_bounded() {
        assert!(IfName::new("eth0").is_ok());
        assert!(IfName::new("").is_err());
        assert!(IfName::new("abcdefghijklmnop").is_err());
        assert!(IfName::new("a/b").is_err());
        assert!(serde_json::from_str::<IfName>("\"\"").is_err());
        assert_eq!(SyncState::Backup.name(), "backup");
    }
}
