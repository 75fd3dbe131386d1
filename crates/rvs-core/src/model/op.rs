//! The operations that change the IPVS table: one per ipvsadm command that talks to the kernel.

use super::daemon::{SyncDaemonConfig, SyncState};
use super::dest::{DestAddr, DestSpec};
use super::service::{ServiceKey, ServiceSpec};
use serde::{Deserialize, Serialize};

/// Connection timeouts shown by `-L --timeout`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// TCP ESTABLISHED.
    pub tcp: u32,
    /// TCP FIN_WAIT.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

impl Default for Timeouts {
    /// The kernel's defaults: 900 s, 120 s, 300 s.
    fn default() -> Self {
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }
    }
}

/// `--set tcp tcpfin udp`: 0 keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutUpdate {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// One change request, as ipvsadm issues them (`IPVS_CMD_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// `-A`
    AddService { spec: ServiceSpec },
    /// `-E`
    EditService { spec: ServiceSpec },
    /// `-D`
    DeleteService { key: ServiceKey },
    /// `-a`
    AddDest { service: ServiceKey, dest: DestSpec },
    /// `-e`
    EditDest { service: ServiceKey, dest: DestSpec },
    /// `-d`
    DeleteDest { service: ServiceKey, dest: DestAddr },
    /// `-C`
    Flush,
    /// `-Z [service]`; `None` zeroes everything.
    Zero { service: Option<ServiceKey> },
    /// `--set`
    SetTimeouts { timeouts: TimeoutUpdate },
    /// `--start-daemon`
    StartDaemon { config: SyncDaemonConfig },
    /// `--stop-daemon`
    StopDaemon { state: SyncState },
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_tagged_json() {
        let op = Operation::Zero { service: None };
        let s = serde_json::to_string(&op).unwrap();
        assert_eq!(s, r#"{"op":"zero","service":null}"#);
        assert_eq!(serde_json::from_str::<Operation>(&s).unwrap(), op);
        assert_eq!(
            serde_json::to_string(&Operation::Flush).unwrap(),
            r#"{"op":"flush"}"#
        );
        assert_eq!(
            Timeouts::default(),
            Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300
            }
        );
    }
}
