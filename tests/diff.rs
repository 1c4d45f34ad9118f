//! `autofold diff`: two profiles folded with one cycle set and drawn as a
//! differential flame graph. The first tests diff real recordings of the
//! even/odd fixture at different depths (they need perf; set
//! `AUTOFOLD_SKIP_PERF_TESTS=1` to skip them); the rest use small inputs
//! written here.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, OnceLock};

use tempfile::TempDir;

use crate::util::perf::{even_odd, perf_script, skip};
use crate::util::svg::{DrawnFrame, frames, frames_named};
use crate::util::{assert_well_formed_xml, autofold, cycle_names};

const CYCLE: &str = "even_odd::{even,odd}";

/// `autofold ARGS` run in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    autofold().current_dir(dir).args(args).output()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `autofold diff ARGS` in `dir`, which must succeed; its JSON report and
/// the frames of its flame graph (`diff.svg`).
fn diff(dir: &Path, args: &[&str]) -> (serde_json::Value, Vec<DrawnFrame>) {
    let mut all = vec!["diff", "--format", "json"];
    all.extend(args);
    let output = run(dir, &all);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = serde_json::from_slice(&output.stdout).expect("JSON report on stdout");
    let svg = fs::read_to_string(dir.join("diff.svg")).expect("diff.svg is written");
    assert_well_formed_xml(&svg);
    (report, frames(&svg))
}

/// `perf script` output of `even-odd DEPTH REPETITIONS`, recorded once per
/// test run by `autofold record --keep-perf-data` (its `--folded` output
/// would already be folded: a diff needs the stacks as they were).
fn recording(depth: u32, repetitions: u32) -> PathBuf {
    static RECORDED: OnceLock<Mutex<Vec<(u32, u32)>>> = OnceLock::new();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let name = format!("even-odd-{depth}-{repetitions}");
    let (data, script) = (
        dir.join(format!("{name}.data")),
        dir.join(format!("{name}.txt")),
    );
    let mut done = RECORDED.get_or_init(Default::default).lock().unwrap();
    if done.contains(&(depth, repetitions)) {
        return script;
    }
    let output = autofold()
        .current_dir(dir)
        .arg("record")
        .arg("--keep-perf-data")
        .arg(&data)
        .arg("-o")
        .arg(format!("{name}.svg"))
        .arg("--")
        .arg(even_odd())
        .args([depth.to_string(), repetitions.to_string()])
        .output();
    assert!(
        output.status.success() && data.exists(),
        "recording even-odd {depth} {repetitions} failed; is perf allowed to record here? \
         (set AUTOFOLD_SKIP_PERF_TESTS=1 to skip)\n{}",
        stderr(&output)
    );
    fs::write(&script, perf_script(&data, &["--no-inline"])).unwrap();
    fs::remove_file(&data).unwrap();
    done.push((depth, repetitions));
    script
}

/// The cycle `name` in a diff report.
fn cycle<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cycle {name} in {report:#}"))
}

/// A frame's fill as (r, g, b).
fn rgb(frame: &DrawnFrame) -> (u8, u8, u8) {
    let inner = frame
        .fill
        .strip_prefix("rgb(")
        .and_then(|f| f.strip_suffix(')'))
        .unwrap_or_else(|| panic!("fill {:?}", frame.fill));
    let parts: Vec<u8> = inner
        .split(',')
        .map(|p| p.trim().parse().unwrap())
        .collect();
    (parts[0], parts[1], parts[2])
}

/// inferno colours a frame that grew red: full red, equal green and blue.
fn is_grown(frame: &DrawnFrame) -> bool {
    let (r, g, b) = rgb(frame);
    r == 255 && g == b && g < 250
}

/// …and one that shrank blue.
fn is_shrunk(frame: &DrawnFrame) -> bool {
    let (r, g, b) = rgb(frame);
    b == 255 && r == g && r < 250
}

