//! TCP connection states: `IP_VS_TCP_S_*` from `include/net/ip_vs.h`, their names, default
//! timeouts and activity (`ip_vs_proto_tcp.c`).

use std::fmt;

/// An IPVS TCP connection state. The discriminants are the kernel's `IP_VS_TCP_S_*` values,
/// which the data plane stores and the sync protocol carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    /// `IP_VS_TCP_S_NONE`.
    None = 0,
    /// `IP_VS_TCP_S_ESTABLISHED`.
    Established = 1,
    /// `IP_VS_TCP_S_SYN_SENT`.
    SynSent = 2,
    /// `IP_VS_TCP_S_SYN_RECV`.
    SynRecv = 3,
    /// `IP_VS_TCP_S_FIN_WAIT`.
    FinWait = 4,
    /// `IP_VS_TCP_S_TIME_WAIT`.
    TimeWait = 5,
    /// `IP_VS_TCP_S_CLOSE`.
    Close = 6,
    /// `IP_VS_TCP_S_CLOSE_WAIT`.
    CloseWait = 7,
    /// `IP_VS_TCP_S_LAST_ACK`.
    LastAck = 8,
    /// `IP_VS_TCP_S_LISTEN`.
    Listen = 9,
    /// `IP_VS_TCP_S_SYNACK`.
    SynAck = 10,
}

impl TcpState {
    /// `IP_VS_TCP_S_LAST`: the number of states.
    pub const COUNT: usize = 11;

    /// Every state, in numbering order.
    pub const ALL: [TcpState; Self::COUNT] = [
        Self::None,
        Self::Established,
        Self::SynSent,
        Self::SynRecv,
        Self::FinWait,
        Self::TimeWait,
        Self::Close,
        Self::CloseWait,
        Self::LastAck,
        Self::Listen,
        Self::SynAck,
    ];

    /// The state numbered `value`, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        if (value as usize) < Self::COUNT {
            Some(Self::ALL[value as usize])
        } else {
            None
        }
    }

    /// The kernel's number for this state.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The name `tcp_state_name` gives, as `ipvsadm -Lnc` prints it in the state column.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Established => "ESTABLISHED",
            Self::SynSent => "SYN_SENT",
            Self::SynRecv => "SYN_RECV",
            Self::FinWait => "FIN_WAIT",
            Self::TimeWait => "TIME_WAIT",
            Self::Close => "CLOSE",
            Self::CloseWait => "CLOSE_WAIT",
            Self::LastAck => "LAST_ACK",
            Self::Listen => "LISTEN",
            Self::SynAck => "SYNACK",
        }
    }

    /// The default timeout in seconds (`tcp_timeouts`).
    pub const fn default_timeout_secs(self) -> u32 {
        match self {
            Self::None => 2,
            Self::Established => 15 * 60,
            Self::SynSent => 2 * 60,
            Self::SynRecv => 60,
            Self::FinWait => 2 * 60,
            Self::TimeWait => 2 * 60,
            Self::Close => 10,
            Self::CloseWait => 60,
            Self::LastAck => 30,
            Self::Listen => 2 * 60,
            Self::SynAck => 120,
        }
    }

    /// Whether a connection in this state counts in the destination's ActiveConn
    /// (`tcp_state_active_table` of current kernels; older ones counted only ESTABLISHED):
    /// ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK. Every other state counts in InActConn. On a state change the kernel moves the
    /// connection between the two counters when this value changes.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            Self::Established | Self::SynSent | Self::SynRecv | Self::SynAck
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<u8> for TcpState {
    type Error = u8;

    /// Fails with the value itself when it numbers no state.
    fn try_from(value: u8) -> Result<Self, u8> {
        Self::from_u8(value).ok_or(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_the_kernel_enum() {
        let numbered = [
            (0, "NONE"),
            (1, "ESTABLISHED"),
            (2, "SYN_SENT"),
            (3, "SYN_RECV"),
            (4, "FIN_WAIT"),
            (5, "TIME_WAIT"),
            (6, "CLOSE"),
            (7, "CLOSE_WAIT"),
            (8, "LAST_ACK"),
            (9, "LISTEN"),
            (10, "SYNACK"),
        ];
        for (value, name) in numbered {
            let state = TcpState::try_from(value).expect("numbered state");
            assert_eq!(state.as_u8(), value);
            assert_eq!(state.name(), name);
            assert_eq!(state.to_string(), name);
        }
        assert_eq!(TcpState::try_from(11), Err(11));
        assert_eq!(TcpState::from_u8(255), None);
    }

    #[test]
    fn default_timeouts() {
        let secs: Vec<u32> = TcpState::ALL
            .iter()
            .map(|s| s.default_timeout_secs())
            .collect();
        assert_eq!(secs, [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120]);
    }

    #[test]
    fn active_states() {
        let active: Vec<TcpState> = TcpState::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect();
        assert_eq!(
            active,
            [
                TcpState::Established,
                TcpState::SynSent,
                TcpState::SynRecv,
                TcpState::SynAck
            ]
        );
    }
}
