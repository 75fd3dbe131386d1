//! The golden ipvsadm transcripts (`tests/golden/NAME.cmds` + `NAME.txt`, recorded from the
//! real ipvsadm 1.31 on a real IPVS kernel by the ipvs-oracle) replayed against the REAL rvsd:
//! a fresh rvsd in a fresh namespace per case, each line run through `sh -c` with a `PATH`
//! shim where `ipvsadm` is a symlink to `rvsadm` and `RVS_SOCKET` set, as
//! `ipvs-oracle/compare.sh` does. Output and exit status must match byte for byte, except for
//! what the oracle README allows to differ (see `rvs_e2e::transcript::mask`).
//!
//! Host differences reproduced rather than masked (those `crates/rvsadm/tests/golden.rs`
//! lists): the case's namespace has only `lo` up and no `eth0` (rvsd runs on a veth pair that
//! stays down); name look-ups use the oracle's `/etc/hosts` and files-only nsswitch; a
//! SIGSEGV is reported as the oracle's shell reports it. Lines that do not run ipvsadm
//! (`cat /proc/...`) are skipped.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use rvs_e2e::bins::binary;
use rvs_e2e::root_or_skip;
use rvs_e2e::rvsd::Run;
use rvs_e2e::solo::Solo;
use rvs_e2e::transcript::{SEGFAULT_REPORT, blocks, commands, mask, render, runs_ipvsadm};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// A block body for what `sh -c` did, as the oracle's shell would have reported it.
fn oracle_body(run: &Run) -> String {
    let mut stderr = run.stderr.clone();
    if run.code == 128 + libc::SIGSEGV && !stderr.contains(SEGFAULT_REPORT) {
        stderr.push_str(SEGFAULT_REPORT);
    }
    render(&run.stdout, &stderr, run.code)
}

struct CaseResult {
    passed: usize,
    failures: Vec<String>,
    skipped: Vec<String>,
}

fn run_case(cmds_path: &Path) -> Result<CaseResult, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let cmds = commands(&read(cmds_path)?);
    let recorded = blocks(&read(&cmds_path.with_extension("txt"))?, &cmds)?;

    let solo = Solo::new();
    let shim = PathBuf::from(format!("{}.shim", solo.socket.display()));
    let _remove_shim = RemoveDirOnDrop(shim.clone());
    std::fs::create_dir_all(&shim).map_err(|e| format!("{}: {e}", shim.display()))?;
    symlink(binary("rvsadm"), shim.join("ipvsadm")).map_err(|e| format!("shim: {e}"))?;
    let mut rvsd = solo.start_rvsd(&[]);

    let mut result = CaseResult {
        passed: 0,
        failures: Vec::new(),
        skipped: Vec::new(),
    };
    for block in recorded {
        if !runs_ipvsadm(&block.cmd) {
            result.skipped.push(block.cmd);
            continue;
        }
        let got = mask(
            &block.cmd,
            &oracle_body(&rvsd.shell_with_path(&block.cmd, &shim)),
        );
        let want = mask(&block.cmd, &block.body);
        if got == want {
            result.passed += 1;
        } else {
            result
                .failures
                .push(format!("$ {}\n--- want\n{want}--- got\n{got}", block.cmd));
        }
    }
    if !rvsd.is_running() {
        result.failures.push(format!(
            "rvsd died during the case; its log:\n{}",
            rvsd.log()
        ));
    }
    Ok(result)
}

#[test]
fn golden_transcripts_match_ipvsadm_against_the_real_rvsd() {
    if !root_or_skip("golden_transcripts_match_ipvsadm_against_the_real_rvsd") {
        return;
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    cases.retain(|p| p.extension().is_some_and(|e| e == "cmds"));
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no golden cases in {}",
        golden_dir().display()
    );

    let (mut passed, mut failed) = (0, 0);
    let mut report = String::new();
    for case in &cases {
        let name = case
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match run_case(case) {
            Err(e) => {
                failed += 1;
                report.push_str(&format!("{name}: cannot run: {e}\n"));
            }
            Ok(r) => {
                println!(
                    "golden {name}: {} commands match, {} differ, {} skipped",
                    r.passed,
                    r.failures.len(),
                    r.skipped.len()
                );
                for s in &r.skipped {
                    println!("  skipped (does not run ipvsadm): {s}");
                }
                passed += r.passed;
                failed += r.failures.len();
                for f in r.failures {
                    report.push_str(&format!("[{name}]\n{f}\n"));
                }
            }
        }
    }
    println!("golden commands against rvsd: {passed} passed, {failed} failed");
    assert!(
        report.is_empty(),
        "{failed} golden mismatches against rvsd:\n{report}"
    );
}

/// Removes a directory tree when dropped.
struct RemoveDirOnDrop(PathBuf);

impl Drop for RemoveDirOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
