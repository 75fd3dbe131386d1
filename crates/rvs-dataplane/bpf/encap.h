/* TUN forwarding: the request is encapsulated to the real server as IPVS does it (IPIP, GUE or
 * GRE; ip_vs_tunnel_xmit in net/netfilter/ipvs/ip_vs_xmit.c): outer source is the director's
 * address on the egress interface, outer destination the real server, TTL and DSCP copied from
 * the inner header (ECN as INET_ECN_encapsulate), DF copied; packets too big for the egress MTU
 * once encapsulated get ICMP "fragmentation needed" with the MTU less the tunnel's overhead. */
#ifndef RVS_ENCAP_H
#define RVS_ENCAP_H

#include "csum.h"
#include "icmp.h"

#define IPPROTO_GRE_ 47
#define GRE_F_CSUM 0x8000
#define ETH_P_IP_BE bpf_htons(ETH_P_IP)

/* The GUE header (draft-ietf-intarea-gue, variant 0) IPVS puts after the UDP header. */
struct guehdr_ {
	__u8 hlen_c_ver;	/* version (2 bits) | C (1) | hlen in 4-byte words (5) */
	__u8 proto_ctype;
	__u16 flags;
};

static __always_inline __u32 tun_overhead(__u8 type, __u8 flags)
{
	switch (type) {
	case RVS_TUN_GUE:
		return sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof(struct guehdr_);
	case RVS_TUN_GRE:
		return sizeof(struct iphdr) + 4 + ((flags & RVS_TUN_F_CSUM) ? 4 : 0);
	default:
		return sizeof(struct iphdr);
	}
}

/* INET_ECN_encapsulate(): copy the inner DSCP and ECN, except that CE becomes ECT(0). */
static __always_inline __u8 ecn_encapsulate(__u8 tos)
{
	return (tos & 3) == 3 ? (tos & ~3) | 2 : tos;
}

/* The UDP source port IPVS picks for GUE (udp_flow_src_port): a flow hash spread over the
 * default local port range 32768-60999, so that receivers' RSS spreads tunnels. */
static __always_inline __u16 gue_src_port(struct pkt *p)
{
	__u32 h = p->saddr ^ (p->daddr * 0x9e3779b1u) ^ (((__u32)p->sport << 16 | p->dport) * 0x85ebca6bu) ^ p->proto;

	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	return (__u16)((((__u64)h * (60999 - 32768)) >> 32) + 32768);
}

static __always_inline int xmit_tun(struct xdp_md *ctx, struct pkt *p, struct RvsDest *d)
{
	__u32 slot = READ_ONCE(d->neigh);
	struct RvsNeigh *n = bpf_map_lookup_elem(&neighs, &slot);
	__u8 type = READ_ONCE(d->tun_type), flags = READ_ONCE(d->tun_flags);
	__u32 over = tun_overhead(type, flags);
	__u16 inner_len = p->ip_len, df, id;
	__u8 tos, ttl;
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 ifindex, mtu;
	__s64 sum;

	if (!n || !(READ_ONCE(n->flags) & RVS_NEIGH_F_VALID))
		return drop(RVS_STAT_DROP_NO_NEIGH);
	mtu = READ_ONCE(n->mtu);
	df = p->ip->frag_off & bpf_htons(IP_DF);
	if (inner_len + over > mtu) {
		/* A packet that fits the link but not the tunnel: tell the client the tunnel's
		 * MTU. One that does not even fit the link is an aggregate (GRO in generic mode),
		 * which cannot be encapsulated here. */
		if (df && inner_len <= mtu)
			return icmp_frag_needed(ctx, p, mtu - over);
		return drop(RVS_STAT_DROP_TUN_TOO_BIG);
	}
	tos = ecn_encapsulate(p->ip->tos);
	ttl = p->ip->ttl;
	id = p->ip->id;

	if (bpf_xdp_adjust_head(ctx, -(int)over))
		return drop(RVS_STAT_DROP_TUN_ADJUST);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return drop(RVS_STAT_DROP_TUN_ADJUST);

	__builtin_memcpy(eth->h_dest, n->dst_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, n->src_mac, ETH_ALEN);
	eth->h_proto = ETH_P_IP_BE;

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = tos;
	ip->tot_len = bpf_htons(inner_len + over);
	ip->id = df ? 0 : id;	/* with DF, 0 as ip_select_ident; without, the inner one */
	ip->frag_off = df;
	ip->ttl = ttl;
	ip->saddr = READ_ONCE(n->src_ip);
	ip->daddr = d->addr;

	switch (type) {
	case RVS_TUN_GUE: {
		struct udphdr *uh = (void *)(ip + 1);
		struct guehdr_ *gh = (void *)(uh + 1);
		__u16 ulen = inner_len + sizeof(*uh) + sizeof(*gh);

		if ((void *)(gh + 1) > data_end)
			return drop(RVS_STAT_DROP_TUN_ADJUST);
		ip->protocol = IPPROTO_UDP;
		uh->source = bpf_htons(gue_src_port(p));
		uh->dest = READ_ONCE(d->tun_port);
		uh->len = bpf_htons(ulen);
		uh->check = 0;
		gh->hlen_c_ver = 0;
		gh->proto_ctype = IPPROTO_IPIP;
		gh->flags = 0;
		/* --tun-csum (and --tun-remcsum, whose option needs an offloaded checksum this
		 * path never has): the full UDP checksum, as udp_set_csum() computes it. */
		if (flags & (RVS_TUN_F_CSUM | RVS_TUN_F_REMCSUM)) {
			sum = csum_frame(ctx, sizeof(*eth) + sizeof(*ip), ulen);
			if (sum < 0)
				return drop(RVS_STAT_DROP_TUN_ADJUST);
			sum += (ip->saddr & 0xffff) + (ip->saddr >> 16) + (ip->daddr & 0xffff) +
			       (ip->daddr >> 16) + bpf_htons(IPPROTO_UDP) + bpf_htons(ulen);
			uh->check = csum_fold(sum) ?: 0xffff;
		}
		break;
	}
	case RVS_TUN_GRE: {
		__u16 *gre = (void *)(ip + 1);

		if ((void *)(gre + 4) > data_end)
			return drop(RVS_STAT_DROP_TUN_ADJUST);
		ip->protocol = IPPROTO_GRE_;
		gre[0] = (flags & RVS_TUN_F_CSUM) ? bpf_htons(GRE_F_CSUM) : 0;
		gre[1] = ETH_P_IP_BE;
		if (flags & RVS_TUN_F_CSUM) {
			gre[2] = 0;
			gre[3] = 0;
			sum = csum_frame(ctx, sizeof(*eth) + sizeof(*ip), inner_len + 8);
			if (sum < 0)
				return drop(RVS_STAT_DROP_TUN_ADJUST);
			gre[2] = csum_fold(sum);
		}
		break;
	}
	default:
		ip->protocol = IPPROTO_IPIP;
	}
	ip_fill_csum(ip);

	ifindex = n->ifindex;
	if (ifindex == ctx->ingress_ifindex) {
		count(RVS_STAT_FWD_TUN_TX);
		return XDP_TX;
	}
	count(RVS_STAT_FWD_TUN_REDIRECT);
	return bpf_redirect(ifindex, 0);
}

#endif
