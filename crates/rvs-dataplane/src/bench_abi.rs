//! Types and constants shared by the benchmark's BPF programs (`bpf/bench.c`) and `rvs bench`.
//!
//! This file is the one definition: `build.rs` runs cbindgen on it to generate `bench_abi.h`,
//! which the C includes.
//!
//! The generator numbers its flows: flow `i` comes from port
//! `BENCH_FLOW_PORT_BASE + i % BENCH_FLOW_PORTS` of address `flow_base + i / BENCH_FLOW_PORTS`
//! (or goes to that port and address, for a server's replies: `BENCH_FLOW_DST`).
//! `rvs::bench::frames::flow_tuple` is the same mapping in Rust, used to fill the
//! connection table with exactly the flows the generator will send.

/// Source ports per source address, a power of two so the program needs no division.
pub const BENCH_FLOW_PORT_BITS: u32 = 15;
/// `1 << BENCH_FLOW_PORT_BITS`.
pub const BENCH_FLOW_PORTS: u64 = 1 << BENCH_FLOW_PORT_BITS;
/// First source port (the upper half of the port space).
pub const BENCH_FLOW_PORT_BASE: u32 = 0x8000;

/// `BenchGen::l4`: the frame's L4 checksum is not patched (UDP sent without checksum).
pub const BENCH_L4_NONE: u32 = 0;
/// `BenchGen::l4`: a TCP frame; its checksum is patched for every frame.
pub const BENCH_L4_TCP: u32 = 1;

/// Byte offset of the IPv4 header in the template frame (untagged Ethernet).
pub const BENCH_IP_OFF: u32 = 14;
/// Byte offset of the L4 header (IPv4 without options).
pub const BENCH_L4_OFF: u32 = 34;
/// Byte offset of the TCP checksum.
pub const BENCH_TCP_CSUM_OFF: u32 = BENCH_L4_OFF + 16;
/// Shortest template the generator accepts: Ethernet + IPv4 + TCP.
pub const BENCH_FRAME_MIN: u32 = BENCH_L4_OFF + 20;
/// 8-byte words of the template's headers the generator writes into every frame.
pub const BENCH_HDR_WORDS: u32 = 7;

/// `BenchGen::flow_dst`: the flows are numbered on the source address and port (requests from
/// clients to a fixed service).
pub const BENCH_FLOW_SRC: u32 = 0;
/// `BenchGen::flow_dst`: the flows are numbered on the destination address and port (a server's
/// replies from its fixed address and port to the clients).
pub const BENCH_FLOW_DST: u32 = 1;

/// The generator's settings and position (`gen` array, one element). Written by the benchmark
/// between runs; `next` (and `last_ns` when pacing) are advanced by the program.
///
/// In live-frames mode the kernel copies the template into each page of its pool once, and a
/// recycled page comes back with whatever the path last wrote into it (the frame travels the
/// path in the same page: a director rewriting MAC addresses rewrites the generator's next
/// frame too). So the program writes the whole header, `header`, into every frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BenchGen {
    /// Index of the next flow to send.
    pub next: u64,
    /// Number of flows to cycle through (`next` wraps to 0 there); 0: never wrap, so that every
    /// frame is a new flow.
    pub flows: u64,
    /// Address of flow 0 (source or destination, as `flow_dst` says), host order.
    pub flow_base: u32,
    /// One's-complement sum of the template's IPv4 checksum field and the numbered address's
    /// words, each complemented: the checksum with that address taken out. Words are summed as
    /// they lie in memory (native-endian loads of network-order bytes), on both sides.
    pub ip_csum_base: u32,
    /// The same for the TCP checksum, with the numbered address and port taken out.
    pub l4_csum_base: u32,
    /// `BENCH_L4_*`: which L4 checksum to patch.
    pub l4: u32,
    /// The template's first `BENCH_HDR_WORDS * 8` bytes: Ethernet, IPv4 and L4 headers.
    pub header: [u64; 7],
    /// Bytes of filler before the frame in the test run's data, which the program drops with
    /// `bpf_xdp_adjust_head`: they become headroom. A frame starts with the kernel's
    /// `XDP_PACKET_HEADROOM` (256 bytes), which generic XDP demands of every frame it runs on;
    /// a director that encapsulates takes some of it, and without more the receiver's generic
    /// XDP would copy every tunnelled frame into a new buffer, a cost no real path pays.
    pub lead: u32,
    /// `BENCH_FLOW_SRC` or `BENCH_FLOW_DST`: which end of the frame carries the flow number.
    pub flow_dst: u32,
    /// 0: send a frame on every run. Otherwise pace: send at most one frame per `gap_ns`
    /// nanoseconds (`bpf_ktime_get_ns`), and drop the runs in between unsent (a warm-up pass
    /// that the path must carry without losing a frame at its entry ring).
    pub gap_ns: u64,
    /// When the paced generator last sent a frame (`bpf_ktime_get_ns`).
    pub last_ns: u64,
    /// 0: no end. Otherwise the program sends nothing more once `next` reaches it: one pass over
    /// flows `next..end`, however many runs the test run makes.
    pub end: u64,
}

/// What the sink counts (`sink_cfg` array, one element): IPv4 frames matching every field that
/// is not 0. Frames it counts it drops; every other frame (ARP, say) passes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BenchSink {
    /// IPv4 destination address, network order: the VIP for frames sent straight or by direct
    /// routing, the real server's address for tunnelled and NAT ones.
    pub daddr: u32,
    /// Count only IP-in-IP frames (`IPPROTO_IPIP`, outer header without options) whose inner
    /// destination is this address, network order: what a director sends in TUN mode (the sink
    /// does not decapsulate).
    pub inner_daddr: u32,
    /// IPv4 source address, network order: the VIP for a NAT director's replies.
    pub saddr: u32,
    /// TCP or UDP destination port, network order (a NAT director's requests), for a header
    /// without options.
    pub dport: u16,
    /// TCP or UDP source port, network order (a NAT director's replies).
    pub sport: u16,
}

const _: () = {
    assert!(core::mem::size_of::<BenchGen>() == 64 + 8 * BENCH_HDR_WORDS as usize);
    assert!(8 * BENCH_HDR_WORDS >= BENCH_FRAME_MIN);
    assert!(core::mem::size_of::<BenchSink>() == 16);
};

// SAFETY: plain `#[repr(C)]` data without padding, valid for any bit pattern, as aya requires of
// map values.
unsafe impl aya::Pod for BenchGen {}
// SAFETY: as above.
unsafe impl aya::Pod for BenchSink {}
