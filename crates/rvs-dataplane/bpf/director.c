/* rvs director: the entry points. `rvs_director` runs on every frame of the attached interfaces;
 * `rvs_expire` is run by the daemon through BPF_PROG_TEST_RUN to expire idle connections it
 * found while reading the table in chunks (see docs/dev/dataplane.md, "Expiry");
 * `rvs_sync_install`, run the same way, installs connections received from the MASTER director
 * ("Sync install"). */
#include "create.h"
#include "encap.h"
#include "nat.h"
#include "persist.h"
#include "sched.h"
#include "sync.h"
#include "xmit.h"

char LICENSE[] SEC("license") = "GPL";

/* Find the service of a packet that has no connection: as ip_vs_service_find, the service of its
 * firewall mark first, then its address and port. */
static __always_inline struct RvsSvc *svc_find(struct RvsConfig *cfg, struct pkt *p)
{
	struct RvsSvc *svc = svc_of_mark(mark_classify(cfg, p->proto, p->daddr, p->dport));

	if (svc) {
		count(RVS_STAT_SVC_BY_MARK);
		return svc;
	}
	return svc_lookup(p->daddr, p->dport, p->proto);
}

/* A packet of an existing connection: its TCP transition and its timestamp. */
static __always_inline void conn_touch(struct RvsConfig *cfg, struct RvsConnKey *key, struct RvsConn *c,
				       struct pkt *p, __u64 now)
{
	__u32 before;

	if (p->proto == IPPROTO_TCP) {
		before = READ_ONCE(c->state);
		conn_transition(cfg, c, input_dir(c->fwd), p->tcp_flags);
		/* Established under a template: the template is assured. */
		if ((c->flags & RVS_CONN_F_CONTROLLED) && before != RVS_TCP_STATE_ESTABLISHED &&
		    READ_ONCE(c->state) == RVS_TCP_STATE_ESTABLISHED)
			template_assure(key, c);
	}
	if (READ_ONCE(c->last_seen_ns) != now)
		WRITE_ONCE(c->last_seen_ns, now);
}

/* Whether a connection's real server is still in its service (same slot occupant, available). */
static __always_inline int conn_dest_available(const struct RvsConn *c)
{
	__u32 slot = c->dest;
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &slot);

	return d && READ_ONCE(d->generation) == c->dest_gen && (READ_ONCE(d->flags) & RVS_DEST_F_AVAILABLE);
}

/* Sends a packet to the destination its connection is bound to (`c` may be the entry in the
 * table or, for a connection's first packet, the copy that was just inserted). */
static __always_inline int forward(struct xdp_md *ctx, struct RvsConfig *cfg, const struct RvsConn *c,
				   struct pkt *p)
{
	__u32 slot = c->dest;
	struct RvsDest *d = bpf_map_lookup_elem(&dests, &slot);

	/* IPVS with expire_nodest_conn = 0: packets of a removed real server's connections are
	 * dropped until the entry expires. */
	if (!d || READ_ONCE(d->generation) != c->dest_gen ||
	    !(READ_ONCE(d->flags) & RVS_DEST_F_AVAILABLE))
		return drop(RVS_STAT_DROP_DEST_UNAVAILABLE);

	counters_in(&svc_stats, READ_ONCE(d->svc), p->ip_len);
	counters_in(&dest_stats, slot, p->ip_len);
	switch (c->fwd) {
	case RVS_FWD_DROUTE:
		return xmit_dr(ctx, p, d);
	case RVS_FWD_TUNNEL:
		return xmit_tun(ctx, p, d);
	case RVS_FWD_MASQ:
		return xmit_nat_in(ctx, cfg, p, c);
	case RVS_FWD_LOCAL:
		return pass(RVS_STAT_FWD_LOCAL);
	default:
		return drop(RVS_STAT_DROP_FWD_UNSUPPORTED);
	}
}

