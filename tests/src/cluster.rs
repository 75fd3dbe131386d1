//! Seed 000's DR cluster with the real rvsd: the namespaces, an HTTP server on each real
//! server, rvsd on the director's `eth0`, and what the tests do with it (curl the VIP from the
//! client, run rvsadm, read listings and counters). Dropping it stops rvsd with SIGTERM first
//! (so that it detaches and unpins), then takes the whole lab down, also after a failure.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rvs_lab::topology::{DirectorVip, Seed000Dr};
use rvs_lab::{Host, HttpServer};

use crate::listing::{DestRow, dest_rows};
use crate::rvsd::{Rvsd, lock_path, socket_path};

/// The VIP's web service.
pub const VIP_PORT: &str = "192.168.0.100:80";
/// webserver1's real-server address.
pub const WEB1: &str = "192.168.0.11:80";
/// webserver2's real-server address.
pub const WEB2: &str = "192.168.0.22:80";
/// Deadline for one curl (curl's own `--max-time` is 5 s).
const CURL_TIMEOUT: Duration = Duration::from_secs(15);

/// The running cluster.
pub struct DrCluster {
    /// The topology; its lab is taken down when the cluster is dropped.
    pub seed: Seed000Dr,
    /// rvsd on the director.
    pub rvsd: Rvsd,
    servers: Vec<HttpServer>,
    socket: PathBuf,
}

impl DrCluster {
    /// Builds seed 000 with the VIP on the director's `lo` (as `rvs lab` does), starts the
    /// web servers and rvsd. The table is empty. Panics with the reason on failure.
    pub fn start() -> DrCluster {
        Self::start_with(&[])
    }

    /// [`DrCluster::start`] with more rvsd options.
    pub fn start_with(rvsd_args: &[&str]) -> DrCluster {
        crate::bins::require_all();
        let prefix = crate::lab_prefix();
        let seed = Seed000Dr::build(&prefix, DirectorVip::OnLoopback)
            .unwrap_or_else(|e| panic!("building seed 000 as {prefix}: {e}"));
        let servers = seed
            .real_servers()
            .iter()
            .map(|(name, node)| {
                let listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80));
                node.host
                    .serve_http(listen, name)
                    .unwrap_or_else(|e| panic!("HTTP server on {name}: {e}"))
            })
            .collect();
        let socket = socket_path(&prefix);
        let instance = format!("{prefix}-director");
        let rvsd = Rvsd::start(&seed.director.host, "eth0", &socket, &instance, rvsd_args)
            .unwrap_or_else(|e| panic!("starting rvsd on {prefix}-director: {e:#}"));
        DrCluster {
            seed,
            rvsd,
            servers,
            socket,
        }
    }

    /// Starts a second HTTP server on `port` on each real server (answering its name too): the
    /// director sees ports only, so plain HTTP on 443 stands in for HTTPS.
    pub fn serve_also(&mut self, port: u16) {
        for (name, node) in self.seed.real_servers() {
            let listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            let server = node.host.serve_http(listen, name).unwrap_or_else(|e| panic!("HTTP server on {name}:{port}: {e}"));
            self.servers.push(server);
        }
    }

    /// The client host.
    pub fn client(&self) -> &Host {
        &self.seed.client.host
    }

    /// The lab's prefix.
    pub fn prefix(&self) -> &str {
        self.seed.lab.prefix().as_str()
    }

    /// Runs each line as rvsadm arguments; each must succeed.
    pub fn configure(&self, lines: &[&str]) {
        self.rvsd.configure(lines);
    }

    /// `curl -s --max-time 5 http://192.168.0.100<path>` from the client: the body, or a
    /// `(curl failed ...)` text that shows up in assertion messages.
    pub fn curl(&self, path: &str) -> String {
        self.curl_port(80, path)
    }

    /// [`DrCluster::curl`] to another port of the VIP.
    pub fn curl_port(&self, port: u16, path: &str) -> String {
        self.curl_from(None, port, path)
    }

    /// [`DrCluster::curl_port`] from `source`, another address of the client (`--interface`),
    /// or from its own.
    pub fn curl_from(&self, source: Option<&str>, port: u16, path: &str) -> String {
        let url = format!("http://192.168.0.100:{port}{path}");
        let mut args = vec!["-s", "--max-time", "5"];
        if let Some(source) = source {
            args.extend(["--interface", source]);
        }
        args.push(&url);
        match self.client().run("curl", args, CURL_TIMEOUT) {
            Ok(out) if out.success() => out.stdout,
            Ok(out) => format!("(curl failed: {} {})", out.status, out.stderr.trim()),
            Err(e) => format!("(curl failed: {e})"),
        }
    }

    /// Downloads `http://192.168.0.100<path>` from the client into /dev/null; returns the
    /// size curl received, or a `(curl failed ...)` text.
    pub fn download_size(&self, path: &str) -> Result<u64, String> {
        let url = format!("http://192.168.0.100{path}");
        let args = [
            "-s",
            "--max-time",
            "5",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            &url,
        ];
        match self.client().run("curl", args, CURL_TIMEOUT) {
            Ok(out) if out.success() => out
                .stdout
                .trim()
                .parse()
                .map_err(|_| format!("(curl printed {:?})", out.stdout)),
            Ok(out) => Err(format!(
                "(curl failed: {} {})",
                out.status,
                out.stderr.trim()
            )),
            Err(e) => Err(format!("(curl failed: {e})")),
        }
    }

    /// `n` requests for `/`, one after the other: who answered each (`webserver1`, ...).
    pub fn answers(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| self.curl("/").trim_end().to_owned())
            .collect()
    }

    /// `rvsadm -Ln`.
    pub fn listing(&self) -> String {
        self.rvsd.rvsadm_ok(&["-Ln"])
    }

    /// The real-server rows of `rvsadm -Ln`.
    pub fn dests(&self) -> Vec<DestRow> {
        dest_rows(&self.listing())
    }

    /// Polls `rvsadm -Ln` until `check` accepts its rows (at most `timeout`); returns the last
    /// listing and whether it was accepted.
    pub fn wait_for_listing(
        &self,
        timeout: Duration,
        check: impl Fn(&[DestRow]) -> bool,
    ) -> (String, bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let listing = self.listing();
            if check(&dest_rows(&listing)) {
                return (listing, true);
            }
            if Instant::now() > deadline {
                return (listing, false);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for DrCluster {
    fn drop(&mut self) {
        if let Err(e) = self.rvsd.stop() {
            eprintln!("stopping rvsd in lab {}: {e}", self.prefix());
        }
        self.servers.clear();
        if let Err(e) = self.seed.lab.down() {
            eprintln!("taking lab {} down: {e}", self.prefix());
        }
        for path in [self.socket.clone(), lock_path(&self.socket)] {
            let _ = std::fs::remove_file(path);
        }
    }
}
