//! Sync-daemon state: `ip_vs_genl_new_daemon` / `start_sync_thread` / `stop_sync_thread`, without
//! the threads. The daemon starts the actual sync protocol when it sees
//! [`Change::SyncDaemonStarted`].

use super::{Change, DirectorHost, IpvsError, IpvsTable};
use crate::model::{SyncDaemonConfig, SyncDaemonEntry, SyncState};
use std::net::{IpAddr, Ipv4Addr};

/// Default sync group, port and TTL (`IP_VS_SYNC_GROUP`, `IP_VS_SYNC_PORT`).
pub const DEFAULT_SYNC_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
pub const DEFAULT_SYNC_PORT: u16 = 8848;
const DEFAULT_SYNC_TTL: u8 = 1;

/// Sync message length the kernel derives or clamps, from the interface MTU.
fn sync_maxlen(state: SyncState, group: IpAddr, dev_mtu: u32, asked: Option<u16>) -> u16 {
    // IP + UDP header lengths
    let hlen: u32 = if group.is_ipv6() { 40 + 8 } else { 20 + 8 };
    let (mtu, min) = match state {
        SyncState::Backup => (dev_mtu.clamp(1500, 65535), 1024),
        SyncState::Master => (1500, 1),
    };
    let len = match asked {
        Some(n) if n != 0 => u32::from(n).clamp(min, 65535 - hlen),
        _ => mtu - hlen,
    };
    u16::try_from(len).unwrap_or(u16::MAX)
}

impl IpvsTable {
    pub(super) fn start_daemon(
        &mut self,
        cfg: &SyncDaemonConfig,
        host: &dyn DirectorHost,
    ) -> Result<Vec<Change>, IpvsError> {
        let group = cfg.mcast_group.unwrap_or(IpAddr::V4(DEFAULT_SYNC_GROUP));
        if !group.is_multicast() {
            return Err(IpvsError::Invalid);
        }
        // The sync protocol cannot carry mixed-family services.
        if self.mixed_af_dests > 0 {
            return Err(IpvsError::Invalid);
        }
        let mtu = host
            .interface_mtu(cfg.ifname.as_str())
            .ok_or(IpvsError::NoDevice)?;
        let entry = SyncDaemonEntry {
            state: cfg.state,
            ifname: cfg.ifname.clone(),
            syncid: cfg.syncid,
            sync_maxlen: sync_maxlen(cfg.state, group, mtu, cfg.sync_maxlen),
            mcast_group: group,
            mcast_port: cfg
                .mcast_port
                .filter(|&p| p != 0)
                .unwrap_or(DEFAULT_SYNC_PORT),
            mcast_ttl: cfg
                .mcast_ttl
                .filter(|&t| t != 0)
                .unwrap_or(DEFAULT_SYNC_TTL),
        };
        let slot = match cfg.state {
            SyncState::Master => &mut self.master,
            SyncState::Backup => &mut self.backup,
        };
        if slot.is_some() {
            return Err(IpvsError::Exists);
        }
        *slot = Some(entry);
        Ok(vec![Change::SyncDaemonStarted(cfg.state)])
    }

    pub(super) fn stop_daemon(&mut self, state: SyncState) -> Result<Vec<Change>, IpvsError> {
        let slot = match state {
            SyncState::Master => &mut self.master,
            SyncState::Backup => &mut self.backup,
        };
        if slot.take().is_none() {
            return Err(IpvsError::NoSuchService);
        }
        Ok(vec![Change::SyncDaemonStopped(state)])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::StaticHost;
    use super::*;
    use crate::model::{IfName, Operation};

    fn cfg(state: SyncState, ifname: &str) -> SyncDaemonConfig {
        SyncDaemonConfig {
            state,
            ifname: IfName::new(ifname).unwrap(),
            syncid: 0,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }

    fn start(t: &mut IpvsTable, c: SyncDaemonConfig) -> Result<Vec<Change>, IpvsError> {
        t.apply(
            &Operation::StartDaemon { config: c },
            &StaticHost::loopback_only(),
        )
    }

    #[test]
    fn maxlen_follows_the_kernel() {
        let v4: IpAddr = DEFAULT_SYNC_GROUP.into();
        let v6: IpAddr = "ff02::5".parse().unwrap();
        assert_eq!(sync_maxlen(SyncState::Master, v4, 65536, None), 1472);
        assert_eq!(sync_maxlen(SyncState::Backup, v4, 65536, None), 65507);
        assert_eq!(sync_maxlen(SyncState::Backup, v4, 1400, None), 1472);
        assert_eq!(sync_maxlen(SyncState::Backup, v6, 65536, Some(100)), 1024);
        assert_eq!(sync_maxlen(SyncState::Master, v4, 1500, Some(65507)), 65507);
        assert_eq!(sync_maxlen(SyncState::Master, v6, 1500, Some(65507)), 65487);
        assert_eq!(sync_maxlen(SyncState::Master, v6, 1500, None), 1452);
    }

    #[test]
    fn start_stop_and_errors() {
        let mut t = IpvsTable::new();
        assert_eq!(
            start(&mut t, cfg(SyncState::Master, "eth0")),
            Err(IpvsError::NoDevice)
        );
        assert_eq!(
            start(&mut t, cfg(SyncState::Master, "lo")),
            Ok(vec![Change::SyncDaemonStarted(SyncState::Master)])
        );
        assert_eq!(
            start(&mut t, cfg(SyncState::Master, "lo")),
            Err(IpvsError::Exists)
        );
        // the interface is looked up before the "already running" check
        assert_eq!(
            start(&mut t, cfg(SyncState::Master, "eth0")),
            Err(IpvsError::NoDevice)
        );
        let mut b = cfg(SyncState::Backup, "lo");
        b.mcast_group = Some("ff02::5".parse().unwrap());
        b.sync_maxlen = Some(100);
        b.syncid = 7;
        start(&mut t, b).unwrap();
        let d = t.sync_daemons();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].state, SyncState::Master);
        assert_eq!(
            (d[0].sync_maxlen, d[0].mcast_port, d[0].mcast_ttl),
            (1472, 8848, 1)
        );
        assert_eq!((d[1].sync_maxlen, d[1].syncid), (1024, 7));
        let stop = |t: &mut IpvsTable, s| {
            t.apply(
                &Operation::StopDaemon { state: s },
                &StaticHost::loopback_only(),
            )
        };
        assert_eq!(
            stop(&mut t, SyncState::Backup),
            Ok(vec![Change::SyncDaemonStopped(SyncState::Backup)])
        );
        assert_eq!(
            stop(&mut t, SyncState::Backup),
            Err(IpvsError::NoSuchService)
        );
        let mut bad = cfg(SyncState::Backup, "lo");
        bad.mcast_group = Some("10.0.0.1".parse().unwrap());
        assert_eq!(start(&mut t, bad), Err(IpvsError::Invalid));
    }
}
