//! [`ControlBackend`]: the ipvsadm [`Backend`] over any request transport — the socket
//! ([`SocketTransport`], connected on first use) or the table itself ([`LocalTransport`], for
//! tests and tools).

use super::client::{ClientError, ControlClient};
use super::serve::serve;
use super::wire::{
    ErrorReply, Request, Response, decode_request, decode_response, encode_request, encode_response,
};
use crate::ipvsadm::{Backend, BackendError};
use crate::model::{
    ConnEntry, Info, Operation, ServiceEntry, ServiceKey, SyncDaemonEntry, Timeouts,
};
use crate::table::{ConnectionSource, DirectorHost, IpvsTable, LiveCounters};
use std::path::PathBuf;

/// Something that answers control requests.
pub trait Transport {
    fn call(&mut self, request: &Request) -> Result<Response, BackendError>;
}

/// The ipvsadm backend over a [`Transport`].
pub struct ControlBackend<T: Transport>(pub T);

fn unexpected(r: Response) -> BackendError {
    match r {
        Response::Error {
            error: ErrorReply::Ipvs(e),
        } => BackendError::Ipvs(e),
        Response::Error {
            error: ErrorReply::Protocol(m) | ErrorReply::Refused(m),
        } => BackendError::Failed(format!("rvsd: {m}")),
        other => BackendError::Failed(format!("rvsd: unexpected reply {other:?}")),
    }
}

impl<T: Transport> Backend for ControlBackend<T> {
    fn info(&mut self) -> Result<Info, BackendError> {
        match self.0.call(&Request::GetInfo)? {
            Response::Info { info } => Ok(info),
            r => Err(unexpected(r)),
        }
    }

    fn apply(&mut self, op: &Operation) -> Result<(), BackendError> {
        match self.0.call(&Request::Apply {
            operation: op.clone(),
        })? {
            Response::Ok => Ok(()),
            r => Err(unexpected(r)),
        }
    }

    fn services(&mut self) -> Result<Vec<ServiceEntry>, BackendError> {
        match self.0.call(&Request::GetServices)? {
            Response::Services { services } => Ok(services),
            r => Err(unexpected(r)),
        }
    }

    fn service(&mut self, key: &ServiceKey) -> Result<ServiceEntry, BackendError> {
        match self.0.call(&Request::GetService { key: *key })? {
            Response::Service { service } => Ok(service),
            r => Err(unexpected(r)),
        }
    }

    fn connections(&mut self) -> Result<Vec<ConnEntry>, BackendError> {
        match self.0.call(&Request::GetConnections)? {
            Response::Connections { connections } => Ok(connections),
            r => Err(unexpected(r)),
        }
    }

    fn timeouts(&mut self) -> Result<Timeouts, BackendError> {
        match self.0.call(&Request::GetTimeouts)? {
            Response::Timeouts { timeouts } => Ok(timeouts),
            r => Err(unexpected(r)),
        }
    }

    fn daemons(&mut self) -> Result<Vec<SyncDaemonEntry>, BackendError> {
        match self.0.call(&Request::GetDaemons)? {
            Response::Daemons { daemons } => Ok(daemons),
            r => Err(unexpected(r)),
        }
    }
}

/// The control socket, connected when the first request is made.
pub struct SocketTransport {
    path: PathBuf,
    client: Option<ControlClient>,
}

impl SocketTransport {
    pub fn new(path: PathBuf) -> Self {
        SocketTransport { path, client: None }
    }
}

impl Transport for SocketTransport {
    fn call(&mut self, request: &Request) -> Result<Response, BackendError> {
        let client = match &mut self.client {
            Some(c) => c,
            none => none.insert(ControlClient::connect(&self.path).map_err(|e| match e {
                ClientError::NotRunning { .. } | ClientError::Connect { .. } => {
                    BackendError::Unavailable(e.to_string())
                }
                other => BackendError::Failed(other.to_string()),
            })?),
        };
        client
            .call(request)
            .map_err(|e| BackendError::Failed(e.to_string()))
    }
}

/// The table in the same process, answering as rvsd would (through [`serve`]). With
/// `through_json` every request and response also goes through the wire encoding.
pub struct LocalTransport<'a> {
    pub table: &'a mut IpvsTable,
    pub host: &'a dyn DirectorHost,
    pub counters: &'a dyn LiveCounters,
    pub conns: &'a dyn ConnectionSource,
    pub through_json: bool,
}

impl Transport for LocalTransport<'_> {
    fn call(&mut self, request: &Request) -> Result<Response, BackendError> {
        let failed = |e: super::wire::WireError| BackendError::Failed(e.to_string());
        if !self.through_json {
            return Ok(serve(self.table, request, self.host, self.counters, self.conns).0);
        }
        let request = decode_request(&encode_request(request)).map_err(failed)?;
        let (response, _) = serve(self.table, &request, self.host, self.counters, self.conns);
        decode_response(&encode_response(&response)).map_err(failed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::table::{IpvsError, NoLiveData, StaticHost};

    #[test]
    fn local_backend_maps_replies() {
        let mut table = IpvsTable::new();
        let host = StaticHost::loopback_only();
        let mut b = ControlBackend(LocalTransport {
            table: &mut table,
            host: &host,
            counters: &NoLiveData,
            conns: &NoLiveData,
            through_json: true,
        });
        assert_eq!(b.info().unwrap().version, 0x010201);
        assert!(b.services().unwrap().is_empty());
        assert_eq!(
            b.apply(&Operation::StopDaemon {
                state: crate::model::SyncState::Master
            }),
            Err(BackendError::Ipvs(IpvsError::NoSuchService))
        );
        assert_eq!(b.timeouts().unwrap(), Timeouts::default());
        assert!(b.daemons().unwrap().is_empty());
        assert!(b.connections().unwrap().is_empty());
    }

    #[test]
    fn socket_backend_without_daemon_is_unavailable() {
        let path = std::env::temp_dir().join(format!("rvs-no-daemon-{}.sock", std::process::id()));
        let mut b = ControlBackend(SocketTransport::new(path.clone()));
        match b.info() {
            Err(BackendError::Unavailable(m)) => {
                assert!(m.starts_with("rvsd is not running (cannot connect to"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
