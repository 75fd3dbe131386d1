//! The connection entries `ipvsadm -Lnc` lists, read from the data plane's table.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rvs_core::{
    conn::TcpState,
    model::{ConnEntry, ConnProtocol},
};
use rvs_dataplane::{
    abi::{RVS_CONN_DEAD, RVS_KEY_TEMPLATE, RVS_TEMPLATE_ASSURED, RvsConfig, RvsConnKey, RvsSvcKey},
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
        let template = key.kind == RVS_KEY_TEMPLATE;
        let timeout = if template {
            template_timeout_ns(plane, &key)
        } else {
            cfg.as_ref().map_or(0, |c| timeout_ns(c, &key, &conn))
        };
        // Templates are listed NONE, or ASSURED once a connection under them was established.
        let template_state = if conn.state == RVS_TEMPLATE_ASSURED { "ASSURED" } else { "NONE" };
        let (protocol, state) = match key.proto {
            6 if template => (ConnProtocol::Tcp, template_state.to_string()),
            17 if template => (ConnProtocol::Udp, template_state.to_string()),
            // A firewall-mark service's template: IPPROTO_IP, the mark as its virtual address.
            0 if template => (ConnProtocol::Ip, template_state.to_string()),
            6 => {
                let st = TcpState::from_u8(conn.state as u8).unwrap_or(TcpState::None);
                (ConnProtocol::Tcp, st.name().to_string())
            }
            17 => (ConnProtocol::Udp, "UDP".to_string()),
            p => (ConnProtocol::Other(p), "NONE".to_string()),
        };
        let idle = now.saturating_sub(conn.last_seen_ns);
        // A template that still controls connections stays: IPVS re-arms its timer when it
        // fires then.
        let mut left = timeout.saturating_sub(idle);
        if template && conn.flags > 0 && left == 0 {
            left = timeout;
        }
        if timeout > 0 && left == 0 {
            continue; // expired; the sweeper has not taken it out yet
        }
        out.push(ConnEntry {
            protocol,
            client: SocketAddr::new(v4(key.saddr), u16::from_be(key.sport)),
            virtual_addr: SocketAddr::new(v4(key.daddr), u16::from_be(key.dport)),
            // A template of an all-ports service lists the real server's port as 0; a
            // connection to a real server of port 0 lists the port it was made to, as IPVS.
            dest: SocketAddr::new(v4(dest.addr), match (template, u16::from_be(dest.port)) {
                (true, _) => u16::from_be(conn.dport),
                (false, 0) => u16::from_be(key.dport),
                (false, port) => port,
            }),
            state,
            // The kernel lists whole seconds left on the timer, rounded down.
            expires: u32::try_from(left / 1_000_000_000).unwrap_or(u32::MAX),
            pe: None,
        });
    }
    out
}

/// The persistence timeout of a template's service (0 when the service is gone).
fn template_timeout_ns(plane: &Plane, key: &RvsConnKey) -> u64 {
    let svc = RvsSvcKey { addr: key.daddr, port: key.dport, proto: key.proto, pad: 0 };
    plane.dp.maps.services.get(&svc, 0).map_or(0, |s| u64::from(s.timeout_s) * 1_000_000_000)
}
