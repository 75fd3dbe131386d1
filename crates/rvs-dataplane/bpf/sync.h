/* Installing connection entries received from the MASTER director (IPVS's connection
 * synchronisation) on this BACKUP director. The daemon decodes the sync messages, resolves each
 * entry's service and real server, and hands batches to `rvs_sync_install` through the `sync_in`
 * map (see docs/dev/dataplane.md, "Sync install"). An entry is installed as the packet path would
 * have made it, with the same accounting; a live entry under the same key is refreshed and moved
 * to the received state with the packet path's compare-and-swap. */
#ifndef RVS_SYNC_H
#define RVS_SYNC_H

#include "create.h"
#include "persist.h"

#ifndef EEXIST
#define EEXIST 17
#endif

/* The steps below are global functions: the verifier checks each once, on its own, instead of
 * every path of one entry through all of them together (which is far beyond its budget). Their
 * pointer arguments may be NULL as far as it knows, hence the checks. */
#define SYNC_STEP __attribute__((noinline))

/* What became of one entry. */
enum sync_result {
	SYNC_INSTALLED,	/* inserted */
	SYNC_UPDATED,	/* a live entry refreshed */
	SYNC_SKIPPED,	/* the live entry is DEAD, or the entry is malformed */
	SYNC_NO_DEST,	/* its destination slot moved on or is unavailable */
	SYNC_FULL,	/* the table is full */
	SYNC_ABSENT,	/* (sync_update) no entry under the key */
};

/* Context of one run of the sync install program. */
struct sync_run {
	__u64 now;
	__u32 installed, updated, skipped, no_dest, full;
};

/* Whether `state` is one an entry of this kind and protocol can be in. */
static __always_inline int sync_state_valid(const struct RvsConnKey *key, __u32 state)
{
	if (key->kind == RVS_KEY_TEMPLATE)
		return state == RVS_TEMPLATE_STATE || state == RVS_TEMPLATE_ASSURED;
	if (key->kind != RVS_KEY_CONN)
		return 0;
	if (key->proto == IPPROTO_TCP)
		return state < RVS_TCP_STATES;
	if (key->proto == IPPROTO_UDP)
		return state == RVS_UDP_STATE;
	return 0;
}

/* The live entry under `key`, refreshed and moved to the received state by compare-and-swap,
 * the caller whose swap succeeds moving the connection's count between active and inactive. A
 * lost race means a packet moved it meanwhile: what it saw is newer, the entry stays as it made
 * it. Its destination stays the one it is bound to (IPVS does not rebind a synchronised
 * connection either). SYNC_ABSENT when there is no entry. */
SYNC_STEP int sync_update(struct RvsConnKey *key_in, __u32 state, __u64 now)
{
	struct RvsConfig *cfg = config_get();
	struct RvsConnKey key;
	struct RvsConn *c;
	__u32 seen;
	int was, is;

	if (!key_in || !cfg)
		return SYNC_SKIPPED;
	key = *key_in;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return SYNC_ABSENT;
	seen = READ_ONCE(c->state);
	if (seen == RVS_CONN_DEAD)
		return SYNC_SKIPPED;	/* the CPU that killed it deletes it */
	if (seen != state) {
		if (__sync_val_compare_and_swap(&c->state, seen, state) != seen) {
			if (READ_ONCE(c->state) == RVS_CONN_DEAD)
				return SYNC_SKIPPED;
		} else if (key.kind == RVS_KEY_CONN) {
			was = conn_active(cfg, key.proto, seen);
			is = conn_active(cfg, key.proto, state);
			if (was != is) {
				dest_conns_add(c, is, 1);
				dest_conns_add(c, was, -1);
			}
			/* Established under a template: the template is assured (as conn_touch). */
			if (key.proto == IPPROTO_TCP && state == RVS_TCP_STATE_ESTABLISHED &&
			    (c->flags & RVS_CONN_F_CONTROLLED))
				template_assure(&key, c);
		}
	}
	if (READ_ONCE(c->last_seen_ns) != now)
		WRITE_ONCE(c->last_seen_ns, now);
	return SYNC_UPDATED;
}

/* The template of controlled connection `c` (under `key`): `take` one more connection under it,
 * with the very test template_release applies when the connection goes (same template key, same
 * real server and generation), so that every increment is matched by one decrement (1 when
 * taken); else give one back (template_release); or, `take` = 2, assure it. */
SYNC_STEP int sync_template_hold(struct RvsConnKey *key_in, struct RvsConn *c_in, int take)
{
	struct RvsConnKey key, t = {};
	struct RvsConn c, *tc;

	if (!key_in || !c_in)
		return 0;
	key = *key_in;
	c = *c_in;
	if (take == 0) {
		template_release(&key, &c);
		return 0;
	}
	if (take == 2) {
		template_assure(&key, &c);
		return 0;
	}
	if (!controlling_key(&key, &c, &t))
		return 0;
	tc = bpf_map_lookup_elem(&conns, &t);
	if (!tc || tc->dest_gen != c.dest_gen)
		return 0;
	return template_get(tc, c.dest);
}

/* The destination entry `e` is bound to, while its slot is still the one the daemon resolved and
 * the destination is in its service. */
static __always_inline struct RvsDest *sync_dest(const struct RvsSyncEntry *e)
{
	__u32 slot = e->dest;
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &slot);

	if (!d || READ_ONCE(d->generation) != e->dest_gen || !(READ_ONCE(d->flags) & RVS_DEST_F_AVAILABLE))
		return NULL;
	return d;
}

/* The insert of a new entry failed: another CPU made it meanwhile (then it is updated as any
 * live entry), or the table is full. */