/// The widest frame `name` right above a frame `parent`.
fn widest_above<'a>(frames: &'a [DrawnFrame], name: &str, parent: &str) -> &'a DrawnFrame {
    let parents = frames_named(frames, parent);
    let y = |f: &DrawnFrame| f.y.parse::<f64>().unwrap();
    frames_named(frames, name)
        .into_iter()
        .find(|f| parents.iter().any(|p| (y(p) - y(f) - 16.0).abs() < 0.5))
        .unwrap_or_else(|| panic!("no {name} right above {parent}"))
}

/// The names of the cycles `autofold report` finds in `folded` alone.
fn cycles_alone(folded: &Path) -> Vec<String> {
    let output = run(
        folded.parent().unwrap(),
        &["report", "--format", "json", folded.to_str().unwrap()],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    cycle_names(&report)
}

#[test]
fn deeper_recursion_keeps_one_cycle_name_and_counts_its_work() {
    if skip() {
        return;
    }
    // Every level of the recursion calls `crunch` once, and the bottom calls
    // `settle` once: 4 times the depth is about 4 times the `crunch` work,
    // and the same `settle` work.
    let (shallow, deep) = (recording(50, 60), recording(200, 60));
    let dir = TempDir::new().unwrap();
    let (report, drawn) = diff(
        dir.path(),
        &[shallow.to_str().unwrap(), deep.to_str().unwrap()],
    );
    let even_odd = cycle(&report, CYCLE);
    assert_eq!(
        even_odd["members"],
        serde_json::json!(["even_odd::even", "even_odd::odd"])
    );
    assert!(
        even_odd["before_samples"].as_u64() > Some(0),
        "{even_odd:#}"
    );
    assert!(even_odd["after_samples"].as_u64() > Some(0), "{even_odd:#}");
    assert!(
        frames_named(&drawn, "even_odd::even").is_empty()
            && frames_named(&drawn, "even_odd::odd").is_empty(),
        "every run of the recursion is folded"
    );
    // About 4 times the samples: the totals differ by far more than 10 %,
    // so the flame graph compares shares (normalised), and crunch's share
    // under the cycle hardly changes: it is not drawn as grown.
    let crunch = widest_above(&drawn, "even_odd::crunch", CYCLE);
    let (before, after) = (
        even_odd["before_samples"].as_u64().unwrap(),
        even_odd["after_samples"].as_u64().unwrap(),
    );
    assert!(after > 2 * before, "{even_odd:#}");
    assert!(crunch.samples > 0, "{crunch:?}");

    // settle runs once a repetition at either depth: a sample or two, too
    // few for its share to say anything; it is not checked.
}

#[test]
fn a_side_that_never_recursed_deep_enough_shares_the_cycle_name() {
    if skip() {
        return;
    }
    // even(0) returns at once and even(1) calls odd(0), which returns: the
    // shallow run has even -> odd but never odd -> even, so no cycle alone.
    let (deep, flat) = (recording(200, 60), recording(0, 1500));
    let alone = cycles_alone(&flat);
    assert!(
        !alone.iter().any(|c| c.contains("even")),
        "even-odd 0 has no even/odd cycle of its own: {alone:?}"
    );
    assert!(cycles_alone(&deep).contains(&CYCLE.to_string()));

    // The flat run as AFTER: its frames are the ones drawn.
    let dir = TempDir::new().unwrap();
    let (report, drawn) = diff(
        dir.path(),
        &[deep.to_str().unwrap(), flat.to_str().unwrap()],
    );
    let even_odd = cycle(&report, CYCLE);
    assert!(
        even_odd["before_samples"].as_u64() > Some(0),
        "{even_odd:#}"
    );
    assert!(even_odd["after_samples"].as_u64() > Some(0), "{even_odd:#}");
    assert!(
        frames_named(&drawn, "even_odd::even").is_empty(),
        "the flat side's even is folded into the shared cycle"
    );
    let crunch = widest_above(&drawn, "even_odd::crunch", CYCLE);
    assert!(is_shrunk(crunch), "crunch shrank: {crunch:?}");
}

/// Writes `name` in `dir` with `text`; returns its path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn normalize_scales_the_before_side_to_the_after_sides_total() {
    let dir = TempDir::new().unwrap();
    let before = write(dir.path(), "before.folded", "p;main;a 10\n");
    let after = write(dir.path(), "after.folded", "p;main;a 20\np;main;b 20\n");
    for args in [vec![], vec!["--normalize"]] {
        let mut args = args;
        args.splice(0..0, [before.as_str(), after.as_str()]);
        let (_, drawn) = diff(dir.path(), &args);
        assert!(
            is_shrunk(frames_named(&drawn, "a")[0]),
            "{args:?}: 10 of 10 scaled to 40 of 40 -> 20 of 40 (totals 4x apart: by default)"
        );
    }
}

