/* Every map of the director, with its purpose. Maps are pinned by name under the instance's
 * directory so that a restarted daemon finds the same connection table and forwarding goes on. */
#ifndef RVS_MAPS_H
#define RVS_MAPS_H

#include "common.h"

#define PIN_BY_NAME __uint(pinning, LIBBPF_PIN_BY_NAME)

/* Virtual services by (address, port, protocol); updates replace whole elements. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RVS_MAX_SERVICES);
	__type(key, struct RvsSvcKey);
	__type(value, struct RvsSvc);
	PIN_BY_NAME;
} services SEC(".maps");

/* The mark classifier's rules, two banks of RVS_MAX_MARK_RULES: the daemon fills the bank not in
 * force, then switches `RvsConfig::mark_rules` to it with one store. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * RVS_MAX_MARK_RULES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsMarkRule);
	PIN_BY_NAME;
} mark_rules SEC(".maps");

/* Addresses that carry at least one virtual service. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RVS_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct RvsVip);
	PIN_BY_NAME;
} vips SEC(".maps");

/* Real servers by slot; the daemon writes fields with atomic stores through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RVS_MAX_DESTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsDest);
	PIN_BY_NAME;
} dests SEC(".maps");

/* Active/inactive connection counts per real server, changed with atomic adds. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RVS_MAX_DESTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsDestConns);
	PIN_BY_NAME;
} dest_conns SEC(".maps");

/* Next hops: MAC addresses and egress interfaces; an entry never changes once published. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RVS_MAX_NEIGHS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsNeigh);
	PIN_BY_NAME;
} neighs SEC(".maps");

/* Scheduling rings and destination lists of all services, as slot numbers. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RVS_POOL_SIZE);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
	PIN_BY_NAME;
} pool SEC(".maps");

/* Ring cursors, one cache line per service slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RVS_MAX_SERVICES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsSchedState);
	PIN_BY_NAME;
} sched SEC(".maps");

/* Transition tables, timeouts and knobs precomputed by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsConfig);
	PIN_BY_NAME;
} config SEC(".maps");

/* The connection table; the loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RVS_DEFAULT_CONN_MAX);
	__type(key, struct RvsConnKey);
	__type(value, struct RvsConn);
	PIN_BY_NAME;
} conns SEC(".maps");

/* Candidate keys for the expiry program, written by the daemon through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsExpireBatch);
	PIN_BY_NAME;
} expire SEC(".maps");

/* Connection entries received from the MASTER director for the sync install program, written
 * by the daemon through mmap (the program writes back what it did with them). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsSyncBatch);
	PIN_BY_NAME;
} sync_in SEC(".maps");

/* Least recently used entries the daemon offers for eviction when the table is full. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct RvsEvictRing);
	PIN_BY_NAME;
} evict SEC(".maps");

/* NAT replies: the reply's 5-tuple (real server to client) -> the connection's key. Written
 * with the connection, removed with it; a stale entry is detected and ignored. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RVS_DEFAULT_CONN_MAX);
	__type(key, struct RvsConnKey);
	__type(value, struct RvsConnKey);
	PIN_BY_NAME;
} nat_rev SEC(".maps");

/* lblc's cache: (service, destination address) -> the real server last chosen for it. The least
 * recently used entries make room for new ones (IPVS drops idle and excess entries too). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RVS_LBLC_ENTRIES);
	__type(key, struct RvsLblcKey);
	__type(value, struct RvsLblcEntry);
	PIN_BY_NAME;
} lblc SEC(".maps");

/* lblcr's sets: (service, destination address) -> the real servers that serve it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RVS_LBLC_ENTRIES);
	__type(key, struct RvsLblcKey);
	__type(value, struct RvsLblcrEntry);
	PIN_BY_NAME;
} lblcr SEC(".maps");

/* Traffic counters per service slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RVS_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct RvsCounters);
	PIN_BY_NAME;
} svc_stats SEC(".maps");

/* Traffic counters per real-server slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RVS_MAX_DESTS);
	__type(key, __u32);
	__type(value, struct RvsCounters);
	PIN_BY_NAME;
} dest_stats SEC(".maps");

/* What happened to each packet, by RvsStat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RVS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	PIN_BY_NAME;
} stats SEC(".maps");

#endif
