/* Making a connection entry for a new connection, evicting the least recently used entry the
 * daemon offered when the table is full. */
#ifndef RVS_CREATE_H
#define RVS_CREATE_H

#include "evict.h"

/* Outcome of conn_create(). */
enum create_result {
	CREATED,	/* `fresh` was inserted; forward with it */
	RACED,		/* another CPU created the connection first; `*winner` is its entry */
	FULL,		/* the table is full (counted) */
	DYING,		/* the key's entry is DEAD, being deleted by the CPU that killed it (counted) */
};

/* Insert a new entry bound to `dest`, filled into `fresh`. If another CPU created the same
 * connection meanwhile, its entry wins. A DEAD entry in the way is left alone: the CPU that
 * killed it deletes it by key right after, and would delete our new entry instead if we
 * replaced the dead one first (hash elements are reused at once); the packet is dropped, in a
 * window of a few instructions. */
static __always_inline enum create_result conn_create(struct RvsConfig *cfg, struct RvsConnKey *key,
						      struct pkt *p, __u32 dest, struct RvsDest *d,
						      __u64 now, struct RvsConn *fresh,
						      struct RvsConn **winner)
{
	struct RvsConn *c;
	int masq;

	conn_fill(cfg, p, dest, d, now, fresh);
	/* A NAT connection is indexed by its reply first: without the index its replies would
	 * leave untranslated, so a connection that cannot have one is not made. */
	masq = fresh->fwd == RVS_FWD_MASQ;
	if (masq && !nat_link(key, fresh) && !(conn_make_room() && nat_link(key, fresh))) {
		count(RVS_STAT_DROP_CONN_TABLE_FULL);
		return FULL;
	}
	if (conn_insert(key, fresh) == 0) {
		dest_conns_add(fresh, conn_active(cfg, p->proto, fresh->state), 1);
		dest_thresholds(fresh, 1);
		counters_conn(&svc_stats, READ_ONCE(d->svc));
		counters_conn(&dest_stats, dest);
		count(RVS_STAT_CONN_CREATED);
		return CREATED;
	}
	c = bpf_map_lookup_elem(&conns, key);
	if (!c) {
		/* not a collision: the table is full */
		if (masq)
			nat_unlink_new(key, fresh);
		count(RVS_STAT_DROP_CONN_TABLE_FULL);
		return FULL;
	}
	if (READ_ONCE(c->state) == RVS_CONN_DEAD) {
		if (masq)
			nat_unlink_new(key, fresh);
		count(RVS_STAT_DROP_CONN_DYING);
		return DYING;
	}
	/* Raced: the other CPU's connection wins; our index entry goes unless it is the winner's
	 * too (the same real server). */
	if (masq && (c->daddr != fresh->daddr || c->dport != fresh->dport))
		nat_unlink_new(key, fresh);
	*winner = c;
	return RACED;
}

#endif
