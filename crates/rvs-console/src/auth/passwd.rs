//! The console's password file: one `name:PHC` line per user, the PHC string an argon2id hash.
//!
//! ```text
//! # rvs console users, written by `rvs passwd`
//! admin:$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo
//! ```
//!
//! rvsd loads it with [`PasswordFile::load`], `rvs passwd` writes it with [`set_password`]. The
//! file holds no password, but its hashes can be attacked offline, so it is treated like an ssh
//! private key: rvsd refuses a file that anyone but its owner (the user rvsd runs as) can read or
//! write, and every write produces a file of mode 0600. No error or log line ever carries a hash,
//! a password, or the text of a line of the file (a password pasted there by mistake must not end
//! up in a journal).

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Where rvsd and `rvs passwd` look for the file unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/rvs/console.passwd";
/// The user `rvs passwd` sets when no `--user` is given.
pub const DEFAULT_USER: &str = "admin";

/// Fewer characters than this make a password an online guessing target even with the login
/// throttle; counted in characters so that a non-ASCII password is not judged by its bytes.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// An upper bound in bytes so that a login form cannot make argon2 hash megabytes of input.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest user name; names are `[A-Za-z0-9_.-]`, so they never contain the `:` separator.
pub const MAX_USER_LEN: usize = 32;

/// The algorithm identifier every accepted PHC string carries.
const ALGORITHM: &str = "argon2id";
/// The random salt's size in bytes: the 16 bytes the argon2 RFC (9106) recommends.
const SALT_LEN: usize = 16;

/// Why the password file could not be read or written, or a user name or password is refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswdError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} does not exist: set the console's password with `rvs passwd`", path.display())]
    Missing { path: PathBuf },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "{path} has mode {mode:04o}, which lets group or others read or change the password \
         hashes: chmod 600 {path}",
        path = path.display()
    )]
    LoosePermissions { path: PathBuf, mode: u32 },
    #[error(
        "{path} is owned by uid {owner}, not by the uid this process runs as ({euid}): \
         chown {euid} {path}",
        path = path.display()
    )]
    WrongOwner { path: PathBuf, owner: u32, euid: u32 },
    /// `line` counts from 1; `reason` never quotes the line (it may hold a secret).
    #[error("{}:{line}: {reason}", path.display())]
    Malformed { path: PathBuf, line: usize, reason: String },
    #[error("invalid user name {0:?}: 1 to {MAX_USER_LEN} of the characters A-Z a-z 0-9 _ . -")]
    InvalidUser(String),
    #[error("the password is too short: it needs at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password is too long: it may have at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
    #[error("no random numbers from the OS for the salt: {0}")]
    Random(getrandom::Error),
    /// argon2's own errors describe parameters and lengths, never the password.
    #[error("argon2 could not hash the password: {0}")]
    Hash(argon2::password_hash::Error),
}

/// The users of the console and their hashes, as loaded from the password file.
pub struct PasswordFile {
    /// `(name, PHC string)` in file order; a handful of users, so a linear search is fine.
    users: Vec<(String, String)>,
}

/// Only the user names: a derived `Debug` would print the hashes into whatever logs it.
impl fmt::Debug for PasswordFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordFile").field("users", &self.users().collect::<Vec<_>>()).finish()
    }
}

impl PasswordFile {
    /// Reads the file at `path`, refusing it unless it is a regular file owned by this process's
    /// effective uid with no permission bits for group or others (as sshd does with key files:
    /// a file others can write lets them add a user, one they can read exposes the hashes).
    pub fn load(path: impl AsRef<Path>) -> Result<PasswordFile, PasswdError> {
        let path = path.as_ref();
        let mut file = File::open(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => PasswdError::Missing { path: path.to_owned() },
            _ => io_error(path, e),
        })?;
        // fstat on the open file, not stat on the path: what is checked is what is read.
        let meta = file.metadata().map_err(|e| io_error(path, e))?;
        if !meta.is_file() {
            return Err(PasswdError::NotAFile { path: path.to_owned() });
        }
        let euid = effective_uid();
        if meta.uid() != euid {
            return Err(PasswdError::WrongOwner { path: path.to_owned(), owner: meta.uid(), euid });
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(PasswdError::LoosePermissions { path: path.to_owned(), mode });
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| io_error(path, e))?;
        Self::parse(&text, path)
    }

    /// The users of `text` (the contents of the file at `path`, named in errors), without the
    /// file checks of [`load`](Self::load).
    pub fn parse(text: &str, path: &Path) -> Result<PasswordFile, PasswdError> {
        let users = parse_lines(text, path)?
            .into_iter()
            .filter_map(|line| match line {
                Line::User { name, phc } => Some((name, phc)),
                Line::Other(_) => None,
            })
            .collect();
        Ok(PasswordFile { users })
    }

    /// The user names, in file order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(|(name, _)| name.as_str())
    }

    /// Whether `password` is `user`'s. An unknown user costs an argon2 verification too (against
    /// a dummy hash), so that the answer's timing does not tell which user names exist.
    /// The user's password hash (PHC string), if the user is in the file: a session records it
    /// and ends when it changes.
    pub fn credential(&self, user: &str) -> Option<&str> {
        self.users.iter().find(|(name, _)| name == user).map(|(_, phc)| phc.as_str())
    }

    pub fn verify(&self, user: &str, password: &str) -> bool {
        // Over-long input is refused before argon2 sees it: the limit is what bounds the work a
        // login form can ask for. Its length is no secret, so answering at once reveals nothing.
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match self.users.iter().find(|(name, _)| name == user) {
            Some((_, phc)) => verify_phc(phc, password),
            None => {
                if let Some(dummy) = dummy_hash() {
                    verify_phc(dummy, password);
                }
                false
            }
        }
    }
}

