//! Other profilers' real output (fixtures/README.md, "Other profilers'
//! output"), gzip, root labels, empty stacks, count overflow and pprof out:
//! what a user of each profiler sees.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::process::Command;

use serde_json::Value;

use crate::util::fold::{printed_stacks, total};
use crate::util::tools::profiler;
use crate::util::{autofold, cycle_names, fixture, json_report, read_fixture};
use autofold::input::root_label::RootLabel;
use autofold::input::{ReadOptions, Source, read_from};
use autofold::profile::Profile;

/// Runs autofold with `args`; returns standard output, failing on error.
fn run(args: &[&str]) -> String {
    String::from_utf8(autofold().args(args).success().stdout).unwrap()
}

/// The JSON report of a fixture.
fn report(path: &str, extra: &[&str]) -> Value {
    json_report(&fixture(path), extra)
}

/// The folded output of a fixture.
fn folded(path: &str, extra: &[&str]) -> String {
    let file = fixture(path);
    let mut args = vec!["fold", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

/// A fixture read by the library, unfolded.
fn read(path: &str, options: &ReadOptions) -> Profile {
    let bytes = std::fs::read(fixture(path)).unwrap();
    let source = Source::File(path.into());
    read_from(Box::new(Cursor::new(bytes)), &source, options, 0)
        .unwrap()
        .finish()
        .profile
}

#[test]
fn py_spy_first_frames_are_functions_so_nothing_is_called_truncated() {
    let report = report("python/even-odd.pyspy.folded", &[]);
    assert_eq!(report["inputs"][0]["root_labels"], false);
    assert_eq!(report["inputs"][0]["format"], "py-spy folded stacks");
    assert_eq!(report["truncation"]["truncated_samples"], 0);
    // 118 samples in the file, the 16 of its empty stack included.
    let input = read_fixture("python/even-odd.pyspy.folded");
    assert_eq!(report["total_samples"], total(&input));
    assert_eq!(report["total_samples"], 118);
    let even_odd = &report["cycles"][0];
    let members: Vec<&str> = even_odd["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(members, ["even (even_odd.py)", "odd (even_odd.py)"]);
    assert_eq!(even_odd["samples"], 77);
    // `<module>` is a frame, not a label: it leads into the recursion.
    assert_eq!(
        even_odd["entries"][0]["name"],
        "main.<locals>.<genexpr> (even_odd.py)"
    );
}

/// py-spy names a frame by the line it stands on: in the fixture, `odd`
/// calls `even` from line 40, `crunch` from line 37 and `settle` from line
/// 39; `even` calls `odd` from line 33 and `crunch` from line 30. Each
/// function is one frame, so the recursion's exits are the functions it
/// calls, not its own members on another line.
#[test]
fn py_spy_one_function_is_one_frame_whatever_line_it_stands_on() {
    let report = report("python/even-odd.pyspy.folded", &[]);
    let cycles = report["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 1, "{report:#}");
    let even_odd = &cycles[0];
    assert_eq!(even_odd["name"], "{even,odd} (even_odd.py)");
    assert_eq!(
        even_odd["members"],
        serde_json::json!(["even (even_odd.py)", "odd (even_odd.py)"])
    );
    // Before, `odd (even_odd.py:37)` (45 samples), `even (even_odd.py:30)`
    // (31) and `odd (even_odd.py:39)` (1) were the exits.
    let exits: Vec<(&str, u64)> = even_odd["exits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["samples"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        exits,
        [("crunch (even_odd.py)", 76), ("settle (even_odd.py)", 1)]
    );
    // The deepest stack: `even` 51 times, `odd` 50 times on line 40 and
    // once on line 39, all of them now members.
    assert_eq!(even_odd["max_depth"], 102);
    let (module, main, genexpr) = (
        "<module> (even_odd.py)",
        "main (even_odd.py)",
        "main.<locals>.<genexpr> (even_odd.py)",
    );
    let garbage = "build_garbage (even_odd.py);build_garbage.<locals>.<listcomp> (even_odd.py)";
    let cycle = format!("{module};{main};{genexpr};{{even,odd}} (even_odd.py)");
    assert_eq!(
        folded("python/even-odd.pyspy.folded", &[]),
        format!(
            " 16\n\
             {module};{main};{garbage} 25\n\
             {cycle};crunch (even_odd.py) 76\n\
             {cycle};settle (even_odd.py) 1\n"
        )
    );
}

#[test]
fn py_spy_empty_stacks_are_kept_and_drawn() {
    let out = folded("python/even-odd.pyspy.folded", &[]);
    assert!(out.lines().any(|l| l == " 16"), "{out}");
    assert_eq!(total(&out), 118);
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("py.svg");
    let file = fixture("python/even-odd.pyspy.folded");
    run(&[
        "fold",
        file.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(
        svg.contains("[no frames] (16 samples, 13.56%)"),
        "the empty stack is drawn"
    );
    assert!(svg.contains("118 samples"), "the flame graph's total");
}

#[test]
fn root_label_option_overrules_the_evidence() {
    let as_labels = report("python/even-odd.pyspy.folded", &["--root-label", "yes"]);
    assert_eq!(as_labels["inputs"][0]["root_labels"], true);
    let as_frames = report("even-odd/even-odd-deep.folded", &["--root-label", "no"]);
    assert_eq!(as_frames["inputs"][0]["root_labels"], false);
    // The process name is now a frame above the cut stacks: none is cut.
    assert_eq!(as_frames["truncation"]["truncated_samples"], 0);
    let auto = report("even-odd/even-odd-deep.folded", &[]);
    assert_eq!(auto["inputs"][0]["root_labels"], true);
    assert_eq!(auto["truncation"]["truncated_samples"], 1005);
}

#[test]
fn gzip_input_reads_as_the_uncompressed_file() {
    for path in ["even-odd/even-odd.folded", "python/even-odd.pyspy.folded"] {
        let plain = folded(path, &[]);
        let gz = folded(&format!("{path}.gz"), &[]);
        assert_eq!(gz, plain, "{path}.gz");
    }
    let report = report("even-odd/even-odd.folded.gz", &[]);
    assert_eq!(
        report["inputs"][0]["format"],
        "gzip-compressed folded stacks"
    );
}

/// Go's `-traces` listing: each trace's frames (leaf first, `(inline)`
/// marks dropped), its value in ms → samples of 10 ms, root first.
fn go_traces() -> BTreeMap<String, u64> {
    let text = read_fixture("go/even-odd.pprof.traces.txt");
    let mut traces = BTreeMap::new();
    for block in text.split("-----------+").skip(1) {
        let mut lines = block.lines().skip(1).filter(|l| !l.trim().is_empty());
        let Some(first) = lines.next() else { continue };
        let (value, leaf) = first.trim().split_once(char::is_whitespace).unwrap();
        let ms: u64 = value.trim_end_matches("ms").parse().unwrap();
        let mut frames: Vec<&str> = std::iter::once(leaf.trim())
            .chain(lines.map(str::trim))
            .map(|f| f.trim_end_matches(" (inline)"))
            .collect();
        frames.reverse();
        *traces.entry(frames.join(";")).or_default() += ms / 10;
    }
    traces
}

#[test]
fn go_pprof_stacks_equal_go_tool_pprof_traces() {
    let profile = read("go/even-odd.pprof", &ReadOptions::default());
    assert_eq!(profile.inputs[0].format, "gzip-compressed pprof");
    assert_eq!(printed_stacks(&profile), go_traces());
    assert_eq!(profile.total_samples(), 241);
}

#[test]
fn go_cut_stacks_are_rerooted_under_main_main() {
    let report = report("go/even-odd.pprof", &[]);
    assert_eq!(cycle_names(&report), ["{main.even,main.odd}"]);
    let t = &report["truncation"];
    // 53 cut stacks begin at main.even, 57 at main.odd (fixtures/README.md).
    assert_eq!(t["truncated_samples"], 110);
    assert_eq!(t["rerooted_samples"], 110);
    // main.main enters the recursion by main.shallow and by main.deep: a cut
    // stack goes under what they share.
    let path: Vec<&str> = t["rerooted"][0]["entry_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(path, ["runtime.main", "main.main", "[truncated]"]);
    let out = folded("go/even-odd.pprof", &[]);
    assert!(
        out.lines()
            .all(|l| l.starts_with("runtime.main;main.main;")),
        "{out}"
    );
    assert_eq!(total(&out), 241);
}

#[test]
fn pprof_sample_type_chooses_the_value_counted() {
    let cpu = report("go/even-odd.pprof", &["--sample-type", "cpu"]);
    // 241 samples of 10 ms each.
    assert_eq!(cpu["total_samples"], 2_410_000_000u64);
    let by_unit = report("go/even-odd.pprof", &["--sample-type", "samples/count"]);
    assert_eq!(by_unit["total_samples"], 241);
}

#[test]
fn pprof_rs_profiles_fold_like_perf_ones() {
    let shallow = report("pprof-rs/even-odd.pb", &[]);
    assert_eq!(shallow["inputs"][0]["format"], "pprof");
    assert_eq!(shallow["total_samples"], 193);
    assert_eq!(cycle_names(&shallow), ["even_odd_pprof_rs::{even,odd}"]);
    // Cut at 128 frames, 400 levels deep: re-rooted under the one path.
    let deep = report("pprof-rs/even-odd-deep.pb", &[]);
    let t = &deep["truncation"];
    assert_eq!(t["truncated_samples"], t["rerooted_samples"]);
    assert_eq!(t["grouped_samples"], 0);
    let path = t["rerooted"][0]["entry_path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), "even_odd_pprof_rs::main::{{closure}}");
}

#[test]
fn node_cpuprofile_counts_every_sample_and_drops_the_root() {
    let json: Value = serde_json::from_str(&read_fixture("node/even-odd.cpuprofile")).unwrap();
    let samples = json["samples"].as_array().unwrap().len() as u64;
    let report = report("node/even-odd.cpuprofile", &[]);
    assert_eq!(report["total_samples"], samples);
    assert_eq!(report["inputs"][0]["format"], "Chrome/Node .cpuprofile");
    // even (line 28) and odd (line 36) of one file: the file named once.
    assert_eq!(report["cycles"][0]["name"], "{even,odd} (even_odd.js)");
    let out = folded("node/even-odd.cpuprofile", &[]);
    assert!(!out.contains("(root)"), "the tree's root is left out");
    // V8's own nodes hang directly under the root: 186 idle samples.
    assert!(out.lines().any(|l| l == "(idle) 186"), "{out}");
}

#[test]
fn counts_that_add_up_past_u64_max_name_the_line() {
    let out = autofold()
        .args(["fold", "-"])
        .stdin("p;a 1\np;b 18446744073709551615\np;c 5\n")
        .output();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim_end(),
        "autofold: error: <stdin>:2: the sample counts add up past 18446744073709551615 (the largest total autofold can hold)"
    );
}

#[test]
fn counts_that_overflow_across_files_name_the_second_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.folded"), dir.path().join("b.folded"));
    std::fs::write(&a, "p;a 18446744073709551000\n").unwrap();
    std::fs::write(&b, "p;b 600\np;c 16\n").unwrap();
    let out = autofold().arg("report").arg(&a).arg(&b).output();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "autofold: error: {}:2: the sample counts",
            b.display()
        )),
        "{stderr}"
    );
}

#[test]
fn an_overflow_deep_in_a_large_file_names_its_line() {
    // 60,000 lines of 40 bytes (three parser blocks of 1 MiB) add up to
    // 60,000; the next line's count takes the total to u64::MAX + 1.
    let mut text: String = (0..60_000)
        .map(|i| format!("p;function_with_a_longer_name_{i:06} 1\n"))
        .collect();
    assert!(text.len() > 2 << 20);
    text.push_str(&format!("p;big {}\n", u64::MAX - 59_999));
    text.push_str("p;last 1\n");
    let out = autofold().args(["fold", "-"]).stdin(text).output();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("autofold: error: <stdin>:60001: "),
        "{stderr}"
    );
}

#[test]
fn pprof_out_keeps_the_folded_stacks_and_their_total() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("even-odd.pb.gz");
    let input = fixture("even-odd/even-odd-deep.folded");
    let text = run(&[
        "fold",
        input.to_str().unwrap(),
        "--pprof",
        pb.to_str().unwrap(),
    ]);
    assert_eq!(&std::fs::read(&pb).unwrap()[..2], [0x1f, 0x8b], "gzipped");
    // Read back, the pprof holds the same stacks (the process name is now
    // the outermost function of each), cycle frames included.
    let back = read(pb.to_str().unwrap(), &ReadOptions::default());
    let folded_back: BTreeMap<String, u64> = text
        .lines()
        .map(|l| {
            let (stack, count) = l.rsplit_once(' ').unwrap();
            (stack.to_string(), count.parse().unwrap())
        })
        .collect();
    assert_eq!(printed_stacks(&back), folded_back);
    assert_eq!(
        back.total_samples(),
        total(&read_fixture("even-odd/even-odd-deep.folded"))
    );
    assert!(text.contains("even_odd::{even,odd}"));
}

#[test]
fn go_tool_pprof_reads_the_pprof_autofold_writes() {
    let Some(go) = profiler("go", "GO", "apt-get install golang-go") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("out.pb.gz");
    let input = fixture("even-odd/even-odd.folded");
    run(&[
        "fold",
        input.to_str().unwrap(),
        "--pprof",
        pb.to_str().unwrap(),
    ]);
    let out = Command::new(go)
        .args(["tool", "pprof", "-top", "-nodecount=200"])
        .arg(&pb)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "Showing nodes accounting for 954, 100% of 954 total"
    assert!(text.contains("of 954 total"), "{text}");
    assert!(text.contains("even_odd::{even,odd}"), "{text}");
}

#[test]
fn the_root_label_rule_keeps_every_bundled_perf_fixture_labelled() {
    for path in [
        "even-odd/even-odd.folded",
        "even-odd/even-odd-deep.folded",
        "expr/expr.folded",
        "interp/interp.folded",
        "serde-nested/serde-nested.folded",
        "cases/root-label.folded",
    ] {
        let profile = read(path, &ReadOptions::default());
        assert!(profile.inputs[0].root_labels, "{path}");
    }
    let forced = ReadOptions {
        root_label: RootLabel::No,
        ..ReadOptions::default()
    };
    assert!(!read("expr/expr.folded", &forced).inputs[0].root_labels);
}
