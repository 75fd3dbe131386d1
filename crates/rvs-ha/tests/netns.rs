//! rvs-ha against a real kernel, in a throwaway pair of network namespaces (needs root; set
//! `RVS_SKIP_ROOT_TESTS=1` to skip): host `a` owns and announces addresses, host `b` is its
//! neighbour on the same link and must learn them from the gratuitous ARPs alone.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rvs_ha::address::{AddressError, InterfaceAddress, Netlink, Released};
use rvs_ha::garp::{Announcer, GarpPolicy, GarpSocket};
use rvs_lab::{Host, Lab, MacAddr};

/// A MAC no interface of the lab has: the neighbour's entry is seeded with it.
const OLD_MAC: &str = "02:00:00:00:00:99";

fn root_or_skip(test: &str) -> bool {
    if rvs_lab::is_root() {
        return true;
    }
    if std::env::var("RVS_SKIP_ROOT_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED {test}: it needs root (RVS_SKIP_ROOT_TESTS=1)");
        return false;
    }
    panic!("{test} needs root; run as root or set RVS_SKIP_ROOT_TESTS=1 to skip it");
}

/// Two hosts joined by a veth pair: a:eth0 10.9.0.1/24 <-> b:eth0 10.9.0.2/24.
struct Pair {
    _lab: Lab,
    a: Host,
    b: Host,
}

fn pair() -> Pair {
    static N: AtomicU32 = AtomicU32::new(0);
    let prefix = format!("ha{:x}x{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let lab = Lab::new_replacing(&prefix).unwrap();
    let a = lab.add_host("a").unwrap();
    let b = lab.add_host("b").unwrap();
    lab.link(&a, "eth0", &b, "eth0").unwrap();
    a.add_addr("eth0", "10.9.0.1/24".parse().unwrap()).unwrap();
    b.add_addr("eth0", "10.9.0.2/24".parse().unwrap()).unwrap();
    Pair { _lab: lab, a, b }
}

/// Runs `f` with a netlink connection inside `host`'s namespace, on a runtime of its own.
fn in_host<T: Send>(host: &Host, f: impl AsyncFnOnce(Netlink) -> T + Send) -> T {
    host.run_in(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let netlink = Netlink::new().unwrap();
            f(netlink).await
        })
    })
    .unwrap()
}

/// `b`'s neighbour entry for `ip` on eth0: (MAC, state) as `ip neigh` prints them.
fn neighbour(b: &Host, ip: &str) -> Option<(MacAddr, String)> {
    let out = b.ip(&["neigh", "show", ip, "dev", "eth0"]).unwrap();
    let words: Vec<&str> = out.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "lladdr")?;
    Some((words.get(at + 1)?.parse().ok()?, words.last()?.to_string()))
}

fn addresses(host: &Host, ifname: &str) -> String {
    host.ip(&["-4", "-o", "addr", "show", "dev", ifname]).unwrap()
}

#[test]
fn a_gratuitous_arp_updates_the_neighbour_s_entry_without_it_asking() {
    if !root_or_skip("a_gratuitous_arp_updates_the_neighbour_s_entry_without_it_asking") {
        return;
    }
    let Pair { a, b, _lab } = pair();
    let a_mac = a.mac("eth0").unwrap();
    b.ip(&["neigh", "add", "10.9.0.254", "lladdr", OLD_MAC, "dev", "eth0", "nud", "stale"]).unwrap();
    assert_eq!(neighbour(&b, "10.9.0.254"), Some((OLD_MAC.parse().unwrap(), "STALE".into())));

    let sent = in_host(&a, async |netlink| {
        let link = netlink.link("eth0").await.unwrap();
        assert_eq!(link.mac.map(|m| m.0), Some(a_mac.octets()));
        assert!(link.arp && link.up);
        let announcer = Announcer::new(GarpSocket::open().unwrap(), &link, vec![Ipv4Addr::new(10, 9, 0, 254)]).unwrap();
        let task = announcer.spawn(GarpPolicy::MIN);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !task.is_finished() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        task.is_finished()
    });
    assert!(sent, "the one-round schedule did not finish");

    // The entry takes the new MAC from the request (sender == target IP) and stays STALE: it
    // was updated, not confirmed by an answer to a question b asked.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut entry = neighbour(&b, "10.9.0.254");
    while entry.as_ref().is_none_or(|(mac, _)| *mac != a_mac) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        entry = neighbour(&b, "10.9.0.254");
    }
    assert_eq!(entry, Some((a_mac, "STALE".into())), "b's entry for 10.9.0.254 after the gratuitous ARP");
}

