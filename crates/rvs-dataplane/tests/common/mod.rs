//! A loaded director in a private instance, with a small DR cluster programmed into it, for
//! fixtures run through BPF_PROG_TEST_RUN (root only).

#![allow(dead_code)]

use std::{net::Ipv4Addr, time::Duration};

use aya::programs::{TestRun, TestRunOptions};
use rvs_dataplane::{
    Dataplane, DataplaneOptions,
    abi::*,
    program::{DestSpec, NeighSpec, Programmer, SchedSpec, ServiceSpec, TunnelSpec},
};
use rvs_wire::ethernet::EthernetAddress;

pub const XDP_DROP: u32 = 1;
pub const XDP_PASS: u32 = 2;
pub const XDP_TX: u32 = 3;
pub const XDP_REDIRECT: u32 = 4;

pub const CLIENT_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x10]);
pub const DIRECTOR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0xc8]);
pub const WS1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
pub const WS2_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x16];
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(172, 25, 254, 10);
pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 100);
pub const DIRECTOR_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 200);
pub const WS1: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 11);
pub const WS2: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 22);
/// test_run without a context runs as if received on the loopback device.
pub const TEST_RUN_IFINDEX: u32 = 1;

pub const SVC_TCP: u32 = 1;
pub const SVC_UDP: u32 = 2;
pub const D_WS1: u32 = 1;
pub const D_WS2: u32 = 2;
pub const D_UDP_WS1: u32 = 3;
pub const D_UDP_WS2: u32 = 4;
pub const N_WS1: u32 = 1;
pub const N_WS2: u32 = 2;

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// These tests need root (BPF, namespaces). Without it they fail, unless the developer says
/// `RVS_SKIP_ROOT_TESTS=1`, in which case they print SKIPPED (the convention of every root test
/// in this workspace; CI runs as root and never sets it).
#[macro_export]
macro_rules! require_root {
    () => {
        if !common::is_root() {
            assert!(
                std::env::var_os("RVS_SKIP_ROOT_TESTS").is_some(),
                "this test needs root (BPF and network namespaces); set RVS_SKIP_ROOT_TESTS=1 to skip it"
            );
            eprintln!("SKIPPED: needs root");
            return;
        }
    };
}

pub struct Env {
    pub dp: Option<Dataplane>,
    pub prog: Programmer,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(dp) = self.dp.take() {
            dp.teardown();
        }
    }
}

pub fn now() -> Duration {
    Duration::from_secs(1000)
}

impl Env {
    /// TCP 192.168.0.100:80 and UDP 192.168.0.100:53, each rr over ws1 then ws2 (so ws2, the
    /// newest, is first in the list as in IPVS), both reachable through the test-run interface.
    pub fn dr_cluster() -> Env {
        Self::dr_cluster_of(4096)
    }

    /// [`Env::dr_cluster`] with a connection table of `conn_max` entries.
    pub fn dr_cluster_of(conn_max: u32) -> Env {
        let mut env = Env::with_capacity(conn_max);
        env.neigh(N_WS1, WS1_MAC, TEST_RUN_IFINDEX);
        env.neigh(N_WS2, WS2_MAC, TEST_RUN_IFINDEX);
        env.dest(D_WS1, WS1, 80, SVC_TCP, N_WS1, 1);
        env.dest(D_WS2, WS2, 80, SVC_TCP, N_WS2, 1);
        env.dest(D_UDP_WS1, WS1, 53, SVC_UDP, N_WS1, 1);
        env.dest(D_UDP_WS2, WS2, 53, SVC_UDP, N_WS2, 1);
        env.service(SVC_TCP, 80, 6, SchedSpec::Ring { ring: vec![D_WS2, D_WS1], cursor: Some(0) }, vec![D_WS2, D_WS1]);
        env.service(SVC_UDP, 53, 17, SchedSpec::Ring { ring: vec![D_UDP_WS2, D_UDP_WS1], cursor: Some(0) }, vec![D_UDP_WS2, D_UDP_WS1]);
        env
    }

    /// A loaded director with nothing configured.
    pub fn empty() -> Env {
        Self::with_capacity(4096)
    }

    /// [`Env::empty`] with a connection table of `conn_max` entries.
    pub fn with_capacity(conn_max: u32) -> Env {
        let opts = DataplaneOptions {
            bpffs: "/sys/fs/bpf".into(),
            instance: format!("test-fx-{}-{}", std::process::id(), unique()),
            conn_max,
        };
        let dp = Dataplane::load(&opts).unwrap_or_else(|e| panic!("load: {e}"));
        Env { dp: Some(dp), prog: Programmer::default() }
    }

