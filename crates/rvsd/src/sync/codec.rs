//! Between the data plane's connection entries and the sync protocol's (sans-IO: tested
//! without sockets). The master side picks what to announce, as IPVS's
//! `ip_vs_sync_conn_needed` does; the backup side finds the real server a received entry names
//! in this director's own table, as `ip_vs_proc_conn` binds it with `ip_vs_try_bind_dest`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rvs_core::{
    conn::TcpState,
    model::{AddressFamily, DestId, ForwardMethod, Fwmark, Protocol, ServiceKey},
    table::IpvsTable,
};
use rvs_dataplane::abi::{
    RVS_CONN_DEAD, RVS_CONN_F_CONTROLLED, RVS_KEY_CONN, RVS_KEY_TEMPLATE, RVS_SVC_F_PERSISTENT, RVS_TEMPLATE_STATE,
    RVS_UDP_STATE, RvsConn, RvsConnKey, RvsSvcKey, RvsSyncEntry,
};
use rvs_wire::IpProtocol;
use rvs_wire::ipvs_sync::{ConnRepr, conn_flags};

use crate::plane::Plane;

/// TCP states a master announces (`ip_vs_sync_conn_needed`): established and closing ones;
/// half-open connections are not worth keeping.
const ANNOUNCED_TCP: [TcpState; 5] =
    [TcpState::Established, TcpState::FinWait, TcpState::Close, TcpState::CloseWait, TcpState::TimeWait];

/// What the sync daemons remember between rounds.
#[derive(Debug, Default)]
pub struct SyncMemory {
    /// Entries announced: their state, slot and when (coarse ns).
    announced: HashMap<RvsConnKey, (u32, u32, u64)>,
    /// Entries installed from the peer, with the time of the install: such an entry is the
    /// peer's, not announced back, until a packet here refreshes it (then this director
    /// forwards it, after a takeover, and announces it in turn).
    installed: HashMap<RvsConnKey, u64>,
}

impl SyncMemory {
    /// Records entries just installed at `now` (coarse ns, read after the install).
    pub fn installed(&mut self, keys: impl IntoIterator<Item = RvsConnKey>, now: u64) {
        for key in keys {
            self.installed.insert(key, now);
        }
    }

    /// Forgets installs older than `horizon` ns that nothing announced since (their entries
    /// expired in the data plane long ago).
    pub fn forget_installed_before(&mut self, horizon: u64) {
        self.installed.retain(|_, at| *at >= horizon);
    }
}

fn v4(be: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from_be(be))
}

fn fwd_flags(fwd: ForwardMethod) -> u32 {
    match fwd {
        ForwardMethod::Masq => conn_flags::MASQ,
        ForwardMethod::Local => conn_flags::LOCALNODE,
        ForwardMethod::Tunnel => conn_flags::TUNNEL,
        ForwardMethod::Route => conn_flags::DROUTE,
        ForwardMethod::Bypass => conn_flags::BYPASS,
    }
}

/// The entries to announce this round: new ones, changed ones, and those last announced
/// `refresh_ns` ago or more (so that a backup that starts late, or lost a message, learns them).
pub fn outgoing(
    table: &IpvsTable,
    plane: &Plane,
    memory: &mut SyncMemory,
    now: u64,
    refresh_ns: u64,
) -> Vec<ConnRepr<'static>> {
    let Ok(conns) = plane.dp.connections() else { return Vec::new() };
    let timeouts = table.timeouts();
    let mut seen = HashSet::with_capacity(conns.len());
    let mut out = Vec::new();
    for (key, conn) in conns {
        if conn.state == RVS_CONN_DEAD {
            continue;
        }
        if let Some(&at) = memory.installed.get(&key) {
            if conn.last_seen_ns <= at {
                continue;
            }
            memory.installed.remove(&key);
        }
        let template = key.kind == RVS_KEY_TEMPLATE;
        if !template && key.proto == 6 {
            let state = TcpState::from_u8(conn.state as u8).unwrap_or(TcpState::None);
            if !ANNOUNCED_TCP.contains(&state) {
                continue;
            }
        }
        seen.insert(key);
        let due = memory
            .announced
            .get(&key)
            .is_none_or(|&(state, dest, at)| state != conn.state || dest != conn.dest || now.saturating_sub(at) >= refresh_ns);
        if !due {
            continue;
        }
        let Some(repr) = announce(table, &key, &conn, &timeouts) else { continue };
        memory.announced.insert(key, (conn.state, conn.dest, now));
        out.push(repr);
    }
    memory.announced.retain(|k, _| seen.contains(k));
    out
}

