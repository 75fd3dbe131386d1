/* The real-server decapsulation program's includes, maps and counters.
 *
 * The maps are pinned by name in the install's directory: together with the pinned link they keep
 * decapsulation going after `rvs realserver up` has exited, and let `status` read what was
 * installed. The program shares nothing with the director's maps. */
#ifndef RVS_DECAP_MAPS_H
#define RVS_DECAP_MAPS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "decap_abi.h"

#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))

#define PIN_BY_NAME __uint(pinning, LIBBPF_PIN_BY_NAME)

/* Local tunnel endpoint addresses (network order); the value is reserved (0). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RVS_DECAP_MAX_ADDRS);
	__type(key, __u32);
	__type(value, __u32);
	PIN_BY_NAME;
} decap_addrs SEC(".maps");

/* UDP destination ports carrying GUE (network order); the value is reserved (0). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RVS_DECAP_MAX_PORTS);
	__type(key, __u16);
	__type(value, __u32);
	PIN_BY_NAME;
} decap_ports SEC(".maps");

/* Which encapsulations are stripped, and what was installed (for status). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct RvsDecapConfig);
	PIN_BY_NAME;
} decap_config SEC(".maps");

/* What happened to each frame, by RvsDecapStat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RVS_DECAP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	PIN_BY_NAME;
} decap_stats SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&decap_stats, &stat);

	if (v)
		*v += 1;
}

/* Count `stat` and hand the frame to the kernel. */
static __always_inline int pass(__u32 stat)
{
	count(stat);
	return XDP_PASS;
}

/* Count `stat` and drop the frame. */
static __always_inline int drop(__u32 stat)
{
	count(stat);
	return XDP_DROP;
}

/* The RvsDecapConfig flags, 0 when unset. */
static __always_inline __u32 decap_flags(void)
{
	__u32 zero = 0;
	struct RvsDecapConfig *cfg = bpf_map_lookup_elem(&decap_config, &zero);

	return cfg ? READ_ONCE(cfg->flags) : 0;
}

#endif
