//! Running a [`GarpSchedule`] on tokio's clock: [`drive`] for any way of sending a round, and
//! [`Announcer`], which sends the rounds for some addresses out of one interface.

use std::net::Ipv4Addr;

use rvs_wire::EthernetAddress;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{GarpError, GarpPolicy, GarpRound, GarpSchedule, GarpSocket, GarpStep, frame};
use crate::address::Link;

/// Follows `schedule` on tokio's clock (so a paused test clock drives it too), calling `send`
/// for every round when it is due; returns when the schedule is done (never, with a refresh).
pub async fn drive(mut schedule: GarpSchedule, mut send: impl FnMut(GarpRound)) {
    loop {
        match schedule.poll(Instant::now().into_std()) {
            GarpStep::Send(round) => send(round),
            GarpStep::WaitUntil(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
            GarpStep::Done => return,
        }
    }
}

/// Gratuitous ARPs for some addresses, out of one interface.
#[derive(Debug)]
pub struct Announcer {
    socket: GarpSocket,
    ifindex: u32,
    interface: String,
    addresses: Vec<Ipv4Addr>,
    frames: Vec<Vec<u8>>,
}

impl Announcer {
    /// Announces `addresses` as being at `link`'s MAC. Fails for a link without ARP.
    pub fn new(socket: GarpSocket, link: &Link, addresses: Vec<Ipv4Addr>) -> Result<Self, GarpError> {
        let mac: EthernetAddress = match link.mac {
            Some(mac) if link.arp => mac,
            _ => return Err(GarpError::NoArp(link.name.clone())),
        };
        let frames = addresses.iter().map(|ip| frame::gratuitous_arp(mac, *ip)).collect();
        Ok(Announcer { socket, ifindex: link.index, interface: link.name.clone(), addresses, frames })
    }

    /// The interface it sends on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The addresses it announces.
    pub fn addresses(&self) -> &[Ipv4Addr] {
        &self.addresses
    }

    /// Sends one round: a gratuitous ARP for each address. Stops at the first failure.
    pub fn send_round(&self) -> Result<(), GarpError> {
        self.frames.iter().try_for_each(|frame| self.socket.send(self.ifindex, frame))
    }

    /// Sends the rounds of `policy` from now on, in a task of the current tokio runtime, logging
    /// each burst once and each burst's first failure.
    pub fn spawn(self, policy: GarpPolicy) -> AnnouncerTask {
        let schedule = GarpSchedule::new(policy, Instant::now().into_std());
        let handle = tokio::spawn(async move {
            let mut failed_in_burst = false;
            drive(schedule, |round| {
                if round.index == 0 {
                    failed_in_burst = false;
                    tracing::info!(
                        interface = %self.interface,
                        addresses = ?self.addresses,
                        rounds = round.of,
                        cause = round.cause.as_str(),
                        "sending gratuitous ARPs"
                    );
                }
                match self.send_round() {
                    Ok(()) => tracing::debug!(interface = %self.interface, round = round.index, "gratuitous ARP round sent"),
                    Err(e) if !failed_in_burst => {
                        failed_in_burst = true;
                        tracing::warn!(interface = %self.interface, error = %e, cause = round.cause.as_str(), "gratuitous ARP not sent");
                    }
                    Err(_) => {}
                }
            })
            .await;
            tracing::debug!(interface = %self.interface, "gratuitous ARP schedule finished");
        });
        AnnouncerTask { handle: Some(handle) }
    }
}

/// A running announcement; dropping it stops it too.
#[derive(Debug)]
pub struct AnnouncerTask {
    handle: Option<JoinHandle<()>>,
}

impl AnnouncerTask {
    /// Whether the schedule has run to its end (it never does with a refresh).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops sending, and waits until the task is gone.
    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
            let _ = handle.await;
        }
    }
}

impl Drop for AnnouncerTask {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::garp::GarpCause;

    #[tokio::test(start_paused = true)]
    async fn drive_follows_the_schedule_on_the_paused_clock() {
        let t0 = Instant::now();
        let mut seen = Vec::new();
        let policy = GarpPolicy { interval: Duration::from_millis(250), ..GarpPolicy::default() };
        drive(GarpSchedule::new(policy, t0.into_std()), |round| {
            seen.push((t0.elapsed().as_millis(), round.cause, round.index))
        })
        .await;
        let want: Vec<(u128, GarpCause, u32)> = [0, 250, 500, 750, 1000]
            .iter()
            .zip(0..)
            .map(|(ms, i)| (*ms, GarpCause::Initial, i))
            .chain([5000, 5250, 5500, 5750, 6000].iter().zip(0..).map(|(ms, i)| (*ms, GarpCause::Repeat, i)))
            .collect();
        assert_eq!(seen, want);
        assert_eq!(t0.elapsed().as_millis(), 6000, "drive returns once the last round is sent");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refreshing_drive_runs_until_stopped() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let policy =
            GarpPolicy { count: 1, delay: Duration::ZERO, refresh: Duration::from_secs(60), ..GarpPolicy::default() };
        let t0 = Instant::now();
        let task = tokio::spawn(drive(GarpSchedule::new(policy, t0.into_std()), move |round| {
            log.lock().unwrap().push((t0.elapsed().as_secs(), round.cause));
        }));
        tokio::time::sleep(Duration::from_secs(150)).await;
        assert!(!task.is_finished());
        task.abort();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, [(0, GarpCause::Initial), (60, GarpCause::Refresh), (120, GarpCause::Refresh)]);
    }

    #[test]
    fn links_without_arp_cannot_be_announced_on() {
        let Ok(socket) = GarpSocket::open() else { return };
        let link = Link { index: 1, name: "tun0".into(), mac: None, arp: false, up: true, carrier: true };
        let err = Announcer::new(socket, &link, vec![Ipv4Addr::new(10, 0, 0, 254)]).unwrap_err();
        assert!(err.to_string().contains("tun0"), "{err}");
        let Ok(socket) = GarpSocket::open() else { return };
        let noarp = Link { mac: Some(EthernetAddress([2, 0, 0, 0, 0, 1])), name: "eth9".into(), ..link };
        assert!(matches!(Announcer::new(socket, &noarp, vec![]), Err(GarpError::NoArp(name)) if name == "eth9"));
    }
}
