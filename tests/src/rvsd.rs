//! rvsd as the suites run it: started in a lab host with only the network namespace switched
//! (so its pins go to the machine's `/sys/fs/bpf/rvs/<instance>`), waited for until its
//! control socket answers, driven with the real `rvsadm` and `rvs stats`, and stopped with
//! SIGTERM so that it detaches its program and removes its pins.

use std::collections::BTreeMap;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rvs_lab::{Host, Process};

use crate::bins::binary;
use crate::names::OracleNames;

/// The connection-table size the suites give rvsd: tests run in parallel, and every instance
/// allocates its table in kernel memory.
pub const CONN_MAX: &str = "65536";
/// How long rvsd may take to load, attach and open its socket on a loaded machine.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long rvsd may take to stop after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Deadline for one rvsadm (or `rvs stats`) run.
pub const RVSADM_TIMEOUT: Duration = Duration::from_secs(20);

/// Where the suites put control sockets: one file per lab prefix.
pub fn socket_path(prefix: &str) -> PathBuf {
    PathBuf::from(format!("/run/rvs-e2e/{prefix}.sock"))
}

/// The lock file rvsd keeps next to its socket.
pub fn lock_path(socket: &Path) -> PathBuf {
    let mut path = socket.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

/// What one command printed and how it ended, in shell terms.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code, or 128 + the signal that killed it.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from_output(out: rvs_lab::Output) -> Run {
        Run {
            code: shell_code(out.status),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }
}

/// `$?` as a shell reports it.
pub fn shell_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// A running rvsd.
#[derive(Debug)]
pub struct Rvsd {
    host: Host,
    process: Process,
    socket: PathBuf,
    instance: String,
    stopped: Option<ExitStatus>,
    names: OracleNames,
}

