/* NAT (masquerading) as IPVS does it: requests get the virtual address and port rewritten to
 * the real server's, replies from the real server get them rewritten back; checksums are
 * updated incrementally (a UDP checksum of zero stays zero); the director forwards between its
 * networks as a router would (TTL decremented).
 *
 * Forwarding: bpf_fib_lookup() gives the egress interface and next-hop MAC from the kernel's
 * routing and neighbour tables, and the frame is redirected without entering the kernel's stack.
 * When the FIB cannot say (no neighbour entry yet, or the packet exceeds the egress MTU), the
 * rewritten packet is handed to the kernel, which routes it, resolves the neighbour, or answers
 * with ICMP: the kernel's own forwarding is the fallback, not the path. */
#ifndef RVS_NAT_H
#define RVS_NAT_H

#include "conn.h"
#include "csum.h"

#define AF_INET_ 2

/* The L4 checksum field of a TCP or UDP packet (NULL for UDP without a checksum). */
static __always_inline __u16 *l4_csum(struct iphdr *ip, void *data_end)
{
	void *l4 = (void *)(ip + 1);

	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return NULL;
		return &th->check;
	}
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end || uh->check == 0)
			return NULL;
		return &uh->check;
	}
	return NULL;
}

/* The source (`src`) or destination port field of a TCP or UDP header. */
static __always_inline __u16 *l4_port(struct iphdr *ip, void *data_end, int src)
{
	__u16 *ports = (void *)(ip + 1);

	if ((void *)(ports + 2) > data_end)
		return NULL;
	return src ? &ports[0] : &ports[1];
}

/* Rewrites an address and port of the packet (source or destination) and every checksum that
 * covers them. */
static __always_inline int nat_rewrite(struct iphdr *ip, void *data_end, int src, __u32 addr,
				       __u16 port)
{
	__u32 *a = src ? &ip->saddr : &ip->daddr;
	__u16 *pf = l4_port(ip, data_end, src);
	__u16 *csum = l4_csum(ip, data_end);
	__u32 old_addr = *a;
	__u16 old_port;

	if (!pf)
		return -1;
	old_port = *pf;
	*a = addr;
	*pf = port;
	csum_replace4(&ip->check, old_addr, addr);
	if (csum) {
		csum_replace4(csum, old_addr, addr);	/* pseudo-header */
		csum_replace2(csum, old_port, port);
		if (ip->protocol == IPPROTO_UDP && *csum == 0)
			*csum = 0xffff;			/* 0 means "no checksum" in UDP */
	}
	return 0;
}

static __always_inline void ip_decrease_ttl(struct iphdr *ip)
{
	__u16 old = *(__u16 *)&ip->ttl;

	ip->ttl--;
	csum_replace2(&ip->check, old, *(__u16 *)&ip->ttl);
}

/* Sends a rewritten packet on as a router: the FIB's next hop, TTL decremented; or hands it to
 * the kernel's routing when the FIB cannot tell (counted), or always when the configuration
 * says so (RVS_CFG_F_NAT_KERNEL_ROUTE, for measuring the two against each other). `ok_stat`
 * counts a redirect. */
static __always_inline int nat_route(struct xdp_md *ctx, struct RvsConfig *cfg, struct ethhdr *eth,
				     struct iphdr *ip, __u32 ok_stat)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (READ_ONCE(cfg->flags) & RVS_CFG_F_NAT_KERNEL_ROUTE)
		return pass(RVS_STAT_PASS_NAT_KERNEL_ROUTE);

	fib.family = AF_INET_;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return pass(RVS_STAT_PASS_NAT_KERNEL_ROUTE);
	ip_decrease_ttl(ip);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	count(ok_stat);
	if (fib.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(fib.ifindex, 0);
}

