//! Types and constants shared by the BPF programs in `bpf/` and the Rust loader.
//!
//! This file is the one definition: `build.rs` runs cbindgen on it to generate `rvs_abi.h`, which
//! the C includes. Everything here is `#[repr(C)]` plain data; addresses and ports are kept in
//! network byte order exactly as they appear in packets, so the C never swaps bytes.
//!
//! Maps that the daemon changes while packets flow (`dests`, `dest_conns`, `neighs`, `config`,
//! `sched`, `pool`) are mmapable arrays: the daemon writes single aligned fields with atomic stores
//! and the program reads them with `READ_ONCE`, so no reader ever sees a torn value. The service
//! map is a hash whose updates replace whole elements (RCU), for the same reason.

/// Bumped whenever a layout below changes; a pinned set of maps with another version is not reused.
pub const RVS_ABI_VERSION: u32 = 11;

/// Service slots (indexes into `svc_stats` and `sched`).
pub const RVS_MAX_SERVICES: u32 = 4096;
/// Real-server slots across all services (indexes into `dests`, `dest_conns`, `dest_stats`).
pub const RVS_MAX_DESTS: u32 = 16384;
/// Neighbour slots (next-hop MAC addresses and egress interfaces).
pub const RVS_MAX_NEIGHS: u32 = 16384;
/// Entries of the pool holding every service's scheduling ring and destination list.
pub const RVS_POOL_SIZE: u32 = 1 << 20;
/// Longest destination list a least-connection scheduler scans.
pub const RVS_MAX_SVC_DESTS: u32 = 1024;
/// Connection keys the daemon hands the expiry program per run.
pub const RVS_EXPIRE_BATCH: u32 = 256;
/// Synchronised connection entries the daemon hands the sync install program per run.
pub const RVS_SYNC_BATCH: u32 = 64;
/// Distinct virtual addresses.
pub const RVS_MAX_VIPS: u32 = 4096;
/// Rules of the mark classifier, per bank (`mark_rules` holds two banks).
pub const RVS_MAX_MARK_RULES: u32 = 256;
/// Slots of the eviction ring (a power of two).
pub const RVS_EVICT_RING: u32 = 16384;
/// Candidates the daemon offers per sweep step (at most half the ring, so that a slot a CPU
/// has just claimed is never rewritten while it reads it).
pub const RVS_EVICT_OFFER: u32 = RVS_EVICT_RING / 2;
/// Candidates a new connection tries when the table is full before it is dropped.
pub const RVS_EVICT_TRIES: u32 = 8;
/// Default capacity of the connection table.
pub const RVS_DEFAULT_CONN_MAX: u32 = 1 << 20;
/// Width of the per-state tables (IPVS has 11 TCP states).
pub const RVS_TCP_STATES: usize = 16;
/// Value of `RvsConn::state` once an entry has been expired and its counts taken back.
pub const RVS_CONN_DEAD: u32 = 0xff;
/// `RvsConn::state` of a persistence template (listed as NONE, as IPVS lists them).
pub const RVS_TEMPLATE_STATE: u32 = 0xfe;
/// `RvsConn::state` of a template one of whose connections was established (a TCP connection
/// reached ESTABLISHED, a UDP one had a reply): IPVS's `IP_VS_CTPL_S_ASSURED`, listed as ASSURED.
pub const RVS_TEMPLATE_ASSURED: u32 = 0xfd;
/// The only state of a UDP connection.
pub const RVS_UDP_STATE: u32 = 0;

/// The state of a connection entry before its first packet (IPVS's `IP_VS_TCP_S_NONE`).
pub const RVS_TCP_STATE_NONE: u32 = 0;
/// IPVS's `IP_VS_TCP_S_ESTABLISHED` (which assures a connection's persistence template).
pub const RVS_TCP_STATE_ESTABLISHED: u32 = 1;

/// Rows of the TCP transition table, by the flag that decides the transition (IPVS checks RST,
/// then SYN, then FIN, then ACK); `RVS_TCP_ROW_NONE` is for segments with none of them.
pub const RVS_TCP_ROW_SYN: usize = 0;
/// FIN set (and not RST or SYN).
pub const RVS_TCP_ROW_FIN: usize = 1;
/// Only ACK among the four.
pub const RVS_TCP_ROW_ACK: usize = 2;
/// RST set.
pub const RVS_TCP_ROW_RST: usize = 3;
/// None of RST, SYN, FIN, ACK.
pub const RVS_TCP_ROW_NONE: usize = 4;
/// Number of rows.
pub const RVS_TCP_ROWS: usize = 5;

/// `RvsConfig::flags`: some service has masqueraded (NAT) real servers, so packets that match
/// no connection are also looked up as replies.
pub const RVS_CFG_F_NAT: u32 = 1;
/// `RvsConfig::flags`: NAT packets, once rewritten, are handed to the kernel's routing instead
/// of being forwarded with `bpf_fib_lookup` and a redirect. rvsd never sets it: it exists so
/// that `rvs bench nat` can measure the two ways against each other.
pub const RVS_CFG_F_NAT_KERNEL_ROUTE: u32 = 2;
/// `RvsConfig::flags`: IPVS's `expire_nodest_conn = 1`: a packet of a connection whose real
/// server left the service expires the connection at once and is scheduled anew.
pub const RVS_CFG_F_EXPIRE_NODEST_CONN: u32 = 4;
/// `RvsConfig::flags`: IPVS's `expire_quiescent_template = 1`: a persistence template whose
/// real server has weight 0 no longer holds; the client is scheduled anew.
pub const RVS_CFG_F_EXPIRE_QUIESCENT_TEMPLATE: u32 = 8;
/// `RvsConfig::flags`: some virtual address is in standby (`RVS_VIP_F_STANDBY`): packets to a
/// virtual address look it up first. Clear, the lookup costs nothing.
pub const RVS_CFG_F_STANDBY: u32 = 16;

