//! Connection states and timeouts, numbered, named and timed as IPVS does.
//!
//! - [`TcpState`]: `IP_VS_TCP_S_*` with the names `ipvsadm -Lnc` prints, the default
//!   timeouts and which states count as ActiveConn.
//! - [`tcp_transition`]: the kernel's `tcp_states` / `tcp_states_dos` tables as a pure
//!   function and as a flat `u8` table for the data plane.
//! - [`UdpState`] and [`SctpState`]: their names and default timeouts.
//! - [`Timeouts`]: the per-state timeout table that `ipvsadm --set tcp tcpfin udp` edits.

mod sctp;
mod tcp;
pub mod tcp_transition;
mod timeouts;
mod udp;

pub use sctp::SctpState;
pub use tcp::TcpState;
pub use tcp_transition::{
    TcpDirection, TcpFlagRow, TcpTransitionTable, next_state, tcp_transition_table,
};
pub use timeouts::{TimeoutError, TimeoutSet, Timeouts};
pub use udp::UdpState;