/* A request of a NAT connection: to the real server's address and port. */
static __always_inline int xmit_nat_in(struct xdp_md *ctx, struct RvsConfig *cfg, struct pkt *p,
				       const struct RvsConn *c)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = p->ip;

	if ((void *)(ip + 1) > data_end)
		return drop(RVS_STAT_DROP_L4_MALFORMED);
	if (ip->ttl <= 1)
		return drop(RVS_STAT_DROP_TTL_EXCEEDED);
	if (nat_rewrite(ip, data_end, 0, c->daddr, c->dport))
		return drop(RVS_STAT_DROP_L4_MALFORMED);
	return nat_route(ctx, cfg, p->eth, ip, RVS_STAT_FWD_NAT_IN);
}

/* A packet from a real server whose tuple is in the reply index (`fkey`: its connection's key):
 * rewritten back to the virtual address and port and sent to the client, or to the kernel
 * untouched when the connection is no longer live. */
static __always_inline int nat_reply(struct xdp_md *ctx, struct RvsConfig *cfg, struct pkt *p,
				     const struct RvsConnKey *fkey, __u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct RvsConnKey key = *fkey;
	struct RvsDest *d;
	struct RvsConn *c;
	__u32 state, dest;

	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return pass(RVS_STAT_PASS_NAT_NO_CONN);
	state = READ_ONCE(c->state);
	if (state == RVS_CONN_DEAD || c->fwd != RVS_FWD_MASQ || c->daddr != p->saddr ||
	    c->dport != p->sport || conn_expired(cfg, c, p->proto, state, now))
		return pass(RVS_STAT_PASS_NAT_NO_CONN);
	dest = c->dest;
	d = bpf_map_lookup_elem(&dests, &dest);
	if (!d || READ_ONCE(d->generation) != c->dest_gen)
		return pass(RVS_STAT_PASS_NAT_NO_CONN);
	if ((void *)(p->ip + 1) > data_end)
		return drop(RVS_STAT_DROP_L4_MALFORMED);
	/* As IPVS, where ip_forward drops it before the connection sees it. */
	if (p->ip->ttl <= 1)
		return drop(RVS_STAT_DROP_TTL_EXCEEDED);

	if (p->proto == IPPROTO_TCP) {
		state = READ_ONCE(c->state);
		conn_transition(cfg, c, RVS_DIR_OUTPUT, p->tcp_flags);
		if ((c->flags & RVS_CONN_F_CONTROLLED) && state != RVS_TCP_STATE_ESTABLISHED &&
		    READ_ONCE(c->state) == RVS_TCP_STATE_ESTABLISHED)
			template_assure(&key, c);
	} else if (c->flags & RVS_CONN_F_CONTROLLED) {
		/* A UDP reply assures the template (udp_state_transition, output direction). */
		template_assure(&key, c);
	}
	if (READ_ONCE(c->last_seen_ns) != now)
		WRITE_ONCE(c->last_seen_ns, now);
	counters_out(&svc_stats, READ_ONCE(d->svc), p->ip_len);
	counters_out(&dest_stats, dest, p->ip_len);

	if (nat_rewrite(p->ip, data_end, 1, key.daddr, key.dport))
		return drop(RVS_STAT_DROP_L4_MALFORMED);
	return nat_route(ctx, cfg, p->eth, p->ip, RVS_STAT_FWD_NAT_OUT);
}

#endif

/* ICMP errors that concern a NAT connection are translated as IPVS does (ip_vs_nat_icmp): from
 * the real server's side, the outer source and the quoted packet's destination become the
 * virtual address and port; from the client's side, the outer destination and the quoted
 * packet's source become the real server's. IPVS handles destination-unreachable, source-quench
 * and time-exceeded. */
#define ICMP_DEST_UNREACH_ 3
#define ICMP_SOURCE_QUENCH_ 4
#define ICMP_TIME_EXCEEDED_ 11

struct icmp_err {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 unused;
};

/* Rewrites a 32-bit field inside the ICMP message and keeps the checksums that cover it right:
 * the quoted IP header's (when `ip_csum`) and the ICMP message's. */