impl Rvsd {
    /// Starts `rvsd --interface <interface> --socket <socket> --instance <instance>
    /// --conn-max 65536 <extra...>` in `host` and waits until the socket accepts connections.
    pub fn start(
        host: &Host,
        interface: &str,
        socket: &Path,
        instance: &str,
        extra: &[&str],
    ) -> anyhow::Result<Rvsd> {
        if let Some(dir) = socket.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let socket_arg = socket.to_string_lossy().into_owned();
        let mut args = vec![
            "--interface",
            interface,
            "--socket",
            &socket_arg,
            "--instance",
            instance,
            "--conn-max",
            CONN_MAX,
        ];
        args.extend_from_slice(extra);
        let names = OracleNames::write(socket)
            .with_context(|| format!("writing name-service files beside {}", socket.display()))?;
        let rvsd = binary("rvsd");
        let process = host.spawn("rvsd", &rvsd.to_string_lossy(), &args)?;
        let mut rvsd = Rvsd {
            host: host.clone(),
            process,
            socket: socket.to_owned(),
            instance: instance.to_owned(),
            stopped: None,
            names,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if UnixStream::connect(socket).is_ok() {
                return Ok(rvsd);
            }
            if !rvsd.process.is_running() {
                bail!("rvsd exited during start-up; its log:\n{}", rvsd.log());
            }
            if Instant::now() > deadline {
                bail!(
                    "rvsd did not open {} within {START_TIMEOUT:?}; its log:\n{}",
                    socket.display(),
                    rvsd.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Its control socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Its instance name (its pin directory under `/sys/fs/bpf/rvs`).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Its pin directory.
    pub fn pin_dir(&self) -> PathBuf {
        Path::new(rvs_lab::BPF_PIN_ROOT).join(&self.instance)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        self.stopped.is_none() && self.process.is_running()
    }

    /// Stops it with SIGTERM (then SIGKILL after [`STOP_TIMEOUT`]) and returns how it ended.
    /// Calling it again returns the same status.
    pub fn stop(&mut self) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.stopped {
            return Ok(status);
        }
        let status = self.process.stop(STOP_TIMEOUT)?;
        self.stopped = Some(status);
        Ok(status)
    }

    /// Runs `rvsadm <args>` in rvsd's host with `RVS_SOCKET` pointing at it.
    pub fn rvsadm(&self, args: &[&str]) -> Run {
        let mut command = Command::new(binary("rvsadm"));
        command.args(args).env("RVS_SOCKET", &self.socket);
        self.run_command(command, &format!("rvsadm {}", args.join(" ")))
    }

    /// Runs `sh -c <line>` in rvsd's host with `RVS_SOCKET` set, the binaries' directory
    /// first on `PATH` (for redirections: `rvsadm -S > file`) and the oracle's name service
    /// (see [`crate::names`]).
    pub fn shell(&self, line: &str) -> Run {
        self.shell_with_path(line, &crate::bins::bin_dir())
    }

    /// [`Rvsd::shell`] with `dir` first on `PATH` (a shim directory where `ipvsadm` is rvsadm).
    pub fn shell_with_path(&self, line: &str, dir: &Path) -> Run {
        let mut command = self.names.shell(line);
        let path = std::env::var("PATH").unwrap_or_default();
        command
            .env("RVS_SOCKET", &self.socket)
            .env("PATH", format!("{}:{path}", dir.display()));
        self.run_command(command, line)
    }

    fn run_command(&self, command: Command, shown: &str) -> Run {
        match self.host.run_command(command, RVSADM_TIMEOUT) {
            Ok(out) => Run::from_output(out),
            Err(e) => panic!("{shown}: {e}"),
        }
    }

    /// `rvsadm <args>`, which must succeed; returns its stdout.
    pub fn rvsadm_ok(&self, args: &[&str]) -> String {
        let run = self.rvsadm(args);
        assert!(
            run.code == 0 && run.stderr.is_empty(),
            "rvsadm {} exited {} with stderr {:?}; rvsd's log:\n{}",
            args.join(" "),
            run.code,
            run.stderr,
            self.log()
        );
        run.stdout
    }

    /// Runs each line (`-A -t 192.168.0.100:80 -s rr`) as rvsadm arguments; each must succeed.
    pub fn configure(&self, lines: &[&str]) {
        for line in lines {
            let args: Vec<&str> = line.split_whitespace().collect();
            self.rvsadm_ok(&args);
        }
    }

    /// Runs `rvs <args>` in rvsd's host with `RVS_SOCKET` pointing at it.
    pub fn rvs(&self, args: &[&str]) -> Run {
        let mut command = Command::new(binary("rvs"));
        command.args(args).env("RVS_SOCKET", &self.socket);
        self.run_command(command, &format!("rvs {}", args.join(" ")))
    }

    /// The data plane's named counters, from `rvs stats --all`.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        let socket = self.socket.to_string_lossy().into_owned();
        let mut command = Command::new(binary("rvs"));
        command.args(["stats", "--all", "--socket", &socket]);
        let run = self.run_command(command, "rvs stats");
        assert_eq!(run.code, 0, "rvs stats: {}", run.stderr);
        parse_stats(&run.stdout)
    }
}

impl Drop for Rvsd {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("stopping rvsd {}: {e}", self.instance);
        }
    }
}

/// `name value` lines, as `rvs stats` prints them.
pub fn parse_stats(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let value = words.next()?.parse().ok()?;
            Some((name.to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_lines_become_a_map() {
        let stats =
            parse_stats("rx_frames                51\nfwd_dr_tx                50\nbroken\n");
        assert_eq!(stats.get("rx_frames"), Some(&51));
        assert_eq!(stats.get("fwd_dr_tx"), Some(&50));
        assert_eq!(stats.len(), 2);
    }

    #[test]
    fn lock_files_sit_next_to_sockets() {
        assert_eq!(
            lock_path(Path::new("/run/rvs-e2e/e2abc.sock")),
            PathBuf::from("/run/rvs-e2e/e2abc.sock.lock")
        );
    }

    #[test]
    fn signals_count_as_128_plus_the_signal() {
        assert_eq!(shell_code(ExitStatus::from_raw(11)), 139);
        assert_eq!(shell_code(ExitStatus::from_raw(2 << 8)), 2);
    }
}
