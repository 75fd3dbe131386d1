/* ICMP errors the director sends itself: "fragmentation needed" when a tunnelled packet would
 * exceed the egress MTU (IPVS's icmp_send from ensure_mtu_is_adequate). */
#ifndef RVS_ICMP_H
#define RVS_ICMP_H

#include "csum.h"
#include "parse.h"

/* What an ICMP error quotes of the offending packet: its IP header (no options here) and the
 * first 8 bytes of its payload. */
#define ICMP_QUOTE (sizeof(struct iphdr) + 8)

struct icmp_frag_needed_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u16 unused;
	__u16 mtu;
};

/* Turns the packet in `p` into an ICMP destination-unreachable / fragmentation-needed reply
 * from the virtual address to the client, sent back out of the receiving interface. */
static __always_inline int icmp_frag_needed(struct xdp_md *ctx, struct pkt *p, __u32 mtu)
{
	__u8 client_mac[ETH_ALEN], our_mac[ETH_ALEN];
	__u32 vip = p->daddr, client = p->saddr;
	int grow = sizeof(struct iphdr) + sizeof(struct icmp_frag_needed_hdr);
	struct icmp_frag_needed_hdr *icmp;
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *ip;
	int len;

	__builtin_memcpy(client_mac, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(our_mac, p->eth->h_dest, ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, -grow))
		return drop(RVS_STAT_DROP_TUN_ADJUST);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	/* Keep the new headers and the quote; drop the rest. */
	len = data_end - data;
	if (bpf_xdp_adjust_tail(ctx, (int)(sizeof(*eth) + grow + ICMP_QUOTE) - len))
		return drop(RVS_STAT_DROP_TUN_ADJUST);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	icmp = (void *)(ip + 1);
	if ((void *)icmp + sizeof(*icmp) + ICMP_QUOTE > data_end)
		return drop(RVS_STAT_DROP_TUN_ADJUST);

	__builtin_memcpy(eth->h_dest, client_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, our_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0;		/* IPTOS_PREC_INTERNETCONTROL, as icmp_send() */
	ip->tot_len = bpf_htons(grow + ICMP_QUOTE);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = vip;
	ip->daddr = client;
	ip_fill_csum(ip);

	icmp->type = 3;		/* destination unreachable */
	icmp->code = 4;		/* fragmentation needed and DF set */
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(mtu);
	icmp->checksum = csum_fold(csum_words(icmp, (sizeof(*icmp) + ICMP_QUOTE) / 2));

	count(RVS_STAT_ICMP_FRAG_NEEDED);
	return XDP_TX;
}

#endif
