//! The run-time settings the programs read: IPVS's TCP transition tables, timeouts and reuse
//! rules, computed from `rvs_core::conn` so that the C only indexes tables.

use rvs_core::conn::{TcpDirection, TcpState, Timeouts, next_state};

use crate::abi::*;

/// IPVS knobs that shape the tables (the `net.ipv4.vs.*` sysctls rvs honours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnSettings {
    /// `conn_reuse_mode` (default 1).
    pub conn_reuse_mode: u32,
    /// `secure_tcp` tables in use (default off).
    pub secure_tcp: bool,
}

impl Default for ConnSettings {
    fn default() -> Self {
        Self { conn_reuse_mode: 1, secure_tcp: false }
    }
}

const NS_PER_SEC: u64 = 1_000_000_000;

// Every IPVS TCP state must have a column in the data plane's tables.
const _: () = assert!(TcpState::COUNT <= RVS_TCP_STATES);

fn dir_index(d: TcpDirection) -> usize {
    match d {
        TcpDirection::Input => RVS_DIR_INPUT,
        TcpDirection::Output => RVS_DIR_OUTPUT,
        TcpDirection::InputOnly => RVS_DIR_INPUT_ONLY,
    }
}

/// A representative flag byte for each row of the table.
const ROW_FLAGS: [(usize, u8); RVS_TCP_ROWS] = [
    (RVS_TCP_ROW_SYN, 0x02),
    (RVS_TCP_ROW_FIN, 0x01),
    (RVS_TCP_ROW_ACK, 0x10),
    (RVS_TCP_ROW_RST, 0x04),
    (RVS_TCP_ROW_NONE, 0x00),
];

/// The `config` element for these timeouts and settings.
pub fn build_config(timeouts: &Timeouts, settings: ConnSettings) -> RvsConfig {
    let mut cfg = RvsConfig::default();
    for dir in TcpDirection::ALL {
        for (row, flags) in ROW_FLAGS {
            for state in TcpState::ALL {
                cfg.tcp_next[dir_index(dir)][row][state.as_u8() as usize] =
                    next_state(dir, flags, state, settings.secure_tcp).as_u8();
            }
        }
    }
    for state in TcpState::ALL {
        let i = state.as_u8() as usize;
        cfg.tcp_active[i] = u8::from(state.is_active());
        cfg.tcp_timeout_ns[i] = u64::from(timeouts.tcp(state)) * NS_PER_SEC;
        cfg.tcp_reuse[i] = reuse_rule(state, settings.conn_reuse_mode);
    }
    cfg.udp_timeout_ns = u64::from(timeouts.udp()) * NS_PER_SEC;
    cfg
}

/// IPVS's `is_new_conn_expected()` for TCP, per state: any non-zero mode reschedules a SYN on a
/// TIME_WAIT or CLOSE entry; bit 2 also on FIN_WAIT when replies bypass the director.
fn reuse_rule(state: TcpState, mode: u32) -> u8 {
    if mode == 0 {
        return RVS_REUSE_NEVER;
    }
    match state {
        TcpState::TimeWait | TcpState::Close => RVS_REUSE_ALWAYS,
        TcpState::FinWait if mode & 2 != 0 => RVS_REUSE_NOOUTPUT,
        _ => RVS_REUSE_NEVER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_the_abi() {
        assert_eq!(TcpState::None.as_u8() as u32, RVS_TCP_STATE_NONE);
    }

    #[test]
    fn dr_handshake_and_close_follow_input_only_rows() {
        let cfg = build_config(&Timeouts::default(), ConnSettings::default());
        let t = |row: usize, s: TcpState| cfg.tcp_next[RVS_DIR_INPUT_ONLY][row][s.as_u8() as usize];
        assert_eq!(t(RVS_TCP_ROW_SYN, TcpState::None), TcpState::SynRecv.as_u8());
        assert_eq!(t(RVS_TCP_ROW_ACK, TcpState::SynRecv), TcpState::Established.as_u8());
        assert_eq!(t(RVS_TCP_ROW_FIN, TcpState::Established), TcpState::FinWait.as_u8());
        assert_eq!(t(RVS_TCP_ROW_NONE, TcpState::Established), TcpState::Close.as_u8());
        assert_eq!(cfg.tcp_active[TcpState::SynRecv.as_u8() as usize], 1);
        assert_eq!(cfg.tcp_active[TcpState::FinWait.as_u8() as usize], 0);
        assert_eq!(cfg.tcp_timeout_ns[TcpState::Established.as_u8() as usize], 900 * NS_PER_SEC);
        assert_eq!(cfg.udp_timeout_ns, 300 * NS_PER_SEC);
    }

    #[test]
    fn reuse_rules_follow_conn_reuse_mode() {
        assert_eq!(reuse_rule(TcpState::TimeWait, 1), RVS_REUSE_ALWAYS);
        assert_eq!(reuse_rule(TcpState::FinWait, 1), RVS_REUSE_NEVER);
        assert_eq!(reuse_rule(TcpState::FinWait, 3), RVS_REUSE_NOOUTPUT);
        assert_eq!(reuse_rule(TcpState::Close, 0), RVS_REUSE_NEVER);
        assert_eq!(reuse_rule(TcpState::Established, 3), RVS_REUSE_NEVER);
    }
}
