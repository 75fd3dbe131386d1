//! The `rvs config` binary on the configuration fixtures of rvs-config: `check`'s summary and
//! exit status, `convert`'s TOML read back to the same configuration.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rvs_config::{native, piranha};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rvs-config/tests").join(name)
}

fn rvs(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_rvs")).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("run rvs: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap_or_else(|| panic!("{} is not UTF-8", p.display()))
}

#[test]
fn convert_seed_002_lvs_cf_reads_back_to_the_same_configuration() {
    let path = fixture("piranha/seed002-nat.cf");
    let out = rvs(&["config", "convert", path_str(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = text(&out.stdout);
    assert!(toml.starts_with("# rvs configuration, converted by `rvs config convert` from "), "{toml}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("seed002-nat.cf:22: warning: send \"GET / HTTP/1.0rnrn\" ends in `rnrn`"), "{stderr}");

    let source = std::fs::read_to_string(&path).unwrap_or_default();
    let (expected, _) = piranha::parse(&source, &path).unwrap_or_else(|e| panic!("{e}"));
    let (converted, warnings) = native::parse(&toml, Path::new("converted.toml")).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(converted, expected);
    assert!(warnings.is_empty(), "{warnings:?}");

    // And the converted file checks as TOML.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("rvs.toml");
    std::fs::write(&file, &toml).unwrap_or_else(|e| panic!("{e}"));
    let out = rvs(&["config", "check", path_str(&file)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}: TOML, 1 virtual server, 2 real servers, 2 checks, 1 VRRP instance; no warnings\n", file.display())
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn check_prints_the_warnings_and_a_summary() {
    let path = fixture("piranha/seed002-dr-primary.cf");
    let out = rvs(&["config", "check", path_str(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}: lvs.cf, 1 virtual server, 2 real servers, 2 checks, 1 VRRP instance; 1 warning\n", path.display())
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}:4: warning: lvs.cf does not say which director reads it: the VRRP instance is BACKUP, priority 100\n  hint: ",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn refused_files_exit_1_with_their_errors() {
    let path = fixture("piranha/seed002-nat-garbled.cf");
    let out = rvs(&["config", "check", path_str(&path)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:18:1: error: stray characters `? ???` before `active`\n", path.display())),
        "{stderr}"
    );
    assert!(stderr.ends_with(&format!("rvs: {}: refused, 23 errors\n", path.display())), "{stderr}");
}

#[test]
fn format_can_be_forced() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("director.conf");
    std::fs::write(&file, "virtual web {\n  active = 1\n  address = 10.0.0.1 eth0:1\n}\n").unwrap_or_else(|e| panic!("{e}"));
    let out = rvs(&["config", "check", "--format", "lvs.cf", path_str(&file)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}: lvs.cf, 1 virtual server, 0 real servers, 0 checks, 0 VRRP instances; no warnings\n", file.display())
    );
    let out = rvs(&["config", "convert", "--format", "toml", path_str(&file)]);
    assert_eq!(out.status.code(), Some(1), "not TOML");
    assert!(text(&out.stderr).contains(": error: "), "{}", text(&out.stderr));
}
