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

/* Whether destination `slot` may take a new connection: in a service, weight above 0, not
 * overloaded (by the daemon, or by its connection thresholds). */
static __always_inline int dest_eligible(__u32 slot, struct RvsDest *d)
{
	struct RvsDestConns *dc = bpf_map_lookup_elem(&dest_conns, &slot);
	__u8 flags = READ_ONCE(d->flags);

	return (flags & RVS_DEST_F_AVAILABLE) && !(flags & RVS_DEST_F_OVERLOAD) &&
	       READ_ONCE(d->weight) > 0 && !(dc && READ_ONCE(dc->overload));
}

/* ip_vs_dest_conn_overhead(): activeconns * 256 + inactconns. */
static __always_inline __s64 dest_conn_overhead(struct RvsDestConns *dc)
{
	return ((__s64)READ_ONCE(dc->active) << 8) + READ_ONCE(dc->inactive);
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
		if (d && dest_eligible(*slot, d)) {
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
	if (!d || !dc || !dest_eligible(dest, d))
		return 0;
	active = READ_ONCE(dc->active);
	weight = READ_ONCE(d->weight);
	switch (s->sched) {
	case RVS_SCHED_LC:
	case RVS_SCHED_WLC:
		overhead = dest_conn_overhead(dc);
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
/* One scan of the service's list by the rule of `sched` (RVS_SCHED_LC ... RVS_SCHED_OVF). */
static __always_inline int sched_scan_as(struct RvsSvc *svc, __u32 sched, __u32 *dest)
{
	struct scan s = { .list_off = svc->list_off, .sched = sched };
	__u32 n = svc->list_len;

	if (n > RVS_MAX_SVC_DESTS)
		n = RVS_MAX_SVC_DESTS;
	bpf_loop(n, scan_step, &s, 0);
	if (!s.found)
		return -1;
	*dest = s.best;
	return 0;
}

static __always_inline int sched_scan(struct RvsSvc *svc, __u32 *dest)
{
	return sched_scan_as(svc, svc->sched, dest);
}

/* sh and dh (ip_vs_sh.c, ip_vs_dh.c): the daemon writes the 256-bucket table in the ring's
 * place; the program hashes as the kernel does, `(offset + hash_32(key, 8)) & 255` with
 * hash_32(v, 8) = (v * GOLDEN_RATIO_32) >> 24, and takes the bucket's destination unless it is
 * unusable (weight 0, overloaded). sh-fallback then walks the table from that bucket. */
#define HASH_TAB_SIZE 256
#define GOLDEN_RATIO_32 0x61C88647u

static __always_inline __u32 hash_bucket(__u32 key, __u32 offset)
{
	return (offset + ((key * GOLDEN_RATIO_32) >> 24)) & (HASH_TAB_SIZE - 1);
}

/* The destination slot in bucket `b` of the service's table if usable, else -1. */
static __always_inline int hash_usable(const struct RvsSvc *svc, __u32 b)
{
	__u32 idx = svc->ring_off + b, *slot;
	struct RvsDest *d;

	slot = bpf_map_lookup_elem(&pool, &idx);
	if (!slot)
		return -1;
	d = bpf_map_lookup_elem(&dests, slot);
	if (!d || !dest_eligible(*slot, d))
		return -1;
	return (int)*slot;
}

/* mh (ip_vs_mh.c): the daemon writes the 4093-position Maglev table in the ring's place; the
 * program hashes the source address (plus port with mh-port) as the kernel does, with its
 * hsiphash, which on 64-bit machines is SipHash-1-3, under the fixed key (2654435761,
 * 2654435761), and takes the position modulo the table size; mh-fallback walks the table. */
#define MH_TAB_SIZE 4093
#define MH_KEY1 2654435761ull

static __always_inline __u64 rol64(__u64 w, unsigned int s)
{
	return (w << s) | (w >> (64 - s));
}

#define SIPROUND(v0, v1, v2, v3)					\
	do {								\
		v0 += v1; v1 = rol64(v1, 13); v1 ^= v0; v0 = rol64(v0, 32);	\
		v2 += v3; v3 = rol64(v3, 16); v3 ^= v2;			\
		v0 += v3; v3 = rol64(v3, 21); v3 ^= v0;			\
		v2 += v1; v1 = rol64(v1, 17); v1 ^= v2; v2 = rol64(v2, 32);	\
	} while (0)

/* The kernel's hsiphash() of one 32-bit word, key (k, k), on a 64-bit machine. */
static __always_inline __u32 hsiphash_u32(__u32 data, __u64 k)
{
	__u64 v0 = 0x736f6d6570736575ull ^ k;
	__u64 v1 = 0x646f72616e646f6dull ^ k;
	__u64 v2 = 0x6c7967656e657261ull ^ k;
	__u64 v3 = 0x7465646279746573ull ^ k;
	__u64 b = (4ull << 56) | data;

	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return (__u32)((v0 ^ v1) ^ (v2 ^ v3));
}

static __always_inline __u32 mh_position(__u32 key, __u32 offset)
{
	return hsiphash_u32(offset + key, MH_KEY1) % MH_TAB_SIZE;
}

/* sh, dh and mh read the table the daemon wrote in the ring's place: the position of the
 * packet's key (the destination address for dh; the source address, plus the source port with
 * -b *-port, for sh and mh), and with -b *-fallback (sh, mh) a walk around the table from
 * there, as ip_vs_{sh,mh}_get_fallback do. */
struct table_walk {
	const struct RvsSvc *svc;
	__u32 maglev;		/* mh's table and hash, else sh/dh's */
	__u32 key;
	__u32 ihash;
	int found;
};

static __always_inline __u32 table_position(__u32 maglev, __u32 key, __u32 offset)
{
	return maglev ? mh_position(key, offset) : hash_bucket(key, offset);
}

static long table_walk_step(__u32 offset, void *ctx)
{
	struct table_walk *w = ctx;
	__u32 size = w->maglev ? MH_TAB_SIZE : HASH_TAB_SIZE;
	__u32 roffset = (offset + w->ihash) % size;

	w->found = hash_usable(w->svc, table_position(w->maglev, w->key, roffset));
	return w->found >= 0;
}

static __always_inline int sched_table(struct RvsSvc *svc, struct pkt *p, __u32 *dest)
{
	struct table_walk w = { .svc = svc, .maglev = svc->sched == RVS_SCHED_MH, .found = -1 };
	__u32 flags = svc->flags, size = w.maglev ? MH_TAB_SIZE : HASH_TAB_SIZE;
	int slot;

	if (svc->ring_len != size)
		return -1;	/* no destination (for mh: none with a weight) */
	if (svc->sched == RVS_SCHED_DH) {
		w.key = bpf_ntohl(p->daddr);
	} else {
		w.key = bpf_ntohl(p->saddr);
		if (flags & RVS_SVC_F_HASH_PORT)
			w.key += bpf_ntohs(p->sport);
	}
	w.ihash = table_position(w.maglev, w.key, 0);
	slot = hash_usable(svc, w.ihash);
	if (slot < 0 && svc->sched != RVS_SCHED_DH && (flags & RVS_SVC_F_HASH_FALLBACK)) {
		bpf_loop(size, table_walk_step, &w, 0);
		slot = w.found;
	}
	if (slot < 0)
		return -1;
	*dest = (__u32)slot;
	return 0;
}

/* twos (ip_vs_twos.c): two destinations drawn at random in proportion to their weights, the
 * less loaded (overhead / weight) of the two wins. A first pass sums the weights, a second
 * walks the draws down the list as the kernel does. */
struct twos_walk {
	__u32 list_off;
	__s32 total;
	__s32 rw1, rw2;
	__s32 w1, w2;		/* -1 until drawn */
	__s32 o1, o2;		/* overheads, the kernel's int */
	__u32 d1, d2;
	__u32 last;		/* the last available destination */
	__u32 found;
};

/* The destination at list position i if it may be drawn: its slot, weight and overhead. */
static __always_inline int twos_entry(struct twos_walk *w, __u32 i, __u32 *slot_out, __s32 *weight,
				      __s32 *overhead)
{
	__u32 idx = w->list_off + i, *slot;
	struct RvsDestConns *dc;
	struct RvsDest *d;

	slot = bpf_map_lookup_elem(&pool, &idx);
	if (!slot)
		return -1;
	d = bpf_map_lookup_elem(&dests, slot);
	dc = bpf_map_lookup_elem(&dest_conns, slot);
	if (!d || !dc || !dest_eligible(*slot, d))
		return -1;
	*slot_out = *slot;
	*weight = READ_ONCE(d->weight);
	*overhead = dest_conn_overhead(dc);
	return 0;
}

static long twos_sum_step(__u32 i, void *ctx)
{
	struct twos_walk *w = ctx;
	__s32 weight, overhead;
	__u32 slot;

	if (twos_entry(w, i, &slot, &weight, &overhead) < 0)
		return 0;
	w->total += weight;
	w->last = slot;
	w->found = 1;
	return 0;
}

static long twos_draw_step(__u32 i, void *ctx)
{
	struct twos_walk *w = ctx;
	__s32 weight, overhead;
	__u32 slot;

	if (twos_entry(w, i, &slot, &weight, &overhead) < 0)
		return 0;
	w->rw1 -= weight;
	w->rw2 -= weight;
	if (w->rw1 <= 0 && w->w1 == -1) {
		w->d1 = slot;
		w->w1 = weight;
		w->o1 = overhead;
	}
	if (w->rw2 <= 0 && w->w2 == -1) {
		w->d2 = slot;
		w->w2 = weight;
		w->o2 = overhead;
	}
	return w->w1 != -1 && w->w2 != -1;
}

static __always_inline int sched_twos(struct RvsSvc *svc, __u32 *dest)
{
	struct twos_walk w = { .list_off = svc->list_off, .w1 = -1, .w2 = -1 };
	__u32 n = svc->list_len, modulus;

	if (n > RVS_MAX_SVC_DESTS)
		n = RVS_MAX_SVC_DESTS;
	bpf_loop(n, twos_sum_step, &w, 0);
	if (!w.found)
		return -1;
	modulus = (__u32)w.total + 1;
	w.rw1 = (__s32)(bpf_get_prandom_u32() % modulus);
	w.rw2 = (__s32)(bpf_get_prandom_u32() % modulus);
	bpf_loop(n, twos_draw_step, &w, 0);
	*dest = w.w1 != -1 ? w.d1 : w.last;
	if (w.w2 != -1 && w.w2 * w.o1 > w.w1 * w.o2)
		*dest = w.d2;
	return 0;
}

/* lblc (ip_vs_lblc.c): the real server cached for the packet's destination address, unless it
 * left the service, is quiesced, or is "overloaded" in lblc's sense (more active connections
 * than its weight while some real server of the service has fewer than half its weight); else
 * the wlc pick, which is cached. */
struct half_loaded {
	__u32 list_off;
	int found;
};

static long half_loaded_step(__u32 i, void *ctx)
{
	struct half_loaded *h = ctx;
	__u32 idx = h->list_off + i, *slot;
	struct RvsDestConns *dc;
	struct RvsDest *d;

	slot = bpf_map_lookup_elem(&pool, &idx);
	if (!slot)
		return 1;
	d = bpf_map_lookup_elem(&dests, slot);
	dc = bpf_map_lookup_elem(&dest_conns, slot);
	if (!d || !dc)
		return 0;
	if ((__s64)READ_ONCE(dc->active) * 2 < (__s64)READ_ONCE(d->weight)) {
		h->found = 1;
		return 1;
	}
	return 0;
}

static __always_inline int lblc_overloaded(struct RvsSvc *svc, __u32 slot, struct RvsDest *d)
{
	struct RvsDestConns *dc = bpf_map_lookup_elem(&dest_conns, &slot);
	struct half_loaded h = { .list_off = svc->list_off };
	__u32 n = svc->list_len;

	if (!dc || READ_ONCE(dc->active) <= READ_ONCE(d->weight))
		return 0;
	if (n > RVS_MAX_SVC_DESTS)
		n = RVS_MAX_SVC_DESTS;
	bpf_loop(n, half_loaded_step, &h, 0);
	return h.found;
}

static __always_inline int sched_lblc(struct RvsSvc *svc, struct pkt *p, __u32 *dest)
{
	struct RvsLblcKey k = { .svc = svc->slot, .daddr = p->daddr };
	struct RvsLblcEntry fresh = {};
	__u64 now = bpf_ktime_get_coarse_ns();
	struct RvsLblcEntry *en;
	struct RvsDest *d;
	__u32 slot;

	en = bpf_map_lookup_elem(&lblc, &k);
	if (en && !(now > en->last_use_ns && now - en->last_use_ns > RVS_LBLC_EXPIRATION_NS)) {
		WRITE_ONCE(en->last_use_ns, now);
		slot = en->dest;
		d = bpf_map_lookup_elem(&dests, &slot);
		if (d && READ_ONCE(d->generation) == en->dest_gen && READ_ONCE(d->svc) == svc->slot &&
		    (READ_ONCE(d->flags) & RVS_DEST_F_AVAILABLE) && READ_ONCE(d->weight) > 0 &&
		    !lblc_overloaded(svc, slot, d)) {
			*dest = slot;
			return 0;
		}
	}
	if (sched_scan_as(svc, RVS_SCHED_WLC, dest) < 0)
		return -1;
	d = bpf_map_lookup_elem(&dests, dest);
	fresh.last_use_ns = now;
	fresh.dest = *dest;
	fresh.dest_gen = d ? READ_ONCE(d->generation) : 0;
	bpf_map_update_elem(&lblc, &k, &fresh, BPF_ANY);
	return 0;
}

/* lblcr (ip_vs_lblcr.c): a set of real servers per destination address. The least loaded
 * member (ip_vs_dest_set_min: overhead / weight, not overloaded by thresholds, available) serves
 * while it is not overloaded in lblc's sense; else the wlc pick joins the set (at its head, as
 * list_add_rcu) and serves. A set that has not grown for lblcr_expiration loses its most loaded
 * member (ip_vs_dest_set_max) when it has more than one. The entry is read, changed on the
 * stack and written back whole: two CPUs changing one address's set at once may lose one's
 * change, where IPVS takes a lock; the set converges at the next connection. */

/* A walk over one set (in a bpf_loop callback, so the verifier checks one member, not
 * every path through all of them). */
struct lblcr_walk {
	struct RvsLblcrEntry e;
	__u32 svc;
	__u32 n;	/* compaction: members kept so far */
	int best;	/* index of the least (most) loaded so far, -1 for none */
	__s64 oh;	/* its overhead */
	__s64 w;	/* its weight */
};

/* Whether member i is still the real server that joined (same slot occupant, same service). */
static __always_inline int lblcr_member(struct lblcr_walk *w, __u32 i, struct RvsDest **d,
					struct RvsDestConns **dc)
{
	__u32 slot;

	asm volatile("" : "+r"(i));
	if (i >= RVS_LBLCR_SET || i >= w->e.size)
		return 0;
	slot = w->e.dests[i];
	*d = bpf_map_lookup_elem(&dests, &slot);
	*dc = bpf_map_lookup_elem(&dest_conns, &slot);
	return *d && *dc && READ_ONCE((*d)->generation) == w->e.gens[i] && READ_ONCE((*d)->svc) == w->svc;
}

/* ip_vs_dest_set_min: the first available member of positive weight that no threshold
 * overloads, then any later such member with a smaller overhead / weight. */
static long lblcr_min_step(__u32 i, void *ctx)
{
	struct lblcr_walk *w = ctx;
	struct RvsDestConns *dc;
	struct RvsDest *d;
	__s64 oh, wt;

	if (!lblcr_member(w, i, &d, &dc))
		return 0;
	if ((READ_ONCE(d->flags) & RVS_DEST_F_OVERLOAD) || READ_ONCE(dc->overload) ||
	    !(READ_ONCE(d->flags) & RVS_DEST_F_AVAILABLE))
		return 0;
	wt = READ_ONCE(d->weight);
	oh = dest_conn_overhead(dc);
	if ((w->best < 0 && wt > 0) || (w->best >= 0 && w->oh * wt > oh * w->w)) {
		w->best = i;
		w->oh = oh;
		w->w = wt;
	}
	return 0;
}

/* ip_vs_dest_set_max: the first member of positive weight, then any later one of positive
 * weight with a larger overhead / weight. */
static long lblcr_max_step(__u32 i, void *ctx)
{
	struct lblcr_walk *w = ctx;
	struct RvsDestConns *dc;
	struct RvsDest *d;
	__s64 oh, wt;

	if (!lblcr_member(w, i, &d, &dc))
		return 0;
	wt = READ_ONCE(d->weight);
	oh = dest_conn_overhead(dc);
	if (wt > 0 && (w->best < 0 || w->oh * wt < oh * w->w)) {
		w->best = i;
		w->oh = oh;
		w->w = wt;
	}
	return 0;
}

/* Keeps the members still valid, in order (`n` counts them). */
static long lblcr_compact_step(__u32 i, void *ctx)
{
	struct lblcr_walk *w = ctx;
	struct RvsDestConns *dc;
	struct RvsDest *d;
	__u32 n = w->n;

	if (!lblcr_member(w, i, &d, &dc))
		return 0;
	/* Bounds checked on the very registers used to index (the compiler would otherwise
	 * index with copies the verifier knows nothing of). */
	asm volatile("" : "+r"(i), "+r"(n));
	if (n >= RVS_LBLCR_SET || i >= RVS_LBLCR_SET)
		return 0;
	w->e.dests[n] = w->e.dests[i];
	w->e.gens[n] = w->e.gens[i];
	w->n = n + 1;
	return 0;
}

/* Removes member `at`, keeping the order of the others. */
static __always_inline void lblcr_erase(struct RvsLblcrEntry *e, int at)
{
	__u32 i;

	for (i = 0; i + 1 < RVS_LBLCR_SET; i++) {
		if ((int)i >= at && i + 1 < e->size) {
			e->dests[i] = e->dests[i + 1];
			e->gens[i] = e->gens[i + 1];
		}
	}
	if (e->size > 0)
		e->size--;
}

/* ip_vs_dest_set_insert: `slot` joins at the head unless it is a member; members whose slot
 * went to another real server are dropped first, and a full set loses its last (oldest). */
static __always_inline void lblcr_insert(struct lblcr_walk *w, __u32 slot, __u32 gen, __u64 now)
{
	__u32 i, n;

	for (i = 0; i < RVS_LBLCR_SET; i++) {
		if (i < w->e.size && w->e.dests[i] == slot && w->e.gens[i] == gen)
			return;
	}
	w->n = 0;
	bpf_loop(RVS_LBLCR_SET, lblcr_compact_step, w, 0);
	n = w->n;
	if (n >= RVS_LBLCR_SET)
		n = RVS_LBLCR_SET - 1;
	for (i = RVS_LBLCR_SET - 1; i > 0; i--) {
		if (i <= n) {
			w->e.dests[i] = w->e.dests[i - 1];
			w->e.gens[i] = w->e.gens[i - 1];
		}
	}
	w->e.dests[0] = slot;
	w->e.gens[0] = gen;
	w->e.size = n + 1;
	w->e.lastmod_ns = now;
}

static __always_inline int sched_lblcr(struct RvsSvc *svc, struct pkt *p, __u32 *dest)
{
	struct RvsLblcKey k = { .svc = svc->slot, .daddr = p->daddr };
	struct lblcr_walk w = { .svc = svc->slot, .best = -1 };
	__u64 now = bpf_ktime_get_coarse_ns();
	struct RvsLblcrEntry *en;
	struct RvsDest *d;
	__u32 slot = 0;
	int least = -1;

	en = bpf_map_lookup_elem(&lblcr, &k);
	if (en && !(now > en->last_use_ns && now - en->last_use_ns > RVS_LBLC_EXPIRATION_NS)) {
		w.e = *en;
		if (w.e.size > RVS_LBLCR_SET)
			w.e.size = RVS_LBLCR_SET;
		w.e.last_use_ns = now;
		bpf_loop(RVS_LBLCR_SET, lblcr_min_step, &w, 0);
		least = w.best;
		if (least >= 0 && least < RVS_LBLCR_SET)
			slot = w.e.dests[least];
		else
			least = -1;
		/* The set has not grown for lblcr_expiration: its most loaded member leaves. */
		if (w.e.size > 1 && now > w.e.lastmod_ns && now - w.e.lastmod_ns > RVS_LBLC_EXPIRATION_NS) {
			w.best = -1;
			bpf_loop(RVS_LBLCR_SET, lblcr_max_step, &w, 0);
			if (w.best >= 0)
				lblcr_erase(&w.e, w.best);
		}
		if (least >= 0) {
			d = bpf_map_lookup_elem(&dests, &slot);
			if (d && !lblc_overloaded(svc, slot, d)) {
				bpf_map_update_elem(&lblcr, &k, &w.e, BPF_ANY);
				*dest = slot;
				return 0;
			}
		}
	}
	if (sched_scan_as(svc, RVS_SCHED_WLC, dest) < 0)
		return -1;
	d = bpf_map_lookup_elem(&dests, dest);
	w.e.last_use_ns = now;
	lblcr_insert(&w, *dest, d ? READ_ONCE(d->generation) : 0, now);
	bpf_map_update_elem(&lblcr, &k, &w.e, BPF_ANY);
	return 0;
}

/* The first destination in list order that may take a connection: where a ring's picks all
 * failed because destinations became unusable since it was built (overloaded by their
 * thresholds, say), rather than dropping while another is free, as rr and wrr would find one. */
struct first_eligible {
	__u32 list_off;
	int found;
};

static long first_eligible_step(__u32 i, void *ctx)
{
	struct first_eligible *f = ctx;
	__u32 idx = f->list_off + i, *slot;
	struct RvsDest *d;

	slot = bpf_map_lookup_elem(&pool, &idx);
	if (!slot)
		return 1;
	d = bpf_map_lookup_elem(&dests, slot);
	if (!d || !dest_eligible(*slot, d))
		return 0;
	f->found = (int)*slot;
	return 1;
}

static __always_inline int sched_first_eligible(struct RvsSvc *svc, __u32 *dest)
{
	struct first_eligible f = { .list_off = svc->list_off, .found = -1 };
	__u32 n = svc->list_len;

	if (n > RVS_MAX_SVC_DESTS)
		n = RVS_MAX_SVC_DESTS;
	bpf_loop(n, first_eligible_step, &f, 0);
	if (f.found < 0)
		return -1;
	*dest = (__u32)f.found;
	return 0;
}

/* Pick a destination slot for a new connection; -1 when none is available. */
static __always_inline int schedule(struct RvsSvc *svc, struct pkt *p, __u32 *dest)
{
	switch (svc->sched) {
	case RVS_SCHED_RING:
		if (sched_ring(svc, dest) == 0)
			return 0;
		return sched_first_eligible(svc, dest);
	case RVS_SCHED_LC:
	case RVS_SCHED_WLC:
	case RVS_SCHED_SED:
	case RVS_SCHED_NQ:
	case RVS_SCHED_FO:
	case RVS_SCHED_OVF:
		return sched_scan(svc, dest);
	case RVS_SCHED_SH:
	case RVS_SCHED_DH:
	case RVS_SCHED_MH:
		return sched_table(svc, p, dest);
	case RVS_SCHED_TWOS:
		return sched_twos(svc, dest);
	case RVS_SCHED_LBLC:
		return sched_lblc(svc, p, dest);
	case RVS_SCHED_LBLCR:
		return sched_lblcr(svc, p, dest);
	default:
		return -1;
	}
}

#endif
