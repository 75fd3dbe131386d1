//! The frames the generator sends: a template per kind of traffic, the flow numbering shared
//! with the program, and the checksum bases that let the program patch each frame cheaply.

use std::net::Ipv4Addr;

use rvs_wire::builder::{Checksum, FrameBuilder};
use rvs_wire::{EthernetAddress, Ipv4Address, TcpFlags};

use rvs_dataplane::bench_abi::{
    BENCH_FLOW_DST, BENCH_FLOW_PORT_BASE, BENCH_FLOW_PORT_BITS, BENCH_FLOW_PORTS, BENCH_FLOW_SRC,
    BENCH_FRAME_MIN, BENCH_HDR_WORDS, BENCH_IP_OFF, BENCH_L4_NONE, BENCH_L4_OFF, BENCH_L4_TCP,
    BENCH_TCP_CSUM_OFF, BenchGen,
};

/// Minimum Ethernet frame without FCS: what every template is padded to.
pub const FRAME_LEN: usize = 60;

// The program refuses frames shorter than its fixed offsets reach.
const _: () = assert!(FRAME_LEN >= BENCH_FRAME_MIN as usize);

/// The UDP payload: fills the datagram to a minimum frame.
const PAYLOAD: &[u8] = b"rvs bench payload!";

/// What the generator sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// UDP datagrams (18 bytes of payload, no checksum) to the VIP's UDP port.
    Udp,
    /// TCP SYNs to the VIP's TCP port.
    TcpSyn,
}

/// Which end of the frames carries the flow numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowEnd {
    /// The source: requests from many clients to one service.
    Source,
    /// The destination: a server's replies from its one address and port to many clients.
    Destination,
}

/// Addresses of one traffic template.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    /// Source MAC (the generator's interface).
    pub src_mac: [u8; 6],
    /// Destination MAC: who takes the frame off the wire first (director or real server).
    pub dst_mac: [u8; 6],
    /// Which end the flows are numbered on: the source for requests, the destination for
    /// replies.
    pub numbered: FlowEnd,
    /// Address of flow 0 at the numbered end; flow `i` adds `i / BENCH_FLOW_PORTS`.
    pub flow_base: Ipv4Addr,
    /// The other end's address: the service's (the VIP) for requests, the real server's for its
    /// replies.
    pub service: Ipv4Addr,
    /// The other end's port.
    pub service_port: u16,
}

/// The address and port of flow `index` at the numbered end (the program computes the same).
pub fn flow_tuple(flow_base: Ipv4Addr, index: u64) -> (Ipv4Addr, u16) {
    let addr = u32::from(flow_base).wrapping_add((index >> BENCH_FLOW_PORT_BITS) as u32);
    let port = BENCH_FLOW_PORT_BASE + (index & (BENCH_FLOW_PORTS - 1)) as u32;
    (Ipv4Addr::from(addr), port as u16)
}

/// How many flows fit in `addresses` source addresses.
pub fn flows_in(addresses: u32) -> u64 {
    u64::from(addresses) << BENCH_FLOW_PORT_BITS
}

impl Template {
    /// The frame of flow 0.
    pub fn frame(&self, traffic: Traffic) -> Vec<u8> {
        let (addr, port) = flow_tuple(self.flow_base, 0);
        self.frame_of(traffic, addr, port)
    }

    /// The frame of the flow at `addr:port` (the numbered end), all checksums right.
    pub fn frame_of(&self, traffic: Traffic, addr: Ipv4Addr, port: u16) -> Vec<u8> {
        let (src, dst) = (EthernetAddress(self.src_mac), EthernetAddress(self.dst_mac));
        let (flow, service) = (Ipv4Address::from(addr), Ipv4Address::from(self.service));
        let ((saddr, sport), (daddr, dport)) = match self.numbered {
            FlowEnd::Source => ((flow, port), (service, self.service_port)),
            FlowEnd::Destination => ((service, self.service_port), (flow, port)),
        };
        match traffic {
            Traffic::Udp => {
                FrameBuilder::udp_v4(src, dst, saddr, daddr, sport, dport, PAYLOAD)
                    .l4_checksum(Checksum::Fixed(0))
                    .pad_to(FRAME_LEN)
                    .build()
            }
            Traffic::TcpSyn => FrameBuilder::tcp_v4(
                src,
                dst,
                saddr,
                daddr,
                sport,
                dport,
                TcpFlags::SYN,
                b"",
            )
            .seq(1)
            .pad_to(FRAME_LEN)
            .build(),
        }
    }

