//! A running rvsd's data plane seen through its pinned maps: finding the real server's slot,
//! filling the connection table with the generator's flows, reading the verdict counters.
//!
//! Entries written here must look exactly like those the program creates (`conn_create` in
//! `bpf/conn.h`), or the program treats them as expired or unavailable: the destination slot
//! and that slot's current generation, the forwarding method, the coarse monotonic time of
//! the last packet, and the state. Each entry also counts in its destination's connection
//! count (`dest_conns`), as a created one does, so that `rvsadm -Ln` and lc/wlc stay right and
//! the expiry that takes the count back does not drive it negative.

use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use aya::maps::{HashMap, Map, MapData, PerCpuArray};
use rvs_dataplane::abi::{
    RVS_DEST_F_AVAILABLE, RVS_KEY_CONN, RVS_MAX_DESTS, RVS_MAX_NEIGHS, RVS_NEIGH_F_VALID, RVS_UDP_STATE,
    RvsConfig, RvsConn, RvsConnKey, RvsDest, RvsDestConns, RvsNeigh, RvsStat, RvsSvc, RvsSvcKey,
};
use rvs_dataplane::mmap::MmapArray;

use super::frames::flow_tuple;

/// `BPF_NOEXIST` (`<linux/bpf.h>`): insert only if the key is absent.
const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: replace only if the key is present.
const BPF_EXIST: u64 = 2;

/// IP protocol numbers.
pub const TCP: u8 = 6;
/// IP protocol numbers.
pub const UDP: u8 = 17;

/// The pinned maps of one rvsd instance.
pub struct PinnedPlane {
    conns: HashMap<MapData, RvsConnKey, RvsConn>,
    services: HashMap<MapData, RvsSvcKey, RvsSvc>,
    stats: PerCpuArray<MapData, u64>,
    dests: MmapArray<RvsDest>,
    dest_conns: MmapArray<RvsDestConns>,
    neighs: MmapArray<RvsNeigh>,
    config: MmapArray<RvsConfig>,
    conns_id: u32,
}

/// A real server's destination slot and what it held when read.
#[derive(Clone, Copy, Debug)]
pub struct DestSlot {
    /// Index into `dests`.
    pub slot: u32,
    /// Its contents.
    pub dest: RvsDest,
}

/// Network-order `u32` of an address, as the maps keep it.
fn be_addr(addr: Ipv4Addr) -> u32 {
    u32::from_ne_bytes(addr.octets())
}

impl PinnedPlane {
    /// Opens the maps pinned in `dir` (`/sys/fs/bpf/rvs/<instance>`).
    pub fn open(dir: &Path) -> Result<Self> {
        let data = |name: &str| {
            MapData::from_pin(dir.join(name))
                .with_context(|| format!("opening pinned map {}/{name}", dir.display()))
        };
        let conns_data = data("conns")?;
        let conns_id = conns_data
            .info()
            .context("reading the connection table's info")?
            .id();
        Ok(Self {
            conns: HashMap::try_from(Map::HashMap(conns_data))?,
            services: HashMap::try_from(Map::HashMap(data("services")?))?,
            stats: PerCpuArray::try_from(Map::PerCpuArray(data("stats")?))?,
            dests: mmapped(dir, "dests", RVS_MAX_DESTS)?,
            dest_conns: mmapped(dir, "dest_conns", RVS_MAX_DESTS)?,
            neighs: mmapped(dir, "neighs", RVS_MAX_NEIGHS)?,
            config: mmapped(dir, "config", 1)?,
            conns_id,
        })
    }

    /// The connection table's map id (tells this instance's programs from others').
    pub fn conns_id(&self) -> u32 {
        self.conns_id
    }

