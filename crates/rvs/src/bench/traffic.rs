//! The benchmark's own BPF programs: the generator, run with `BPF_PROG_TEST_RUN` in live-frames
//! mode from a thread in the client's namespace, and the sink on the real server.
//!
//! Live frames is the kernel's own traffic generator (`xdp-trafficgen`): the kernel builds
//! frames from the template in a page pool, runs the program on each, and transmits those it
//! returns with `XDP_TX` out of the interface named in the context, through that driver's
//! `ndo_xdp_xmit`. For a veth that hands the frames to the peer's NAPI ring, which only exists
//! while the peer has GRO on (or an XDP program). When the ring is full the frame is dropped
//! there, so the generator never waits for the path it measures.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use aya::maps::{Array, MapData, PerCpuArray};
use aya::programs::{TestRun, TestRunAttrs, TestRunOptions, Xdp, XdpMode};
use aya::{Ebpf, EbpfLoader};
use rvs_lab::Host;

use super::cpu;
use rvs_dataplane::bench_abi::{BenchGen, BenchSink};

/// `src/bench/bpf/bench.c` compiled by `src/bench/build.rs`.
static BENCH_OBJECT: &[u8] = rvs_dataplane::object::BENCH;

const PROG_GEN: &str = "rvs_bench_gen";
const PROG_SINK: &str = "rvs_bench_sink";

/// Frames per live-frames batch (the kernel's maximum is 256; xdp-trafficgen uses 64).
const BATCH: u32 = 64;
/// Frames of the first `BPF_PROG_TEST_RUN` call, which measures the generator's speed.
const FIRST_CALL: u64 = 1 << 18;
/// Filler before the frame in the test run's data, which the generator drops so that every
/// frame starts with this much more headroom than the kernel's 256 bytes (`BenchGen::lead`).
/// More than any tunnel header the director adds (20 bytes for ipip), and a whole cache line,
/// so that the frame keeps its alignment.
const LEAD: usize = 64;
/// Longest a later call may take: a call cannot be stopped half-way.
const MAX_CALL: Duration = Duration::from_secs(1);
/// Time left below which no further call is made.
const MIN_CALL: Duration = Duration::from_millis(50);

/// Frames for the next call: what fits in `left` (and in [`MAX_CALL`]) at the speed seen so far.
fn chunk_for(run: &GenRun, left: Duration) -> u64 {
    if run.frames == 0 || run.sending.is_zero() {
        return FIRST_CALL;
    }
    let rate = run.frames as f64 / run.sending.as_secs_f64();
    let frames = (rate * left.min(MAX_CALL).as_secs_f64()) as u64;
    frames.clamp(u64::from(BATCH), u64::from(u32::MAX))
}

/// `struct xdp_md` as `BPF_PROG_TEST_RUN` takes it in `ctx_in`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct XdpMd {
    /// Metadata length before the frame: 0.
    pub data: u32,
    /// The frame's length.
    pub data_end: u32,
    /// Always 0.
    pub data_meta: u32,
    /// The interface the frame "arrived" on, in the calling thread's namespace.
    pub ingress_ifindex: u32,
    /// Its receive queue: 0.
    pub rx_queue_index: u32,
    /// Always 0.
    pub egress_ifindex: u32,
}

impl XdpMd {
    /// The bytes `ctx_in` takes.
    pub fn bytes(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        let fields = [
            self.data,
            self.data_end,
            self.data_meta,
            self.ingress_ifindex,
            self.rx_queue_index,
            self.egress_ifindex,
        ];
        for (chunk, v) in out.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
        out
    }
}

/// Where and how long to generate.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Stop after this long.
    pub duration: Duration,
    /// Stop after this many frames.
    pub max_frames: u64,
    /// The CPU the generating thread runs on.
    pub cpu: usize,
    /// `None`: as fast as the generator goes. `Some(gap)`: at most one frame per `gap`, the
    /// `max_frames` flows from the first exactly once (a warm-up pass the path carries whole).
    pub pace: Option<Duration>,
    /// Stop once the sink has counted this many frames more than when the run began (checked
    /// between calls of at most [`RECEIVED_CALL`]: a few more may arrive): a new-flow phase
    /// that must not make more entries than a table holds, whatever the path's rate.
    pub max_received: Option<u64>,
}

