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
use rvs_e2e::transcript::{self, CaseResult, SEGFAULT_REPORT, blocks, commands, mask, render, runs_ipvsadm};

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
    transcript::replay_golden_cases(&golden_dir(), "against rvsd", run_case);
}

/// Removes a directory tree when dropped.
struct RemoveDirOnDrop(PathBuf);

impl Drop for RemoveDirOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
