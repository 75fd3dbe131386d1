/* Parsing Ethernet / IPv4 / TCP / UDP with every bound checked against the frame.
 *
 * Policy: whatever cannot be shown to be for a virtual service goes to the kernel untouched (the
 * kernel validates IP itself and drops what is malformed); what is addressed to a virtual address
 * but cannot be handled safely (fragments, IP options, broken L4 headers) is dropped, so that the
 * director's own stack never answers it. Every outcome is counted. */
#ifndef RVS_PARSE_H
#define RVS_PARSE_H

#include "stats.h"

/* The fields of a parsed packet the director needs; addresses and ports in network order. */
struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u16 ip_len;		/* IPv4 total length, host order: what IPVS counts as bytes */
	__u8 proto;
	__u8 tcp_flags;
};

/* Returned by parse() when the packet is a well-formed TCP/UDP packet in `p`. */
#define PARSED (-1)
/* Returned by parse() for an unfragmented ICMP packet without IP options (`p` has its IP
 * header and addresses): possibly an error about a connection. */
#define PARSED_ICMP (-2)

static __always_inline int is_vip(__u32 daddr)
{
	return bpf_map_lookup_elem(&vips, &daddr) != NULL;
}

/* Drop if the packet is addressed to a virtual address, else pass; each with its own counter. */
static __always_inline int refuse(__u32 daddr, __u32 drop_stat, __u32 pass_stat)
{
	return is_vip(daddr) ? drop(drop_stat) : pass(pass_stat);
}

static __always_inline int parse(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	void *l4;
	__u32 ihl, frame_ip_len;
	__u16 frag;

	if ((void *)(eth + 1) > data_end)
		return pass(RVS_STAT_PASS_SHORT_ETH);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return pass(RVS_STAT_PASS_NOT_IPV4);

	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return pass(RVS_STAT_PASS_IP_MALFORMED);
	ihl = ip->ihl * 4;
	frame_ip_len = data_end - (void *)ip;
	p->ip_len = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || ihl < sizeof(*ip) || ihl > frame_ip_len ||
	    p->ip_len < ihl || p->ip_len > frame_ip_len)
		return pass(RVS_STAT_PASS_IP_MALFORMED);

	p->eth = eth;
	p->ip = ip;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->proto = ip->protocol;
	frag = bpf_ntohs(ip->frag_off);
	if (p->proto == IPPROTO_ICMP && !(frag & (IP_MF | IP_OFFSET)) && ihl == sizeof(*ip))
		return PARSED_ICMP;
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return pass(RVS_STAT_PASS_NOT_TCP_UDP);

	if (frag & (IP_MF | IP_OFFSET))
		return refuse(p->daddr, RVS_STAT_DROP_FRAGMENT, RVS_STAT_PASS_FRAGMENT);
	if (ihl != sizeof(*ip))
		return refuse(p->daddr, RVS_STAT_DROP_IP_OPTIONS, RVS_STAT_PASS_NOT_SERVICE);

	/* No options from here on, so the L4 header sits at a constant offset. */
	l4 = (void *)(ip + 1);
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end || th->doff < 5 ||
		    (__u32)th->doff * 4 > (__u32)p->ip_len - sizeof(*ip))
			return refuse(p->daddr, RVS_STAT_DROP_L4_MALFORMED, RVS_STAT_PASS_L4_MALFORMED);
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
	} else {
		struct udphdr *uh = l4;
		__u16 ulen;

		if ((void *)(uh + 1) > data_end)
			return refuse(p->daddr, RVS_STAT_DROP_L4_MALFORMED, RVS_STAT_PASS_L4_MALFORMED);
		ulen = bpf_ntohs(uh->len);
		if (ulen < sizeof(*uh) || ulen > p->ip_len - sizeof(*ip))
			return refuse(p->daddr, RVS_STAT_DROP_L4_MALFORMED, RVS_STAT_PASS_L4_MALFORMED);
		p->sport = uh->source;
		p->dport = uh->dest;
		p->tcp_flags = 0;
	}
	return PARSED;
}

#endif
