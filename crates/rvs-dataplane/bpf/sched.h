/* Choosing a real server for a new connection.
 *
 * rr and wrr are precomputed by the daemon into a ring that reproduces IPVS's exact sequence; the
 * program only advances an atomic cursor. lc, wlc, sed, nq, fo and ovf depend on live counts and
 * weights, so the program scans the service's destination list in IPVS's order (newest first)
 * with IPVS's comparisons. */
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

/* State of a scan over the service's destination list, carried through bpf_loop. */
struct scan {
	__u32 list_off;
	__u32 sched;		/* RVS_SCHED_LC ... RVS_SCHED_OVF */
	__u32 found;
	__u32 best;		/* slot of the best destination so far */
	__s64 best_overhead;
	__s64 best_weight;
};

/* Whether a destination with `overhead` and `weight` beats the best so far, by the rule of
 * scheduler `s->sched` (ip_vs_<name>_schedule). Every rule keeps the earlier destination on
 * ties, and none ever picks one with weight 0 (wlc and sed, which do not skip it, cannot pick
 * it either: `best * 0 > overhead * w` is false). */
static __always_inline int scan_better(struct scan *s, __s64 overhead, __s64 weight)
{
	if (!s->found)
		return 1;
	switch (s->sched) {
	case RVS_SCHED_LC:
		return overhead < s->best_overhead;
	case RVS_SCHED_FO:
	case RVS_SCHED_OVF:
		return weight > s->best_weight;
	default:	/* wlc, sed, nq: overhead / weight, cross-multiplied in 64 bits */
		return s->best_overhead * weight > overhead * s->best_weight;
	}
}

static long scan_step(__u32 i, void *ctx)
{
	struct scan *s = ctx;
	__u32 idx = s->list_off + i;
	struct RvsDestConns *dc;
	struct RvsDest *d;
	__u32 *slot, dest;
	__s64 overhead, weight, active;

	slot = bpf_map_lookup_elem(&pool, &idx);
	if (!slot)
		return 1;
	dest = *slot;
	d = bpf_map_lookup_elem(&dests, &dest);
	dc = bpf_map_lookup_elem(&dest_conns, &dest);
	if (!d || !dc || !dest_eligible(d))
		return 0;
	active = READ_ONCE(dc->active);
	weight = READ_ONCE(d->weight);
	switch (s->sched) {
	case RVS_SCHED_LC:
	case RVS_SCHED_WLC:
		/* ip_vs_dest_conn_overhead(): activeconns * 256 + inactconns */
		overhead = (active << 8) + READ_ONCE(dc->inactive);
		break;
	case RVS_SCHED_OVF:
		if (active > weight)
			return 0;
		overhead = 0;
		break;
	default:	/* sed, nq: the expected delay counts active connections only */
		overhead = active + 1;
		break;
	}
	if (scan_better(s, overhead, weight)) {
		s->found = 1;
		s->best = dest;
		s->best_overhead = overhead;
		s->best_weight = weight;
	}
	/* nq sends to an idle destination at once. */
	if (s->sched == RVS_SCHED_NQ && active == 0) {
		s->found = 1;
		s->best = dest;
		return 1;
	}
	return 0;
}

/* The schedulers that read live counts and weights: the list in IPVS's order (newest first),
 * IPVS's comparisons. */
static __always_inline int sched_scan(struct RvsSvc *svc, __u32 *dest)
{
	struct scan s = { .list_off = svc->list_off, .sched = svc->sched };
	__u32 n = svc->list_len;

	if (n > RVS_MAX_SVC_DESTS)
		n = RVS_MAX_SVC_DESTS;
	bpf_loop(n, scan_step, &s, 0);
	if (!s.found)
		return -1;
	*dest = s.best;
	return 0;
}

/* Pick a destination slot for a new connection; -1 when none is available. */
static __always_inline int schedule(struct RvsSvc *svc, __u32 *dest)
{
	switch (svc->sched) {
	case RVS_SCHED_RING:
		return sched_ring(svc, dest);
	case RVS_SCHED_LC:
	case RVS_SCHED_WLC:
	case RVS_SCHED_SED:
	case RVS_SCHED_NQ:
	case RVS_SCHED_FO:
	case RVS_SCHED_OVF:
		return sched_scan(svc, dest);
	default:
		return -1;
	}
}

#endif
