//! rvs, the friendly tool around rvsd and rvsadm: `rvs lab` builds the seed tutorials'
//! topologies in network namespaces and runs them.

mod bench;
mod config;
mod health;
mod lab;
mod mark;
mod passwd;
mod realserver;
mod tools;

use std::net::SocketAddr;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// rvs: lab topologies and tools for the rvs director.
#[derive(Debug, Parser)]
#[command(name = "rvs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The data plane's named counters: what the XDP program did with each packet.
    Stats {
        /// rvsd's control socket (default: $RVS_SOCKET, else /run/rvs/rvsd.sock).
        #[arg(long)]
        socket: Option<std::path::PathBuf>,
        /// Also list counters that are zero.
        #[arg(long)]
        all: bool,
    },
    /// The mark classifier's rules of a running rvsd (firewall-mark services, `-f`).
    Mark {
        /// rvsd's control socket (default: $RVS_SOCKET, else /run/rvs/rvsd.sock).
        #[arg(long)]
        socket: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: mark::MarkCommand,
    },
    /// Benchmarks of the data plane on a namespace topology (root).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// The seed tutorials' clusters in network namespaces on this machine (root).
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Prepares this host as an LVS real server (ARP settings, VIPs, tunnel), undoes it, checks it.
    Realserver {
        #[command(subcommand)]
        command: realserver::RealserverCommand,
    },
    /// Reads rvsd's configuration file again (as SIGHUP does) and applies what changed; a file
    /// that does not load is refused with its errors and changes nothing.
    Reload {
        /// rvsd's control socket (default: $RVS_SOCKET, else /run/rvs/rvsd.sock).
        #[arg(long)]
        socket: Option<std::path::PathBuf>,
    },
    /// The real servers of rvsd's configuration file: up or down, since when and why, their
    /// weight in the table, and each check's last result.
    Health {
        /// rvsd's control socket (default: $RVS_SOCKET, else /run/rvs/rvsd.sock).
        #[arg(long)]
        socket: Option<std::path::PathBuf>,
    },
    /// Checks a keepalived.conf, piranha lvs.cf or rvs TOML file, or converts it to rvs's TOML.
    Config {
        #[command(subcommand)]
        command: config::ConfigCommand,
    },
    /// Sets the password of a web console user (asked twice on the terminal, echo off); the
    /// file is written atomically with mode 0600, other users' lines are kept.
    Passwd {
        /// The console's password file.
        #[arg(long, default_value = rvs_console::auth::passwd::DEFAULT_PATH)]
        file: std::path::PathBuf,
        /// The user whose password is set (added if new).
        #[arg(long, default_value = rvs_console::auth::passwd::DEFAULT_USER)]
        user: String,
        /// Reads the password from one line of standard input instead (for scripts).
        #[arg(long)]
        stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum LabCommand {
    /// Builds a topology, starts the real servers and rvsd, and configures it as the seed does.
    Up {
        /// Which seed topology: `dr` (seed 000), `nat` (seed 002), `tun` (seed 004) or
        /// `tun-routed` (seed 004 with the real servers behind a router).
        topology: lab::Topology,
        /// Prefix of the lab's namespaces.
        #[arg(long, default_value = lab::DEFAULT_PREFIX)]
        prefix: String,
    },
    /// Runs the seed's experiment: up, ten requests from the client, the tables, down.
    Demo {
        /// Which seed topology.
        #[arg(default_value = "dr")]
        topology: lab::Topology,
        /// Prefix of the lab's namespaces.
        #[arg(long, default_value = lab::DEFAULT_PREFIX)]
        prefix: String,
    },
    /// Removes a lab: processes, namespaces, pinned maps, sockets (also after a crash).
    Down {
        /// Prefix of the lab's namespaces.
        #[arg(long, default_value = lab::DEFAULT_PREFIX)]
        prefix: String,
    },
    /// The HTTP server the lab's real servers run (answers its name).
    #[command(hide = true)]
    ServeHttp {
        /// Address to listen on.
        #[arg(long)]
        listen: SocketAddr,
        /// Name to answer with.
        #[arg(long)]
        name: String,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("rvs: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Stats { socket, all } => {
            for c in tools::dataplane_counters(&tools::socket_or_default(socket))? {
                if all || c.value != 0 {
                    println!("{:<24} {}", c.name, c.value);
                }
            }
            Ok(())
        }
        Command::Mark { socket, command } => mark::run(command, socket),
        Command::Bench { command } => bench::run(command),
        Command::Realserver { command } => realserver::run(command),
        Command::Config { command } => config::run(command),
        Command::Reload { socket } => health::reload(socket),
        Command::Health { socket } => health::health(socket),
        Command::Passwd { file, user, stdin } => passwd::run(&file, &user, stdin),
        Command::Lab { command } => match command {
            LabCommand::Up { topology, prefix } => lab::up(topology, &prefix),
            LabCommand::Demo { topology, prefix } => lab::demo(topology, &prefix),
            LabCommand::Down { prefix } => lab::down(&prefix),
            LabCommand::ServeHttp { listen, name } => {
                let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
                rt.block_on(rvs_lab::serve_http(listen, name))?;
                Ok(())
            }
        },
    }
}
