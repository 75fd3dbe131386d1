/* Virtual services: which one a destination address, port and protocol belong to. */
#ifndef RVS_SVC_H
#define RVS_SVC_H

#include "mark.h"
#include "parse.h"

/* The service of (daddr, dport, proto): exact port first, then an all-ports service on the
 * address (only looked for when one exists). */
static __always_inline struct RvsSvc *svc_lookup(__u32 daddr, __u16 dport, __u8 proto)
{
	struct RvsSvcKey key = { .addr = daddr, .port = dport, .proto = proto };
	struct RvsSvc *svc = bpf_map_lookup_elem(&services, &key);
	struct RvsVip *vip;

	if (svc)
		return svc;
	vip = bpf_map_lookup_elem(&vips, &daddr);
	if (!vip || !(READ_ONCE(vip->flags) & RVS_VIP_F_PORT0))
		return NULL;
	key.port = 0;
	return bpf_map_lookup_elem(&services, &key);
}

/* The firewall-mark service of `mark`, keyed { mark, 0, 0 } (none for mark 0). */
static __always_inline struct RvsSvc *svc_of_mark(__u32 mark)
{
	struct RvsSvcKey key = { .addr = bpf_htonl(mark) };

	if (!mark)
		return NULL;
	return bpf_map_lookup_elem(&services, &key);
}

#endif
