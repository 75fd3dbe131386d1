//! One machine, driven by hand.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::{MS100, ip, v2, v3};
use crate::vrrp::{
    Advert, ConfigError, ConfigWarning, Discard, InitialState, Machine, Output, Reason, State, Timer, Version,
    VrrpConfig,
};

fn outputs(m: &mut Machine) -> Vec<Output> {
    std::iter::from_fn(|| m.poll_output()).collect()
}

fn advert(priority: u8, host: u8, advert_int: Duration) -> Advert {
    Advert { priority, advert_int, source: ip(host) }
}

#[test]
fn owner_with_state_master_sends_then_becomes_master() {
    let now = Instant::now();
    let mut m = Machine::new(VrrpConfig::new(1, 255, ip(1))).unwrap();
    assert_eq!(m.state(), State::Init);
    m.start(now);
    assert_eq!(
        outputs(&mut m),
        vec![
            Output::Send { priority: 255 },
            Output::Transition { from: State::Init, to: State::Master, reason: Reason::AddressOwner },
        ]
    );
    assert_eq!(m.timer(), Some((Timer::Advert, now + Duration::from_secs(1))));
}

#[test]
fn owner_with_state_backup_waits_the_down_interval() {
    let now = Instant::now();
    let mut m = Machine::new(v2(255, 1)).unwrap();
    m.start(now);
    assert_eq!(m.state(), State::Backup);
    assert_eq!(m.poll_timeout(), Some(now + Duration::from_secs(3) + Duration::from_nanos(3_906_250)));
}

#[test]
fn state_master_below_owner_listens_one_interval_first() {
    let now = Instant::now();
    let config = VrrpConfig { initial: InitialState::Master, ..v3(100, 1, MS100) };
    let mut m = Machine::new(config).unwrap();
    m.start(now);
    assert_eq!(
        outputs(&mut m),
        vec![Output::Transition { from: State::Init, to: State::Backup, reason: Reason::Startup }]
    );
    // One interval + the smallest skew (100 ms / 256).
    let due = now + MS100 + Duration::from_nanos(390_625);
    assert_eq!(m.poll_timeout(), Some(due));
    m.handle_timeout(due - Duration::from_nanos(1));
    assert_eq!(m.state(), State::Backup);
    m.handle_timeout(due);
    let out = outputs(&mut m);
    assert_eq!(out[0], Output::Send { priority: 100 });
    assert!(matches!(&out[1], Output::Transition { to: State::Master, reason: Reason::InitialMaster { .. }, .. }));

    // A higher master heard in that window holds it back for a whole down interval.
    let config = VrrpConfig { initial: InitialState::Master, ..v3(100, 1, MS100) };
    let mut m = Machine::new(config).unwrap();
    m.start(now);
    let t = now + Duration::from_millis(50);
    m.handle_advert(t, &advert(150, 2, MS100));
    assert_eq!(m.poll_timeout(), Some(t + m.master_down_interval()));
}

