//! A small synchronous client of the control socket, for rvsadm.

use super::wire::{Request, Response, WireError, decode_response, encode_request};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where rvsd listens unless `$RVS_SOCKET` says otherwise.
pub const DEFAULT_SOCKET_PATH: &str = "/run/rvs/rvsd.sock";
/// Environment variable naming the socket.
pub const SOCKET_ENV: &str = "RVS_SOCKET";

/// How long the client waits for an answer before giving up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// The socket path from the value of `$RVS_SOCKET` (empty or unset: the default).
pub fn socket_path(env_value: Option<OsString>) -> PathBuf {
    match env_value {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEFAULT_SOCKET_PATH),
    }
}

/// The C library's text for an OS error, without Rust's " (os error N)" suffix.
pub fn os_error_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if e.raw_os_error().is_some() => s[..i].to_owned(),
        _ => s,
    }
}

/// Why talking to rvsd failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nobody listens: the socket does not exist or refuses connections.
    #[error("rvsd is not running (cannot connect to {}: {})", path.display(), os_error_text(source))]
    NotRunning { path: PathBuf, source: io::Error },
    /// The socket exists but cannot be used (permissions …).
    #[error("cannot connect to {}: {}", path.display(), os_error_text(source))]
    Connect { path: PathBuf, source: io::Error },
    #[error("rvsd control socket: {}", os_error_text(.0))]
    Io(#[from] io::Error),
    #[error("rvsd closed the connection")]
    Closed,
    #[error("rvsd sent a bad reply: {0}")]
    Protocol(#[from] WireError),
}

/// A connection to rvsd: requests and responses, one JSON line each.
pub struct ControlClient {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl ControlClient {
    pub fn connect(path: &Path) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| {
            let not_running = matches!(
                source.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            );
            let path = path.to_owned();
            if not_running {
                ClientError::NotRunning { path, source }
            } else {
                ClientError::Connect { path, source }
            }
        })?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
        let writer = stream.try_clone()?;
        Ok(ControlClient {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends one request and waits for its response.
    pub fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.writer.write_all(encode_request(request).as_bytes())?;
        self.writer.flush()?;
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(ClientError::Closed);
        }
        Ok(decode_response(&line)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::wire::{decode_request, encode_response};
    use super::*;
    use std::os::unix::net::UnixListener;

    fn temp_socket(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rvs-client-test-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join("rvsd.sock");
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn missing_socket_is_not_running() {
        let p = temp_socket("missing");
        let err = ControlClient::connect(&p).err().unwrap();
        assert!(matches!(err, ClientError::NotRunning { .. }));
        assert_eq!(
            err.to_string(),
            format!(
                "rvsd is not running (cannot connect to {}: No such file or directory)",
                p.display()
            )
        );
    }

    #[test]
    fn socket_path_from_env() {
        assert_eq!(socket_path(None), PathBuf::from(DEFAULT_SOCKET_PATH));
        assert_eq!(
            socket_path(Some(OsString::new())),
            PathBuf::from(DEFAULT_SOCKET_PATH)
        );
        assert_eq!(
            socket_path(Some("/tmp/x.sock".into())),
            PathBuf::from("/tmp/x.sock")
        );
    }

    #[test]
    fn one_request_one_response() {
        let p = temp_socket("echo");
        let listener = UnixListener::bind(&p).unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut w = stream;
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert_eq!(decode_request(&line).unwrap(), Request::GetTimeouts);
            w.write_all(encode_response(&Response::Ok).as_bytes())
                .unwrap();
            // then close: the next call sees the end of the stream
        });
        let mut c = ControlClient::connect(&p).unwrap();
        assert_eq!(c.call(&Request::GetTimeouts).unwrap(), Response::Ok);
        server.join().unwrap();
        assert!(matches!(
            c.call(&Request::GetInfo),
            Err(ClientError::Closed | ClientError::Io(_))
        ));
        let _ = std::fs::remove_file(&p);
    }
}
