//! The files an `include` names: keepalived passes the pattern to glob(3) with `GLOB_BRACE`
//! (`lib/parser.c` `open_and_check_glob`), after changing to the including file's directory.
//! Here: `*`, `?`, `[…]` (`[!…]`, ranges) in any path component and `{a,b}` alternatives;
//! names starting with `.` match only a pattern starting with `.`; matches come sorted;
//! directories are skipped (`check_glob_file`).

use std::path::{Component, Path, PathBuf};

/// What a pattern found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Found {
    pub files: Vec<PathBuf>,
    pub directories: Vec<PathBuf>,
}

pub(super) fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// The files `pattern` names, relative to `dir` unless absolute.
pub(super) fn expand(dir: &Path, pattern: &str) -> Found {
    let mut found = Found::default();
    for alternative in braces(pattern) {
        let path = dir.join(&alternative);
        let mut matches = vec![PathBuf::new()];
        for component in path.components() {
            let Component::Normal(name) = component else {
                for m in &mut matches {
                    m.push(component);
                }
                continue;
            };
            let name = name.to_string_lossy();
            if !has_wildcards(&name) {
                for m in &mut matches {
                    m.push(name.as_ref());
                }
                continue;
            }
            let pat: Vec<char> = name.chars().collect();
            let mut next = Vec::new();
            for m in &matches {
                let Ok(entries) = std::fs::read_dir(if m.as_os_str().is_empty() { Path::new(".") } else { m })
                else {
                    continue;
                };
                let mut names: Vec<String> =
                    entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                names.sort();
                for n in names {
                    if (n.starts_with('.') && pat.first() != Some(&'.')) || !matches_glob(&pat, &n.chars().collect::<Vec<_>>()) {
                        continue;
                    }
                    next.push(m.join(n));
                }
            }
            matches = next;
        }
        for m in matches {
            if m.is_dir() {
                found.directories.push(m);
            } else if m.exists() || !has_wildcards(&alternative) {
                found.files.push(m);
            }
        }
    }
    // A plain name that does not exist is reported by the reader ("no such file").
    found.files.retain(|f| f.exists());
    found
}

/// `a{b,c}d{e,f}` → `abde`, `abdf`, `acde`, `acdf` (one level of braces per group).
fn braces(pattern: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (pattern.find('{'), pattern.find('}')) else {
        return vec![pattern.to_owned()];
    };
    if close < open {
        return vec![pattern.to_owned()];
    }
    let (head, rest) = pattern.split_at(open);
    let inner = &rest[1..close - open];
    let tail = &rest[close - open + 1..];
    inner
        .split(',')
        .flat_map(|alt| braces(&format!("{head}{alt}{tail}")))
        .collect()
}

/// fnmatch(3) without flags, on one path component.
fn matches_glob(pat: &[char], name: &[char]) -> bool {
    match pat.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|skip| matches_glob(&pat[1..], &name[skip..])),
        Some('?') => !name.is_empty() && matches_glob(&pat[1..], &name[1..]),
        Some('[') => {
            let Some(end) = pat.iter().skip(2).position(|c| *c == ']').map(|p| p + 2) else {
                return name.first() == Some(&'[') && matches_glob(&pat[1..], &name[1..]);
            };
            let Some(&c) = name.first() else { return false };
            let (negate, set) = match pat[1] {
                '!' | '^' => (true, &pat[2..end]),
                _ => (false, &pat[1..end]),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= (set[i]..=set[i + 2]).contains(&c);
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != negate && matches_glob(&pat[end + 1..], &name[1..])
        }
        Some(&p) => name.first() == Some(&p) && matches_glob(&pat[1..], &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str, n: &str) -> bool {
        matches_glob(&p.chars().collect::<Vec<_>>(), &n.chars().collect::<Vec<_>>())
    }

    #[test]
    fn fnmatch_patterns() {
        assert!(glob("*.conf", "a.conf"));
        assert!(!glob("*.conf", "a.conf.bak"));
        assert!(glob("vs-??.conf", "vs-01.conf"));
        assert!(glob("[a-c]*", "beta"));
        assert!(!glob("[!a-c]*", "beta"));
        assert!(glob("*", ""));
    }

    #[test]
    fn brace_alternatives() {
        assert_eq!(braces("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(braces("{x,y}/{1,2}"), ["x/1", "x/2", "y/1", "y/2"]);
        assert_eq!(braces("plain"), ["plain"]);
    }

    #[test]
    fn expands_in_the_directory_sorted() {
        let dir = std::env::temp_dir().join(format!("rvs-kaconf-glob-{}", std::process::id()));
        let sub = dir.join("conf.d");
        std::fs::create_dir_all(sub.join("nested.conf")).expect("mkdir");
        for f in ["b.conf", "a.conf", ".hidden.conf", "c.txt"] {
            std::fs::write(sub.join(f), "").expect("write");
        }
        let found = expand(&dir, "conf.d/*.conf");
        assert_eq!(found.files, [sub.join("a.conf"), sub.join("b.conf")]);
        assert_eq!(found.directories, [sub.join("nested.conf")]);
        assert!(expand(&dir, "conf.d/none-*.conf").files.is_empty());
        assert!(expand(&dir, "missing.conf").files.is_empty());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
