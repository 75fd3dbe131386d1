//! Seed 002 with a primary and a backup director running rvsd with `rvs lab up ha`'s
//! keepalived.conf (VRRPv3, `advert_int 0.1`, primary 150, backup 100, connection sync), real
//! HTTP servers, a client running a long download and a loop of short requests through the VIP,
//! and a watcher of who holds the VIP. Dropping it stops everything.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rvs_lab::topology::seed002_ha_conf::keepalived_conf;
use rvs_lab::topology::{Director, HaMode, Seed002Ha};
use rvs_lab::{HttpServer, Process};

use crate::holders::HolderWatch;
use crate::rvsd::{Rvsd, socket_path};

/// One short request of the loop.
#[derive(Debug, Clone)]
pub struct Request {
    pub started: Instant,
    pub ok: bool,
    pub detail: String,
}

/// The running cluster.
pub struct HaCluster {
    pub seed: Seed002Ha,
    pub primary: Option<Rvsd>,
    pub backup: Option<Rvsd>,
    _servers: Vec<HttpServer>,
    requests: Arc<Mutex<Vec<Request>>>,
    holders: Option<HolderWatch>,
    running: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    dir: std::path::PathBuf,
    prefix: String,
}

impl HaCluster {
    /// Builds the lab, serves HTTP on the real servers, starts the primary's rvsd, waits until
    /// it holds the VIP, then starts the backup's.
    pub fn start(mode: HaMode) -> HaCluster {
        crate::bins::require_all();
        let prefix = crate::lab_prefix();
        let seed = Seed002Ha::build(&prefix, mode).unwrap_or_else(|e| panic!("building seed 002 HA as {prefix}: {e}"));
        let dir = std::env::temp_dir().join(format!("rvs-e2e-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut servers = Vec::new();
        for (name, node) in seed.real_servers() {
            let server = node.host.serve_http(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)), name);
            servers.push(server.unwrap_or_else(|e| panic!("HTTP server on {name}: {e}")));
        }
        let mut cluster = HaCluster {
            seed,
            primary: None,
            backup: None,
            _servers: servers,
            requests: Arc::new(Mutex::new(Vec::new())),
            holders: None,
            running: Arc::new(AtomicBool::new(true)),
            threads: Vec::new(),
            dir,
            prefix,
        };
        cluster.start_rvsd(Director::Primary);
        cluster.wait_holder(Director::Primary, Duration::from_secs(5));
        cluster.start_rvsd(Director::Backup);
        let hosts = Director::BOTH.iter().map(|d| cluster.seed.director(*d).host.clone()).collect();
        cluster.holders = Some(HolderWatch::start(hosts, cluster.seed.vip));
        cluster
    }

    fn slot(&mut self, which: Director) -> &mut Option<Rvsd> {
        match which {
            Director::Primary => &mut self.primary,
            Director::Backup => &mut self.backup,
        }
    }

