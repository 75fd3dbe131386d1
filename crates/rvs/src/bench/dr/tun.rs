//! The TUN phases: the director forwarding the same established flows, and then new ones, by
//! IP-in-IP to the real server (`rvsadm -e ... -i`, the real server's address as the outer
//! destination, the director's as the outer source).
//!
//! A connection keeps the forwarding method it was bound with, as in IPVS: editing the real
//! server does not change the entries already in the table, so they are rewritten as the
//! program would have created them in TUN mode (same slot and generation, `RVS_FWD_TUNNEL`).
//! The sink then counts IP-in-IP frames to the real server carrying a packet to the VIP, and
//! each phase checks that every frame the director forwarded was encapsulated (`fwd_tun_*`).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rvs_dataplane::abi::{RVS_FWD_TUNNEL, RVS_TUN_IPIP};
use rvs_wire::{EtherType, EthernetFrame, IpProtocol, Ipv4Address, Ipv4Packet};

use super::{Bench, HOT_FLOWS, NEW_FLOW_BASE, NEXT_HOP_TIMEOUT, UDP_PORT};
use crate::bench::driver::{Drive, progress};
use crate::bench::frames::Traffic;
use crate::bench::pinned::{DestSlot, PinnedPlane, TCP, UDP, UdpFlows};
use crate::bench::progstats;
use crate::bench::report::{Method, PathResult, ProgramCost};
use crate::bench::rvsd::Rvsd;
use crate::bench::testrun::{self, Runs};
use crate::bench::topology::{DIRECTOR, IFACE, REAL, VIP};
use crate::bench::traffic::Counted;

/// What the sink counts in TUN mode.
const TUNNELLED: Counted = Counted::Ipip {
    outer: REAL,
    inner: VIP,
};

/// How long rvsd may take to apply `rvsadm -e` to the data plane.
const EDIT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the TUN established-flow phases found.
pub(super) struct TunEstablished {
    /// Traffic over every established flow.
    pub all: PathResult,
    /// Traffic on the hot flows.
    pub hot: PathResult,
    /// Time to rebind the entries to TUN.
    pub rebind: Duration,
    /// The sink on tunnelled frames, over `all`.
    pub sink: ProgramCost,
    /// The UDP real server's slot, now in TUN mode.
    pub dest: DestSlot,
}

impl Bench<'_> {
    /// Switches the UDP service's real server to TUN (ipip), rebinds the `--flows` established
    /// entries to TUN, checks one frame's encapsulation, and drives the same flows as the DR
    /// established phases.
    pub(super) fn tun_established(
        &mut self,
        rvsd: &Rvsd,
        plane: &mut PinnedPlane,
        director: u32,
        flows: UdpFlows,
        dr_dest: &DestSlot,
    ) -> Result<TunEstablished> {
        let args = self.args;
        let stop = self.driver.stop;
        let dest = switch_to_tun(rvsd, plane, UDP, UDP_PORT, dr_dest, stop)?;
        progress(
            &args.run,
            &format!("rebinding the {} entries to TUN (ipip)", args.flows),
        );
        let rebind = plane.rebind_udp(flows, &dest, RVS_FWD_TUNNEL, 0..args.flows, stop)?;
        rvsd.check_listed(&dest, args.flows, "Tunnel")?;

        let to_director = self.udp(self.net.director_mac);
        let frame = to_director.frame(Traffic::Udp);
        let once =
            testrun::established(&self.net.director, IFACE, director, &frame, Runs::Calls(1))?;
        check_encapsulated(&once.out, &frame, self.net.real_mac, self.net.director_mac)
            .context("the director's output for an established TUN flow")?;

        let sink = self.driver.programs.sink_id()?;
        let sink_before = progstats::read(sink)?;
        let established = self.udp_drive("rvs (XDP director, TUN ipip)", to_director, TUNNELLED);
        let all = self
            .driver
            .phase(plane, director, &established, Method::Tun)?;
        let sink = progstats::read(sink)?.since(&sink_before);
        let hot = Drive {
            name: "rvs TUN, hot flows",
            flows: (0, HOT_FLOWS.min(args.flows)),
            ..established
        };
        let hot = self.driver.phase(plane, director, &hot, Method::Tun)?;
        Ok(TunEstablished {
            all,
            hot,
            rebind,
            sink: ProgramCost {
                ns_per_packet: sink.ns_per_run(),
                runs: sink.run_count,
            },
            dest,
        })
    }

    /// Switches the TCP service's real server to TUN and sends SYNs as the DR new-flow phase
    /// `dr_syn` does, from flows that no phase sent: each creates a TUN entry. At most
    /// `--new-flows` of them, fewer if the table (holding `--flows` entries and the `dr_created`
    /// of the DR phase) could not take them all.
    pub(super) fn tun_new_flows(
        &mut self,
        rvsd: &Rvsd,
        plane: &PinnedPlane,
        director: u32,
        dr_syn: &Drive<'_>,
        dr_dest: &DestSlot,
        dr_created: u64,
    ) -> Result<PathResult> {
        let args = self.args;
        let port = dr_syn.template.service_port;
        switch_to_tun(rvsd, plane, TCP, port, dr_dest, self.driver.stop)?;
        let room = u64::from(args.conn_max)
            .saturating_sub(args.flows)
            .saturating_sub(dr_created);
        if room == 0 {
            bail!(
                "the connection table has no room left for the TUN new-flow phase: raise --conn-max"
            );
        }
        let syn = Drive {
            name: "rvs TUN, new flows (TCP SYN)",
            flows: (NEW_FLOW_BASE + args.new_flows, 0),
            max_frames: args.new_flows.min(room),
            counted: TUNNELLED,
            ..*dr_syn
        };
        self.driver.phase(plane, director, &syn, Method::Tun)
    }
}

