/* Eviction when the connection table is full: IPVS's table has no size limit and only
 * memory runs out; rvs's is preallocated, so a new connection that finds it full takes the
 * place of an entry the daemon found least recently used (it offers the oldest entries it read
 * at each sweep step in the `evict` ring). A candidate is evicted only if it was not touched
 * since (its timestamp is the one the daemon read), and with the packet path's own accounting,
 * as if it had expired. */
#ifndef RVS_EVICT_H
#define RVS_EVICT_H

#include "conn.h"

#ifndef E2BIG
#define E2BIG 7
#endif

/* Claims the next candidate; 0 when none is left (or other CPUs kept winning the race). */
static __always_inline int evict_claim(struct RvsEvictRing *ring, struct RvsEvictCand *out)
{
	__u64 head, seen;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		head = READ_ONCE(ring->head);
		if (head >= READ_ONCE(ring->tail))
			return 0;
		seen = __sync_val_compare_and_swap(&ring->head, head, head + 1);
		if (seen == head) {
			*out = ring->cands[head & (RVS_EVICT_RING - 1)];
			return 1;
		}
	}
	return 0;
}

/* Evicts the candidate if it is still what the daemon saw; 1 if it did. */
static __always_inline int evict_candidate(struct RvsConfig *cfg, struct RvsEvictCand *cand)
{
	struct RvsConnKey key = cand->key;
	struct RvsConn *c = bpf_map_lookup_elem(&conns, &key);
	__u32 state;

	if (!c)
		return 0;
	state = READ_ONCE(c->state);
	if (state == RVS_CONN_DEAD || READ_ONCE(c->last_seen_ns) != cand->last_seen_ns)
		return 0;
	if (key.kind == RVS_KEY_TEMPLATE) {
		/* A template that still controls connections must stay. */
		if (READ_ONCE(c->flags) || !template_kill(c, state))
			return 0;
	} else {
		if (!conn_kill(cfg, c, key.proto, state))
			return 0;
		nat_unlink(&key, c);
		template_release(&key, c);
	}
	bpf_map_delete_elem(&conns, &key);
	count(RVS_STAT_CONN_EVICTED);
	return 1;
}

/* What one round of eviction tries and finds. */
struct evict_round {
	int evicted;
};

static long evict_try(__u32 i, void *ctx)
{
	struct evict_round *round = ctx;
	struct RvsEvictCand cand;
	struct RvsEvictRing *ring;
	struct RvsConfig *cfg;
	__u32 zero = 0;

	ring = bpf_map_lookup_elem(&evict, &zero);
	cfg = config_get();
	if (!ring || !cfg || !evict_claim(ring, &cand))
		return 1;
	round->evicted = evict_candidate(cfg, &cand);
	return round->evicted;
}

/* Makes room for one entry: tries up to RVS_EVICT_TRIES candidates; 1 if one was evicted. */
static __always_inline int conn_make_room(void)
{
	struct evict_round round = {};

	bpf_loop(RVS_EVICT_TRIES, evict_try, &round, 0);
	return round.evicted;
}

/* Inserts a new entry (connection or template) under `key`; when the table is full, once more
 * after making room. The map's answer: 0, -EEXIST, -E2BIG … */
static __always_inline long conn_insert(struct RvsConnKey *key, struct RvsConn *value)
{
	long err = bpf_map_update_elem(&conns, key, value, BPF_NOEXIST);

	if (err == -E2BIG && conn_make_room())
		err = bpf_map_update_elem(&conns, key, value, BPF_NOEXIST);
	return err;
}

#endif
