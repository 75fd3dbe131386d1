//! Finding the binaries under test: `rvsd`, `rvsadm` and `rvs`, as `cargo build --bins` leaves
//! them. The suites run the real programs, never library calls standing in for them.

use std::path::{Path, PathBuf};

/// The variable naming the directory that holds the binaries.
pub const BIN_DIR_VAR: &str = "RVS_BIN_DIR";

/// Where the binaries are: `$RVS_BIN_DIR`, else `target/<profile>`, which is two levels above
/// this test executable (`target/<profile>/deps/<test>-<hash>`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_VAR).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target/debug"))
}

/// The path of binary `name`; panics, saying what to do, when it has not been built.
pub fn binary(name: &str) -> PathBuf {
    let dir = bin_dir();
    let path = dir.join(name);
    if !path.is_file() {
        panic!(
            "the end-to-end tests run the real `{name}`, and there is no {}. \
             Run `cargo build --bins` first (with the same CARGO_TARGET_DIR and profile), \
             or set {BIN_DIR_VAR} to the directory holding rvsd, rvsadm and rvs.",
            path.display()
        );
    }
    path
}

/// Checks that all three binaries are there before a test builds anything.
pub fn require_all() {
    for name in ["rvsd", "rvsadm", "rvs"] {
        binary(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_is_named_with_the_fix() {
        let err = std::panic::catch_unwind(|| binary("rvs-no-such-binary"))
            .expect_err("there is no such binary");
        let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(text.contains("rvs-no-such-binary"), "{text}");
        assert!(text.contains("cargo build --bins"), "{text}");
    }
}
