//! A full connection table through the real director program: a new connection takes the place
//! of the least recently used entry the daemon's sweep offered, with the same accounting as an
//! expiry; an entry used since it was offered is never evicted; without offers the new
//! connection is dropped and counted.

mod common;

use std::time::Duration;

use common::*;
use rvs_dataplane::abi::*;
use rvs_wire::{builder::FrameBuilder, tcp::TcpFlags};

const CAPACITY: u32 = 64;

fn segment(env: &Env, sport: u16, flags: TcpFlags) -> u32 {
    let frame = FrameBuilder::tcp_v4(CLIENT_MAC, DIRECTOR_MAC, CLIENT, VIP, sport, 80, flags, b"").build();
    env.run(&frame).0
}

/// Connections bound to the seed's two real servers, active or not.
fn bound(env: &Env) -> i32 {
    [D_WS1, D_WS2].iter().map(|d| env.conns_of(*d)).map(|c| c.active + c.inactive).sum()
}

fn has_conn(env: &Env, sport: u16) -> bool {
    env.dp().connections().expect("conns").iter().any(|(k, _)| u16::from_be(k.sport) == sport)
}

/// Lets the coarse clock move on, so that a touched entry's timestamp differs.
fn tick() {
    std::thread::sleep(Duration::from_millis(30));
}

#[test]
fn a_full_table_makes_room_by_evicting_the_least_recently_used_entry() {
    require_root!();
    let env = Env::dr_cluster_of(CAPACITY);
    for i in 0..CAPACITY as u16 {
        assert_eq!(segment(&env, 10000 + i, TcpFlags::SYN), XDP_TX, "connection {i}");
    }
    // Full, and nothing offered yet: the new connection is dropped and counted.
    assert_eq!(segment(&env, 20000, TcpFlags::SYN), XDP_DROP);
    assert_eq!(env.stat(RvsStat::DropConnTableFull), 1);

    // Every connection but 10005 is used again; the sweep then offers the oldest first.
    tick();
    for i in (0..CAPACITY as u16).filter(|i| *i != 5) {
        assert_eq!(segment(&env, 10000 + i, TcpFlags::ACK), XDP_TX);
    }
    env.dp().sweep().expect("sweep");
    assert_eq!(segment(&env, 20001, TcpFlags::SYN), XDP_TX, "served in the evicted entry's place");
    assert_eq!(env.stat(RvsStat::ConnEvicted), 1);
    assert!(!has_conn(&env, 10005), "the least recently used went");
    assert!(has_conn(&env, 20001));
    assert_eq!(bound(&env), CAPACITY as i32, "the evicted connection's count went with it");

    // Everything offered is used again before a new connection comes: nothing is evicted.
    tick();
    for i in (0..CAPACITY as u16).filter(|i| *i != 5) {
        assert_eq!(segment(&env, 10000 + i, TcpFlags::ACK), XDP_TX);
    }
    assert_eq!(segment(&env, 20002, TcpFlags::SYN), XDP_DROP, "no idle candidate");
    assert_eq!(env.stat(RvsStat::ConnEvicted), 1);
    assert_eq!(env.stat(RvsStat::DropConnTableFull), 2);
    assert_eq!(env.dp().connections().expect("conns").len(), CAPACITY as usize);

    // The next sweep offers afresh: 20001, untouched since it was made, is now the oldest.
    env.dp().sweep().expect("sweep");
    assert_eq!(segment(&env, 20003, TcpFlags::SYN), XDP_TX);
    assert!(!has_conn(&env, 20001));
    assert_eq!(env.stat(RvsStat::ConnEvicted), 2);
    assert_eq!(bound(&env), CAPACITY as i32);
}
