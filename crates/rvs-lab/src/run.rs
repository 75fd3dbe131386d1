//! Running a command to completion under a deadline, capturing what it prints.

use std::fs::File;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{LabError, Result};
use crate::spawn::{confine, describe, signal_group, spawn_kept};

/// How long to wait for the output pipes once the command itself has gone: a daemonized
/// grandchild may hold them open forever.
const PIPE_DRAIN_GRACE: Duration = Duration::from_millis(200);

/// What a finished command did.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, with the namespace it ran in (`[t1-client] curl ...`).
    pub command: String,
    /// Its exit status.
    pub status: ExitStatus,
    /// What it wrote to stdout (lossily decoded as UTF-8).
    pub stdout: String,
    /// What it wrote to stderr (lossily decoded as UTF-8).
    pub stderr: String,
}

impl Output {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// `self` if it exited with status 0, else a [`LabError::CommandFailed`] with its stderr.
    pub fn check(self) -> Result<Output> {
        if self.success() {
            Ok(self)
        } else {
            Err(LabError::CommandFailed {
                command: self.command,
                status: self.status.to_string(),
                stderr: self.stderr.trim_end().to_owned(),
            })
        }
    }
}

/// Runs `command` (in `netns` if given, named `netns_name` in messages) until it exits or
/// `timeout` passes; in the latter case the command's whole process group is killed.
pub(crate) fn run_with_timeout(
    mut command: Command,
    netns: Option<(&str, Arc<File>)>,
    timeout: Duration,
) -> Result<Output> {
    let shown = match &netns {
        Some((name, _)) => format!("[{name}] {}", describe(&command)),
        None => describe(&command),
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    confine(&mut command, netns.map(|(_, fd)| fd));
    let mut child = spawn_kept(command).map_err(|source| LabError::Spawn {
        command: shown.clone(),
        source,
    })?;

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let stdout = child.stdout.take().map(|pipe| drain(pipe, done_tx.clone()));
    let stderr = child.stderr.take().map(|pipe| drain(pipe, done_tx.clone()));
    drop(done_tx);

    let deadline = Instant::now() + timeout;
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => return Err(LabError::io(format!("waiting for `{shown}`"), e)),
        }
        let now = Instant::now();
        if now >= deadline {
            break None;
        }
        // Wake early when a pipe closes: that usually means the command has just exited.
        let _ = done_rx.recv_timeout(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(25));
    };
    let status = match status {
        Some(status) => status,
        None => {
            signal_group(child.id(), libc::SIGKILL);
            let _ = child.wait();
            return Err(LabError::CommandTimeout {
                command: shown,
                timeout,
                stdout: collect(stdout),
                stderr: collect(stderr),
            });
        }
    };
    Ok(Output {
        command: shown,
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

/// Reads `pipe` to its end on a thread; the thread reports on `done` when the pipe closes.
fn drain(mut pipe: impl Read + Send + 'static, done: mpsc::Sender<()>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("rvs-lab-pipe".into())
        .spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(bytes);
            let _ = done.send(());
        });
    if spawned.is_err() {
        tracing::warn!("could not start a thread to read a command's output");
    }
    rx
}

/// What a pipe reader collected, waiting a little for it to finish.
fn collect(reader: Option<mpsc::Receiver<Vec<u8>>>) -> String {
    reader
        .and_then(|rx| rx.recv_timeout(PIPE_DRAIN_GRACE).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn output_and_status_are_captured() {
        let out = run_with_timeout(
            sh("echo out; echo err >&2; exit 3"),
            None,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.status.code(), Some(3));
        let err = out.check().unwrap_err().to_string();
        assert!(
            err.contains("sh -c 'echo out; echo err >&2; exit 3'"),
            "{err}"
        );
        assert!(err.contains("err"), "{err}");
    }

    #[test]
    fn a_command_past_its_deadline_is_killed_with_its_children() {
        let started = Instant::now();
        let err = run_with_timeout(
            sh("echo begun; sleep 30 & sleep 30"),
            None,
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        match err {
            LabError::CommandTimeout { stdout, .. } => assert_eq!(stdout, "begun\n"),
            other => panic!("expected a timeout, got {other}"),
        }
    }

    #[test]
    fn quick_commands_return_quickly() {
        let started = Instant::now();
        for _ in 0..10 {
            run_with_timeout(Command::new("true"), None, Duration::from_secs(10))
                .unwrap()
                .check()
                .unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }
}
