//! The one error type of the lab: every variant names what was being done, so that a failing
//! end-to-end test says which command broke and what the kernel answered.

use std::io;
use std::time::Duration;

/// Everything that can go wrong while building, using or tearing down a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A prefix, host, switch or interface name that the lab refuses (see [`crate::Prefix`]).
    #[error("invalid {kind} name {name:?}: {reason}")]
    InvalidName {
        kind: &'static str,
        name: String,
        reason: &'static str,
    },

    /// A text that should have held an address, a MAC or a number did not.
    #[error("cannot parse {what} from {input:?}")]
    Parse { what: &'static str, input: String },

    /// A command ran but exited unsuccessfully; `stderr` is what it printed.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },

    /// A command could not be started at all (missing binary, namespace gone, ...).
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },

    /// A command was still running at its deadline; it has been killed. The output it had
    /// produced by then is kept for the error report.
    #[error(
        "`{command}` did not finish within {timeout:?} (killed); stdout: {stdout:?}; stderr: {stderr:?}"
    )]
    CommandTimeout {
        command: String,
        timeout: Duration,
        stdout: String,
        stderr: String,
    },

    /// Waiting for a condition (a port to listen, a process to exit) took too long.
    #[error("gave up after {timeout:?} waiting for {what}")]
    WaitTimeout { what: String, timeout: Duration },

    /// A lab was asked for with a prefix whose namespaces already exist.
    #[error(
        "namespaces with prefix {prefix:?} already exist ({existing}); another lab uses this \
         prefix, or a crashed one left them: `rvs lab down {prefix}` removes them"
    )]
    PrefixInUse { prefix: String, existing: String },

    /// A host or switch name was used twice in one lab, or looked up and not found.
    #[error("{0}")]
    Topology(String),

    /// Tearing a lab down left something behind; each failure is listed.
    #[error("tearing down lab {prefix} left things behind: {failures}")]
    Teardown { prefix: String, failures: String },

    /// The lab's HTTP server could not start.
    #[error(transparent)]
    Http(#[from] crate::http::HttpServerError),

    /// A system call or file operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl LabError {
    /// Wraps an I/O error with what was being attempted.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        LabError::Io {
            context: context.into(),
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = LabError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_failures_show_the_command_and_its_stderr() {
        let err = LabError::CommandFailed {
            command: "ip -n t-a addr add 1.2.3.4/24 dev eth9".into(),
            status: "exit status: 1".into(),
            stderr: "Cannot find device \"eth9\"".into(),
        };
        let text = err.to_string();
        assert!(
            text.contains("ip -n t-a addr add 1.2.3.4/24 dev eth9"),
            "{text}"
        );
        assert!(text.contains("Cannot find device"), "{text}");
    }

    #[test]
    fn io_errors_keep_their_context() {
        let err = LabError::io(
            "opening /run/netns/x",
            io::Error::from_raw_os_error(libc::ENOENT),
        );
        assert!(
            err.to_string().starts_with("opening /run/netns/x: "),
            "{err}"
        );
    }
}
