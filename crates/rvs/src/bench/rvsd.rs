//! rvsd for the benchmark: started on the director with a connection table big enough for the
//! pre-filled flows and the new ones, pinned to the generator's CPU (its housekeeping, the
//! incremental connection sweep included, then never takes time from the measured path; the
//! expiry program's cost is reported on its own), configured with rvsadm, stopped with
//! SIGTERM so that it detaches and unpins.

use std::fs::File;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rvs_lab::{Host, Process};

use super::cpu;
use super::pinned::DestSlot;
use crate::tools::{rvsadm_ok, sibling};

const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running rvsd. Dropping it kills it; [`Rvsd::stop`] stops it cleanly.
pub struct Rvsd {
    process: Process,
    socket: PathBuf,
    log: PathBuf,
    /// Its instance name (pins in `/sys/fs/bpf/rvs/<instance>`).
    pub instance: String,
}

/// How to start it.
pub struct RvsdOptions<'a> {
    /// Interfaces to attach to.
    pub interfaces: &'a [&'a str],
    /// Instance name.
    pub instance: String,
    /// Control socket.
    pub socket: PathBuf,
    /// Connection table capacity.
    pub conn_max: u32,
    /// `auto`, `native` or `generic`.
    pub xdp_mode: &'a str,
    /// The only CPU it may run on.
    pub cpu: usize,
    /// Its log file.
    pub log: PathBuf,
}

impl Rvsd {
    /// Starts rvsd on `host` and waits until its control socket answers.
    pub fn start(host: &Host, opts: RvsdOptions<'_>) -> Result<Rvsd> {
        if let Some(dir) = opts.socket.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let _ = std::fs::remove_file(&opts.socket);
        let log =
            File::create(&opts.log).with_context(|| format!("creating {}", opts.log.display()))?;
        let mut command = Command::new(sibling("rvsd"));
        for interface in opts.interfaces {
            command.args(["--interface", interface]);
        }
        command
            .args(["--instance", &opts.instance, "--xdp-mode", opts.xdp_mode])
            .arg("--socket")
            .arg(&opts.socket)
            .args(["--conn-max", &opts.conn_max.to_string()])
            // Plain log lines: the report reads the attach mode from them.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the log file")?)
            .stderr(log);
        let set = cpu::cpu_set(opts.cpu)?;
        let hook = move || -> std::io::Result<()> {
            // SAFETY: sched_setaffinity is a plain system call, allowed between fork and exec.
            if unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        };
        // SAFETY: the hook makes one raw system call and touches no locks or allocator.
        unsafe { command.pre_exec(hook) };
        let mut process = host.spawn_command(command).context("starting rvsd")?;
        let deadline = Instant::now() + READY_TIMEOUT;
        while UnixStream::connect(&opts.socket).is_err() {
            if !process.is_running() {
                bail!("rvsd exited during start-up:\n{}", read_log(&opts.log));
            }
            if Instant::now() > deadline {
                bail!(
                    "rvsd did not open {} within {READY_TIMEOUT:?}:\n{}",
                    opts.socket.display(),
                    read_log(&opts.log)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Rvsd {
            process,
            socket: opts.socket,
            log: opts.log,
            instance: opts.instance,
        })
    }

    /// Runs rvsadm against it; its output.
    pub fn rvsadm(&self, args: &[&str]) -> Result<String> {
        rvsadm_ok(&self.socket, args)
    }

    /// Its pin directory.
    pub fn pin_dir(&self) -> PathBuf {
        Path::new(rvs_lab::BPF_PIN_ROOT).join(&self.instance)
    }

    /// Checks that rvsadm lists `inactive` inactive connections with forwarding method `listed`
    /// (`Route`, `Tunnel`, `Masq`) for the real server of `dest`: proof that entries written
    /// into the table, or made by a warm-up pass, are counted as the data plane counts its own.
    pub fn check_listed(&self, dest: &DestSlot, inactive: u64, listed: &str) -> Result<()> {
        let listing = self.rvsadm(&["-Ln"])?;
        let rip = format!(
            "{}:{}",
            std::net::Ipv4Addr::from(dest.dest.addr.to_ne_bytes()),
            u16::from_be(dest.dest.port)
        );
        let found = listing
            .lines()
            .find(|l| l.contains(&rip) && l.split_whitespace().any(|w| w == listed))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse::<u64>().ok());
        if found != Some(inactive) {
            bail!(
                "rvsadm lists {found:?} inactive {listed} connections of {rip}, not {inactive}:\n{listing}"
            );
        }
        Ok(())
    }

    /// What it logged.
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    /// SIGTERM, then SIGKILL after a grace period.
    pub fn stop(mut self) -> Result<()> {
        self.process
            .stop(Duration::from_secs(5))
            .context("stopping rvsd")?;
        for path in [&self.socket, &self.socket.with_extension("sock.lock")] {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
