//! The rvs side: rvsd on both of the director's interfaces, the services configured with
//! rvsadm as an LVS-NAT cluster is (`-m`, the real server on other ports than the VIP's), the
//! warm-up through the program itself (each flow's first packet creates its connection and the
//! reply index entry that `nat_rev` keeps), then the phases.
//!
//! Every phase checks the director's counters: its frames went by the phase's method
//! (`fwd_nat_in` for requests, `fwd_nat_out` for replies, and none handed to the kernel,
//! `pass_nat_kernel_route`, but in the phase that asks for it), and the sink counted no more
//! than that. None touches conntrack: `nf_conntrack_count` does not move.

use std::path::PathBuf;

use anyhow::{Result, bail};
use rvs_dataplane::abi::{RVS_CFG_F_NAT_KERNEL_ROUTE, RVS_FWD_MASQ, RvsStat};

use super::report::Conntrack;
use super::topology::{PRIVATE, PUBLIC, real, vip};
use super::{
    Bench, Side, TCP_PORT, TCP_REAL_PORT, UDP_PORT, UDP_REAL_PORT, check_created, drives, read_u64,
};
use crate::bench::driver::{Drive, attach_mode, progress};
use crate::bench::interrupt;
use crate::bench::pinned::{DestSlot, PinnedPlane, TCP, UDP, delta_of, verdict_deltas};
use crate::bench::progstats;
use crate::bench::report::{Method, PathResult, ProgramCost};
use crate::bench::rvsd::{Rvsd, RvsdOptions};

/// The director program's name.
const PROG_DIRECTOR: &str = "rvs_director";

/// What the rvs side found.
pub(super) struct RvsSide {
    /// Warm-up, phases (all, hot, replies, new flows, kernel routing), conntrack checks.
    pub side: Side,
    /// How rvsd attached its program.
    pub xdp_mode: String,
    /// The sink during the established phase.
    pub sink: ProgramCost,
}

