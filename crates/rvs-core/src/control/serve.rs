//! The daemon side: one request in, one response out, plus the table changes to push to the
//! data plane.

use super::wire::{ErrorReply, Request, Response, decode_request, encode_response};
use crate::table::{Change, ConnectionSource, DirectorHost, IpvsTable, LiveCounters};

/// Answers `request` against `table`. Listings merge `counters`; `-Lc` reads `conns`.
pub fn serve(
    table: &mut IpvsTable,
    request: &Request,
    host: &dyn DirectorHost,
    counters: &dyn LiveCounters,
    conns: &dyn ConnectionSource,
) -> (Response, Vec<Change>) {
    let error = |e| Response::Error {
        error: ErrorReply::Ipvs(e),
    };
    match request {
        Request::Apply { operation } => match table.apply(operation, host) {
            Ok(changes) => (Response::Ok, changes),
            Err(e) => (error(e), Vec::new()),
        },
        Request::GetInfo => (Response::Info { info: table.info() }, Vec::new()),
        Request::GetServices => (
            Response::Services {
                services: table.entries(counters),
            },
            Vec::new(),
        ),
        Request::GetService { key } => match table.entry(key, counters) {
            Ok(service) => (Response::Service { service }, Vec::new()),
            Err(e) => (error(e), Vec::new()),
        },
        Request::GetConnections => (
            Response::Connections {
                connections: conns.connections(),
            },
            Vec::new(),
        ),
        Request::GetTimeouts => (
            Response::Timeouts {
                timeouts: table.timeouts(),
            },
            Vec::new(),
        ),
        Request::GetDaemons => (
            Response::Daemons {
                daemons: table.sync_daemons(),
            },
            Vec::new(),
        ),
        Request::GetDataplaneCounters | Request::Marks { .. } | Request::Reload | Request::GetHealth => (
            Response::Error {
                error: ErrorReply::Protocol("no data plane behind this table".to_string()),
            },
            Vec::new(),
        ),
    }
}

/// [`serve`] on a line of the socket: decodes it (a bad line gets a protocol error reply) and
/// returns the encoded response line, newline included.
pub fn serve_line(
    table: &mut IpvsTable,
    line: &str,
    host: &dyn DirectorHost,
    counters: &dyn LiveCounters,
    conns: &dyn ConnectionSource,
) -> (String, Vec<Change>) {
    match decode_request(line) {
        Ok(request) => {
            let (response, changes) = serve(table, &request, host, counters, conns);
            (encode_response(&response), changes)
        }
        Err(e) => (
            encode_response(&Response::Error {
                error: ErrorReply::Protocol(e.to_string()),
            }),
            Vec::new(),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::wire::{decode_response, encode_request};
    use super::*;
    use crate::model::{Operation, Protocol, ServiceId, ServiceKey};
    use crate::table::{IpvsError, NoLiveData, StaticHost};

    #[test]
    fn serve_lines() {
        let mut t = IpvsTable::new();
        let h = StaticHost::loopback_only();
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        let (line, changes) = serve_line(
            &mut t,
            &encode_request(&Request::GetService { key }),
            &h,
            &NoLiveData,
            &NoLiveData,
        );
        assert!(changes.is_empty());
        assert_eq!(
            decode_response(&line).unwrap(),
            Response::Error {
                error: ErrorReply::Ipvs(IpvsError::NoSuchService)
            }
        );
        let (line, changes) = serve_line(&mut t, "garbage\n", &h, &NoLiveData, &NoLiveData);
        assert!(changes.is_empty());
        assert!(matches!(
            decode_response(&line).unwrap(),
            Response::Error {
                error: ErrorReply::Protocol(_)
            }
        ));
        let (resp, changes) = serve(
            &mut t,
            &Request::Apply {
                operation: Operation::Flush,
            },
            &h,
            &NoLiveData,
            &NoLiveData,
        );
        assert_eq!((resp, changes), (Response::Ok, vec![]));
        let (resp, _) = serve(&mut t, &Request::GetInfo, &h, &NoLiveData, &NoLiveData);
        assert!(matches!(resp, Response::Info { info } if info.conn_tab_size == 4096));
        let _ = ServiceId(0);
    }
}