/// `RvsConfig::tcp_reuse`: a SYN on an entry in this state never starts a new connection.
pub const RVS_REUSE_NEVER: u8 = 0;
/// A SYN on an entry in this state starts a new connection (rescheduled).
pub const RVS_REUSE_ALWAYS: u8 = 1;
/// Only when the connection's replies bypass the director (DR, TUN, local).
pub const RVS_REUSE_NOOUTPUT: u8 = 2;

/// Direction of the TCP transition table: which way the packet travels.
pub const RVS_DIR_INPUT: usize = 0;
/// Replies from a real server (NAT only).
pub const RVS_DIR_OUTPUT: usize = 1;
/// Client packets of a connection whose replies bypass the director (DR, TUN).
pub const RVS_DIR_INPUT_ONLY: usize = 2;

/// `RvsDest::flags`: the destination exists in a service (not deleted, not in the trash).
pub const RVS_DEST_F_AVAILABLE: u8 = 1;
/// `RvsDest::flags`: the upper connection threshold is reached.
pub const RVS_DEST_F_OVERLOAD: u8 = 2;

/// `RvsNeigh::flags`: the MAC address is resolved.
pub const RVS_NEIGH_F_VALID: u32 = 1;

/// `RvsVip::flags`: at least one service on this address listens on port 0 (all ports).
pub const RVS_VIP_F_PORT0: u32 = 1;
/// `RvsVip::flags`: a VRRP backup's address: packets to it are passed to the kernel, not
/// forwarded (the master forwards them).
pub const RVS_VIP_F_STANDBY: u32 = 2;

/// Forwarding methods, numbered as IPVS's `IP_VS_CONN_F_*` forwarding values.
pub const RVS_FWD_MASQ: u8 = 0;
/// The real server is the director itself.
pub const RVS_FWD_LOCAL: u8 = 1;
/// IP-in-IP tunnelling.
pub const RVS_FWD_TUNNEL: u8 = 2;
/// Direct routing: only the MAC addresses are rewritten.
pub const RVS_FWD_DROUTE: u8 = 3;

/// Tunnel encapsulations (`RvsDest::tun_type`), numbered as IPVS's `IP_VS_CONN_F_TUNNEL_TYPE_*`.
pub const RVS_TUN_IPIP: u8 = 0;
/// UDP + Generic UDP Encapsulation (GUE, variant 0) + the inner IPv4 packet.
pub const RVS_TUN_GUE: u8 = 1;
/// GRE + the inner IPv4 packet.
pub const RVS_TUN_GRE: u8 = 2;
/// `RvsDest::tun_flags`: compute the outer UDP (GUE) or GRE checksum (`--tun-csum`).
pub const RVS_TUN_F_CSUM: u8 = 1;
/// `RvsDest::tun_flags`: GUE remote checksum offload (`--tun-remcsum`).
pub const RVS_TUN_F_REMCSUM: u8 = 2;


/// The scheduler a service uses in the data plane.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RvsSched {
    /// The service has no destination the data plane can use: new connections are dropped.
    None = 0,
    /// A precomputed ring walked with an atomic cursor (rr, wrr).
    Ring = 1,
    /// Least connections: minimum `active * 256 + inactive`.
    Lc = 2,
    /// Weighted least connections: minimum overhead / weight.
    Wlc = 3,
    /// Shortest expected delay: minimum `(active + 1) / weight`.
    Sed = 4,
    /// Never queue: the first idle destination, else as `Sed`.
    Nq = 5,
    /// Weighted failover: the highest weight.
    Fo = 6,
    /// Weighted overflow: the highest weight among those with `active <= weight`.
    Ovf = 7,
    /// Source hashing: a 256-bucket table (in the ring's place) indexed by a hash of the source
    /// address (and port, `RVS_SVC_F_HASH_PORT`).
    Sh = 8,
    /// Destination hashing: the same table indexed by a hash of the destination address.
    Dh = 9,
    /// Maglev hashing: a 4093-position table (in the ring's place) indexed by SipHash-1-3 of
    /// the source address (and port, `RVS_SVC_F_HASH_PORT`) with the kernel's fixed key.
    Mh = 10,
    /// Weighted random power of two choices: two destinations drawn by weight, the one with
    /// the smaller overhead / weight wins.
    Twos = 11,
    /// Locality-based least connection: the real server cached for the destination address,
    /// while it is not overloaded, else the `Wlc` pick (which is cached).
    Lblc = 12,
    /// Locality-based least connection with replication: a set of real servers per destination
    /// address; the least loaded of the set while it is not overloaded, else the `Wlc` pick,
    /// which joins the set.
    Lblcr = 13,
}

/// Entries of the `lblc` cache (least recently used ones are evicted past it).
pub const RVS_LBLC_ENTRIES: u32 = 65536;
/// How long an unused `lblc` cache entry counts: IPVS's `lblc_expiration` default, 24 hours.
pub const RVS_LBLC_EXPIRATION_NS: u64 = 86_400_000_000_000;

