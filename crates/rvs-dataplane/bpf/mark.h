/* rvs's mark classifier: the firewall mark of a packet, from rules the daemon writes. IPVS reads
 * marks that iptables or nftables set on the skb; XDP runs before netfilter and has no skb, so
 * rvs classifies itself, on (protocol, destination address, destination port) only. Being a
 * function of the connection key, it gives a connection the same mark every time it is asked,
 * which is how a connection finds its firewall-mark template again. */
#ifndef RVS_MARK_H
#define RVS_MARK_H

#include "maps.h"

/* What one run of the rule scan looks at and finds. */
struct mark_scan {
	__u32 base;	/* first rule of the bank in force */
	__u32 daddr;	/* network order */
	__u16 dport;	/* host order */
	__u8 proto;
	__u32 mark;	/* 0 until a rule matches */
};

static long mark_rule_match(__u32 i, void *ctx)
{
	struct mark_scan *s = ctx;
	__u32 idx = s->base + i;
	struct RvsMarkRule *r = bpf_map_lookup_elem(&mark_rules, &idx);

	if (!r)
		return 1;
	if ((s->daddr & r->mask) != r->addr)
		return 0;
	if (r->proto && r->proto != s->proto)
		return 0;
	if (s->dport < r->port_lo || s->dport > r->port_hi)
		return 0;
	s->mark = r->mark;
	return 1;
}

/* The mark of a packet (proto, daddr, dport in network order), 0 when no rule matches. */
static __always_inline __u32 mark_classify(struct RvsConfig *cfg, __u8 proto, __u32 daddr, __u16 dport)
{
	__u32 sel = READ_ONCE(cfg->mark_rules);
	__u32 n = sel & RVS_MARK_RULES_LEN;
	struct mark_scan s = {
		.base = (sel & RVS_MARK_RULES_BANK) ? RVS_MAX_MARK_RULES : 0,
		.daddr = daddr,
		.dport = bpf_ntohs(dport),
		.proto = proto,
	};

	if (!n)
		return 0;
	if (n > RVS_MAX_MARK_RULES)
		n = RVS_MAX_MARK_RULES;
	bpf_loop(n, mark_rule_match, &s, 0);
	return s.mark;
}

#endif
