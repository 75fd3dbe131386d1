//! Starting programs inside a namespace, so that they die with the process that started them.
//!
//! A child is moved into its host's namespace between fork and exec with `setns`, not through
//! `ip netns exec`: that one also unshares the mount namespace and remounts `/sys`, which hides
//! `/sys/fs/bpf` and so every pinned map from the program (rvsd pins its maps there).
//!
//! Each child asks the kernel for SIGKILL when its parent goes (`PR_SET_PDEATHSIG`), so a lab
//! whose process crashes does not leave servers running. The kernel sends that signal when the
//! *thread* that forked the child exits, not the process; all children are therefore forked by
//! one keeper thread that lives as long as the process, never by a short-lived worker thread.
//! Each child also leads its own process group, so a kill reaches whatever it started.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

/// A request to the keeper thread: start this command, answer on `reply`.
struct SpawnRequest {
    command: Command,
    reply: mpsc::SyncSender<io::Result<Child>>,
}

/// The keeper thread's mailbox, or `None` if the thread could not be started.
fn keeper() -> Option<&'static mpsc::Sender<SpawnRequest>> {
    static KEEPER: OnceLock<Option<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    KEEPER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<SpawnRequest>();
            let started = std::thread::Builder::new()
                .name("rvs-lab-spawner".into())
                .spawn(move || {
                    for mut request in rx {
                        // The caller may have given up waiting; the child is then dropped
                        // unreaped, which std allows.
                        let _ = request.reply.send(request.command.spawn());
                    }
                });
            started.ok().map(|_| tx)
        })
        .as_ref()
}

/// Starts `command` from the keeper thread (see the module comment for why).
pub(crate) fn spawn_kept(command: Command) -> io::Result<Child> {
    let Some(keeper) = keeper() else {
        let mut command = command;
        return command.spawn();
    };
    let (reply, answer) = mpsc::sync_channel(1);
    keeper
        .send(SpawnRequest { command, reply })
        .map_err(|_| io::Error::other("the lab's spawner thread has stopped"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the lab's spawner thread did not answer"))?
}

/// Arranges for `command` to run in the namespace `netns` refers to (none: this process's own),
/// in a process group of its own, and to be killed when this process dies.
pub(crate) fn confine(command: &mut Command, netns: Option<Arc<File>>) {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    command.process_group(0);
    let hook = move || -> io::Result<()> {
        // Only async-signal-safe calls from here on: this runs in the forked child.
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and has no memory effects.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // The parent may have died before the prctl took effect; then nobody would kill us.
        // SAFETY: getppid has no preconditions.
        if unsafe { libc::getppid() } != parent {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        if let Some(ns) = &netns {
            // SAFETY: the descriptor is kept open by the Arc this closure owns.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook only makes raw system calls (no allocation, no locks), which is what
    // pre_exec requires of code running between fork and exec.
    unsafe { command.pre_exec(hook) };
}

/// Arranges for `command` to run in the namespace `netns` refers to as a daemon that outlives
/// this process: its own session, no death signal. `rvs lab down` (`down_prefix`) kills it with
/// everything else still running in the lab's namespaces.
pub(crate) fn detach(command: &mut Command, netns: Arc<File>) {
    let hook = move || -> io::Result<()> {
        // Only async-signal-safe calls from here on: this runs in the forked child.
        // SAFETY: setsid has no memory effects.
        if unsafe { libc::setsid() } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the descriptor is kept open by the Arc this closure owns.
        if unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    };
    // SAFETY: as in `confine`, the hook only makes raw system calls.
    unsafe { command.pre_exec(hook) };
}

/// A shell-like rendering of `command` for error messages: `program arg1 arg2`.
pub(crate) fn describe(command: &Command) -> String {
    let mut text = quote(command.get_program());
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&quote(arg));
    }
    text
}

/// Quotes one word when it holds characters a shell would split or expand.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Sends `signal` to the process group led by `pid`.
pub(crate) fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill takes plain integers; a group that is gone yields ESRCH, which is fine.
        unsafe { libc::kill(-pid, signal) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_described_as_a_shell_would_read_them() {
        let mut command = Command::new("ip");
        command.args([
            "-n",
            "t1-client",
            "addr",
            "add",
            "10.0.0.1/24",
            "dev",
            "eth0",
        ]);
        assert_eq!(
            describe(&command),
            "ip -n t1-client addr add 10.0.0.1/24 dev eth0"
        );
        let mut shell = Command::new("sh");
        shell.args(["-c", "echo it's here"]);
        assert_eq!(describe(&shell), r"sh -c 'echo it'\''s here'");
    }

    #[test]
    fn kept_children_run_and_are_reaped_by_us() {
        let mut command = Command::new("true");
        confine(&mut command, None);
        let mut child = spawn_kept(command).unwrap();
        assert!(child.wait().unwrap().success());
    }

    #[test]
    fn a_missing_program_is_reported_not_hung() {
        let mut command = Command::new("/nonexistent/rvs-lab-program");
        confine(&mut command, None);
        let err = spawn_kept(command).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