    /// Starts rvsd on a director.
    pub fn start_rvsd(&mut self, which: Director) {
        let mode = self.seed.mode;
        let path = self.dir.join(format!("{}.conf", which.name()));
        std::fs::write(&path, keepalived_conf(mode, which)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let instance = format!("{}-{}", self.prefix, which.name());
        let socket = socket_path(&instance);
        let path = path.to_string_lossy().into_owned();
        let mut extra = vec!["--config", path.as_str()];
        if mode == HaMode::Nat {
            extra.extend(["--interface", "eth1"]);
        }
        let host = self.seed.director(which).host.clone();
        let rvsd = Rvsd::start(&host, "eth0", &socket, &instance, &extra).unwrap_or_else(|e| panic!("rvsd on {}: {e:#}", which.name()));
        *self.slot(which) = Some(rvsd);
    }

    /// Stops a director's rvsd cleanly (SIGTERM).
    pub fn stop_rvsd(&mut self, which: Director) {
        if let Some(mut rvsd) = self.slot(which).take() {
            let status = rvsd.stop().unwrap_or_else(|e| panic!("stopping rvsd: {e}"));
            assert!(status.success(), "rvsd on {} ended with {status}:\n{}", which.name(), rvsd.log());
        }
    }

    /// Kills a director's rvsd with SIGKILL: no clean-up at all.
    pub fn kill_rvsd(&mut self, which: Director) {
        if let Some(rvsd) = self.slot(which).as_ref() {
            // SAFETY: kill(2) on the pid of a child this test started.
            unsafe { libc::kill(rvsd.pid() as i32, libc::SIGKILL) };
        }
        if let Some(mut rvsd) = self.slot(which).take() {
            let _ = rvsd.stop();
        }
    }

    /// The log of a director's rvsd, if it runs.
    pub fn log(&self, which: Director) -> String {
        match which {
            Director::Primary => self.primary.as_ref(),
            Director::Backup => self.backup.as_ref(),
        }
        .map(Rvsd::log)
        .unwrap_or_default()
    }

    /// Waits until `which` alone holds the VIP; returns how long that took.
    pub fn wait_holder(&self, which: Director, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            if self.seed.vip_holders().is_ok_and(|h| h == [which]) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "{} does not hold the VIP alone after {within:?}\nprimary:\n{}\nbackup:\n{}",
                which.name(),
                self.log(Director::Primary),
                self.log(Director::Backup)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Starts the loop of short requests (one at a time, each at most 2 s).
    pub fn start_request_loop(&mut self) {
        let (requests, running) = (self.requests.clone(), self.running.clone());
        let client = self.seed.client.host.clone();
        let url = format!("http://{}/", self.seed.vip);
        self.threads.push(std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                let started = Instant::now();
                let out = client.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", &url], Duration::from_secs(5));
                let (ok, detail) = match out {
                    Ok(o) => (o.status.success() && o.stdout.trim() == "200", format!("{} {}", o.stdout.trim(), o.stderr.trim())),
                    Err(e) => (false, e.to_string()),
                };
                if let Ok(mut r) = requests.lock() {
                    r.push(Request { started, ok, detail });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }));
    }

    /// The short requests started after `from` (and before `to`): how many, and the failures.
    pub fn requests_between(&self, from: Instant, to: Instant) -> (usize, Vec<Request>) {
        let all = self.requests.lock().map(|r| r.clone()).unwrap_or_default();
        let window: Vec<Request> = all.into_iter().filter(|r| r.started >= from && r.started < to).collect();
        let failed = window.iter().filter(|r| !r.ok).cloned().collect();
        (window.len(), failed)
    }

    /// Starts a download of `seconds` seconds at 256 KiB/s through the VIP.
    pub fn start_download(&self, seconds: u32) -> Process {
        let url = format!("http://{}/stream?seconds={seconds}&rate=262144", self.seed.vip);
        let max = (seconds + 20).to_string();
        self.seed
            .client
            .host
            .spawn("curl-stream", "curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}\n", "--max-time", &max, &url])
            .unwrap_or_else(|e| panic!("curl: {e}"))
    }

    /// Waits for a download and checks that it got every byte with no error.
    pub fn assert_download_complete(&self, mut download: Process, seconds: u32) {
        let status = download.wait_timeout(Duration::from_secs(u64::from(seconds) + 30)).unwrap_or_else(|e| panic!("{e}"));
        let log = download.log();
        let expected = u64::from(seconds) * 262_144;
        assert!(
            status.is_some_and(|s| s.success()) && log.contains(&format!("200 {expected}")),
            "the download broke ({status:?}): {log}\nprimary:\n{}\nbackup:\n{}",
            self.log(Director::Primary),
            self.log(Director::Backup)
        );
    }

    /// Checks that the two directors never held the VIP together for longer than `overlap`.
    pub fn assert_no_split_brain(&self, overlap: Duration) {
        let holders = self.holders.as_ref().unwrap_or_else(|| panic!("the holders are watched from start()"));
        holders.assert_no_split_brain(overlap);
    }
}

impl Drop for HaCluster {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        for which in Director::BOTH {
            if let Some(mut rvsd) = self.slot(which).take() {
                let _ = rvsd.stop();
            }
        }
        // A killed rvsd leaves its pins: remove them with the lab.
        for which in Director::BOTH {
            let _ = std::fs::remove_dir_all(std::path::Path::new(rvs_lab::BPF_PIN_ROOT).join(format!("{}-{}", self.prefix, which.name())));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
