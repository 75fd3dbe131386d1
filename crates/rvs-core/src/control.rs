//! The rvsadm ⇄ rvsd control protocol: newline-delimited JSON over a Unix stream socket
//! (`$RVS_SOCKET`, default `/run/rvs/rvsd.sock`), one request line answered by one response
//! line, both carrying `"version": 1`.
//!
//! ```text
//! → {"version":1,"request":{"type":"apply","operation":{"op":"add_service","spec":{…}}}}
//! ← {"version":1,"response":{"type":"ok"}}
//! → {"version":1,"request":{"type":"get_service","key":{"kind":"addr","protocol":"tcp","addr":"10.0.0.1","port":80}}}
//! ← {"version":1,"response":{"type":"error","error":{"ipvs":"no_such_service"}}}
//! ```
//!
//! Requests ([`Request`]): `apply` one [`crate::model::Operation`], `get_info`, `get_services`,
//! `get_service`, `get_connections`, `get_timeouts`, `get_daemons`; rvsd alone answers
//! `get_dataplane_counters`, `marks` (the mark classifier's rules, [`MarkEdit`]), `reload` (the
//! configuration file) and `get_health` (its real servers' checks, [`RealStatus`]). Responses ([`Response`]):
//! `ok`, `error` (an [`crate::table::IpvsError`], i.e. the kernel's errno, or a protocol error),
//! or the data asked for. A client may send several requests on one connection.
//!
//! # For rvsd
//!
//! For each line read from a client connection:
//!
//! ```text
//! let (reply, changes) = control::serve_line(&mut table, &line, &host, &counters, &conns);
//! write reply (already newline-terminated);
//! for change in changes { update the data plane }   // see crate::table::Change
//! ```
//!
//! [`serve`] does the same on decoded requests. `host` implements
//! [`crate::table::DirectorHost`] (local/broadcast addresses, interface MTUs), `counters`
//! [`crate::table::LiveCounters`] and `conns` [`crate::table::ConnectionSource`] (the data plane's
//! numbers and connection table).
//!
//! # For rvsadm
//!
//! `ControlBackend(SocketTransport::new(socket_path(env::var_os(SOCKET_ENV))))` is the
//! [`crate::ipvsadm::Backend`] to pass to [`crate::ipvsadm::run`]; it connects on first use and
//! reports a missing daemon as [`crate::ipvsadm::BackendError::Unavailable`]. [`LocalTransport`]
//! answers from a table in the same process.

mod backend;
mod client;
mod health;
mod serve;
mod wire;

pub use backend::{ControlBackend, LocalTransport, SocketTransport, Transport};
pub use health::{CheckStatus, RealStatus, ReloadReport};
pub use client::{
    ClientError, ControlClient, DEFAULT_SOCKET_PATH, SOCKET_ENV, os_error_text, socket_path,
};
pub use serve::{serve, serve_line};
pub use wire::{
    ErrorReply, MarkEdit, NamedCounter, PROTOCOL_VERSION, Request, Response, WireError, decode_request, decode_response,
    encode_request, encode_response,
};
