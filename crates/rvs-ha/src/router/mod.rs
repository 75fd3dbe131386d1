//! A running VRRP instance: the sans-IO [`Machine`] driven on tokio's clock, its raw sockets, its
//! virtual addresses and their gratuitous ARPs, and the tracking that moves its priority.
//!
//! Order matters when the addresses move. Becoming master, the router first lets the caller's
//! forwarding hook make the data plane forward for the addresses, then adds them and announces
//! them: traffic that arrives after the first gratuitous ARP finds a director ready for it.
//! Leaving master, it stops announcing, removes the addresses and only then tells the hook.
//!
//! The addresses carry a lifetime the master keeps renewing ([`ADDRESS_LIFETIME`]): a
//! router killed without a word (`kill -9`) stops renewing, and the kernel removes them by
//! itself a few seconds later instead of leaving a dead director answering ARP for them.

mod advert;
mod floating;
mod socket;
mod track;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use advert::{AdvertTemplate, Ignored};
pub use floating::FloatingAddress;
pub use socket::{Received, VRRP_GROUP_V4, VrrpSocket};
pub use track::{Standing, TrackedScript, Tracking};

use crate::address::Netlink;
use crate::garp::GarpPolicy;
use crate::vrrp::{Machine, Output, State, VrrpConfig};

/// How long a master's virtual addresses live unless renewed (they are renewed four times as often).
pub const ADDRESS_LIFETIME: Duration = Duration::from_secs(2);
/// How often tracked interfaces are looked at.
const LINK_POLL: Duration = Duration::from_millis(100);

/// Called with the instance's addresses and whether this director must now forward for them.
pub type ForwardingHook = Arc<dyn Fn(Vec<IpAddr>, bool) -> BoxFuture<'static, ()> + Send + Sync>;

/// Everything an instance needs to run.
#[derive(Debug, Clone)]
pub struct RouterSpec {
    /// The instance's name (`VI_1`).
    pub name: String,
    /// The interface VRRP speaks on.
    pub interface: String,
    /// The state machine's settings; `primary_addr` is replaced by the source address found.
    pub vrrp: VrrpConfig,
    /// The virtual addresses.
    pub addresses: Vec<FloatingAddress>,
    /// Send to these instead of 224.0.0.18.
    pub unicast_peers: Vec<Ipv4Addr>,
    /// `unicast_src_ip`/`mcast_src_ip`; the interface's own address otherwise.
    pub source: Option<Ipv4Addr>,
    /// VRRPv2 `auth_pass`.
    pub auth_pass: Option<String>,
    /// Gratuitous ARPs on becoming master.
    pub garp: GarpPolicy,
    /// `track_interface`; the VRRP interface and the addresses' interfaces are tracked too.
    pub track_interfaces: Vec<String>,
    /// `track_script`.
    pub track_scripts: Vec<TrackedScript>,
}

/// A state change, for logs and notify scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterEvent {
    pub instance: String,
    pub from: State,
    pub to: State,
    pub reason: String,
    /// The priority in force.
    pub priority: u8,
}

/// What the instance is doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterStatus {
    pub state: State,
    pub priority: u8,
    /// The master last heard (ourselves when master).
    pub master: Option<IpAddr>,
}

/// Why an instance could not start.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    #[error("vrrp_instance {instance}: {error}")]
    Config { instance: String, error: crate::vrrp::ConfigError },
    #[error("vrrp_instance {instance}: {error}")]
    Address { instance: String, error: crate::address::AddressError },
    #[error("vrrp_instance {instance}: interface {interface} has no IPv4 address to send adverts from (set unicast_src_ip)")]
    NoSource { instance: String, interface: String },
    #[error("vrrp_instance {instance}: opening the VRRP socket on {interface}: {error}")]
    Socket { instance: String, interface: String, error: std::io::Error },
    #[error("vrrp_instance {instance}: cannot encode its advertisement: {error}")]
    Advert { instance: String, error: rvs_wire::Error },
}

enum Command {
    Stop,
}

/// A running instance.
#[derive(Debug)]
pub struct RouterHandle {
    name: String,
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<RouterStatus>,
    task: JoinHandle<()>,
}

impl RouterHandle {
    /// The instance's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it is doing now.
    pub fn status(&self) -> RouterStatus {
        self.status.borrow().clone()
    }

    /// A receiver of its status that outlives this handle's borrow (for monitoring pages).
    pub fn status_receiver(&self) -> watch::Receiver<RouterStatus> {
        self.status.clone()
    }

    /// Stops it: a master sends priority 0 (the backup takes over at once), then the
    /// addresses go.
    pub async fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        let _ = self.task.await;
    }
}

