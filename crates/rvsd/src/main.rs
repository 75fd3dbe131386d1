//! rvsd, the rvs director daemon: loads the XDP data plane onto the given interfaces, serves
//! rvsadm on its control socket, and keeps connections, counters and next hops up to date.
//! Logs go to stderr. SIGTERM or SIGINT stops it cleanly and leaves nothing behind.

mod args;
mod config_file;
mod console;
mod conns;
mod counters;
mod director;
mod ha;
mod host_facts;
mod housekeeping;
mod instance;
mod marks;
mod metrics;
mod nat_host;
mod nat_router;
mod neighbours;
mod plane;
mod relink;
mod server;
mod socket;
mod sync;

use std::{num::NonZeroU32, sync::Arc};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rvs_dataplane::{Dataplane, DataplaneOptions, neigh::Resolver};
use tokio::sync::Mutex;

use crate::{args::Args, director::Director, instance::InstanceLock, plane::Plane, socket::SocketClaim};

/// The kernel tick rate rvs emulates where IPVS's limits depend on it (Debian kernels: 250).
pub const HZ: NonZeroU32 = match NonZeroU32::new(250) {
    Some(hz) => hz,
    None => unreachable!(),
};

fn main() {
    let args = Args::parse();
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RVS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Err(e) = run(args) {
        eprintln!("rvsd: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    for name in &args.interfaces {
        if interface_index(name).is_none() {
            bail!("interface {name} does not exist in this network namespace");
        }
    }
    if let Some(nat_router) = args.nat_router() {
        nat_router::preflight(&nat_router)?;
    }
    let claim = SocketClaim::claim(&args.socket)?;
    let instance = InstanceLock::acquire(&args.instance())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(serve(args, claim));
    drop(instance);
    result
}

async fn serve(args: Args, claim: SocketClaim) -> Result<()> {
    // First, so that a SIGHUP or SIGTERM during start-up does not kill rvsd with its program
    // attached and its maps pinned.
    let mut signals = Signals::new()?;
    let instance = args.instance();
    let opts = DataplaneOptions { bpffs: args.bpffs.clone(), instance: instance.clone(), conn_max: args.conn_max };
    let mut dp = Dataplane::load(&opts).with_context(|| format!("loading the data plane (instance {instance})"))?;
    if dp.reused() {
        tracing::warn!(instance, pins = %dp.pin_dir().display(), "found the maps of an earlier run of this instance; starting with an empty table");
        rvs_dataplane::program::Programmer::default().clear_stale(&mut dp)?;
    }
    let prog = rvs_dataplane::program::Programmer::default();
    prog.set_expire_nodest_conn(&dp, args.expire_nodest_conn);
    prog.set_expire_quiescent_template(&dp, args.expire_quiescent_template);
    for name in &args.interfaces {
        dp.attach(name, args.xdp_mode).with_context(|| format!("attaching to {name}"))?;
    }
    let resolver = Resolver::new().context("opening rtnetlink")?;
    let mut director = Director::new(Plane::new(dp, resolver));
    // Always, so that rules of an earlier run left in pinned maps are replaced.
    director.set_marks(args.marks.clone()).context("the --mark rules")?;
    let (sync_commands, sync_requests) = tokio::sync::mpsc::unbounded_channel();
    director.run_sync_daemons(sync_commands);
    let director = Arc::new(Mutex::new(director));
    let sync_daemons = tokio::spawn(sync::supervise(sync_requests, director.clone()));

    let listener = tokio::net::UnixListener::bind(claim.path())
        .with_context(|| format!("binding {}", claim.path().display()));
    let metrics_listener = match args.metrics {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding the metrics address {addr}"))),
        None => None,
    };
    // A failure to bind is refused before anything else is set up, and takes the data plane
    // down with it.
    let (listener, metrics_listener) = match (listener, metrics_listener.transpose()) {
        (Ok(l), Ok(m)) => (l, m),
        (Err(e), _) | (_, Err(e)) => {
            stop_sync(&director, sync_daemons).await;
            let director = Arc::try_unwrap(director).map_err(|_| anyhow::anyhow!("the director is shared"))?;
            director.into_inner().into_plane().dp.teardown();
            return Err(e);
        }
    };
    restrict_to_owner(claim.path());
    // The NAT router last, once the data plane forwards: real servers start sending their
    // replies here as soon as they hear the gratuitous ARP.
    let nat_router = match args.nat_router() {
        Some(config) => match nat_router::NatRouter::start(&config, &args.interfaces).await {
            Ok(router) => Some(router),
            Err(e) => {
                stop_sync(&director, sync_daemons).await;
                let director = Arc::try_unwrap(director).map_err(|_| anyhow::anyhow!("the director is shared"))?;
                director.into_inner().into_plane().dp.teardown();
                return Err(e);
            }
        },
        None => None,
    };
    // The director's interfaces' carrier: the health checks do not count failures while one is
    // down, and the real servers are re-resolved as soon as it is back.
    let (_carrier, links) = match rvs_ha::carrier::watch_carrier(&args.interfaces).await {
        Ok((watch, links)) => (Some(watch), links),
        Err(e) => {
            tracing::warn!(error = %e, "cannot follow the interfaces' carrier: checks count failures even while a link is down");
            (None, tokio::sync::watch::channel(rvs_core::links::Carrier::default()).1)
        }
    };
    // The configuration file once the data plane and the NAT router are up; a file that does not
    // load stops rvsd before it serves anyone.
    let config = match &args.config {
        Some(path) => match config_file::ConfigFile::start(path, &args.marks, links.clone(), director.clone()).await {
            Ok(config) => Some(Arc::new(config)),
            Err(e) => {
                if let Some(router) = nat_router {
                    let _ = router.stop().await;
                }
                stop_sync(&director, sync_daemons).await;
                let director = Arc::try_unwrap(director).map_err(|_| anyhow::anyhow!("the director is shared"))?;
                director.into_inner().into_plane().dp.teardown();
                return Err(e.context(format!("the configuration file {}", path.display())));
            }
        },
        None => None,
    };
    // VRRP last: a director that takes the VIPs over must be ready to forward for them.
    let ha = match config.as_deref().filter(|c| !c.started().vrrp.is_empty()) {
        Some(file) => match ha::Ha::start(file.started(), director.clone()).await {
            Ok(ha) => Some(ha),
            Err(e) => {
                file.stop().await;
                if let Some(router) = nat_router {
                    let _ = router.stop().await;
                }
                stop_sync(&director, sync_daemons).await;
                drop(config);
                let director = Arc::try_unwrap(director).map_err(|_| anyhow::anyhow!("the director is shared"))?;
                director.into_inner().into_plane().dp.teardown();
                return Err(e);
            }
        },
        None => None,
    };
    // The console last, once there is something to show; one that cannot start (address taken,
    // no password, bad certificate) stops rvsd through the usual way down.
    let console = start_console(&args, &director, config.as_ref(), ha.as_ref()).await;
    if console.is_ok() {
        tracing::info!(socket = %claim.path().display(), instance, interfaces = ?args.interfaces, "rvsd ready");
    }

    let server = tokio::spawn(server::serve(listener, director.clone(), config.clone()));
    let chores = tokio::spawn(housekeeping::run(director.clone()));
    let relinks = tokio::spawn(relink::follow(director.clone(), links));
    let metrics = metrics_listener.map(|l| tokio::spawn(metrics::serve(l, director.clone(), config.clone())));
    let waited = match console {
        Ok(console) => {
            let waited = signals.wait(config.as_deref()).await;
            if let Some(console) = console {
                console.stop().await;
            }
            waited
        }
        Err(e) => Err(e),
    };
    tracing::info!("stopping");
    // VRRP first: the backup takes over at once (priority 0) while this director still forwards.
    if let Some(ha) = ha
        && tokio::time::timeout(ha::STOP_TIMEOUT, ha.stop()).await.is_err()
    {
        tracing::warn!("VRRP did not stop in time");
    }
    // The checks first (omega scripts), so that nothing changes the table any more.
    if let Some(config) = &config {
        config.stop().await;
    }
    server.abort();
    chores.abort();
    relinks.abort();
    let _ = server.await;
    let _ = chores.await;
    let _ = relinks.await;
    stop_sync(&director, sync_daemons).await;
    drop(config);
    if let Some(metrics) = metrics {
        metrics.abort();
        let _ = metrics.await;
    }
    let released = match nat_router {
        Some(router) => router.stop().await,
        None => Ok(()),
    };
    let director = Arc::try_unwrap(director)
        .map_err(|_| anyhow::anyhow!("control tasks still hold the director"))?
        .into_inner();
    director.into_plane().dp.teardown();
    drop(claim);
    tracing::info!("stopped; programs detached and pins removed");
    waited?;
    released
}

/// Starts the web console if one is asked for (or a password is set); says so when it is off.
async fn start_console(
    args: &Args,
    director: &Arc<Mutex<Director>>,
    config: Option<&Arc<config_file::ConfigFile>>,
    ha: Option<&ha::Ha>,
) -> Result<Option<rvs_console::Console>> {
    let Some(console) = args.console() else {
        if !args.no_console {
            tracing::info!(password_file = %args.console_password_file.display(), "web console off: no password set (rvs passwd sets one)");
        }
        return Ok(None);
    };
    let ha = match (ha, config) {
        (Some(ha), Some(file)) => ha.watch(file.started()),
        _ => ha::HaWatch::default(),
    };
    let facts = rvs_console::backend::Facts {
        interfaces: args.interfaces.clone(),
        nat_router: args.nat_router().map(|n| format!("{} on {}", n.address, n.device)),
        instance: args.instance(),
    };
    let backend = Arc::new(console::RvsdBackend { director: director.clone(), config: config.cloned(), ha, facts });
    match rvs_console::start(console, backend).await {
        Ok(console) => Ok(Some(console)),
        // Asked for: refused, so that the operator sees it at once.
        Err(e) if args.console.is_some() => Err(e.context("the web console")),
        // Only on by default (a password file exists): the director runs without it rather than
        // not at all (piranha-gui's Apache may still hold 3636 during a migration).
        Err(e) => {
            tracing::error!("web console not started: {e:#}");
            Ok(None)
        }
    }
}

/// The signals rvsd handles: SIGTERM and SIGINT stop it, SIGHUP reloads the configuration file.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("SIGINT handler")?,
            hup: signal(SignalKind::hangup()).context("SIGHUP handler")?,
        })
    }

    /// Waits for SIGTERM or SIGINT (one received during start-up counts); reloads at SIGHUP.
    async fn wait(&mut self, config: Option<&config_file::ConfigFile>) -> Result<()> {
        loop {
            tokio::select! {
                _ = self.term.recv() => return Ok(()),
                _ = self.int.recv() => return Ok(()),
                _ = self.hup.recv() => match config {
                    // A refused file is logged by reload and changes nothing.
                    Some(config) => { let _ = config.reload().await; }
                    None => tracing::warn!("SIGHUP: rvsd runs without a configuration file (--config); nothing to reload"),
                },
            }
        }
    }
}

/// Ends the sync daemons and waits until none holds the director.
async fn stop_sync(director: &Mutex<Director>, supervisor: tokio::task::JoinHandle<()>) {
    director.lock().await.stop_sync_daemons();
    let _ = supervisor.await;
}

fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (idx != 0).then_some(idx)
}

/// The control socket changes the director's configuration: root only, as ipvsadm needs root.
fn restrict_to_owner(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(error = %e, "could not restrict the control socket's permissions");
    }
}