    /// The generator's settings for `frame` (built by [`Template::frame`]), starting at flow
    /// `first` and cycling through `flows` flows (0: never wrapping).
    pub fn generator(&self, traffic: Traffic, frame: &[u8], first: u64, flows: u64) -> BenchGen {
        let ip = BENCH_IP_OFF as usize;
        let l4 = BENCH_L4_OFF as usize;
        // Where the numbered address and port lie.
        let (flow_dst, addr, port) = match self.numbered {
            FlowEnd::Source => (BENCH_FLOW_SRC, ip + 12, l4),
            FlowEnd::Destination => (BENCH_FLOW_DST, ip + 16, l4 + 2),
        };
        // One's-complement "subtraction" of the fields the program rewrites: add their
        // complements. The sums stay far below 2^19, which the program's fold expects.
        let addr_out = u32::from(!word(frame, addr)) + u32::from(!word(frame, addr + 2));
        let ip_csum_base = u32::from(!word(frame, ip + 10)) + addr_out;
        let (l4_kind, l4_csum_base) = match traffic {
            Traffic::Udp => (BENCH_L4_NONE, 0),
            Traffic::TcpSyn => {
                let csum = word(frame, BENCH_TCP_CSUM_OFF as usize);
                (
                    BENCH_L4_TCP,
                    u32::from(!csum) + addr_out + u32::from(!word(frame, port)),
                )
            }
        };
        let mut header = [0u64; BENCH_HDR_WORDS as usize];
        for (word, bytes) in header.iter_mut().zip(frame.chunks_exact(8)) {
            *word = u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
        }
        BenchGen {
            header,
            next: first,
            flows,
            flow_base: u32::from(self.flow_base),
            ip_csum_base,
            l4_csum_base,
            l4: l4_kind,
            flow_dst,
            ..BenchGen::default()
        }
    }
}

