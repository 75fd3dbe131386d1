//! IPVS connection synchronisation: the sync protocol (version 1 sent, versions 0 and 1
//! received) on 224.0.0.81:8848 by default, so that a backup director knows the connections
//! of the master and keeps them on their real servers after a takeover.
//!
//! `rvsadm --start-daemon master|backup` (or `lvs_sync_daemon` in the configuration file,
//! which starts both, as keepalived does) records the daemon in the IPVS table; the director
//! passes the change here and [`supervise`] starts or stops the task:
//!
//! - the master reads the data plane's connection table every [`SCAN`] and announces what is
//!   new or changed, and every entry again each [`REFRESH`], in messages of at most the
//!   daemon's `maxlen`;
//! - the backup receives, keeps the messages of its `syncid` (0 takes all), finds each real
//!   server in its own table and installs the entries into its data plane
//!   (`Dataplane::install_synced`).
//!
//! Both run at once on each director; an entry installed from the peer is not announced back
//! until a packet refreshes it here, that is until this director forwards it.

pub mod codec;
mod socket;

use std::sync::Arc;
use std::time::Duration;

use rvs_core::model::{SyncDaemonEntry, SyncState};
use rvs_dataplane::sweep::coarse_now_ns;
use rvs_wire::ipvs_sync::{Message, MessageBuilder};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::director::Director;

/// How often the master looks for new and changed connections.
pub const SCAN: Duration = Duration::from_millis(100);
/// How often the master announces every connection again.
pub const REFRESH: Duration = Duration::from_secs(1);

/// Start or stop a daemon (from the table's changes).
#[derive(Debug, Clone)]
pub enum SyncCommand {
    Start(SyncDaemonEntry),
    Stop(SyncState),
    /// rvsd stops: end both daemons, then [`supervise`] returns.
    Shutdown,
}

/// Runs the daemons the table asks for until the channel closes.
pub async fn supervise(mut commands: mpsc::UnboundedReceiver<SyncCommand>, director: Arc<Mutex<Director>>) {
    let mut master: Option<JoinHandle<()>> = None;
    let mut backup: Option<JoinHandle<()>> = None;
    while let Some(command) = commands.recv().await {
        match command {
            SyncCommand::Start(entry) => {
                let slot = match entry.state {
                    SyncState::Master => &mut master,
                    SyncState::Backup => &mut backup,
                };
                if let Some(old) = slot.take() {
                    old.abort();
                }
                tracing::info!(state = ?entry.state, interface = %entry.ifname.as_str(), syncid = entry.syncid, group = %entry.mcast_group, port = entry.mcast_port, "connection sync daemon started");
                *slot = Some(match entry.state {
                    SyncState::Master => tokio::spawn(run_master(entry, director.clone())),
                    SyncState::Backup => tokio::spawn(run_backup(entry, director.clone())),
                });
            }
            SyncCommand::Shutdown => break,
            SyncCommand::Stop(state) => {
                let slot = match state {
                    SyncState::Master => &mut master,
                    SyncState::Backup => &mut backup,
                };
                if let Some(task) = slot.take() {
                    task.abort();
                    let _ = task.await;
                    tracing::info!(?state, "connection sync daemon stopped");
                }
            }
        }
    }
    // Awaited, so that no daemon holds the director any more when this returns.
    for task in [master, backup].into_iter().flatten() {
        task.abort();
        let _ = task.await;
    }
}

/// The daemon's socket, tried again every second until it opens (an interface may come later).
async fn open<'a, F, Fut>(entry: &'a SyncDaemonEntry, open: F) -> tokio::net::UdpSocket
where
    F: Fn(&'a SyncDaemonEntry) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<tokio::net::UdpSocket>>,
{
    loop {
        match open(entry).await {
            Ok(socket) => return socket,
            Err(e) => {
                tracing::error!(state = ?entry.state, interface = %entry.ifname.as_str(), error = %e, "sync daemon cannot open its socket; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn run_master(entry: SyncDaemonEntry, director: Arc<Mutex<Director>>) {
    let socket = open(&entry, socket::master).await;
    let to = std::net::SocketAddr::new(entry.mcast_group, entry.mcast_port);
    let maxlen = usize::from(entry.sync_maxlen).clamp(64, 65_507);
    let mut buf = vec![0u8; maxlen];
    let mut every = tokio::time::interval(SCAN);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let refresh = u64::try_from(REFRESH.as_nanos()).unwrap_or(u64::MAX);
    loop {
        every.tick().await;
        let conns = director.lock().await.sync_outgoing(coarse_now_ns(), refresh);
        let mut rest = &conns[..];
        while !rest.is_empty() {
            let Ok(mut message) = MessageBuilder::new(&mut buf, entry.syncid) else { break };
            let mut taken = 0;
            for conn in rest {
                match message.push(conn) {
                    Ok(true) => taken += 1,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "connection not encodable for sync; skipped");
                        taken += 1;
                    }
                }
            }
            rest = &rest[taken.max(1)..];
            if message.nr_conns() == 0 {
                continue;
            }
            if let Err(e) = socket.send_to(message.finish(), to).await {
                tracing::warn!(error = %e, "sync master: send failed");
            }
        }
    }
}

async fn run_backup(entry: SyncDaemonEntry, director: Arc<Mutex<Director>>) {
    let socket = open(&entry, socket::backup).await;
    let mut buf = vec![0u8; 65_536];
    let mut malformed = 0u64;
    loop {
        let n = match socket.recv_from(&mut buf).await {
            Ok((n, _from)) => n,
            Err(e) => {
                tracing::warn!(error = %e, "sync backup: receive failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let message = match Message::parse(&buf[..n]) {
            Ok(message) => message,
            Err(e) => {
                malformed += 1;
                if malformed <= 10 || malformed.is_power_of_two() {
                    tracing::warn!(error = %e, count = malformed, "sync backup: malformed message dropped");
                }
                continue;
            }
        };
        // syncid 0 takes every master's messages (ipvsadm.8).
        if entry.syncid != 0 && message.syncid != entry.syncid {
            continue;
        }
        let conns: Vec<_> = message.entries().filter_map(Result::ok).collect();
        if conns.is_empty() {
            continue;
        }
        director.lock().await.sync_install(&conns);
    }
}