SEC("xdp")
int rvs_director(struct xdp_md *ctx)
{
	struct RvsConnKey key = {};
	struct RvsConn fresh = {};
	struct RvsConfig *cfg;
	struct RvsConn *c = NULL;
	struct RvsConnKey *fkey;
	int nat, not_virtual = 0, held = 0;
	__u32 state;
	struct RvsSvc *svc;
	struct RvsDest *d;
	struct pkt p = {};
	__u32 dest;
	__u64 now;
	int verdict;

	count(RVS_STAT_RX_FRAMES);
	verdict = parse(ctx, &p);
	if (verdict != PARSED && verdict != PARSED_ICMP)
		return verdict;
	cfg = config_get();
	if (!cfg)
		return XDP_PASS;
	if (verdict == PARSED_ICMP) {
		if (READ_ONCE(cfg->flags) & RVS_CFG_F_NAT)
			return nat_icmp(ctx, cfg, &p, bpf_ktime_get_coarse_ns());
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);
	}

	key.saddr = p.saddr;
	key.daddr = p.daddr;
	key.sport = p.sport;
	key.dport = p.dport;
	key.proto = p.proto;
	now = bpf_ktime_get_coarse_ns();

	/* With NAT services, a packet to an address that is not virtual is looked up in the reply
	 * index first: a real server's reply then costs no miss in the (large) connection table.
	 * Connections are keyed by their client side, to a virtual address; only those of an
	 * address just removed (kept until they expire or the service comes back) are not, so
	 * anything that is no reply still goes the usual way. The small `vips` map stays in cache. */
	/* A VRRP backup does not forward for the addresses the master holds: the kernel gets
	 * what reaches it anyway (it does not own them, so routes or drops it). */
	if (READ_ONCE(cfg->flags) & RVS_CFG_F_STANDBY) {
		struct RvsVip *standby = bpf_map_lookup_elem(&vips, &p.daddr);

		if (standby && (READ_ONCE(standby->flags) & RVS_VIP_F_STANDBY))
			return pass(RVS_STAT_PASS_STANDBY);
	}
	nat = READ_ONCE(cfg->flags) & RVS_CFG_F_NAT;
	if (nat && !bpf_map_lookup_elem(&vips, &p.daddr)) {
		fkey = bpf_map_lookup_elem(&nat_rev, &key);
		if (fkey)
			return nat_reply(ctx, cfg, &p, fkey, now);
		not_virtual = 1;
	}

	c = conn_find(cfg, &key, &p, now);
	if (c && (READ_ONCE(cfg->flags) & RVS_CFG_F_EXPIRE_NODEST_CONN) && !conn_dest_available(c)) {
		/* expire_nodest_conn = 1: the connection of a real server that left goes at once,
		 * and this packet is scheduled anew (a TCP segment other than SYN is then dropped). */
		state = READ_ONCE(c->state);
		if (state != RVS_CONN_DEAD && conn_kill(cfg, c, key.proto, state)) {
			count(RVS_STAT_CONN_EXPIRED_NODEST);
			nat_unlink(&key, c);
			template_release(&key, c);
			bpf_map_delete_elem(&conns, &key);
		}
		c = NULL;
	}
	if (c) {
		conn_touch(cfg, &key, c, &p, now);
		return forward(ctx, cfg, c, &p);
	}

	svc = svc_find(cfg, &p);
	if (!svc)
		return pass(not_virtual ? RVS_STAT_PASS_NAT_NO_CONN : RVS_STAT_PASS_NOT_SERVICE);
	/* IPVS schedules TCP only on SYN (sloppy_tcp = 0). */
	if (p.proto == IPPROTO_TCP && !(p.tcp_flags & TH_SYN))
		return drop(RVS_STAT_DROP_TCP_NO_CONN);
	if (READ_ONCE(svc->flags) & RVS_SVC_F_PERSISTENT) {
		held = sched_persist(cfg, svc, &p, &key, now, &dest);
		if (held < 0)
			return drop(RVS_STAT_DROP_NO_DEST);
	} else if (schedule(svc, &p, &dest) < 0) {
		return drop(RVS_STAT_DROP_NO_DEST);
	}
	d = bpf_map_lookup_elem(&dests, &dest);
	if (held > 0) {
		/* Controlled by its template, which it finds again from its own key and these bits. */
		fresh.flags = RVS_CONN_F_CONTROLLED |
			      ((READ_ONCE(svc->flags) & RVS_SVC_F_FWMARK) ? RVS_CONN_F_FWMARK : 0);
		fresh.tmpl = (__u8)READ_ONCE(svc->tmpl);
		fresh.dest = dest;
		fresh.dest_gen = d ? READ_ONCE(d->generation) : 0;
	}
	if (!d) {
		if (held > 0)
			template_release(&key, &fresh);
		return drop(RVS_STAT_DROP_NO_DEST);
	}
	/* One-packet scheduling (-o): each UDP datagram goes where it is scheduled and leaves no
	 * entry, as IPVS never hashes its IP_VS_CONN_F_ONE_PACKET connections; each counts as a
	 * connection in the statistics. (Replies of a NAT service are then not translated, as in
	 * IPVS.) */
	if (p.proto == IPPROTO_UDP && (READ_ONCE(svc->flags) & RVS_SVC_F_ONE_PACKET)) {
		conn_fill(cfg, &p, dest, d, now, &fresh);
		counters_conn(&svc_stats, READ_ONCE(d->svc));
		counters_conn(&dest_stats, dest);
		count(RVS_STAT_CONN_ONE_PACKET);
		if (held > 0)	/* made and gone at once, as IPVS's one-packet connections */
			template_release(&key, &fresh);
		return forward(ctx, cfg, &fresh, &p);
	}
	switch (conn_create(cfg, &key, &p, dest, d, now, &fresh, &c)) {
	case CREATED:
		return forward(ctx, cfg, &fresh, &p);
	case RACED:
		if (held > 0)	/* the connection another CPU made holds the template */
			template_release(&key, &fresh);
		conn_touch(cfg, &key, c, &p, now);
		return forward(ctx, cfg, c, &p);
	default:	/* FULL, DYING: counted */
		if (held > 0)
			template_release(&key, &fresh);
		return XDP_DROP;
	}
}

