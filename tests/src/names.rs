//! The ipvs-oracle's name service for shell lines the suites run: `/etc/nsswitch.conf` with
//! files only and an `/etc/hosts` that knows only `localhost`, bind-mounted over the machine's
//! in a private mount namespace (`unshare --mount`) for that one line.
//!
//! ipvsadm without `-n` resolves every address (`-S`, `-L`). From a lab host the machine's
//! DNS server is out of reach, and the router's rate-limited ICMP errors let some look-ups
//! wait 5 s each; no query should leave the lab anyway. And the oracle's VM has exactly these
//! two files (`ipvs-oracle/build.sh`), so golden transcripts are recorded against them.
//! `/etc/services` stays the machine's, as the oracle copies it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oracle VM's `/etc/nsswitch.conf`.
pub const ORACLE_NSSWITCH: &str = "hosts: files\nservices: files\nprotocols: files\nnetworks: files\npasswd: files\ngroup: files\n";
/// The oracle VM's `/etc/hosts`.
pub const ORACLE_HOSTS: &str = "127.0.0.1 localhost\n::1 localhost\n";

/// The two files, written next to `stem` (`<stem>.nsswitch`, `<stem>.hosts`) and removed
/// when this is dropped.
#[derive(Debug)]
pub struct OracleNames {
    nsswitch: PathBuf,
    hosts: PathBuf,
}

impl OracleNames {
    /// Writes the files.
    pub fn write(stem: &Path) -> std::io::Result<OracleNames> {
        let with = |ext: &str| {
            let mut path = stem.as_os_str().to_owned();
            path.push(ext);
            PathBuf::from(path)
        };
        let names = OracleNames {
            nsswitch: with(".nsswitch"),
            hosts: with(".hosts"),
        };
        std::fs::write(&names.nsswitch, ORACLE_NSSWITCH)?;
        std::fs::write(&names.hosts, ORACLE_HOSTS)?;
        Ok(names)
    }

    /// `sh -c <line>` with the two files in place of the machine's.
    pub fn shell(&self, line: &str) -> Command {
        let mut command = Command::new("unshare");
        command.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            r#"mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /etc/hosts && exec sh -c "$3""#,
            "sh",
        ]);
        command.arg(&self.nsswitch).arg(&self.hosts).arg(line);
        command
    }
}

impl Drop for OracleNames {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.nsswitch);
        let _ = std::fs::remove_file(&self.hosts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_beside_the_stem_and_removed() {
        let stem = std::env::temp_dir().join(format!("rvs-e2e-names-{}", std::process::id()));
        let names = OracleNames::write(&stem).unwrap_or_else(|e| panic!("{e}"));
        let hosts = names.hosts.clone();
        assert_eq!(
            std::fs::read_to_string(&hosts).unwrap_or_default(),
            ORACLE_HOSTS
        );
        let command = names.shell("ipvsadm -S");
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args.last().map(String::as_str), Some("ipvsadm -S"));
        assert!(args.iter().any(|a| a.ends_with(".nsswitch")), "{args:?}");
        drop(names);
        assert!(!hosts.exists());
    }
}