/// Longest call when the frames received are counted between calls.
pub const RECEIVED_CALL: Duration = Duration::from_millis(50);
/// Runs per call of a paced generator (most of them send nothing).
const PACED_CALL: u32 = 1 << 18;

/// What one generator run did.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenRun {
    /// Frames the program transmitted (some may have been dropped at a full ring).
    pub frames: u64,
    /// Wall-clock time of the whole run, calls' set-up and tear-down included.
    pub elapsed: Duration,
    /// Time spent sending: the calls' own loops, by the kernel's clock.
    pub sending: Duration,
}

impl GenRun {
    /// Frames per second offered while sending.
    pub fn rate(&self) -> f64 {
        per_second(self.frames, self.sending)
    }

    /// Mean time per frame, ns.
    pub fn ns_per_frame(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            self.sending.as_nanos() as f64 / self.frames as f64
        }
    }
}

/// `n` per `elapsed`, 0 when nothing elapsed.
pub fn per_second(n: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// Which frames the sink counts (and drops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// IPv4 frames addressed to this address (the VIP: the direct path, nftables, DR).
    To(Ipv4Addr),
    /// IP-in-IP frames to `outer` (the real server) carrying a packet to `inner` (the VIP): what
    /// the director sends in TUN mode. The sink does not decapsulate; it checks both headers.
    Ipip {
        /// Outer destination.
        outer: Ipv4Addr,
        /// Inner destination.
        inner: Ipv4Addr,
    },
    /// TCP or UDP to this address and port: a NAT director's requests, rewritten to the real
    /// server's.
    ToPort(Ipv4Addr, u16),
    /// TCP or UDP from this address and port: a NAT director's replies, rewritten to come from
    /// the VIP and the service's port.
    FromPort(Ipv4Addr, u16),
}

impl Counted {
    /// The sink's configuration for these frames.
    pub fn sink(self) -> BenchSink {
        let be = |a: Ipv4Addr| u32::from_ne_bytes(a.octets());
        match self {
            Counted::To(daddr) => BenchSink {
                daddr: be(daddr),
                ..BenchSink::default()
            },
            Counted::Ipip { outer, inner } => BenchSink {
                daddr: be(outer),
                inner_daddr: be(inner),
                ..BenchSink::default()
            },
            Counted::ToPort(daddr, dport) => BenchSink {
                daddr: be(daddr),
                dport: dport.to_be(),
                ..BenchSink::default()
            },
            Counted::FromPort(saddr, sport) => BenchSink {
                saddr: be(saddr),
                sport: sport.to_be(),
                ..BenchSink::default()
            },
        }
    }
}

/// The loaded generator and sink, with their maps. Dropping it detaches the sink.
pub struct BenchPrograms {
    ebpf: Ebpf,
    gen_cfg: Array<MapData, BenchGen>,
    sink_cfg: Array<MapData, BenchSink>,
    sink_count: PerCpuArray<MapData, u64>,
}

impl BenchPrograms {
    /// Loads both programs.
    pub fn load() -> Result<Self> {
        let mut ebpf = EbpfLoader::new()
            .load(BENCH_OBJECT)
            .context("loading the benchmark's BPF object")?;
        for name in [PROG_GEN, PROG_SINK] {
            xdp(&mut ebpf, name)?
                .load()
                .with_context(|| format!("loading {name}"))?;
        }
        let gen_cfg = Array::try_from(take_map(&mut ebpf, "gen")?)?;
        let sink_cfg = Array::try_from(take_map(&mut ebpf, "sink_cfg")?)?;
        let sink_count = PerCpuArray::try_from(take_map(&mut ebpf, "sink_count")?)?;
        Ok(Self {
            ebpf,
            gen_cfg,
            sink_cfg,
            sink_count,
        })
    }

    /// Attaches the sink to `interface` of `host` in generic mode, counting `counted`.
    pub fn attach_sink(&mut self, host: &Host, interface: &str, counted: Counted) -> Result<()> {
        self.count(counted)?;
        let prog = xdp(&mut self.ebpf, PROG_SINK)?;
        host.run_in(|| prog.attach(interface, XdpMode::Skb).map(drop))?
            .with_context(|| format!("attaching the sink to {interface} of {}", host.name()))
    }

    /// Makes the sink count `counted` from now on (between phases: the element is not written
    /// atomically).
    pub fn count(&mut self, counted: Counted) -> Result<()> {
        self.sink_cfg
            .set(0, counted.sink(), 0)
            .context("configuring the sink")
    }

