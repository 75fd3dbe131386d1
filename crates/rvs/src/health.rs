//! `rvs health` and `rvs reload`: a running rvsd's configuration file, its real servers' checks,
//! and reloading it, over the control socket.

use std::path::PathBuf;

use anyhow::{Result, bail};
use rvs_core::control::{ErrorReply, RealStatus, Request, Response};

use crate::tools::{call, socket_or_default};

/// `rvs reload`: prints the warnings and a summary; a refused file's errors are the error.
pub fn reload(socket: Option<PathBuf>) -> Result<()> {
    match call(&socket_or_default(socket), &Request::Reload)? {
        Response::Reloaded { report } => {
            for w in &report.warnings {
                eprintln!("{w}");
            }
            println!("{}: reloaded, {} virtual servers, {} real servers", report.file, report.virtual_servers, report.real_servers);
            Ok(())
        }
        Response::Error { error: ErrorReply::Refused(why) } => bail!("rvsd refused the reload; the running configuration stays:\n{why}"),
        other => bail!("unexpected answer from rvsd: {other:?}"),
    }
}

/// `rvs health`: one block per real server.
pub fn health(socket: Option<PathBuf>) -> Result<()> {
    match call(&socket_or_default(socket), &Request::GetHealth)? {
        Response::Health { reals } => {
            print!("{}", render(&reals));
            Ok(())
        }
        Response::Error { error: ErrorReply::Refused(why) } => bail!("{why}"),
        other => bail!("unexpected answer from rvsd: {other:?}"),
    }
}

/// The listing: a line per real server, then one per check.
///
/// ```text
/// TCP 192.168.1.250:80  (quorum up)
///   10.0.0.100:8080  UP    weight 1  for 42s: HTTP_GET passed
///     HTTP_GET  up    1s ago: ok
/// ```
pub fn render(reals: &[RealStatus]) -> String {
    let mut out = String::new();
    let mut service = None;
    for r in reals {
        if service != Some(r.service) {
            service = Some(r.service);
            let quorum = if r.quorum_up { "quorum up" } else { "quorum lost" };
            out.push_str(&format!("{}  ({quorum})\n", r.service));
        }
        let state = if r.up { "UP" } else { "DOWN" };
        let weight = match r.table_weight {
            Some(w) => format!("weight {w}"),
            None => "not in table".to_string(),
        };
        let dest = std::net::SocketAddr::from(r.dest);
        out.push_str(&format!("  {dest:<21} {state:<5} {weight:<13} for {}s: {}\n", r.since_secs, r.reason));
        for c in &r.checks {
            let state = if c.up { "up" } else { "down" };
            let last = match (&c.last, c.last_secs_ago) {
                (Some(last), Some(ago)) => format!("{ago}s ago: {last}"),
                _ => "not run yet".to_string(),
            };
            out.push_str(&format!("    {:<11} {state:<5} {last}\n", c.kind));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rvs_core::control::CheckStatus;
    use rvs_core::model::{DestAddr, Protocol, ServiceKey};

    #[test]
    fn one_line_per_real_server_and_per_check() {
        let service = ServiceKey::Addr { protocol: Protocol::Tcp, addr: "192.168.1.250".parse().unwrap(), port: 80 };
        let reals = [
            RealStatus {
                service,
                dest: DestAddr { addr: "10.0.0.100".parse().unwrap(), port: 8080 },
                up: false,
                table_weight: Some(0),
                since_secs: 3,
                reason: "HTTP_GET failed: HTTP status 500 is not in 200".into(),
                quorum_up: true,
                checks: vec![CheckStatus { kind: "HTTP_GET".into(), up: false, last: Some("HTTP status 500 is not in 200".into()), last_secs_ago: Some(1) }],
            },
            RealStatus {
                service,
                dest: DestAddr { addr: "10.0.0.200".parse().unwrap(), port: 8080 },
                up: true,
                table_weight: None,
                since_secs: 9,
                reason: "added".into(),
                quorum_up: true,
                checks: vec![CheckStatus { kind: "TCP_CHECK".into(), up: true, last: None, last_secs_ago: None }],
            },
        ];
        assert_eq!(
            render(&reals),
            "TCP 192.168.1.250:80  (quorum up)\n\
             \x20 10.0.0.100:8080       DOWN  weight 0      for 3s: HTTP_GET failed: HTTP status 500 is not in 200\n\
             \x20   HTTP_GET    down  1s ago: HTTP status 500 is not in 200\n\
             \x20 10.0.0.200:8080       UP    not in table  for 9s: added\n\
             \x20   TCP_CHECK   up    not run yet\n"
        );
    }
}
