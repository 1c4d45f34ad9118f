//! `cargo autofold` end to end: real cargo building the bundled fixture
//! crates and real perf recording them; then the completion scripts and man
//! pages generated from the command-line definitions.
//!
//! The tests that record honour `AUTOFOLD_SKIP_PERF_TESTS=1`. Cargo keeps
//! each fixture's build in its own `target/`, so every crate is compiled
//! once and the other tests find it fresh.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::CommandFactory;
use tempfile::TempDir;

use autofold::cli::Cli;

use crate::util::perf::skip as skip_perf_tests;
use crate::util::{assert_well_formed_xml, autofold, fixture};

const EVEN_ODD: &str = "even_odd::{even,odd}";
const THREE_WAY: &str = "three_way::{paper,rock,scissors}";

/// What one run of `cargo autofold` left: its output, and the flame graph
/// and report it wrote into a fresh directory.
struct Run {
    output: Output,
    dir: TempDir,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Fails the test, with everything cargo and autofold said, unless the
    /// run succeeded and wrote a flame graph.
    fn assert_recorded(&self) {
        assert!(
            self.output.status.success() && self.dir.path().join("flame.svg").exists(),
            "cargo autofold failed ({}); is perf allowed to record here? \
             (set AUTOFOLD_SKIP_PERF_TESTS=1 to skip)\n{}",
            self.output.status,
            self.stderr()
        );
    }

    /// Fails the test unless the run failed before writing anything.
    fn assert_failed_without_output(&self) {
        assert!(!self.output.status.success(), "{}", self.stderr());
        let written: Vec<_> = fs::read_dir(self.dir.path()).unwrap().collect();
        assert!(written.is_empty(), "nothing is written: {written:?}");
    }