#[test]
fn totals_within_a_tenth_are_compared_as_they_are() {
    let dir = TempDir::new().unwrap();
    let before = write(dir.path(), "before.folded", "p;main;a 10\np;main;b 40\n");
    let after = write(dir.path(), "after.folded", "p;main;a 15\np;main;b 38\n");
    let (_, drawn) = diff(dir.path(), &[&before, &after]);
    assert!(is_grown(frames_named(&drawn, "a")[0]), "10 -> 15 samples");
}

#[test]
fn no_normalize_compares_counts_whatever_the_totals() {
    let dir = TempDir::new().unwrap();
    let before = write(dir.path(), "before.folded", "p;main;a 10\n");
    let after = write(dir.path(), "after.folded", "p;main;a 20\np;main;b 20\n");
    let args = [before.as_str(), after.as_str(), "--no-normalize"];
    let (_, drawn) = diff(dir.path(), &args);
    assert!(
        is_grown(frames_named(&drawn, "a")[0]),
        "10 -> 20 samples, unscaled"
    );
}

#[test]
fn several_files_a_side_are_merged() {
    let dir = TempDir::new().unwrap();
    let b1 = write(dir.path(), "b1.folded", "p;main;x;y;x;y;leaf 3\n");
    let b2 = write(dir.path(), "b2.folded", "p;main;leaf 1\n");
    let after = write(dir.path(), "a.folded", "p;main;x;leaf 2\n");
    let args = ["--before", &b1, "--before", &b2, "--after", &after];
    let (report, _) = diff(dir.path(), &args);
    assert_eq!(report["before_total_samples"], 4);
    assert_eq!(report["after_total_samples"], 2);
    let x = cycle(&report, "{x,y}");
    assert_eq!(x["before_percent"], 75.0);
    assert_eq!(x["after_percent"], 100.0);
    assert_eq!(x["change"], 25.0);
}

#[test]
fn the_text_report_goes_to_stdout_and_outputs_never_overwrite_an_input() {
    let dir = TempDir::new().unwrap();
    let before = write(dir.path(), "before.folded", "p;main;f;f;leaf 1\n");
    let after = write(dir.path(), "after.folded", "p;main;f;leaf 3\n");
    let output = run(dir.path(), &["diff", &before, &after, "-o", "d.svg"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("1 samples before, 3 after"), "{text}");
    assert!(
        text.contains("  100.00%   100.00%     +0.00  f\n"),
        "{text}"
    );
    assert!(dir.path().join("d.svg").exists());

    let output = run(dir.path(), &["diff", &before, &after, "-o", &after]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("refusing to overwrite an input file"));
    assert_eq!(fs::read_to_string(&after).unwrap(), "p;main;f;leaf 3\n");
}

#[test]
fn a_side_without_samples_is_an_error() {
    let dir = TempDir::new().unwrap();
    let before = write(dir.path(), "before.folded", "\n");
    let after = write(dir.path(), "after.folded", "p;main 3\n");
    let output = run(dir.path(), &["diff", &before, &after]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("BEFORE") && stderr(&output).contains("no samples"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("diff.svg").exists());
}
