//! Which parser reads a file, and loading one.
//!
//! [`load`] picks the format from the file's name and first meaningful line: a `.toml` file is
//! rvs's own format; a file named `lvs.cf`, or one that starts like piranha's (`serial_no = 73`,
//! `primary = …`, `service = lvs`, `virtual NAME {` …), is piranha's; anything else is
//! keepalived.conf. [`load_as`] and [`parse_str`] take the format from the caller.

use std::path::{Path, PathBuf};

use rvs_core::config::Config;

use crate::{ConfigError, Diagnostic, Severity};

/// The three file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// keepalived.conf
    Keepalived,
    /// piranha's lvs.cf
    Piranha,
    /// rvs's own TOML
    Toml,
}

impl Format {
    /// How messages name the format: `keepalived.conf`, `lvs.cf`, `TOML`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Keepalived => "keepalived.conf",
            Format::Piranha => "lvs.cf",
            Format::Toml => "TOML",
        }
    }
}

/// A file that loaded: its configuration and the warnings about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub format: Format,
    pub warnings: Vec<Diagnostic>,
}

/// Reads `path` in the format its name and content say.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = read(path)?;
    parse_str(&text, path, detect(path, &text))
}

/// Reads `path` as `format`.
pub fn load_as(path: &Path, format: Format) -> Result<Loaded, ConfigError> {
    let text = read(path)?;
    parse_str(&text, path, format)
}

/// Parses `text` as `format`, naming it `name` in messages (keepalived `include`s are read
/// relative to `name`'s directory).
pub fn parse_str(text: &str, name: &Path, format: Format) -> Result<Loaded, ConfigError> {
    let (config, warnings) = match format {
        Format::Keepalived => crate::keepalived::parse(text, name)?,
        Format::Piranha => crate::piranha::parse(text, name)?,
        Format::Toml => crate::native::parse(text, name)?,
    };
    Ok(Loaded { config, format, warnings })
}

/// The format of a file from its name and text.
pub fn detect(path: &Path, text: &str) -> Format {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        return Format::Toml;
    }
    if file_name == "lvs.cf" {
        return Format::Piranha;
    }
    let Some(first) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
    else {
        return Format::Keepalived;
    };
    let words: Vec<&str> = first.split_whitespace().collect();
    let key = words.first().copied().unwrap_or("");
    let spaced = words.get(1) == Some(&"=");
    if first.starts_with('[') {
        return Format::Toml;
    }
    if spaced && PIRANHA_FIRST_KEYS.contains(&key) {
        return Format::Piranha;
    }
    if (key == "virtual" || key == "failover") && words.len() == 3 && words[2] == "{" {
        return Format::Piranha;
    }
    let toml_key = key.split('=').next().unwrap_or("").trim();
    if (spaced || key.contains('=')) && TOML_FIRST_KEYS.contains(&toml_key) {
        return Format::Toml;
    }
    Format::Keepalived
}

/// Global keys of lvs.cf (`lvsconfig.c`) that a file can start with.
const PIRANHA_FIRST_KEYS: &[&str] = &[
    "serial_no", "primary", "primary_private", "primary_shared", "service", "backup", "backup_active",
    "backup_private", "backup_shared", "heartbeat", "heartbeat_port", "keepalive", "deadtime", "network",
    "nat_router", "nat_nmask", "debug_level", "rsh_command", "monitor_links", "syncdaemon", "syncd_iface",
    "syncd_id", "tcp_timeout", "tcpfin_timeout", "udp_timeout", "hard_shutdown", "active_cmd", "inactive_cmd",
    "reservation_conflict_action", "ipvsadm", "sync",
];

/// Top-level keys of rvs's TOML.
const TOML_FIRST_KEYS: &[&str] = &["router_id", "marks"];

fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::one(Diagnostic {
            severity: Severity::Error,
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the file: {e}"),
            hint: None,
        })
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at - before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        ConfigError::one(Diagnostic {
            severity: Severity::Error,
            file: path.to_path_buf(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            message: "the file is not UTF-8 text".to_owned(),
            hint: Some("configuration files are read as UTF-8; convert it (iconv -t UTF-8)".to_owned()),
        })
    })
}

/// Diagnostics of one file as a parser finds them; `finish` refuses the file if any is an error.
#[derive(Debug)]
pub(crate) struct Diags {
    file: PathBuf,
    list: Vec<Diagnostic>,
    errors: usize,
}

impl Diags {
    pub(crate) fn new(file: &Path) -> Self {
        Diags { file: file.to_path_buf(), list: Vec::new(), errors: 0 }
    }

    pub(crate) fn error(&mut self, line: u32, column: u32, message: impl Into<String>, hint: Option<String>) {
        self.errors += 1;
        self.push(Severity::Error, line, column, message.into(), hint);
    }

    pub(crate) fn warn(&mut self, line: u32, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Warning, line, 0, message.into(), hint);
    }

    fn push(&mut self, severity: Severity, line: u32, column: u32, message: String, hint: Option<String>) {
        self.list.push(Diagnostic { severity, file: self.file.clone(), line, column, message, hint });
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// The value and the warnings, or every diagnostic (in file order) when one is an error.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<(T, Vec<Diagnostic>), ConfigError> {
        self.list.sort_by_key(|d| (d.line, d.column));
        if self.errors > 0 { Err(ConfigError { diagnostics: self.list }) } else { Ok((value, self.list)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(name: &str, text: &str) -> Format {
        detect(Path::new(name), text)
    }

    #[test]
    fn names_and_first_lines_pick_the_format() {
        assert_eq!(detected("/etc/rvs/rvs.toml", "anything"), Format::Toml);
        assert_eq!(detected("/etc/sysconfig/ha/lvs.cf", ""), Format::Piranha);
        assert_eq!(detected("x.conf", "# a comment\n\nserial_no = 73\n"), Format::Piranha);
        assert_eq!(detected("x.conf", "primary = 192.168.1.10\n"), Format::Piranha);
        assert_eq!(detected("x.conf", "service = lvs\n"), Format::Piranha);
        assert_eq!(detected("x.conf", "virtual HTTP {\n  active = 1\n}\n"), Format::Piranha);
        assert_eq!(detected("keepalived.conf", "! Configuration File\nglobal_defs {\n"), Format::Keepalived);
        assert_eq!(detected("keepalived.conf", "virtual_server 10.0.0.1 80 {\n"), Format::Keepalived);
        assert_eq!(detected("rvs.conf", "router_id = \"lvs1\"\n"), Format::Toml);
        assert_eq!(detected("rvs.conf", "[[virtual_server]]\n"), Format::Toml);
        assert_eq!(detected("empty", ""), Format::Keepalived);
    }

    #[test]
    fn unreadable_files_are_refused_at_line_zero() {
        let err = load(Path::new("/nonexistent/rvs-config-test/lvs.cf")).expect_err("no such file");
        assert_eq!(err.diagnostics.len(), 1);
        let d = &err.diagnostics[0];
        assert_eq!((d.line, d.column, d.severity), (0, 0, Severity::Error));
        assert!(d.message.starts_with("cannot read the file: No such file or directory"), "{}", d.message);
        assert!(err.to_string().starts_with("/nonexistent/rvs-config-test/lvs.cf:0: error: cannot read"));
    }
}
