//! Routers on a simulated link, in virtual time (see `sim` for the invariant checked after
//! every event).

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use super::sim::Sim;
use super::{LINK, MS100, v2, v3};
use crate::vrrp::{Output, Reason, State, VrrpConfig};

const SECOND: Duration = Duration::from_secs(1);

/// Master_Down_Interval of a v3 100 ms instance: 300 ms + (256 - priority) * 100 ms / 256.
fn mdi_v3_100ms(priority: u8) -> Duration {
    Duration::from_millis(300) + MS100 * (256 - u32::from(priority)) / 256
}

#[test]
fn two_routers_elect_by_priority() {
    let mut sim = Sim::new(vec![v3(100, 1, MS100), v3(200, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(2 * SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    assert_eq!(sim.state(0), State::Backup);
    // The higher priority's skew is shorter: it wins the race from startup.
    let up = sim.transitions_to(1, State::Master, sim.start);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].at, sim.start + mdi_v3_100ms(200));
    assert!(sim.transitions_to(0, State::Master, sim.start).is_empty());
    assert_eq!(sim.nodes[0].machine.current_master(), Some(sim.addr(1)));
}

#[test]
fn equal_priority_higher_address_wins() {
    let v6 = |host: u16| IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host));
    let configs = [
        (v3(100, 1, MS100), v3(100, 2, MS100)),
        (VrrpConfig { primary_addr: v6(0x200), ..v3(100, 1, MS100) }, VrrpConfig {
            primary_addr: v6(0x1ff),
            ..v3(100, 2, MS100)
        }),
    ];
    for (winner, (a, b)) in [1, 0].into_iter().zip(configs) {
        let mut sim = Sim::new(vec![a, b], LINK);
        sim.start_all();
        sim.run_for(2 * SECOND);
        assert_eq!(sim.assert_one_master(), winner);
        // Both timed out together; the loser stepped down when the winner's advert arrived.
        let loser = 1 - winner;
        let down = sim.transitions_to(loser, State::Backup, sim.start + SECOND / 100);
        assert_eq!(down.len(), 1);
        assert_eq!(down[0].at, sim.start + mdi_v3_100ms(100) + LINK);
        assert_eq!(down[0].reason, Reason::EqualPriorityHigherAddress { priority: 100, source: sim.addr(winner) });
    }
}

