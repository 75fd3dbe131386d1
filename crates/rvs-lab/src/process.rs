//! Long-running programs started in a lab host: a handle that kills the program when dropped.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{LabError, Result};
use crate::spawn::{confine, describe, signal_group, spawn_kept};

/// A program running in a lab host. Dropping the handle kills the program's whole process group
/// (SIGKILL) and reaps it; [`Process::stop`] asks politely first.
#[derive(Debug)]
pub struct Process {
    child: Child,
    command: String,
    log: Option<PathBuf>,
    finished: Option<ExitStatus>,
}

impl Process {
    /// Starts `command` in the namespace `netns` refers to. When `log` is given, the program's
    /// stdin is /dev/null and its stdout and stderr both go to that file.
    pub(crate) fn start(
        mut command: Command,
        netns_name: &str,
        netns: Arc<File>,
        log: Option<PathBuf>,
    ) -> Result<Process> {
        let shown = format!("[{netns_name}] {}", describe(&command));
        if let Some(path) = &log {
            let file = File::create(path)
                .map_err(|e| LabError::io(format!("creating log {}", path.display()), e))?;
            let err = file
                .try_clone()
                .map_err(|e| LabError::io(format!("duplicating log {}", path.display()), e))?;
            command.stdin(Stdio::null()).stdout(file).stderr(err);
        }
        confine(&mut command, Some(netns));
        let child = spawn_kept(command).map_err(|source| LabError::Spawn {
            command: shown.clone(),
            source,
        })?;
        tracing::debug!(pid = child.id(), command = %shown, "started");
        Ok(Process {
            child,
            command: shown,
            log,
            finished: None,
        })
    }

    /// The program's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The command line it was started with, with its namespace.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Where its stdout and stderr go, if they were sent to a log.
    pub fn log_path(&self) -> Option<&Path> {
        self.log.as_deref()
    }

    /// What it has written to its log so far (empty when it has no log).
    pub fn log(&self) -> String {
        self.log
            .as_deref()
            .and_then(|path| fs::read(path).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// Takes its stdout pipe, if it was started by [`crate::Host::spawn_command`] with
    /// `Stdio::piped()`.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Takes its stderr pipe, as [`Process::take_stdout`].
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Its exit status if it has exited, without waiting.
    pub fn try_status(&mut self) -> Result<Option<ExitStatus>> {
        if self.finished.is_none() {
            self.finished = self
                .child
                .try_wait()
                .map_err(|e| LabError::io(format!("checking on `{}`", self.command), e))?;
        }
        Ok(self.finished)
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.try_status(), Ok(None))
    }

    /// Waits up to `timeout` for it to exit on its own; `None` if it is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        let mut nap = Duration::from_millis(1);
        loop {
            if let Some(status) = self.try_status()? {
                return Ok(Some(status));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(nap.min(deadline - now));
            nap = (nap * 2).min(Duration::from_millis(25));
        }
    }

    /// Sends SIGTERM to its process group, waits up to `grace`, then kills it. Returns how it ended.
    pub fn stop(&mut self, grace: Duration) -> Result<ExitStatus> {
        if let Some(status) = self.try_status()? {
            return Ok(status);
        }
        signal_group(self.pid(), libc::SIGTERM);
        match self.wait_timeout(grace)? {
            Some(status) => Ok(status),
            None => self.kill(),
        }
    }

    /// Kills its process group with SIGKILL and reaps it. Returns how it ended.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.finished {
            // Its group may outlive it (a backgrounded child): finish that too.
            signal_group(self.pid(), libc::SIGKILL);
            return Ok(status);
        }
        signal_group(self.pid(), libc::SIGKILL);
        let status = self
            .child
            .wait()
            .map_err(|e| LabError::io(format!("reaping `{}`", self.command), e))?;
        self.finished = Some(status);
        Ok(status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Err(e) = self.kill() {
            tracing::warn!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_netns() -> Arc<File> {
        // Our own namespace: entering it changes nothing, but setns still wants CAP_SYS_ADMIN,
        // so the tests below run only as root (the harness tests cover real namespaces).
        Arc::new(File::open("/proc/self/ns/net").unwrap())
    }

    #[test]
    fn dropping_the_handle_kills_the_program() {
        if !crate::root_or_skip("dropping_the_handle_kills_the_program") {
            return;
        }
        let mut command = Command::new("sleep");
        command.arg("30");
        let process = Process::start(command, "self", root_netns(), None).unwrap();
        let pid = process.pid();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        drop(process);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} survived its handle"
        );
    }

    #[test]
    fn logs_hold_stdout_and_stderr() {
        if !crate::root_or_skip("logs_hold_stdout_and_stderr") {
            return;
        }
        let dir = std::env::temp_dir().join(format!("rvs-lab-process-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("echo.log");
        let mut command = Command::new("sh");
        command.args(["-c", "echo to-out; echo to-err >&2"]);
        let mut process = Process::start(command, "self", root_netns(), Some(log.clone())).unwrap();
        let status = process.wait_timeout(Duration::from_secs(10)).unwrap();
        assert!(status.is_some_and(|s| s.success()));
        assert_eq!(process.log(), "to-out\nto-err\n");
        assert!(!process.is_running());
        fs::remove_dir_all(&dir).unwrap();
    }
}
