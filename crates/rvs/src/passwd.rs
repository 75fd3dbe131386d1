//! `rvs passwd`: sets the password of a web console user in the console's password file
//! (rvs-console's `auth::passwd`), which rvsd reads at start and on reload.
//!
//! The password is read twice from the terminal with echo off, or once from standard input with
//! `--stdin` for scripts. It is never printed, logged or put in an error message, and it is not
//! taken as an argument, where `ps` and the shell history would show it.

use std::io::{self, BufRead};
use std::path::Path;

use anyhow::{Context, Result, bail};
use rvs_console::auth::passwd;

/// Runs `rvs passwd`.
pub fn run(file: &Path, user: &str, stdin: bool) -> Result<()> {
    // Before asking for anything: a typo in --user should not cost typing the password twice.
    passwd::check_user(user)?;
    let password = if stdin { read_stdin(io::stdin().lock())? } else { read_terminal(user)? };
    passwd::set_password(file, user, &password)?;
    println!("rvs: password of console user {user} set in {}", file.display());
    Ok(())
}

/// The password from the terminal, typed twice. Its rules are checked after the first entry so
/// that a refused password is not asked for again before being refused.
fn read_terminal(user: &str) -> Result<String> {
    let first = prompt(&format!("New password of console user {user}: "))?;
    passwd::check_password(&first)?;
    let second = prompt("Retype it: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

fn prompt(text: &str) -> Result<String> {
    // rpassword reads /dev/tty, not standard input: without a terminal (a script, a pipe) the
    // open fails, and --stdin is what the caller wants.
    rpassword::prompt_password(text)
        .context("cannot read the password from the terminal (without one, use --stdin)")
}

/// One line of `input`, without its line ending ("\n", or "\r\n" as `str::lines` also takes it):
/// any other whitespace belongs to the password.
fn read_stdin(mut input: impl BufRead) -> Result<String> {
    let mut line = String::new();
    let n = input.read_line(&mut line).context("cannot read the password from standard input")?;
    if n == 0 {
        bail!("no password on standard input");
    }
    if let Some(l) = line.strip_suffix('\n') {
        line.truncate(l.strip_suffix('\r').unwrap_or(l).len());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> String {
        read_stdin(input.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn stdin_gives_the_first_line_without_its_ending_only() {
        assert_eq!(read("secret pw\n"), "secret pw");
        assert_eq!(read("secret pw\r\n"), "secret pw");
        assert_eq!(read(" secret pw \nnext\n"), " secret pw ");
        assert_eq!(read("no newline"), "no newline");
        assert_eq!(read("\n"), "");
        assert!(read_stdin("".as_bytes()).is_err());
    }
}
