//! What the tests that record with real perf share: the switch that skips
//! them, and the fixture programs they record.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::fixture;

/// Whether to skip tests that need perf (`AUTOFOLD_SKIP_PERF_TESTS=1`);
/// says so on standard error.
pub fn skip() -> bool {
    let skip = std::env::var_os("AUTOFOLD_SKIP_PERF_TESTS").is_some_and(|v| v == "1");
    if skip {
        eprintln!("skipped: AUTOFOLD_SKIP_PERF_TESTS=1");
    }
    skip
}

/// The debug build of `fixtures/even-odd`, built once per test run.
pub fn even_odd() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| debug_build("even-odd", "even-odd"))
}

/// The debug build of `fixtures/plumbing`, built once per test run.
pub fn plumbing() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| debug_build("plumbing", "plumbing"))
}

/// Builds the crate `fixtures/CRATE` (debug) in its own target directory;
/// returns the path of its binary `bin`.
fn debug_build(krate: &str, bin: &str) -> PathBuf {
    let dir = fixture(krate);
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building fixtures/{krate} failed");
    dir.join("target/debug").join(bin)
}