/// Most real servers in one `lblcr` set (IPVS's sets are unbounded; beyond this, the one
/// added longest ago leaves when another joins).
pub const RVS_LBLCR_SET: usize = 8;

/// Value of the `lblcr` cache (keyed as `lblc`'s): the set of real servers of one destination
/// address, newest first as IPVS links them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsLblcrEntry {
    /// When the entry was last used (`CLOCK_MONOTONIC_COARSE`, ns).
    pub last_use_ns: u64,
    /// When a real server last joined the set (IPVS's `set.lastmod`).
    pub lastmod_ns: u64,
    /// Members in `dests` and `gens`.
    pub size: u32,
    /// Always zero.
    pub pad: u32,
    /// Destination slots, newest first.
    pub dests: [u32; RVS_LBLCR_SET],
    /// Their `RvsDest::generation` when they joined.
    pub gens: [u32; RVS_LBLCR_SET],
}

/// Key of the `lblc` cache: a service slot and a destination address (network order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsLblcKey {
    /// Service slot.
    pub svc: u32,
    /// Destination address of the packets, network order.
    pub daddr: u32,
}

/// Value of the `lblc` cache: the real server last chosen for the address.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsLblcEntry {
    /// When it was last used (`CLOCK_MONOTONIC_COARSE`, ns).
    pub last_use_ns: u64,
    /// Destination slot.
    pub dest: u32,
    /// `RvsDest::generation` when it was chosen.
    pub dest_gen: u32,
}

/// `RvsSvc::flags`: an unusable bucket sends the search around the table (`sh-fallback`,
/// `mh-fallback`).
pub const RVS_SVC_F_HASH_FALLBACK: u32 = 1;
/// `RvsSvc::flags`: the source port is hashed with the address (`sh-port`, `mh-port`).
pub const RVS_SVC_F_HASH_PORT: u32 = 2;
/// `RvsSvc::flags`: persistent service (`-p`): a client (its address under `netmask`) keeps
/// its real server through a template entry while it opens connections within `timeout_s`.
pub const RVS_SVC_F_PERSISTENT: u32 = 8;
/// `RvsSvc::flags`: the service listens on all ports (port 0): its templates have port 0.
pub const RVS_SVC_F_ANY_PORT: u32 = 16;
/// `RvsSvc::flags`: a firewall-mark service (`-f`): its key is `{ addr: mark (network order),
/// port: 0, proto: 0 }`, the classifier's marks lead to it, and its templates are keyed by the
/// mark as IPVS keys them (`IPPROTO_IP`, virtual address = the mark, ports 0).
pub const RVS_SVC_F_FWMARK: u32 = 32;
/// `RvsSvc::flags`: one-packet scheduling (`-o`): every UDP datagram is scheduled on its own
/// and leaves no connection entry, as IPVS's `IP_VS_CONN_F_ONE_PACKET` connections.
pub const RVS_SVC_F_ONE_PACKET: u32 = 4;

/// Key of the `services` hash: a virtual address, port and protocol.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RvsSvcKey {
    /// Virtual IPv4 address, network order.
    pub addr: u32,
    /// Virtual port, network order (0 for an all-ports service).
    pub port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Always zero.
    pub pad: u8,
}

/// Value of the `services` hash. Replaced whole on every change.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsSvc {
    /// Service slot: index into `svc_stats` and `sched`.
    pub slot: u32,
    /// An `RvsSched` value.
    pub sched: u32,
    /// `RVS_SVC_F_*` bits.
    pub flags: u32,
    /// Start of the scheduling ring in `pool` (ring schedulers).
    pub ring_off: u32,
    /// Length of the ring; 0 means no destination is available.
    pub ring_len: u32,
    /// Start of the destination list in `pool`, in IPVS's order (newest first).
    pub list_off: u32,
    /// Length of the destination list.
    pub list_len: u32,
    /// Persistence timeout in seconds (`-p`; with `RVS_SVC_F_PERSISTENT`).
    pub timeout_s: u32,
    /// Persistence granularity (`-M`), network order: client addresses that agree under this
    /// mask share a template.
    pub netmask: u32,
    /// How a connection finds its template again (`RVS_TMPL_*`), copied into each
    /// connection made through one.
    pub tmpl: u32,
    /// The firewall mark of a `RVS_SVC_F_FWMARK` service (host order), else 0.
    pub mark: u32,
}

/// A rule of rvs's mark classifier (`mark_rules`): packets of a new connection to `addr` under
/// `mask`, with protocol `proto` (0: TCP or UDP) and a destination port in `port_lo..=port_hi`,
/// belong to the firewall-mark service `mark`. XDP runs before netfilter, so the marks iptables
/// or nftables set are not seen: this is where rvs's marks come from. The first match wins.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsMarkRule {
    /// Destination network, network order, already masked.
    pub addr: u32,
    /// Destination netmask, network order.
    pub mask: u32,
    /// Lowest destination port, host order.
    pub port_lo: u16,
    /// Highest destination port, host order.
    pub port_hi: u16,
    /// IP protocol number, or 0 for both TCP and UDP.
    pub proto: u8,
    /// Always zero.
    pub pad: [u8; 3],
    /// The mark (host order, never 0).
    pub mark: u32,
}

