//! What the tests that record share: the switch that skips them, the
//! fixture programs they record, `autofold record` with its outputs in a
//! directory, and the perf binary (`perf record`, `perf script`).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::tools::{Kind, skipping, tool};
use super::{Autofold, autofold, fixture};

/// Whether to skip tests that record (`AUTOFOLD_SKIP_PERF_TESTS=1`); says
/// so on standard error.
pub fn skip() -> bool {
    skipping(Kind::Perf, "tests that record")
}

/// `autofold record` in `dir`, writing the flame graph to `flame.svg`, the
/// folded stacks to `out.folded` and the report to `report.json`; options
/// and the command (after `--`) to follow.
pub fn record(dir: &Path) -> Autofold {
    let mut record = autofold();
    record.current_dir(dir).arg("record").args([
        "-o",
        "flame.svg",
        "--folded",
        "out.folded",
        "--report",
        "report.json",
    ]);
    record
}

/// Runs `autofold record ARGS` in `dir` as its own process group, and
/// after two seconds sends SIGINT to the group, as Ctrl-C in a terminal does.
pub fn interrupted_record(dir: &Path, args: &[&OsStr]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut record = autofold();
    record.current_dir(dir).arg("record").args(args);
    let child = record
        .command()
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

/// The perf binary (`$PERF`, else `perf` on `PATH`), not yet run; fails
/// the test, saying what to install, where there is none. (Tests that run
/// it have returned already when `AUTOFOLD_SKIP_PERF_TESTS=1`.)
pub fn perf() -> Command {
    let perf = tool(Kind::Perf, &["perf"], "PERF", "apt-get install linux-perf")
        .expect("tests that run perf are skipped before they look for it");
    Command::new(perf)
}

/// Records `program ARGS` into `data` with `perf record -q OPTIONS`; fails
/// the test, with what perf said, unless perf succeeds.
pub fn perf_record(data: &Path, options: &[&str], program: &Path, args: &[&str]) {
    let output = perf()
        .args(["record", "-q"])
        .args(options)
        .arg("-o")
        .arg(data)
        .arg("--")
        .arg(program)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "perf record {options:?} -- {} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `perf script` of the recording `data` as autofold reads perf script
/// output: every field but the period, stacks uncut (`--max-stack
/// 65535`), and `options` (`--no-inline`, `--no-demangle`).
pub fn perf_script(data: &Path, options: &[&str]) -> Vec<u8> {
    let script = [&["-F", "-period", "--max-stack", "65535"], options].concat();
    script_of(data, &script)
}

/// The number of samples perf itself lists in the recording `data`.
pub fn samples_in(data: &Path) -> u64 {
    let listing = script_of(data, &["-F", "tid,time"]);
    String::from_utf8_lossy(&listing)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

/// `perf script OPTIONS -i DATA`'s output; fails the test unless perf
/// succeeds.
fn script_of(data: &Path, options: &[&str]) -> Vec<u8> {
    let output = perf()
        .arg("script")
        .args(options)
        .arg("-i")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "perf script {options:?} -i {} failed: {}",
        data.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
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

/// The debug build of `fixtures/twins`, built once per test run.
pub fn twins() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| debug_build("twins", "twins"))
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
    compile_expr(dir, "expr", &[])
}

/// [`expr_program`] linked statically (`expr-static` in `dir`): its
/// recordings name one module, so reading them symbolizes no shared
/// library (glibc's debug info takes seconds to read in a debug build).
pub fn static_expr_program(dir: &Path) -> PathBuf {
    compile_expr(dir, "expr-static", &["-static"])
}

/// `fixtures/expr/expr.c` compiled into `dir/NAME` with `flags` added.
fn compile_expr(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    compile_c(dir, name, &["expr/expr.c"], flags)
}

/// `fixtures/statics/` (two recursions, each through its own file's
/// `static long step`) compiled with `cc -O0 -g` into `dir`.
pub fn statics_program(dir: &Path) -> PathBuf {
    let sources = ["statics/main.c", "statics/a.c", "statics/b.c"];
    compile_c(dir, "statics", &sources, &[])
}

/// The C `sources` (paths under fixtures/) compiled with `cc -O0 -g`
/// (frame pointers kept) and `flags` into `dir/NAME`.
pub fn compile_c(dir: &Path, name: &str, sources: &[&str], flags: &[&str]) -> PathBuf {
    let program = dir.join(name);
    let status = Command::new("cc")
        .args(["-O0", "-g", "-fno-omit-frame-pointer"])
        .args(flags)
        .arg("-o")
        .arg(&program)
        .args(sources.iter().map(|source| fixture(source)))
        .status()
        .expect("cc runs");
    assert!(status.success(), "compiling {sources:?} {flags:?} failed");
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
