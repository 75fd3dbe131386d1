//! Seed 000's Direct Routing cluster: a client behind a router, a director holding the VIP
//! 192.168.0.100 on `lo`, and two web servers with the VIP on `lo` and ARP restricted.

use anyhow::{Context, Result};
use rvs_lab::topology::{DirectorVip, Seed000Dr};

use super::{LabPaths, daemons, experiment};

/// The seed's ipvsadm lines, as rvsadm arguments.
fn seed_commands() -> Vec<Vec<String>> {
    [
        "-A -t 192.168.0.100:80 -s rr",
        "-a -t 192.168.0.100:80 -r 192.168.0.11:80 -g",
        "-a -t 192.168.0.100:80 -r 192.168.0.22:80 -g",
    ]
    .iter()
    .map(|l| l.split(' ').map(str::to_string).collect())
    .collect()
}

/// Builds the cluster, starts everything and configures rvsd. The lab stays up until
/// `rvs lab down` (which stops rvsd cleanly first); with `keep`, prints how to use it.
pub fn up(prefix: &str, keep: bool) -> Result<Seed000Dr> {
    let paths = LabPaths::new(prefix);
    std::fs::create_dir_all(&paths.logs).context("creating the lab's log directory")?;
    println!("building seed 000's DR topology (namespaces {prefix}-*)");
    let lab = Seed000Dr::build(prefix, DirectorVip::OnLoopback)
        .with_context(|| format!("building the topology (if an earlier lab is in the way: rvs lab down --prefix {prefix})"))?;
    // From here on, failures leave the lab for `rvs lab down` (demo calls it on every path).
    lab.lab.disarm();
    print!("{lab}");
    for (name, node) in lab.real_servers() {
        daemons::start_http(&node.host, name, &paths)?;
        println!("{name}: HTTP server on :80 answering \"{name}\"");
    }
    daemons::start_rvsd(&lab.director.host, &["eth0"], &[], &paths)?;
    println!("director: rvsd on eth0, control socket {}", paths.socket.display());
    experiment::configure(&paths, &seed_commands())?;
    if keep {
        println!();
        println!("The cluster is up. Try:");
        println!("  ip netns exec {prefix}-client curl -s http://192.168.0.100/");
        println!("  RVS_SOCKET={} rvsadm -Lnc", paths.socket.display());
        println!("  rvs lab down{}", if prefix == super::DEFAULT_PREFIX { String::new() } else { format!(" --prefix {prefix}") });
    }
    Ok(lab)
}

/// Seed 000's experiment: ten requests from the client, then the tables, then everything down.
pub fn demo(prefix: &str) -> Result<()> {
    let result = run_demo(prefix);
    // Whatever happened, take the lab down (rvsd first, so that it detaches and unpins).
    if let Err(e) = super::down(prefix) {
        eprintln!("rvs: taking the lab down: {e:#}");
    }
    result
}

fn run_demo(prefix: &str) -> Result<()> {
    let lab = up(prefix, false)?;
    experiment::run(&lab.client.host, lab.vip, &LabPaths::new(prefix))
}