    pub fn dp(&self) -> &Dataplane {
        self.dp.as_ref().expect("loaded")
    }

    pub fn dp_mut(&mut self) -> &mut Dataplane {
        self.dp.as_mut().expect("loaded")
    }

    pub fn neigh(&mut self, slot: u32, mac: [u8; 6], ifindex: u32) {
        let spec = NeighSpec { dst_mac: mac, src_mac: DIRECTOR_MAC.0, ifindex, src_ip: DIRECTOR_IP, mtu: 1500 };
        self.prog.install_neigh(self.dp(), slot, Some(&spec)).expect("neigh");
    }

    pub fn dest_spec(addr: Ipv4Addr, port: u16, svc: u32, neigh: u32, weight: i32) -> DestSpec {
        DestSpec { addr, port, fwd: RVS_FWD_DROUTE, weight, overloaded: false, svc, neigh, tunnel: TunnelSpec::default(), thresholds: Default::default() }
    }

    pub fn dest(&mut self, slot: u32, addr: Ipv4Addr, port: u16, svc: u32, neigh: u32, weight: i32) {
        let spec = Self::dest_spec(addr, port, svc, neigh, weight);
        self.prog.install_dest(self.dp(), slot, &spec).expect("dest");
    }

    pub fn service(&mut self, slot: u32, port: u16, proto: u8, sched: SchedSpec, dests: Vec<u32>) {
        let spec = ServiceSpec { slot, addr: VIP, port, proto, sched, dests, one_packet: false, persistence: None, fwmark: None };
        let dp = self.dp.as_mut().expect("loaded");
        self.prog.install_service(dp, &spec, now()).expect("service");
    }

    /// Runs one frame; returns the verdict and the frame as it left the program.
    pub fn run(&self, frame: &[u8]) -> (u32, Vec<u8>) {
        let mut out = vec![0u8; frame.len() + 256];
        let r = self
            .dp()
            .director()
            .expect("director")
            .test_run(TestRunOptions { data_in: Some(frame), data_out: Some(&mut out), ..TestRunOptions::new() })
            .unwrap_or_else(|e| panic!("test_run of a {}-byte frame: {e:?}", frame.len()));
        out.truncate(r.data_size_out as usize);
        (r.return_value, out)
    }

    pub fn stat(&self, s: RvsStat) -> u64 {
        self.dp().verdict_counters().expect("stats").into_iter().find(|(k, _)| *k == s).map_or(0, |(_, v)| v)
    }

    pub fn conns_of(&self, slot: u32) -> RvsDestConns {
        self.prog.dest_conns(self.dp(), slot)
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The frame DR must produce from `input`: only the MAC addresses differ.
pub fn dr_rewritten(input: &[u8], real_mac: [u8; 6]) -> Vec<u8> {
    let mut out = input.to_vec();
    out[0..6].copy_from_slice(&real_mac);
    out[6..12].copy_from_slice(&DIRECTOR_MAC.0);
    out
}

/// A throwaway network namespace, deleted on drop.
pub struct TestNetns {
    pub name: String,
}

impl TestNetns {
    /// Creates it and runs each `ip -n <ns> …` / `ip netns exec <ns> …` setup line in it.
    pub fn new(tag: &str, setup: &[&str]) -> TestNetns {
        let name = format!("rvsfx-{tag}-{}-{}", std::process::id(), unique());
        let ns = TestNetns { name: name.clone() };
        sh(&format!("ip netns add {name}"));
        for line in setup {
            sh(&line.replace("{ns}", &name));
        }
        ns
    }

    /// Runs `f` on a thread that has entered the namespace (BPF test runs there resolve
    /// routes and neighbours in it).
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
                use std::os::fd::AsRawFd;
                // SAFETY: setns on a valid namespace descriptor, for this thread only.
                assert_eq!(unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) }, 0, "setns");
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }

    /// The MAC of `ifname` in the namespace.
    pub fn mac(&self, ifname: &str) -> [u8; 6] {
        let out = std::process::Command::new("ip")
            .args(["-n", &self.name, "-o", "link", "show", ifname])
            .output()
            .expect("ip link");
        let text = String::from_utf8_lossy(&out.stdout);
        let mac = text.split_whitespace().skip_while(|w| *w != "link/ether").nth(1).expect("link/ether");
        let mut b = [0u8; 6];
        for (i, part) in mac.split(':').enumerate() {
            b[i] = u8::from_str_radix(part, 16).expect("hex");
        }
        b
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

pub fn sh(cmd: &str) {
    let st = std::process::Command::new("sh").arg("-c").arg(cmd).status().expect("sh");
    assert!(st.success(), "{cmd}");
}
