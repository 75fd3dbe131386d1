//! Who may use the console: the password file, sessions with their CSRF tokens, and the
//! slowing down of failed logins.

pub mod passwd;
pub mod session;
pub mod throttle;
