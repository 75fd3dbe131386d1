//! UDP "connections": a single state (`IP_VS_UDP_S_NORMAL`, `ip_vs_proto_udp.c`).

use std::fmt;

/// The only UDP state. UDP entries never become active, so they count in InActConn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum UdpState {
    /// `IP_VS_UDP_S_NORMAL`, printed as `UDP`.
    #[default]
    Normal = 0,
}

impl UdpState {
    /// The name `ipvsadm -Lnc` prints.
    pub const fn name(self) -> &'static str {
        "UDP"
    }

    /// The default timeout in seconds (5 minutes), settable with `ipvsadm --set`.
    pub const fn default_timeout_secs(self) -> u32 {
        5 * 60
    }
}

impl fmt::Display for UdpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_timeout() {
        assert_eq!(UdpState::Normal.to_string(), "UDP");
        assert_eq!(UdpState::Normal.default_timeout_secs(), 300);
        assert_eq!(UdpState::Normal as u8, 0);
    }
}