static __always_inline void icmp_rewrite4(struct icmp_err *icmp, __u16 *ip_csum, __u32 *field, __u32 to)
{
	__u32 from = *field;
	__u16 old_csum = *ip_csum;

	*field = to;
	csum_replace4(ip_csum, from, to);
	csum_replace4(&icmp->checksum, from, to);
	csum_replace2(&icmp->checksum, old_csum, *ip_csum);
}

static __always_inline int nat_icmp(struct xdp_md *ctx, struct RvsConfig *cfg, struct pkt *p, __u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct icmp_err *icmp = (void *)(p->ip + 1);
	struct RvsConnKey key, *fkey;
	struct iphdr *inner;
	struct RvsConn *c;
	__u16 *ports, old;
	__u32 state;
	int from_client;

	if ((void *)(icmp + 1) > data_end)
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);
	if (icmp->type != ICMP_DEST_UNREACH_ && icmp->type != ICMP_SOURCE_QUENCH_ &&
	    icmp->type != ICMP_TIME_EXCEEDED_)
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);
	inner = (void *)(icmp + 1);
	ports = (void *)(inner + 1);
	/* The quoted packet must carry its ports: a first fragment (or no fragment) whose length
	 * covers them, as IPVS requires of the packets it translates errors about. */
	if ((void *)(ports + 2) > data_end || inner->ihl != 5 ||
	    (inner->protocol != IPPROTO_TCP && inner->protocol != IPPROTO_UDP) ||
	    (bpf_ntohs(inner->frag_off) & IP_OFFSET) || bpf_ntohs(inner->tot_len) < sizeof(*inner) + 4)
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);

	/* From the client: the quoted packet is a reply it got (virtual address to client),
	 * whose reversal is the connection's key. From a real server (or a router on its side):
	 * the quoted packet is a request as the director sent it on (client to real server),
	 * whose reversal is the reply index's key. */
	key.saddr = inner->daddr;
	key.daddr = inner->saddr;
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = inner->protocol;
	key.kind = RVS_KEY_CONN;
	__builtin_memset(key.pad, 0, sizeof(key.pad));
	from_client = is_vip(p->daddr);
	if (!from_client) {
		fkey = bpf_map_lookup_elem(&nat_rev, &key);
		if (!fkey)
			return pass(RVS_STAT_PASS_NOT_TCP_UDP);
		key = *fkey;
	}
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);
	state = READ_ONCE(c->state);
	if (state == RVS_CONN_DEAD || c->fwd != RVS_FWD_MASQ ||
	    conn_expired(cfg, c, key.proto, state, now))
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);
	/* From a real server's side, the quoted request must have gone to this connection's real
	 * server (an index entry that outlived a replacement of its connection does not count). */
	if (!from_client && (c->daddr != inner->daddr || c->dport != ports[1]))
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);
	if (p->ip->ttl <= 1)
		return drop(RVS_STAT_DROP_TTL_EXCEEDED);

	if (from_client) {
		/* Outer destination and quoted source: virtual address -> real server. */
		__u32 vip = p->ip->daddr;

		p->ip->daddr = c->daddr;
		csum_replace4(&p->ip->check, vip, c->daddr);
		icmp_rewrite4(icmp, &inner->check, &inner->saddr, c->daddr);
		old = ports[0];
		ports[0] = c->dport;
	} else {
		/* Outer source and quoted destination: real server -> virtual address. */
		__u32 from = p->ip->saddr;

		p->ip->saddr = key.daddr;
		csum_replace4(&p->ip->check, from, key.daddr);
		icmp_rewrite4(icmp, &inner->check, &inner->daddr, key.daddr);
		old = ports[1];
		ports[1] = key.dport;
	}
	csum_replace2(&icmp->checksum, old, from_client ? c->dport : key.dport);
	count(RVS_STAT_FWD_NAT_ICMP);
	return nat_route(ctx, cfg, p->eth, p->ip, from_client ? RVS_STAT_FWD_NAT_IN : RVS_STAT_FWD_NAT_OUT);
}
