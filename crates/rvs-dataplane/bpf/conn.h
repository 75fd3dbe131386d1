/* The connection table: lookup, creation, state transitions and expiry.
 *
 * A destination's active/inactive counts must stay exact (lc and wlc schedule on them) although
 * several CPUs and the sweeper touch the same entries. The rule: `state` only changes by
 * compare-and-swap, and the one caller whose swap succeeds moves the counts. Expiry is a swap to
 * RVS_CONN_DEAD that takes the entry's count back; a DEAD entry is treated as absent, and only
 * the caller that killed it deletes it. */
#ifndef RVS_CONN_H
#define RVS_CONN_H

#include "parse.h"
#include "svc.h"

static __always_inline struct RvsConfig *config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

/* Which row of the transition table a TCP segment selects (IPVS's tcp_state_idx order). */
static __always_inline __u32 tcp_row(__u8 flags)
{
	if (flags & TH_RST)
		return RVS_TCP_ROW_RST;
	if (flags & TH_SYN)
		return RVS_TCP_ROW_SYN;
	if (flags & TH_FIN)
		return RVS_TCP_ROW_FIN;
	if (flags & TH_ACK)
		return RVS_TCP_ROW_ACK;
	return RVS_TCP_ROW_NONE;
}

/* Replies of masqueraded connections come back through the director; all others bypass it. */
static __always_inline __u32 input_dir(__u8 fwd)
{
	return fwd == RVS_FWD_MASQ ? RVS_DIR_INPUT : RVS_DIR_INPUT_ONLY;
}

static __always_inline __u64 conn_timeout(struct RvsConfig *cfg, __u8 proto, __u32 state)
{
	if (proto == IPPROTO_UDP)
		return cfg->udp_timeout_ns;
	return cfg->tcp_timeout_ns[state & (RVS_TCP_STATES - 1)];
}

static __always_inline int conn_active(struct RvsConfig *cfg, __u8 proto, __u32 state)
{
	return proto == IPPROTO_TCP && cfg->tcp_active[state & (RVS_TCP_STATES - 1)];
}

/* Move a connection's count on its destination. A connection bound to an earlier occupant of
 * the slot (older generation) no longer counts anywhere. */
static __always_inline void dest_conns_add(struct RvsConn *c, int active, int n)
{
	__u32 dest = c->dest;
	struct RvsDestConns *dc = bpf_map_lookup_elem(&dest_conns, &dest);
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &dest);

	if (!dc || !d || READ_ONCE(d->generation) != c->dest_gen)
		return;
	if (active)
		__sync_fetch_and_add(&dc->active, n);
	else
		__sync_fetch_and_add(&dc->inactive, n);
}

/* IPVS's connection thresholds (ip_vs_bind_dest, ip_vs_unbind_dest): binding a connection that
 * brings ActiveConn + InActConn to the upper threshold overloads the destination; unbinding one
 * that leaves fewer than the lower threshold (or than 3/4 of the upper one when there is no
 * lower one, or in any case when there is neither) ends the overload. */
static __always_inline void dest_thresholds(struct RvsConn *c, int bound)
{
	__u32 dest = c->dest, u, l;
	struct RvsDestConns *dc = bpf_map_lookup_elem(&dest_conns, &dest);
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &dest);
	__s64 total;

	if (!dc || !d || READ_ONCE(d->generation) != c->dest_gen)
		return;
	u = READ_ONCE(d->u_threshold);
	l = READ_ONCE(d->l_threshold);
	total = (__s64)READ_ONCE(dc->active) + READ_ONCE(dc->inactive);
	if (bound) {
		if (u && total >= u && !READ_ONCE(dc->overload))
			WRITE_ONCE(dc->overload, 1);
		return;
	}
	if (!READ_ONCE(dc->overload))
		return;
	if (l ? total < l : (u ? total * 4 < (__s64)u * 3 : 1))
		WRITE_ONCE(dc->overload, 0);
}

/* Expire an entry seen in state `seen`. Returns 1 if this call did it (and took the count back),
 * 0 if another CPU changed the entry first. */