/// Switches real server `REAL:port` of service `VIP:port` (`proto`) to TUN with `rvsadm -e`,
/// and returns its slot once the data plane has it: the same slot and generation as in DR mode
/// (the entries bound to it stay valid and counted), ipip, and a next hop whose source address,
/// the tunnel's outer source, is the director's.
fn switch_to_tun(
    rvsd: &Rvsd,
    plane: &PinnedPlane,
    proto: u8,
    port: u16,
    dr_dest: &DestSlot,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<DestSlot> {
    let kind = if proto == UDP { "-u" } else { "-t" };
    let (service, real) = (format!("{VIP}:{port}"), format!("{REAL}:{port}"));
    rvsd.rvsadm(&[
        "-e",
        kind,
        &service,
        "-r",
        &real,
        "-i",
        "--tun-type",
        "ipip",
    ])?;
    let deadline = Instant::now() + EDIT_TIMEOUT;
    let dest = loop {
        let dest = plane.find_dest(VIP, port, proto, REAL, port)?;
        if dest.dest.fwd == RVS_FWD_TUNNEL {
            break dest;
        }
        if Instant::now() > deadline {
            bail!(
                "{real} of {service} is still not in TUN mode in the data plane {EDIT_TIMEOUT:?} after rvsadm -e"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if (dest.slot, dest.dest.generation) != (dr_dest.slot, dr_dest.dest.generation) {
        bail!(
            "editing {real} of {service} moved it from slot {} generation {} to slot {} generation {}: its connections would be lost",
            dr_dest.slot,
            dr_dest.dest.generation,
            dest.slot,
            dest.dest.generation
        );
    }
    if dest.dest.tun_type != RVS_TUN_IPIP {
        bail!(
            "{real} of {service} has tunnel type {} instead of ipip",
            dest.dest.tun_type
        );
    }
    plane.wait_next_hop(&dest, NEXT_HOP_TIMEOUT, stop)?;
    let source = plane
        .next_hop(&dest)
        .map(|n| Ipv4Addr::from(n.src_ip.to_ne_bytes()));
    if source != Some(DIRECTOR) {
        bail!("the next hop to {REAL} has outer source {source:?}, not the director's {DIRECTOR}");
    }
    Ok(dest)
}

/// Checks that `out` is `sent` (an Ethernet frame with an IPv4 packet) encapsulated as TUN
/// ipip sends it: to `real_mac` from `director_mac`, an outer IPv4 header without options
/// from the director to the real server with a correct checksum, then the packet unchanged.
fn check_encapsulated(
    out: &[u8],
    sent: &[u8],
    real_mac: [u8; 6],
    director_mac: [u8; 6],
) -> Result<()> {
    let eth = EthernetFrame::new_checked(out).context("not an Ethernet frame")?;
    if eth.dst_addr().0 != real_mac || eth.src_addr().0 != director_mac {
        bail!(
            "addressed {} -> {}, not director -> real server",
            eth.src_addr(),
            eth.dst_addr()
        );
    }
    if eth.ethertype() != EtherType::Ipv4 {
        bail!("ethertype {:?}, not IPv4", eth.ethertype());
    }
    let outer = Ipv4Packet::new_checked(eth.payload()).context("no outer IPv4 header")?;
    let inner = Ipv4Packet::new_checked(sent.get(14..).unwrap_or_default())
        .context("the frame sent holds no IPv4 packet")?;
    let inner_len = usize::from(inner.total_len());
    let expected = (
        outer.header_len(),
        outer.protocol(),
        outer.src_addr(),
        outer.dst_addr(),
        usize::from(outer.total_len()),
    );
    let ipip = (
        20,
        IpProtocol::IpIp,
        Ipv4Address::from(DIRECTOR),
        Ipv4Address::from(REAL),
        20 + inner_len,
    );
    if expected != ipip {
        bail!(
            "outer header (length, protocol, source, destination, total length) {expected:?}, expected {ipip:?}"
        );
    }
    if !outer.verify_checksum() {
        bail!("the outer header's checksum is wrong");
    }
    if outer.payload().get(..inner_len) != sent.get(14..14 + inner_len) {
        bail!("the inner packet differs from the packet sent");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bench::frames::{FlowEnd, Template};
    use crate::bench::topology::FLOW_SOURCES;

    const REAL_MAC: [u8; 6] = [2, 0, 0, 0, 0, 11];
    const DIRECTOR_MAC: [u8; 6] = [2, 0, 0, 0, 0, 200];

    fn sent() -> Vec<u8> {
        Template {
            src_mac: [2, 0, 0, 0, 0, 50],
            dst_mac: DIRECTOR_MAC,
            numbered: FlowEnd::Source,
            flow_base: FLOW_SOURCES,
            service: VIP,
            service_port: UDP_PORT,
        }
        .frame(Traffic::Udp)
    }

    /// `sent` encapsulated by hand, as RFC 2003 lays it out (TTL 64, DF, checksum computed).
    fn encapsulated(sent: &[u8]) -> Vec<u8> {
        let inner = &sent[14..];
        let len = u16::try_from(20 + inner.len()).unwrap().to_be_bytes();
        let mut out = [REAL_MAC, DIRECTOR_MAC].concat();
        out.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0, len[0], len[1], 0, 0, 0x40, 0, 64, 4, 0, 0];
        ip.extend_from_slice(&DIRECTOR.octets());
        ip.extend_from_slice(&REAL.octets());
        let sum: u32 = ip
            .chunks_exact(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        let check = !(((folded & 0xffff) + (folded >> 16)) as u16);
        ip[10..12].copy_from_slice(&check.to_be_bytes());
        out.extend_from_slice(&ip);
        out.extend_from_slice(inner);
        out
    }

    #[test]
    fn a_frame_encapsulated_as_ipvs_does_passes() {
        let sent = sent();
        check_encapsulated(&encapsulated(&sent), &sent, REAL_MAC, DIRECTOR_MAC).unwrap();
    }

    #[test]
    fn frames_not_encapsulated_to_the_real_server_fail() {
        let sent = sent();
        let good = encapsulated(&sent);
        let fails = |frame: &[u8], what: &str| {
            let e = check_encapsulated(frame, &sent, REAL_MAC, DIRECTOR_MAC).unwrap_err();
            assert!(format!("{e:#}").contains(what), "{what}: {e:#}");
        };
        let mut dr = sent.clone();
        dr[0..6].copy_from_slice(&REAL_MAC);
        dr[6..12].copy_from_slice(&DIRECTOR_MAC);
        fails(&dr, "outer header");
        let mut gre = good.clone();
        gre[14 + 9] = 47;
        fails(&gre, "outer header");
        let mut elsewhere = good.clone();
        elsewhere[14 + 19] = 12;
        fails(&elsewhere, "outer header");
        let mut bad_sum = good.clone();
        bad_sum[14 + 10] ^= 1;
        fails(&bad_sum, "checksum");
        let mut changed = good.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        fails(&changed, "inner packet differs");
        let mut wrong_mac = good.clone();
        wrong_mac[0] = 0xee;
        fails(&wrong_mac, "not director -> real server");
    }
}
