//! The director program in a `BPF_PROG_TEST_RUN` loop: one frame of an established flow, run
//! over and over with hot caches. That is the program's cost with nothing else on the CPU, the
//! figure the architecture notes quote, next to the live-traffic figures from `bpf_stats`.

use std::borrow::Cow;

use anyhow::{Context, Result, bail};
use aya::programs::{ProgramInfo, TestRun, TestRunOptions, Xdp, loaded_programs};
use aya_obj::programs::XdpAttachType;
use rvs_lab::Host;

use super::cpu;
use super::progstats;
use super::report::ProgramCost;
use super::traffic::XdpMd;

/// `XDP_TX`: what the director returns for a DR frame going back out of its interface.
const XDP_TX: u32 = 3;

/// What one loop measured.
pub struct LoopCost {
    /// Mean ns per run by the test run's own clock (`ktime` around the loop).
    pub test_run_ns: f64,
    /// `bpf_stats` over the loop (no runs counted when statistics are off).
    pub bpf_stats: ProgramCost,
}

/// Runs program `id` (the live director) `repeat` times on `frame`, as if received on
/// `interface` of `host`. Fails unless the program forwards the frame with `XDP_TX`: the flow
/// must be established.
pub fn established(
    host: &Host,
    interface: &str,
    id: u32,
    frame: &[u8],
    repeat: u32,
) -> Result<LoopCost> {
    let prog = Xdp::from_program_info(
        program_info(id)?,
        Cow::Borrowed("rvs_director"),
        XdpAttachType::Interface,
    )
    .context("opening the director program")?;
    let data_end = u32::try_from(frame.len()).context("frame too long")?;
    let before = progstats::read(id)?;
    let result = host.run_in(|| -> Result<_> {
        // The ingress interface decides between XDP_TX and a redirect, as on the wire.
        let ctx = XdpMd {
            data_end,
            ingress_ifindex: cpu::if_index(interface)?,
            ..XdpMd::default()
        }
        .bytes();
        let opts = TestRunOptions {
            data_in: Some(frame),
            ctx_in: Some(&ctx),
            repeat,
            ..TestRunOptions::new()
        };
        prog.test_run(opts)
            .context("BPF_PROG_TEST_RUN of the director")
    })??;
    if result.return_value != XDP_TX {
        bail!(
            "the director returned {} instead of XDP_TX for an established flow's frame",
            result.return_value
        );
    }
    let stats = progstats::read(id)?.since(&before);
    Ok(LoopCost {
        test_run_ns: result.duration.as_nanos() as f64,
        bpf_stats: ProgramCost {
            ns_per_packet: stats.ns_per_run(),
            runs: stats.run_count,
        },
    })
}

fn program_info(id: u32) -> Result<ProgramInfo> {
    for info in loaded_programs() {
        let info = info.context("listing BPF programs")?;
        if info.id() == id {
            return Ok(info);
        }
    }
    bail!("BPF program {id} is gone")
}