#[test]
fn config_errors_and_keepalived_resets() {
    let bad = |c: VrrpConfig| Machine::new(c).unwrap_err();
    assert_eq!(bad(VrrpConfig::new(0, 100, ip(1))), ConfigError::Vrid);
    assert_eq!(bad(VrrpConfig::new(1, 0, ip(1))), ConfigError::Priority);
    assert!(matches!(
        bad(VrrpConfig { advert_int: Duration::from_millis(1500), ..v2(100, 1) }),
        ConfigError::AdvertInt { .. }
    ));
    assert!(matches!(bad(v3(100, 1, Duration::from_millis(5))), ConfigError::AdvertInt { .. }));
    assert!(matches!(bad(v3(100, 1, Duration::from_millis(15))), ConfigError::AdvertInt { .. }));
    assert_eq!(bad(VrrpConfig::new(1, 100, IpAddr::V6(Ipv6Addr::LOCALHOST))), ConfigError::V2Ipv6);
    assert_eq!(bad(VrrpConfig { down_timer_adverts: 0, ..v2(100, 1) }), ConfigError::DownTimerAdverts(0));
    assert!(Machine::new(v3(100, 1, Duration::from_millis(40_950))).is_ok());

    let m = Machine::new(VrrpConfig { preempt: false, ..VrrpConfig::new(1, 255, ip(1)) }).unwrap();
    assert_eq!(m.warnings(), [ConfigWarning::NopreemptOwner]);
    assert!(m.config().preempt);
    let m = Machine::new(VrrpConfig {
        initial: InitialState::Master,
        preempt_delay: Duration::from_secs(5),
        ..v2(100, 1)
    })
    .unwrap();
    assert_eq!(m.warnings(), [ConfigWarning::PreemptDelayInitialMaster]);
    let m = Machine::new(VrrpConfig { preempt: false, preempt_delay: Duration::from_secs(5), ..v2(100, 1) }).unwrap();
    assert_eq!(m.warnings(), [ConfigWarning::PreemptDelayNopreempt]);
    assert_eq!(m.config().preempt_delay, Duration::ZERO);
}

#[test]
fn v2_interval_mismatch_and_own_address_are_discarded() {
    let now = Instant::now();
    let mut m = Machine::new(v2(100, 1)).unwrap();
    m.start(now);
    outputs(&mut m);
    let before = m.poll_timeout();
    m.handle_advert(now, &advert(200, 2, Duration::from_secs(2)));
    assert_eq!(
        outputs(&mut m),
        vec![Output::Discarded {
            source: ip(2),
            reason: Discard::IntervalMismatch { ours: Duration::from_secs(1), theirs: Duration::from_secs(2) },
        }]
    );
    m.handle_advert(now, &advert(200, 1, Duration::from_secs(1)));
    assert_eq!(outputs(&mut m), vec![Output::Discarded { source: ip(1), reason: Discard::OwnAddress }]);
    assert_eq!(m.poll_timeout(), before);
}

#[test]
fn master_answers_lower_priority_unless_told_not_to() {
    for quiet in [false, true] {
        let now = Instant::now();
        let mut m = Machine::new(VrrpConfig { lower_prio_no_advert: quiet, ..VrrpConfig::new(1, 255, ip(1)) }).unwrap();
        m.start(now);
        outputs(&mut m);
        let t = now + Duration::from_millis(300);
        m.handle_advert(t, &advert(100, 2, Duration::from_secs(1)));
        let mut expected = vec![Output::LowerPriorityMaster { priority: 100, source: ip(2) }];
        if !quiet {
            expected.push(Output::Send { priority: 255 });
        }
        assert_eq!(outputs(&mut m), expected);
        let next = if quiet { now } else { t } + Duration::from_secs(1);
        assert_eq!(m.poll_timeout(), Some(next));
        assert_eq!(m.state(), State::Master);
    }
}

#[test]
fn master_answers_priority_zero_at_once() {
    let now = Instant::now();
    let mut m = Machine::new(VrrpConfig::new(1, 255, ip(1))).unwrap();
    m.start(now);
    outputs(&mut m);
    let t = now + Duration::from_millis(700);
    m.handle_advert(t, &advert(0, 2, Duration::from_secs(1)));
    assert_eq!(outputs(&mut m), vec![Output::Send { priority: 255 }]);
    assert_eq!(m.poll_timeout(), Some(t + Duration::from_secs(1)));
}

#[test]
fn higher_prio_send_advert_sends_before_stepping_down() {
    let now = Instant::now();
    let config = VrrpConfig { higher_prio_send_advert: true, initial: InitialState::Master, ..v3(100, 1, MS100) };
    let mut m = Machine::new(config).unwrap();
    m.start(now);
    m.handle_timeout(now + Duration::from_secs(1));
    outputs(&mut m);
    let t = now + Duration::from_secs(2);
    m.handle_advert(t, &advert(200, 2, Duration::from_millis(50)));
    let out = outputs(&mut m);
    assert_eq!(out[0], Output::Send { priority: 100 });
    assert_eq!(
        out[1],
        Output::Transition {
            from: State::Master,
            to: State::Backup,
            reason: Reason::HigherPriority { priority: 200, source: ip(2) },
        }
    );
    assert_eq!(m.master_adver_int(), Duration::from_millis(50));
    assert_eq!(m.current_master(), Some(ip(2)));
    assert_eq!(m.poll_timeout(), Some(t + Duration::from_millis(150) + Duration::from_nanos(30_468_750)));
}

