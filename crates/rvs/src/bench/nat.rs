//! The `rvs bench nat` run: topology, nftables DNAT with conntrack, rvs in NAT mode, teardown.
//!
//! Order: nftables first, while no XDP program sits on the director (rvsd's would take the
//! packets before the kernel's stack); then rvsd (`rvs.rs`). Each side gets the same phases
//! with the same frames: a warm-up pass that gives every established flow its entry (a
//! conntrack entry, an rvs connection with its reply index), traffic over all the established
//! flows, over 1024 hot ones, the real server's replies to all of them, and last new flows
//! (TCP SYNs from 5-tuples never seen), which add entries. rvs has one more phase, the same
//! established traffic rewritten by the program but handed to the kernel's forwarding.
//!
//! nf_conntrack holds at most `nf_conntrack_max` entries, which a namespace cannot raise (the
//! sysctl is read-only outside the machine's own namespace): the established flows and the
//! SYNs of the new-flow phase must fit in it, or conntrack would evict entries (`early_drop`)
//! and measure something else. The director's UDP timeout is set to rvs's (IPVS's) 300 s, so
//! that no entry expires during the run either way.

mod report;
mod rvs;
mod topology;

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::NatArgs;
use super::driver::{self, Drive, Driver, Guard, progress};
use super::frames::{FlowEnd, Template, Traffic};
use super::nft::{self, DNAT_TABLE, Dnat};
use super::progstats;
use super::report::{PathResult, ratio};
use super::topology::FLOW_SOURCES;
use super::traffic::{BenchPrograms, Counted, GenRun, Limits};
use report::{Conntrack, NatReport, WarmUp, compare, row};
use topology::{IFACE, NatNet, real, vip};

/// The UDP service's port (discard) on the VIP.
const UDP_PORT: u16 = 9;
/// The real server's port for it.
const UDP_REAL_PORT: u16 = 9009;
/// The TCP service's port on the VIP.
const TCP_PORT: u16 = 80;
/// The real server's port for it.
const TCP_REAL_PORT: u16 = 8080;
/// Flows of the hot-flow phases: a working set that stays in the caches.
const HOT_FLOWS: u64 = 1024;
/// First flow of the new-flow phases: far from the established flows (which are UDP anyway).
const NEW_FLOW_BASE: u64 = 1 << 24;
/// Warm-up passes before giving up; each at half the rate of the one before.
const WARM_PASSES: u32 = 3;
/// nf_conntrack's UDP timeout on the director, as IPVS's (and rvsd's) UDP timeout.
const CONNTRACK_UDP_TIMEOUT_S: u32 = 300;
/// Room for the SYNs that arrive after a new-flow phase has counted `--new-flows` of them (it
/// checks every 50 ms, `traffic::RECEIVED_CALL`), in nf_conntrack and in rvs's table.
pub const NEW_FLOW_SLACK: u64 = 1 << 15;
/// Longest whole run: past it the run stops as on Ctrl-C, and tears down.
const HARD_TIMEOUT: Duration = Duration::from_secs(85);

/// Runs the benchmark and prints its report.
pub fn run(args: &NatArgs) -> Result<()> {
    args.check()?;
    driver::run(
        &args.run,
        HARD_TIMEOUT,
        || {
            progress(
                &args.run,
                &format!("building the topology (namespaces {}-*)", args.prefix),
            );
            NatNet::build(
                &args.prefix,
                args.run.path_cpu,
                args.run.xdp_mode == "native",
            )
        },
        |net, guard| Bench::new(net, args, guard)?.measure(),
        NatReport::render,
    )
}

/// One run in progress.
struct Bench<'a> {
    net: &'a NatNet,
    args: &'a NatArgs,
    driver: Driver<'a>,
    /// Keeps `bpf_stats` on.
    _stats: Option<progstats::StatsEnabled>,
    stats_were_on: bool,
}

