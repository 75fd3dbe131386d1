//! The session store in virtual time, the CSRF comparison and the cookie strings.

use super::*;

fn limits(max_sessions: usize) -> Limits {
    Limits { idle_timeout: Duration::from_secs(30), absolute_lifetime: Duration::from_secs(100), max_sessions }
}

fn create(sessions: &mut Sessions, user: &str, now: Instant) -> NewSession {
    sessions.create(user, "$argon2id$test", now).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn tokens_are_64_lowercase_hex_digits_and_all_different() {
    let mut sessions = Sessions::new(Limits::default());
    let t0 = Instant::now();
    let a = create(&mut sessions, "admin", t0);
    let b = create(&mut sessions, "admin", t0);
    for t in [&a.token, &a.csrf, &b.token, &b.csrf] {
        assert!(is_token(t), "{t}");
    }
    assert_ne!(a.token, b.token);
    assert_ne!(a.token, a.csrf);
    assert_ne!(a.csrf, b.csrf);
}

#[test]
fn get_returns_the_user_and_csrf_token_and_remove_ends_the_session() {
    let mut sessions = Sessions::new(Limits::default());
    let t0 = Instant::now();
    let new = create(&mut sessions, "admin", t0);
    let view = sessions.get(&new.token, t0 + secs(1));
    assert_eq!(view, Some(SessionView { user: "admin".into(), csrf: new.csrf.clone(), credential: "$argon2id$test".into() }));
    assert_eq!(sessions.get(&new.csrf, t0), None, "the CSRF token is no session token");
    assert_eq!(sessions.get("", t0), None);
    assert!(sessions.remove(&new.token));
    assert!(!sessions.remove(&new.token));
    assert_eq!(sessions.get(&new.token, t0 + secs(2)), None);
}

#[test]
fn an_idle_session_expires_and_use_keeps_it_alive() {
    let mut sessions = Sessions::new(Limits { absolute_lifetime: secs(1000), ..limits(8) });
    let t0 = Instant::now();
    let busy = create(&mut sessions, "busy", t0);
    let idle = create(&mut sessions, "idle", t0);
    // `busy` is used every 20 s, less than the 30 s idle timeout.
    for t in [20, 40, 60] {
        assert!(sessions.get(&busy.token, t0 + secs(t)).is_some(), "busy at {t}s");
    }
    assert_eq!(sessions.get(&idle.token, t0 + secs(30)), None);
    assert_eq!(sessions.len(), 1, "the expired session was removed on access");
    assert!(sessions.get(&busy.token, t0 + secs(89)).is_some());
    assert_eq!(sessions.get(&busy.token, t0 + secs(119)), None, "idle for 30 s");
    assert!(sessions.is_empty());
}

#[test]
fn a_busy_session_ends_at_its_absolute_lifetime() {
    let mut sessions = Sessions::new(limits(8));
    let t0 = Instant::now();
    let new = create(&mut sessions, "admin", t0);
    for t in (10..100).step_by(10) {
        assert!(sessions.get(&new.token, t0 + secs(t)).is_some(), "at {t}s");
    }
    assert_eq!(sessions.get(&new.token, t0 + secs(100)), None);
    assert!(sessions.is_empty());
}

#[test]
fn the_default_limits_are_30_minutes_idle_12_hours_and_256_sessions() {
    let mut sessions = Sessions::new(Limits::default());
    let t0 = Instant::now();
    let new = create(&mut sessions, "admin", t0);
    assert!(sessions.get(&new.token, t0 + secs(29 * 60 + 59)).is_some());
    let mut t = t0;
    while t + secs(25 * 60) < t0 + secs(12 * 3600) {
        t += secs(25 * 60);
        assert!(sessions.get(&new.token, t).is_some());
    }
    assert_eq!(sessions.get(&new.token, t0 + secs(12 * 3600)), None);
    assert_eq!(Limits::default().max_sessions, 256);
}

#[test]
fn a_full_store_forgets_expired_sessions_first_then_the_least_recently_used() {
    let mut sessions = Sessions::new(limits(3));
    let t0 = Instant::now();
    let a = create(&mut sessions, "a", t0);
    let b = create(&mut sessions, "b", t0 + secs(1));
    let c = create(&mut sessions, "c", t0 + secs(2));
    assert!(sessions.get(&a.token, t0 + secs(3)).is_some(), "a is now the most recently used");
    let d = create(&mut sessions, "d", t0 + secs(4));
    assert_eq!(sessions.len(), 3);
    assert!(sessions.get(&b.token, t0 + secs(5)).is_none(), "b, unused the longest, went");
    for s in [&a, &c, &d] {
        assert!(sessions.get(&s.token, t0 + secs(5)).is_some());
    }
    // Later, a and c have expired (idle 30 s) while d is used: a new session costs no live one.
    assert!(sessions.get(&d.token, t0 + secs(30)).is_some());
    let e = create(&mut sessions, "e", t0 + secs(40));
    assert_eq!(sessions.len(), 2);
    assert!(sessions.get(&d.token, t0 + secs(41)).is_some());
    assert!(sessions.get(&e.token, t0 + secs(41)).is_some());
}

#[test]
fn a_store_of_256_sessions_stays_at_256() {
    let mut sessions = Sessions::new(Limits::default());
    let t0 = Instant::now();
    let first = create(&mut sessions, "admin", t0);
    for i in 1..=MAX_SESSIONS as u64 {
        create(&mut sessions, "admin", t0 + Duration::from_millis(i));
    }
    assert_eq!(sessions.len(), MAX_SESSIONS);
    assert_eq!(sessions.get(&first.token, t0 + secs(1)), None);
}

#[test]
fn csrf_tokens_match_only_when_equal() {
    let a = "0123456789abcdef".repeat(4);
    assert!(csrf_matches(&a, &a.clone()));
    let mut last = a.clone();
    last.replace_range(63..64, "0");
    assert!(!csrf_matches(&a, &last));
    let mut first = a.clone();
    first.replace_range(0..1, "f");
    assert!(!csrf_matches(&a, &first));
    assert!(!csrf_matches(&a, &a[..63]));
    assert!(!csrf_matches(&a, &format!("{a}0")));
    assert!(!csrf_matches(&a, ""));
    assert!(!csrf_matches("", ""));
}

#[test]
fn cookies_are_http_only_strict_and_secure_when_asked() {
    let t = "ab".repeat(32);
    assert_eq!(set_cookie(&t, false), format!("rvs_session={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200"));
    assert_eq!(
        set_cookie(&t, true),
        format!("rvs_session={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure")
    );
    assert_eq!(clear_cookie(false), "rvs_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    assert_eq!(clear_cookie(true), "rvs_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
}

#[test]
fn the_token_is_found_among_other_cookies() {
    let t = "0f".repeat(32);
    assert_eq!(token_from_cookie_header(&format!("rvs_session={t}")), Some(t.as_str()));
    assert_eq!(token_from_cookie_header(&format!("theme=dark; rvs_session={t}; lang=en")), Some(t.as_str()));
    assert_eq!(token_from_cookie_header(&format!("theme=dark;rvs_session=\"{t}\"")), Some(t.as_str()));
    // A stale or foreign cookie of the same name before the real one is skipped.
    assert_eq!(token_from_cookie_header(&format!("rvs_session=junk; rvs_session={t}")), Some(t.as_str()));
    assert_eq!(token_from_cookie_header(&format!("x_rvs_session={t}; rvs_sessionx={t}")), None);
    assert_eq!(token_from_cookie_header("rvs_session="), None);
    assert_eq!(token_from_cookie_header(&format!("rvs_session={}", "0f".repeat(31))), None);
    assert_eq!(token_from_cookie_header(&format!("rvs_session={}zz", "0f".repeat(31))), None);
    assert_eq!(token_from_cookie_header(""), None);
    assert_eq!(token_from_cookie_header("garbage; ;;"), None);
}