static __always_inline int conn_kill(struct RvsConfig *cfg, struct RvsConn *c, __u8 proto,
				     __u32 seen)
{
	if (__sync_val_compare_and_swap(&c->state, seen, RVS_CONN_DEAD) != seen)
		return 0;
	dest_conns_add(c, conn_active(cfg, proto, seen), -1);
	dest_thresholds(c, 0);
	return 1;
}

/* A destination's count of persistence templates (PersistConn), unless its slot was reused. */
static __always_inline void dest_persist_add(__u32 dest, __u32 gen, int n)
{
	struct RvsDestConns *dc = bpf_map_lookup_elem(&dest_conns, &dest);
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &dest);

	if (!dc || !d || READ_ONCE(d->generation) != gen)
		return;
	__sync_fetch_and_add(&dc->persist, n);
}

/* Kills a template seen in state `seen`; 1 if this call did (and took PersistConn back). */
static __always_inline int template_kill(struct RvsConn *tc, __u32 seen)
{
	if (__sync_val_compare_and_swap(&tc->state, seen, RVS_CONN_DEAD) != seen)
		return 0;
	dest_persist_add(tc->dest, tc->dest_gen, -1);
	return 1;
}

/* The template key of connection `key` under persistent service `svc` (ip_vs_sched_persist):
 * the client's network (its address under the service's netmask), port 0, the virtual address,
 * and the virtual port (0 for an all-ports service). A firewall-mark service's templates have
 * protocol 0 (IPPROTO_IP), the mark in the virtual address's place and ports 0. */
static __always_inline void template_key(const struct RvsSvc *svc, const struct RvsConnKey *key,
					 struct RvsConnKey *t)
{
	__u32 flags = READ_ONCE(svc->flags);

	t->saddr = key->saddr & READ_ONCE(svc->netmask);
	t->daddr = key->daddr;
	t->sport = 0;
	t->dport = (flags & RVS_SVC_F_ANY_PORT) ? 0 : key->dport;
	t->proto = key->proto;
	t->kind = RVS_KEY_TEMPLATE;
	t->pad[0] = 0;
	t->pad[1] = 0;
	if (flags & RVS_SVC_F_FWMARK) {
		t->daddr = bpf_htonl(READ_ONCE(svc->mark));
		t->dport = 0;
		t->proto = 0;
	}
}

/* The key of the template connection `key` was made through, from the bits its service had then
 * (`c->tmpl`): the same template whatever became of the service. Without them (a netmask that is
 * no prefix), through the service as it is now; 0 when there is none. A firewall-mark
 * service's connection finds its mark again through the classifier. */
static __always_inline int controlling_key(const struct RvsConnKey *key, const struct RvsConn *c,
					   struct RvsConnKey *t)
{
	__u8 bits = c->tmpl;
	__u32 prefix = bits & RVS_TMPL_PREFIX;
	struct RvsConfig *cfg;
	struct RvsSvc *svc;
	__u32 mark = 0;

	if (c->flags & RVS_CONN_F_FWMARK) {
		cfg = config_get();
		if (cfg)
			mark = mark_classify(cfg, key->proto, key->daddr, key->dport);
		if (!mark)
			return 0;
	}
	if (!(bits & RVS_TMPL_VALID)) {
		svc = mark ? svc_of_mark(mark) : svc_lookup(key->daddr, key->dport, key->proto);
		if (!svc || !(READ_ONCE(svc->flags) & RVS_SVC_F_PERSISTENT))
			return 0;
		template_key(svc, key, t);
		return 1;
	}
	if (prefix > 32)
		return 0;
	t->saddr = prefix ? key->saddr & bpf_htonl(0xffffffffu << (32 - prefix)) : 0;
	t->daddr = mark ? bpf_htonl(mark) : key->daddr;
	t->sport = 0;
	t->dport = (mark || (bits & RVS_TMPL_ANY_PORT)) ? 0 : key->dport;
	t->proto = mark ? 0 : key->proto;
	t->kind = RVS_KEY_TEMPLATE;
	t->pad[0] = 0;
	t->pad[1] = 0;
	return 1;
}