/// `RvsConfig::mark_rules`: the number of rules in force (low 16 bits) …
pub const RVS_MARK_RULES_LEN: u32 = 0xffff;
/// … and which bank of `mark_rules` holds them (this bit set: the second, at
/// `RVS_MAX_MARK_RULES`). The daemon fills the other bank, then switches with one store.
pub const RVS_MARK_RULES_BANK: u32 = 0x10000;

/// `RvsSvc::tmpl`, `RvsConn::tmpl`: the netmask's prefix length (0 to 32).
pub const RVS_TMPL_PREFIX: u8 = 0x3f;
/// `RvsSvc::tmpl`, `RvsConn::tmpl`: the template's port is 0 (an all-ports service).
pub const RVS_TMPL_ANY_PORT: u8 = 0x40;
/// `RvsSvc::tmpl`, `RvsConn::tmpl`: the fields above are set (the netmask is a prefix); a
/// connection then finds its template from its own key, whatever its service became since.
pub const RVS_TMPL_VALID: u8 = 0x80;

/// A real server of one service (`dests`, mmapable, indexed by destination slot).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsDest {
    /// Real server IPv4 address, network order.
    pub addr: u32,
    /// Real server port, network order.
    pub port: u16,
    /// Forwarding method, an `RVS_FWD_*` value.
    pub fwd: u8,
    /// `RVS_DEST_F_*` bits.
    pub flags: u8,
    /// Scheduling weight; 0 quiesces the server (no new connections).
    pub weight: i32,
    /// Bumped each time the slot is given to another destination.
    pub generation: u32,
    /// Neighbour slot holding the next hop's MAC address and egress interface.
    pub neigh: u32,
    /// Slot of the service this destination belongs to (for statistics).
    pub svc: u32,
    /// GUE destination port, network order (tunnels only).
    pub tun_port: u16,
    /// `RVS_TUN_*` (tunnels only).
    pub tun_type: u8,
    /// `RVS_TUN_F_*` (tunnels only).
    pub tun_flags: u8,
    /// Upper connection threshold (`-x`), 0 for none: binding a connection that brings
    /// ActiveConn + InActConn to it overloads the destination (`RvsDestConns::overload`).
    pub u_threshold: u32,
    /// Lower connection threshold (`-y`), 0 for none: unbinding one below it ends the overload
    /// (below 3/4 of the upper threshold when there is no lower one).
    pub l_threshold: u32,
    /// Always zero.
    pub pad: u32,
}

/// Connection counts of a destination (`dest_conns`, mmapable), changed with atomic adds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsDestConns {
    /// Connections in an active state (ipvsadm's ActiveConn).
    pub active: i32,
    /// Connections in any other state (InActConn).
    pub inactive: i32,
    /// Persistence templates bound to this destination (PersistConn).
    pub persist: i32,
    /// 1 while the connection thresholds hold the destination overloaded (the kernel's
    /// `IP_VS_DEST_F_OVERLOAD` as `ip_vs_bind_dest`/`ip_vs_unbind_dest` set and clear it).
    pub overload: i32,
}

/// Where and how to send a frame to a next hop (`neighs`, mmapable).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsNeigh {
    /// The next hop's MAC address.
    pub dst_mac: [u8; 6],
    /// The egress interface's MAC address.
    pub src_mac: [u8; 6],
    /// Egress interface index.
    pub ifindex: u32,
    /// `RVS_NEIGH_F_*` bits.
    pub flags: u32,
    /// The director's address on the egress interface, network order: the outer source of
    /// tunnelled packets.
    pub src_ip: u32,
    /// MTU of the egress interface (tunnelled packets that would exceed it are refused with
    /// ICMP "fragmentation needed", as IPVS does).
    pub mtu: u32,
    /// Always zero.
    pub pad: u32,
}

/// A virtual address (`vips` hash, keyed by the address in network order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsVip {
    /// `RVS_VIP_F_*` bits.
    pub flags: u32,
    /// Number of services on the address.
    pub services: u32,
}

/// Scheduling state of a service (`sched`, mmapable), one cache line each.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsSchedState {
    /// Ring cursor, advanced with an atomic fetch-and-add per new connection.
    pub cursor: u64,
    /// Keeps services on separate cache lines.
    pub pad: [u64; 7],
}

/// Key of the connection table: the client's 5-tuple as the director receives it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RvsConnKey {
    /// Client address, network order.
    pub saddr: u32,
    /// Virtual address, network order.
    pub daddr: u32,
    /// Client port, network order.
    pub sport: u16,
    /// Virtual port, network order.
    pub dport: u16,
    /// IP protocol number.
    pub proto: u8,
    /// `RVS_KEY_CONN` or `RVS_KEY_TEMPLATE`.
    pub kind: u8,
    /// Always zero.
    pub pad: [u8; 2],
}

/// `RvsConnKey::kind` of a connection: the client's address and port to a virtual address
/// and port.
pub const RVS_KEY_CONN: u8 = 0;
/// `RvsConnKey::kind` of a persistence template (IPVS's `IP_VS_CONN_F_TEMPLATE`): the client's
/// network (address under the service's netmask), port 0, the virtual address and port (0 for
/// an all-ports service). Its `RvsConn::flags` counts the connections it controls.
pub const RVS_KEY_TEMPLATE: u8 = 1;
/// `RvsConn::flags` of a connection scheduled through a persistence template.
pub const RVS_CONN_F_CONTROLLED: u32 = 1;
/// `RvsConn::flags` of a connection whose template is a firewall-mark service's: its mark is
/// found again by classifying the connection's key (the classifier is a function of it).
pub const RVS_CONN_F_FWMARK: u32 = 2;

