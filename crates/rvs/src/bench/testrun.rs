//! The director program run by `BPF_PROG_TEST_RUN`: one frame of an established flow, run over
//! and over with hot caches. That is the program's cost with nothing else on the CPU, the
//! figure the architecture notes quote, next to the live-traffic figures from `bpf_stats`.

use std::borrow::Cow;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aya::programs::{ProgramInfo, TestRun, TestRunOptions, Xdp, loaded_programs};
use aya_obj::programs::XdpAttachType;
use rvs_lab::Host;

use super::cpu;
use super::progstats;
use super::report::ProgramCost;
use super::traffic::XdpMd;

/// `XDP_TX`: what the director returns for a frame going back out of its interface (DR or TUN).
const XDP_TX: u32 = 3;

/// What one loop measured.
pub struct LoopCost {
    /// Mean ns per run by the test run's own clock (`ktime` around the loop).
    pub test_run_ns: f64,
    /// `bpf_stats` over the loop (no runs counted when statistics are off).
    pub bpf_stats: ProgramCost,
    /// The frame the last run sent (readdressed for DR, encapsulated for TUN).
    pub out: Vec<u8>,
}

/// Room for the frame the program sends: the received one plus any tunnel header.
const OUT_ROOM: usize = 256;

/// How the program is run.
#[derive(Clone, Copy, Debug)]
pub enum Runs {
    /// One call that runs it this many times over the same buffer (the kernel's `repeat`): the
    /// tightest loop, but every run after the first gets what the previous one left in the
    /// buffer, which only a program that sends the packet on as it came can take (DR rewrites
    /// the MAC addresses only; TUN would get its own IP-in-IP packet back and pass it).
    Repeat(u32),
    /// This many calls of one run each, each on a fresh copy of the frame, for a program that
    /// changes the packet. Each run's time then also holds one read of the test run's clock.
    Calls(u32),
}

/// Runs program `id` (the live director) on `frame` as `runs` says, as if received on
/// `interface` of `host`. Fails unless the program forwards the frame with `XDP_TX` every
/// time: the flow must be established.
pub fn established(
    host: &Host,
    interface: &str,
    id: u32,
    frame: &[u8],
    runs: Runs,
) -> Result<LoopCost> {
    let prog = Xdp::from_program_info(
        program_info(id)?,
        Cow::Borrowed("rvs_director"),
        XdpAttachType::Interface,
    )
    .context("opening the director program")?;
    let data_end = u32::try_from(frame.len()).context("frame too long")?;
    let (calls, repeat) = match runs {
        Runs::Repeat(n) => (1, n),
        Runs::Calls(n) => (n, 1),
    };
    let before = progstats::read(id)?;
    let mut out = vec![0u8; frame.len() + OUT_ROOM];
    let (spent, out_len) = host.run_in(|| -> Result<_> {
        // The ingress interface decides between XDP_TX and a redirect, as on the wire.
        let ctx = XdpMd {
            data_end,
            ingress_ifindex: cpu::if_index(interface)?,
            ..XdpMd::default()
        }
        .bytes();
        let (mut spent, mut out_len) = (Duration::ZERO, 0);
        for _ in 0..calls {
            let opts = TestRunOptions {
                data_in: Some(frame),
                data_out: Some(&mut out),
                ctx_in: Some(&ctx),
                repeat,
                ..TestRunOptions::new()
            };
            let result = prog
                .test_run(opts)
                .context("BPF_PROG_TEST_RUN of the director")?;
            if result.return_value != XDP_TX {
                bail!(
                    "the director returned {} instead of XDP_TX for an established flow's frame",
                    result.return_value
                );
            }
            // The kernel reports the mean time of one run.
            spent += result.duration * repeat;
            out_len = result.data_size_out as usize;
        }
        Ok((spent, out_len))
    })??;
    let stats = progstats::read(id)?.since(&before);
    out.truncate(out_len);
    Ok(LoopCost {
        out,
        test_run_ns: spent.as_nanos() as f64 / (f64::from(calls) * f64::from(repeat)),
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
