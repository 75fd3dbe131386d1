//! `rvs bench`: benchmarks on a namespace topology (not timed tests: they measure and report).
//!
//! `rvs bench dr` drives one DR topology (client, director, real server on one switch) with a
//! kernel-side traffic generator and measures, in one run and with the same frames:
//! packets per second delivered to the real server straight from the client, through an
//! nftables netdev `fwd` rule on the director (what nftlb installs for DSR), and through rvsd in
//! DR mode and in TUN mode (IP-in-IP); then `rvs_director`'s own cost per packet from
//! `bpf_stats`, on established flows with a million entries in the connection table and on new
//! flows, in both modes. See `docs/benchmark.md`.

mod cpu;
mod cpustat;
mod dr;
mod frames;
mod interrupt;
mod nft;
mod pinned;
mod progstats;
mod report;
mod rvsd;
mod testrun;
mod topology;
mod traffic;

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use frames::flows_in;
use topology::FLOW_SOURCE_COUNT;
use traffic::Limits;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Direct routing and IP-in-IP tunnelling: pps through rvs next to the direct path and
    /// nftables `fwd`, and the XDP program's ns per packet with a million connections (root;
    /// about 25 s).
    Dr(DrArgs),
}

/// Settings of `rvs bench dr`.
#[derive(Debug, Args)]
pub struct DrArgs {
    /// Seconds the generator drives each path (at most 10).
    #[arg(long, default_value_t = 3.0)]
    pub duration: f64,
    /// Established flows: entries put in the connection table, and flows the traffic cycles through.
    #[arg(long, default_value_t = 1_000_000)]
    pub flows: u64,
    /// Most TCP SYNs (each a new connection) sent in each new-flow phase (DR, TUN).
    #[arg(long, default_value_t = 2_000_000)]
    pub new_flows: u64,
    /// rvsd's connection table capacity (`--conn-max`).
    #[arg(long, default_value_t = 4 << 20)]
    pub conn_max: u32,
    /// rvsd's `--xdp-mode`: auto, native or generic.
    #[arg(long, default_value = "auto")]
    pub xdp_mode: String,
    /// Prefix of the benchmark's namespaces.
    #[arg(long, default_value = "rvsbench")]
    pub prefix: String,
    /// CPU of the traffic generator (and of rvsd's housekeeping).
    #[arg(long, default_value_t = 0)]
    pub gen_cpu: usize,
    /// CPU of the network path under test.
    #[arg(long, default_value_t = 1)]
    pub path_cpu: usize,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a benchmark.
pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Dr(args) => dr::run(&args),
    }
}

impl DrArgs {
    fn check(&self) -> Result<()> {
        if !rvs_lab::is_root() {
            bail!("rvs bench needs root (network namespaces, XDP, BPF maps)");
        }
        if !(0.1..=10.0).contains(&self.duration) {
            bail!("--duration must be between 0.1 and 10 seconds");
        }
        let cpus = cpu::online_cpus();
        if self.gen_cpu == self.path_cpu || self.gen_cpu >= cpus || self.path_cpu >= cpus {
            bail!(
                "--gen-cpu and --path-cpu must be two different CPUs of the {cpus} this machine has"
            );
        }
        if self.flows == 0 || self.flows > flows_in(FLOW_SOURCE_COUNT) {
            bail!(
                "--flows must be between 1 and {}",
                flows_in(FLOW_SOURCE_COUNT)
            );
        }
        if self.flows + self.new_flows > u64::from(self.conn_max) {
            bail!(
                "--flows plus --new-flows must fit in --conn-max ({})",
                self.conn_max
            );
        }
        if !["auto", "native", "generic"].contains(&self.xdp_mode.as_str()) {
            bail!("--xdp-mode must be auto, native or generic");
        }
        Ok(())
    }

    fn limits(&self, max_frames: u64) -> Limits {
        Limits {
            duration: Duration::from_secs_f64(self.duration),
            max_frames,
            cpu: self.gen_cpu,
        }
    }
}