/// A connection entry (value of the `conns` hash).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsConn {
    /// Coarse monotonic time of the last packet (`CLOCK_MONOTONIC_COARSE`, ns).
    pub last_seen_ns: u64,
    /// Protocol state (`TcpState` numbering, `RVS_UDP_STATE`), or `RVS_CONN_DEAD`. Changed only
    /// with compare-and-swap, so that exactly one CPU accounts for each transition.
    pub state: u32,
    /// `RVS_CONN_F_*` for a connection; for a template, the number of connections it
    /// controls (IPVS's `n_control`), changed with atomic adds.
    pub flags: u32,
    /// Destination slot the connection is bound to.
    pub dest: u32,
    /// `RvsDest::generation` when the connection was bound.
    pub dest_gen: u32,
    /// The real server's address, network order (NAT: the translated destination, and the
    /// source of replies).
    pub daddr: u32,
    /// The real server's port, network order.
    pub dport: u16,
    /// Forwarding method at binding time.
    pub fwd: u8,
    /// For a connection made through a template: its service's `RvsSvc::tmpl` then.
    pub tmpl: u8,
}

/// Keys of connection entries that may have expired (`expire`, mmapable, one element): the
/// daemon finds candidates by reading the table in chunks, the `rvs_expire` program re-checks
/// each one and expires it with the packet path's own rules.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RvsExpireBatch {
    /// How many of `keys` are filled.
    pub count: u32,
    /// Always zero.
    pub pad: u32,
    /// The candidates.
    pub keys: [RvsConnKey; RVS_EXPIRE_BATCH as usize],
}

impl Default for RvsExpireBatch {
    fn default() -> Self {
        Self { count: 0, pad: 0, keys: [RvsConnKey::default(); RVS_EXPIRE_BATCH as usize] }
    }
}

/// A connection entry received from the MASTER director (IPVS's connection synchronisation),
/// for the `rvs_sync_install` program to install on this BACKUP director. The daemon decodes
/// the sync message and resolves the service and real server itself; the program builds the
/// same `RvsConn` the packet path would have built for that real server (`conn_fill`,
/// `sched_persist`): the real server's address, port and forwarding method are the slot's, as
/// IPVS's synchronised connections inherit the forwarding method of their destination.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsSyncEntry {
    /// The entry's key exactly as the packet path builds it: the client side 5-tuple
    /// (`RVS_KEY_CONN`), or a persistence template's key (`RVS_KEY_TEMPLATE`, as
    /// `template_key` makes it). `pad` is ignored (taken as zero).
    pub key: RvsConnKey,
    /// The state to install or move to: `TcpState` numbering for TCP, `RVS_UDP_STATE` for
    /// UDP, `RVS_TEMPLATE_STATE` or `RVS_TEMPLATE_ASSURED` for a template. Anything else is
    /// skipped.
    pub state: u32,
    /// `RVS_CONN_F_CONTROLLED` (and `RVS_CONN_F_FWMARK` for a firewall-mark service) for a
    /// connection made through a persistence template; 0 otherwise, and for templates (whose
    /// `RvsConn::flags` is the count of connections they control, which starts at 0).
    pub flags: u32,
    /// Destination slot of the real server, resolved by the daemon.
    pub dest: u32,
    /// The slot's `RvsDest::generation` the daemon read when it resolved it: an entry whose
    /// slot has moved on (or whose destination is not available) is skipped.
    pub dest_gen: u32,
    /// With `RVS_CONN_F_CONTROLLED`: its service's `RvsSvc::tmpl`, as the packet path copies it
    /// into a connection made through a template, so that the template is found again.
    pub tmpl: u8,
    /// Always zero.
    pub pad: [u8; 3],
}

/// A batch of synchronised entries for `rvs_sync_install` (`sync_in`, mmapable, one element).
/// The daemon fills `count` and `entries`; the program writes back what it did with them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RvsSyncBatch {
    /// How many of `entries` are filled.
    pub count: u32,
    /// Written by the program: entries inserted (new connections and templates).
    pub installed: u32,
    /// Written by the program: live entries refreshed (and moved to the received state).
    pub updated: u32,
    /// Written by the program: entries left alone (the live entry is DEAD, the destination
    /// slot moved on or is unavailable, or the entry is malformed).
    pub skipped: u32,
    /// Written by the program: entries not installed because the table is full.
    pub full: u32,
    /// Always zero.
    pub pad: u32,
    /// The entries, installed in order (templates before the connections they control).
    pub entries: [RvsSyncEntry; RVS_SYNC_BATCH as usize],
}

impl Default for RvsSyncBatch {
    fn default() -> Self {
        Self {
            count: 0,
            installed: 0,
            updated: 0,
            skipped: 0,
            full: 0,
            pad: 0,
            entries: [RvsSyncEntry::default(); RVS_SYNC_BATCH as usize],
        }
    }
}

/// An entry the daemon found least recently used, offered for eviction: it is evicted only if
/// its `last_seen_ns` is still the one the daemon read (untouched since).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsEvictCand {
    /// The entry's key.
    pub key: RvsConnKey,
    /// Its `RvsConn::last_seen_ns` when the daemon read it.
    pub last_seen_ns: u64,
}

