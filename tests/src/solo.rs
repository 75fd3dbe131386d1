//! A director alone: one fresh network namespace, as the ipvs-oracle runs each golden case in
//! (only `lo` up, 127.0.0.0/8 local), plus a veth pair that stays down for rvsd to attach to.
//! The pair is not called `eth0`: ipvsadm's default sync interface is `eth0`, and the oracle
//! namespace has none (`--start-daemon master` must fail with "No such device").
//!
//! The kernel here has no `dummy` driver, hence a veth pair; generic XDP attaches to it down.

use std::path::PathBuf;

use rvs_lab::{Host, Lab};

use crate::rvsd::{Rvsd, lock_path, socket_path};

/// The interface rvsd runs on.
pub const SOLO_IF: &str = "xdp0";

/// The namespace and the paths of the rvsd that will run in it.
pub struct Solo {
    /// The lab (one host); taken down when this is dropped.
    pub lab: Lab,
    /// The host, called `director`.
    pub host: Host,
    /// Where its rvsd's control socket goes.
    pub socket: PathBuf,
}

impl Solo {
    /// Builds the namespace. Panics with the reason on failure.
    pub fn new() -> Solo {
        crate::bins::require_all();
        let prefix = crate::lab_prefix();
        let lab = Lab::new(&prefix).unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        let host = lab
            .add_host("director")
            .unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        host.ip(&[
            "link", "add", SOLO_IF, "type", "veth", "peer", "name", "xdp1",
        ])
        .unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        Solo {
            socket: socket_path(&prefix),
            lab,
            host,
        }
    }

    /// The instance name rvsd gets (a directory the lab's teardown also knows).
    pub fn instance(&self) -> String {
        format!("{}-director", self.lab.prefix())
    }

    /// Starts rvsd on [`SOLO_IF`] with `extra` arguments. Panics with its log on failure.
    pub fn start_rvsd(&self, extra: &[&str]) -> Rvsd {
        Rvsd::start(&self.host, SOLO_IF, &self.socket, &self.instance(), extra)
            .unwrap_or_else(|e| panic!("starting rvsd in {}: {e:#}", self.host.netns()))
    }
}

impl Default for Solo {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Solo {
    fn drop(&mut self) {
        if let Err(e) = self.lab.down() {
            eprintln!("taking lab {} down: {e}", self.lab.prefix());
        }
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
    }
}
