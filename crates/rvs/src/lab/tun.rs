//! Seed 004's IP-tunnel cluster: the director encapsulates each request in IPIP to the real
//! servers, which decapsulate it (with rvs's XDP decap program on kernels without `ipip`,
//! prepared by `rvs realserver up --mode tun`) and answer the client directly from the VIP.
//! `Routed` puts the real servers on another network behind the router, which only TUN can
//! serve.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rvs_lab::topology::{Seed004Tun, TunLayout};

use super::{LabPaths, daemons, experiment};
use crate::tools::sibling;

/// The seed's ipvsadm lines (`-i`: IPIP), for the real servers of `lab`.
fn seed_commands(lab: &Seed004Tun) -> Vec<Vec<String>> {
    let vip = format!("{}:80", lab.vip);
    let mut lines = vec![vec!["-A".into(), "-t".into(), vip.clone(), "-s".into(), "rr".into()]];
    for (_, node) in lab.real_servers() {
        lines.push(vec!["-a".into(), "-t".into(), vip.clone(), "-r".into(), format!("{}:80", node.eth0.ip()), "-i".into()]);
    }
    lines
}

/// Builds the cluster, prepares the real servers, starts everything and configures rvsd. The
/// lab stays up until `rvs lab down`.
pub fn up(prefix: &str, layout: TunLayout, keep: bool) -> Result<Seed004Tun> {
    let paths = LabPaths::new(prefix);
    std::fs::create_dir_all(&paths.logs).context("creating the lab's log directory")?;
    println!("building seed 004's TUN topology (namespaces {prefix}-*)");
    let lab = Seed004Tun::build(prefix, layout)
        .with_context(|| format!("building the topology (if an earlier lab is in the way: rvs lab down --prefix {prefix})"))?;
    lab.lab.disarm();
    print!("{lab}");
    let rvs = sibling("rvs");
    let vip = lab.vip.to_string();
    for (name, node) in lab.real_servers() {
        let args = ["realserver", "up", "--mode", "tun", "--vip", vip.as_str(), "--interface", "eth0"];
        println!("[{name}]# rvs {}", args.join(" "));
        let out = node.host.run(&rvs.to_string_lossy(), args, Duration::from_secs(30))?;
        print!("{}", out.stdout);
        if !out.status.success() {
            bail!("rvs realserver up on {name} failed: {}", out.stderr.trim());
        }
        daemons::start_http(&node.host, name, &paths)?;
        println!("{name}: HTTP server on :80 answering \"{name}\"");
    }
    daemons::start_rvsd(&lab.director.host, &["eth0"], &[], &paths)?;
    println!("director: rvsd on eth0, control socket {}", paths.socket.display());
    experiment::configure(&paths, &seed_commands(&lab))?;
    if keep {
        println!();
        println!("The cluster is up. Try:");
        println!("  ip netns exec {prefix}-client curl -s http://{}/", lab.vip);
        println!("  RVS_SOCKET={} rvsadm -Ln --tun-info", paths.socket.display());
        println!("  rvs lab down{}", if prefix == super::DEFAULT_PREFIX { String::new() } else { format!(" --prefix {prefix}") });
    }
    Ok(lab)
}

/// Seed 004's experiment, then everything down.
pub fn demo(prefix: &str, layout: TunLayout) -> Result<()> {
    let result = up(prefix, layout, false).and_then(|lab| experiment::run(&lab.client.host, lab.vip, &LabPaths::new(prefix)));
    if let Err(e) = super::down(prefix) {
        eprintln!("rvs: taking the lab down: {e:#}");
    }
    result
}
