//! `autofold record` end to end: autofold's own sampler (the kernel's perf
//! events) recording real programs that these tests build (the Rust even/odd
//! fixture and a C expression parser); the perf binary where a test keeps a
//! perf.data. tests/sampler.rs compares the two.
//!
//! Set `AUTOFOLD_SKIP_PERF_TESTS=1` to skip them; otherwise a machine where
//! perf events cannot be recorded fails them, with the reason.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::util::fold::total;
use crate::util::perf::{self, even_odd, expr_program, interrupted_record, samples_in, skip};
use crate::util::{assert_well_formed_xml, autofold};

/// What one recording left behind.
struct Recorded {
    output: Output,
    dir: TempDir,
}

impl Recorded {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn folded(&self) -> String {
        fs::read_to_string(self.path("out.folded")).expect("--folded was written")
    }

    fn report(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.path("report.json")).expect("--report was written");
        serde_json::from_str(&text).unwrap()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The number of samples perf itself lists in the kept recording.
    fn perf_samples(&self) -> u64 {
        samples_in(&self.path("perf.data"))
    }

    /// The samples of the folded output, checked against the report's total.
    fn total_samples(&self) -> u64 {
        let total = total(&self.folded());
        assert_eq!(
            self.report()["total_samples"],
            total,
            "report and folded agree"
        );
        total
    }
}

/// Runs `autofold record` with every output in a fresh directory; fails the
/// test with autofold's message if nothing was recorded.
fn record(extra: &[&str], command: &[&Path], args: &[&str]) -> Recorded {
    let dir = TempDir::new().unwrap();
    let output = perf::record(dir.path())
        .args(extra)
        .arg("--")
        .args(command)
        .args(args)
        .output();
    let recorded = Recorded { output, dir };
    assert!(
        recorded.path("flame.svg").exists(),
        "autofold record wrote no flame graph; are perf events allowed here? \
         (set AUTOFOLD_SKIP_PERF_TESTS=1 to skip)\n{}",
        recorded.stderr()
    );
    recorded
}

fn assert_cycle_once_per_stack(folded: &str, cycle: &str) {
    for line in folded.lines() {
        let (stack, _) = line.rsplit_once(' ').unwrap();
        let seen = stack.split(';').filter(|f| *f == cycle).count();
        assert!(seen <= 1, "{cycle} appears {seen} times in {line}");
    }
}

#[test]
fn even_odd_folds_into_one_frame_with_its_helpers_beneath() {
    if skip() {
        return;
    }
    let run = record(&[], &[even_odd()], &[]);
    assert!(run.output.status.success(), "{}", run.stderr());
    let cycle = "even_odd::{even,odd}";
    let report = run.report();
    assert_eq!(report["cycles"][0]["name"], cycle, "{report:#}");
    assert_eq!(
        report["cycles"][0]["members"],
        serde_json::json!(["even_odd::even", "even_odd::odd"])
    );
    let folded = run.folded();
    assert!(
        folded.contains(&format!("{cycle};even_odd::crunch ")),
        "{folded}"
    );
    assert!(
        folded.contains(&format!("{cycle};even_odd::settle")),
        "{folded}"
    );
    assert_cycle_once_per_stack(&folded, cycle);
    // About a second of CPU at 997 Hz.
    let total = run.total_samples();
    assert!((400..3000).contains(&total), "{total} samples");
    let svg = fs::read_to_string(run.path("flame.svg")).unwrap();
    assert_well_formed_xml(&svg);
    assert!(svg.contains(cycle));
    assert!(
        run.stderr().contains(cycle),
        "the text report goes to stderr"
    );
}

#[test]
fn recursion_deeper_than_127_frames_is_not_cut() {
    if skip() {
        return;
    }
    let run = record(&["--no-reroot"], &[even_odd()], &["400", "8"]);
    let report = run.report();
    let depth = report["cycles"][0]["max_depth"].as_u64().unwrap();
    assert!(
        depth > 127,
        "deepest even/odd run has {depth} frames: perf cut the stacks"
    );
}

