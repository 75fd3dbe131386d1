//! Configuration files into [`rvs_core::config::Config`]: keepalived.conf (`keepalived`),
//! piranha's lvs.cf (`piranha`) and rvs's own TOML (`native`). Each parser follows its own
//! tool's defaults (keepalived's forwarding method is NAT, ipvsadm's and rvs's DR, …).
//!
//! Errors refuse the whole file and say where (`file:line:column`) and what would fix it;
//! unknown keywords are warnings with `file:line`, so that a keepalived.conf with options rvs
//! does not act on still loads (rvs's own TOML refuses them: a misspelt key there would be a
//! setting silently lost).

mod diagnostic;
mod format;
pub mod keepalived;
pub mod native;
pub mod piranha;

pub use diagnostic::{ConfigError, Diagnostic, Severity};
pub use format::{Format, Loaded, detect, load, load_as, parse_str};