#[test]
fn addresses_are_added_idempotently_and_only_ours_are_removed() {
    if !root_or_skip("addresses_are_added_idempotently_and_only_ours_are_removed") {
        return;
    }
    let Pair { a, _lab, .. } = pair();
    a.ip(&["link", "add", "x0", "type", "veth", "peer", "name", "x1"]).unwrap();
    a.add_addr("eth0", "10.9.0.253/24".parse().unwrap()).unwrap();
    a.add_addr("eth0", "10.9.0.252/25".parse().unwrap()).unwrap();
    a.add_addr("x0", "10.7.0.1/24".parse().unwrap()).unwrap();
    let fresh: InterfaceAddress = "10.9.0.254/24".parse().unwrap();

    in_host(&a, async |netlink| {
        let link = netlink.link("eth0").await.unwrap();

        // Not there: added (with rvs's protocol mark), and removed on release.
        let claim = netlink.claim(&link, fresh, None).await.unwrap();
        assert!(claim.is_ours());
        assert!(netlink.has_address(link.index, fresh).await.unwrap());
        let again = netlink.claim(&link, fresh, None).await.unwrap();
        assert!(again.is_ours(), "a marked address is recognised as rvs's");
        std::mem::forget(again); // as an rvsd that crashed would
        assert_eq!(netlink.release(claim).await.unwrap(), Released::Removed);
        assert!(!netlink.has_address(link.index, fresh).await.unwrap());

        // Removed behind our back: releasing says so and does not fail.
        let claim = netlink.claim(&link, fresh, Some("eth0:1")).await.unwrap();
        let shown = ip_here(&["-4", "-o", "addr", "show", "dev", "eth0"]);
        assert!(shown.contains("10.9.0.254/24") && shown.contains("eth0:1"), "{shown}");
        ip_here(&["addr", "del", "10.9.0.254/24", "dev", "eth0"]);
        assert_eq!(netlink.release(claim).await.unwrap(), Released::AlreadyGone);

        // There before: not ours, left in place.
        let existing: InterfaceAddress = "10.9.0.253/24".parse().unwrap();
        let claim = netlink.claim(&link, existing, None).await.unwrap();
        assert!(!claim.is_ours());
        assert_eq!(netlink.release(claim).await.unwrap(), Released::LeftInPlace);
        assert!(netlink.has_address(link.index, existing).await.unwrap());

        // Someone else's configuration: refused, naming it.
        let err = netlink.claim(&link, "10.9.0.252/24".parse().unwrap(), None).await.unwrap_err();
        assert!(matches!(err, AddressError::OtherPrefix { existing: 25, .. }), "{err}");
        let err = netlink.claim(&link, "10.7.0.1/24".parse().unwrap(), None).await.unwrap_err();
        assert!(matches!(&err, AddressError::InUseElsewhere { interface, .. } if interface == "x0"), "{err}");
        let err = netlink.claim(&link, fresh, Some("x0:1")).await.unwrap_err();
        assert!(matches!(err, AddressError::BadLabel { .. }), "{err}");
        let err = netlink.link("nosuch0").await.unwrap_err();
        assert!(matches!(&err, AddressError::NoSuchInterface(name) if name == "nosuch0"), "{err}");
    });
    let left = addresses(&a, "eth0");
    assert!(left.contains("10.9.0.253/24") && left.contains("10.9.0.252/25"), "{left}");
    assert!(!left.contains("10.9.0.254"), "{left}");
}

/// `ip <args>` in the calling thread's namespace (these run inside `in_host`).
fn ip_here(args: &[&str]) -> String {
    let out = std::process::Command::new("ip").args(args).output().unwrap();
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits (on the runtime) until the watch reports `want` down; returns how long that took.
async fn until_down(rx: &mut tokio::sync::watch::Receiver<rvs_core::links::Carrier>, want: &[&str]) -> Duration {
    let start = Instant::now();
    let matches = |c: &rvs_core::links::Carrier| c.down.iter().map(String::as_str).eq(want.iter().copied());
    let waited = tokio::time::timeout(Duration::from_secs(5), rx.wait_for(matches)).await.map(|r| r.is_ok());
    assert_eq!(waited, Ok(true), "the watch still holds {:?}, not {want:?} down", *rx.borrow());
    start.elapsed()
}

#[test]
fn the_carrier_watch_follows_a_cut_peer_and_an_interface_set_down() {
    if !root_or_skip("the_carrier_watch_follows_a_cut_peer_and_an_interface_set_down") {
        return;
    }
    let Pair { a, b, _lab } = pair();
    let names = vec!["eth0".to_owned(), "nosuch0".to_owned()];
    let (b2, a2) = (b.clone(), a.clone());
    in_host(&a, async move |netlink| {
        let eth0 = netlink.link("eth0").await.unwrap().index;
        let (_watch, mut rx) = rvs_ha::carrier::watch_carrier(&names).await.unwrap();
        assert_eq!(*rx.borrow(), rvs_core::links::Carrier { down: vec!["nosuch0".into()], up_indexes: vec![eth0], returns: 0 }, "a missing interface is down, eth0 is up");
        // The peer going down takes eth0's carrier: notified, not waited for the resync.
        b2.ip(&["link", "set", "eth0", "down"]).unwrap();
        let took = until_down(&mut rx, &["eth0", "nosuch0"]).await;
        assert!(took < rvs_ha::carrier::RESYNC, "{took:?}");
        assert!(rx.borrow().up_indexes.is_empty());
        b2.ip(&["link", "set", "eth0", "up"]).unwrap();
        until_down(&mut rx, &["nosuch0"]).await;
        assert_eq!(rx.borrow().returns, 1, "one return counted");
        a2.ip(&["link", "set", "eth0", "down"]).unwrap();
        until_down(&mut rx, &["eth0", "nosuch0"]).await;
        // Renamed while down, it is still the interface the watch follows.
        a2.ip(&["link", "set", "eth0", "name", "lan0"]).unwrap();
        a2.ip(&["link", "set", "lan0", "up"]).unwrap();
        until_down(&mut rx, &["nosuch0"]).await;
        assert_eq!((rx.borrow().returns, rx.borrow().up_indexes.clone()), (2, vec![eth0]));
    });
}
