//! The login throttle in virtual time.

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn the_delays_are_0_0_1_2_4_8_and_then_capped_at_60_seconds() {
    let delays: Vec<u64> = (1..=10).map(|n| delay_after(n).as_secs()).collect();
    assert_eq!(delays, [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(delay_after(0), Duration::ZERO);
    assert_eq!(delay_after(u32::MAX), MAX_DELAY);
}

#[test]
fn failures_in_a_row_cost_more_and_more_and_block_the_source_meanwhile() {
    let mut throttle = LoginThrottle::new();
    let a = ip("192.0.2.1");
    let t0 = Instant::now();
    let mut t = t0;
    let mut delays = Vec::new();
    let mut last = t0;
    for _ in 0..5 {
        assert_eq!(throttle.check(a, t), Ok(()));
        last = t;
        let delay = throttle.failed(a, t);
        delays.push(delay.as_secs());
        // The server waits the delay, answers, and the next attempt comes a second later.
        t += delay + secs(1);
    }
    assert_eq!(delays, [0, 0, 1, 2, 4], "the fifth wrong password waits 4 s");
    // Another attempt during the fifth failure's 4 s is refused with the time left.
    let fifth = last;
    assert_eq!(throttle.check(a, fifth), Err(secs(4)));
    assert_eq!(throttle.check(a, fifth + secs(1)), Err(secs(3)));
    assert_eq!(throttle.check(a, fifth + Duration::from_millis(3500)), Err(Duration::from_millis(500)));
    assert_eq!(throttle.check(a, fifth + secs(4)), Ok(()));
    // Other sources are not affected.
    assert_eq!(throttle.check(ip("192.0.2.2"), fifth), Ok(()));
    assert_eq!(throttle.failed(ip("192.0.2.2"), fifth), Duration::ZERO);
}

#[test]
fn a_success_forgets_the_source() {
    let mut throttle = LoginThrottle::new();
    let a = ip("192.0.2.1");
    let t0 = Instant::now();
    for i in 0..4 {
        throttle.failed(a, t0 + secs(10 * i));
    }
    throttle.succeeded(a);
    assert!(throttle.is_empty());
    assert_eq!(throttle.check(a, t0 + secs(31)), Ok(()));
    assert_eq!(throttle.failed(a, t0 + secs(40)), Duration::ZERO);
}

#[test]
fn failures_are_forgotten_15_minutes_after_the_last_one() {
    let mut throttle = LoginThrottle::new();
    let a = ip("2001:db8::1");
    let t0 = Instant::now();
    for i in 0..3 {
        throttle.failed(a, t0 + secs(i));
    }
    // 14 min 59 s after the last failure the count still stands: the 4th failure costs 2 s.
    let last = t0 + secs(2);
    assert_eq!(throttle.failed(a, last + secs(15 * 60 - 1)), secs(2));
    // 15 minutes after that one, the next failure is a first one again.
    let last = last + secs(15 * 60 - 1);
    assert_eq!(throttle.check(a, last + FORGET_AFTER), Ok(()));
    assert!(throttle.is_empty(), "check removed the forgotten source");
    throttle.failed(a, last);
    throttle.failed(a, last);
    assert_eq!(throttle.failed(a, last + FORGET_AFTER), Duration::ZERO);
}

#[test]
fn ipv6_sources_are_their_64_prefix_and_mapped_ipv4_is_ipv4() {
    let mut throttle = LoginThrottle::new();
    let t0 = Instant::now();
    throttle.failed(ip("2001:db8:1:2::1"), t0);
    throttle.failed(ip("2001:db8:1:2:ffff::9"), t0);
    assert_eq!(throttle.failed(ip("2001:db8:1:2::abcd"), t0), secs(1), "one /64, third failure");
    assert_eq!(throttle.failed(ip("2001:db8:1:3::1"), t0), Duration::ZERO, "another /64");

    throttle.failed(ip("198.51.100.7"), t0);
    throttle.failed(ip("::ffff:198.51.100.7"), t0);
    assert_eq!(throttle.failed(ip("198.51.100.7"), t0), secs(1));
    assert_eq!(throttle.len(), 3);
}

#[test]
fn a_full_table_forgets_the_oldest_source_first() {
    let mut throttle = LoginThrottle::with_max_sources(3);
    let t0 = Instant::now();
    let [a, b, c, d] = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"].map(ip);
    for _ in 0..3 {
        throttle.failed(a, t0);
    }
    throttle.failed(b, t0 + secs(1));
    throttle.failed(c, t0 + secs(2));
    throttle.failed(a, t0 + secs(3)); // a's last failure is now the newest: b is the oldest
    throttle.failed(d, t0 + secs(4));
    assert_eq!(throttle.len(), 3);
    assert_eq!(throttle.failed(a, t0 + secs(100)), secs(4), "a kept its count (5th failure)");
    throttle.failed(b, t0 + secs(101)); // b was forgotten; c is now the oldest and goes
    assert_eq!(throttle.failed(b, t0 + secs(102)), Duration::ZERO, "b starts again at 2");
    assert_eq!(throttle.failed(c, t0 + secs(103)), Duration::ZERO);
}

#[test]
fn a_full_table_drops_forgotten_sources_before_live_ones() {
    let mut throttle = LoginThrottle::with_max_sources(2);
    let t0 = Instant::now();
    let [a, b, c] = ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map(ip);
    throttle.failed(a, t0);
    for _ in 0..3 {
        throttle.failed(b, t0 + FORGET_AFTER);
    }
    throttle.failed(c, t0 + FORGET_AFTER + secs(1));
    assert_eq!(throttle.len(), 2);
    assert_eq!(throttle.failed(b, t0 + FORGET_AFTER + secs(2)), secs(2), "b kept its count");
}

#[test]
fn the_default_table_holds_4096_sources() {
    let mut throttle = LoginThrottle::new();
    let t0 = Instant::now();
    for i in 0..=MAX_SOURCES as u32 {
        let source = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        throttle.failed(source, t0 + Duration::from_millis(u64::from(i)));
    }
    assert_eq!(throttle.len(), MAX_SOURCES);
    // The first source (10.0.0.0) was forgotten to make room for the last one.
    assert_eq!(throttle.failed(ip("10.0.0.0"), t0 + secs(10)), Duration::ZERO);
}

#[test]
fn one_attempt_per_source_at_a_time() {
    let mut throttle = LoginThrottle::new();
    let t0 = Instant::now();
    let [a, b] = ["192.0.2.1", "192.0.2.2"].map(ip);
    assert_eq!(throttle.begin(a, t0), Ok(()));
    assert_eq!(throttle.begin(a, t0), Err(IN_FLIGHT_WAIT), "a second guess while the first is checked");
    assert_eq!(throttle.begin(b, t0), Ok(()), "other sources are not held up");
    throttle.failed(a, t0);
    throttle.end(a);
    assert_eq!(throttle.begin(a, t0), Ok(()), "free failures still cost nothing");
    throttle.end(a);
    let v6 = ["2001:db8::1", "2001:db8::2"].map(ip);
    assert_eq!(throttle.begin(v6[0], t0), Ok(()));
    assert_eq!(throttle.begin(v6[1], t0), Err(IN_FLIGHT_WAIT), "one /64 is one source");
}