    fn report(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.dir.path().join("report.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The name and deepest run of the cycle with the most samples.
    fn top_cycle(&self) -> (String, u64) {
        let report = self.report();
        let cycle = &report["cycles"][0];
        let name = cycle["name"]
            .as_str()
            .unwrap_or_else(|| panic!("{report:#}"));
        (name.to_owned(), cycle["max_depth"].as_u64().unwrap())
    }

    fn svg(&self) -> String {
        fs::read_to_string(self.dir.path().join("flame.svg")).unwrap()
    }
}

/// Runs `command` on the fixture crate `krate` with `args`, writing the
/// flame graph and the JSON report into a fresh directory.
fn run_on(mut command: Command, krate: &str, args: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    let output = command
        .current_dir(dir.path())
        // The tests expect autofold's own settings, not the caller's.
        .env_remove("CARGO_PROFILE_RELEASE_DEBUG")
        .env_remove("CARGO_PROFILE_RELEASE_STRIP")
        .arg("--manifest-path")
        .arg(fixture(krate).join("Cargo.toml"))
        .args(["-o", "flame.svg", "--report", "report.json"])
        .args(args)
        .output()
        .expect("cargo-autofold runs");
    Run { output, dir }
}

/// `cargo-autofold autofold ARGS`, as cargo runs the subcommand.
fn cargo_autofold(krate: &str, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-autofold"));
    command.arg("autofold");
    run_on(command, krate, args)
}

/// `cargo autofold ARGS` through cargo itself, which finds `cargo-autofold`
/// on `PATH` as it finds an installed one.
fn through_cargo(krate: &str, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO"));
    command.arg("autofold").env("PATH", path_with(&bin_dir()));
    run_on(command, krate, args)
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_cargo-autofold"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn path_with(dir: &Path) -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest)))
        .unwrap()
}

#[test]
fn cargo_autofold_dev_builds_even_odd_and_folds_its_cycle() {
    if skip_perf_tests() {
        return;
    }
    let run = through_cargo("even-odd", &["--dev"]);
    run.assert_recorded();
    let stderr = run.stderr();
    assert!(
        stderr.contains("Finished `dev` profile"),
        "cargo's own output shows\n{stderr}"
    );
    assert!(!stderr.contains("CARGO_PROFILE_RELEASE_DEBUG"), "{stderr}");
    assert_eq!(run.top_cycle().0, EVEN_ODD);
    assert_eq!(
        run.report()["cycles"][0]["members"],
        serde_json::json!(["even_odd::even", "even_odd::odd"])
    );
    let svg = run.svg();
    assert_well_formed_xml(&svg);
    assert!(svg.contains(EVEN_ODD));
    assert!(stderr.contains(EVEN_ODD), "the text report goes to stderr");
}

#[test]
fn bin_and_program_arguments_reach_the_program() {
    if skip_perf_tests() {
        return;
    }
    let run = cargo_autofold(
        "even-odd",
        &["--dev", "--bin", "even-odd", "--", "300", "4"],
    );
    run.assert_recorded();
    let (cycle, depth) = run.top_cycle();
    assert_eq!(cycle, EVEN_ODD);
    // A run is as deep as the deepest sample caught (about 300 frames; at
    // most 102 with the default depth of 100).
    assert!(
        depth > 200,
        "DEPTH 300 reached the program: the deepest run has {depth} frames (about 100 by default)"
    );
}

#[test]
fn an_example_is_built_and_profiled_with_its_arguments() {
    if skip_perf_tests() {
        return;
    }
    let run = cargo_autofold(
        "even-odd",
        &["--dev", "--example", "three_way", "--", "150", "10"],
    );
    run.assert_recorded();
    let (cycle, depth) = run.top_cycle();
    assert_eq!(cycle, THREE_WAY);
    // Each level calls crunch, so samples reach every depth; the default is 90.
    assert!(depth > 120, "DEPTH 150 reached the example: {depth}");
}

#[test]
fn a_program_failing_too_briefly_to_sample_passes_its_exit_code_on() {
    if skip_perf_tests() {
        return;
    }
    // One even/odd level, sampled once a second of CPU: never sampled.
    let run = cargo_autofold("even-odd", &["--dev", "-F", "1", "--", "0", "1", "3"]);
    run.assert_failed_without_output();
    assert_eq!(run.output.status.code(), Some(3), "{}", run.stderr());
    let last = run.stderr().lines().last().unwrap_or_default().to_owned();
    assert!(last.contains("recorded no samples"), "{last}");
}

/// The default is release with debug info. even-odd's own binary is no use
/// here: its calls are tail calls, which an optimised build turns into
/// jumps, so the recursion never shows on the stack. The example's calls
/// are not, and its cycle survives.
#[test]
fn the_default_release_build_gets_debug_info_and_says_so() {
    if skip_perf_tests() {
        return;
    }
    let manifest = fixture("even-odd/Cargo.toml");
    let manifest_before = fs::read(&manifest).unwrap();
    let run = cargo_autofold("even-odd", &["--example", "three_way", "--", "90", "120"]);
    run.assert_recorded();
    let stderr = run.stderr();
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CARGO_PROFILE_RELEASE_DEBUG=true"))
        .collect();
    assert_eq!(notes.len(), 1, "one line says how\n{stderr}");
    assert!(notes[0].starts_with("autofold: release build with debug info"));
    assert!(
        stderr.contains("Finished `release` profile [optimized + debuginfo]"),
        "cargo says the build has debug info\n{stderr}"
    );
    assert_eq!(run.top_cycle().0, THREE_WAY);
    assert_eq!(
        fs::read(&manifest).unwrap(),
        manifest_before,
        "Cargo.toml is left alone"
    );
}

#[test]
fn bin_chooses_one_of_several_binaries() {
    if skip_perf_tests() {
        return;
    }
    let run = cargo_autofold("two-bins", &["--dev", "--bin", "climb"]);
    run.assert_recorded();
    assert_eq!(run.top_cycle().0, "climb::ascend");
    assert!(!run.svg().contains("walk::"), "only climb was profiled");
}

#[test]
fn several_binaries_and_no_bin_get_cargos_list() {
    let run = cargo_autofold("two-bins", &["--dev"]);
    run.assert_failed_without_output();
    let stderr = run.stderr();
    assert!(stderr.contains("--bin NAME"), "{stderr}");
    let list = stderr
        .split_once("Available binaries:")
        .unwrap_or_else(|| panic!("cargo's list is shown\n{stderr}"))
        .1;
    let listed: Vec<&str> = list.split_whitespace().collect();
    assert_eq!(listed, ["climb", "walk"], "{stderr}");
}

#[test]
fn an_unknown_bin_gets_cargos_message_and_fails() {
    let run = cargo_autofold("even-odd", &["--dev", "--bin", "nope"]);
    run.assert_failed_without_output();
    let stderr = run.stderr();
    assert!(
        stderr.contains("no bin target named `nope`"),
        "cargo's own message\n{stderr}"
    );
}

/// The names of autofold's subcommands, from the parser's definitions, so
/// a subcommand added later is checked too.
fn subcommands() -> Vec<String> {
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for expected in ["fold", "report", "record", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    names
}

#[test]
fn completions_for_every_shell_mention_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = autofold().args(["completions", shell]).success().stdout;
        let script = String::from_utf8(script).unwrap();
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for subcommand in subcommands() {
            assert!(
                script.contains(&subcommand),
                "{shell}: `{subcommand}` is not completed"
            );
        }
        assert!(script.contains("keep-perf-data"), "{shell}: options too");
    }
}

#[test]
fn man_prints_autofolds_page_and_writes_one_per_subcommand() {
    let page = String::from_utf8(autofold().arg("man").success().stdout).unwrap();
    assert!(page.contains(".TH autofold 1"), "{page}");
    for subcommand in subcommands() {
        assert!(page.contains(&subcommand), "`{subcommand}` is listed");
    }
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("man1");
    autofold().args(["man", "--out"]).arg(&out).success();
    let mut pages: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut expected: Vec<String> = subcommands()
        .iter()
        .map(|s| format!("autofold-{s}.1"))
        .chain(["autofold.1".into(), "cargo-autofold.1".into()])
        .collect();
    expected.sort();
    assert_eq!(pages, expected);
    let cargo_page = fs::read_to_string(out.join("cargo-autofold.1")).unwrap();
    for flag in ["unit\\-test", "manifest\\-path", "keep\\-perf\\-data"] {
        assert!(cargo_page.contains(flag), "{flag} in cargo-autofold.1");
    }
}

#[test]
fn cargo_autofold_off_cpu_weighs_wall_clock_time() {
    if skip_perf_tests() {
        return;
    }
    let run = cargo_autofold("even-odd", &["--dev", "--off-cpu"]);
    run.assert_recorded();
    let report = run.report();
    assert_eq!(report["unit"], "microseconds", "{report:#}");
    assert_eq!(run.top_cycle().0, EVEN_ODD);
    let cycle = &report["cycles"][0];
    let (on, off) = (
        cycle["on_cpu"].as_u64().unwrap(),
        cycle["off_cpu"].as_u64().unwrap(),
    );
    assert_eq!(on + off, cycle["samples"].as_u64().unwrap());
    // even-odd computes: nearly all of its time is on the CPU.
    assert!(on > 10 * off, "{cycle:#}");
}
