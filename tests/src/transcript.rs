//! ipvs-oracle transcripts: reading a recorded `NAME.txt` back into one block per command of
//! `NAME.cmds`, writing a run in the same format, and masking what may differ between runs.
//!
//! Format (see `/work/shared/ipvs-oracle/README.md`): `$ command`, its stdout, its stderr as
//! `[stderr] ...` lines, then `[rc=N]`. Used by both golden replays: in process
//! (`crates/rvsadm/tests/golden.rs`) and against a real rvsd (`tests/tests/golden_rvsd.rs`).

/// One command of a transcript and everything recorded after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The command line.
    pub cmd: String,
    /// Its stdout, `[stderr]` lines and `[rc=N]` line.
    pub body: String,
}

/// The commands of a `.cmds` file: every line but empty ones and `#` comments.
pub fn commands(cmds_text: &str) -> Vec<String> {
    cmds_text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Whether a command line runs ipvsadm at all (`cat /proc/...` lines do not: the host has
/// no IPVS to show, so they are skipped).
pub fn runs_ipvsadm(cmd: &str) -> bool {
    cmd.split(|c: char| c.is_whitespace() || c == '|' || c == ';')
        .any(|word| word == "ipvsadm")
}

/// Splits a transcript into blocks, knowing the commands it was made from (a command's
/// output may itself contain lines starting with `$ `).
pub fn blocks(transcript: &str, cmds: &[String]) -> Result<Vec<Block>, String> {
    let mut out: Vec<Block> = Vec::new();
    let mut next = 0;
    for line in transcript.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if next < cmds.len() && bare == format!("$ {}", cmds[next]) {
            out.push(Block {
                cmd: cmds[next].clone(),
                body: String::new(),
            });
            next += 1;
        } else if let Some(b) = out.last_mut() {
            b.body.push_str(line);
        } else {
            return Err(format!("transcript starts with {bare:?}"));
        }
    }
    if next != cmds.len() {
        return Err(format!("transcript has {next} of {} commands", cmds.len()));
    }
    Ok(out)
}

/// A block body as the oracle writes it: stdout, stderr lines prefixed `[stderr] `, `[rc=N]`.
pub fn render(stdout: &str, stderr: &str, rc: i32) -> String {
    let mut body = stdout.to_owned();
    for l in stderr.split_inclusive('\n') {
        body.push_str("[stderr] ");
        body.push_str(l);
        if !l.ends_with('\n') {
            body.push('\n');
        }
    }
    body.push_str(&format!("[rc={rc}]\n"));
    body
}

/// The shell's report of a command killed by SIGSEGV, which the oracle's busybox `sh -c`
/// prints and a shell that execs its last command (dash) cannot: a property of the shell
/// that ran the line, not of ipvsadm.
pub const SEGFAULT_REPORT: &str = "Segmentation fault\n";

/// Whether `cmd` lists connections (`-c` alone or among short options such as a final `-Lnc`,
/// or `--connection`).
fn lists_connections(cmd: &str) -> bool {
    cmd.split_whitespace().any(|w| {
        w == "--connection" || (w.starts_with('-') && !w.starts_with("--") && w[1..].contains('c'))
    })
}

/// Masks what the oracle README says may differ: `--rate` figures, and in connection
/// listings the expire column and the client's port. (The README also allows `--stats`
/// right after traffic to differ; the golden cases make no traffic.)
pub fn mask(cmd: &str, body: &str) -> String {
    let lists_conns = lists_connections(cmd);
    body.lines()
        .map(|l| {
            if cmd.contains("--rate")
                && (l.starts_with("  -> ")
                    || l.starts_with("TCP")
                    || l.starts_with("UDP")
                    || l.starts_with("SCTP")
                    || l.starts_with("FWM"))
            {
                let (head, tail) = l.split_at(l.len().min(33));
                format!("{head}{}", tail.replace(|c: char| c.is_ascii_digit(), "#"))
            } else if lists_conns && l.len() > 11 && l.as_bytes().get(6) == Some(&b':') {
                mask_connection_line(l)
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// `TCP 01:59  FIN_WAIT    172.25.254.10:44460 ...` → `TCP ##:##  FIN_WAIT    172.25.254.10:##### ...`.
fn mask_connection_line(line: &str) -> String {
    let mut out: String = line.to_owned();
    out.replace_range(4..9, "##:##");
    // The source is the fourth column; its port follows the last ':'.
    let mut start = None;
    let mut column = 0;
    let mut in_word = false;
    for (i, c) in out.char_indices() {
        if c == ' ' {
            if in_word {
                column += 1;
                if column == 4 {
                    break;
                }
            }
            in_word = false;
        } else {
            if !in_word && column == 3 {
                start = Some(i);
            }
            in_word = true;
        }
    }
    if let Some(start) = start {
        let end = out[start..].find(' ').map_or(out.len(), |n| start + n);
        if let Some(colon) = out[start..end].rfind(':') {
            let port = start + colon + 1;
            let masked = "#".repeat(end - port);
            out.replace_range(port..end, &masked);
        }
    }
    out
}

/// What replaying one golden case gave.
#[derive(Debug, Default)]
pub struct CaseResult {
    /// Commands whose masked output matched the recording.
    pub passed: usize,
    /// A report per command that did not match.
    pub failures: Vec<String>,
    /// Commands not run, with why.
    pub skipped: Vec<String>,
}

/// Replays every `NAME.cmds` case of `dir` (in name order) with `run_case`, prints a line per
/// case, and fails with every mismatch when any command differs or a case cannot run.
pub fn replay_golden_cases(dir: &std::path::Path, what: &str, mut run_case: impl FnMut(&std::path::Path) -> Result<CaseResult, String>) {
    let mut cases: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    cases.retain(|p| p.extension().is_some_and(|e| e == "cmds"));
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases in {}", dir.display());
    let (mut passed, mut failed) = (0, 0);
    let mut report = String::new();
    for case in &cases {
        let name = case.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
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
                    println!("  skipped: {s}");
                }
                passed += r.passed;
                failed += r.failures.len();
                for f in r.failures {
                    report.push_str(&format!("[{name}]\n{f}\n"));
                }
            }
        }
    }
    println!("golden commands {what}: {passed} passed, {failed} failed");
    assert!(report.is_empty(), "{failed} golden mismatches {what}:\n{report}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_the_commands_even_when_output_looks_like_one() {
        let cmds = commands("# a comment\nipvsadm -Sn\n\nipvsadm -L\n");
        assert_eq!(cmds, ["ipvsadm -Sn", "ipvsadm -L"]);
        let transcript = "$ ipvsadm -Sn\n$ not a command\n[rc=0]\n$ ipvsadm -L\n[rc=0]\n";
        let got = blocks(transcript, &cmds).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].body, "$ not a command\n[rc=0]\n");
        assert_eq!(got[1].cmd, "ipvsadm -L");
        assert!(blocks("junk\n", &cmds).is_err());
        assert!(blocks("$ ipvsadm -Sn\n[rc=0]\n", &cmds).is_err());
    }

    #[test]
    fn rendering_matches_the_oracle_format() {
        assert_eq!(
            render("out\n", "err one\nerr two", 255),
            "out\n[stderr] err one\n[stderr] err two\n[rc=255]\n"
        );
        assert_eq!(render("", "", 0), "[rc=0]\n");
    }

    #[test]
    fn only_ipvsadm_lines_are_run() {
        assert!(runs_ipvsadm("ipvsadm -Ln"));
        assert!(runs_ipvsadm("printf -- '-C\\n' | ipvsadm -R"));
        assert!(!runs_ipvsadm("cat /proc/sys/net/ipv4/vs/conn_reuse_mode"));
        assert!(!runs_ipvsadm("echo ipvsadmx"));
    }

    #[test]
    fn rates_and_expiry_are_masked_and_nothing_else() {
        let rate = "TCP  10.0.0.1:80                       1        4        0      201        0\n";
        let masked = mask("ipvsadm -Ln --rate", rate);
        assert!(masked.starts_with("TCP  10.0.0.1:80"), "{masked}");
        assert!(
            !masked[33..].contains(|c: char| c.is_ascii_digit()),
            "{masked}"
        );
        assert_eq!(mask("ipvsadm -Ln --stats", rate), rate);
        let conn =
            "TCP 01:59  FIN_WAIT    172.25.254.10:44460 192.168.0.100:80   192.168.0.11:80\n";
        let want =
            "TCP ##:##  FIN_WAIT    172.25.254.10:##### 192.168.0.100:80   192.168.0.11:80\n";
        for cmd in [
            "ipvsadm -Lnc",
            "ipvsadm -L -n -c",
            "ipvsadm -Lcn --exact",
            "ipvsadm -L --connection",
        ] {
            assert_eq!(mask(cmd, conn), want, "{cmd}");
        }
        assert_eq!(mask("ipvsadm -Ln", conn), conn);
        assert_eq!(mask("ipvsadm -A -t 10.0.0.1:80 -s wlc", conn), conn);
    }
}
