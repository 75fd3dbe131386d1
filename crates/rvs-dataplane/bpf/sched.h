/* Choosing a real server for a new connection.
 *
 * rr and wrr are precomputed by the daemon into a ring that reproduces IPVS's exact sequence; the
 * program only advances an atomic cursor. lc and wlc depend on live counts, so the program scans
 * the service's destination list in IPVS's order (newest first) with IPVS's comparisons. */
#ifndef RVS_SCHED_H
#define RVS_SCHED_H

#include "conn.h"

/* How many ring entries to try when the picked one became unusable since the ring was built. */
#define RING_TRIES 8

static __always_inline int dest_eligible(struct RvsDest *d)
{
	__u8 flags = READ_ONCE(d->flags);

	return (flags & RVS_DEST_F_AVAILABLE) && !(flags & RVS_DEST_F_OVERLOAD) &&
	       READ_ONCE(d->weight) > 0;
}

static __always_inline int sched_ring(struct RvsSvc *svc, __u32 *dest)
{
	struct RvsSchedState *st = bpf_map_lookup_elem(&sched, &svc->slot);
	int i;

	if (!st)
		return -1;
	/* The cursor counts pick attempts, failed ones included: the daemon recovers IPVS's
	 * scheduler state from it (a failed wrr pick changes that state too). */
	for (i = 0; i < RING_TRIES; i++) {
		__u64 n = __sync_fetch_and_add(&st->cursor, 1);
		__u32 idx, *slot;
		struct RvsDest *d;

		if (!svc->ring_len)
			return -1;
		idx = svc->ring_off + (__u32)(n % svc->ring_len);
		slot = bpf_map_lookup_elem(&pool, &idx);
		if (!slot)
			return -1;
		d = bpf_map_lookup_elem(&dests, slot);
		/* Only a ring older than a weight or availability change meets an unusable entry. */
		if (d && dest_eligible(d)) {
			*dest = *slot;
			return 0;
		}
	}
	return -1;
}

/* State of a least-connection scan, carried through bpf_loop. */
struct lc_scan {
	__u32 list_off;
	__u32 weighted;		/* wlc: compare overhead / weight */
	__u32 found;
	__u32 least;		/* slot of the best destination so far */
	__s64 least_overhead;
	__s64 least_weight;
};

static long lc_step(__u32 i, void *ctx)
{
	struct lc_scan *s = ctx;
	__u32 idx = s->list_off + i;
	struct RvsDestConns *dc;
	struct RvsDest *d;
	__u32 *slot, dest;
	__s64 overhead, weight;

	slot = bpf_map_lookup_elem(&pool, &idx);
	if (!slot)
		return 1;
	dest = *slot;
	d = bpf_map_lookup_elem(&dests, &dest);
	dc = bpf_map_lookup_elem(&dest_conns, &dest);
	if (!d || !dc || !dest_eligible(d))
		return 0;
	/* ip_vs_dest_conn_overhead(): activeconns * 256 + inactconns */
	overhead = ((__s64)READ_ONCE(dc->active) << 8) + READ_ONCE(dc->inactive);
	weight = READ_ONCE(d->weight);
	if (!s->found ||
	    (s->weighted ? s->least_overhead * weight > overhead * s->least_weight
			 : overhead < s->least_overhead)) {
		s->found = 1;
		s->least = dest;
		s->least_overhead = overhead;
		s->least_weight = weight;
	}
	return 0;
}

static __always_inline int sched_lc(struct RvsSvc *svc, __u32 *dest, int weighted)
{
	struct lc_scan s = { .list_off = svc->list_off, .weighted = weighted };
	__u32 n = svc->list_len;

	if (n > RVS_MAX_SVC_DESTS)
		n = RVS_MAX_SVC_DESTS;
	bpf_loop(n, lc_step, &s, 0);
	if (!s.found)
		return -1;
	*dest = s.least;
	return 0;
}

/* Pick a destination slot for a new connection; -1 when none is available. */
static __always_inline int schedule(struct RvsSvc *svc, __u32 *dest)
{
	switch (svc->sched) {
	case RVS_SCHED_RING:
		return sched_ring(svc, dest);
	case RVS_SCHED_LC:
		return sched_lc(svc, dest, 0);
	case RVS_SCHED_WLC:
		return sched_lc(svc, dest, 1);
	default:
		return -1;
	}
}

#endif
