/* Counting: named verdict counters and per-service / per-destination traffic. */
#ifndef RVS_STATS_H
#define RVS_STATS_H

#include "maps.h"

static __always_inline void count_n(__u32 stat, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	if (v)
		*v += n;
}

static __always_inline void count(__u32 stat)
{
	count_n(stat, 1);
}

/* Count `stat` and hand the packet to the kernel. */
static __always_inline int pass(__u32 stat)
{
	count(stat);
	return XDP_PASS;
}

/* Count `stat` and drop the packet. */
static __always_inline int drop(__u32 stat)
{
	count(stat);
	return XDP_DROP;
}

static __always_inline void counters_in(void *map, __u32 slot, __u64 bytes)
{
	struct RvsCounters *c = bpf_map_lookup_elem(map, &slot);

	if (c) {
		c->inpkts++;
		c->inbytes += bytes;
	}
}

static __always_inline void counters_out(void *map, __u32 slot, __u64 bytes)
{
	struct RvsCounters *c = bpf_map_lookup_elem(map, &slot);

	if (c) {
		c->outpkts++;
		c->outbytes += bytes;
	}
}

static __always_inline void counters_conn(void *map, __u32 slot)
{
	struct RvsCounters *c = bpf_map_lookup_elem(map, &slot);

	if (c)
		c->conns++;
}

#endif
