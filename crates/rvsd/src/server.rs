//! The control socket: newline-delimited JSON requests from rvsadm (`rvs_core::control`), each
//! answered on the same connection, one at a time per client.

use std::sync::Arc;

use rvs_core::control::{ErrorReply, Request, Response, decode_request, encode_response};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{UnixListener, UnixStream},
    sync::Mutex,
};

use crate::config_file::ConfigFile;
use crate::director::Director;

/// Longest request line accepted; a restore of thousands of rules is sent as separate requests.
const MAX_LINE: usize = 1 << 20;

/// Accepts clients until aborted.
pub async fn serve(listener: UnixListener, director: Arc<Mutex<Director>>, config: Option<Arc<ConfigFile>>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(client(stream, director.clone(), config.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept on the control socket failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn client(stream: UnixStream, director: Arc<Mutex<Director>>, config: Option<Arc<ConfigFile>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) => return,
            Ok(_) if line.len() > MAX_LINE => {
                let _ = write.write_all(protocol_error("request too long").as_bytes()).await;
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "control client read failed");
                return;
            }
        }
        let reply = match decode_request(&line) {
            Ok(request) => encode_response(&answer(&request, &director, config.as_deref()).await),
            Err(e) => protocol_error(&e.to_string()),
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The configuration file answers for itself; the director answers the rest.
async fn answer(request: &Request, director: &Mutex<Director>, config: Option<&ConfigFile>) -> Response {
    match (request, config) {
        (Request::Reload, Some(config)) => match config.reload().await {
            Ok(report) => Response::Reloaded { report },
            Err(e) => Response::Error { error: ErrorReply::Refused(format!("{e:#}")) },
        },
        (Request::GetHealth, Some(config)) => Response::Health { reals: config.health().await },
        _ => director.lock().await.handle(request).await,
    }
}

fn protocol_error(why: &str) -> String {
    encode_response(&Response::Error { error: ErrorReply::Protocol(why.to_string()) })
}
