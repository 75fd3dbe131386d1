//! `ipvsadm` 1.31 as a library, sans-IO: [`run`] takes argv, stdin, stdout, stderr, a
//! [`Backend`] (the "kernel": rvsd over its control socket, or an in-process
//! [`crate::table::IpvsTable`]) and a [`Resolver`] (the C library's name look-ups), and returns the
//! exit status. Output, error texts and exit codes are those of Debian's ipvsadm 1.31 (weights up
//! to `INT_MAX`), checked against transcripts of the real program in `tests/golden/`.
//!
//! The structure follows ipvsadm.c where behaviour depends on it: `cli` is `parse_options` and
//! the checks of `process_options` (over a popt emulation, `popt`), `ops` builds what libipvs
//! would send, `list`/`conn` are the listings, `sort` libipvs' comparators with glibc's merge
//! sort, `restore` `config_stream_read`.
//!
//! Reproduced quirks worth knowing: fwmarks print with `%d` (Debian's 1.31 lacks upstream's fix),
//! weights go up to `INT_MAX` (Debian patch), a `-b` made only of commas crashes (reported as
//! [`EXIT_SEGFAULT`]), `-R` ignores nothing after `#` and drops every word `ipvsadm`.
//!
//! Differences with ipvsadm, on purpose: ipvsadm needs the kernel before it parses anything, even
//! for `-h`; here a backend that is unavailable is reported first too, except when the first
//! option is `-h`/`--help`/`-v`/`--version`, which work without rvsd. Not reproduced: popt's
//! `!#:+` argument expansion and `POSIXLY_CORRECT`; arguments that are not UTF-8 are read lossily.

mod addr;
pub mod backend;
mod cli;
mod conn;
mod cparse;
mod format;
pub mod help;
mod list;
mod ops;
mod options;
mod popt;
pub mod resolve;
mod restore;
mod sort;

pub use backend::{Backend, BackendError};
pub use cli::EXIT_SEGFAULT;
pub use resolve::{NoNames, Resolver, TableResolver};
pub use list::{fwd_name, sort_services};

use backend::{Call, error_text, ipvs_strerror};
use cli::{Entry, Parsed, check_entry, parse_options};
use options::{Cmd, OPTIONS, Opt, Optc};
use std::io::{BufRead, Write};
use std::ops::{BitOr, BitOrAssign};

/// Listing format flags (`FMT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format(u16);

impl Format {
    pub const NONE: Format = Format(0);
    pub const NUMERIC: Format = Format(0x1);
    pub const RULE: Format = Format(0x2);
    pub const STATS: Format = Format(0x4);
    pub const RATE: Format = Format(0x8);
    pub const THRESHOLDS: Format = Format(0x10);
    pub const PERSISTENTCONN: Format = Format(0x20);
    pub const NOSORT: Format = Format(0x40);
    pub const EXACT: Format = Format(0x80);
    pub const TUN_INFO: Format = Format(0x100);

    pub fn has(self, f: Format) -> bool {
        self.0 & f.0 == f.0 && f.0 != 0
    }
}

impl BitOr for Format {
    type Output = Format;
    fn bitor(self, rhs: Format) -> Format {
        Format(self.0 | rhs.0)
    }
}

impl BitOrAssign for Format {
    fn bitor_assign(&mut self, rhs: Format) {
        self.0 |= rhs.0;
    }
}

/// ipvsadm called `exit(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub i32);

/// stdout and stderr; write errors are ignored, as `printf` ignores them.
pub struct Io<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl Io<'_> {
    fn out_str(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
    }

    fn err_line(&mut self, s: &str) {
        let _ = self.err.write_all(s.as_bytes());
        let _ = self.err.write_all(b"\n");
    }

    /// `fail()`: message and newline on stderr, then `exit(code)`.
    fn fail(&mut self, code: i32, msg: &str) -> Exit {
        self.err_line(msg);
        Exit(code)
    }

    fn tryhelp_exit(&mut self, program: &str, code: i32) -> Exit {
        self.err_line(&format!(
            "Try `{program} -h' or '{program} --help' for more information."
        ));
        Exit(code)
    }

    fn usage_exit(&mut self, program: &str, code: i32) -> Exit {
        let text = help::usage(program);
        if code == 0 {
            self.out_str(&text);
        } else {
            let _ = self.err.write_all(text.as_bytes());
        }
        Exit(code)
    }

    fn version_exit(&mut self, code: i32) -> Exit {
        if code == 0 {
            self.out_str(help::VERSION_LINE);
        } else {
            let _ = self.err.write_all(help::VERSION_LINE.as_bytes());
        }
        Exit(code)
    }
}

/// Everything one run uses.
pub struct Ctx<'a> {
    io: Io<'a>,
    stdin: &'a mut dyn BufRead,
    backend: &'a mut dyn Backend,
    resolver: &'a dyn Resolver,
    info: Option<crate::model::Info>,
}

impl Ctx<'_> {
    /// `list_timeout`/`list_daemon` exit 1 silently on a kernel error; a transport failure is
    /// worth a message.
    fn silent_or_transport_exit(&mut self, e: &BackendError) -> Exit {
        match e {
            BackendError::Ipvs(_) => Exit(1),
            other => self.io.fail(1, &other.to_string()),
        }
    }
}

