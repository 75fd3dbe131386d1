//! The password file on real files in a temporary directory. argon2 is slow by design (more so in
//! a debug build), so each test hashes as few passwords as it can.

use super::*;
use std::os::unix::fs::PermissionsExt as _;

const PASSWORD: &str = "correct horse battery";

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).map(|m| m.mode() & 0o7777).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("chmod: {e}"));
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    chmod(path, 0o600);
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn set(path: &Path, user: &str, password: &str) {
    set_password(path, user, password).unwrap_or_else(|e| panic!("set_password: {e}"));
}

fn load(path: &Path) -> PasswordFile {
    PasswordFile::load(path).unwrap_or_else(|e| panic!("load: {e}"))
}

fn load_err(path: &Path) -> String {
    match PasswordFile::load(path) {
        Ok(f) => panic!("{} loaded: {f:?}", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn set_then_verify_accepts_the_password_only() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    set(&path, DEFAULT_USER, PASSWORD);
    let file = load(&path);
    assert_eq!(file.users().collect::<Vec<_>>(), [DEFAULT_USER]);
    assert!(file.verify(DEFAULT_USER, PASSWORD));
    assert!(!file.verify(DEFAULT_USER, "correct horse battery!"));
    assert!(!file.verify("root", PASSWORD));
    assert!(!file.verify(DEFAULT_USER, &"x".repeat(MAX_PASSWORD_BYTES + 1)));
}

#[test]
fn a_second_user_keeps_the_first_and_comments_and_changing_one_keeps_its_place() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    let first = hash_password("first password").unwrap_or_else(|e| panic!("{e}"));
    write(&path, &format!("# our console\n\nadmin:{first}\n"));
    set(&path, "ops.bob", "bob's password");
    let text = read(&path);
    assert!(text.starts_with(&format!("# our console\n\nadmin:{first}\nops.bob:$argon2id$v=19$")), "{text}");
    let file = load(&path);
    assert!(file.verify("admin", "first password"));
    assert!(file.verify("ops.bob", "bob's password"));

    set(&path, "admin", "second password");
    let text = read(&path);
    let users: Vec<&str> = text.lines().filter_map(|l| l.split_once(':').map(|(n, _)| n)).collect();
    assert_eq!(users, ["admin", "ops.bob"], "{text}");
    assert!(!text.contains(&first), "the old hash is gone");
    assert!(text.starts_with("# our console\n\n"), "{text}");
}

#[test]
fn the_file_is_0600_after_set_also_when_it_was_0644_and_leaves_no_temporary_file() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    set(&path, "admin", PASSWORD);
    assert_eq!(mode(&path), 0o600);
    chmod(&path, 0o644);
    set(&path, "other", PASSWORD);
    assert_eq!(mode(&path), 0o600);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("console.passwd")]);
}

#[test]
fn set_creates_a_missing_parent_directory_with_mode_0700() {
    let dir = temp();
    let path = dir.path().join("etc/rvs/console.passwd");
    set(&path, "admin", PASSWORD);
    assert_eq!(mode(&dir.path().join("etc/rvs")), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert!(read(&path).starts_with("# rvs console users"));
}

#[test]
fn the_file_never_contains_the_password() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    set(&path, "admin", PASSWORD);
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()));
    assert!(!read(&path).contains("horse"));
}

#[test]
fn load_refuses_a_file_group_or_others_can_read() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    write(&path, "# nobody yet\n");
    chmod(&path, 0o644);
    let e = load_err(&path);
    assert!(e.contains(&format!("chmod 600 {}", path.display())), "{e}");
    assert!(e.contains("0644"), "{e}");
    chmod(&path, 0o640);
    assert!(load_err(&path).contains("chmod 600"));
    chmod(&path, 0o602);
    assert!(load_err(&path).contains("chmod 600"));
    chmod(&path, 0o400);
    assert_eq!(load(&path).users().count(), 0);
}

#[test]
fn load_refuses_a_file_of_another_owner() {
    if effective_uid() != 0 {
        return; // only root can give a file away
    }
    let dir = temp();
    let path = dir.path().join("console.passwd");
    write(&path, "# nobody yet\n");
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap_or_else(|e| panic!("chown: {e}"));
    let e = load_err(&path);
    assert!(e.contains("owned by uid 65534") && e.contains("chown 0 "), "{e}");
}

#[test]
fn load_names_a_missing_file_and_how_to_create_it() {
    let dir = temp();
    let path = dir.path().join("nothing");
    let e = load_err(&path);
    assert!(e.contains("does not exist") && e.contains("rvs passwd"), "{e}");
}

#[test]
fn a_malformed_line_is_named_by_path_and_line_without_its_text() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    let ok = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let cases = [
        ("secret-typed-here".to_owned(), "no `:`"),
        ("bad name:secret-typed-here".to_owned(), "invalid user name"),
        ("bob:secret-typed-here".to_owned(), "not an argon2id PHC string"),
        (format!("bob:{argon2i}"), "argon2id"),
        (format!("admin:{ok}"), "user \"admin\" appears again (first on line 3)"),
    ];
    for (line, reason) in cases {
        write(&path, &format!("# users\n\nadmin:{ok}\n{line}\n"));
        let e = load_err(&path);
        assert!(e.starts_with(&format!("{}:4: ", path.display())), "{e}");
        assert!(e.contains(reason), "{e}");
        assert!(!e.contains("secret") && !e.contains("aGFzaG"), "{e}");
    }
}

#[test]
fn set_refuses_to_rewrite_a_file_it_does_not_understand() {
    let dir = temp();
    let path = dir.path().join("passwd");
    let etc_passwd = "root:x:0:0:root:/root:/bin/bash\n";
    write(&path, etc_passwd);
    let e = set_password(&path, "admin", PASSWORD).map(|()| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(e.starts_with(&format!("{}:1: ", path.display())), "{e}");
    assert_eq!(read(&path), etc_passwd);
}

#[test]
fn names_and_passwords_are_checked_before_anything_is_written() {
    let dir = temp();
    let path = dir.path().join("console.passwd");
    for user in ["", "a:b", "has space", "é", &"u".repeat(33)] {
        assert!(matches!(set_password(&path, user, PASSWORD), Err(PasswdError::InvalidUser(_))), "{user:?}");
    }
    assert!(check_user(&"u".repeat(32)).is_ok());
    assert!(check_user("A-z_0.9").is_ok());
    let e = set_password(&path, "admin", "seven c").map(|()| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(e.contains("at least 8 characters"), "{e}");
    let e = set_password(&path, "admin", &"x".repeat(1025)).map(|()| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(e.contains("at most 1024 bytes"), "{e}");
    assert!(!path.exists());
    // Characters, not bytes: eight two-byte characters are enough, seven are not.
    assert!(check_password("éééééééé").is_ok());
    assert!(check_password("ééééééé").is_err());
    assert!(check_password(&"x".repeat(1024)).is_ok());
}

#[test]
fn hashes_are_argon2id_with_a_fresh_salt_and_debug_shows_no_hash() {
    let a = hash_password(PASSWORD).unwrap_or_else(|e| panic!("{e}"));
    let b = hash_password(PASSWORD).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.starts_with("$argon2id$v=19$"), "{a}");
    assert_ne!(a, b);
    let file = PasswordFile::parse(&format!("admin:{a}\n"), Path::new("x")).unwrap_or_else(|e| panic!("{e}"));
    let debug = format!("{file:?}");
    assert_eq!(debug, r#"PasswordFile { users: ["admin"] }"#);
}
