//! What the CLI needs from "the kernel": the [`Backend`] trait, and `ipvs_strerror`, which turns
//! an errno into libipvs' message according to the call that failed.

use crate::model::{
    ConnEntry, Info, Operation, ServiceEntry, ServiceKey, SyncDaemonEntry, Timeouts,
};
use crate::table::IpvsError;

/// Why a backend request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The "kernel" refused: printed through `ipvs_strerror`.
    #[error(transparent)]
    Ipvs(#[from] IpvsError),
    /// The backend cannot be reached at all (rvsd not running); the text says why.
    #[error("{0}")]
    Unavailable(String),
    /// The request was sent but failed on the way (connection lost, bad reply).
    #[error("{0}")]
    Failed(String),
}

/// The requests of libipvs that ipvsadm makes. Implemented over the control socket by rvsadm
/// ([`crate::control::ControlBackend`]) and in-process by tests.
pub trait Backend {
    /// `ipvs_init`/`ipvs_getinfo`.
    fn info(&mut self) -> Result<Info, BackendError>;
    /// Any change (`ipvs_add_service` … `ipvs_stop_daemon`).
    fn apply(&mut self, op: &Operation) -> Result<(), BackendError>;
    /// `ipvs_get_services` with `ipvs_get_dests` of each, in kernel order.
    fn services(&mut self) -> Result<Vec<ServiceEntry>, BackendError>;
    /// `ipvs_get_service` (+ its destinations).
    fn service(&mut self, key: &ServiceKey) -> Result<ServiceEntry, BackendError>;
    /// The connection table (`/proc/net/ip_vs_conn`).
    fn connections(&mut self) -> Result<Vec<ConnEntry>, BackendError>;
    /// `ipvs_get_timeout`.
    fn timeouts(&mut self) -> Result<Timeouts, BackendError>;
    /// `ipvs_get_daemon`.
    fn daemons(&mut self) -> Result<Vec<SyncDaemonEntry>, BackendError>;
}

/// The libipvs call an error came from, which selects the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    AddService,
    UpdateService,
    DelService,
    ZeroService,
    AddDest,
    UpdateDest,
    DelDest,
    StartDaemon,
    StopDaemon,
    GetServices,
    GetService,
    Other,
}

impl Call {
    /// The call an operation is made with.
    pub fn of(op: &Operation) -> Call {
        match op {
            Operation::AddService { .. } => Call::AddService,
            Operation::EditService { .. } => Call::UpdateService,
            Operation::DeleteService { .. } => Call::DelService,
            Operation::AddDest { .. } => Call::AddDest,
            Operation::EditDest { .. } => Call::UpdateDest,
            Operation::DeleteDest { .. } => Call::DelDest,
            Operation::Zero { .. } => Call::ZeroService,
            Operation::StartDaemon { .. } => Call::StartDaemon,
            Operation::StopDaemon { .. } => Call::StopDaemon,
            Operation::Flush | Operation::SetTimeouts { .. } => Call::Other,
        }
    }
}

/// libipvs' `ipvs_strerror`: the message for `errno` after `call` failed.
pub fn ipvs_strerror(call: Call, errno: i32) -> String {
    use Call::*;
    let specific: &[(Call, i32, &str)] = &[
        (AddService, 17, "Service already exists"),
        (AddService, 2, "Scheduler or persistence engine not found"),
        (UpdateService, 3, "No such service"),
        (
            UpdateService,
            2,
            "Scheduler or persistence engine not found",
        ),
        (DelService, 3, "No such service"),
        (ZeroService, 3, "No such service"),
        (AddDest, 3, "Service not defined"),
        (AddDest, 17, "Destination already exists"),
        (UpdateDest, 3, "Service not defined"),
        (UpdateDest, 2, "No such destination"),
        (DelDest, 3, "Service not defined"),
        (DelDest, 2, "No such destination"),
        (StartDaemon, 17, "Daemon has already run"),
        (StopDaemon, 3, "No daemon is running"),
        (GetServices, 3, "No such service"),
        (GetService, 3, "No such service"),
    ];
    if let Some((_, _, m)) = specific.iter().find(|(c, e, _)| *c == call && *e == errno) {
        return (*m).to_owned();
    }
    let generic = match errno {
        1 => Some("Permission denied (you must be root)"),
        22 => Some("Invalid operation.  Possibly wrong module version, address not unicast, ..."),
        92 => Some("Protocol not available"),
        12 => Some("Memory allocation problem"),
        95 => Some("Operation not supported with IPv6"),
        97 => Some("Operation not supported with specified address family"),
        90 => Some("Module is wrong version"),
        _ => None,
    };
    generic.map_or_else(|| strerror(errno), str::to_owned)
}

/// glibc's `strerror` for the errnos an IPVS call can return.
pub fn strerror(errno: i32) -> String {
    let s = match errno {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        3 => "No such process",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        16 => "Device or resource busy",
        17 => "File exists",
        19 => "No such device",
        22 => "Invalid argument",
        34 => "Numerical result out of range",
        97 => "Address family not supported by protocol",
        _ => return format!("Unknown error {errno}"),
    };
    s.to_owned()
}

/// The text ipvsadm prints for a failed backend request.
pub fn error_text(call: Call, e: &BackendError) -> String {
    match e {
        BackendError::Ipvs(err) => ipvs_strerror(call, err.errno()),
        BackendError::Unavailable(m) | BackendError::Failed(m) => m.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_depend_on_the_call() {
        assert_eq!(
            ipvs_strerror(Call::AddService, 17),
            "Service already exists"
        );
        assert_eq!(
            ipvs_strerror(Call::AddDest, 17),
            "Destination already exists"
        );
        assert_eq!(ipvs_strerror(Call::AddDest, 3), "Service not defined");
        assert_eq!(ipvs_strerror(Call::DelService, 3), "No such service");
        assert_eq!(ipvs_strerror(Call::StopDaemon, 3), "No daemon is running");
        assert_eq!(
            ipvs_strerror(Call::StartDaemon, 17),
            "Daemon has already run"
        );
        assert_eq!(
            ipvs_strerror(Call::AddDest, 34),
            "Numerical result out of range"
        );
        assert_eq!(ipvs_strerror(Call::StartDaemon, 19), "No such device");
        assert_eq!(ipvs_strerror(Call::Other, 17), "File exists");
        assert!(ipvs_strerror(Call::AddDest, 22).starts_with("Invalid operation."));
        assert_eq!(strerror(4242), "Unknown error 4242");
        let e = BackendError::Ipvs(IpvsError::NotFound);
        assert_eq!(error_text(Call::DelDest, &e), "No such destination");
        assert_eq!(
            error_text(Call::Other, &BackendError::Failed("x".into())),
            "x"
        );
    }
}
