//! Health checks of real servers: the checkers (`probe`: TCP, HTTP/HTTPS, nanny's send/expect,
//! SMTP, DNS, UDP, ICMP ping, external programs, files), the per-check state machine that turns
//! their results into up and down with keepalived's retry/delay/alpha rules and piranha's
//! reentry (`check_state`), a real server's state from its checks with nanny's slow start
//! (`real_state`), the health of a whole configuration with quorum and reload (`cluster`), all
//! sans-IO, and the monitor that runs every check on one task and reports changes (`monitor`).
//! Failures while the director's own links are down are not counted (`own_links`).

pub mod probe;
pub mod check_state;
pub mod cluster;
pub mod monitor;
pub mod notify;
pub mod own_links;
pub mod real_state;

pub use monitor::{Monitor, Update};
