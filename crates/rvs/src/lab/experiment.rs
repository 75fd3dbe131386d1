//! The seeds' experiment, the same for every topology: ten requests from the client to the
//! VIP, then the director's tables.

use std::{net::Ipv4Addr, time::Duration};

use anyhow::Result;
use rvs_lab::Host;

use super::LabPaths;
use crate::tools::{rvsadm, rvsadm_ok};

/// Curls `vip` ten times from `client`, then shows `-Ln`, `-Lnc` and `--stats`.
pub fn run(client: &Host, vip: Ipv4Addr, paths: &LabPaths) -> Result<()> {
    let url = format!("http://{vip}/");
    println!();
    println!("[client]$ for i in $(seq 10); do curl -s {url}; done");
    for _ in 0..10 {
        let out = client.run("curl", ["-s", "--max-time", "5", url.as_str()], Duration::from_secs(10))?;
        if out.status.success() {
            print!("{}", out.stdout);
        } else {
            println!("(curl failed: {})", out.stderr.trim());
        }
    }
    println!();
    println!("[director]# rvsadm -Ln");
    print!("{}", rvsadm_ok(&paths.socket, &["-Ln"])?);
    println!("[director]# rvsadm -Lnc");
    print!("{}", rvsadm(&paths.socket, &["-Lnc"])?.stdout);
    // IPVS folds its counters into what listings show every 2 seconds; so does rvsd.
    std::thread::sleep(Duration::from_millis(2100));
    println!("[director]# rvsadm -Ln --stats");
    print!("{}", rvsadm_ok(&paths.socket, &["-Ln", "--stats"])?);
    Ok(())
}

/// Configures the lab's rvsd with `commands`, echoing each as the seed shows it.
pub fn configure(paths: &LabPaths, commands: &[Vec<String>]) -> Result<()> {
    for args in commands {
        println!("[director]# rvsadm {}", args.join(" "));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rvsadm_ok(&paths.socket, &args)?;
    }
    print!("{}", rvsadm_ok(&paths.socket, &["-Ln"])?);
    Ok(())
}