static __always_inline int sync_lost(struct RvsConnKey *key, long err, __u32 state, __u64 now)
{
	int r = sync_update(key, state, now);

	if (r == SYNC_ABSENT)
		return err == -EEXIST ? SYNC_SKIPPED : SYNC_FULL;
	return r;
}

/* What a new entry takes from the received one and its destination slot, connection or
 * template alike (the real server's port differs, and is the caller's). */
static __always_inline void sync_fill(struct RvsConn *c, const struct RvsSyncEntry *e, struct RvsDest *d,
				      __u64 now)
{
	c->last_seen_ns = now;
	c->state = e->state;
	c->dest = e->dest;
	c->dest_gen = e->dest_gen;
	c->daddr = d->addr;
	c->fwd = READ_ONCE(d->fwd);
}

/* A new connection, built as conn_fill and rvs_director build it and accounted as conn_create
 * accounts it; a controlled one whose template is not here is installed uncontrolled. */
SYNC_STEP int sync_conn(struct RvsSyncEntry *e_in, __u64 now)
{
	struct RvsConfig *cfg = config_get();
	struct RvsConn fresh = {};
	struct RvsSyncEntry e;
	struct RvsConn *c;
	struct RvsDest *d;
	int masq, held = 0;
	long err;

	if (!e_in || !cfg)
		return SYNC_SKIPPED;
	e = *e_in;
	d = sync_dest(&e);
	if (!d)
		return SYNC_NO_DEST;
	sync_fill(&fresh, &e, d, now);
	fresh.dport = d->port ? d->port : e.key.dport;
	if (e.flags & RVS_CONN_F_CONTROLLED) {
		fresh.flags = e.flags & (RVS_CONN_F_CONTROLLED | RVS_CONN_F_FWMARK);
		fresh.tmpl = e.tmpl;
		held = sync_template_hold(&e.key, &fresh, 1);
		if (!held) {
			fresh.flags = 0;
			fresh.tmpl = 0;
		}
	}
	/* As conn_create: a NAT connection is indexed by its reply first. */
	masq = fresh.fwd == RVS_FWD_MASQ;
	if (masq && !nat_link(&e.key, &fresh) && !(conn_make_room() && nat_link(&e.key, &fresh))) {
		if (held)
			sync_template_hold(&e.key, &fresh, 0);
		return SYNC_FULL;
	}
	err = conn_insert(&e.key, &fresh);
	if (err == 0) {
		dest_conns_add(&fresh, conn_active(cfg, e.key.proto, fresh.state), 1);
		dest_thresholds(&fresh, 1);
		if (held && e.key.proto == IPPROTO_TCP && fresh.state == RVS_TCP_STATE_ESTABLISHED)
			sync_template_hold(&e.key, &fresh, 2);
		return SYNC_INSTALLED;
	}
	if (held)
		sync_template_hold(&e.key, &fresh, 0);
	/* Our reply index entry goes unless it is the winner's too (the same real server). */
	if (masq) {
		c = bpf_map_lookup_elem(&conns, &e.key);
		if (!c || READ_ONCE(c->state) == RVS_CONN_DEAD || c->daddr != fresh.daddr ||
		    c->dport != fresh.dport)
			nat_unlink_new(&e.key, &fresh);
	}
	return sync_lost(&e.key, err, e.state, now);
}

/* A new persistence template, built as sched_persist builds it (its port is 0 for an all-ports
 * or firewall-mark service, whose template keys have port 0) and counted in PersistConn. It
 * controls nothing yet: its connections, installed after it, take it. */
SYNC_STEP int sync_template(struct RvsSyncEntry *e_in, __u64 now)
{
	struct RvsConn fresh = {};
	struct RvsSyncEntry e;
	struct RvsDest *d;
	long err;

	if (!e_in)
		return SYNC_SKIPPED;
	e = *e_in;
	d = sync_dest(&e);
	if (!d)
		return SYNC_NO_DEST;
	sync_fill(&fresh, &e, d, now);
	fresh.dport = e.key.dport ? d->port : 0;
	err = conn_insert(&e.key, &fresh);
	if (err == 0) {
		dest_persist_add(e.dest, e.dest_gen, 1);
		return SYNC_INSTALLED;
	}
	return sync_lost(&e.key, err, e.state, now);
}

/* One entry of the batch: a live entry under its key is updated, else it is installed. */
static long sync_one(__u32 i, void *ctx)
{
	struct sync_run *run = ctx;
	struct RvsSyncBatch *batch;
	struct RvsSyncEntry e;
	__u32 zero = 0;
	int r;

	if (i >= RVS_SYNC_BATCH)
		return 1;
	batch = bpf_map_lookup_elem(&sync_in, &zero);
	if (!batch)
		return 1;
	e = batch->entries[i];
	e.key.pad[0] = 0;
	e.key.pad[1] = 0;
	if (!sync_state_valid(&e.key, e.state))
		r = SYNC_SKIPPED;
	else
		r = sync_update(&e.key, e.state, run->now);
	if (r == SYNC_ABSENT)
		r = e.key.kind == RVS_KEY_TEMPLATE ? sync_template(&e, run->now) : sync_conn(&e, run->now);
	switch (r) {
	case SYNC_INSTALLED:
		run->installed++;
		break;
	case SYNC_UPDATED:
		run->updated++;
		break;
	case SYNC_NO_DEST:
		run->no_dest++;
		break;
	case SYNC_FULL:
		run->full++;
		break;
	default:
		run->skipped++;
	}
	return 0;
}

#endif