#[test]
fn three_function_cycle_in_c_is_found_and_the_exit_code_passed_on() {
    if skip() {
        return;
    }
    let build = TempDir::new().unwrap();
    let program = expr_program(build.path());
    let run = record(&[], &[&program], &["150", "200", "3"]);
    assert_eq!(run.output.status.code(), Some(3), "{}", run.stderr());
    let cycle = "{expr,factor,term}";
    let report = run.report();
    assert_eq!(report["cycles"][0]["name"], cycle, "{report:#}");
    // The recording is named by what was recorded, and by what recorded it.
    let input = &report["inputs"][0];
    let command_line = format!("{} 150 200 3", program.display());
    assert_eq!(input["source"], command_line.as_str(), "{input}");
    assert_eq!(input["format"], "perf events", "{input}");
    let folded = run.folded();
    assert!(
        folded.contains(&format!("main;{cycle};checksum ")),
        "{folded}"
    );
    assert_cycle_once_per_stack(&folded, cycle);
    assert!(run.total_samples() > 100);
    let svg = fs::read_to_string(run.path("flame.svg")).unwrap();
    assert_well_formed_xml(&svg);
    assert!(svg.contains(cycle));

    let ignored = record(
        &["--ignore-status", "--perf"],
        &[&program],
        &["20", "50", "3"],
    );
    assert_eq!(
        ignored.output.status.code(),
        Some(0),
        "{}",
        ignored.stderr()
    );
    // Through perf, not the temporary perf.data's path (gone by now).
    let input = &ignored.report()["inputs"][0];
    let command_line = format!("{} 20 50 3", program.display());
    assert_eq!(input["source"], command_line.as_str(), "{input}");
    assert_eq!(input["format"], "perf.data", "{input}");
}

#[test]
fn ctrl_c_stops_the_command_and_still_renders() {
    if skip() {
        return;
    }
    let build = TempDir::new().unwrap();
    let program = expr_program(build.path());
    let dir = TempDir::new().unwrap();
    let long_run = [program.as_os_str(), "150".as_ref(), "1000000".as_ref()];
    let output = interrupted_record(
        dir.path(),
        &[
            &["-o".as_ref(), "flame.svg".as_ref(), "--".as_ref()],
            &long_run[..],
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(130),
        "exit code of a command stopped by SIGINT\n{stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    let svg = fs::read_to_string(dir.path().join("flame.svg")).expect("the flame graph is written");
    assert_well_formed_xml(&svg);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["flame.svg"],
        "no temporary or half-written files"
    );
}

#[test]
fn an_existing_recording_is_processed_without_recording_again() {
    if skip() {
        return;
    }
    let build = TempDir::new().unwrap();
    let program = expr_program(build.path());
    let first = record(
        &["--keep-perf-data", "perf.data"],
        &[&program],
        &["60", "100"],
    );
    assert_eq!(
        first.total_samples(),
        first.perf_samples(),
        "samples in the folded output = samples perf recorded"
    );
    let dir = TempDir::new().unwrap();
    let output = autofold()
        .current_dir(dir.path())
        .args([
            "record",
            "--folded",
            "again.folded",
            "-o",
            "again.svg",
            "--perf-data",
        ])
        .arg(first.path("perf.data"))
        .output();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let again = fs::read_to_string(dir.path().join("again.folded")).unwrap();
    assert_eq!(again, first.folded(), "the same recording folds the same");
    assert!(
        first.path("perf.data").exists(),
        "--perf-data input is left alone"
    );
}

#[test]
fn attaching_to_a_running_process_records_until_ctrl_c() {
    if skip() {
        return;
    }
    let build = TempDir::new().unwrap();
    let program = expr_program(build.path());
    let mut target = Command::new(&program)
        .args(["150", "1000000"])
        .spawn()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let pid = target.id().to_string();
    let args = ["-o", "flame.svg", "--folded", "out.folded", "--pid", &pid];
    let output = interrupted_record(dir.path(), &args.map(std::ffi::OsStr::new));
    target.kill().unwrap();
    target.wait().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let folded = fs::read_to_string(dir.path().join("out.folded")).unwrap();
    assert!(folded.contains("{expr,factor,term};checksum"), "{folded}");
    assert_well_formed_xml(&fs::read_to_string(dir.path().join("flame.svg")).unwrap());
}

#[test]
fn frame_pointer_call_graphs_and_flame_graph_options_are_passed_on() {
    if skip() {
        return;
    }
    let build = TempDir::new().unwrap();
    let program = expr_program(build.path());
    let run = record(
        &[
            "--call-graph",
            "fp",
            "--title",
            "expr under fp",
            "--inverted",
            "--image-width",
            "900",
        ],
        &[&program],
        &["100", "150"],
    );
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(run.folded().contains("main;{expr,factor,term};checksum"));
    let svg = fs::read_to_string(run.path("flame.svg")).unwrap();
    assert!(svg.contains("expr under fp"));
    assert!(
        svg.contains("width=\"900\""),
        "--image-width reaches inferno"
    );
    assert!(
        svg.contains("inverted = true"),
        "--inverted reaches inferno"
    );
}

#[test]
fn a_command_too_brief_to_be_sampled_says_why() {
    if skip() {
        return;
    }
    // `true` runs for about a millisecond; at 10 Hz perf takes no sample.
    let dir = TempDir::new().unwrap();
    let output = autofold()
        .current_dir(dir.path())
        .args(["record", "-F", "10", "--", "true"])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("autofold: error: recorded no samples: ") && last.contains("too briefly"),
        "{stderr}"
    );
    assert!(!dir.path().join("flamegraph.svg").exists());
}
