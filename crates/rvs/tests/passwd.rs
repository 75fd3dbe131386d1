//! The `rvs passwd` binary with `--stdin`: the file it writes is mode 0600 and holds a hash that
//! rvs-console verifies; the password appears nowhere in its output or the file.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use rvs_console::auth::passwd::PasswordFile;

fn rvs_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rvs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run rvs: {e}"));
    if let Some(mut input) = child.stdin.take() {
        // A refused --user exits before reading: a broken pipe is then expected.
        if let Err(e) = input.write_all(stdin.as_bytes())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            panic!("write stdin: {e}");
        }
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("wait rvs: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap_or_else(|| panic!("{} is not UTF-8", p.display()))
}

#[test]
fn passwd_stdin_writes_a_0600_file_that_verifies() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("rvs/console.passwd");
    let password = "a long enough password";

    let out = rvs_with_stdin(&["passwd", "--file", path_str(&path), "--stdin"], &format!("{password}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout, format!("rvs: password of console user admin set in {}\n", path.display()));

    let out = rvs_with_stdin(&["passwd", "--file", path_str(&path), "--user", "ops", "--stdin"], "ops password 2\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("console user ops set in"));

    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0);
    assert_eq!(mode, 0o600);
    let contents = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(!contents.contains(password), "{contents}");

    let file = PasswordFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(file.verify("admin", password));
    assert!(file.verify("ops", "ops password 2"));
    assert!(!file.verify("admin", "ops password 2"));
}

#[test]
fn passwd_refuses_a_short_password_and_a_bad_user_without_writing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("console.passwd");

    let out = rvs_with_stdin(&["passwd", "--file", path_str(&path), "--stdin"], "short\n");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("rvs: ") && stderr.contains("at least 8 characters"), "{stderr}");
    assert!(!stderr.contains("short\n") && text(&out.stdout).is_empty(), "{stderr}");

    let out = rvs_with_stdin(&["passwd", "--file", path_str(&path), "--user", "a b", "--stdin"], "long enough\n");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("invalid user name"), "{}", text(&out.stderr));

    let out = rvs_with_stdin(&["passwd", "--file", path_str(&path), "--stdin"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no password on standard input"), "{}", text(&out.stderr));
    assert!(!path.exists());
}
