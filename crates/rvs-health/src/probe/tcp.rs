//! `TCP_CHECK`: the real server accepts a TCP connection (keepalived's check_tcp.c). The
//! connection is closed at once, without sending anything.

use super::net::{Deadline, Endpoint, connect_tcp};
use super::{Pass, ProbeResult};

pub(super) async fn probe(endpoint: &Endpoint, deadline: &Deadline) -> ProbeResult {
    let stream = connect_tcp(endpoint, deadline).await?;
    drop(stream);
    Ok(Pass::UP)
}
