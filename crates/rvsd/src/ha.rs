//! VRRP in rvsd: one `rvs_ha` router per `vrrp_instance` of the configuration file (lvs.cf's
//! primary/backup pair becomes one too), the data plane forwarding for an instance's addresses
//! only while it is master, and keepalived's notify scripts on every transition.
//!
//! A director that starts is never master at once (unless it owns the addresses, priority
//! 255): it starts in BACKUP, removes addresses an earlier rvsd left behind, and takes over
//! only if nobody advertises. The addresses it holds as master expire within
//! `rvs_ha::router::ADDRESS_LIFETIME` if rvsd is killed without a word.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rvs_core::config::{Config, Script, VrrpAuth, VrrpInstance, VrrpScript, VrrpState, VrrpVersion};
use rvs_ha::address::InterfaceAddress;
use rvs_ha::garp::GarpPolicy;
use rvs_ha::router::{self, FloatingAddress, ForwardingHook, RouterEvent, RouterHandle, RouterSpec, TrackedScript};
use rvs_ha::vrrp::{InitialState, State, Version, VrrpConfig};
use tokio::sync::{Mutex, mpsc};

use crate::director::Director;

/// The running VRRP instances.
pub struct Ha {
    routers: Vec<RouterHandle>,
    notifier: tokio::task::JoinHandle<()>,
}

impl Ha {
    /// Starts every instance of `config`; none is started if one cannot be.
    pub async fn start(config: &Config, director: Arc<Mutex<Director>>) -> Result<Ha> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let mut routers: Vec<RouterHandle> = Vec::new();
        for instance in &config.vrrp {
            let started = async {
                let spec = spec(instance, &config.vrrp_scripts)?;
                let hook = forwarding_hook(director.clone());
                router::start(spec, hook, events_tx.clone()).await.map_err(anyhow::Error::from)
            };
            match started.await {
                Ok(router) => routers.push(router),
                Err(e) => {
                    for router in routers {
                        router.stop().await;
                    }
                    return Err(e);
                }
            }
        }
        let notifier = tokio::spawn(notify(events, config.vrrp.clone()));
        Ok(Ha { routers, notifier })
    }

    /// What each instance is doing, read when asked: its configuration and its live status.
    pub fn watch(&self, config: &Config) -> HaWatch {
        let instances = self
            .routers
            .iter()
            .filter_map(|r| config.vrrp.iter().find(|i| i.name == r.name()).map(|i| (i.clone(), r.status_receiver())))
            .collect();
        HaWatch { instances }
    }

    /// Stops every instance: a master advertises priority 0 (its backup takes over after the
    /// skew time only), then its addresses go.
    pub async fn stop(self) {
        for router in self.routers {
            router.stop().await;
        }
        // The last notify scripts are started before the notifier sees the channel close.
        let _ = self.notifier.await;
    }
}

/// The running instances' status, for the console.
#[derive(Clone, Default)]
pub struct HaWatch {
    instances: Vec<(VrrpInstance, tokio::sync::watch::Receiver<router::RouterStatus>)>,
}

impl HaWatch {
    pub fn views(&self) -> Vec<rvs_console::backend::VrrpView> {
        self.instances
            .iter()
            .map(|(instance, status)| {
                let status = status.borrow().clone();
                rvs_console::backend::VrrpView {
                    instance: instance.name.clone(),
                    interface: instance.interface.clone(),
                    state: status.state.as_str().to_owned(),
                    priority: status.priority,
                    master: status.master,
                    peers: instance.unicast_peer.clone(),
                    addresses: instance.virtual_ipaddress.iter().map(|a| format!("{}/{}", a.addr, a.prefix)).collect(),
                }
            })
            .collect()
    }
}

/// Makes the data plane forward for the instance's addresses, or stop.
fn forwarding_hook(director: Arc<Mutex<Director>>) -> ForwardingHook {
    Arc::new(move |addresses: Vec<IpAddr>, active: bool| {
        let director = director.clone();
        Box::pin(async move {
            director.lock().await.set_vip_standby(&addresses, !active);
        })
    })
}

