//! Types and constants shared by the real-server decapsulation program (`bpf/decap.c`) and Rust.
//!
//! This file is the one definition: `build.rs` runs cbindgen on it to generate `decap_abi.h`. It is
//! separate from the director's `abi.rs` because the two programs never share a map and are
//! installed on different hosts; each has its own ABI version.
//!
//! Addresses and ports are kept in network byte order exactly as they appear in packets.

/// Bumped whenever a layout below or a map definition in `bpf/decap_maps.h` changes: a pinned
/// install with another version is replaced whole instead of having its maps reused.
pub const RVS_DECAP_ABI_VERSION: u32 = 1;

/// Local tunnel endpoint addresses the program decapsulates for (`decap_addrs`).
pub const RVS_DECAP_MAX_ADDRS: u32 = 256;
/// UDP ports carrying GUE (`decap_ports`).
pub const RVS_DECAP_MAX_PORTS: u32 = 64;

/// `RvsDecapConfig::flags`: strip IPIP (IPv4 protocol 4).
pub const RVS_DECAP_F_IPIP: u32 = 1;
/// `RvsDecapConfig::flags`: strip GRE (IPv4 protocol 47) carrying IPv4.
pub const RVS_DECAP_F_GRE: u32 = 2;
/// `RvsDecapConfig::flags`: strip GUE on the ports of `decap_ports`.
pub const RVS_DECAP_F_GUE: u32 = 4;

/// `RvsDecapConfig::mode`: attached in native (driver) mode.
pub const RVS_DECAP_MODE_NATIVE: u32 = 1;
/// `RvsDecapConfig::mode`: attached in generic (skb) mode.
pub const RVS_DECAP_MODE_GENERIC: u32 = 2;

/// Length of `RvsDecapConfig::ifname` (the kernel's `IFNAMSIZ`).
pub const RVS_DECAP_IFNAMSIZ: usize = 16;

/// The install's settings (`decap_config`, an array of one element). The program reads only
/// `flags`; the rest records what was installed so that `rvs realserver status` can report it
/// after the installing process has exited.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RvsDecapConfig {
    /// `RVS_DECAP_ABI_VERSION` of the program that created the maps.
    pub abi_version: u32,
    /// `RVS_DECAP_F_*` bits: which encapsulations are stripped.
    pub flags: u32,
    /// Interface index the program was attached to (in the installer's network namespace).
    pub ifindex: u32,
    /// `RVS_DECAP_MODE_*`, or 0 before the program is attached.
    pub mode: u32,
    /// Interface name, NUL-padded.
    pub ifname: [u8; RVS_DECAP_IFNAMSIZ],
    /// Inode of the installer's network namespace (`/proc/thread-self/ns/net`): interface
    /// indexes only mean something within it.
    pub netns_ino: u64,
}

impl Default for RvsDecapConfig {
    fn default() -> Self {
        Self {
            abi_version: RVS_DECAP_ABI_VERSION,
            flags: 0,
            ifindex: 0,
            mode: 0,
            ifname: [0; RVS_DECAP_IFNAMSIZ],
            netns_ino: 0,
        }
    }
}

/// Named per-CPU counters of what the decapsulation program did with each frame
/// (`decap_stats`). Every frame is counted in `RxFrames` and in exactly one other counter.
///
/// The policy behind pass and drop: what the program does not fully understand goes to the kernel
/// untouched (the kernel validates it and counts its own errors, and a kernel tunnel device may
/// want it); only tunnel packets that fail a checksum the tunnel carries are dropped, as the
/// kernel's `fou` and `ip_gre` drop them, so that corruption never reaches the inner stack.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RvsDecapStat {
    /// Frames seen.
    RxFrames = 0,
    /// Passed: shorter than an Ethernet header (drivers never deliver these; not testable).
    PassShortEth,
    /// Passed: not IPv4 (ARP, IPv6, VLAN-tagged …).
    PassNotIpv4,
    /// Passed: outer IPv4 header malformed (cut short, IHL < 5, version, total length).
    PassIpMalformed,
    /// Passed: not addressed to a configured tunnel endpoint.
    PassNotLocal,
    /// Passed: to an endpoint, but not an enabled encapsulation (other protocols, UDP to a port
    /// that is not a GUE port).
    PassNotTunnel,
    /// Passed: a fragment of a tunnel packet (the kernel reassembles; XDP cannot).
    PassFragment,
    /// Passed: outer IPv4 header checksum wrong (the kernel drops it and counts it).
    PassIpChecksum,
    /// Passed: the UDP, GUE or GRE header is cut short or its lengths are inconsistent.
    PassTunnelMalformed,
    /// Passed: GRE with a key, sequence number, routing, another version or a payload that is not
    /// IPv4 (it may belong to a kernel GRE device).
    PassGreUnsupported,
    /// Passed: GUE control message, unknown version, flags or private flags, or a payload that
    /// is not IPv4.
    PassGueUnsupported,
    /// Passed: the inner IPv4 header is cut short, malformed, or longer than the tunnel carries.
    PassInnerMalformed,
    /// Dropped: the GRE checksum is wrong.
    DropGreChecksum,
    /// Dropped: the UDP checksum of a GUE packet is wrong.
    DropUdpChecksum,
    /// Dropped: GUE remote checksum offload points outside the inner packet.
    DropRemcsum,
    /// Dropped: outer header Congestion Experienced on an inner packet that is not ECN-capable
    /// (RFC 6040, as the kernel's tunnels do).
    DropEcn,
    /// Dropped: the frame could not be shortened (`bpf_xdp_adjust_head` failed).
    DropAdjust,
    /// Decapsulated IPIP and passed the inner packet to the kernel.
    DecapIpip,
    /// Decapsulated GRE and passed the inner packet to the kernel.
    DecapGre,
    /// Decapsulated GUE and passed the inner packet to the kernel.
    DecapGue,
    /// Number of counters (not a counter).
    Max,
}