#[test]
fn master_death_backup_takes_over_after_exactly_master_down_interval() {
    // v3, 100 ms: 300 ms + 60.9375 ms skew at priority 100.
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(100, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 0);
    let crash = sim.now;
    sim.crash(0);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    let last = sim.last_received(1, crash + SECOND).unwrap();
    let up = sim.transitions_to(1, State::Master, crash);
    assert_eq!(up[0].at, last.at + Duration::from_nanos(360_937_500));
    assert_eq!(up[0].reason.to_string(), "master down: no advertisement for 360 ms");

    // v2, 1 s: 3 s + 156/256 s.
    let mut sim = Sim::new(vec![v2(200, 1), v2(100, 2)], LINK);
    sim.start_all();
    sim.run_for(10 * SECOND);
    let crash = sim.now;
    sim.crash(0);
    sim.run_for(10 * SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    let last = sim.last_received(1, crash + SECOND).unwrap();
    let up = sim.transitions_to(1, State::Master, crash);
    assert_eq!(up[0].at, last.at + Duration::from_nanos(3_609_375_000));
    assert_eq!(up[0].reason, Reason::MasterDown { silent_for: Duration::from_nanos(3_609_375_000) });
}

#[test]
fn shutdown_priority_zero_hands_over_after_skew_time_only() {
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(100, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    let t = sim.now;
    sim.with(0, |m, now| m.shutdown(now));
    assert_eq!(sim.nodes[0].sent.last(), Some(&(t, 0)));
    assert_eq!(sim.state(0), State::Stopped);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    let up = sim.transitions_to(1, State::Master, t);
    assert_eq!(up[0].at, t + LINK + Duration::from_nanos(60_937_500));
    assert_eq!(up[0].from, State::Backup);
    assert!(matches!(up[0].reason, Reason::MasterReleased { .. }));
}

#[test]
fn returning_higher_priority_preempts_after_its_down_timer() {
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(100, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    sim.crash(0);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    let back = sim.now;
    sim.restart(0);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 0);
    // It ignored the lower priority master and took over when its own down timer ran out.
    let up = sim.transitions_to(0, State::Master, back);
    assert_eq!(up[0].at, back + mdi_v3_100ms(200));
    assert_eq!(up[0].reason, Reason::Preempted { priority: 100, source: sim.addr(1) });
    let down = sim.transitions_to(1, State::Backup, back);
    assert_eq!(down[0].at, up[0].at + LINK);
    assert_eq!(down[0].reason, Reason::HigherPriority { priority: 200, source: sim.addr(0) });
}

#[test]
fn nopreempt_router_stays_backup_until_the_master_dies() {
    let a = VrrpConfig { preempt: false, ..v3(200, 1, MS100) };
    let mut sim = Sim::new(vec![a, v3(100, 2, MS100)], LINK);
    sim.start_node(1);
    sim.run_for(SECOND);
    sim.start_node(0);
    sim.run_for(5 * SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    assert!(sim.transitions_to(0, State::Master, sim.start).is_empty());
    let crash = sim.now;
    sim.crash(1);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 0);
    let last = sim.last_received(0, crash + SECOND).unwrap();
    assert_eq!(sim.transitions_to(0, State::Master, crash)[0].at, last.at + mdi_v3_100ms(200));
}

#[test]
fn preempt_delay_is_counted_from_the_first_lower_priority_advert() {
    let delay = 2 * SECOND;
    let a = VrrpConfig { preempt_delay: delay, ..v2(200, 1) };
    let mut sim = Sim::new(vec![a, v2(100, 2)], LINK);
    sim.start_node(1);
    sim.run_for(5 * SECOND);
    let t = sim.now;
    sim.start_node(0);
    sim.run_for(20 * SECOND);
    assert_eq!(sim.assert_one_master(), 0);

    let heard: Vec<_> = sim.nodes[0].received.iter().filter(|d| d.at >= t && d.from == 1).collect();
    let first = heard[0].at;
    // Adverts heard before the delay ran out were accepted; the down timer counts from the last.
    let last_accepted = heard.iter().rev().find(|d| d.at < first + delay).unwrap().at;
    let up = sim.transitions_to(0, State::Master, t);
    let mdi_200 = Duration::from_secs(3) + Duration::from_nanos(218_750_000);
    assert_eq!(up[0].at, last_accepted + mdi_200);
    assert!(up[0].at >= first + delay);
    // Without the delay it would have been master a whole down interval after starting.
    assert!(up[0].at > t + mdi_200 + SECOND);
    assert_eq!(up[0].reason, Reason::Preempted { priority: 100, source: sim.addr(1) });
}

#[test]
fn v3_backup_adopts_the_master_interval() {
    let fast = Duration::from_millis(200);
    let mut sim = Sim::new(vec![v3(200, 1, fast), v3(100, 2, SECOND)], LINK);
    sim.start_all();
    sim.run_for(10 * SECOND);
    assert_eq!(sim.assert_one_master(), 0);
    assert_eq!(sim.nodes[1].machine.master_adver_int(), fast);
    let crash = sim.now;
    sim.crash(0);
    sim.run_for(5 * SECOND);
    let last = sim.last_received(1, crash + SECOND).unwrap();
    // 3 * 200 ms + 156 * 200 ms / 256, not the 3.6 s its own 1 s interval would give.
    let up = sim.transitions_to(1, State::Master, crash);
    assert_eq!(up[0].at, last.at + Duration::from_nanos(721_875_000));
    // As master it advertises its own interval.
    let sent: Vec<_> = sim.nodes[1].sent.iter().filter(|(at, _)| *at >= up[0].at).collect();
    assert_eq!(sent[1].0 - sent[0].0, SECOND);
}

#[test]
fn fault_releases_and_recovery_preempts_again() {
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(100, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    let t = sim.now;
    sim.with(0, |m, now| m.set_fault(now, true, "eth1 down".into()));
    assert_eq!(sim.state(0), State::Fault);
    assert_eq!(sim.nodes[0].sent.last(), Some(&(t, 0)));
    sim.run_for(2 * SECOND);
    assert_eq!(sim.state(0), State::Fault);
    assert_eq!(sim.assert_one_master(), 1);
    assert_eq!(sim.transitions_to(1, State::Master, t)[0].at, t + LINK + Duration::from_nanos(60_937_500));
    // Silent while in fault.
    assert_eq!(sim.nodes[0].sent.last(), Some(&(t, 0)));
    assert_eq!(sim.transitions_to(0, State::Fault, t)[0].reason.to_string(), "fault: eth1 down");

    let clear = sim.now;
    sim.with(0, |m, now| m.set_fault(now, false, String::new()));
    assert_eq!(sim.state(0), State::Backup);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 0);
    assert_eq!(sim.transitions_to(0, State::Master, clear)[0].at, clear + mdi_v3_100ms(200));
}

#[test]
fn lowering_the_master_priority_lets_the_backup_preempt() {
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(150, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    let t = sim.now;
    sim.with(0, |m, now| m.set_priority(now, 100));
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    let last_high = sim.nodes[1].received.iter().rev().find(|d| d.priority == 200).unwrap().at;
    assert!(last_high <= t + LINK);
    let up = sim.transitions_to(1, State::Master, t);
    assert_eq!(up[0].at, last_high + mdi_v3_100ms(150));
    assert_eq!(up[0].reason, Reason::Preempted { priority: 100, source: sim.addr(0) });
    assert_eq!(
        sim.transitions_to(0, State::Backup, t)[0].reason,
        Reason::HigherPriority { priority: 150, source: sim.addr(1) }
    );
}

#[test]
fn partition_heals_to_one_master() {
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(100, 2, MS100)], Duration::from_millis(5));
    sim.start_all();
    sim.run_for(SECOND);
    sim.cut(1);
    sim.run_for(SECOND);
    assert_eq!(sim.state(1), State::Master); // split brain, as the protocol must
    let heal = sim.now;
    sim.reconnect(1);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 0);
    // Whichever advert crossed the link first, the lower one stepped down within one
    // interval + the link delay.
    let down = sim.transitions_to(1, State::Backup, heal);
    assert!(down[0].at <= heal + MS100 + Duration::from_millis(5));
    assert_eq!(down[0].reason, Reason::HigherPriority { priority: 200, source: sim.addr(0) });
    // Every advert the master heard from the lower one was answered at once.
    let heard: Vec<_> = sim.nodes[0].received.iter().filter(|d| d.at >= heal && d.priority == 100).collect();
    let noticed: Vec<_> = sim.nodes[0].other_outputs.iter().filter(|(at, _)| *at >= heal).collect();
    assert_eq!(heard.len(), noticed.len());
    for (d, (_, output)) in heard.iter().zip(noticed) {
        assert_eq!(*output, Output::LowerPriorityMaster { priority: 100, source: sim.addr(1) });
        assert!(sim.nodes[0].sent.contains(&(d.at, 200)));
    }
}