/* One connection fewer under template `tc` (ip_vs_control_del), never below 0; losing its last
 * one re-arms its timeout, as IPVS re-arms a template whose timer fired while it still
 * controlled connections. */
static __always_inline void template_put(struct RvsConn *tc)
{
	__u32 n;
	int i;

	for (i = 0; i < 4; i++) {
		n = READ_ONCE(tc->flags);
		if (!n)
			return;
		if (__sync_val_compare_and_swap(&tc->flags, n, n - 1) == n) {
			if (n == 1)
				WRITE_ONCE(tc->last_seen_ns, bpf_ktime_get_coarse_ns());
			return;
		}
	}
}

/* A connection made through a template is gone: its template controls one fewer. A template
 * that no longer points where the connection went (replaced since) is left alone. */
static __always_inline void template_release(const struct RvsConnKey *key, const struct RvsConn *c)
{
	struct RvsConnKey t = {};
	struct RvsConn *tc;

	if (!(c->flags & RVS_CONN_F_CONTROLLED) || !controlling_key(key, c, &t))
		return;
	tc = bpf_map_lookup_elem(&conns, &t);
	if (!tc || tc->dest != c->dest || tc->dest_gen != c->dest_gen)
		return;
	template_put(tc);
}

/* A connection controlled by a template was established (TCP ESTABLISHED, a UDP reply): its
 * template is assured (ip_vs_control_assure_ct). */
static __always_inline void template_assure(const struct RvsConnKey *key, const struct RvsConn *c)
{
	struct RvsConnKey t = {};
	struct RvsConn *tc;

	if (!(c->flags & RVS_CONN_F_CONTROLLED) || !controlling_key(key, c, &t))
		return;
	tc = bpf_map_lookup_elem(&conns, &t);
	if (tc && tc->dest == c->dest && tc->dest_gen == c->dest_gen &&
	    READ_ONCE(tc->state) == RVS_TEMPLATE_STATE)
		__sync_val_compare_and_swap(&tc->state, RVS_TEMPLATE_STATE, RVS_TEMPLATE_ASSURED);
}

/* The reply 5-tuple of a NAT connection: from the real server to the client. */
static __always_inline struct RvsConnKey nat_reply_key(const struct RvsConnKey *key,
						       const struct RvsConn *c)
{
	struct RvsConnKey r = {
		.saddr = c->daddr,
		.daddr = key->saddr,
		.sport = c->dport,
		.dport = key->sport,
		.proto = key->proto,
	};

	return r;
}

/* Indexes a new NAT connection by its reply tuple. */
static __always_inline int nat_link(struct RvsConnKey *key, struct RvsConn *c)
{
	struct RvsConnKey r = nat_reply_key(key, c);

	return bpf_map_update_elem(&nat_rev, &r, key, BPF_ANY) == 0;
}

/* Takes back the reply index entry of a NAT connection that could not be made. */
static __always_inline void nat_unlink_new(struct RvsConnKey *key, struct RvsConn *c)
{
	struct RvsConnKey r = nat_reply_key(key, c);

	bpf_map_delete_elem(&nat_rev, &r);
}

/* Removes a dead NAT connection's reply index, unless a newer connection took it over. */
static __always_inline void nat_unlink(struct RvsConnKey *key, struct RvsConn *c)
{
	struct RvsConnKey r = nat_reply_key(key, c);
	struct RvsConnKey *fwd;

	if (c->fwd != RVS_FWD_MASQ)
		return;
	fwd = bpf_map_lookup_elem(&nat_rev, &r);
	if (fwd && fwd->saddr == key->saddr && fwd->daddr == key->daddr &&
	    fwd->sport == key->sport && fwd->dport == key->dport && fwd->proto == key->proto)
		bpf_map_delete_elem(&nat_rev, &r);
}

