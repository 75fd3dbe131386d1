//! TCP state transitions: the kernel's `tcp_states` and `tcp_states_dos` tables
//! (`ip_vs_proto_tcp.c`), with `tcp_state_idx` and `set_tcp_state` around them.
//!
//! For each TCP segment of a connection the kernel:
//!
//! 1. resolves the direction: a connection flagged `IP_VS_CONN_F_NOOUTPUT` (DR and TUN, whose
//!    replies bypass the director) uses the INPUT_ONLY rows for input packets, and the first
//!    OUTPUT packet clears the flag for good ([`TcpDirection::effective`]);
//! 2. picks a row from the flags, first match in the order RST, SYN, FIN, ACK
//!    ([`TcpFlagRow::from_tcp_flags`]); a segment with none of the four goes to CLOSE, in any
//!    state and direction;
//! 3. reads the next state from the normal table, or from the `_dos` one while the
//!    `secure_tcp` defense is on ([`next_state`]);
//! 4. if the state changed, moves the connection between the destination's ActiveConn and
//!    InActConn counters when [`TcpState::is_active`] differs, and re-arms the connection
//!    timer with the new state's timeout (also when the state did not change).
//!
//! Steps 2 and 3 are also exported as one flat `u8` table for the data plane
//! ([`tcp_transition_table`]).

use super::tcp::TcpState;

/// The direction of a packet relative to the connection (`IP_VS_DIR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpDirection {
    /// `IP_VS_DIR_INPUT`: from the client.
    Input = 0,
    /// `IP_VS_DIR_OUTPUT`: from the real server, through the director (NAT replies).
    Output = 1,
    /// `IP_VS_DIR_INPUT_ONLY`: from the client, on a connection whose replies do not pass
    /// the director.
    InputOnly = 2,
}

impl TcpDirection {
    /// Number of directions (`IP_VS_DIR_LAST`).
    pub const COUNT: usize = 3;

    /// Every direction, in numbering order.
    pub const ALL: [TcpDirection; Self::COUNT] = [Self::Input, Self::Output, Self::InputOnly];

    /// The direction whose rows apply, and the connection's `NOOUTPUT` flag afterwards.
    ///
    /// With `NOOUTPUT` set an OUTPUT packet clears the flag and uses the OUTPUT rows; any
    /// other packet uses the INPUT_ONLY rows. Without it the direction is used as given.
    pub const fn effective(self, no_output: bool) -> (TcpDirection, bool) {
        match (no_output, self) {
            (false, dir) => (dir, false),
            (true, Self::Output) => (Self::Output, false),
            (true, _) => (Self::InputOnly, true),
        }
    }
}

/// Bits of the TCP header's flags byte (offset 13).
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH (ignored by the state machine).
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG (ignored by the state machine).
    pub const URG: u8 = 0x20;
}

/// The row of the transition table a segment selects (`tcp_state_idx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpFlagRow {
    /// SYN set, RST not.
    Syn = 0,
    /// FIN set, RST and SYN not.
    Fin = 1,
    /// ACK set, none of RST, SYN, FIN.
    Ack = 2,
    /// RST set, whatever else is.
    Rst = 3,
}

impl TcpFlagRow {
    /// Rows per direction.
    pub const COUNT: usize = 4;

    /// The row for a TCP flags byte, `None` when none of RST, SYN, FIN, ACK is set (the
    /// kernel's index -1, which sends the connection to CLOSE).
    pub const fn from_tcp_flags(tcp_flags: u8) -> Option<Self> {
        if tcp_flags & flags::RST != 0 {
            Some(Self::Rst)
        } else if tcp_flags & flags::SYN != 0 {
            Some(Self::Syn)
        } else if tcp_flags & flags::FIN != 0 {
            Some(Self::Fin)
        } else if tcp_flags & flags::ACK != 0 {
            Some(Self::Ack)
        } else {
            None
        }
    }
}

