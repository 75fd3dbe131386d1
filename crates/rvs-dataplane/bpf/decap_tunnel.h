/* Parsing the tunnel headers between the outer IPv4 header and the inner packet: GRE (RFC 2784,
 * with the checksum of RFC 2784 and nothing of RFC 2890) and GUE (variant 0 version 0 with its
 * remote checksum offload option, and version 1, the direct encapsulation fou accepts too), in the
 * layouts the kernel's IPVS sends (`ipvs_gre_encap`, `ipvs_gue_encap`).
 *
 * Each parser returns TUNNEL_OK with `struct tunnel` filled, or the XDP action it counted. */
#ifndef RVS_DECAP_TUNNEL_H
#define RVS_DECAP_TUNNEL_H

#include "decap_csum.h"

/* Returned by the parsers when the packet can be decapsulated. */
#define TUNNEL_OK (-1)

/* GRE flags and version (host order of the first 16 bits). */
#define GRE_CSUM 0x8000
/* Routing, key, sequence number, strict source route, first recursion bit: RFC 2784 says to
 * discard a packet with any of these unless the receiver implements RFC 1701; the kernel's GRE
 * devices do, so such packets are left to them. Bits 6-12 are ignored on receipt (RFC 2784). */
#define GRE_UNSUPPORTED 0x7c00
#define GRE_VERSION 0x0007
#define GRE_HLEN 4
#define GRE_CSUM_LEN 4

/* GUE (include/net/gue.h): the first byte is version (2 bits), C (1 bit), hlen (5 bits). */
#define GUE_HLEN 4
#define GUE_VERSION(b) ((b) >> 6)
#define GUE_CONTROL(b) (((b) >> 5) & 1)
#define GUE_OPTLEN(b) (((b) & 0x1f) * 4)
/* Standard flag: private flags follow in the options (host order of the 16-bit flags). */
#define GUE_FLAG_PRIV 0x0001
#define GUE_LEN_PRIV 4
/* Private flag: remote checksum offload, two 16-bit fields (start, offset) follow. */
#define GUE_PFLAG_REMCSUM 0x80000000u
#define GUE_PLEN_REMCSUM 4

/* What a parser found. */
struct tunnel {
	__u32 hdr_len;		/* bytes from the end of the outer IPv4 header to the inner packet */
	__u32 inner_max;	/* bytes the tunnel carries for the inner packet */
	__u32 decap_stat;	/* counter of a successful decapsulation */
	__u32 remcsum;		/* GUE remote checksum offload present */
	__u32 remcsum_start;	/* where its sum starts, from the start of the inner packet */
	__u32 remcsum_offset;	/* where the result goes, from the start of the inner packet */
};

/* GRE at `ip + ihl`; `ip_len` (the outer total length) is known to be within the frame. */
static __always_inline int parse_gre(struct xdp_md *ctx, struct iphdr *ip, __u32 ihl, __u32 ip_len,
				     void *data_end, struct tunnel *t)
{
	__u8 *gre = (__u8 *)ip + ihl;
	__u16 flags;

	if ((void *)(gre + GRE_HLEN) > data_end || ip_len < ihl + GRE_HLEN)
		return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
	flags = bpf_ntohs(*(__be16 *)gre);
	if ((flags & (GRE_UNSUPPORTED | GRE_VERSION)) || *(__be16 *)(gre + 2) != bpf_htons(ETH_P_IP))
		return pass(RVS_DECAP_STAT_PASS_GRE_UNSUPPORTED);

	t->hdr_len = GRE_HLEN;
	if (flags & GRE_CSUM) {
		__u64 sum = 0;

		if (ip_len < ihl + GRE_HLEN + GRE_CSUM_LEN)
			return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
		/* The checksum covers the GRE header and everything after it. */
		if (csum_frame(ctx, ETH_HLEN + ihl, ip_len - ihl, &sum) || csum_fold(sum) != 0xffff)
			return drop(RVS_DECAP_STAT_DROP_GRE_CHECKSUM);
		t->hdr_len += GRE_CSUM_LEN;
	}
	t->inner_max = ip_len - ihl - t->hdr_len;
	t->decap_stat = RVS_DECAP_STAT_DECAP_GRE;
	return TUNNEL_OK;
}

/* GUE after the UDP header at `ip + ihl`, whose destination port is a GUE port. */
static __always_inline int parse_gue(struct xdp_md *ctx, struct iphdr *ip, __u32 ihl, __u32 ip_len,
				     void *data_end, struct tunnel *t)
{
	struct udphdr *uh = (void *)ip + ihl;
	__u8 *gue = (__u8 *)(uh + 1);
	__u32 ulen;
	__u8 first;

	if ((void *)(gue + GUE_HLEN) > data_end)
		return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
	ulen = bpf_ntohs(uh->len);
	if (ulen < sizeof(*uh) + GUE_HLEN || ulen > ip_len - ihl)
		return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
	first = gue[0];
	t->remcsum = 0;
	if (GUE_VERSION(first) == 1) {
		/* Version 1: the payload is the inner IP packet itself, told apart by its version. */
		if ((first >> 4) != 4)
			return pass(RVS_DECAP_STAT_PASS_GUE_UNSUPPORTED);
		t->hdr_len = sizeof(*uh);
	} else {
		__u32 optlen = GUE_OPTLEN(first);
		__u16 flags = bpf_ntohs(*(__be16 *)(gue + 2));

		if (GUE_VERSION(first) != 0 || GUE_CONTROL(first) || gue[1] != IPPROTO_IPIP ||
		    (flags & ~GUE_FLAG_PRIV))
			return pass(RVS_DECAP_STAT_PASS_GUE_UNSUPPORTED);
		if (ulen < sizeof(*uh) + GUE_HLEN + optlen)
			return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
		if (flags & GUE_FLAG_PRIV) {
			__u8 *opt = gue + GUE_HLEN;
			__u32 pflags;

			if (optlen < GUE_LEN_PRIV || (void *)(opt + GUE_LEN_PRIV) > data_end)
				return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
			pflags = bpf_ntohl(*(__be32 *)opt);
			if (pflags & ~GUE_PFLAG_REMCSUM)
				return pass(RVS_DECAP_STAT_PASS_GUE_UNSUPPORTED);
			if (pflags & GUE_PFLAG_REMCSUM) {
				__u8 *rc = opt + GUE_LEN_PRIV;

				if (optlen < GUE_LEN_PRIV + GUE_PLEN_REMCSUM ||
				    (void *)(rc + GUE_PLEN_REMCSUM) > data_end)
					return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
				t->remcsum = 1;
				t->remcsum_start = bpf_ntohs(*(__be16 *)rc);
				t->remcsum_offset = bpf_ntohs(*(__be16 *)(rc + 2));
			}
		}
		t->hdr_len = sizeof(*uh) + GUE_HLEN + optlen;
	}

	/* Zero means the sender computed no checksum (allowed over IPv4). */
	if (uh->check) {
		__u64 sum = (__u64)ip->saddr + ip->daddr + bpf_htons(IPPROTO_UDP) + uh->len;

		if (csum_frame(ctx, ETH_HLEN + ihl, ulen, &sum) || csum_fold(sum) != 0xffff)
			return drop(RVS_DECAP_STAT_DROP_UDP_CHECKSUM);
	}
	t->inner_max = ulen - t->hdr_len;
	t->decap_stat = RVS_DECAP_STAT_DECAP_GUE;
	return TUNNEL_OK;
}

#endif