static __always_inline int conn_expired(struct RvsConfig *cfg, struct RvsConn *c, __u8 proto,
					__u32 state, __u64 now)
{
	__u64 last = READ_ONCE(c->last_seen_ns);

	/* Another CPU may have stored a later coarse time than ours: that is not expiry. */
	return now > last && now - last > conn_timeout(cfg, proto, state);
}

/* Move an entry to the state a TCP segment leads to, moving its count between active and
 * inactive when that changes. A lost race means another CPU moved it; nothing to do then. */
static __always_inline void conn_transition(struct RvsConfig *cfg, struct RvsConn *c, __u32 dir,
					    __u8 tcp_flags)
{
	__u32 seen = READ_ONCE(c->state);
	__u32 next;
	int was, is;

	if (seen == RVS_CONN_DEAD)
		return;
	next = cfg->tcp_next[dir][tcp_row(tcp_flags)][seen & (RVS_TCP_STATES - 1)];
	if (next == seen)
		return;
	if (__sync_val_compare_and_swap(&c->state, seen, next) != seen)
		return;
	was = conn_active(cfg, IPPROTO_TCP, seen);
	is = conn_active(cfg, IPPROTO_TCP, next);
	if (was != is) {
		dest_conns_add(c, is, 1);
		dest_conns_add(c, was, -1);
	}
}

/* Whether a SYN on this entry starts a new connection, as IPVS's conn_reuse_mode decides. */
static __always_inline int conn_reusable(struct RvsConfig *cfg, struct RvsConn *c, __u32 state)
{
	__u8 reuse = cfg->tcp_reuse[state & (RVS_TCP_STATES - 1)];

	if (reuse == RVS_REUSE_ALWAYS)
		return 1;
	return reuse == RVS_REUSE_NOOUTPUT && c->fwd != RVS_FWD_MASQ;
}

/* The live entry for this packet, or NULL when there is none: never created, expired (taken out
 * here if the sweeper has not done it yet), or ended by a SYN that starts a new connection. */
static __always_inline struct RvsConn *conn_find(struct RvsConfig *cfg, struct RvsConnKey *key,
						 struct pkt *p, __u64 now)
{
	struct RvsConn *c = bpf_map_lookup_elem(&conns, key);
	__u32 state;

	if (!c)
		return NULL;
	state = READ_ONCE(c->state);
	if (state == RVS_CONN_DEAD)
		return NULL;
	if (conn_expired(cfg, c, p->proto, state, now)) {
		if (conn_kill(cfg, c, p->proto, state)) {
			count(RVS_STAT_CONN_EXPIRED_INLINE);
			nat_unlink(key, c);
			template_release(key, c);
			bpf_map_delete_elem(&conns, key);
		}
		return NULL;
	}
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & TH_SYN) && conn_reusable(cfg, c, state)) {
		if (conn_kill(cfg, c, p->proto, state)) {
			count(RVS_STAT_CONN_REUSED);
			nat_unlink(key, c);
			template_release(key, c);
			bpf_map_delete_elem(&conns, key);
		}
		return NULL;
	}
	return c;
}

/* A new connection's entry for `p`, bound to destination `dest`. */
static __always_inline void conn_fill(struct RvsConfig *cfg, struct pkt *p, __u32 dest,
				      struct RvsDest *d, __u64 now, struct RvsConn *fresh)
{
	fresh->last_seen_ns = now;
	fresh->dest = dest;
	fresh->dest_gen = READ_ONCE(d->generation);
	fresh->fwd = READ_ONCE(d->fwd);
	fresh->daddr = d->addr;
	/* A real server of port 0 (all-ports and firewall-mark services) gets the packet's port:
	 * `dest->port ? dest->port : vport` in ip_vs_schedule. */
	fresh->dport = d->port ? d->port : p->dport;
	if (p->proto == IPPROTO_TCP)
		fresh->state = cfg->tcp_next[input_dir(fresh->fwd)][tcp_row(p->tcp_flags)]
					    [RVS_TCP_STATE_NONE];
	else
		fresh->state = RVS_UDP_STATE;
}

#endif
