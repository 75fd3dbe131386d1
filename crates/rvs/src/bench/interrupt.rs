//! Ctrl-C and SIGTERM: the first one asks the benchmark to stop at the next check and tear
//! everything down; a second one ends the process at once (the next run, or
//! `rvs lab down --prefix <prefix>`, then removes what is left).

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

static STOP: AtomicBool = AtomicBool::new(false);

/// The error of a run stopped by Ctrl-C, SIGTERM or the time limit.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted; everything the run set up has been removed")
    }
}

impl std::error::Error for Interrupted {}

extern "C" fn on_signal(signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // SAFETY: restoring the default action is async-signal-safe; a second signal then kills.
    unsafe { libc::signal(signal, libc::SIG_DFL) };
}

/// Installs the handlers; returns the flag they raise.
pub fn install() -> &'static AtomicBool {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let handler = on_signal as extern "C" fn(libc::c_int);
        // SAFETY: the handler only stores to an atomic and calls signal(2), both allowed in a
        // signal handler.
        unsafe { libc::signal(signal, handler as libc::sighandler_t) };
    }
    &STOP
}

/// Asks the run to stop, as Ctrl-C does (the hard time limit).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// An error if a stop was asked for.
pub fn check(stop: &AtomicBool) -> Result<()> {
    if stop.load(Ordering::SeqCst) {
        return Err(Interrupted.into());
    }
    Ok(())
}
