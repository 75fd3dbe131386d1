//! Which parser reads a file, and loading one.
//! (Skeleton: filled in by the piranha/TOML work; `load` must detect the format from the
//! file name and content.)

use std::path::Path;

use rvs_core::config::Config;

use crate::{ConfigError, Diagnostic};

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

/// A file that loaded: its configuration and the warnings about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub format: Format,
    pub warnings: Vec<Diagnostic>,
}

/// Reads `path` in the format its name and content say.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let _ = path;
    todo!("format detection")
}

/// Reads `path` as `format`.
pub fn load_as(path: &Path, format: Format) -> Result<Loaded, ConfigError> {
    let _ = (path, format);
    todo!("load_as")
}

/// Parses `text` as `format`, naming it `name` in messages (keepalived `include`s are read
/// relative to `name`'s directory).
pub fn parse_str(text: &str, name: &Path, format: Format) -> Result<Loaded, ConfigError> {
    let _ = (text, name, format);
    todo!("parse_str")
}
