//! Network-namespace topologies for `rvs lab` and the end-to-end tests.
//!
//! A [`Lab`] is a set of network namespaces named `<prefix>-<host>` on this machine, joined by
//! veth links and by L2 switches (Linux bridges living in `<prefix>-sw-<name>` namespaces), so
//! the machine's own namespace is never touched and labs with different prefixes never collide.
//! Dropping the lab (or [`Lab::down`]) kills its processes and deletes its namespaces;
//! [`down_prefix`] does the same for a lab whose process has crashed.
//!
//! ```no_run
//! # fn main() -> Result<(), rvs_lab::LabError> {
//! use std::time::Duration;
//! use rvs_lab::topology::{DirectorVip, Seed000Dr};
//!
//! let seed = Seed000Dr::build("demo", DirectorVip::OnLanInterface)?;
//! let _web = seed.webserver1.host.serve_http("0.0.0.0:80".parse().unwrap(), "webserver1")?;
//! let out = seed.client.host.run("curl", ["-sS", "http://192.168.0.11/"], Duration::from_secs(5))?;
//! assert_eq!(out.check()?.stdout, "webserver1\n");
//! # Ok(()) }
//! ```
//!
//! Everything here needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod addr;
mod arp;
mod error;
mod ethtool;
mod host;
pub mod http;
mod ip;
mod lab;
mod names;
mod netns;
mod process;
mod run;
mod spawn;
mod sysctl;
mod teardown;
pub mod topology;

pub use addr::{Ipv4Cidr, MacAddr};
pub use arp::ArpReply;
pub use error::{LabError, Result};
pub use host::Host;
pub use http::{HttpServer, HttpServerError, ServeOptions, pattern_bytes, serve_http};
/// HTTP status codes, for [`ServeOptions::fail_with`].
pub use hyper::StatusCode;
pub use lab::{BRIDGE, Lab, Switch};
pub use names::{HostName, IfName, Prefix};
pub use netns::{NETNS_RUN_DIR, list_netns, netns_path, pids_in_netns, run_in_netns};
pub use process::Process;
pub use run::Output;
pub use sysctl::{ArpAnnounce, ArpIgnore, RpFilter, SysctlKey};
pub use teardown::{BPF_PIN_ROOT, DownReport, down_prefix, log_root};

/// Whether this process runs as root, which every lab operation needs.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// For unit tests that need root: `true` as root; otherwise panics, unless
/// `RVS_SKIP_ROOT_TESTS=1`, in which case it says the test was skipped and returns `false`.
#[cfg(test)]
pub(crate) fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("RVS_SKIP_ROOT_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED {test}: it needs root (RVS_SKIP_ROOT_TESTS=1)");
        return false;
    }
    panic!("{test} needs root; run as root or set RVS_SKIP_ROOT_TESTS=1 to skip it");
}
