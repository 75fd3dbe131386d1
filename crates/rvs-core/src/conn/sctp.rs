//! SCTP connection states: names and default timeouts (`ip_vs_proto_sctp.c`, the current
//! INIT1/COOKIE_* state set; older kernels had INIT_CLI/INIT_SER-style states). Transitions
//! are not modelled yet.

use std::fmt;

/// `IP_VS_SCTP_MAX_RTO`: 60 s plus one, the timeout of most handshake and shutdown states.
const MAX_RTO_SECS: u32 = 60 + 1;

/// An IPVS SCTP association state; discriminants are the kernel's `IP_VS_SCTP_S_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SctpState {
    /// `IP_VS_SCTP_S_NONE`.
    None = 0,
    /// `IP_VS_SCTP_S_INIT1`.
    Init1 = 1,
    /// `IP_VS_SCTP_S_INIT`.
    Init = 2,
    /// `IP_VS_SCTP_S_COOKIE_SENT`.
    CookieSent = 3,
    /// `IP_VS_SCTP_S_COOKIE_REPLIED`.
    CookieReplied = 4,
    /// `IP_VS_SCTP_S_COOKIE_WAIT`.
    CookieWait = 5,
    /// `IP_VS_SCTP_S_COOKIE`.
    Cookie = 6,
    /// `IP_VS_SCTP_S_COOKIE_ECHOED`.
    CookieEchoed = 7,
    /// `IP_VS_SCTP_S_ESTABLISHED`.
    Established = 8,
    /// `IP_VS_SCTP_S_SHUTDOWN_SENT`.
    ShutdownSent = 9,
    /// `IP_VS_SCTP_S_SHUTDOWN_RECEIVED`.
    ShutdownReceived = 10,
    /// `IP_VS_SCTP_S_SHUTDOWN_ACK_SENT`.
    ShutdownAckSent = 11,
    /// `IP_VS_SCTP_S_REJECTED`.
    Rejected = 12,
    /// `IP_VS_SCTP_S_CLOSED`.
    Closed = 13,
}

impl SctpState {
    /// `IP_VS_SCTP_S_LAST`: the number of states.
    pub const COUNT: usize = 14;

    /// Every state, in numbering order.
    pub const ALL: [SctpState; Self::COUNT] = [
        Self::None,
        Self::Init1,
        Self::Init,
        Self::CookieSent,
        Self::CookieReplied,
        Self::CookieWait,
        Self::Cookie,
        Self::CookieEchoed,
        Self::Established,
        Self::ShutdownSent,
        Self::ShutdownReceived,
        Self::ShutdownAckSent,
        Self::Rejected,
        Self::Closed,
    ];

    /// The state numbered `value`, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        if (value as usize) < Self::COUNT {
            Some(Self::ALL[value as usize])
        } else {
            None
        }
    }

    /// The name `sctp_state_name` gives, as `ipvsadm -Lnc` prints it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Init1 => "INIT1",
            Self::Init => "INIT",
            Self::CookieSent => "C-SENT",
            Self::CookieReplied => "C-REPLIED",
            Self::CookieWait => "C-WAIT",
            Self::Cookie => "COOKIE",
            Self::CookieEchoed => "C-ECHOED",
            Self::Established => "ESTABLISHED",
            Self::ShutdownSent => "S-SENT",
            Self::ShutdownReceived => "S-RECEIVED",
            Self::ShutdownAckSent => "S-ACK-SENT",
            Self::Rejected => "REJECTED",
            Self::Closed => "CLOSED",
        }
    }

    /// The default timeout in seconds (`sctp_timeouts`). `ipvsadm --set` cannot change
    /// these.
    pub const fn default_timeout_secs(self) -> u32 {
        match self {
            Self::None => 2,
            Self::Init1 | Self::Rejected => 3 + 1,
            Self::Established => 15 * 60,
            Self::Init
            | Self::CookieSent
            | Self::CookieReplied
            | Self::CookieWait
            | Self::Cookie
            | Self::CookieEchoed
            | Self::ShutdownSent
            | Self::ShutdownReceived
            | Self::ShutdownAckSent
            | Self::Closed => MAX_RTO_SECS,
        }
    }
}

impl fmt::Display for SctpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_timeouts_and_numbers() {
        let expected = [
            ("NONE", 2),
            ("INIT1", 4),
            ("INIT", 61),
            ("C-SENT", 61),
            ("C-REPLIED", 61),
            ("C-WAIT", 61),
            ("COOKIE", 61),
            ("C-ECHOED", 61),
            ("ESTABLISHED", 900),
            ("S-SENT", 61),
            ("S-RECEIVED", 61),
            ("S-ACK-SENT", 61),
            ("REJECTED", 4),
            ("CLOSED", 61),
        ];
        for (number, (name, secs)) in expected.into_iter().enumerate() {
            let state = SctpState::from_u8(number as u8).expect("numbered state");
            assert_eq!(state as usize, number);
            assert_eq!(state.to_string(), name);
            assert_eq!(state.default_timeout_secs(), secs, "{name}");
        }
        assert_eq!(SctpState::from_u8(14), None);
    }
}