/// Starts an instance: checks it, removes addresses an earlier run left, opens its sockets and
/// enters INIT. Transitions are reported on `events`.
pub async fn start(
    mut spec: RouterSpec,
    hook: ForwardingHook,
    events: mpsc::UnboundedSender<RouterEvent>,
) -> Result<RouterHandle, RouterError> {
    let instance = spec.name.clone();
    let netlink = Netlink::new().map_err(|error| RouterError::Address { instance: instance.clone(), error })?;
    let link = netlink
        .link(&spec.interface)
        .await
        .map_err(|error| RouterError::Address { instance: instance.clone(), error })?;
    let source = match spec.source {
        Some(source) => source,
        None => netlink
            .primary_ipv4(&link)
            .await
            .map_err(|error| RouterError::Address { instance: instance.clone(), error })?
            .ok_or_else(|| RouterError::NoSource { instance: instance.clone(), interface: link.name.clone() })?,
    };
    spec.vrrp.primary_addr = IpAddr::V4(source);
    let machine = Machine::new(spec.vrrp.clone()).map_err(|error| RouterError::Config { instance: instance.clone(), error })?;
    for warning in machine.warnings() {
        tracing::warn!(instance, "{warning}");
    }
    let template = AdvertTemplate {
        version: spec.vrrp.version,
        vrid: spec.vrrp.vrid,
        advert_int: spec.vrrp.advert_int,
        addresses: spec.addresses.iter().map(|a| a.address.addr()).collect(),
        auth: spec.auth_pass.as_ref().map(|p| rvs_wire::vrrp::simple_auth(p.as_bytes())),
    };
    // Refuse now what could not be sent later.
    template
        .encode(spec.vrrp.priority, source, VRRP_GROUP_V4)
        .map_err(|error| RouterError::Advert { instance: instance.clone(), error })?;
    let socket = VrrpSocket::open(link.index, &link.name, source).map_err(|error| RouterError::Socket {
        instance: instance.clone(),
        interface: link.name.clone(),
        error,
    })?;
    floating::remove_leftovers(&netlink, &spec.addresses).await;

    let (commands, rx) = mpsc::unbounded_channel();
    let (status_tx, status) = watch::channel(RouterStatus { state: State::Init, priority: spec.vrrp.priority, master: None });
    let driver = Driver {
        tracking: Tracking::new(spec.vrrp.priority, spec.track_scripts.clone()),
        spec,
        machine,
        template,
        socket,
        netlink,
        held: None,
        hook,
        events,
        status: status_tx,
    };
    let task = tokio::spawn(driver.run(rx));
    Ok(RouterHandle { name: instance, commands, status, task })
}

struct Driver {
    spec: RouterSpec,
    machine: Machine,
    template: AdvertTemplate,
    socket: VrrpSocket,
    netlink: Netlink,
    held: Option<floating::Held>,
    tracking: Tracking,
    hook: ForwardingHook,
    events: mpsc::UnboundedSender<RouterEvent>,
    status: watch::Sender<RouterStatus>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let (script_tx, mut script_rx) = mpsc::unbounded_channel::<(usize, bool)>();
        let scripts: Vec<JoinHandle<()>> = self
            .tracking
            .scripts()
            .cloned()
            .enumerate()
            .map(|(i, s)| tokio::spawn(run_script(i, s, script_tx.clone())))
            .collect();
        let mut tracked: Vec<String> = vec![self.spec.interface.clone()];
        for name in self.spec.addresses.iter().map(|a| &a.interface).chain(&self.spec.track_interfaces) {
            if !tracked.contains(name) {
                tracked.push(name.clone());
            }
        }
        let mut links = tokio::time::interval(LINK_POLL);
        let mut renew = tokio::time::interval(ADDRESS_LIFETIME / 4);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut invalid_logged = 0u32;

