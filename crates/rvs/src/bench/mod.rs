//! `rvs bench`: benchmarks on a namespace topology (not timed tests: they measure and report).
//!
//! `rvs bench dr` drives one DR topology (client, director, real server on one switch) with a
//! kernel-side traffic generator and measures, in one run and with the same frames:
//! packets per second delivered to the real server straight from the client, through an
//! nftables netdev `fwd` rule on the director (what nftlb installs for DSR), and through rvsd in
//! DR mode and in TUN mode (IP-in-IP); then `rvs_director`'s own cost per packet from
//! `bpf_stats`, on established flows with a million entries in the connection table and on new
//! flows, in both modes.
//!
//! `rvs bench nat` drives one NAT topology (client and real server on two networks, the
//! director between them) and measures, in one run and with the same frames, packets per second
//! through nftables DNAT with conntrack on the director and through rvsd in NAT mode, on
//! established flows, hot flows, new flows and replies. See `docs/benchmark.md`.

mod cpu;
mod cpustat;
mod dr;
mod driver;
mod frames;
mod interrupt;
mod nat;
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
    /// NAT (masquerading): pps through rvs next to nftables DNAT with conntrack, on established,
    /// hot and new flows and on the replies, and the XDP program's ns per packet (root; about
    /// 45 s).
    Nat(NatArgs),
}

/// Settings every benchmark takes.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Seconds the generator drives each path (at most 10).
    #[arg(long, default_value_t = 3.0)]
    pub duration: f64,
    /// rvsd's `--xdp-mode`: auto, native or generic.
    #[arg(long, default_value = "auto")]
    pub xdp_mode: String,
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

/// Settings of `rvs bench dr`.
#[derive(Debug, Args)]
pub struct DrArgs {
    /// Established flows: entries put in the connection table, and flows the traffic cycles through.
    #[arg(long, default_value_t = 1_000_000)]
    pub flows: u64,
    /// Most TCP SYNs (each a new connection) sent in each new-flow phase (DR, TUN).
    #[arg(long, default_value_t = 2_000_000)]
    pub new_flows: u64,
    /// rvsd's connection table capacity (`--conn-max`).
    #[arg(long, default_value_t = 4 << 20)]
    pub conn_max: u32,
    /// Prefix of the benchmark's namespaces.
    #[arg(long, default_value = "rvsbench")]
    pub prefix: String,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Settings of `rvs bench nat`.
#[derive(Debug, Args)]
pub struct NatArgs {
    /// Established flows: each has its conntrack entry and its rvs connection (a warm-up pass
    /// makes them) before the traffic cycles through them. With --new-flows, at most what
    /// nf_conntrack holds (`nf_conntrack_max`, read-only in a namespace).
    #[arg(long, default_value_t = 100_000)]
    pub flows: u64,
    /// New flows (TCP SYNs from 5-tuples never seen) each new-flow phase delivers to the real
    /// server: the phase stops once about this many have arrived.
    #[arg(long, default_value_t = 100_000)]
    pub new_flows: u64,
    /// Rate of the warm-up pass, frames per second: low enough for the slowest path to carry
    /// every frame (each creates a conntrack entry or an rvs connection).
    #[arg(long, default_value_t = 100_000)]
    pub warm_rate: u64,
    /// rvsd's connection table capacity (`--conn-max`; rvsd's default).
    #[arg(long, default_value_t = rvs_dataplane::abi::RVS_DEFAULT_CONN_MAX)]
    pub conn_max: u32,
    /// Prefix of the benchmark's namespaces.
    #[arg(long, default_value = "rvsnat")]
    pub prefix: String,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Runs a benchmark.
pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Dr(args) => dr::run(&args),
        BenchCommand::Nat(args) => nat::run(&args),
    }
}

impl RunArgs {
    fn check(&self) -> Result<()> {
        if !rvs_lab::is_root() {
            bail!("rvs bench needs root (network namespaces, XDP, BPF maps)");
        }
        self.check_values(cpu::online_cpus())
    }