    /// The sink's program id (for its `bpf_stats`).
    pub fn sink_id(&mut self) -> Result<u32> {
        Ok(xdp(&mut self.ebpf, PROG_SINK)?
            .info()
            .context("reading the sink's info")?
            .id())
    }

    /// Frames the sink has counted so far, over all CPUs.
    pub fn sink_count(&self) -> Result<u64> {
        let values = self
            .sink_count
            .get(&0, 0)
            .context("reading the sink's counter")?;
        Ok(values.iter().sum())
    }

    /// Sends `template` out of `interface` of `host` as flows set by `generator`, until
    /// `limits` or `stop`.
    pub fn generate(
        &mut self,
        host: &Host,
        interface: &str,
        template: &[u8],
        generator: BenchGen,
        limits: Limits,
        stop: &AtomicBool,
    ) -> Result<GenRun> {
        let first = generator.next;
        let generator = match limits.pace {
            None => BenchGen {
                lead: LEAD as u32,
                ..generator
            },
            Some(gap) => BenchGen {
                lead: LEAD as u32,
                gap_ns: u64::try_from(gap.as_nanos()).unwrap_or(u64::MAX).max(1),
                last_ns: 0,
                end: first.saturating_add(limits.max_frames),
                ..generator
            },
        };
        self.gen_cfg
            .set(0, generator, 0)
            .context("configuring the generator")?;
        let mut data = vec![0u8; LEAD];
        data.extend_from_slice(template);
        let template = &data;
        let data_end = u32::try_from(template.len()).map_err(|_| anyhow!("template too long"))?;
        let received_before = self.sink_count()?;
        let (gen_cfg, sink_count) = (&self.gen_cfg, &self.sink_count);
        let received = || -> Result<u64> {
            let values = sink_count
                .get(&0, 0)
                .context("reading the sink's counter")?;
            Ok(values.iter().sum::<u64>().saturating_sub(received_before))
        };
        let prog: &Xdp = xdp(&mut self.ebpf, PROG_GEN)?;
        let run = host.run_in(|| -> Result<GenRun> {
            cpu::pin_current_thread(limits.cpu)?;
            let ifindex = cpu::if_index(interface)?;
            let ctx = XdpMd {
                data_end,
                ingress_ifindex: ifindex,
                ..XdpMd::default()
            }
            .bytes();
            let mut run = GenRun::default();
            let started = Instant::now();
            loop {
                let mut left = limits.duration.saturating_sub(started.elapsed());
                if run.frames >= limits.max_frames
                    || left < MIN_CALL
                    || stop.load(Ordering::Relaxed)
                    || limits.max_received.is_some_and(|max| received().is_ok_and(|n| n >= max))
                {
                    break;
                }
                if limits.max_received.is_some() {
                    left = left.min(RECEIVED_CALL);
                }
                // Paced, most runs send nothing: the frames sent are read back from the map.
                let runs = match limits.pace {
                    None => chunk_for(&run, left).min(limits.max_frames - run.frames) as u32,
                    Some(_) => PACED_CALL,
                };
                let opts = TestRunOptions {
                    data_in: Some(template),
                    ctx_in: Some(&ctx),
                    repeat: runs,
                    attrs: TestRunAttrs::new().xdp_live_frames(BATCH),
                    ..TestRunOptions::new()
                };
                let result = prog
                    .test_run(opts)
                    .context("BPF_PROG_TEST_RUN of the generator")?;
                run.frames = match limits.pace {
                    None => run.frames + u64::from(runs),
                    Some(_) => {
                        let next = gen_cfg.get(&0, 0).context("reading the generator")?.next;
                        next.saturating_sub(first)
                    }
                };
                // The kernel reports the mean time per run of the call's own loop, which
                // leaves out the call's set-up and tear-down (an RCU grace period, ~20 ms).
                run.sending += result.duration * runs;
            }
            run.elapsed = started.elapsed();
            Ok(run)
        })??;
        Ok(run)
    }
}

fn xdp<'a>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut Xdp> {
    ebpf.program_mut(name)
        .ok_or_else(|| anyhow!("program {name} missing from the benchmark's object"))?
        .try_into()
        .map_err(|e| anyhow!("program {name}: {e}"))
}

