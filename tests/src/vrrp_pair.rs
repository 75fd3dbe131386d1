//! Two routers on one switch for VRRP tests: rvsd on `rvs` (10.77.0.1), and Debian's keepalived
//! on `peer` (10.77.0.2). A [`HolderWatch`] samples which of them holds the VIP every 10 ms, so
//! that a test can check there was never more than one master.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rvs_lab::{Host, Lab, Process};

use crate::holders::HolderWatch;
use crate::rvsd::{Rvsd, socket_path};

/// The address both instances float.
pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 250);
/// Where keepalived is on Debian.
pub const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// One `vrrp_instance` block, as both rvsd and keepalived read it.
pub fn instance(version: u8, priority: u8, advert_int: &str, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n    \
         version {version}\n    advert_int {advert_int}\n{extra}    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// The two routers.
pub struct VrrpPair {
    pub rvs_host: Host,
    pub peer_host: Host,
    pub rvsd: Option<Rvsd>,
    pub keepalived: Option<Process>,
    watch: HolderWatch,
    dir: PathBuf,
    prefix: String,
    /// Declared last: dropped after the processes above.
    _lab: Lab,
}

fn holds(host: &Host) -> bool {
    host.has_ipv4(VIP).unwrap_or(false)
}

impl VrrpPair {
    /// Builds the lab; nothing runs yet.
    pub fn build() -> VrrpPair {
        crate::bins::require_all();
        let prefix = crate::lab_prefix();
        let lab = Lab::new(&prefix).unwrap_or_else(|e| panic!("lab {prefix}: {e}"));
        let rvs_host = lab.add_host("rvs").unwrap_or_else(|e| panic!("{e}"));
        let peer_host = lab.add_host("peer").unwrap_or_else(|e| panic!("{e}"));
        let lan = lab.add_switch("lan").unwrap_or_else(|e| panic!("{e}"));
        for (host, addr) in [(&rvs_host, "10.77.0.1/24"), (&peer_host, "10.77.0.2/24")] {
            lab.plug(&lan, host, "eth0").unwrap_or_else(|e| panic!("{e}"));
            host.add_addr("eth0", addr.parse().unwrap_or_else(|e| panic!("{e:?}"))).unwrap_or_else(|e| panic!("{e}"));
        }
        let dir = std::env::temp_dir().join(format!("rvs-e2e-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let watch = HolderWatch::start(vec![rvs_host.clone(), peer_host.clone()], VIP);
        VrrpPair {
            rvs_host,
            peer_host,
            rvsd: None,
            keepalived: None,
            watch,
            dir,
            prefix,
            _lab: lab,
        }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path.to_string_lossy().into_owned()
    }

    /// Starts rvsd on `rvs` with this configuration file text.
    pub fn start_rvsd(&mut self, config: &str) {
        let path = self.write("rvsd.conf", config);
        let socket = socket_path(&format!("{}-rvs", self.prefix));
        let rvsd = Rvsd::start(&self.rvs_host, "eth0", &socket, &format!("{}-rvs", self.prefix), &["--config", &path])
            .unwrap_or_else(|e| panic!("starting rvsd: {e:#}"));
        self.rvsd = Some(rvsd);
    }

    /// Stops rvsd on `rvs` (SIGTERM).
    pub fn stop_rvsd(&mut self) {
        if let Some(mut rvsd) = self.rvsd.take() {
            let status = rvsd.stop().unwrap_or_else(|e| panic!("stopping rvsd: {e}"));
            assert!(status.success(), "rvsd ended with {status}; its log:\n{}", rvsd.log());
        }
    }

    /// Starts keepalived on `peer` with this configuration file text (VRRP only, foreground).
    pub fn start_keepalived(&mut self, config: &str) {
        let path = self.write("keepalived.conf", config);
        let pid = self.dir.join("keepalived.pid").to_string_lossy().into_owned();
        let vrrp_pid = self.dir.join("vrrp.pid").to_string_lossy().into_owned();
        let process = self
            .peer_host
            .spawn("keepalived", KEEPALIVED, ["-n", "-l", "-D", "-P", "-f", &path, "-p", &pid, "-r", &vrrp_pid])
            .unwrap_or_else(|e| panic!("starting keepalived: {e}"));
        self.keepalived = Some(process);
    }

    /// Stops keepalived (SIGTERM: it sends priority 0 as master).
    pub fn stop_keepalived(&mut self) {
        if let Some(mut k) = self.keepalived.take() {
            let _ = k.stop(Duration::from_secs(10));
        }
    }

    /// keepalived's log so far.
    pub fn keepalived_log(&self) -> String {
        self.keepalived.as_ref().map(Process::log).unwrap_or_default()
    }

    /// rvsd's log so far.
    pub fn rvsd_log(&self) -> String {
        self.rvsd.as_ref().map(Rvsd::log).unwrap_or_default()
    }

    /// Waits until exactly the expected router holds the VIP (and the other not) in two
    /// samples in a row; returns how long it took. Panics with both logs after `within`.
    pub fn wait_holder(&self, rvs: bool, within: Duration) -> Duration {
        let start = Instant::now();
        let mut good = 0;
        loop {
            if holds(&self.rvs_host) == rvs && holds(&self.peer_host) != rvs {
                good += 1;
                if good == 2 {
                    return start.elapsed();
                }
            } else {
                good = 0;
            }
            assert!(
                start.elapsed() < within,
                "after {within:?} the VIP is not on {} alone\nrvsd:\n{}\nkeepalived:\n{}",
                if rvs { "rvs" } else { "peer" },
                self.rvsd_log(),
                self.keepalived_log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Checks that both never held the VIP for longer than `overlap` in a row; returns the
    /// longest time they did.
    pub fn assert_no_split_brain(&self, overlap: Duration) -> Duration {
        self.watch.assert_no_split_brain(overlap)
    }
}

impl Drop for VrrpPair {
    fn drop(&mut self) {
        self.stop_keepalived();
        if let Some(mut rvsd) = self.rvsd.take() {
            let _ = rvsd.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