    /// The checks that need no root, against a machine with `cpus` CPUs.
    fn check_values(&self, cpus: usize) -> Result<()> {
        if !(0.1..=10.0).contains(&self.duration) {
            bail!("--duration must be between 0.1 and 10 seconds");
        }
        if self.gen_cpu == self.path_cpu || self.gen_cpu >= cpus || self.path_cpu >= cpus {
            bail!(
                "--gen-cpu and --path-cpu must be two different CPUs of the {cpus} this machine has"
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
            pace: None,
            max_received: None,
        }
    }
}

/// Fails unless `flows` established flows fit in the generator's source range.
fn check_flows(flows: u64) -> Result<()> {
    if flows == 0 || flows > flows_in(FLOW_SOURCE_COUNT) {
        bail!(
            "--flows must be between 1 and {}",
            flows_in(FLOW_SOURCE_COUNT)
        );
    }
    Ok(())
}

impl DrArgs {
    fn check(&self) -> Result<()> {
        self.run.check()?;
        check_flows(self.flows)?;
        if self.flows + self.new_flows > u64::from(self.conn_max) {
            bail!(
                "--flows plus --new-flows must fit in --conn-max ({})",
                self.conn_max
            );
        }
        Ok(())
    }
}

impl NatArgs {
    fn check(&self) -> Result<()> {
        self.run.check()?;
        self.check_values()
    }

    /// The checks of the NAT settings themselves (nf_conntrack's capacity is checked once the
    /// director's namespace exists).
    fn check_values(&self) -> Result<()> {
        check_flows(self.flows)?;
        if self.flows + self.new_flows + nat::NEW_FLOW_SLACK > u64::from(self.conn_max) {
            bail!(
                "--flows plus --new-flows (and {} more) must fit in --conn-max ({})",
                nat::NEW_FLOW_SLACK,
                self.conn_max
            );
        }
        if !(1_000..=10_000_000).contains(&self.warm_rate) {
            bail!("--warm-rate must be between 1000 and 10000000 frames per second");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        bench: BenchCommand,
    }

    fn nat(args: &[&str]) -> NatArgs {
        let argv = ["rvs", "nat"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().bench {
            BenchCommand::Nat(args) => args,
            BenchCommand::Dr(_) => panic!("parsed as dr"),
        }
    }

    #[test]
    fn nat_defaults_fit_in_conntrack_and_check() {
        let args = nat(&[]);
        assert_eq!((args.flows, args.new_flows), (100_000, 100_000));
        assert!(
            args.flows + args.new_flows + nat::NEW_FLOW_SLACK <= 262_144,
            "nf_conntrack_max"
        );
        assert_eq!(args.prefix, "rvsnat");
        assert_eq!((args.run.gen_cpu, args.run.path_cpu), (0, 1));
        args.check_values().unwrap();
        args.run.check_values(2).unwrap();
    }

    #[test]
    fn nat_settings_out_of_range_are_refused() {
        let fails = |args: &[&str], what: &str| {
            let e = nat(args).check_values().unwrap_err();
            assert!(e.to_string().contains(what), "{args:?}: {e}");
        };
        fails(&["--flows", "0"], "--flows must be between 1");
        fails(&["--flows", "5000000000"], "--flows must be between 1");
        fails(&["--new-flows", "2000000"], "must fit in --conn-max");
        fails(&["--warm-rate", "10"], "--warm-rate");
        let run = |args: &[&str], cpus: usize| nat(args).run.check_values(cpus);
        assert!(run(&["--duration", "20"], 2).is_err());
        assert!(run(&["--gen-cpu", "1"], 2).is_err(), "same CPU twice");
        assert!(run(&["--path-cpu", "2"], 2).is_err(), "no such CPU");
        assert!(run(&["--xdp-mode", "fast"], 2).is_err());
        assert!(run(&["--xdp-mode", "native"], 2).is_ok());
    }

    #[test]
    fn dr_keeps_its_options() {
        let argv = ["rvs", "dr", "--flows", "10", "--duration", "1", "--json"];
        let BenchCommand::Dr(args) = Cli::try_parse_from(argv).unwrap().bench else {
            panic!("parsed as nat");
        };
        assert_eq!((args.flows, args.run.duration, args.run.json), (10, 1.0, true));
        assert_eq!(args.prefix, "rvsbench");
    }
}
