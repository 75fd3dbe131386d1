//! The web console: piranha-gui's successor, served by rvsd (port 3636, localhost by default).
//!
//! An operator logs in with the password `rvs passwd` set, watches the cluster live (the table
//! as `rvsadm -Ln` shows it, each real server's health, VRRP, rate charts over the last hour) and
//! changes the configuration through forms: every change is validated, applied through the same
//! diff reload as the configuration file, and saved to that file.

pub mod auth;
pub mod backend;
pub mod forms;
pub mod history;
mod assets;
mod pages;
pub mod server;

pub use server::{Console, ConsoleConfig, start};
pub mod staged_file;
mod tls_cert;