// No transition leads to NONE, so it has no short name here.
const ES: TcpState = TcpState::Established;
const SS: TcpState = TcpState::SynSent;
const SR: TcpState = TcpState::SynRecv;
const FW: TcpState = TcpState::FinWait;
const TW: TcpState = TcpState::TimeWait;
const CL: TcpState = TcpState::Close;
const CW: TcpState = TcpState::CloseWait;
const LA: TcpState = TcpState::LastAck;
const LI: TcpState = TcpState::Listen;
const SA: TcpState = TcpState::SynAck;

/// `[direction][flag row][current state] -> next state`.
type StateTable = [[[TcpState; TcpState::COUNT]; TcpFlagRow::COUNT]; TcpDirection::COUNT];

/// Rows are syn, fin, ack, rst; columns the current state in numbering order
/// (NO ES SS SR FW TW CL CW LA LI SA).
const INPUT_NORMAL: [[TcpState; TcpState::COUNT]; TcpFlagRow::COUNT] = [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
];
const OUTPUT_NORMAL: [[TcpState; TcpState::COUNT]; TcpFlagRow::COUNT] = [
    [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
];
const INPUT_ONLY_NORMAL: [[TcpState; TcpState::COUNT]; TcpFlagRow::COUNT] = [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
];

/// `tcp_states`: the normal table.
const TCP_STATES: StateTable = [INPUT_NORMAL, OUTPUT_NORMAL, INPUT_ONLY_NORMAL];

/// `tcp_states_dos`: used while `secure_tcp` is on. It holds connections in SYN_RECV /
/// SYNACK until the handshake is seen to complete, so half-open floods stay InActConn-cheap.
/// Its OUTPUT and INPUT_ONLY fin/ack/rst rows equal the normal ones.
const TCP_STATES_DOS: StateTable = [
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
        [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
    [
        [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
        OUTPUT_NORMAL[1],
        OUTPUT_NORMAL[2],
        OUTPUT_NORMAL[3],
    ],
    [
        [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
        INPUT_ONLY_NORMAL[1],
        INPUT_ONLY_NORMAL[2],
        INPUT_ONLY_NORMAL[3],
    ],
];

/// The state after a segment with `tcp_flags` (the header's flags byte) arrives in
/// `direction` — already resolved with [`TcpDirection::effective`] — on a connection in
/// `state`. `secure_tcp` selects the `_dos` table.
pub const fn next_state(
    direction: TcpDirection,
    tcp_flags: u8,
    state: TcpState,
    secure_tcp: bool,
) -> TcpState {
    let Some(row) = TcpFlagRow::from_tcp_flags(tcp_flags) else {
        return TcpState::Close;
    };
    let table = if secure_tcp {
        &TCP_STATES_DOS
    } else {
        &TCP_STATES
    };
    table[direction as usize][row as usize][state as usize]
}

/// The flat table the data plane indexes as `[direction][flag row][state]`, values being
/// [`TcpState`] numbers. A segment with no RST/SYN/FIN/ACK has no row: the data plane sets
/// CLOSE itself.
pub type TcpTransitionTable = [[[u8; TcpState::COUNT]; TcpFlagRow::COUNT]; TcpDirection::COUNT];

/// [`next_state`] as a [`TcpTransitionTable`], normal or `secure_tcp`.
pub const fn tcp_transition_table(secure_tcp: bool) -> TcpTransitionTable {
    let source = if secure_tcp {
        &TCP_STATES_DOS
    } else {
        &TCP_STATES
    };
    let mut out = [[[0u8; TcpState::COUNT]; TcpFlagRow::COUNT]; TcpDirection::COUNT];
    let mut dir = 0;
    while dir < TcpDirection::COUNT {
        let mut row = 0;
        while row < TcpFlagRow::COUNT {
            let mut state = 0;
            while state < TcpState::COUNT {
                out[dir][row][state] = source[dir][row][state] as u8;
                state += 1;
            }
            row += 1;
        }
        dir += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables as written in lvs-anchors §1.5b (transcribed from the kernel's
    /// `tcp_states` / `tcp_states_dos`), kept verbatim so every cell is checked against an
    /// independent copy.
    const ANCHOR_1_5B: &str = "
tcp_states (normal)                 NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
INPUT       syn                     SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SR
            fin                     CL  CW  SS  TW  TW  TW  CL  CW  LA  LI  TW
            ack                     ES  ES  SS  ES  FW  TW  CL  CW  CL  LI  ES   (NO->ES: mid-stream pickup; older kernels NO->CL)
            rst                     CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  SR
OUTPUT      syn                     SS  ES  SS  SR  SS  SS  SS  SS  SS  LI  SR
            fin                     TW  FW  SS  TW  FW  TW  CL  TW  LA  LI  TW
            ack                     ES  ES  SS  ES  FW  TW  CL  CW  LA  ES  ES
            rst                     CL  CL  SS  CL  CL  TW  CL  CL  CL  CL  CL
INPUT-ONLY  syn                     SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SR
            fin                     CL  FW  SS  TW  FW  TW  CL  CW  LA  LI  TW
            ack                     ES  ES  SS  ES  FW  TW  CL  CW  CL  LI  ES
            rst                     CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  CL
tcp_states_dos (secure_tcp on)
INPUT       syn                     SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SA
            fin                     CL  CW  SS  TW  TW  TW  CL  CW  LA  LI  SA
            ack                     ES  ES  SS  SR  FW  TW  CL  CW  CL  LI  SA
            rst                     CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  CL
OUTPUT      syn                     SS  ES  SS  SA  SS  SS  SS  SS  SS  LI  SA
            fin/ack/rst             = normal OUTPUT rows
INPUT-ONLY  syn                     SA  ES  ES  SR  SA  SA  SA  SA  SA  SA  SA
            fin/ack/rst             = normal INPUT-ONLY rows
";

    fn abbreviation(state: TcpState) -> &'static str {
        [
            "NO", "ES", "SS", "SR", "FW", "TW", "CL", "CW", "LA", "LI", "SA",
        ][state as usize]
    }

    /// Parses the anchor text into `[secure][dir][row] -> 11 abbreviations`.
    fn parse_anchor() -> [[[[String; 11]; 4]; 3]; 2] {
        let mut out: [[[[String; 11]; 4]; 3]; 2] = Default::default();
        let mut filled = 0;
        let (mut table, mut dir) = (0, 0);
        for line in ANCHOR_1_5B.lines().filter(|l| !l.trim().is_empty()) {
            if line.starts_with("tcp_states_dos") {
                table = 1;
                continue;
            }
            if line.starts_with("tcp_states") {
                continue;
            }
            let mut words = line.split_whitespace().peekable();
            let directions = ["INPUT", "OUTPUT", "INPUT-ONLY"];
            if let Some(d) = words
                .peek()
                .and_then(|w| directions.iter().position(|n| n == w))
            {
                dir = d;
                words.next();
            }
            let rows = words.next().expect("row name");
            let cells: Vec<&str> = words.take(11).collect();
            for row_name in rows.split('/') {
                let row = ["syn", "fin", "ack", "rst"]
                    .iter()
                    .position(|&n| n == row_name)
                    .expect("known row");
                let copied = if cells.first() == Some(&"=") {
                    out[0][dir][row].clone()
                } else {
                    std::array::from_fn(|i| cells[i].to_owned())
                };
                out[table][dir][row] = copied;
                filled += 1;
            }
        }
        assert_eq!(
            filled, 24,
            "the anchor holds 2 tables x 3 directions x 4 rows"
        );
        out
    }

    #[test]
    fn every_cell_matches_the_anchor_tables() {
        let anchor = parse_anchor();
        let mut checked = 0;
        for (secure_index, secure) in [false, true].into_iter().enumerate() {
            for dir in TcpDirection::ALL {
                for (row_index, row_flags) in [flags::SYN, flags::FIN, flags::ACK, flags::RST]
                    .into_iter()
                    .enumerate()
                {
                    for state in TcpState::ALL {
                        let got = next_state(dir, row_flags, state, secure);
                        let expected =
                            &anchor[secure_index][dir as usize][row_index][state as usize];
                        assert_eq!(
                            abbreviation(got),
                            expected,
                            "secure_tcp={secure} {dir:?} row {row_index} from {state:?}"
                        );
                        let flat = tcp_transition_table(secure);
                        assert_eq!(flat[dir as usize][row_index][state as usize], got.as_u8());
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 2 * 3 * 4 * 11);
    }

    #[test]
    fn flag_priority_is_rst_syn_fin_ack() {
        use flags::*;
        assert_eq!(
            TcpFlagRow::from_tcp_flags(RST | SYN | FIN | ACK),
            Some(TcpFlagRow::Rst)
        );
        assert_eq!(
            TcpFlagRow::from_tcp_flags(SYN | FIN | ACK),
            Some(TcpFlagRow::Syn)
        );
        assert_eq!(
            TcpFlagRow::from_tcp_flags(FIN | ACK | PSH),
            Some(TcpFlagRow::Fin)
        );
        assert_eq!(
            TcpFlagRow::from_tcp_flags(ACK | PSH | URG),
            Some(TcpFlagRow::Ack)
        );
        assert_eq!(TcpFlagRow::from_tcp_flags(PSH | URG | 0xC0), None);
    }

    #[test]
    fn a_segment_without_the_four_flags_closes_from_any_state() {
        for dir in TcpDirection::ALL {
            for state in TcpState::ALL {
                for secure in [false, true] {
                    assert_eq!(next_state(dir, flags::PSH, state, secure), TcpState::Close);
                }
            }
        }
    }

    #[test]
    fn nat_handshake_and_close() {
        // Client SYN, server SYN-ACK (output), client ACK, client FIN, server FIN-ACK,
        // client ACK: NONE -> SYN_RECV -> SYN_RECV -> ESTABLISHED -> CLOSE_WAIT ->
        // TIME_WAIT -> TIME_WAIT (IPVS's table, not RFC 793's: the server's FIN from
        // CLOSE_WAIT goes straight to TIME_WAIT).
        use TcpDirection::{Input, Output};
        use flags::*;
        let steps = [
            (Input, SYN, TcpState::SynRecv),
            (Output, SYN | ACK, TcpState::SynRecv),
            (Input, ACK, TcpState::Established),
            (Input, FIN | ACK, TcpState::CloseWait),
            (Output, FIN | ACK, TcpState::TimeWait),
            (Input, ACK, TcpState::TimeWait),
        ];
        let mut state = TcpState::None;
        for (dir, tcp_flags, expected) in steps {
            state = next_state(dir, tcp_flags, state, false);
            assert_eq!(state, expected, "{dir:?} {tcp_flags:#04x}");
        }
    }

    #[test]
    fn dr_client_fin_goes_to_fin_wait() {
        use flags::*;
        let (dir, no_output) = TcpDirection::Input.effective(true);
        assert_eq!((dir, no_output), (TcpDirection::InputOnly, true));
        let state = next_state(dir, SYN, TcpState::None, false);
        let state = next_state(dir, ACK, state, false);
        assert_eq!(state, TcpState::Established);
        assert_eq!(next_state(dir, FIN | ACK, state, false), TcpState::FinWait);
    }

    #[test]
    fn first_output_packet_clears_no_output() {
        assert_eq!(
            TcpDirection::Output.effective(true),
            (TcpDirection::Output, false)
        );
        assert_eq!(
            TcpDirection::Input.effective(false),
            (TcpDirection::Input, false)
        );
        assert_eq!(
            TcpDirection::InputOnly.effective(true),
            (TcpDirection::InputOnly, true)
        );
    }

    #[test]
    fn secure_tcp_holds_the_handshake() {
        use flags::*;
        // With secure_tcp an ACK in SYN_RECV does not establish (input), a DR SYN starts in
        // SYNACK.
        assert_eq!(
            next_state(TcpDirection::Input, ACK, TcpState::SynRecv, true),
            TcpState::SynRecv
        );
        assert_eq!(
            next_state(TcpDirection::InputOnly, SYN, TcpState::None, true),
            TcpState::SynAck
        );
        assert_eq!(
            next_state(TcpDirection::Input, ACK, TcpState::SynRecv, false),
            TcpState::Established
        );
    }
}