/// Candidates for eviction when the connection table is full (`evict`, mmapable, one element).
/// The programs claim slots by compare-and-swap of `head` while `head < tail`; the daemon
/// discards what is left (moving `head` to `tail`), writes fresh candidates after `tail`, then
/// publishes them by storing the new `tail`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RvsEvictRing {
    /// Candidates claimed so far (the next slot is `head % RVS_EVICT_RING`).
    pub head: u64,
    /// Candidates published so far.
    pub tail: u64,
    /// The slots.
    pub cands: [RvsEvictCand; RVS_EVICT_RING as usize],
}

impl Default for RvsEvictRing {
    fn default() -> Self {
        Self { head: 0, tail: 0, cands: [RvsEvictCand::default(); RVS_EVICT_RING as usize] }
    }
}

/// Per-service and per-destination traffic counters (per-CPU arrays `svc_stats`, `dest_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RvsCounters {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets from clients.
    pub inpkts: u64,
    /// Packets from real servers (NAT replies).
    pub outpkts: u64,
    /// Bytes from clients (IP length, as IPVS counts).
    pub inbytes: u64,
    /// Bytes from real servers.
    pub outbytes: u64,
}

/// Run-time settings (`config`, mmapable, one element).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RvsConfig {
    /// `RVS_ABI_VERSION` of the program that created the maps.
    pub abi_version: u32,
    /// `RVS_CFG_F_*` bits.
    pub flags: u32,
    /// TCP transitions: `[direction][RVS_TCP_ROW_*][state] -> state`.
    pub tcp_next: [[[u8; RVS_TCP_STATES]; RVS_TCP_ROWS]; 3],
    /// What a SYN does to an existing entry in each state (`RVS_REUSE_*`), derived from IPVS's
    /// `conn_reuse_mode`.
    pub tcp_reuse: [u8; RVS_TCP_STATES],
    /// 1 where a TCP state counts as active (ActiveConn), else 0.
    pub tcp_active: [u8; RVS_TCP_STATES],
    /// Timeout of each TCP state, ns.
    pub tcp_timeout_ns: [u64; RVS_TCP_STATES],
    /// Timeout of UDP connections, ns.
    pub udp_timeout_ns: u64,
    /// The mark classifier's rules in force (`RVS_MARK_RULES_*`), changed with one atomic store.
    pub mark_rules: u32,
    /// Always zero.
    pub pad: u32,
}

impl Default for RvsConfig {
    fn default() -> Self {
        Self {
            abi_version: RVS_ABI_VERSION,
            flags: 0,
            tcp_next: [[[0; RVS_TCP_STATES]; RVS_TCP_ROWS]; 3],
            tcp_reuse: [0; RVS_TCP_STATES],
            tcp_active: [0; RVS_TCP_STATES],
            tcp_timeout_ns: [0; RVS_TCP_STATES],
            udp_timeout_ns: 0,
            mark_rules: 0,
            pad: 0,
        }
    }
}

