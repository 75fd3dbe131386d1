//! One attempt of a check against a real server: keepalived's checkers (`TCP_CHECK`, `HTTP_GET`,
//! `SSL_GET`, `SMTP_CHECK`, `DNS_CHECK`, `UDP_CHECK`, `PING_CHECK`, `MISC_CHECK`, `FILE_CHECK`)
//! and piranha nanny's send/expect, one file each.
//!
//! A probe never panics and always ends within its timeout: the check's `connect_timeout` for the
//! whole attempt (every network step is bounded by one [`net::Deadline`]), `misc_timeout` (or
//! `delay_loop`) for `MISC_CHECK`. A failure carries one line an operator understands.
//! Retries, `delay_before_retry`, alpha and hysteresis are not here: the caller counts attempts.

mod dns;
mod file;
mod http;
mod misc;
mod net;
mod ping;
mod send_expect;
mod smtp;
mod tcp;
mod udp;

use std::net::{IpAddr, SocketAddr};

use rvs_core::config::{Check, CheckKind};
use rvs_core::model::Weight;

use net::{Deadline, Endpoint};

/// What a probe is aimed at: the real server's address and port (connect_ip/connect_port of the
/// check's target override them), and its configured weight (for dynamic weights).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTarget {
    pub addr: IpAddr,
    pub port: u16,
    pub weight: Weight,
}

/// A passed probe; `weight` is set by misc_dynamic and FILE_CHECK's dynamic weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub weight: Option<Weight>,
}

impl Pass {
    /// A pass that leaves the weight alone.
    pub const UP: Pass = Pass { weight: None };
}

/// A failed probe, with a one-line reason an operator understands ("connect to 10.0.0.1:80:
/// connection refused", "HTTP status 500 is not in 200-299", "timed out after 5s waiting for the
/// answer", "body MD5 1a2b… is not the expected 3c4d…").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Failure {
    pub reason: String,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Self {
        Failure { reason: reason.into() }
    }
}

pub type ProbeResult = Result<Pass, Failure>;

/// Runs one attempt of `check` against `target`, bounded by the check's connect_timeout (whole
/// attempt; MISC uses misc_timeout or delay_loop).
pub async fn probe(check: &Check, target: &ProbeTarget) -> ProbeResult {
    let endpoint = Endpoint {
        dest: SocketAddr::new(
            check.target.ip.unwrap_or(target.addr),
            check.target.port.unwrap_or(target.port),
        ),
        bind_ip: check.target.bind_ip,
        bind_port: check.target.bind_port,
    };
    let deadline = Deadline::after(check.timing.connect_timeout);
    let result = match &check.kind {
        CheckKind::Tcp => tcp::probe(&endpoint, &deadline).await,
        CheckKind::Http(http) => http::probe(http, &endpoint, &deadline).await,
        CheckKind::SendExpect { send, expect } => {
            send_expect::probe(send, expect, &endpoint, &deadline).await
        }
        CheckKind::Smtp { helo_name } => smtp::probe(helo_name, &endpoint, &deadline).await,
        CheckKind::Dns { qtype, name } => dns::probe(*qtype, name, &endpoint, &deadline).await,
        CheckKind::Udp(udp) => udp::probe(udp, &endpoint, &deadline).await,
        CheckKind::Ping => ping::probe(&endpoint, &deadline).await,
        CheckKind::Misc(misc) => {
            let limit = misc.timeout.unwrap_or(check.timing.delay_loop);
            misc::probe(misc, target.weight, limit).await
        }
        CheckKind::File(file) => file::probe(file, target.weight, &deadline).await,
    };
    if let Err(failure) = &result {
        tracing::debug!(check = check.kind.keyword(), dest = %endpoint.dest, reason = %failure.reason, "probe failed");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::config::{CheckTarget, CheckTiming};

    fn assert_send<T: Send>(_: &T) {}

    /// The monitor spawns probes on a multi-threaded runtime: the future must be `Send`.
    #[test]
    fn probe_future_is_send() {
        let check = Check {
            kind: CheckKind::Tcp,
            timing: CheckTiming::keepalived_default(&CheckKind::Tcp),
            target: CheckTarget::default(),
        };
        let target = ProbeTarget {
            addr: IpAddr::from([127, 0, 0, 1]),
            port: 1,
            weight: Weight::new(1).unwrap_or_default(),
        };
        let fut = probe(&check, &target);
        assert_send(&fut);
    }
}
