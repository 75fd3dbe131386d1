//! Seed 002's NAT cluster: the director between the public network (VIP 192.168.1.250) and the
//! private one, where the real servers' gateway is the floating `nat_router` address that rvsd
//! owns. Requests are rewritten to the real servers, replies come back through the director
//! and are rewritten to come from the VIP.

use anyhow::{Context, Result};
use rvs_lab::topology::{Seed002Nat, seed002::NAT_ROUTER};

use super::{LabPaths, daemons, experiment};

/// The seed's lvs.cf as ipvsadm lines (`scheduler = wlc`, `weight = 1`, `network = nat`).
fn seed_commands() -> Vec<Vec<String>> {
    [
        "-A -t 192.168.1.250:80 -s wlc",
        "-a -t 192.168.1.250:80 -r 10.0.0.100:80 -m -w 1",
        "-a -t 192.168.1.250:80 -r 10.0.0.200:80 -m -w 1",
    ]
    .iter()
    .map(|l| l.split(' ').map(str::to_string).collect())
    .collect()
}

/// rvsd's options for the seed's `nat_router = 10.0.0.254 eth1:1` and `nat_nmask = 255.255.0.0`.
pub fn nat_router_options() -> Vec<String> {
    vec!["--nat-router".into(), NAT_ROUTER.to_string(), "--nat-router-interface".into(), "eth1".into()]
}

/// Builds the cluster, starts the real servers' HTTP servers and rvsd on both of the
/// director's interfaces, and configures it. The lab stays up until `rvs lab down`.
pub fn up(prefix: &str, keep: bool) -> Result<Seed002Nat> {
    let paths = LabPaths::new(prefix);
    std::fs::create_dir_all(&paths.logs).context("creating the lab's log directory")?;
    println!("building seed 002's NAT topology (namespaces {prefix}-*)");
    let lab = Seed002Nat::build(prefix)
        .with_context(|| format!("building the topology (if an earlier lab is in the way: rvs lab down --prefix {prefix})"))?;
    lab.lab.disarm();
    print!("{lab}");
    for (name, node) in lab.real_servers() {
        daemons::start_http(&node.host, name, &paths)?;
        println!("{name}: HTTP server on :80 answering \"{name}\", gateway {}", NAT_ROUTER.addr());
    }
    let options = nat_router_options();
    let extra: Vec<&str> = options.iter().map(String::as_str).collect();
    daemons::start_rvsd(&lab.director.host, &["eth0", "eth1"], &extra, &paths)?;
    println!("director: rvsd on eth0 and eth1, nat_router {NAT_ROUTER} on eth1, control socket {}", paths.socket.display());
    experiment::configure(&paths, &seed_commands())?;
    if keep {
        println!();
        println!("The cluster is up. Try:");
        println!("  ip netns exec {prefix}-client curl -s http://{}/", lab.vip);
        println!("  RVS_SOCKET={} rvsadm -Lnc", paths.socket.display());
        println!("  rvs lab down{}", if prefix == super::DEFAULT_PREFIX { String::new() } else { format!(" --prefix {prefix}") });
    }
    Ok(lab)
}

/// Seed 002's experiment, then everything down.
pub fn demo(prefix: &str) -> Result<()> {
    let result = up(prefix, false).and_then(|lab| experiment::run(&lab.client.host, lab.vip, &LabPaths::new(prefix)));
    if let Err(e) = super::down(prefix) {
        eprintln!("rvs: taking the lab down: {e:#}");
    }
    result
}