/// Named per-CPU counters of what the program did with each packet (`stats`).
///
/// Every pass for a reason and every drop has its own counter; see [`RvsStat::name`].
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RvsStat {
    /// Frames seen by the director program.
    RxFrames = 0,
    /// Passed: shorter than an Ethernet header.
    PassShortEth,
    /// Passed: not IPv4 (ARP, IPv6, VLAN …).
    PassNotIpv4,
    /// Passed: IPv4 header malformed (IHL < 5, past the frame, bad total length, not version 4);
    /// the kernel drops these itself.
    PassIpMalformed,
    /// Passed: not TCP or UDP (ICMP, VRRP, …).
    PassNotTcpUdp,
    /// Passed: TCP/UDP to an address and port that is no virtual service.
    PassNotService,
    /// Passed: a fragment not addressed to a virtual address.
    PassFragment,
    /// Dropped: a fragment addressed to a virtual address (not reassembled yet).
    DropFragment,
    /// Dropped: IPv4 options in a packet to a virtual address.
    DropIpOptions,
    /// Passed: truncated or malformed TCP/UDP header not addressed to a virtual address.
    PassL4Malformed,
    /// Dropped: truncated or malformed TCP/UDP header addressed to a virtual address.
    DropL4Malformed,
    /// Dropped: TCP segment without SYN and without a connection entry.
    DropTcpNoConn,
    /// Dropped: the scheduler found no available destination.
    DropNoDest,
    /// Dropped: the connection table is full.
    DropConnTableFull,
    /// Dropped: the packet's connection was being removed by another CPU at that instant
    /// (killed, not yet deleted); only the CPU that killed an entry deletes it.
    DropConnDying,
    /// Dropped: the connection's destination was removed (IPVS's `expire_nodest_conn = 0`).
    DropDestUnavailable,
    /// Dropped: the next hop's MAC address is not resolved yet.
    DropNoNeigh,
    /// Dropped: forwarding method not supported by this data plane yet.
    DropFwdUnsupported,
    /// Passed to the local stack: the real server is the director itself.
    FwdLocal,
    /// Forwarded in DR mode back out of the receiving interface (`XDP_TX`).
    FwdDrTx,
    /// Forwarded in DR mode out of another interface (`bpf_redirect`).
    FwdDrRedirect,
    /// Encapsulated and sent back out of the receiving interface (`XDP_TX`).
    FwdTunTx,
    /// Encapsulated and sent out of another interface (`bpf_redirect`).
    FwdTunRedirect,
    /// Answered with ICMP "fragmentation needed": too big to encapsulate and DF set.
    IcmpFragNeeded,
    /// Dropped: too big to encapsulate without DF (the data plane does not fragment).
    DropTunTooBig,
    /// Dropped: the frame could not be grown or shrunk for encapsulation (driver headroom).
    DropTunAdjust,
    /// NAT: a request rewritten to its real server and sent on (`bpf_redirect`, `XDP_TX`).
    FwdNatIn,
    /// NAT: a reply rewritten back to the virtual address and sent on to the client.
    FwdNatOut,
    /// NAT: rewritten, then handed to the kernel to route (no route or neighbour in the FIB
    /// for `bpf_fib_lookup`, or too big for the egress MTU: the kernel answers with ICMP).
    PassNatKernelRoute,
    /// NAT: an ICMP error about a connection, translated (inner headers included).
    FwdNatIcmp,
    /// Passed: a packet from a real server matching no NAT connection.
    PassNatNoConn,
    /// Dropped: a NAT request whose TTL would expire at the director.
    DropTtlExceeded,
    /// Connection entries created.
    ConnCreated,
    /// Persistence templates created (a client's first connection, or its template was
    /// expired or its real server gone).
    TemplateCreated,
    /// UDP datagrams of one-packet (`-o`) services, each scheduled on its own, no entry kept.
    ConnOnePacket,
    /// Connection entries replaced by a new connection reusing the same ports.
    ConnReused,
    /// Connection entries expired by a packet arriving after the timeout.
    ConnExpiredInline,
    /// Connection entries expired by the daemon's periodic sweep.
    ConnExpiredSweep,
    /// Connection entries expired because their real server left (`expire_nodest_conn`).
    ConnExpiredNodest,
    /// New connections the mark classifier gave to a firewall-mark service.
    SvcByMark,
    /// Least recently used entries evicted to make room for a new connection (table full).
    ConnEvicted,
    /// Synchronised entries (from the MASTER director) installed as new entries.
    SyncInstalled,
    /// Synchronised entries that refreshed a live entry (and moved it to the received state).
    SyncUpdated,
    /// Synchronised entries left alone: the live entry is DEAD (being deleted), or the entry
    /// is malformed.
    SyncSkipped,
    /// Synchronised entries whose destination slot moved on (another generation) or is not
    /// available: not installed.
    SyncNoDest,
    /// Synchronised entries not installed because the connection table is full.
    SyncFull,
    /// Packets to a virtual address in standby (a VRRP backup's), passed to the kernel.
    PassStandby,
    /// Number of counters (not a counter).
    Max,
}

impl RvsStat {
    /// Every counter, in index order.
    pub const ALL: [RvsStat; RvsStat::Max as usize] = [
        RvsStat::RxFrames,
        RvsStat::PassShortEth,
        RvsStat::PassNotIpv4,
        RvsStat::PassIpMalformed,
        RvsStat::PassNotTcpUdp,
        RvsStat::PassNotService,
        RvsStat::PassFragment,
        RvsStat::DropFragment,
        RvsStat::DropIpOptions,
        RvsStat::PassL4Malformed,
        RvsStat::DropL4Malformed,
        RvsStat::DropTcpNoConn,
        RvsStat::DropNoDest,
        RvsStat::DropConnTableFull,
        RvsStat::DropConnDying,
        RvsStat::DropDestUnavailable,
        RvsStat::DropNoNeigh,
        RvsStat::DropFwdUnsupported,
        RvsStat::FwdLocal,
        RvsStat::FwdDrTx,
        RvsStat::FwdDrRedirect,
        RvsStat::FwdTunTx,
        RvsStat::FwdTunRedirect,
        RvsStat::IcmpFragNeeded,
        RvsStat::DropTunTooBig,
        RvsStat::DropTunAdjust,
        RvsStat::FwdNatIn,
        RvsStat::FwdNatOut,
        RvsStat::PassNatKernelRoute,
        RvsStat::FwdNatIcmp,
        RvsStat::PassNatNoConn,
        RvsStat::DropTtlExceeded,
        RvsStat::ConnCreated,
        RvsStat::TemplateCreated,
        RvsStat::ConnOnePacket,
        RvsStat::ConnReused,
        RvsStat::ConnExpiredInline,
        RvsStat::ConnExpiredSweep,
        RvsStat::ConnExpiredNodest,
        RvsStat::SvcByMark,
        RvsStat::ConnEvicted,
        RvsStat::SyncInstalled,
        RvsStat::SyncUpdated,
        RvsStat::SyncSkipped,
        RvsStat::SyncNoDest,
        RvsStat::SyncFull,
        RvsStat::PassStandby,
    ];

