/* Includes and small helpers shared by every rvs BPF program. */
#ifndef RVS_COMMON_H
#define RVS_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "rvs_abi.h"

#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* TCP flag bits of the 14th header byte. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* IPv4 fragment bits of frag_off (host order). */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP_DF 0x4000

#endif
