/* The benchmark's two XDP programs: a traffic generator run with BPF_PROG_TEST_RUN in
 * live-frames mode, and a sink that counts and drops what reaches the real server.
 * Types and constants come from bench_abi.h, generated from src/bench_abi.rs. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* The generator's settings and position. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct BenchGen);
} gen SEC(".maps");

/* What the sink counts. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct BenchSink);
} sink_cfg SEC(".maps");

/* Frames the sink counted, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

/* Folds a 32-bit one's-complement sum of at most 2^19 into a 16-bit checksum. */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Drops the filler before the frame (it becomes headroom), writes the template's headers into
 * the frame (a recycled page holds whatever the path last wrote there), makes it flow `next`
 * (source address and port, or destination ones for replies; checksums), and sends it out of
 * the interface the test run names: XDP_TX in live-frames mode transmits it. A paced generator
 * (`gap_ns`) drops the runs between two frames, and one with an `end` drops every run once it
 * has sent its pass: dropped runs send nothing. */
SEC("xdp")
int rvs_bench_gen(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct iphdr *ip;
	__u16 *words, *port_field, *tcp_csum;
	__u32 *addr_field;
	struct BenchGen *g;
	__u32 zero = 0, addr, port, sum;
	__u64 i, now;

	g = bpf_map_lookup_elem(&gen, &zero);
	if (!g)
		return XDP_ABORTED;
	if (g->end && g->next >= g->end)
		return XDP_DROP;
	if (g->gap_ns) {
		now = bpf_ktime_get_ns();
		if (now - g->last_ns < g->gap_ns)
			return XDP_DROP;
		g->last_ns = now;
	}
	if (g->lead && bpf_xdp_adjust_head(ctx, (int)g->lead))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	ip = data + BENCH_IP_OFF;
	if (data + BENCH_HDR_WORDS * 8 > data_end)
		return XDP_ABORTED;
	for (int w = 0; w < BENCH_HDR_WORDS; w++)
		((__u64 *)data)[w] = g->header[w];
	i = g->next;
	g->next = (g->flows && i + 1 >= g->flows) ? 0 : i + 1;

	addr = g->flow_base + (__u32)(i >> BENCH_FLOW_PORT_BITS);
	port = BENCH_FLOW_PORT_BASE + (__u32)(i & (BENCH_FLOW_PORTS - 1));
	if (g->flow_dst == BENCH_FLOW_DST) {
		addr_field = &ip->daddr;
		port_field = data + BENCH_L4_OFF + 2;
	} else {
		addr_field = &ip->saddr;
		port_field = data + BENCH_L4_OFF;
	}
	*addr_field = bpf_htonl(addr);
	*port_field = bpf_htons((__u16)port);

	words = (__u16 *)addr_field;
	ip->check = csum_fold(g->ip_csum_base + words[0] + words[1]);
	if (g->l4 == BENCH_L4_TCP) {
		tcp_csum = data + BENCH_TCP_CSUM_OFF;
		sum = g->l4_csum_base + words[0] + words[1] + *port_field;
		*tcp_csum = csum_fold(sum);
	}
	return XDP_TX;
}

/* Counts and drops IPv4 frames that match every configured field: destination and source
 * address, TCP or UDP destination and source port, and for tunnelled frames IP-in-IP whose
 * inner packet goes to the configured inner address. Passes everything else. */
SEC("xdp")
int rvs_bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct iphdr *inner = (void *)(ip + 1);
	__u16 *ports = (void *)(ip + 1);
	struct BenchSink *cfg;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	cfg = bpf_map_lookup_elem(&sink_cfg, &zero);
	if (!cfg || (cfg->daddr && ip->daddr != cfg->daddr) ||
	    (cfg->saddr && ip->saddr != cfg->saddr))
		return XDP_PASS;
	if (cfg->inner_daddr &&
	    (ip->protocol != IPPROTO_IPIP || ip->ihl != 5 || (void *)(inner + 1) > data_end ||
	     inner->daddr != cfg->inner_daddr))
		return XDP_PASS;
	if (cfg->dport || cfg->sport) {
		if ((ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) || ip->ihl != 5 ||
		    (void *)(ports + 2) > data_end)
			return XDP_PASS;
		if ((cfg->sport && ports[0] != cfg->sport) || (cfg->dport && ports[1] != cfg->dport))
			return XDP_PASS;
	}
	n = bpf_map_lookup_elem(&sink_count, &zero);
	if (n)
		*n += 1;
	return XDP_DROP;
}
