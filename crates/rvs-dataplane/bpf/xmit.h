/* Sending a packet on to its real server. */
#ifndef RVS_XMIT_H
#define RVS_XMIT_H

#include "stats.h"

/* Direct routing: the IP packet is untouched; the frame is readdressed to the real server's MAC
 * from the egress interface's MAC, and leaves by that interface. */
static __always_inline int xmit_dr(struct xdp_md *ctx, struct pkt *p, struct RvsDest *d)
{
	__u32 slot = READ_ONCE(d->neigh);
	struct RvsNeigh *n = bpf_map_lookup_elem(&neighs, &slot);
	__u32 ifindex;

	if (!n || !(READ_ONCE(n->flags) & RVS_NEIGH_F_VALID))
		return drop(RVS_STAT_DROP_NO_NEIGH);
	__builtin_memcpy(p->eth->h_dest, n->dst_mac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, n->src_mac, ETH_ALEN);
	ifindex = n->ifindex;
	if (ifindex == ctx->ingress_ifindex) {
		count(RVS_STAT_FWD_DR_TX);
		return XDP_TX;
	}
	count(RVS_STAT_FWD_DR_REDIRECT);
	return bpf_redirect(ifindex, 0);
}

#endif