/// Runs ipvsadm with `args` (`args[0]` is the program name, used in help texts). Returns the
/// process exit status (0..=255). [`EXIT_SEGFAULT`] means ipvsadm would have crashed (a `-b`
/// value made only of commas); the binary should then die of SIGSEGV without flushing stdout.
pub fn run(
    args: &[String],
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    backend: &mut dyn Backend,
    resolver: &dyn Resolver,
) -> i32 {
    let mut ctx = Ctx {
        io: Io { out, err },
        stdin,
        backend,
        resolver,
        info: None,
    };
    let code = main(&mut ctx, args).unwrap_or_else(|Exit(c)| c) & 0xff;
    if code != EXIT_SEGFAULT {
        let _ = ctx.io.out.flush();
    }
    let _ = ctx.io.err.flush();
    code
}

/// `-h`/`-v` as the first option: the commands that need no backend.
fn wants_help_or_version(args: &[String]) -> bool {
    let mut p = popt::Popt::new(args, &OPTIONS);
    matches!(p.next_opt(), Ok(Some(h)) if matches!(h.id, Opt::Help | Opt::Version))
}

fn main(ctx: &mut Ctx<'_>, args: &[String]) -> Result<i32, Exit> {
    match ctx.backend.info() {
        Ok(info) => {
            ctx.info = Some(info);
            check_version(ctx, info.version);
        }
        Err(e) if !wants_help_or_version(args) => {
            let why = match &e {
                BackendError::Ipvs(err) => ipvs_strerror(Call::Other, err.errno()),
                BackendError::Unavailable(m) | BackendError::Failed(m) => m.clone(),
            };
            return Err(ctx.io.fail(
                2,
                &format!("Can't initialize ipvs: {why}\nAre you sure that rvsd is running?"),
            ));
        }
        Err(_) => {}
    }
    if args.len() <= 1 {
        list::list_all(ctx, Format::NONE)?;
        return Ok(0);
    }
    process_options(ctx, args, false)
}

/// `check_ipvs_version`: warn when the "kernel" is older than IPVS 1.1.4.
fn check_version(ctx: &mut Ctx<'_>, version: u32) {
    if version < 0x01_01_04 {
        let v = |x: u32| format!("{}.{}.{}", (x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff);
        let _ = write!(
            ctx.io.err,
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
            v(version)
        );
    }
}

fn call_of(cmd: Cmd) -> Call {
    match cmd {
        Cmd::Add => Call::AddService,
        Cmd::Edit => Call::UpdateService,
        Cmd::Del => Call::DelService,
        Cmd::Zero => Call::ZeroService,
        Cmd::AddDest => Call::AddDest,
        Cmd::EditDest => Call::UpdateDest,
        Cmd::DelDest => Call::DelDest,
        Cmd::StartDaemon => Call::StartDaemon,
        Cmd::StopDaemon => Call::StopDaemon,
        _ => Call::Other,
    }
}

/// `process_options`: parse, check, run one command. `Ok(-1)` is ipvsadm's `return -1`.
fn process_options(ctx: &mut Ctx<'_>, argv: &[String], reading_stdin: bool) -> Result<i32, Exit> {
    let mut e: Entry = match parse_options(&mut ctx.io, argv, ctx.resolver)? {
        Parsed::PoptFailed => return Ok(-1),
        Parsed::Entry(e) => *e,
    };
    check_entry(&mut ctx.io, &mut e)?;
    match e.cmd {
        Cmd::List => {
            if e.has(Optc::Connection) {
                conn::list_conn(ctx, e.format)?;
            } else if e.has(Optc::Service) {
                match ops::service_key(&e.svc) {
                    Some(key) => list::list_service(ctx, &key, e.format)?,
                    None => return Err(ctx.io.fail(1, &ipvs_strerror(Call::GetService, 3))),
                }
            } else if e.has(Optc::Timeout) {
                list::list_timeout(ctx)?;
            } else if e.has(Optc::Daemon) {
                list::list_daemon(ctx)?;
            } else {
                list::list_all(ctx, e.format)?;
            }
            Ok(0)
        }
        Cmd::Restore => restore_table(ctx, argv, reading_stdin),
        Cmd::Save => {
            list::list_all(ctx, e.format | Format::RULE)?;
            Ok(0)
        }
        cmd => {
            let call = call_of(cmd);
            let result = match ops::operation(&e) {
                Some(Ok(op)) => ctx.backend.apply(&op).map_err(|err| error_text(call, &err)),
                Some(Err(err)) => Err(ipvs_strerror(call, err.errno())),
                None => Ok(()),
            };
            match result {
                Ok(()) => Ok(0),
                Err(msg) => {
                    ctx.io.err_line(&msg);
                    Ok(-1)
                }
            }
        }
    }
}

/// `restore_table`: every line of stdin is a command; the status is the last command's.
fn restore_table(ctx: &mut Ctx<'_>, argv: &[String], reading_stdin: bool) -> Result<i32, Exit> {
    let program = argv.first().map_or("ipvsadm", String::as_str).to_owned();
    if reading_stdin {
        return Err(ctx.io.tryhelp_exit(&program, -1));
    }
    let mut result = 0;
    while let Some(args) = restore::ConfigStream::new(&mut *ctx.stdin).next_args(&program) {
        if args.len() > 1 {
            result = process_options(ctx, &args, true)?;
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests;