    /// The slot of real server `rip:rport` in service `vip:vport/proto`.
    pub fn find_dest(
        &self,
        vip: Ipv4Addr,
        vport: u16,
        proto: u8,
        rip: Ipv4Addr,
        rport: u16,
    ) -> Result<DestSlot> {
        let key = RvsSvcKey {
            addr: be_addr(vip),
            port: vport.to_be(),
            proto,
            pad: 0,
        };
        let svc = self
            .services
            .get(&key, 0)
            .with_context(|| format!("no service {vip}:{vport}/{proto} in the data plane"))?;
        (0..RVS_MAX_DESTS)
            .filter_map(|slot| {
                Some(DestSlot {
                    slot,
                    dest: self.dests.read(slot)?,
                })
            })
            .find(|d| {
                d.dest.svc == svc.slot
                    && d.dest.addr == be_addr(rip)
                    && d.dest.port == rport.to_be()
                    && d.dest.flags & RVS_DEST_F_AVAILABLE != 0
            })
            .ok_or_else(|| anyhow!("no destination {rip}:{rport} in service {vip}:{vport}/{proto}"))
    }

    /// The destination's next hop as the program reads it now.
    pub fn next_hop(&self, dest: &DestSlot) -> Option<RvsNeigh> {
        let slot = self
            .dests
            .read(dest.slot)
            .map_or(dest.dest.neigh, |d| d.neigh);
        self.neighs.read(slot)
    }

    /// Whether the destination's next hop has a MAC address (until then its packets are dropped).
    pub fn next_hop_ready(&self, dest: &DestSlot) -> bool {
        self.next_hop(dest)
            .is_some_and(|n| n.flags & RVS_NEIGH_F_VALID != 0)
    }