        self.machine.start(now());
        self.drain().await;
        loop {
            let deadline = self.machine.poll_timeout().map_or_else(|| Instant::now() + Duration::from_secs(3600), Instant::from_std);
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Stop) | None => break,
                },
                received = self.socket.recv() => match received {
                    Ok(Ok(received)) => match self.template.decode(&received) {
                        Ok(advert) => self.machine.handle_advert(now(), &advert),
                        Err(Ignored::OtherVrid) => {}
                        Err(Ignored::Invalid(why)) => {
                            // keepalived logs each one; a flood must not flood the log.
                            invalid_logged += 1;
                            if invalid_logged <= 10 || invalid_logged.is_power_of_two() {
                                tracing::warn!(instance = %self.spec.name, count = invalid_logged, "dropped an advertisement {why}");
                            }
                        }
                    },
                    Ok(Err(_)) => {}
                    Err(e) => {
                        tracing::error!(instance = %self.spec.name, error = %e, "VRRP socket failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                _ = tokio::time::sleep_until(deadline) => self.machine.handle_timeout(now()),
                Some((index, ok)) = script_rx.recv() => {
                    if self.tracking.script_result(index, ok) {
                        self.follow_tracking();
                    }
                }
                _ = links.tick() => {
                    let mut down = Vec::new();
                    for name in &tracked {
                        match self.netlink.link(name).await {
                            Ok(link) if link.up && link.carrier => {}
                            _ => down.push(name.clone()),
                        }
                    }
                    if self.tracking.set_down_interfaces(down) {
                        self.follow_tracking();
                    }
                }
                _ = renew.tick() => {
                    if let Some(held) = &self.held {
                        floating::renew(&self.netlink, held, ADDRESS_LIFETIME).await;
                    }
                }
            }
            self.drain().await;
        }
        for script in scripts {
            script.abort();
        }
        self.machine.shutdown(now());
        self.drain().await;
        if let Some(held) = self.held.take() {
            floating::release(&self.netlink, held).await;
            (self.hook)(self.addresses(), false).await;
        }
    }

    fn addresses(&self) -> Vec<IpAddr> {
        self.spec.addresses.iter().map(|a| IpAddr::V4(a.address.addr())).collect()
    }

    fn follow_tracking(&mut self) {
        let standing = self.tracking.standing();
        let at = now();
        match standing.fault {
            Some(why) => self.machine.set_fault(at, true, why),
            None => {
                if self.machine.state() == State::Fault {
                    self.machine.set_fault(at, false, String::new());
                }
                self.machine.set_priority(at, standing.priority);
            }
        }
    }

    /// Carries out everything the machine asked for, in order.
    async fn drain(&mut self) {
        while let Some(output) = self.machine.poll_output() {
            match output {
                Output::Send { priority } => self.send(priority),
                Output::Transition { from, to, reason } => {
                    tracing::info!(instance = %self.spec.name, %from, %to, priority = self.machine.effective_priority(), "VRRP {from} -> {to}: {reason}");
                    if to == State::Master && self.held.is_none() {
                        (self.hook)(self.addresses(), true).await;
                        let policy = self.spec.garp;
                        self.held = Some(floating::take(&self.netlink, &self.spec.addresses, policy, ADDRESS_LIFETIME).await);
                    } else if to != State::Master
                        && let Some(held) = self.held.take()
                    {
                        floating::release(&self.netlink, held).await;
                        (self.hook)(self.addresses(), false).await;
                    } else if from == State::Init && to != State::Master {
                        (self.hook)(self.addresses(), false).await;
                    }
                    let _ = self.events.send(RouterEvent {
                        instance: self.spec.name.clone(),
                        from,
                        to,
                        reason: reason.to_string(),
                        priority: self.machine.effective_priority(),
                    });
                }
                Output::LowerPriorityMaster { priority, source } => {
                    tracing::info!(instance = %self.spec.name, %source, priority, "heard a lower-priority master; answered with an advertisement");
                }
                Output::Discarded { source, reason } => {
                    tracing::warn!(instance = %self.spec.name, %source, "dropped an advertisement: {reason}");
                }
            }
        }
        let master = match self.machine.state() {
            State::Master => Some(self.spec.vrrp.primary_addr),
            _ => self.machine.current_master(),
        };
        let status = RouterStatus { state: self.machine.state(), priority: self.machine.effective_priority(), master };
        self.status.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
    }

    fn send(&self, priority: u8) {
        let source = self.socket.source();
        let destinations: Vec<Ipv4Addr> =
            if self.spec.unicast_peers.is_empty() { vec![VRRP_GROUP_V4] } else { self.spec.unicast_peers.clone() };
        for destination in destinations {
            if destination == source {
                continue;
            }
            let sent = self.template.encode(priority, source, destination).map_err(std::io::Error::other).and_then(|bytes| self.socket.send(destination, &bytes));
            if let Err(e) = sent {
                tracing::warn!(instance = %self.spec.name, %destination, error = %e, "cannot send advertisement");
            }
        }
    }
}

/// Runs a `vrrp_script` every `interval` for ever, reporting each result (a timeout fails).
async fn run_script(index: usize, script: TrackedScript, results: mpsc::UnboundedSender<(usize, bool)>) {
    let Some((program, args)) = script.argv.split_first() else { return };
    let mut every = tokio::time::interval(script.interval.max(Duration::from_millis(10)));
    loop {
        every.tick().await;
        let mut command = tokio::process::Command::new(program);
        command.args(args).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).kill_on_drop(true);
        let ok = match command.spawn() {
            Ok(mut child) => match tokio::time::timeout(script.timeout, child.wait()).await {
                Ok(Ok(status)) => status.success(),
                Ok(Err(_)) | Err(_) => false,
            },
            Err(e) => {
                tracing::warn!(script = %script.name, error = %e, "cannot run vrrp_script");
                false
            }
        };
        if results.send((index, ok)).is_err() {
            return;
        }
    }
}