    /// The counter's name as operators see it (`rvs stats`, metrics).
    pub const fn name(self) -> &'static str {
        match self {
            RvsStat::RxFrames => "rx_frames",
            RvsStat::PassShortEth => "pass_short_eth",
            RvsStat::PassNotIpv4 => "pass_not_ipv4",
            RvsStat::PassIpMalformed => "pass_ip_malformed",
            RvsStat::PassNotTcpUdp => "pass_not_tcp_udp",
            RvsStat::PassNotService => "pass_not_service",
            RvsStat::PassFragment => "pass_fragment",
            RvsStat::DropFragment => "drop_fragment",
            RvsStat::DropIpOptions => "drop_ip_options",
            RvsStat::PassL4Malformed => "pass_l4_malformed",
            RvsStat::DropL4Malformed => "drop_l4_malformed",
            RvsStat::DropTcpNoConn => "drop_tcp_no_conn",
            RvsStat::DropNoDest => "drop_no_dest",
            RvsStat::DropConnTableFull => "drop_conn_table_full",
            RvsStat::DropConnDying => "drop_conn_dying",
            RvsStat::DropDestUnavailable => "drop_dest_unavailable",
            RvsStat::DropNoNeigh => "drop_no_neigh",
            RvsStat::DropFwdUnsupported => "drop_fwd_unsupported",
            RvsStat::FwdLocal => "fwd_local",
            RvsStat::FwdDrTx => "fwd_dr_tx",
            RvsStat::FwdDrRedirect => "fwd_dr_redirect",
            RvsStat::FwdTunTx => "fwd_tun_tx",
            RvsStat::FwdTunRedirect => "fwd_tun_redirect",
            RvsStat::IcmpFragNeeded => "icmp_frag_needed",
            RvsStat::DropTunTooBig => "drop_tun_too_big",
            RvsStat::DropTunAdjust => "drop_tun_adjust",
            RvsStat::FwdNatIn => "fwd_nat_in",
            RvsStat::FwdNatOut => "fwd_nat_out",
            RvsStat::PassNatKernelRoute => "pass_nat_kernel_route",
            RvsStat::FwdNatIcmp => "fwd_nat_icmp",
            RvsStat::PassNatNoConn => "pass_nat_no_conn",
            RvsStat::DropTtlExceeded => "drop_ttl_exceeded",
            RvsStat::ConnCreated => "conn_created",
            RvsStat::TemplateCreated => "template_created",
            RvsStat::ConnOnePacket => "conn_one_packet",
            RvsStat::ConnReused => "conn_reused",
            RvsStat::ConnExpiredInline => "conn_expired_inline",
            RvsStat::ConnExpiredSweep => "conn_expired_sweep",
            RvsStat::ConnExpiredNodest => "conn_expired_nodest",
            RvsStat::SvcByMark => "svc_by_mark",
            RvsStat::ConnEvicted => "conn_evicted",
            RvsStat::SyncInstalled => "sync_installed",
            RvsStat::SyncUpdated => "sync_updated",
            RvsStat::SyncSkipped => "sync_skipped",
            RvsStat::SyncNoDest => "sync_no_dest",
            RvsStat::SyncFull => "sync_full",
            RvsStat::PassStandby => "pass_standby",
            RvsStat::Max => "max",
        }
    }
}

// The layouts are part of the contract with the C: pin their sizes so that an accidental change
// fails the build instead of corrupting maps that outlive the daemon.
const _: () = {
    assert!(core::mem::size_of::<RvsSvcKey>() == 8);
    assert!(core::mem::size_of::<RvsSvc>() == 44);
    assert!(core::mem::size_of::<RvsMarkRule>() == 20);
    assert!(core::mem::size_of::<RvsDest>() == 40);
    assert!(core::mem::size_of::<RvsDestConns>() == 16);
    assert!(core::mem::size_of::<RvsNeigh>() == 32);
    assert!(core::mem::size_of::<RvsSchedState>() == 64);
    assert!(core::mem::size_of::<RvsConnKey>() == 16);
    assert!(core::mem::size_of::<RvsConn>() == 32);
    assert!(core::mem::size_of::<RvsCounters>() == 40);
    assert!(core::mem::size_of::<RvsSyncEntry>() == 36);
    assert!(core::mem::size_of::<RvsSyncBatch>() == 24 + 36 * RVS_SYNC_BATCH as usize);
    // The daemon changes tun_port, tun_type and tun_flags with one aligned 32-bit store.
    assert!(core::mem::offset_of!(RvsDest, tun_port) % 4 == 0);
    assert!(core::mem::offset_of!(RvsDest, tun_type) == core::mem::offset_of!(RvsDest, tun_port) + 2);
    assert!(core::mem::offset_of!(RvsDest, tun_flags) == core::mem::offset_of!(RvsDest, tun_port) + 3);
};

// SAFETY (for all impls below): plain `#[repr(C)]` data without padding holes that matter and
// valid for any bit pattern, as aya requires of map keys and values.
unsafe impl aya::Pod for RvsSvcKey {}
unsafe impl aya::Pod for RvsSvc {}
unsafe impl aya::Pod for RvsVip {}
unsafe impl aya::Pod for RvsConnKey {}
unsafe impl aya::Pod for RvsConn {}
unsafe impl aya::Pod for RvsCounters {}
unsafe impl aya::Pod for RvsDest {}
unsafe impl aya::Pod for RvsDestConns {}
unsafe impl aya::Pod for RvsNeigh {}
unsafe impl aya::Pod for RvsSchedState {}
unsafe impl aya::Pod for RvsConfig {}
unsafe impl aya::Pod for RvsMarkRule {}
unsafe impl aya::Pod for RvsEvictRing {}
unsafe impl aya::Pod for RvsExpireBatch {}
unsafe impl aya::Pod for RvsSyncEntry {}
unsafe impl aya::Pod for RvsSyncBatch {}