    /// Waits until [`Self::next_hop_ready`], at most `timeout`.
    pub fn wait_next_hop(
        &self,
        dest: &DestSlot,
        timeout: Duration,
        stop: &AtomicBool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.next_hop_ready(dest) {
            if Instant::now() > deadline || stop.load(Ordering::SeqCst) {
                bail!("rvsd did not resolve the real server's MAC address within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Inserts `count` established UDP connections, the generator's flows `0..count` of
    /// `flows`, bound to `dest` with its forwarding method. Returns how long it took.
    pub fn fill_udp(
        &mut self,
        flows: UdpFlows,
        dest: &DestSlot,
        count: u64,
        stop: &AtomicBool,
    ) -> Result<Duration> {
        let started = Instant::now();
        let value = udp_entry(dest, dest.dest.fwd)?;
        // BPF_NOEXIST, as the program inserts: a flow that exists already is not counted twice.
        let (inserted, result) = self.write_udp(flows, 0..count, value, BPF_NOEXIST, stop);
        // A UDP entry is never active: it counts as inactive, as `conn_create` counts it.
        // SAFETY: `c` points at an element of the live mapping; only the field's address is taken.
        if let Some(inactive) = self
            .dest_conns
            .atomic_i32(dest.slot, |c| unsafe { &raw mut (*c).inactive })
        {
            inactive.fetch_add(
                i32::try_from(inserted).context("too many entries")?,
                Ordering::SeqCst,
            );
        }
        result.map(|()| started.elapsed())
    }

    /// Rewrites the entries of the established UDP flows `range` of `flows` as bound to `dest`
    /// by forwarding method `fwd` (an `RVS_FWD_*`), each as the program would have created it
    /// under that method. An entry keeps the method it was bound with, as an IPVS connection
    /// does: after `rvsadm -e ... -i` the entries made under `-g` still go by DR until they are
    /// rewritten. Every entry must exist (`BPF_EXIST`); the counts do not move. Returns how
    /// long it took.
    pub fn rebind_udp(
        &mut self,
        flows: UdpFlows,
        dest: &DestSlot,
        fwd: u8,
        range: Range<u64>,
        stop: &AtomicBool,
    ) -> Result<Duration> {
        let started = Instant::now();
        let value = udp_entry(dest, fwd)?;
        let (_, result) = self.write_udp(flows, range, value, BPF_EXIST, stop);
        result.map(|()| started.elapsed())
    }

    /// Writes `value` for each flow of `range` with update `flags`: how many were written, and
    /// whether all were.
    fn write_udp(
        &mut self,
        flows: UdpFlows,
        range: Range<u64>,
        value: RvsConn,
        flags: u64,
        stop: &AtomicBool,
    ) -> (u64, Result<()>) {
        let mut written = 0;
        for index in range.clone() {
            if index % 65_536 == 0 && stop.load(Ordering::SeqCst) {
                return (written, Err(super::interrupt::Interrupted.into()));
            }
            if let Err(e) = self.conns.insert(flows.key(index), value, flags) {
                let e = anyhow::Error::from(e).context(format!(
                    "writing connection {index} of {}..{}",
                    range.start, range.end
                ));
                return (written, Err(e));
            }
            written += 1;
        }
        (written, Ok(()))
    }

    /// Sets (`on`) or clears the `RVS_CFG_F_*` bit `flag` of the live configuration, which the
    /// program reads on every packet (as rvsd's own `set_config_flag` does).
    pub fn set_config_flag(&self, flag: u32, on: bool) -> Result<()> {
        // SAFETY: `c` points at the one element of the live mapping; only the field's address
        // is taken.
        let flags = self
            .config
            .atomic_u32(0, |c| unsafe { &raw mut (*c).flags })
            .ok_or_else(|| anyhow!("the configuration map has no element"))?;
        if on {
            flags.fetch_or(flag, Ordering::AcqRel);
        } else {
            flags.fetch_and(!flag, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Every verdict counter, summed over CPUs, in `RvsStat` order.
    pub fn verdicts(&self) -> Result<Vec<(RvsStat, u64)>> {
        RvsStat::ALL
            .iter()
            .map(|&stat| {
                let values = self
                    .stats
                    .get(&(stat as u32), 0)
                    .context("reading the stats map")?;
                Ok((stat, values.iter().sum()))
            })
            .collect()
    }
}

/// The generator's UDP flows to one service: flow `i` comes from [`flow_tuple`]`(saddr_base, i)`
/// to `vip:vport`.
#[derive(Clone, Copy, Debug)]
pub struct UdpFlows {
    /// Source address of flow 0.
    pub saddr_base: Ipv4Addr,
    /// The virtual address.
    pub vip: Ipv4Addr,
    /// The service's port.
    pub vport: u16,
}

impl UdpFlows {
    /// The connection table's key of flow `index`.
    fn key(&self, index: u64) -> RvsConnKey {
        let (saddr, sport) = flow_tuple(self.saddr_base, index);
        RvsConnKey {
            saddr: be_addr(saddr),
            daddr: be_addr(self.vip),
            sport: sport.to_be(),
            dport: self.vport.to_be(),
            proto: UDP,
            kind: RVS_KEY_CONN,
            pad: [0; 2],
        }
    }
}

/// An established UDP entry bound now to `dest` by method `fwd`, as `conn_create` writes it:
/// the slot and its generation, the real server's address and port, the coarse time of the last
/// packet, the UDP state.
fn udp_entry(dest: &DestSlot, fwd: u8) -> Result<RvsConn> {
    Ok(RvsConn {
        last_seen_ns: coarse_monotonic_ns()?,
        state: RVS_UDP_STATE,
        flags: 0,
        dest: dest.slot,
        dest_gen: dest.dest.generation,
        daddr: dest.dest.addr,
        dport: dest.dest.port,
        fwd,
        tmpl: 0,
    })
}

/// A shared mapping of the pinned mmapable array `dir/name` of `entries` elements.
fn mmapped<T>(dir: &Path, name: &str, entries: u32) -> Result<MmapArray<T>> {
    let map = MapData::from_pin(dir.join(name))
        .with_context(|| format!("opening pinned map {}/{name}", dir.display()))?;
    MmapArray::new(map.fd(), entries).with_context(|| format!("mapping {name}"))
}

/// `CLOCK_MONOTONIC_COARSE` in ns: the clock of `bpf_ktime_get_coarse_ns`, which the program
/// stores as each connection's last packet time.
fn coarse_monotonic_ns() -> Result<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into `ts`, which lives across the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } != 0 {
        return Err(std::io::Error::last_os_error()).context("reading CLOCK_MONOTONIC_COARSE");
    }
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// Differences between two readings of [`PinnedPlane::verdicts`], non-zero ones only.
pub fn verdict_deltas(before: &[(RvsStat, u64)], after: &[(RvsStat, u64)]) -> Vec<(RvsStat, u64)> {
    after
        .iter()
        .zip(before)
        .map(|(&(stat, a), &(_, b))| (stat, a.saturating_sub(b)))
        .filter(|&(_, d)| d > 0)
        .collect()
}

/// The delta of `stat` in `deltas` (0 when absent).
pub fn delta_of(deltas: &[(RvsStat, u64)], stat: RvsStat) -> u64 {
    deltas
        .iter()
        .find(|(s, _)| *s == stat)
        .map_or(0, |&(_, n)| n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_are_kept_as_they_lie_in_packets() {
        assert_eq!(
            be_addr(Ipv4Addr::new(192, 168, 0, 100)).to_ne_bytes(),
            [192, 168, 0, 100]
        );
    }

    #[test]
    fn flow_keys_are_the_generators_tuples_in_network_order() {
        let flows = UdpFlows {
            saddr_base: Ipv4Addr::new(198, 18, 0, 0),
            vip: Ipv4Addr::new(192, 168, 0, 100),
            vport: 9,
        };
        let key = flows.key(0x8001);
        assert_eq!(key.saddr.to_ne_bytes(), [198, 18, 0, 1]);
        assert_eq!(key.daddr.to_ne_bytes(), [192, 168, 0, 100]);
        assert_eq!(key.sport.to_ne_bytes(), [0x80, 0x01]);
        assert_eq!(key.dport.to_ne_bytes(), [0, 9]);
        assert_eq!((key.proto, key.kind, key.pad), (UDP, RVS_KEY_CONN, [0; 2]));
    }

    #[test]
    fn entries_carry_the_slot_its_generation_and_the_method_asked_for() {
        let dest = DestSlot {
            slot: 3,
            dest: RvsDest {
                generation: 7,
                fwd: rvs_dataplane::abi::RVS_FWD_DROUTE,
                ..RvsDest::default()
            },
        };
        let entry = udp_entry(&dest, rvs_dataplane::abi::RVS_FWD_TUNNEL).unwrap();
        assert_eq!((entry.dest, entry.dest_gen), (3, 7));
        assert_eq!(entry.fwd, rvs_dataplane::abi::RVS_FWD_TUNNEL);
        assert_eq!(entry.state, RVS_UDP_STATE);
        assert!(entry.last_seen_ns > 0);
    }

    #[test]
    fn deltas_keep_what_moved() {
        let before = [
            (RvsStat::RxFrames, 5),
            (RvsStat::FwdDrTx, 2),
            (RvsStat::ConnCreated, 7),
        ];
        let after = [
            (RvsStat::RxFrames, 105),
            (RvsStat::FwdDrTx, 2),
            (RvsStat::ConnCreated, 8),
        ];
        let d = verdict_deltas(&before, &after);
        assert_eq!(d, [(RvsStat::RxFrames, 100), (RvsStat::ConnCreated, 1)]);
        assert_eq!(delta_of(&d, RvsStat::FwdDrTx), 0);
        assert_eq!(delta_of(&d, RvsStat::ConnCreated), 1);
    }

    #[test]
    fn the_coarse_clock_moves_forward() {
        let a = coarse_monotonic_ns().unwrap_or(0);
        std::thread::sleep(Duration::from_millis(30));
        let b = coarse_monotonic_ns().unwrap_or(0);
        assert!(a > 0 && b > a, "{a} then {b}");
    }
}
