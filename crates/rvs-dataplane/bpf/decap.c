/* rvs_decap: decapsulation on a real server of a TUN-mode cluster, for kernels without the ipip,
 * fou or gre modules (or instead of them).
 *
 * An IPv4 packet to one of the configured tunnel endpoint addresses that carries IPIP, GRE or GUE
 * (on a configured UDP port) around an IPv4 packet loses its outer headers and goes to the kernel
 * as the inner packet behind the original Ethernet header (same MAC addresses, EtherType IPv4);
 * the kernel then delivers it to the virtual address held on `lo`. Every frame is counted once
 * in RvsDecapStat (src/decap_abi.rs).
 *
 * Pass or drop. What is not decapsulated goes to the kernel untouched: not ours (not IPv4, not to
 * an endpoint, not an enabled tunnel), not understood (GRE key/sequence/routing/version, GUE
 * control or unknown flags, inner not IPv4) or malformed (outer or inner header cut short, bad
 * IHL or lengths, outer header checksum wrong). The kernel validates it and counts its own
 * errors, a kernel tunnel device may want it (hosts that also have `ipip`/`gre`), and fragments
 * get reassembled there. Only two kinds are dropped: tunnel checksum failures (GRE checksum,
 * GUE's UDP checksum, a GUE remote-checksum field outside the inner packet), as ip_gre and fou
 * drop them, so that corruption never reaches the inner stack; and outer CE on a not-ECT inner
 * packet (RFC 6040, as the kernel's tunnels do). Outer CE on an ECT inner packet marks it CE.
 *
 * Checksums. The outer IPv4 header checksum is verified (nobody else will see that header). The
 * GRE checksum is verified when the C bit is set and GUE's UDP checksum when non-zero, over the
 * bytes as they arrive. Inner checksums are the kernel's business, except that GUE remote
 * checksum offload leaves the inner L4 checksum field holding the pseudo-header sum: it is
 * completed here in software (the kernel's FOU_F_REMCSUM_NOPARTIAL behaviour; XDP cannot mark the
 * skb CHECKSUM_PARTIAL instead).
 *
 * Offload state. Only the outer headers are pulled (bpf_xdp_adjust_head) and the Ethernet header
 * moved after them: the inner packet keeps its place in the buffer, so in generic mode an skb
 * whose inner checksum is still CHECKSUM_PARTIAL (veth between namespaces) keeps a csum_start
 * that points at the inner L4 header, and the kernel skips verifying a checksum that was never
 * computed. What XDP cannot fix: generic mode does not adjust skb->csum, so on a NIC that hands
 * CHECKSUM_COMPLETE skbs, GRE and GUE decapsulation make the kernel verify in software and log
 * "hw csum failure" (IPIP is exact: a valid IPv4 header sums to zero); use native mode on real
 * NICs (`auto` does). Also, a checksum the sender left to offload on the outer header (a kernel
 * encapsulating on the same host and sending through veth) does not verify here, where the
 * kernel would trust the skb instead: only the lab could meet that, and rvs's director computes
 * its outer checksums in full.
 *
 * Not handled (passed): VLAN-tagged frames (drivers normally strip the tag first), IPv6 outer or
 * inner packets, GUE control messages. The inner destination is not checked: like the kernel's
 * fallback tunnel device, any inner packet is handed to the stack, which delivers, forwards or
 * drops it by its own rules. */

#include "decap_tunnel.h"

char LICENSE[] SEC("license") = "GPL";

/* IPv4 fragment bits of frag_off (host order). */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
/* ECN field of the TOS byte. */
#define ECN_MASK 3
#define ECN_CE 3
/* Bounds the verifier can see on offsets into the frame: outer IHL (60) plus the longest tunnel
 * header (UDP 8 + GUE 4 + options 124) and the Ethernet header fit in 9 bits. */
#define OFF_MASK 0x1ff

/* Finds the tunnel header after the outer IPv4 header; returns TUNNEL_OK or the counted action. */
static __always_inline int parse_tunnel(struct xdp_md *ctx, struct iphdr *ip, __u32 ihl, __u32 ip_len,
					void *data_end, struct tunnel *t)
{
	__u32 flags = decap_flags();
	__u8 proto = ip->protocol;

	if (!((proto == IPPROTO_IPIP && (flags & RVS_DECAP_F_IPIP)) ||
	      (proto == IPPROTO_GRE && (flags & RVS_DECAP_F_GRE)) ||
	      (proto == IPPROTO_UDP && (flags & RVS_DECAP_F_GUE))))
		return pass(RVS_DECAP_STAT_PASS_NOT_TUNNEL);
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return pass(RVS_DECAP_STAT_PASS_FRAGMENT);
	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = (void *)ip + ihl;
		__u16 port;

		if ((void *)(uh + 1) > data_end || ip_len < ihl + sizeof(*uh))
			return pass(RVS_DECAP_STAT_PASS_TUNNEL_MALFORMED);
		port = uh->dest;
		if (!bpf_map_lookup_elem(&decap_ports, &port))
			return pass(RVS_DECAP_STAT_PASS_NOT_TUNNEL);
	}
	/* Checked here, once the packet is known to be ours: nobody else will look at this header. */
	if (!ipv4_header_csum_ok(ctx, ip, ihl))
		return pass(RVS_DECAP_STAT_PASS_IP_CHECKSUM);

	if (proto == IPPROTO_GRE)
		return parse_gre(ctx, ip, ihl, ip_len, data_end, t);
	if (proto == IPPROTO_UDP)
		return parse_gue(ctx, ip, ihl, ip_len, data_end, t);
	t->hdr_len = 0;
	t->inner_max = ip_len - ihl;
	t->decap_stat = RVS_DECAP_STAT_DECAP_IPIP;
	t->remcsum = 0;
	return TUNNEL_OK;
}

