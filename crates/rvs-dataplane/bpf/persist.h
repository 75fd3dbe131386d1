/* Persistence (-p, -M), as ip_vs_sched_persist does it: a template entry in the connection
 * table binds a client's network (its address under the service's netmask) to a real server
 * for the service's timeout. A new connection of that client goes where its template points,
 * restarting the template's timer; without a usable template it is scheduled and a template is
 * made. A template lives while it controls connections (`RvsConn::flags` counts them for a
 * template) and expires `timeout` after its last use once it controls none. */
#ifndef RVS_PERSIST_H
#define RVS_PERSIST_H

#include "evict.h"
#include "sched.h"

static __always_inline __u64 template_timeout_ns(const struct RvsSvc *svc)
{
	return (__u64)READ_ONCE(svc->timeout_s) * 1000000000ull;
}

/* Whether template `tc` of `svc` has expired: idle past the timeout and controlling nothing,
 * or its service gone. */
static __always_inline int template_expired(const struct RvsSvc *svc, struct RvsConn *tc, __u64 now)
{
	__u64 last = READ_ONCE(tc->last_seen_ns);

	if (!svc || !(READ_ONCE(svc->flags) & RVS_SVC_F_PERSISTENT))
		return 1;
	if (READ_ONCE(tc->flags))
		return 0;
	return now > last && now - last > template_timeout_ns(svc);
}

/* ip_vs_check_template: a template is used while its real server is in the service (an
 * overloaded one included; a quiesced one too, unless expire_quiescent_template is set). */
static __always_inline int template_valid(struct RvsConfig *cfg, struct RvsConn *tc)
{
	__u32 slot = tc->dest;
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &slot);

	if (!d || READ_ONCE(d->generation) != tc->dest_gen ||
	    !(READ_ONCE(d->flags) & RVS_DEST_F_AVAILABLE))
		return 0;
	if ((READ_ONCE(cfg->flags) & RVS_CFG_F_EXPIRE_QUIESCENT_TEMPLATE) &&
	    READ_ONCE(d->weight) == 0)
		return 0;
	return 1;
}

/* One connection more under template `tc` (ip_vs_control_add); 1 when taken. */
static __always_inline int template_get(struct RvsConn *tc, __u32 dest)
{
	if (tc->dest != dest || READ_ONCE(tc->state) == RVS_CONN_DEAD)
		return 0;
	__sync_fetch_and_add(&tc->flags, 1);
	return 1;
}

/* The real server for a new connection `key` of persistent service `svc`: its template's, or
 * a scheduled one (for which a template is made). Returns -1 when there is none, 1 when the
 * connection is counted under a template (which then controls it), 0 when it goes without
 * one (its template could not be made: the table is full, or another CPU is deleting it). */
static __always_inline int sched_persist(struct RvsConfig *cfg, struct RvsSvc *svc, struct pkt *p,
					 struct RvsConnKey *key, __u64 now, __u32 *dest)
{
	struct RvsConnKey t = {};
	struct RvsConn fresh = {};
	struct RvsConn *tc;
	struct RvsDest *d;
	__u32 state;

	template_key(svc, key, &t);
	tc = bpf_map_lookup_elem(&conns, &t);
	if (tc) {
		state = READ_ONCE(tc->state);
		if (state != RVS_CONN_DEAD && !template_expired(svc, tc, now) && template_valid(cfg, tc)) {
			*dest = tc->dest;
			if (READ_ONCE(tc->last_seen_ns) != now)
				WRITE_ONCE(tc->last_seen_ns, now);
			return template_get(tc, *dest);
		}
		/* Expired, or its real server left: replaced (IPVS unhashes it and makes another). */
		if (state != RVS_CONN_DEAD && template_kill(tc, state))
			bpf_map_delete_elem(&conns, &t);
	}
	if (schedule(svc, p, dest) < 0)
		return -1;
	d = bpf_map_lookup_elem(&dests, dest);
	if (!d)
		return -1;
	fresh.last_seen_ns = now;
	fresh.state = RVS_TEMPLATE_STATE;
	fresh.dest = *dest;
	fresh.dest_gen = READ_ONCE(d->generation);
	fresh.daddr = d->addr;
	fresh.dport = (READ_ONCE(svc->flags) & RVS_SVC_F_ANY_PORT) ? 0 : d->port;
	fresh.fwd = READ_ONCE(d->fwd);
	if (conn_insert(&t, &fresh) == 0) {
		dest_persist_add(*dest, fresh.dest_gen, 1);
		count(RVS_STAT_TEMPLATE_CREATED);
	}
	/* Ours, or another CPU's made first (then its real server is followed if it can be). */
	tc = bpf_map_lookup_elem(&conns, &t);
	if (!tc || READ_ONCE(tc->state) == RVS_CONN_DEAD)
		return 0;
	if (tc->dest != *dest) {
		if (!template_valid(cfg, tc))
			return 0;
		*dest = tc->dest;
	}
	return template_get(tc, *dest);
}

#endif
