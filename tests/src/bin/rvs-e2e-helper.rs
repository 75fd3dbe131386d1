//! Programs the harness tests run as separate processes:
//!
//! - `http <listen-addr> <name>`: the lab's HTTP server, as `rvs lab` runs it on real servers;
//! - `lab-then-panic <prefix>`: builds seed 000, starts a program in it, then panics;
//! - `lab-then-hang <prefix>`: builds seed 000, starts a program in it, says so, then waits
//!   to be killed (the test kills it with SIGKILL, so no destructor runs).

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rvs_lab::topology::{DirectorVip, Seed000Dr};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["http", listen, name] => {
            let listen: SocketAddr = listen
                .parse()
                .with_context(|| format!("bad listen address {listen:?}"))?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(rvs_lab::serve_http(listen, (*name).to_owned()))?;
            Ok(())
        }
        ["lab-then-panic", prefix] => {
            let seed = Seed000Dr::build(prefix, DirectorVip::OnLanInterface)?;
            let sleeper = seed.webserver1.host.spawn("sleeper", "sleep", ["600"])?;
            println!("sleeper {}", sleeper.pid());
            std::io::stdout().flush()?;
            panic!("deliberate panic with lab {prefix} up");
        }
        ["lab-then-hang", prefix] => {
            let seed = Seed000Dr::build(prefix, DirectorVip::OnLanInterface)?;
            // `sh` dies with us (the lab asks the kernel for that); the `sleep` it starts in
            // the background does not, and only `down_prefix` can find it.
            let web1 = &seed.webserver1.host;
            let shell = web1.spawn("orphan-maker", "sh", ["-c", "sleep 600 & wait"])?;
            // Say "ready" only once `sh` has started its `sleep`.
            let deadline = Instant::now() + Duration::from_secs(10);
            while rvs_lab::pids_in_netns(web1.netns()).len() < 2 {
                if Instant::now() > deadline {
                    bail!("sh did not start its sleep in {}", web1.netns());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            println!("ready {}", shell.pid());
            std::io::stdout().flush()?;
            std::thread::sleep(Duration::from_secs(600));
            Ok(())
        }
        _ => bail!(
            "usage: rvs-e2e-helper http <addr> <name> | lab-then-panic <prefix> | lab-then-hang <prefix>"
        ),
    }
}
