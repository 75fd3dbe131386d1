/* One's-complement checksums (RFC 1071) for headers the programs build. */
#ifndef RVS_CSUM_H
#define RVS_CSUM_H

#include "maps.h"

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~(__u16)sum;
}

/* Sum of `words` 16-bit words at `p` (bounds checked by the caller). */
static __always_inline __u64 csum_words(const void *p, int words)
{
	const __u16 *w = p;
	__u64 sum = 0;
	int i;

	for (i = 0; i < words; i++)
		sum += w[i];
	return sum;
}

/* RFC 1624 (eqn. 3) update of a checksum field for one 16-bit word going from `from` to `to`.
 * Words are taken as they lie in memory, like the field itself. */
static __always_inline void csum_replace2(__u16 *field, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~*field + (__u16)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*field = ~(__u16)sum;
}

/* The same for a 32-bit value (an address), as its two 16-bit words. */
static __always_inline void csum_replace4(__u16 *field, __u32 from, __u32 to)
{
	csum_replace2(field, (__u16)from, (__u16)to);
	csum_replace2(field, (__u16)(from >> 16), (__u16)(to >> 16));
}

/* An IPv4 header's checksum field, for a header without options. */
static __always_inline void ip_fill_csum(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = csum_fold(csum_words(ip, sizeof(*ip) / 2));
}

/* The largest packet part summed by `csum_frame`, in chunks of CSUM_CHUNK bytes. */
#define CSUM_CHUNK 512
#define CSUM_CHUNKS 8

/* Scratch space for csum_frame: one chunk per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[CSUM_CHUNK]);
} csum_scratch SEC(".maps");

/* One's-complement sum (unfolded, as bpf_csum_diff returns it) of `len` bytes of the frame from
 * `off`, zero-padded to an even length as RFC 1071 says. -1 if the frame is shorter or longer
 * than this can sum (CSUM_CHUNKS * CSUM_CHUNK bytes). */
static __always_inline __s64 csum_frame(struct xdp_md *ctx, __u32 off, __u32 len)
{
	__u32 zero = 0;
	__u8 *buf = bpf_map_lookup_elem(&csum_scratch, &zero);
	__s64 sum = 0;
	int i;

	if (!buf || len > CSUM_CHUNKS * CSUM_CHUNK)
		return -1;
	for (i = 0; i < CSUM_CHUNKS; i++) {
		__u32 n = len > CSUM_CHUNK ? CSUM_CHUNK : len;
		__u32 padded;

		if (n == 0)
			break;
		/* A short last chunk: zero the word after it, for the padding below. */
		if (n < CSUM_CHUNK)
			*(__u32 *)&buf[n & (CSUM_CHUNK - 4)] = 0;
		/* barrier_var (bpf_helpers.h): keep the compiler from folding the bounds the
		 * verifier needs to see. */
		barrier_var(n);
		if (n == 0 || n > CSUM_CHUNK)
			return -1;
		if (bpf_xdp_load_bytes(ctx, off, buf, n))
			return -1;
		padded = (n + 3) & ~3u;
		barrier_var(padded);
		if (padded == 0 || padded > CSUM_CHUNK)
			return -1;
		sum = bpf_csum_diff(0, 0, (__be32 *)buf, padded, sum);
		if (sum < 0)
			return -1;
		off += n;
		len -= n;
	}
	return len ? -1 : sum;
}

#endif
