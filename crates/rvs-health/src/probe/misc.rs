//! `MISC_CHECK` (keepalived's check_misc.c): run `misc_path` (its words as argv, no shell), in a
//! process group of its own, stdin/stdout/stderr on /dev/null, as `user` when set (its uid and
//! primary gid; supplementary groups dropped). At the timeout (`misc_timeout`, else
//! `delay_loop`) the whole group is killed (SIGKILL) and the check fails.
//!
//! Exit 0 passes. Without `misc_dynamic` any other exit fails. With it, 1 fails and 2–255 pass
//! with the weight set to status − 2; 0 passes with the configured weight (keepalived drops the
//! script's weight adjustment on 0). Death by a signal fails.

use std::ffi::CString;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rvs_core::config::MiscCheck;
use rvs_core::model::Weight;
use tokio::process::Command;

use super::net::{fmt_duration, io_reason};
use super::{Failure, Pass, ProbeResult};

/// How long a killed script's group gets to be reaped.
const REAP_GRACE: Duration = Duration::from_secs(1);

pub(super) async fn probe(check: &MiscCheck, weight: Weight, limit: Duration) -> ProbeResult {
    let script = &check.script;
    let Some((program, args)) = script.argv.split_first() else {
        return Err(Failure::new("MISC_CHECK has no misc_path"));
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(user) = &check.user {
        let lookup = user.clone();
        let ids = tokio::time::timeout(limit, tokio::task::spawn_blocking(move || lookup_user(&lookup))).await;
        let (uid, gid) = match ids {
            Err(_) => return Err(Failure::new(format!("timed out looking up user {user:?}"))),
            Ok(Err(e)) => return Err(Failure::new(format!("looking up user {user:?}: {e}"))),
            Ok(Ok(ids)) => ids.map_err(Failure::new)?,
        };
        command.uid(uid).gid(gid);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Failure::new(format!("cannot run {program}: {}", io_reason(&e))))?;
    let pid = child.id();
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => judge(status, check.dynamic, weight).map_err(|reason| Failure::new(format!("{script}: {reason}"))),
        Ok(Err(e)) => Err(Failure::new(format!("{script}: waiting for it: {}", io_reason(&e)))),
        Err(_) => {
            if let Some(group) = pid.and_then(|pid| libc::pid_t::try_from(pid).ok()) {
                // SAFETY: kill(2) takes plain integers and touches no memory of ours. The
                // group is the child's own (process_group(0)), not yet reaped: its id is not
                // reused while the child is a zombie at worst.
                unsafe {
                    libc::kill(-group, libc::SIGKILL);
                }
            }
            let _ = child.start_kill();
            let _ = tokio::time::timeout(REAP_GRACE, child.wait()).await;
            Err(Failure::new(format!("{script}: timed out after {}, killed", fmt_duration(limit))))
        }
    }
}

/// The verdict on an exit status.
fn judge(status: ExitStatus, dynamic: bool, weight: Weight) -> ProbeResult {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => judge_code(code, dynamic, weight),
        (None, Some(signal)) => Err(Failure::new(format!("killed by signal {signal}"))),
        (None, None) => Err(Failure::new(format!("ended with {status}"))),
    }
}

/// keepalived's rule for an exit code (see the module's doc).
pub(super) fn judge_code(code: i32, dynamic: bool, weight: Weight) -> ProbeResult {
    match code {
        0 if dynamic => Ok(Pass { weight: Some(weight) }),
        0 => Ok(Pass::UP),
        2..=255 if dynamic => Ok(Pass { weight: u32::try_from(code - 2).ok().and_then(Weight::new) }),
        _ => Err(Failure::new(format!("exited with status {code}"))),
    }
}

/// The uid and primary gid of a user, from the system's user database.
fn lookup_user(name: &str) -> Result<(u32, u32), String> {
    let cname = CString::new(name).map_err(|_| format!("bad user name {name:?}"))?;
    let mut size = 4096usize;
    loop {
        let mut buf: Vec<libc::c_char> = vec![0; size];
        // SAFETY: passwd is plain old data: all zeroes is a valid value, filled by the call.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: the name is NUL-terminated, `buf` has
        // `buf.len()` bytes, `pwd` and `found` are ours. The strings `pwd` points to (in
        // `buf`) are not read after it.
        let rc = unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc == libc::ERANGE && size < (1 << 20) {
            size *= 4;
            continue;
        }
        if found.is_null() {
            return Err(if rc == 0 {
                format!("no user {name:?}")
            } else {
                format!("looking up user {name:?}: {}", io_reason(&std::io::Error::from_raw_os_error(rc)))
            });
        }
        return Ok((pwd.pw_uid, pwd.pw_gid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(n: u32) -> Weight {
        Weight::new(n).unwrap_or_default()
    }

    #[test]
    fn static_codes() {
        assert_eq!(judge_code(0, false, w(3)), Ok(Pass::UP));
        assert!(judge_code(1, false, w(3)).is_err());
        assert!(judge_code(7, false, w(3)).is_err());
    }

    #[test]
    fn dynamic_codes() {
        assert_eq!(judge_code(0, true, w(3)), Ok(Pass { weight: Some(w(3)) }));
        assert!(judge_code(1, true, w(3)).is_err());
        assert_eq!(judge_code(2, true, w(3)), Ok(Pass { weight: Some(w(0)) }));
        assert_eq!(judge_code(7, true, w(3)), Ok(Pass { weight: Some(w(5)) }));
        assert_eq!(judge_code(255, true, w(3)), Ok(Pass { weight: Some(w(253)) }));
        assert!(judge_code(256, true, w(3)).is_err());
        assert!(judge_code(-1, true, w(3)).is_err());
    }

    #[test]
    fn users() {
        assert_eq!(lookup_user("root"), Ok((0, 0)));
        assert!(lookup_user("no-such-user-rvs").is_err());
        assert!(lookup_user("nul\0l").is_err());
    }
}
