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

/// The debug build of `fixtures/busy-threads`, built once per test run.
pub fn busy_threads() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| debug_build("busy-threads", "busy-threads"))
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

/// `fixtures/expr/expr.c` compiled with `cc -O0 -g` (frame pointers kept)
/// into `dir`.
pub fn expr_program(dir: &Path) -> PathBuf {
    let program = dir.join("expr");
    let status = Command::new("cc")
        .args(["-O0", "-g", "-fno-omit-frame-pointer", "-o"])
        .arg(&program)
        .arg(fixture("expr/expr.c"))
        .status()
        .expect("cc runs");
    assert!(status.success(), "compiling fixtures/expr/expr.c failed");
    program
}

/// `fixtures/cpp/NAME.cpp` compiled with `cxx -O0 -g` (frame pointers
/// kept) into `dir`.
pub fn cpp_program(cxx: &Path, dir: &Path, name: &str) -> PathBuf {
    let program = dir.join(name);
    let status = Command::new(cxx)
        .args(["-O0", "-g", "-fno-omit-frame-pointer", "-o"])
        .arg(&program)
        .arg(fixture(&format!("cpp/{name}.cpp")))
        .status()
        .expect("the C++ compiler runs");
    assert!(status.success(), "compiling fixtures/cpp/{name}.cpp failed");
    program
}

/// The number of samples perf itself lists in the recording `data`.
pub fn samples_in(data: &Path) -> u64 {
    let listing = Command::new("perf")
        .args(["script", "-F", "tid,time", "-i"])
        .arg(data)
        .output()
        .unwrap();
    assert!(listing.status.success(), "perf script failed");
    String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

/// Runs `autofold record ARGS` in `dir` as its own process group, and
/// after two seconds sends SIGINT to the group, as Ctrl-C in a terminal does.
pub fn interrupted_record(dir: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let child = Command::new(env!("CARGO_BIN_EXE_autofold"))
        .current_dir(dir)
        .arg("record")
        .args(args)
        .process_group(0)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let group = format!("-{}", child.id());
    let kill = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}