/// The 16-bit word at `offset` as the program loads it (native-endian load of network bytes).
fn word(frame: &[u8], offset: usize) -> u16 {
    frame
        .get(offset..offset + 2)
        .map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const T: Template = Template {
        src_mac: [2, 0, 0, 0, 0, 1],
        dst_mac: [2, 0, 0, 0, 0, 2],
        numbered: FlowEnd::Source,
        flow_base: Ipv4Addr::new(198, 18, 0, 0),
        service: Ipv4Addr::new(192, 168, 0, 100),
        service_port: 80,
    };

    /// A real server's replies to `T`'s flows, from its own address and port.
    const REPLIES: Template = Template {
        numbered: FlowEnd::Destination,
        service: Ipv4Addr::new(10, 0, 0, 100),
        service_port: 8080,
        ..T
    };

    /// What `rvs_bench_gen` does to a frame when it sends one (`None`: the run sends nothing),
    /// written again in Rust, pacing aside (the root tests in `traffic.rs` check the program
    /// itself against the same expectations).
    fn model(frame: &[u8], g: &mut BenchGen) -> Option<Vec<u8>> {
        let fold = |mut s: u32| {
            s = (s & 0xffff) + (s >> 16);
            s = (s & 0xffff) + (s >> 16);
            !(s as u16)
        };
        if g.end != 0 && g.next >= g.end {
            return None;
        }
        let mut out = frame.to_vec();
        for (w, word) in g.header.iter().enumerate() {
            out[8 * w..8 * w + 8].copy_from_slice(&word.to_ne_bytes());
        }
        let i = g.next;
        g.next = if g.flows != 0 && i + 1 >= g.flows {
            0
        } else {
            i + 1
        };
        let (addr, port) = flow_tuple(Ipv4Addr::from(g.flow_base), i);
        let (a, p) = if g.flow_dst == BENCH_FLOW_DST {
            (30, 36)
        } else {
            (26, 34)
        };
        out[a..a + 4].copy_from_slice(&addr.octets());
        out[p..p + 2].copy_from_slice(&port.to_be_bytes());
        let s = u32::from(word(&out, a)) + u32::from(word(&out, a + 2));
        out[24..26].copy_from_slice(&fold(g.ip_csum_base + s).to_ne_bytes());
        if g.l4 == BENCH_L4_TCP {
            let sum = g.l4_csum_base + s + u32::from(word(&out, p));
            out[50..52].copy_from_slice(&fold(sum).to_ne_bytes());
        }
        Some(out)
    }

    /// The frame the generator must produce for flow `index`, built from scratch.
    fn expected(t: &Template, traffic: Traffic, index: u64) -> Vec<u8> {
        let (addr, port) = flow_tuple(t.flow_base, index);
        t.frame_of(traffic, addr, port)
    }

    #[test]
    fn flows_are_numbered_by_port_then_address() {
        let base = Ipv4Addr::new(198, 18, 0, 0);
        assert_eq!(flow_tuple(base, 0), (base, 0x8000));
        assert_eq!(flow_tuple(base, 0x7fff), (base, 0xffff));
        assert_eq!(
            flow_tuple(base, 0x8000),
            (Ipv4Addr::new(198, 18, 0, 1), 0x8000)
        );
        assert_eq!(
            flow_tuple(base, 999_999),
            (Ipv4Addr::new(198, 18, 0, 30), 0x8000 + 16_959)
        );
        assert_eq!(flows_in(32), 1 << 20);
    }

    /// Whether the IPv4 header checksum and the TCP checksum (if any) of `frame` verify.
    fn checksums_ok(frame: &[u8]) -> bool {
        let ip = rvs_wire::Ipv4Packet::new_checked(&frame[14..]).unwrap();
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        let l4 = &frame[34..14 + usize::from(ip.total_len())];
        let l4_ok = match ip.protocol() {
            rvs_wire::IpProtocol::Tcp => rvs_wire::TcpPacket::new_checked(l4)
                .unwrap()
                .verify_checksum(src, dst),
            _ => true,
        };
        ip.verify_checksum() && l4_ok
    }

    #[test]
    fn templates_are_minimum_frames_with_valid_checksums() {
        for traffic in [Traffic::Udp, Traffic::TcpSyn] {
            let frame = T.frame(traffic);
            assert_eq!(frame.len(), FRAME_LEN);
            assert_eq!(&frame[0..6], &T.dst_mac);
            assert_eq!(&frame[26..34], &[198, 18, 0, 0, 192, 168, 0, 100]);
            assert_eq!(&frame[34..38], &[0x80, 0, 0, 80]);
            assert!(checksums_ok(&frame), "{traffic:?}");
        }
    }

    #[test]
    fn replies_come_from_the_service_end_to_the_numbered_one() {
        for traffic in [Traffic::Udp, Traffic::TcpSyn] {
            let frame = REPLIES.frame(traffic);
            assert_eq!(&frame[26..34], &[10, 0, 0, 100, 198, 18, 0, 0]);
            assert_eq!(&frame[34..38], &[0x1f, 0x90, 0x80, 0]);
            assert!(checksums_ok(&frame), "{traffic:?}");
        }
    }

    #[test]
    fn patched_frames_equal_frames_built_from_scratch() {
        for template in [T, REPLIES] {
            for traffic in [Traffic::Udp, Traffic::TcpSyn] {
                let frame = template.frame(traffic);
                let mut g = template.generator(traffic, &frame, 0, 0);
                for i in [0u64, 1, 2, 0x7fff, 0x8000, 123_456, 999_999, 5_000_000] {
                    g.next = i;
                    // A frame the path rewrote (a director's MAC rewrite) must come out the same.
                    let mut dirty = frame.clone();
                    dirty[0..12].fill(0xee);
                    let patched = model(&dirty, &mut g).unwrap();
                    let what = format!("{:?} {traffic:?} flow {i}", template.numbered);
                    assert!(checksums_ok(&patched), "{what}");
                    assert_eq!(patched, expected(&template, traffic, i), "{what}");
                }
            }
        }
    }

    #[test]
    fn cycling_generators_wrap_and_fresh_ones_do_not() {
        let frame = T.frame(Traffic::Udp);
        let mut cycling = T.generator(Traffic::Udp, &frame, 2, 3);
        let ports: Vec<u16> = (0..4)
            .map(|_| {
                let out = model(&frame, &mut cycling).unwrap();
                u16::from_be_bytes(out[34..36].try_into().unwrap())
            })
            .collect();
        assert_eq!(ports, [0x8002, 0x8000, 0x8001, 0x8002]);
        let mut fresh = T.generator(Traffic::Udp, &frame, u64::from(u32::MAX), 0);
        model(&frame, &mut fresh);
        assert_eq!(fresh.next, u64::from(u32::MAX) + 1);
    }

    #[test]
    fn a_generator_with_an_end_sends_one_pass() {
        let frame = T.frame(Traffic::Udp);
        let mut pass = BenchGen {
            end: 3,
            ..T.generator(Traffic::Udp, &frame, 1, 0)
        };
        let sent = (0..5).filter_map(|_| model(&frame, &mut pass)).count();
        assert_eq!((sent, pass.next), (2, 3));
    }
}