impl Bench<'_> {
    /// Starts rvsd, measures, stops it (its log goes with any error).
    pub(super) fn rvs_side(&mut self) -> Result<RvsSide> {
        let (net, args) = (self.net, self.args);
        interrupt::check(self.driver.stop)?;
        progress(&args.run, "starting rvsd");
        let rvsd = Rvsd::start(
            &net.director,
            RvsdOptions {
                interfaces: &[PUBLIC, PRIVATE],
                instance: format!("{}-director", args.prefix),
                socket: PathBuf::from(format!("/run/rvs/{}.sock", args.prefix)),
                conn_max: args.conn_max,
                xdp_mode: &args.run.xdp_mode,
                cpu: args.run.gen_cpu,
                log: net.lab.log_dir().join("rvsd.log"),
            },
        )?;
        let measured = self.rvs_phases(&rvsd);
        let log = rvsd.log();
        let stopped = rvsd.stop();
        let (side, sink) = measured.map_err(|e| {
            if e.is::<interrupt::Interrupted>() {
                e
            } else {
                e.context(format!("rvsd's log:\n{log}"))
            }
        })?;
        stopped?;
        Ok(RvsSide {
            side,
            xdp_mode: attach_mode(&log),
            sink,
        })
    }

    fn rvs_phases(&mut self, rvsd: &Rvsd) -> Result<(Side, ProgramCost)> {
        let (vip, real) = (vip(), real());
        let udp_svc = format!("{vip}:{UDP_PORT}");
        let tcp_svc = format!("{vip}:{TCP_PORT}");
        let udp_real = format!("{real}:{UDP_REAL_PORT}");
        let tcp_real = format!("{real}:{TCP_REAL_PORT}");
        for cmd in [
            ["-A", "-u", &udp_svc, "-s", "rr"].as_slice(),
            &["-a", "-u", &udp_svc, "-r", &udp_real, "-m"],
            &["-A", "-t", &tcp_svc, "-s", "rr"],
            &["-a", "-t", &tcp_svc, "-r", &tcp_real, "-m"],
        ] {
            rvsd.rvsadm(cmd)?;
        }
        let plane = PinnedPlane::open(&rvsd.pin_dir())?;
        let udp_dest = masq_dest(&plane, UDP_PORT, UDP, UDP_REAL_PORT)?;
        masq_dest(&plane, TCP_PORT, TCP, TCP_REAL_PORT)?;
        let director = progstats::find_program(PROG_DIRECTOR, plane.conns_id())?;
        let net = self.net;
        let conntrack = || read_u64(&net.director, "net.netfilter.nf_conntrack_count");
        let conntrack_before = conntrack()?;

        let names = [
            "rvs NAT (XDP director)",
            "rvs NAT, hot flows",
            "rvs NAT, replies (real -> client)",
            "rvs NAT, new flows (TCP SYN)",
        ];
        let drives = drives(net, self.args.flows, self.args.new_flows, names);
        let created_before = plane.verdicts()?;
        let warm = self.warm_up("rvs NAT", &drives.warm, || {
            let deltas = verdict_deltas(&created_before, &plane.verdicts()?);
            Ok(delta_of(&deltas, RvsStat::ConnCreated))
        })?;
        rvsd.check_listed(&udp_dest, self.args.flows, "Masq")?;

        let sink_id = self.driver.programs.sink_id()?;
        let sink_before = progstats::read(sink_id)?;
        let all = self.rvs_phase(&plane, director, &drives.all, Method::Nat)?;
        let sink = progstats::read(sink_id)?.since(&sink_before);
        let hot = self.rvs_phase(&plane, director, &drives.hot, Method::Nat)?;
        let reply = self.rvs_phase(&plane, director, &drives.reply, Method::NatReply)?;
        plane.set_config_flag(RVS_CFG_F_NAT_KERNEL_ROUTE, true)?;
        let kernel = Drive {
            name: "rvs NAT, kernel routing (XDP_PASS)",
            ..drives.all
        };
        let kernel = self.rvs_phase(&plane, director, &kernel, Method::NatKernel);
        plane.set_config_flag(RVS_CFG_F_NAT_KERNEL_ROUTE, false)?;
        let kernel = kernel?;
        let new = self.rvs_phase(&plane, director, &drives.syn, Method::Nat)?;

        let conntrack_after = conntrack()?;
        if conntrack_after != conntrack_before {
            bail!(
                "nf_conntrack_count moved from {conntrack_before} to {conntrack_after} during the rvs phases: packets went through conntrack"
            );
        }
        let side = Side {
            warm,
            paths: vec![all, hot, reply, new, kernel],
            conntrack: vec![Conntrack {
                path: "rvs NAT, every phase".into(),
                created: 0,
                entries: conntrack_after,
            }],
        };
        let sink = ProgramCost {
            ns_per_packet: sink.ns_per_run(),
            runs: sink.run_count,
        };
        Ok((side, sink))
    }

    /// One phase through rvs: forwarded by `method` only, and the connections it should make
    /// (none on established flows).
    fn rvs_phase(
        &mut self,
        plane: &PinnedPlane,
        director: u32,
        drive: &Drive<'_>,
        method: Method,
    ) -> Result<PathResult> {
        let path = self.driver.phase(plane, director, drive, method)?;
        let created = path.director.as_ref().map_or(0, |d| d.created);
        check_created(drive, "connections", created, path.received)?;
        Ok(path)
    }
}

/// The slot of the real server of service `VIP:vport/proto` at `real:rport`, which must be
/// masqueraded.
fn masq_dest(plane: &PinnedPlane, vport: u16, proto: u8, rport: u16) -> Result<DestSlot> {
    let dest = plane.find_dest(vip(), vport, proto, real(), rport)?;
    if dest.dest.fwd != RVS_FWD_MASQ {
        bail!(
            "{}:{rport} of {}:{vport} has forwarding method {} in the data plane, not NAT",
            real(),
            vip(),
            dest.dest.fwd
        );
    }
    Ok(dest)
}