/// The router settings of one `vrrp_instance`.
fn spec(instance: &VrrpInstance, scripts: &[VrrpScript]) -> Result<RouterSpec> {
    let name = &instance.name;
    let primary_placeholder = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let mut vrrp = VrrpConfig::new(instance.virtual_router_id, instance.priority, primary_placeholder);
    vrrp.advert_int = instance.advert_int;
    vrrp.version = match instance.version {
        VrrpVersion::V2 => Version::V2,
        VrrpVersion::V3 => Version::V3,
    };
    vrrp.preempt = instance.preempt;
    vrrp.preempt_delay = instance.preempt_delay;
    vrrp.initial = match instance.state {
        VrrpState::Master => InitialState::Master,
        VrrpState::Backup => InitialState::Backup,
    };
    let mut addresses = Vec::new();
    for vip in &instance.virtual_ipaddress {
        let IpAddr::V4(addr) = vip.addr else {
            bail!("vrrp_instance {name}: {}: IPv6 virtual addresses are not supported by rvs's VRRP yet", vip.addr);
        };
        let cidr = rvs_wire::Ipv4Cidr::new(addr, vip.prefix).with_context(|| format!("vrrp_instance {name}: {addr}/{}", vip.prefix))?;
        let address = InterfaceAddress::new(cidr).with_context(|| format!("vrrp_instance {name}: {addr}/{}", vip.prefix))?;
        addresses.push(FloatingAddress { address, interface: vip.interface(instance).to_owned(), label: vip.label.clone() });
    }
    let v4 = |a: &IpAddr| match a {
        IpAddr::V4(a) => Ok(*a),
        IpAddr::V6(a) => bail!("vrrp_instance {name}: {a}: IPv6 peers are not supported by rvs's VRRP yet"),
    };
    let unicast_peers = instance.unicast_peer.iter().map(v4).collect::<Result<Vec<_>>>()?;
    let source = instance.unicast_src_ip.as_ref().map(v4).transpose()?;
    let mut track_scripts = Vec::new();
    for wanted in &instance.track_script {
        let Some(s) = scripts.iter().find(|s| &s.name == wanted) else {
            tracing::warn!(instance = %name, script = %wanted, "track_script names no vrrp_script: ignored");
            continue;
        };
        track_scripts.push(TrackedScript {
            name: s.name.clone(),
            argv: s.script.argv.clone(),
            interval: s.interval,
            timeout: s.timeout.unwrap_or(s.interval),
            weight: s.weight,
            rise: s.rise,
            fall: s.fall,
        });
    }
    Ok(RouterSpec {
        name: name.clone(),
        interface: instance.interface.clone(),
        vrrp,
        addresses,
        unicast_peers,
        source,
        auth_pass: instance.authentication.as_ref().map(|VrrpAuth::Pass(p)| p.clone()),
        garp: GarpPolicy {
            count: instance.garp_master_repeat,
            delay: instance.garp_master_delay,
            refresh: instance.garp_master_refresh,
            ..GarpPolicy::default()
        },
        track_interfaces: instance.track_interface.clone(),
        track_scripts,
    })
}

/// keepalived's notify scripts: `notify_master`/`_backup`/`_fault` as written, and `notify`
/// with `INSTANCE <name> <STATE> <priority>` appended.
async fn notify(mut events: mpsc::UnboundedReceiver<RouterEvent>, instances: Vec<VrrpInstance>) {
    while let Some(event) = events.recv().await {
        let Some(instance) = instances.iter().find(|i| i.name == event.instance) else { continue };
        let what = format!("{} {} -> {}", event.instance, event.from, event.to);
        let specific = match event.to {
            State::Master => instance.notify_master.as_ref(),
            State::Backup => instance.notify_backup.as_ref(),
            State::Fault => instance.notify_fault.as_ref(),
            State::Init | State::Stopped => None,
        };
        if let Some(script) = specific {
            rvs_health::notify::spawn(script, what.clone());
        }
        if let Some(script) = &instance.notify
            && matches!(event.to, State::Master | State::Backup | State::Fault | State::Stopped)
        {
            let state = event.to.as_str();
            let mut argv = script.argv.clone();
            argv.extend(["INSTANCE".to_owned(), event.instance.clone(), state.to_owned(), event.priority.to_string()]);
            rvs_health::notify::spawn(&Script { argv }, what);
        }
    }
}

/// How long the whole of `stop` may take before rvsd goes on without it.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);