/// Checks a user name: 1 to 32 of `[A-Za-z0-9_.-]`.
pub fn check_user(name: &str) -> Result<(), PasswdError> {
    if valid_user(name) { Ok(()) } else { Err(PasswdError::InvalidUser(name.to_owned())) }
}

/// Checks a new password: at least 8 characters, at most 1024 bytes.
pub fn check_password(password: &str) -> Result<(), PasswdError> {
    if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswdError::PasswordTooLong)
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(PasswdError::PasswordTooShort)
    } else {
        Ok(())
    }
}

/// The argon2id PHC string of `password`, with argon2's default parameters (those the RFC and
/// OWASP recommend; they are written into the string, so changing them later keeps old hashes
/// valid) and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswdError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(PasswdError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(PasswdError::Hash)?;
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(PasswdError::Hash)?;
    Ok(hash.to_string())
}

/// Sets `user`'s password in the file at `path`: other users' lines, comments and blank lines are
/// kept, `user`'s line is replaced or appended. The file is replaced atomically (a temporary file
/// of mode 0600 in the same directory, fsync, rename), so rvsd never reads half a file and a crash
/// leaves the old one; the result is mode 0600 whatever the old file's mode was. A missing parent
/// directory is created with mode 0700. An existing file that does not parse is refused rather
/// than overwritten: a wrong `--file` (say /etc/passwd) must not be clobbered.
pub fn set_password(path: impl AsRef<Path>, user: &str, password: &str) -> Result<(), PasswdError> {
    let path = path.as_ref();
    check_user(user)?;
    check_password(password)?;

    let (mut lines, old_owner) = match File::open(path) {
        Ok(mut file) => {
            let meta = file.metadata().map_err(|e| io_error(path, e))?;
            if !meta.is_file() {
                return Err(PasswdError::NotAFile { path: path.to_owned() });
            }
            let mut text = String::new();
            file.read_to_string(&mut text).map_err(|e| io_error(path, e))?;
            (parse_lines(&text, path)?, Some((meta.uid(), meta.gid())))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            (vec![Line::Other("# rvs console users (`rvs passwd` sets their passwords)".into())], None)
        }
        Err(e) => return Err(io_error(path, e)),
    };

    let phc = hash_password(password)?;
    match lines.iter_mut().find(|l| matches!(l, Line::User { name, .. } if name == user)) {
        Some(Line::User { phc: old, .. }) => *old = phc,
        _ => lines.push(Line::User { name: user.to_owned(), phc }),
    }
    let mut text = String::new();
    for line in &lines {
        match line {
            Line::Other(s) => text.push_str(s),
            Line::User { name, phc } => {
                text.push_str(name);
                text.push(':');
                text.push_str(phc);
            }
        }
        text.push('\n');
    }
    write_atomically(path, text.as_bytes(), old_owner)
}

/// One line of the file, kept as it was unless it is the user being changed.
enum Line {
    /// A comment or a blank line, verbatim.
    Other(String),
    User { name: String, phc: String },
}

fn parse_lines(text: &str, path: &Path) -> Result<Vec<Line>, PasswdError> {
    let mut lines: Vec<Line> = Vec::new();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let malformed = |reason: String| PasswdError::Malformed { path: path.to_owned(), line: n, reason };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            lines.push(Line::Other(raw.to_owned()));
            continue;
        }
        let Some((name, phc)) = trimmed.split_once(':') else {
            return Err(malformed("expected `name:$argon2id$...` (no `:` on the line)".into()));
        };
        // The name is only quoted once it is known to be a valid name, not some other text.
        if !valid_user(name) {
            return Err(malformed(format!(
                "invalid user name: 1 to {MAX_USER_LEN} of the characters A-Z a-z 0-9 _ . -"
            )));
        }
        if !valid_phc(phc) {
            return Err(malformed(format!(
                "the hash of user {name:?} is not an argon2id PHC string ($argon2id$v=19$...): \
                 set it again with `rvs passwd --user {name}`"
            )));
        }
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == name) {
            return Err(malformed(format!("user {name:?} appears again (first on line {first})")));
        }
        seen.push((name, n));
        lines.push(Line::User { name: name.to_owned(), phc: phc.to_owned() });
    }
    Ok(lines)
}

fn valid_user(name: &str) -> bool {
    (1..=MAX_USER_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn valid_phc(phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| h.algorithm.as_str() == ALGORITHM && h.hash.is_some())
}

/// argon2 verification of `password` against one PHC string, which carries its own parameters.
fn verify_phc(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// Computes the dummy hash now, so that the first login with an unknown user name does not take
/// longer than one with a known name (which would tell the name is unknown).
pub fn prepare() {
    let _ = dummy_hash();
}

/// A hash of a password nobody knows, computed on first need and kept, for unknown users to be
/// verified against. `None` only if the OS had no random numbers, when there is nothing better to
/// do than answer faster.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("rvs: no such user, no such password").ok()).as_deref()
}

/// Replaces `path` atomically with a 0600 file of `data` (crate::staged_file), owned by `owner`
/// when given and not already this process's.
fn write_atomically(path: &Path, data: &[u8], owner: Option<(u32, u32)>) -> Result<(), PasswdError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.exists() {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| io_error(dir, e))?;
    }
    let owner = owner.filter(|o| *o != (effective_uid(), effective_gid()));
    crate::staged_file::stage(path, data, 0o600, owner).and_then(crate::staged_file::Staged::commit).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, source: io::Error) -> PasswdError {
    PasswdError::Io { path: path.to_owned(), source }
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn effective_gid() -> u32 {
    // SAFETY: getegid has no preconditions and cannot fail.
    unsafe { libc::getegid() }
}

#[cfg(test)]
mod tests;
