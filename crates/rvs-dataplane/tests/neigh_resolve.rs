//! Next-hop resolution against a real kernel neighbour table (root; two namespaces).

use std::{net::Ipv4Addr, process::Command, time::Duration};

use rvs_dataplane::neigh::{Resolver, Route};

fn sh(cmd: &str) {
    let st = Command::new("sh").arg("-c").arg(cmd).status().expect("sh");
    assert!(st.success(), "{cmd}");
}

struct Netns(Vec<String>);
impl Drop for Netns {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn enter(ns: &str) {
    let f = std::fs::File::open(format!("/run/netns/{ns}")).expect("netns file");
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a valid netns fd, for this thread only.
    assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
}

#[test]
fn resolves_an_on_link_neighbour_by_probing() {
    if !nix_is_root() {
        assert!(std::env::var_os("RVS_SKIP_ROOT_TESTS").is_some(), "needs root; set RVS_SKIP_ROOT_TESTS=1 to skip");
        eprintln!("SKIPPED: needs root");
        return;
    }
    let a = format!("rvsnt-a-{}", std::process::id());
    let b = format!("rvsnt-b-{}", std::process::id());
    let _guard = Netns(vec![a.clone(), b.clone()]);
    sh(&format!("ip netns add {a} && ip netns add {b}"));
    sh(&format!("ip -n {a} link add eth0 type veth peer name eth0 netns {b}"));
    sh(&format!("ip -n {a} addr add 10.9.0.1/24 dev eth0 && ip -n {a} link set eth0 up"));
    sh(&format!("ip -n {b} addr add 10.9.0.2/24 dev eth0 && ip -n {b} link set eth0 up"));
    sh(&format!("ip -n {b} link set eth0 address 02:00:00:00:00:b2"));

    let ns = a.clone();
    let hop = std::thread::spawn(move || {
        enter(&ns);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        rt.block_on(async {
            let r = Resolver::new().expect("netlink");
            assert_eq!(r.route(Ipv4Addr::new(10, 9, 0, 1)).await.expect("route"), Route::Local);
            r.resolve(Ipv4Addr::new(10, 9, 0, 2), Duration::from_secs(3)).await.expect("resolve")
        })
    })
    .join()
    .expect("thread");
    let hop = hop.expect("not local");
    assert_eq!(hop.next_hop, Ipv4Addr::new(10, 9, 0, 2));
    assert_eq!(hop.dst_mac, Some([2, 0, 0, 0, 0, 0xb2]));
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
