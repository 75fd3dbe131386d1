//! `rvs config check|convert`: reads a keepalived.conf, a piranha lvs.cf or an rvs TOML file as
//! rvsd reads it, and says what it holds (`check`) or writes it as rvs's TOML (`convert`).
//! Warnings and errors go to stderr, one `file:line[:column]: …` each; a refused file exits 1.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Subcommand, ValueEnum};
use rvs_config::{Format, Loaded};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Reads FILE, prints its warnings (stderr) and what it holds (stdout); exit status 1 when
    /// it is refused.
    Check {
        file: PathBuf,
        /// The file's format (default: from its name and first line).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
    /// Prints FILE as rvs's TOML (warnings on stderr).
    Convert {
        file: PathBuf,
        /// The file's format (default: from its name and first line).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// keepalived.conf
    Keepalived,
    /// piranha's lvs.cf
    #[value(name = "lvs.cf", alias = "piranha")]
    Piranha,
    /// rvs's own TOML
    Toml,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Keepalived => Format::Keepalived,
            FormatArg::Piranha => Format::Piranha,
            FormatArg::Toml => Format::Toml,
        }
    }
}

/// Runs one `rvs config` command.
pub fn run(command: ConfigCommand) -> Result<()> {
    let (file, format, convert) = match command {
        ConfigCommand::Check { file, format } => (file, format, false),
        ConfigCommand::Convert { file, format } => (file, format, true),
    };
    let loaded = read(&file, format)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    if convert {
        print!(
            "# rvs configuration, converted by `rvs config convert` from {} ({})\n{}",
            file.display(),
            loaded.format.name(),
            rvs_config::native::to_toml(&loaded.config)
        );
    } else {
        println!("{}", summary(&file, &loaded));
    }
    Ok(())
}

/// The file loaded, or its errors printed and an error saying how many.
fn read(file: &Path, format: Option<FormatArg>) -> Result<Loaded> {
    let result = match format {
        Some(f) => rvs_config::load_as(file, f.into()),
        None => rvs_config::load(file),
    };
    match result {
        Ok(loaded) => Ok(loaded),
        Err(e) => {
            eprintln!("{e}");
            bail!("{}: refused, {}", file.display(), count(e.errors().count(), "error"));
        }
    }
}

/// `FILE: lvs.cf, 1 virtual server, 2 real servers, 2 checks, 1 VRRP instance; 3 warnings`.
fn summary(file: &Path, loaded: &Loaded) -> String {
    let c = &loaded.config;
    let reals: usize = c.virtual_servers.iter().map(|v| v.reals.len()).sum();
    let checks: usize = c.virtual_servers.iter().flat_map(|v| &v.reals).map(|r| r.checks.len()).sum();
    let warnings = match loaded.warnings.len() {
        0 => "no warnings".to_owned(),
        n => count(n, "warning"),
    };
    format!(
        "{}: {}, {}, {}, {}, {}; {warnings}",
        file.display(),
        loaded.format.name(),
        count(c.virtual_servers.len(), "virtual server"),
        count(reals, "real server"),
        count(checks, "check"),
        count(c.vrrp.len(), "VRRP instance"),
    )
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_and_pluralise() {
        let loaded = Loaded { config: Default::default(), format: Format::Toml, warnings: vec![] };
        assert_eq!(
            summary(Path::new("rvs.toml"), &loaded),
            "rvs.toml: TOML, 0 virtual servers, 0 real servers, 0 checks, 0 VRRP instances; no warnings"
        );
        assert_eq!(count(1, "check"), "1 check");
        assert_eq!(count(7, "check"), "7 checks");
    }
}