/// The drives of one side (nftables or rvs): the same frames, under that side's names.
struct Drives<'n> {
    /// The warm-up pass (paced).
    warm: Drive<'n>,
    /// Traffic over every established flow.
    all: Drive<'n>,
    /// Traffic over the hot flows.
    hot: Drive<'n>,
    /// The real server's replies to every established flow.
    reply: Drive<'n>,
    /// TCP SYNs of new flows.
    syn: Drive<'n>,
}

/// What one side's phases found.
struct Side {
    warm: WarmUp,
    /// In [`row`] order: (plain forwarding for nftables), all, hot, replies, new flows (rvs adds
    /// the kernel-routing phase).
    paths: Vec<PathResult>,
    conntrack: Vec<Conntrack>,
}

impl<'a> Bench<'a> {
    fn new(net: &'a NatNet, args: &'a NatArgs, guard: Guard) -> Result<Self> {
        let mut programs = BenchPrograms::load()?;
        let requests = Counted::ToPort(real(), UDP_REAL_PORT);
        programs.attach_sink(&net.real, IFACE, requests)?;
        programs.attach_sink(&net.client, IFACE, requests)?;
        Ok(Self {
            net,
            args,
            driver: Driver {
                args: &args.run,
                stop: guard.stop,
                programs,
            },
            _stats: guard.stats,
            stats_were_on: guard.stats_were_on,
        })
    }

    fn measure(&mut self) -> Result<NatReport> {
        let director = &self.net.director;
        let conntrack_max = read_u64(director, "net.netfilter.nf_conntrack_max")?;
        let conntrack_buckets = read_u64(director, "net.netfilter.nf_conntrack_buckets")?;
        check_conntrack_room(self.args.flows, self.args.new_flows, conntrack_max)?;

        let (nft, gen_run) = self.nft_side()?;
        let rvs = self.rvs_side()?;

        let mut paths = nft.paths;
        paths.extend(rvs.side.paths);
        let mut conntrack = nft.conntrack;
        conntrack.extend(rvs.side.conntrack);
        let pps: fn(&PathResult) -> f64 = |p| p.pps;
        Ok(NatReport {
            duration_s: self.args.run.duration,
            flows: self.args.flows,
            new_flows: self.args.new_flows,
            conn_max: self.args.conn_max,
            conntrack_max,
            conntrack_buckets,
            conntrack_udp_timeout_s: CONNTRACK_UDP_TIMEOUT_S,
            xdp_mode: rvs.xdp_mode,
            cpus: (self.args.run.gen_cpu, self.args.run.path_cpu),
            warm_up: vec![nft.warm, rvs.side.warm],
            comparisons: compare(&paths),
            redirect_over_kernel: ratio(&paths, row::RVS, row::RVS_KERNEL, pps),
            kernel_over_nft: ratio(&paths, row::RVS_KERNEL, row::NFT, pps),
            over_forwarding: (
                ratio(&paths, row::NFT, row::FORWARD, pps),
                ratio(&paths, row::RVS, row::FORWARD, pps),
            ),
            generator_max_pps: paths.iter().map(|p| p.offered_pps).fold(0.0, f64::max),
            generator_ns_per_frame: gen_run.ns_per_frame(),
            paths,
            conntrack,
            sink: rvs.sink,
            stats_were_on: self.stats_were_on,
        })
    }

