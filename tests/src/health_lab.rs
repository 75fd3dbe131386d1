//! Seed 002's NAT cluster run from a configuration file (`rvsd --config`): HTTP servers the tests
//! stop, restart and break on the real servers, a sorry server, and the file rewritten and
//! reloaded while traffic runs. Dropping it stops rvsd, the servers and the lab, also after a
//! failure.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rvs_lab::topology::Seed002Nat;
use rvs_lab::topology::seed002::NAT_ROUTER;
use rvs_lab::{HttpServer, ServeOptions, StatusCode};

use crate::listing::{DestRow, dest_rows};
use crate::rvsd::{Rvsd, lock_path, socket_path};

/// Deadline of one curl (its own `--max-time` is 5 s).
const CURL_TIMEOUT: Duration = Duration::from_secs(15);

/// Which real server: 1 (10.0.0.100) or 2 (10.0.0.200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rs(pub u8);

/// The running cluster.
pub struct HealthLab {
    pub seed: Seed002Nat,
    pub rvsd: Rvsd,
    servers: BTreeMap<(Rs, u16), HttpServer>,
    socket: PathBuf,
    /// The configuration file rvsd reads.
    pub config: PathBuf,
    dir: PathBuf,
}

impl HealthLab {
    /// Builds seed 002, writes `config` to a file called `file_name`, serves HTTP on each real
    /// server's `ports` (named `realserver1`, `realserver2`) and a sorry server on realserver1's
    /// port 8081 (named `sorry`), then starts rvsd on both director interfaces with the NAT
    /// router and `--config`.
    pub fn start(file_name: &str, config: &str, ports: &[u16]) -> HealthLab {
        HealthLab::start_with(file_name, config, ports, &|_| Vec::new())
    }

    /// [`HealthLab::start`] with more rvsd arguments (the web console's, say), given the lab's
    /// directory for the files they name (it exists, and goes with the lab).
    pub fn start_with(file_name: &str, config: &str, ports: &[u16], more: &dyn Fn(&std::path::Path) -> Vec<String>) -> HealthLab {
        crate::bins::require_all();
        let prefix = crate::lab_prefix();
        let seed = Seed002Nat::build(&prefix).unwrap_or_else(|e| panic!("building seed 002 as {prefix}: {e}"));
        let dir = std::env::temp_dir().join(format!("rvs-e2e-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let path = dir.join(file_name);
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        let socket = socket_path(&prefix);
        let nat_router = NAT_ROUTER.to_string();
        let config_arg = path.to_string_lossy().into_owned();
        let more = more(&dir);
        let mut extra = vec!["--interface", "eth1", "--nat-router", &nat_router, "--nat-router-interface", "eth1", "--config", &config_arg];
        extra.extend(more.iter().map(String::as_str));
        let mut lab = HealthLab {
            rvsd: Rvsd::start(&seed.director.host, "eth0", &socket, &format!("{prefix}-director"), &extra)
                .unwrap_or_else(|e| panic!("starting rvsd: {e:#}")),
            seed,
            servers: BTreeMap::new(),
            socket,
            config: path,
            dir,
        };
        for rs in [Rs(1), Rs(2)] {
            for port in ports {
                lab.serve(rs, *port);
            }
        }
        let sorry = lab.host(Rs(1)).serve_http(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8081)), "sorry");
        lab.servers.insert((Rs(1), 8081), sorry.unwrap_or_else(|e| panic!("sorry server: {e}")));
        lab
    }

    fn host(&self, rs: Rs) -> &rvs_lab::Host {
        match rs {
            Rs(1) => &self.seed.realserver1.host,
            _ => &self.seed.realserver2.host,
        }
    }

    fn name(rs: Rs) -> String {
        format!("realserver{}", rs.0)
    }

    /// The real server's address and `port`, as `-Ln` lists it.
    pub fn addr(rs: Rs, port: u16) -> String {
        let ip = if rs == Rs(1) { "10.0.0.100" } else { "10.0.0.200" };
        format!("{ip}:{port}")
    }

    /// (Re)starts the real server's HTTP server on `port`.
    pub fn serve(&mut self, rs: Rs, port: u16) {
        self.serve_with(rs, port, ServeOptions::default());
    }

    /// Replaces the real server's HTTP server on `port` by one that answers `status` to all.
    pub fn break_with(&mut self, rs: Rs, port: u16, status: StatusCode) {
        self.serve_with(rs, port, ServeOptions { fail_with: Some(status), ..ServeOptions::default() });
    }

    fn serve_with(&mut self, rs: Rs, port: u16, options: ServeOptions) {
        self.servers.remove(&(rs, port));
        let listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let server = self.host(rs).serve_http_with(listen, &Self::name(rs), options);
        self.servers.insert((rs, port), server.unwrap_or_else(|e| panic!("HTTP server on {rs:?}:{port}: {e}")));
    }

    /// Stops the real server's HTTP server on `port` (connections are refused).
    pub fn stop_server(&mut self, rs: Rs, port: u16) {
        self.servers.remove(&(rs, port));
    }

    /// `curl -s --max-time 5 http://192.168.1.250/`: the body, or `(curl failed …)`.
    pub fn curl(&self) -> String {
        let url = format!("http://{}/", self.seed.vip);
        match self.seed.client.host.run("curl", ["-s", "--max-time", "5", &url], CURL_TIMEOUT) {
            Ok(out) if out.success() => out.stdout.trim_end().to_owned(),
            Ok(out) => format!("(curl failed: {} {})", out.status, out.stderr.trim()),
            Err(e) => format!("(curl failed: {e})"),
        }
    }

    /// `n` requests one after the other: who answered each.
    pub fn answers(&self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.curl()).collect()
    }

    /// `rvsadm -Ln`.
    pub fn listing(&self) -> String {
        self.rvsd.rvsadm_ok(&["-Ln"])
    }

    /// Polls `-Ln` every 50 ms until `check` accepts its rows; returns the last listing, how
    /// long it took, and whether it was accepted within `timeout`.
    pub fn wait_for(&self, timeout: Duration, check: impl Fn(&[DestRow]) -> bool) -> (String, Duration, bool) {
        let start = Instant::now();
        loop {
            let listing = self.listing();
            if check(&dest_rows(&listing)) {
                return (listing, start.elapsed(), true);
            }
            if start.elapsed() > timeout {
                return (listing, start.elapsed(), false);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Rewrites the configuration file (rvsd reads it at the next reload).
    pub fn rewrite(&self, config: &str) {
        std::fs::write(&self.config, config).unwrap_or_else(|e| panic!("writing {}: {e}", self.config.display()));
    }

    /// Sends rvsd SIGHUP.
    pub fn sighup(&self) {
        // SAFETY: kill(2) on the pid of our own child.
        let r = unsafe { libc::kill(self.rvsd.pid() as libc::pid_t, libc::SIGHUP) };
        assert_eq!(r, 0, "kill -HUP rvsd: {}", std::io::Error::last_os_error());
    }
}

/// The weight of `addr` in `rows`, `None` when it is not listed.
pub fn weight_of(rows: &[DestRow], addr: &str) -> Option<i64> {
    rows.iter().find(|r| r.addr == addr).map(|r| r.weight)
}

impl Drop for HealthLab {
    fn drop(&mut self) {
        if let Err(e) = self.rvsd.stop() {
            eprintln!("stopping rvsd: {e}");
        }
        self.servers.clear();
        if let Err(e) = self.seed.lab.down() {
            eprintln!("taking the lab down: {e}");
        }
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
