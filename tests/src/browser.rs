//! Browser tests: Python scripts in `tests/browser/` drive Debian's headless Chromium with
//! Playwright from inside a lab host, as a person at a browser on that host would.
//!
//! `scripts/setup.sh` installs what they need: the `chromium` package and a venv holding a
//! pinned `playwright` (the Python package only: Playwright's own browser downloads are not
//! used). A test builds its lab, then:
//!
//! ```no_run
//! # fn demo(client: &rvs_lab::Host) -> anyhow::Result<()> {
//! use std::time::Duration;
//! use rvs_e2e::browser;
//!
//! let artefacts = browser::artefacts_dir("console_shows_services");
//! let out = browser::run_script(
//!     client,
//!     &browser::script("console.py"),
//!     &["http://192.168.0.1:8080/"],
//!     &artefacts,
//!     Duration::from_secs(60),
//! )?;
//! assert_eq!(out.trim_end(), "ok");
//! # Ok(()) }
//! ```
//!
//! Scripts import `rvs_browser` (`tests/browser/rvs_browser.py`), which launches the browser
//! the same way for all of them and saves screenshots into the artefacts directory: after a
//! run, `target/artefacts/<test>/` holds what the browser showed (`failure.png` when the
//! script failed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rvs_lab::{Host, LabError};

/// The variable naming the Python interpreter that has Playwright.
pub const PYTHON_VAR: &str = "RVS_PLAYWRIGHT_PYTHON";

/// Where `scripts/setup.sh` puts that interpreter.
pub const DEFAULT_PYTHON: &str = "/opt/rvs/playwright-venv/bin/python";

/// The browser the scripts drive (Debian's package; passed to them as `RVS_CHROMIUM`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The variable naming the directory that receives the screenshots (also passed to scripts).
pub const ARTEFACTS_VAR: &str = "RVS_ARTEFACTS";

/// Variables that would send the browser's requests to a proxy instead of the lab's hosts.
/// (`rvs_browser.py` also starts Chromium with `--no-proxy-server`.)
const PROXY_VARS: [&str; 10] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "ftp_proxy",
    "FTP_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// The variable marking the processes of one [`run_script`] call, so that a browser left
/// behind (Playwright starts Chromium in a session of its own, out of reach of the kill of
/// the script's process group) can be found and killed.
const RUN_MARK_VAR: &str = "RVS_BROWSER_RUN";

/// The Python interpreter that has Playwright: `$RVS_PLAYWRIGHT_PYTHON`, else the venv that
/// `scripts/setup.sh` makes. An error saying to run `scripts/setup.sh` when it is missing.
pub fn python() -> anyhow::Result<PathBuf> {
    let (path, from) = match std::env::var_os(PYTHON_VAR).filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), format!("${PYTHON_VAR}")),
        None => (PathBuf::from(DEFAULT_PYTHON), "the default".to_owned()),
    };
    if !path.is_file() {
        bail!(
            "the browser tests need Python with Playwright, and there is no {} ({from}). \
             Run scripts/setup.sh as root (it makes that venv and installs chromium), \
             or set {PYTHON_VAR} to a Python that can `import playwright`.",
            path.display()
        );
    }
    if !Path::new(CHROMIUM).is_file() {
        bail!(
            "the browser tests drive Debian's Chromium, and there is no {CHROMIUM}. \
             Run scripts/setup.sh as root (it installs the `chromium` package)."
        );
    }
    Ok(path)
}

/// The path of `tests/browser/<name>`, where the scripts live.
pub fn script(name: &str) -> PathBuf {
    scripts_dir().join(name)
}