impl RvsDecapStat {
    /// Every counter, in index order.
    pub const ALL: [RvsDecapStat; RvsDecapStat::Max as usize] = [
        RvsDecapStat::RxFrames,
        RvsDecapStat::PassShortEth,
        RvsDecapStat::PassNotIpv4,
        RvsDecapStat::PassIpMalformed,
        RvsDecapStat::PassNotLocal,
        RvsDecapStat::PassNotTunnel,
        RvsDecapStat::PassFragment,
        RvsDecapStat::PassIpChecksum,
        RvsDecapStat::PassTunnelMalformed,
        RvsDecapStat::PassGreUnsupported,
        RvsDecapStat::PassGueUnsupported,
        RvsDecapStat::PassInnerMalformed,
        RvsDecapStat::DropGreChecksum,
        RvsDecapStat::DropUdpChecksum,
        RvsDecapStat::DropRemcsum,
        RvsDecapStat::DropEcn,
        RvsDecapStat::DropAdjust,
        RvsDecapStat::DecapIpip,
        RvsDecapStat::DecapGre,
        RvsDecapStat::DecapGue,
    ];

    /// The counter's name as operators see it (`rvs realserver status`, metrics).
    pub const fn name(self) -> &'static str {
        match self {
            RvsDecapStat::RxFrames => "rx_frames",
            RvsDecapStat::PassShortEth => "pass_short_eth",
            RvsDecapStat::PassNotIpv4 => "pass_not_ipv4",
            RvsDecapStat::PassIpMalformed => "pass_ip_malformed",
            RvsDecapStat::PassNotLocal => "pass_not_local",
            RvsDecapStat::PassNotTunnel => "pass_not_tunnel",
            RvsDecapStat::PassFragment => "pass_fragment",
            RvsDecapStat::PassIpChecksum => "pass_ip_checksum",
            RvsDecapStat::PassTunnelMalformed => "pass_tunnel_malformed",
            RvsDecapStat::PassGreUnsupported => "pass_gre_unsupported",
            RvsDecapStat::PassGueUnsupported => "pass_gue_unsupported",
            RvsDecapStat::PassInnerMalformed => "pass_inner_malformed",
            RvsDecapStat::DropGreChecksum => "drop_gre_checksum",
            RvsDecapStat::DropUdpChecksum => "drop_udp_checksum",
            RvsDecapStat::DropRemcsum => "drop_remcsum",
            RvsDecapStat::DropEcn => "drop_ecn",
            RvsDecapStat::DropAdjust => "drop_adjust",
            RvsDecapStat::DecapIpip => "decap_ipip",
            RvsDecapStat::DecapGre => "decap_gre",
            RvsDecapStat::DecapGue => "decap_gue",
            RvsDecapStat::Max => "max",
        }
    }
}

// The layout is part of the contract with the C and outlives the installing process (pinned):
// pin its size so that an accidental change fails the build.
const _: () = assert!(core::mem::size_of::<RvsDecapConfig>() == 40);

// SAFETY: plain `#[repr(C)]` data without padding, valid for any bit pattern, as aya requires of
// map values.
unsafe impl aya::Pod for RvsDecapConfig {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_counter_once_in_index_order() {
        for (i, stat) in RvsDecapStat::ALL.iter().enumerate() {
            assert_eq!(*stat as usize, i, "{}", stat.name());
        }
        assert_eq!(RvsDecapStat::ALL.len(), RvsDecapStat::Max as usize);
    }

    #[test]
    fn names_are_distinct_snake_case() {
        let mut names: Vec<&str> = RvsDecapStat::ALL.iter().map(|s| s.name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RvsDecapStat::ALL.len());
    }
}