/* Context of one run of the expiry program. */
struct expiry {
	__u64 now;
	__u64 expired;
};

/* Re-checks one candidate with the packet path's own rules: an expired entry is killed (its
 * count taken back by whoever wins the compare-and-swap), then deleted. A DEAD entry is left to
 * the CPU that killed it, which deletes it right after: deleting it here could delete a new
 * entry under the same key instead. An entry refreshed since the daemon read it is left alone. */
static long expire_one(__u32 i, void *ctx)
{
	struct expiry *x = ctx;
	struct RvsExpireBatch *batch;
	struct RvsConfig *cfg;
	struct RvsConnKey key;
	struct RvsConn *c;
	__u32 zero = 0, state;

	if (i >= RVS_EXPIRE_BATCH)
		return 1;
	batch = bpf_map_lookup_elem(&expire, &zero);
	cfg = config_get();
	if (!batch || !cfg)
		return 1;
	key = batch->keys[i];
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	state = READ_ONCE(c->state);
	if (state == RVS_CONN_DEAD)
		return 0;
	if (key.kind == RVS_KEY_TEMPLATE) {
		if (template_expired(svc_lookup(key.daddr, key.dport, key.proto), c, x->now) &&
		    template_kill(c, state)) {
			bpf_map_delete_elem(&conns, &key);
			x->expired++;
		}
		return 0;
	}
	if (conn_expired(cfg, c, key.proto, state, x->now) && conn_kill(cfg, c, key.proto, state)) {
		nat_unlink(&key, c);
		template_release(&key, c);
		bpf_map_delete_elem(&conns, &key);
		x->expired++;
	}
	return 0;
}

SEC("xdp")
int rvs_expire(struct xdp_md *ctx)
{
	struct expiry x = { .now = bpf_ktime_get_coarse_ns() };
	struct RvsExpireBatch *batch;
	__u32 zero = 0, n;

	batch = bpf_map_lookup_elem(&expire, &zero);
	if (!batch)
		return XDP_ABORTED;
	n = READ_ONCE(batch->count);
	if (n > RVS_EXPIRE_BATCH)
		n = RVS_EXPIRE_BATCH;
	bpf_loop(n, expire_one, &x, 0);
	count_n(RVS_STAT_CONN_EXPIRED_SWEEP, x.expired);
	return XDP_PASS;
}

/* Installs the batch of synchronised entries in `sync_in`, in order, and writes back how many
 * were installed, updated, skipped (their destination gone included) and refused for want of
 * room. */
SEC("xdp")
int rvs_sync_install(struct xdp_md *ctx)
{
	struct sync_run run = { .now = bpf_ktime_get_coarse_ns() };
	struct RvsSyncBatch *batch;
	__u32 zero = 0, n;

	batch = bpf_map_lookup_elem(&sync_in, &zero);
	if (!batch)
		return XDP_ABORTED;
	n = READ_ONCE(batch->count);
	if (n > RVS_SYNC_BATCH)
		n = RVS_SYNC_BATCH;
	bpf_loop(n, sync_one, &run, 0);
	batch->installed = run.installed;
	batch->updated = run.updated;
	batch->skipped = run.skipped + run.no_dest;
	batch->full = run.full;
	count_n(RVS_STAT_SYNC_INSTALLED, run.installed);
	count_n(RVS_STAT_SYNC_UPDATED, run.updated);
	count_n(RVS_STAT_SYNC_SKIPPED, run.skipped);
	count_n(RVS_STAT_SYNC_NO_DEST, run.no_dest);
	count_n(RVS_STAT_SYNC_FULL, run.full);
	return XDP_PASS;
}