/// `tests/browser`: the scripts and the `rvs_browser` module they share.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// The directory for `test`'s screenshots: `$RVS_ARTEFACTS/<test>`, else
/// `<workspace root>/target/artefacts/<test>`, emptied if it exists, so that it holds this
/// run's files only. Panics if it cannot be made, or if `test` is not a plain file name.
pub fn artefacts_dir(test: &str) -> PathBuf {
    let plain = !test.is_empty()
        && test
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !test.starts_with('.');
    assert!(
        plain,
        "artefacts_dir({test:?}): the name must be a plain file name"
    );
    let root = match std::env::var_os(ARTEFACTS_VAR).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target").join("artefacts"),
    };
    let dir = root.join(test);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("emptying {}: {e}", dir.display()),
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// The workspace's root directory (the parent of this crate's `tests/`).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Runs the Python `script` with `args` inside `host` and returns what it printed on stdout.
///
/// It runs with [`python`], in `artefacts` (its working directory), with `RVS_CHROMIUM` and
/// `RVS_ARTEFACTS` set, [`scripts_dir`] on its `PYTHONPATH`, without proxy variables, and
/// unbuffered (what a killed script had printed is not lost). After `timeout` it is killed with its process group; either way,
/// any browser process it left in `host` is killed too. The error of a failed or killed run
/// holds its stdout and stderr in full.
pub fn run_script(
    host: &Host,
    script: &Path,
    args: &[&str],
    artefacts: &Path,
    timeout: Duration,
) -> anyhow::Result<String> {
    let python = python()?;
    let script =
        std::path::absolute(script).with_context(|| format!("resolving {}", script.display()))?;
    if !script.is_file() {
        bail!("there is no browser script {}", script.display());
    }
    let artefacts = std::path::absolute(artefacts)
        .with_context(|| format!("resolving {}", artefacts.display()))?;
    std::fs::create_dir_all(&artefacts)
        .with_context(|| format!("creating {}", artefacts.display()))?;
    let mark = crate::unique_prefix("b");

    let mut command = Command::new(&python);
    command.arg(&script).args(args);
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    command
        .env_remove("PYTHONHOME")
        // `import rvs_browser` works from a script anywhere.
        .env("PYTHONPATH", scripts_dir())
        .env("PYTHONUNBUFFERED", "1")
        // No __pycache__ next to the scripts in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("RVS_CHROMIUM", CHROMIUM)
        .env(ARTEFACTS_VAR, &artefacts)
        .env(RUN_MARK_VAR, &mark)
        .current_dir(&artefacts);

    let shown = format!(
        "[{}] {} {}",
        host.netns(),
        python.display(),
        script.display()
    );
    let result = host.run_command(command, timeout);
    let leftovers = kill_marked(host, &mark);
    let out = match result {
        Ok(out) => out,
        Err(LabError::CommandTimeout {
            timeout,
            stdout,
            stderr,
            ..
        }) => bail!(
            "`{shown} {}` did not finish within {timeout:?} and was killed; \
             artefacts in {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            args.join(" "),
            artefacts.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("running `{shown}`")),
    };
    if !out.success() {
        bail!(
            "`{shown} {}` failed ({}); artefacts in {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            args.join(" "),
            out.status,
            artefacts.display(),
            out.stdout,
            out.stderr
        );
    }
    if leftovers > 0 {
        eprintln!("{shown}: killed {leftovers} browser process(es) it left behind");
    }
    Ok(out.stdout)
}

/// Kills what the script left in `host` and waits (up to 5 s) until it is gone: the processes
/// that carry `mark` in their environment (the script, Playwright's driver, Chromium and its
/// crash handlers) and the members of their process groups (Chromium's zygotes and renderers,
/// which start with an empty environment). Returns how many marked processes were still
/// there at first: none after a clean run, whose browser has closed.
fn kill_marked(host: &Host, mark: &str) -> usize {
    let needle = format!("{RUN_MARK_VAR}={mark}");
    let is_marked = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
            env.split(|&b| b == 0)
                .any(|entry| entry == needle.as_bytes())
        })
    };
    // SAFETY: getpgrp has no preconditions.
    let own_group = unsafe { libc::getpgrp() };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut groups = std::collections::BTreeSet::new();
    let mut first = None;
    loop {
        let live: Vec<i32> = rvs_lab::pids_in_netns(host.netns())
            .into_iter()
            .filter(|&pid| u32::try_from(pid).is_ok_and(crate::is_alive))
            .collect();
        let marked: Vec<i32> = live.iter().copied().filter(|&pid| is_marked(pid)).collect();
        first.get_or_insert(marked.len());
        for &pid in &marked {
            // SAFETY: getpgid takes a plain pid; -1 (gone) is filtered out below.
            let group = unsafe { libc::getpgid(pid) };
            if group > 1 && group != own_group {
                groups.insert(group);
            }
        }
        let targets: Vec<i32> = live
            .into_iter()
            // SAFETY: as above.
            .filter(|&pid| marked.contains(&pid) || groups.contains(&unsafe { libc::getpgid(pid) }))
            .collect();
        if targets.is_empty() || Instant::now() >= deadline {
            return first.unwrap_or(0);
        }
        for &pid in &targets {
            // SAFETY: kill(2) takes plain integers. These are the script's own descendants
            // (they carry its unique mark, or share a process group with one that does), in
            // the lab host; one already gone is ignored.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