fn take_map(ebpf: &mut Ebpf, name: &str) -> Result<aya::maps::Map> {
    match ebpf.take_map(name) {
        Some(map) => Ok(map),
        None => bail!("map {name} missing from the benchmark's object"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bench::frames::{FlowEnd, Template, Traffic, flow_tuple};

    const T: Template = Template {
        src_mac: [2, 0, 0, 0, 0, 1],
        dst_mac: [2, 0, 0, 0, 0, 2],
        numbered: FlowEnd::Source,
        flow_base: Ipv4Addr::new(198, 18, 0, 0),
        service: Ipv4Addr::new(192, 168, 0, 100),
        service_port: 9,
    };

    /// The programs need root to load; `RVS_SKIP_ROOT_TESTS=1` skips these tests elsewhere.
    fn root_or_skip(test: &str) -> bool {
        if rvs_lab::is_root() {
            return true;
        }
        if std::env::var("RVS_SKIP_ROOT_TESTS").is_ok_and(|v| v == "1") {
            eprintln!("SKIPPED {test}: it needs root (RVS_SKIP_ROOT_TESTS=1)");
            return false;
        }
        panic!("{test} needs root; run as root or set RVS_SKIP_ROOT_TESTS=1 to skip it");
    }

    /// Runs a program once on `frame` (no live frames): its verdict and output frame.
    fn run_once(p: &mut BenchPrograms, name: &str, frame: &[u8]) -> (u32, Vec<u8>) {
        let mut out = vec![0u8; frame.len()];
        let prog = xdp(&mut p.ebpf, name).unwrap();
        let opts = TestRunOptions {
            data_in: Some(frame),
            data_out: Some(&mut out),
            ..TestRunOptions::new()
        };
        let result = prog.test_run(opts).unwrap();
        (result.return_value, out)
    }

    #[test]
    fn the_generator_writes_each_flow_into_whatever_the_page_held() {
        if !root_or_skip("the_generator_writes_each_flow_into_whatever_the_page_held") {
            return;
        }
        let mut p = BenchPrograms::load().unwrap();
        for traffic in [Traffic::Udp, Traffic::TcpSyn] {
            let template = T.frame(traffic);
            // A page the director already rewrote (MACs), as a recycled live-frames page is.
            let mut dirty = template.clone();
            dirty[0..12].fill(0xee);
            p.gen_cfg
                .set(0, T.generator(traffic, &template, 0x7ffe, 0x8001), 0)
                .unwrap();
            for index in [0x7ffe_u64, 0x7fff, 0x8000, 0] {
                let (verdict, out) = run_once(&mut p, PROG_GEN, &dirty);
                assert_eq!(verdict, 3, "XDP_TX");
                let (saddr, sport) = flow_tuple(T.flow_base, index);
                assert_eq!(
                    out,
                    T.frame_of(traffic, saddr, sport),
                    "{traffic:?} flow {index}"
                );
            }
            assert_eq!(
                p.gen_cfg.get(&0, 0).unwrap().next,
                1,
                "wrapped after flow 0x8000"
            );
        }
    }

    #[test]
    fn the_generator_drops_the_filler_before_the_frame() {
        if !root_or_skip("the_generator_drops_the_filler_before_the_frame") {
            return;
        }
        let mut p = BenchPrograms::load().unwrap();
        let template = T.frame(Traffic::Udp);
        let mut data = vec![0xee; LEAD];
        data.extend_from_slice(&template);
        let generator = BenchGen {
            lead: LEAD as u32,
            ..T.generator(Traffic::Udp, &template, 5, 0)
        };
        p.gen_cfg.set(0, generator, 0).unwrap();
        let mut out = vec![0u8; data.len()];
        let prog = xdp(&mut p.ebpf, PROG_GEN).unwrap();
        let result = prog
            .test_run(TestRunOptions {
                data_in: Some(&data),
                data_out: Some(&mut out),
                ..TestRunOptions::new()
            })
            .unwrap();
        assert_eq!(result.return_value, 3, "XDP_TX");
        let (saddr, sport) = flow_tuple(T.flow_base, 5);
        assert_eq!(
            &out[..result.data_size_out as usize],
            T.frame_of(Traffic::Udp, saddr, sport).as_slice()
        );
    }

    #[test]
    fn the_sink_counts_and_drops_only_frames_for_its_address() {
        if !root_or_skip("the_sink_counts_and_drops_only_frames_for_its_address") {
            return;
        }
        let mut p = BenchPrograms::load().unwrap();
        p.count(Counted::To(T.service)).unwrap();
        let before = p.sink_count().unwrap();
        let to_vip = T.frame(Traffic::Udp);
        assert_eq!(run_once(&mut p, PROG_SINK, &to_vip).0, 1, "XDP_DROP");
        let elsewhere = Template {
            service: Ipv4Addr::new(192, 168, 0, 11),
            ..T
        }
        .frame(Traffic::Udp);
        assert_eq!(run_once(&mut p, PROG_SINK, &elsewhere).0, 2, "XDP_PASS");
        let mut arp = to_vip.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(run_once(&mut p, PROG_SINK, &arp).0, 2, "XDP_PASS");
        assert_eq!(
            run_once(&mut p, PROG_SINK, &to_vip[..20]).0,
            2,
            "short frames pass"
        );
        assert_eq!(p.sink_count().unwrap() - before, 1);
    }

    /// `frame` (Ethernet + IPv4) encapsulated in IPv4 with `protocol` to `outer`, as a director
    /// in TUN mode sends it (the sink ignores the checksum and the source).
    fn encapsulated(frame: &[u8], protocol: u8, outer: Ipv4Addr) -> Vec<u8> {
        let inner = &frame[14..];
        let len = u16::try_from(20 + inner.len()).unwrap().to_be_bytes();
        let mut out = frame[..14].to_vec();
        out.extend_from_slice(&[0x45, 0, len[0], len[1], 0, 0, 0x40, 0, 64, protocol, 0, 0]);
        out.extend_from_slice(&[192, 168, 0, 200]);
        out.extend_from_slice(&outer.octets());
        out.extend_from_slice(inner);
        out
    }

    #[test]
    fn the_sink_counts_tunnelled_frames_by_both_headers() {
        if !root_or_skip("the_sink_counts_tunnelled_frames_by_both_headers") {
            return;
        }
        let real = Ipv4Addr::new(192, 168, 0, 11);
        let mut p = BenchPrograms::load().unwrap();
        p.count(Counted::Ipip {
            outer: real,
            inner: T.service,
        })
        .unwrap();
        let before = p.sink_count().unwrap();
        let to_vip = T.frame(Traffic::Udp);
        let tunnelled = encapsulated(&to_vip, 4, real);
        assert_eq!(run_once(&mut p, PROG_SINK, &tunnelled).0, 1, "XDP_DROP");
        let elsewhere = Template {
            service: Ipv4Addr::new(192, 168, 0, 12),
            ..T
        }
        .frame(Traffic::Udp);
        for (frame, what) in [
            (to_vip.clone(), "the inner packet alone"),
            (
                encapsulated(&elsewhere, 4, real),
                "another inner destination",
            ),
            (encapsulated(&to_vip, 47, real), "GRE"),
            (
                encapsulated(&to_vip, 4, T.service),
                "another outer destination",
            ),
            (tunnelled[..40].to_vec(), "a truncated inner header"),
        ] {
            assert_eq!(run_once(&mut p, PROG_SINK, &frame).0, 2, "{what} passes");
        }
        assert_eq!(p.sink_count().unwrap() - before, 1);
        // Back to plain frames: the tunnelled one no longer counts.
        p.count(Counted::To(T.service)).unwrap();
        assert_eq!(run_once(&mut p, PROG_SINK, &tunnelled).0, 2, "XDP_PASS");
        assert_eq!(run_once(&mut p, PROG_SINK, &to_vip).0, 1, "XDP_DROP");
    }

    #[test]
    fn the_generator_numbers_replies_on_their_destination() {
        if !root_or_skip("the_generator_numbers_replies_on_their_destination") {
            return;
        }
        let replies = Template {
            numbered: FlowEnd::Destination,
            service: Ipv4Addr::new(10, 0, 0, 100),
            service_port: 9009,
            ..T
        };
        let mut p = BenchPrograms::load().unwrap();
        let template = replies.frame(Traffic::Udp);
        p.gen_cfg
            .set(0, replies.generator(Traffic::Udp, &template, 0x8001, 0), 0)
            .unwrap();
        let (verdict, out) = run_once(&mut p, PROG_GEN, &template);
        assert_eq!(verdict, 3, "XDP_TX");
        let (daddr, dport) = flow_tuple(T.flow_base, 0x8001);
        assert_eq!(out, replies.frame_of(Traffic::Udp, daddr, dport));
        assert_eq!(&out[26..30], &[10, 0, 0, 100]);
    }

    #[test]
    fn a_paced_generator_sends_one_frame_per_gap_and_stops_at_its_end() {
        if !root_or_skip("a_paced_generator_sends_one_frame_per_gap_and_stops_at_its_end") {
            return;
        }
        let mut p = BenchPrograms::load().unwrap();
        let template = T.frame(Traffic::Udp);
        let paced = BenchGen {
            gap_ns: 3_600_000_000_000,
            end: 2,
            ..T.generator(Traffic::Udp, &template, 0, 0)
        };
        p.gen_cfg.set(0, paced, 0).unwrap();
        let verdicts: Vec<u32> = (0..3)
            .map(|_| run_once(&mut p, PROG_GEN, &template).0)
            .collect();
        assert_eq!(verdicts, [3, 1, 1], "one frame, then nothing within the gap");
        assert_eq!(p.gen_cfg.get(&0, 0).unwrap().next, 1);
        let unpaced = BenchGen {
            gap_ns: 0,
            ..p.gen_cfg.get(&0, 0).unwrap()
        };
        p.gen_cfg.set(0, unpaced, 0).unwrap();
        let verdicts: Vec<u32> = (0..3)
            .map(|_| run_once(&mut p, PROG_GEN, &template).0)
            .collect();
        assert_eq!(verdicts, [3, 1, 1], "flow 1, then the end");
        assert_eq!(p.gen_cfg.get(&0, 0).unwrap().next, 2);
    }

    #[test]
    fn the_sink_counts_nat_frames_by_address_and_port() {
        if !root_or_skip("the_sink_counts_nat_frames_by_address_and_port") {
            return;
        }
        let real = Ipv4Addr::new(10, 0, 0, 100);
        let mut p = BenchPrograms::load().unwrap();
        let request = Template {
            service: real,
            service_port: 9009,
            ..T
        };
        let reply = Template {
            numbered: FlowEnd::Destination,
            ..T
        };
        for (counted, hit, misses) in [
            (
                Counted::ToPort(real, 9009),
                request.frame(Traffic::Udp),
                [
                    Template {
                        service_port: 9,
                        ..request
                    }
                    .frame(Traffic::TcpSyn),
                    T.frame(Traffic::Udp),
                ],
            ),
            (
                Counted::FromPort(T.service, 9),
                reply.frame(Traffic::Udp),
                [
                    Template {
                        service_port: 8,
                        ..reply
                    }
                    .frame(Traffic::Udp),
                    Template {
                        service: real,
                        ..reply
                    }
                    .frame(Traffic::Udp),
                ],
            ),
        ] {
            p.count(counted).unwrap();
            let before = p.sink_count().unwrap();
            assert_eq!(run_once(&mut p, PROG_SINK, &hit).0, 1, "{counted:?}");
            assert_eq!(run_once(&mut p, PROG_SINK, &hit[..36]).0, 2, "truncated");
            for miss in misses {
                assert_eq!(run_once(&mut p, PROG_SINK, &miss).0, 2, "{counted:?}");
            }
            assert_eq!(p.sink_count().unwrap() - before, 1);
        }
    }

    #[test]
    fn sink_configurations_carry_addresses_in_network_order() {
        let real = Ipv4Addr::new(192, 168, 0, 11);
        let plain = Counted::To(T.service).sink();
        assert_eq!(plain.daddr.to_ne_bytes(), [192, 168, 0, 100]);
        assert_eq!(plain.inner_daddr, 0);
        let tun = Counted::Ipip {
            outer: real,
            inner: T.service,
        }
        .sink();
        assert_eq!(tun.daddr.to_ne_bytes(), [192, 168, 0, 11]);
        assert_eq!(tun.inner_daddr.to_ne_bytes(), [192, 168, 0, 100]);
        let nat = Counted::ToPort(real, 9009).sink();
        assert_eq!(
            (nat.daddr.to_ne_bytes(), nat.dport.to_ne_bytes(), nat.saddr),
            ([192, 168, 0, 11], [0x23, 0x31], 0)
        );
        let reply = Counted::FromPort(T.service, 9).sink();
        assert_eq!(
            (reply.saddr.to_ne_bytes(), reply.sport.to_ne_bytes()),
            ([192, 168, 0, 100], [0, 9])
        );
        assert_eq!((reply.daddr, reply.dport), (0, 0));
    }
}