    /// The kernel's plain forwarding for scale, then nftables DNAT with conntrack: the
    /// ruleset, the warm-up, the four phases, and the conntrack entries each created (none but
    /// in the new-flow phase).
    fn nft_side(&mut self) -> Result<(Side, GenRun)> {
        let net = self.net;
        let director = &net.director;
        director.sysctl_write(
            "net.netfilter.nf_conntrack_udp_timeout",
            &CONNTRACK_UDP_TIMEOUT_S.to_string(),
        )?;
        let ruleset = nft::dnat_ruleset(
            vip(),
            &[
                Dnat {
                    protocol: "udp",
                    vport: UDP_PORT,
                    real: real(),
                    rport: UDP_REAL_PORT,
                },
                Dnat {
                    protocol: "tcp",
                    vport: TCP_PORT,
                    real: real(),
                    rport: TCP_REAL_PORT,
                },
            ],
        );
        let drives = drives(
            net,
            self.args.flows,
            self.args.new_flows,
            [
            "nftables DNAT + conntrack",
            "nft DNAT, hot flows",
            "nft DNAT, replies (real -> client)",
            "nft DNAT, new flows (TCP SYN)",
            ],
        );
        // The test bed's own cost: the same frames addressed to the real server, forwarded by
        // the kernel before any NAT rule (and so conntrack) exists.
        let forward = Drive {
            name: "kernel forwarding, no NAT (for scale)",
            template: Template {
                service: real(),
                service_port: UDP_REAL_PORT,
                ..drives.all.template
            },
            ..drives.all
        };
        let (forward, gen_run) = self.driver.drive(&forward)?;

        nft::apply(director, net.lab.log_dir(), DNAT_TABLE, &ruleset)?;
        let count = || read_u64(director, "net.netfilter.nf_conntrack_count");
        let base = count()?;
        let warm = self.warm_up("nftables DNAT", &drives.warm, || {
            Ok(count()?.saturating_sub(base))
        })?;
        let mut paths = vec![forward];
        let mut conntrack = Vec::new();
        for drive in [&drives.all, &drives.hot, &drives.reply, &drives.syn] {
            let before = count()?;
            let (path, _) = self.driver.drive(drive)?;
            let entries = count()?;
            let created = entries.saturating_sub(before);
            check_created(drive, "conntrack entries", created, path.received)?;
            conntrack.push(Conntrack {
                path: drive.name.to_string(),
                created,
                entries,
            });
            paths.push(path);
        }
        nft::remove(director, DNAT_TABLE)?;
        let side = Side {
            warm,
            paths,
            conntrack,
        };
        Ok((side, gen_run))
    }

    /// Sends the established flows once each, at `--warm-rate`, until `entries()` (the entries
    /// made since the warm-up began) counts them all; each further pass goes at half the rate.
    fn warm_up(
        &mut self,
        path: &str,
        drive: &Drive<'_>,
        entries: impl Fn() -> Result<u64>,
    ) -> Result<WarmUp> {
        let flows = self.args.flows;
        let mut warm = WarmUp {
            path: path.to_string(),
            passes: 0,
            sent: 0,
            received: 0,
            seconds: 0.0,
            entries: 0,
        };
        let mut rate = self.args.warm_rate as f64;
        while warm.passes < WARM_PASSES {
            progress(
                &self.args.run,
                &format!("warming {path} up: {flows} flows at {rate:.0} frames/s"),
            );
            let limits = Limits {
                duration: Duration::from_secs_f64(1.0 + 1.5 * flows as f64 / rate),
                max_frames: flows,
                cpu: self.args.run.gen_cpu,
                pace: Some(Duration::from_secs_f64(1.0 / rate)),
                max_received: None,
            };
            let (result, _) = self.driver.drive_limited(drive, limits)?;
            warm.passes += 1;
            warm.sent += result.sent;
            warm.received += result.received;
            warm.seconds += result.wall_seconds;
            warm.entries = entries()?;
            if warm.entries >= flows {
                return Ok(warm);
            }
            rate /= 2.0;
        }
        bail!(
            "{path}: {} entries for the {flows} established flows after {WARM_PASSES} warm-up passes ({} of {} frames arrived); try a lower --warm-rate",
            warm.entries,
            warm.received,
            warm.sent
        )
    }
}

/// The client's requests to the VIP: UDP to the UDP service, or SYNs to the TCP one.
fn request(net: &NatNet, traffic: Traffic) -> Template {
    Template {
        src_mac: net.client_mac,
        dst_mac: net.public_mac,
        numbered: FlowEnd::Source,
        flow_base: FLOW_SOURCES,
        service: vip(),
        service_port: match traffic {
            Traffic::Udp => UDP_PORT,
            Traffic::TcpSyn => TCP_PORT,
        },
    }
}

/// The real server's UDP replies to the client's flows, sent to its gateway.
fn reply(net: &NatNet) -> Template {
    Template {
        src_mac: net.real_mac,
        dst_mac: net.private_mac,
        numbered: FlowEnd::Destination,
        flow_base: FLOW_SOURCES,
        service: real(),
        service_port: UDP_REAL_PORT,
    }
}

