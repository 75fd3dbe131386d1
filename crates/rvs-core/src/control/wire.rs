//! The messages of the control socket and their line encoding.

use crate::model::{
    ConnEntry, Info, MarkRule, Operation, ServiceEntry, ServiceKey, SyncDaemonEntry, Timeouts,
};
use crate::table::IpvsError;
use super::health::{RealStatus, ReloadReport};
use serde::{Deserialize, Serialize};

/// Version of the protocol; both sides put it in every line and refuse other versions.
pub const PROTOCOL_VERSION: u32 = 1;

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Change the table (one ipvsadm command).
    Apply { operation: Operation },
    /// Version code and connection table size.
    GetInfo,
    /// Every service with its destinations and counters, in kernel order.
    GetServices,
    /// One service with its destinations and counters.
    GetService { key: ServiceKey },
    /// The connection table.
    GetConnections,
    /// TCP, TCP FIN and UDP timeouts.
    GetTimeouts,
    /// Running sync daemons.
    GetDaemons,
    /// The data plane's named counters (what it did with each packet): rvsd answers this one
    /// itself, the table knows nothing of packets.
    GetDataplaneCounters,
    /// Read or change the mark classifier's rules (rvsd answers, with `marks`).
    Marks { edit: MarkEdit },
    /// rvsd only: re-reads the configuration file and applies the difference.
    Reload,
    /// rvsd only: the real servers of the configuration file and their checks.
    GetHealth,
}

/// A change to (or a read of) the mark classifier's rules, applied whole or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MarkEdit {
    /// The rules in force.
    List,
    /// Appends a rule (refused if the same rule is there).
    Add { rule: MarkRule },
    /// Deletes a rule (refused if it is not there).
    Delete { rule: MarkRule },
    /// Deletes every rule.
    Flush,
    /// Puts this rule set in force instead.
    Replace { rules: Vec<MarkRule> },
}

/// One named counter of the data plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCounter {
    /// The counter's name (`pass_not_service`, `fwd_dr_tx`, …).
    pub name: String,
    /// Its value, summed over CPUs.
    pub value: u64,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorReply {
    /// The error the kernel would have returned; ipvsadm prints it with `ipvs_strerror`.
    Ipvs(IpvsError),
    /// The request could not be understood (bad JSON, other protocol version …).
    Protocol(String),
    /// The request was understood but refused; the reason is for the operator.
    Refused(String),
}

/// What the daemon answers, one per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Ok,
    Error { error: ErrorReply },
    Info { info: Info },
    Services { services: Vec<ServiceEntry> },
    Service { service: ServiceEntry },
    Connections { connections: Vec<ConnEntry> },
    Timeouts { timeouts: Timeouts },
    Daemons { daemons: Vec<SyncDaemonEntry> },
    DataplaneCounters { counters: Vec<NamedCounter> },
    Marks { rules: Vec<MarkRule> },
    Reloaded { report: ReloadReport },
    Health { reals: Vec<RealStatus> },
}

#[derive(Debug, Serialize, Deserialize)]
struct RequestLine {
    version: u32,
    request: Request,
}

#[derive(Debug, Serialize, Deserialize)]
struct ResponseLine {
    version: u32,
    response: Response,
}

/// A line that is not a valid message of this protocol version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("unsupported protocol version {0} (this side speaks {PROTOCOL_VERSION})")]
    Version(u32),
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

fn check_version(line: &str) -> Result<(), WireError> {
    let v: VersionOnly =
        serde_json::from_str(line).map_err(|e| WireError::Malformed(e.to_string()))?;
    if v.version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(WireError::Version(v.version))
    }
}

fn to_line<T: Serialize>(value: &T) -> String {
    // Serializing these plain data types cannot fail (no maps with non-string keys).
    let mut s = serde_json::to_string(value).unwrap_or_else(|e| {
        format!(r#"{{"version":{PROTOCOL_VERSION},"response":{{"type":"error","error":{{"protocol":"{e}"}}}}}}"#)
    });
    s.push('\n');
    s
}

/// A request as one line of JSON, newline included.
pub fn encode_request(request: &Request) -> String {
    to_line(&RequestLine {
        version: PROTOCOL_VERSION,
        request: request.clone(),
    })
}

/// A response as one line of JSON, newline included.
pub fn encode_response(response: &Response) -> String {
    to_line(&ResponseLine {
        version: PROTOCOL_VERSION,
        response: response.clone(),
    })
}

/// Parses one request line (with or without its newline).
pub fn decode_request(line: &str) -> Result<Request, WireError> {
    check_version(line)?;
    serde_json::from_str::<RequestLine>(line)
        .map(|l| l.request)
        .map_err(|e| WireError::Malformed(e.to_string()))
}

/// Parses one response line (with or without its newline).
pub fn decode_response(line: &str) -> Result<Response, WireError> {
    check_version(line)?;
    serde_json::from_str::<ResponseLine>(line)
        .map(|l| l.response)
        .map_err(|e| WireError::Malformed(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{AddressFamily, Fwmark};

    #[test]
    fn requests_round_trip_on_one_line() {
        let reqs = [
            Request::GetInfo,
            Request::GetServices,
            Request::GetService {
                key: ServiceKey::Fwmark {
                    af: AddressFamily::Inet,
                    mark: Fwmark::new(3).unwrap(),
                },
            },
            Request::Apply {
                operation: Operation::Flush,
            },
            Request::GetDaemons,
        ];
        for r in reqs {
            let line = encode_request(&r);
            assert!(line.ends_with('\n'));
            assert_eq!(line.matches('\n').count(), 1);
            assert_eq!(decode_request(&line).unwrap(), r);
        }
        assert_eq!(
            encode_request(&Request::GetInfo),
            "{\"version\":1,\"request\":{\"type\":\"get_info\"}}\n"
        );
    }

    #[test]
    fn responses_round_trip() {
        let r = Response::Error {
            error: ErrorReply::Ipvs(IpvsError::Exists),
        };
        assert_eq!(decode_response(&encode_response(&r)).unwrap(), r);
        let r = Response::Timeouts {
            timeouts: Timeouts::default(),
        };
        assert_eq!(decode_response(&encode_response(&r)).unwrap(), r);
    }

    #[test]
    fn bad_lines_are_typed_errors() {
        assert!(matches!(
            decode_request("nonsense"),
            Err(WireError::Malformed(_))
        ));
        assert_eq!(
            decode_request(r#"{"version":2,"request":{"type":"get_info"}}"#),
            Err(WireError::Version(2))
        );
        assert!(matches!(
            decode_request(r#"{"version":1,"request":{"type":"nope"}}"#),
            Err(WireError::Malformed(_))
        ));
        let zero_mark = r#"{"version":1,"request":{"type":"get_service","key":{"kind":"fwmark","af":"inet","mark":0}}}"#;
        assert!(matches!(
            decode_request(zero_mark),
            Err(WireError::Malformed(_))
        ));
    }
}