#[test]
fn three_routers() {
    let mut sim = Sim::new(vec![v3(100, 1, MS100), v3(150, 2, MS100), v3(200, 3, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 2);

    let crash = sim.now;
    sim.crash(2);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    let last = sim.last_received(1, crash + SECOND).unwrap();
    assert_eq!(sim.transitions_to(1, State::Master, crash)[0].at, last.at + mdi_v3_100ms(150));

    let back = sim.now;
    sim.restart(2);
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 2);
    assert_eq!(sim.transitions_to(2, State::Master, back)[0].at, back + mdi_v3_100ms(200));

    // On shutdown the next in priority has the shorter skew.
    let stop = sim.now;
    sim.with(2, |m, now| m.shutdown(now));
    sim.run_for(SECOND);
    assert_eq!(sim.assert_one_master(), 1);
    assert_eq!(
        sim.transitions_to(1, State::Master, stop)[0].at,
        stop + LINK + Duration::from_nanos(41_406_250)
    );
    assert!(sim.transitions_to(0, State::Master, sim.start).is_empty());
}

#[test]
#[should_panic(expected = "two settled masters")]
fn the_simulator_catches_two_masters() {
    // A backup that hears nothing (inbound VRRP filtered) takes over and stays master.
    let mut sim = Sim::new(vec![v3(200, 1, MS100), v3(100, 2, MS100)], LINK);
    sim.start_all();
    sim.run_for(SECOND);
    sim.deafen(1);
    sim.run_for(SECOND);
}
