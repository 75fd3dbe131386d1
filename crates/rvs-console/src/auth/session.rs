//! Logged-in sessions and their CSRF tokens, sans-IO: the caller passes the time in as an
//! [`Instant`] and wraps the store in a mutex; nothing here reads a clock or a socket.
//!
//! A login creates a session: a random token that the browser keeps in the `rvs_session` cookie
//! (HttpOnly, so page scripts cannot read it; SameSite=Strict, so other sites' pages cannot make
//! the browser send it) and a second random token, the CSRF token, that the console's pages embed
//! in their forms and that every state-changing request must carry back ([`csrf_matches`]). The
//! cookie alone therefore never suffices to change the cluster.
//!
//! Sessions live in memory only: restarting rvsd logs everyone out, which is acceptable for an
//! administration console and means no session secret is ever written to disk.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "rvs_session";
/// A session unused this long is over: a console left open on an unattended screen should not
/// stay usable, yet the live views' polling keeps a watched console alive.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A session is over this long after login however busy it is, so a stolen cookie is not good
/// forever; one working day, so an operator logs in about once a day.
pub const ABSOLUTE_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Most sessions kept at once: bounds the memory that repeated logins can take. A handful of
/// operators need far fewer.
pub const MAX_SESSIONS: usize = 256;
/// Random bytes in a token: 256 bits cannot be guessed, even online without a throttle.
const TOKEN_BYTES: usize = 32;

/// The store's limits; [`Default`] gives the constants above, tests use shorter ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub idle_timeout: Duration,
    pub absolute_lifetime: Duration,
    pub max_sessions: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { idle_timeout: IDLE_TIMEOUT, absolute_lifetime: ABSOLUTE_LIFETIME, max_sessions: MAX_SESSIONS }
    }
}

/// The OS had no random numbers for a token: no session can be created safely.
#[derive(Debug, thiserror::Error)]
#[error("no random numbers from the OS for a session token: {0}")]
pub struct RandomError(getrandom::Error);

/// What a login hands to the browser: the cookie's token and the forms' CSRF token.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// A live session as a request sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionView {
    pub user: String,
    pub csrf: String,
    /// The user's password hash when they logged in: a session ends when `rvs passwd` changes
    /// it or removes the user.
    pub credential: String,
}

// Tokens and hashes never reach a log through Debug.
impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SessionView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionView").field("user", &self.user).finish_non_exhaustive()
    }
}

struct Session {
    user: String,
    csrf: String,
    credential: String,
    created: Instant,
    last_seen: Instant,
}

/// The sessions of the console, keyed by their cookie token.
pub struct Sessions {
    limits: Limits,
    // A lookup by token in a hash map takes no time that depends on how much of a guessed token
    // is right in any usable way (the key is hashed with a random SipHash key first).
    by_token: HashMap<String, Session>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("limits", &self.limits).field("sessions", &self.by_token.len()).finish()
    }
}

impl Sessions {
    pub fn new(limits: Limits) -> Sessions {
        Sessions { limits, by_token: HashMap::new() }
    }

    /// Starts a session for `user` (whose password was just verified). When the store is full,
    /// expired sessions go first, then the one unused the longest: an operator working in the
    /// console keeps their session even if someone logs in many times over.
    pub fn create(&mut self, user: &str, credential: &str, now: Instant) -> Result<NewSession, RandomError> {
        let token = random_token()?;
        let csrf = random_token()?;
        self.purge(now);
        while self.by_token.len() >= self.limits.max_sessions.max(1) {
            let Some(lru) = self.by_token.iter().min_by_key(|(_, s)| s.last_seen).map(|(t, _)| t.clone()) else {
                break;
            };
            self.by_token.remove(&lru);
        }
        let session = Session { user: user.to_owned(), csrf: csrf.clone(), credential: credential.to_owned(), created: now, last_seen: now };
        self.by_token.insert(token.clone(), session);
        Ok(NewSession { token, csrf })
    }

    /// The session of `token`, if it is live, marking it used at `now`; an expired one is
    /// removed and gives `None`.
    pub fn get(&mut self, token: &str, now: Instant) -> Option<SessionView> {
        let limits = self.limits;
        let session = self.by_token.get_mut(token)?;
        if session.expired(&limits, now) {
            self.by_token.remove(token);
            return None;
        }
        session.last_seen = session.last_seen.max(now);
        Some(SessionView { user: session.user.clone(), csrf: session.csrf.clone(), credential: session.credential.clone() })
    }

    /// Ends the session of `token` (logout); whether there was one.
    pub fn remove(&mut self, token: &str) -> bool {
        self.by_token.remove(token).is_some()
    }

    /// Removes every expired session; `create` does it too, a server may also call it on a timer.
    pub fn purge(&mut self, now: Instant) {
        let limits = self.limits;
        self.by_token.retain(|_, s| !s.expired(&limits, now));
    }

    /// Sessions held, expired ones not yet purged included.
    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

impl Session {
    /// `saturating_duration_since`, so that an `Instant` from before the session (a caller's
    /// race) counts as no time rather than panicking.
    fn expired(&self, limits: &Limits, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) >= limits.idle_timeout
            || now.saturating_duration_since(self.created) >= limits.absolute_lifetime
    }
}

/// 32 random bytes from the OS, as 64 lowercase hex digits (safe in a cookie and a form).
fn random_token() -> Result<String, RandomError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether a request's CSRF token `given` is the session's `expected` one, in time that does not
/// depend on where they differ (an early exit would let an attacker learn the token byte by byte
/// from response times). A length mismatch answers at once: the length is no secret. An empty
/// expected token never matches, so a session without one cannot be satisfied by an empty field.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    if expected.len() != given.len() {
        return false;
    }
    let diff = expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    // black_box keeps the optimiser from turning the fold back into an early-exit comparison.
    std::hint::black_box(diff) == 0 && !expected.is_empty()
}

/// The `Set-Cookie` value that gives the browser its session. `secure` when the console is
/// served over TLS, so the browser never sends the cookie in clear; Max-Age matches the
/// session's absolute lifetime so the browser drops it when the server would refuse it anyway.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let mut cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        ABSOLUTE_LIFETIME.as_secs()
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The `Set-Cookie` value that makes the browser forget its session (logout).
pub fn clear_cookie(secure: bool) -> String {
    let mut cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The session token in a request's `Cookie:` header (`a=1; rvs_session=…; b=2`). Only a value
/// shaped like a token (64 hex digits) is returned: anything else cannot name a session, and
/// another cookie of the same name (say for a different path) may follow.
pub fn token_from_cookie_header(value: &str) -> Option<&str> {
    value
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.trim() == COOKIE)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .find(|v| v.len() == 2 * TOKEN_BYTES && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests;
