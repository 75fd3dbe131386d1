//! The connection entries `ipvsadm -Lnc` lists, read from the data plane's table.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rvs_core::{
    conn::TcpState,
    model::{ConnEntry, ConnProtocol},
};
use rvs_dataplane::{
    abi::{RVS_CONN_DEAD, RvsConfig},
    sweep::{coarse_now_ns, timeout_ns},
};

use crate::plane::Plane;

fn v4(be: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from_be(be)))
}

/// Every live connection entry, as ipvsadm lists them.
pub fn entries(plane: &Plane) -> Vec<ConnEntry> {
    let Ok(conns) = plane.dp.connections() else { return Vec::new() };
    let cfg: Option<RvsConfig> = plane.dp.maps.config.read(0);
    let now = coarse_now_ns();
    let mut out = Vec::with_capacity(conns.len());
    for (key, conn) in conns {
        if conn.state == RVS_CONN_DEAD {
            continue;
        }
        let Some(dest) = plane.dp.maps.dests.read(conn.dest) else { continue };
        if dest.generation != conn.dest_gen {
            continue;
        }
        let timeout = cfg.as_ref().map_or(0, |c| timeout_ns(c, &key, &conn));
        let (protocol, state) = match key.proto {
            6 => {
                let st = TcpState::from_u8(conn.state as u8).unwrap_or(TcpState::None);
                (ConnProtocol::Tcp, st.name().to_string())
            }
            17 => (ConnProtocol::Udp, "UDP".to_string()),
            p => (ConnProtocol::Other(p), "NONE".to_string()),
        };
        let idle = now.saturating_sub(conn.last_seen_ns);
        let left = timeout.saturating_sub(idle);
        if timeout > 0 && left == 0 {
            continue; // expired; the sweeper has not taken it out yet
        }
        out.push(ConnEntry {
            protocol,
            client: SocketAddr::new(v4(key.saddr), u16::from_be(key.sport)),
            virtual_addr: SocketAddr::new(v4(key.daddr), u16::from_be(key.dport)),
            dest: SocketAddr::new(v4(dest.addr), u16::from_be(dest.port)),
            state,
            // The kernel lists whole seconds left on the timer, rounded down.
            expires: u32::try_from(left / 1_000_000_000).unwrap_or(u32::MAX),
            pe: None,
        });
    }
    out
}