/* Checks the inner IPv4 header at `inner_off`, propagates Congestion Experienced from the outer
 * header (RFC 6040) and completes a remote-offloaded checksum. Returns TUNNEL_OK or the counted
 * action. */
static __always_inline int prepare_inner(struct xdp_md *ctx, __u32 inner_off, __u8 outer_tos,
					 struct tunnel *t)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *in = data + (inner_off & OFF_MASK);
	__u32 in_ihl, in_len;

	if ((void *)(in + 1) > data_end)
		return pass(RVS_DECAP_STAT_PASS_INNER_MALFORMED);
	in_ihl = in->ihl * 4;
	in_len = bpf_ntohs(in->tot_len);
	if (in->version != 4 || in_ihl < sizeof(*in) || in_len < in_ihl || in_len > t->inner_max)
		return pass(RVS_DECAP_STAT_PASS_INNER_MALFORMED);

	if ((outer_tos & ECN_MASK) == ECN_CE) {
		__u8 inner_ecn = in->tos & ECN_MASK;

		if (inner_ecn == 0)
			return drop(RVS_DECAP_STAT_DROP_ECN);
		if (inner_ecn != ECN_CE) {
			__u16 old = *(__u16 *)in;

			in->tos |= ECN_CE;
			csum_replace2(&in->check, old, *(__u16 *)in);
		}
	}

	if (t->remcsum) {
		__u32 start = t->remcsum_start, offset = t->remcsum_offset;
		__u64 sum = 0;
		__u16 folded;

		/* The sum runs from `start` to the end of the inner packet and must cover the field. */
		if (start > offset || offset + 2 > in_len)
			return drop(RVS_DECAP_STAT_DROP_REMCSUM);
		if (csum_frame(ctx, inner_off + start, in_len - start, &sum))
			return drop(RVS_DECAP_STAT_DROP_REMCSUM);
		/* The field held the pseudo-header sum the sender left for offload; the sum over the
		 * range including it, complemented, is the finished checksum. */
		folded = ~csum_fold(sum);
		if (bpf_xdp_store_bytes(ctx, inner_off + offset, &folded, sizeof(folded)))
			return drop(RVS_DECAP_STAT_DROP_REMCSUM);
	}
	return TUNNEL_OK;
}

SEC("xdp")
int rvs_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ethhdr eth_copy;
	struct tunnel t = {};
	struct iphdr *ip;
	__u32 ihl, ip_len, frame_ip_len, strip;
	__u8 outer_tos;
	int rc;

	count(RVS_DECAP_STAT_RX_FRAMES);
	if ((void *)(eth + 1) > data_end)
		return pass(RVS_DECAP_STAT_PASS_SHORT_ETH);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return pass(RVS_DECAP_STAT_PASS_NOT_IPV4);

	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return pass(RVS_DECAP_STAT_PASS_IP_MALFORMED);
	ihl = ip->ihl * 4;
	ip_len = bpf_ntohs(ip->tot_len);
	frame_ip_len = data_end - (void *)ip;
	if (ip->version != 4 || ihl < sizeof(*ip) || ihl > ip_len || ip_len > frame_ip_len)
		return pass(RVS_DECAP_STAT_PASS_IP_MALFORMED);
	if (!bpf_map_lookup_elem(&decap_addrs, &ip->daddr))
		return pass(RVS_DECAP_STAT_PASS_NOT_LOCAL);

	rc = parse_tunnel(ctx, ip, ihl, ip_len, data_end, &t);
	if (rc != TUNNEL_OK)
		return rc;
	outer_tos = ip->tos;
	strip = (ihl + t.hdr_len) & OFF_MASK;
	__builtin_memcpy(&eth_copy, eth, sizeof(eth_copy));

	/* Helpers below may change the frame: no packet pointer from above is used past here. */
	rc = prepare_inner(ctx, ETH_HLEN + strip, outer_tos, &t);
	if (rc != TUNNEL_OK)
		return rc;

	if (bpf_xdp_adjust_head(ctx, (int)strip))
		return drop(RVS_DECAP_STAT_DROP_ADJUST);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return drop(RVS_DECAP_STAT_DROP_ADJUST);
	__builtin_memcpy(eth, &eth_copy, sizeof(eth_copy));
	return pass(t.decap_stat);
}