/// The phases' drives over `flows` established flows and `new_flows` SYNs, named `names`
/// (all, hot, replies, new flows).
fn drives<'n>(net: &'n NatNet, flows: u64, new_flows: u64, names: [&'n str; 4]) -> Drives<'n> {
    let [all, hot, replies, syn] = names;
    let all = Drive {
        name: all,
        sender: &net.client,
        template: request(net, Traffic::Udp),
        traffic: Traffic::Udp,
        flows: (0, flows),
        max_frames: u64::MAX,
        max_received: None,
        counted: Counted::ToPort(real(), UDP_REAL_PORT),
    };
    Drives {
        warm: Drive {
            flows: (0, 0),
            max_frames: flows,
            ..all
        },
        hot: Drive {
            name: hot,
            flows: (0, HOT_FLOWS.min(flows)),
            ..all
        },
        reply: Drive {
            name: replies,
            sender: &net.real,
            template: reply(net),
            counted: Counted::FromPort(vip(), UDP_PORT),
            ..all
        },
        syn: Drive {
            name: syn,
            template: request(net, Traffic::TcpSyn),
            traffic: Traffic::TcpSyn,
            flows: (NEW_FLOW_BASE, 0),
            max_received: Some(new_flows),
            counted: Counted::ToPort(real(), TCP_REAL_PORT),
            ..all
        },
        all,
    }
}

/// Fails unless the established flows and a new-flow phase's SYNs fit in nf_conntrack.
fn check_conntrack_room(flows: u64, new_flows: u64, conntrack_max: u64) -> Result<()> {
    if flows + new_flows + NEW_FLOW_SLACK > conntrack_max {
        bail!(
            "--flows ({flows}) plus --new-flows ({new_flows}) and {NEW_FLOW_SLACK} more exceed nf_conntrack_max ({conntrack_max}), which a network namespace cannot raise: conntrack would evict entries"
        );
    }
    Ok(())
}

/// Whether phase `drive` made the entries it should (`what`: conntrack entries or
/// connections): none when it cycles through established flows, one for every new flow that
/// reached the real server.
fn check_created(drive: &Drive<'_>, what: &str, created: u64, received: u64) -> Result<()> {
    check_entries(drive.name, drive.flows.1 != 0, what, created, received)
}

/// [`check_created`] for phase `name`, `established` or not.
fn check_entries(
    name: &str,
    established: bool,
    what: &str,
    created: u64,
    received: u64,
) -> Result<()> {
    if established && created > 0 {
        bail!("{name}: {created} {what} created: not every flow was established");
    }
    if !established && created < received {
        bail!(
            "{name}: {received} new flows reached the real server but only {created} {what} were created"
        );
    }
    Ok(())
}

/// A numeric sysctl of `host`.
fn read_u64(host: &rvs_lab::Host, key: &str) -> Result<u64> {
    let text = host.sysctl_read(key)?;
    text.trim()
        .parse()
        .with_context(|| format!("{key} in {} reads {text:?}", host.name()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn established_phases_create_nothing_and_new_flows_create_what_arrived() {
        assert!(check_entries("p", true, "entries", 0, 90).is_ok());
        let e = check_entries("p", true, "conntrack entries", 3, 90).unwrap_err();
        assert!(
            e.to_string()
                .contains("3 conntrack entries created: not every flow was established"),
            "{e}"
        );
        assert!(check_entries("p", false, "entries", 95, 90).is_ok());
        let e = check_entries("p", false, "connections", 80, 90).unwrap_err();
        assert!(e.to_string().contains("only 80 connections"), "{e}");
    }

    #[test]
    fn the_flows_must_fit_in_conntrack() {
        assert!(check_conntrack_room(100_000, 100_000, 262_144).is_ok());
        let e = check_conntrack_room(200_000, 150_000, 262_144).unwrap_err();
        assert!(
            e.to_string().contains("exceed nf_conntrack_max (262144)"),
            "{e}"
        );
    }
}
