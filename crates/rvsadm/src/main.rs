//! `rvsadm`: ipvsadm 1.31, talking to rvsd over its control socket (`$RVS_SOCKET`, default
//! `/run/rvs/rvsd.sock`) instead of the kernel.

use rvs_core::control::{ControlBackend, SOCKET_ENV, SocketTransport, socket_path};
use rvs_core::ipvsadm::{EXIT_SEGFAULT, run};
use rvsadm::SystemResolver;
use std::io::{BufWriter, Write};

fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut backend = ControlBackend(SocketTransport::new(socket_path(std::env::var_os(
        SOCKET_ENV,
    ))));
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    let rc = run(
        &args,
        &mut input,
        &mut out,
        &mut err,
        &mut backend,
        &SystemResolver,
    );
    if rc == EXIT_SEGFAULT {
        // ipvsadm crashes here (strtok returning NULL); die the same way, stdout unflushed.
        // SAFETY: restoring the default action and raising a signal have no memory effects.
        unsafe {
            libc::signal(libc::SIGSEGV, libc::SIG_DFL);
            libc::raise(libc::SIGSEGV);
        }
    }
    let _ = out.flush();
    std::process::exit(rc);
}