#[test]
fn set_priority_clamps_and_never_touches_the_owner() {
    let now = Instant::now();
    let mut owner = Machine::new(VrrpConfig::new(1, 255, ip(1))).unwrap();
    owner.set_priority(now, 10);
    assert_eq!(owner.effective_priority(), 255);

    let mut m = Machine::new(v2(100, 1)).unwrap();
    m.set_priority(now, 255);
    assert_eq!(m.effective_priority(), 254);
    m.set_priority(now, 0);
    assert_eq!(m.effective_priority(), 1);

    // A backup's down timer moves with the skew.
    m.set_priority(now, 100);
    m.start(now);
    let due = m.poll_timeout().unwrap();
    m.set_priority(now, 228);
    assert_eq!(m.poll_timeout(), Some(due - Duration::from_millis(500)));
}

#[test]
fn fault_before_start_and_stopped_ignores_everything() {
    let now = Instant::now();
    let mut m = Machine::new(VrrpConfig::new(1, 255, ip(1))).unwrap();
    m.set_fault(now, true, "eth1 down".into());
    m.start(now);
    assert_eq!(
        outputs(&mut m),
        vec![Output::Transition { from: State::Init, to: State::Fault, reason: Reason::Fault("eth1 down".into()) }]
    );
    assert_eq!(m.poll_timeout(), None);
    m.handle_advert(now, &advert(100, 2, Duration::from_secs(1)));
    assert!(outputs(&mut m).is_empty());
    // The owner with state MASTER leaves fault straight to master.
    m.set_fault(now, false, String::new());
    let out = outputs(&mut m);
    assert_eq!(out[0], Output::Send { priority: 255 });
    assert_eq!(out[1], Output::Transition { from: State::Fault, to: State::Master, reason: Reason::FaultCleared });

    m.shutdown(now);
    assert_eq!(
        outputs(&mut m),
        vec![
            Output::Send { priority: 0 },
            Output::Transition { from: State::Master, to: State::Stopped, reason: Reason::Shutdown },
        ]
    );
    m.start(now);
    m.set_fault(now, true, "x".into());
    m.handle_advert(now, &advert(100, 2, Duration::from_secs(1)));
    m.handle_timeout(now + Duration::from_secs(60));
    assert!(outputs(&mut m).is_empty());
    assert_eq!(m.state(), State::Stopped);
    assert_eq!(m.poll_timeout(), None);

    let mut backup = Machine::new(v2(100, 1)).unwrap();
    backup.start(now);
    outputs(&mut backup);
    backup.shutdown(now);
    assert_eq!(
        outputs(&mut backup),
        vec![Output::Transition { from: State::Backup, to: State::Stopped, reason: Reason::Shutdown }]
    );
}

#[test]
fn reasons_read_well() {
    let r = Reason::MasterDown { silent_for: Duration::from_nanos(360_937_500) };
    assert_eq!(r.to_string(), "master down: no advertisement for 360 ms");
    let r = Reason::HigherPriority { priority: 150, source: ip(10) };
    assert_eq!(r.to_string(), "higher priority 150 from 10.0.0.10");
    let r = Reason::Preempted { priority: 100, source: ip(20) };
    assert_eq!(r.to_string(), "preempted lower priority 100 from 10.0.0.20");
    assert_eq!(Reason::Fault("eth1 down".into()).to_string(), "fault: eth1 down");
    assert_eq!(Version::V3, v3(1, 1, MS100).version);
}