/// One data-plane entry as the protocol carries it.
fn announce(
    table: &IpvsTable,
    key: &RvsConnKey,
    conn: &RvsConn,
    timeouts: &rvs_core::model::Timeouts,
) -> Option<ConnRepr<'static>> {
    let dest = table.dest(DestId(conn.dest))?;
    let service = table.service_by_id(dest.service)?;
    let template = key.kind == RVS_KEY_TEMPLATE;
    let mut flags = fwd_flags(dest.spec.fwd);
    let fwmark = match service.key {
        ServiceKey::Fwmark { mark, .. } => mark.get(),
        ServiceKey::Addr { .. } => 0,
    };
    let (state, timeout_s) = if template {
        flags |= conn_flags::TEMPLATE;
        (0, service.timeout)
    } else if key.proto == 6 {
        let state = TcpState::from_u8(conn.state as u8).unwrap_or(TcpState::None);
        if state != TcpState::Established {
            flags |= conn_flags::INACTIVE;
        }
        (conn.state as u16, if state == TcpState::Established { timeouts.tcp } else { timeouts.tcp_fin })
    } else {
        (0, timeouts.udp)
    };
    Some(ConnRepr {
        protocol: IpProtocol::from(key.proto),
        flags,
        state,
        client: SocketAddr::new(IpAddr::V4(v4(key.saddr)), u16::from_be(key.sport)),
        virt: SocketAddr::new(IpAddr::V4(v4(key.daddr)), u16::from_be(key.dport)),
        dest: SocketAddr::new(IpAddr::V4(v4(conn.daddr)), u16::from_be(conn.dport)),
        fwmark,
        timeout_s,
        seq: None,
        pe_data: None,
        pe_name: None,
    })
}

/// Why a received entry was not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// IPv6 (the data plane forwards IPv4 only).
    Ipv6,
    /// A protocol or state the data plane does not keep.
    Unsupported,
    /// No such service here.
    NoService,
    /// The service has no such real server here.
    NoDest,
}

/// The data-plane entry a received connection becomes on this director.
pub fn incoming(table: &IpvsTable, plane: &Plane, conn: &ConnRepr<'_>) -> Result<RvsSyncEntry, Skip> {
    let (IpAddr::V4(client), IpAddr::V4(virt), IpAddr::V4(dest)) = (conn.client.ip(), conn.virt.ip(), conn.dest.ip())
    else {
        return Err(Skip::Ipv6);
    };
    let template = conn.flags & conn_flags::TEMPLATE != 0;
    let proto = u8::from(conn.protocol);
    let key = match Fwmark::new(conn.fwmark) {
        Some(mark) => ServiceKey::Fwmark { af: AddressFamily::Inet, mark },
        None => {
            let protocol = match proto {
                6 => Protocol::Tcp,
                17 => Protocol::Udp,
                _ => return Err(Skip::Unsupported),
            };
            ServiceKey::Addr { protocol, addr: IpAddr::V4(virt), port: conn.virt.port() }
        }
    };
    let service = table.service(&key).ok_or(Skip::NoService)?;
    let found = table
        .dests_of(service)
        .find(|d| d.spec.addr == IpAddr::V4(dest) && (d.spec.port == conn.dest.port() || d.spec.port == 0))
        .ok_or(Skip::NoDest)?;
    let slot = found.id.0;
    let dest_gen = plane.dp.maps.dests.read(slot).map(|d| d.generation).ok_or(Skip::NoDest)?;
    let state = if template {
        RVS_TEMPLATE_STATE
    } else {
        match proto {
            6 => match TcpState::from_u8(u8::try_from(conn.state).map_err(|_| Skip::Unsupported)?) {
                Some(s) => s as u32,
                None => return Err(Skip::Unsupported),
            },
            17 => RVS_UDP_STATE,
            _ => return Err(Skip::Unsupported),
        }
    };
    let mut entry = RvsSyncEntry {
        key: RvsConnKey {
            saddr: u32::from(client).to_be(),
            daddr: u32::from(virt).to_be(),
            sport: conn.client.port().to_be(),
            dport: conn.virt.port().to_be(),
            proto,
            kind: if template { RVS_KEY_TEMPLATE } else { RVS_KEY_CONN },
            pad: [0; 2],
        },
        state,
        dest: slot,
        dest_gen,
        ..RvsSyncEntry::default()
    };
    // A connection of a persistent address service is controlled by its template, as the
    // packet path makes it (the install program drops the bit when the template is absent).
    if !template && conn.fwmark == 0 {
        let svc_key = RvsSvcKey { addr: entry.key.daddr, port: entry.key.dport, proto, pad: 0 };
        let svc = plane.dp.maps.services.get(&svc_key, 0).ok();
        let svc = svc.or_else(|| plane.dp.maps.services.get(&RvsSvcKey { port: 0, ..svc_key }, 0).ok());
        if let Some(svc) = svc.filter(|s| s.flags & RVS_SVC_F_PERSISTENT != 0) {
            entry.flags = RVS_CONN_F_CONTROLLED;
            entry.tmpl = u8::try_from(svc.tmpl).unwrap_or(0);
        }
    }
    Ok(entry)
}
