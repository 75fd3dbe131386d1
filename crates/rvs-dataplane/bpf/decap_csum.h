/* Ones' complement sums over frame bytes: checking the checksums tunnels carry (outer IPv4 header,
 * GRE, GUE's UDP) and filling in the inner one that GUE remote checksum offload leaves to the
 * receiver.
 *
 * Sums are kept as the kernel's csum_partial keeps them: 16-bit words loaded from memory in host
 * order. Header fields read from the packet are therefore added without byte swapping, and a
 * folded sum stored to memory in host order has the right bytes on the wire. */
#ifndef RVS_DECAP_CSUM_H
#define RVS_DECAP_CSUM_H

#include "decap_maps.h"

/* Bytes summed per helper call (bpf_csum_diff takes at most 512; the buffer lives on the stack). */
#define CSUM_CHUNK 256
/* The longest range summed: a whole 64 KiB IPv4 packet. */
#define CSUM_MAX_CHUNKS (65536 / CSUM_CHUNK)

/* The 16-bit ones' complement sum of `sum` (not complemented): 0xffff when a range holding a
 * right checksum is summed. */
static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Adds `len` bytes of the frame from offset `off` (counted from the Ethernet header) to `*sum`,
 * pairing bytes into words from `off`. Returns 0, or -1 when the bytes are not all in the frame.
 *
 * A global function, so the verifier checks it once rather than at each of its four call sites;
 * and the bytes are copied to the stack with bpf_xdp_load_bytes rather than read in place, so
 * offsets stay plain scalars and the loop is walked once per chunk count. */
__attribute__((noinline)) int csum_frame(struct xdp_md *ctx, __u32 off, __u32 len, __u64 *sum)
{
	__u8 buf[CSUM_CHUNK];
	__u32 i, n, words;

	if (!sum)
		return -1;

	for (i = 0; i < CSUM_MAX_CHUNKS && len >= CSUM_CHUNK; i++) {
		if (bpf_xdp_load_bytes(ctx, off, buf, CSUM_CHUNK))
			return -1;
		*sum += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)buf, CSUM_CHUNK, 0);
		off += CSUM_CHUNK;
		len -= CSUM_CHUNK;
	}
	n = len;
	if (n >= CSUM_CHUNK)
		return -1;
	if (n == 0)
		return 0;
	/* The tail is summed in whole words: the bytes past it must be zero, as the checksum
	 * algorithms pad an odd byte. */
	__builtin_memset(buf, 0, sizeof(buf));
	if (bpf_xdp_load_bytes(ctx, off, buf, n))
		return -1;
	words = (n + 3) & ~3u;
	if (words > CSUM_CHUNK)		/* never; tells the verifier */
		return -1;
	*sum += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)buf, words, 0);
	return 0;
}

/* Whether the IPv4 header at `ip` (IHL `ihl` bytes, of which the first 20 are known to be in
 * the frame) carries a right checksum. */
static __always_inline int ipv4_header_csum_ok(struct xdp_md *ctx, struct iphdr *ip, __u32 ihl)
{
	__u32 *w = (__u32 *)ip;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	if (ihl > sizeof(*ip) && csum_frame(ctx, ETH_HLEN + sizeof(*ip), ihl - sizeof(*ip), &sum))
		return 0;
	return csum_fold(sum) == 0xffff;
}

/* Replaces the 16-bit word `old` by `new` in the region guarded by `*check` (RFC 1624). */
static __always_inline void csum_replace2(__u16 *check, __u16 old, __u16 new)
{
	__u64 sum = (__u16)~*check;

	sum += (__u16)~old;
	sum += new;
	*check = ~csum_fold(sum);
}

#endif
