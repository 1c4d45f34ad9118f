//! Helpers shared by the integration tests: run the engine on text.

#![allow(dead_code)]

pub mod browser;
pub mod perf;
pub mod svg;

use std::io::Cursor;
use std::path::PathBuf;

use autofold::engine::fold::FoldOptions;
use autofold::engine::graph::FrameFilter;
use autofold::engine::report::Report;
use autofold::engine::{EngineOptions, analyse};
use autofold::input::{ReadOptions, Source, read_from};
use autofold::output::write_folded;
use autofold::profile::Profile;

/// Folds folded-stack text; returns the folded text and the report.
pub fn fold_text(text: &str, exclude: &[&str]) -> (String, Report) {
    let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
    let options = EngineOptions {
        filter: FrameFilter::new(&exclude).unwrap(),
        ..EngineOptions::default()
    };
    fold_with(text, &options)
}

/// Folds folded-stack text with `options`.
pub fn fold_with(text: &str, options: &EngineOptions) -> (String, Report) {
    let source = Source::File("test.folded".into());
    let reader = Box::new(Cursor::new(text.as_bytes().to_vec()));
    let profile = read_from(reader, &source, &ReadOptions::default(), 0).expect("valid input");
    let analysis = analyse(profile.finish(), options);
    let mut out = Vec::new();
    write_folded(&analysis.folded, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), analysis.report)
}

/// Engine options without re-rooting.
pub fn no_reroot() -> EngineOptions {
    EngineOptions {
        fold: FoldOptions {
            reroot: false,
            ..FoldOptions::default()
        },
        ..EngineOptions::default()
    }
}

/// Folds folded-stack text with default options; returns the folded text.
pub fn fold(text: &str) -> String {
    fold_text(text, &[]).0
}

/// The sum of the counts of folded lines.
pub fn total(text: &str) -> u64 {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum()
}

/// The first of `names` found on `PATH`.
pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The profiler `program` (from `$VAR` if set, else `PATH`), or `None` when
/// it is missing and `AUTOFOLD_SKIP_PROFILER_TESTS=1` lets tests skip it;
/// otherwise a missing profiler fails the test, saying how to install it.
pub fn profiler(program: &str, var: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| on_path(&[program]));
    match found {
        Some(path) => Some(path),
        None if std::env::var_os("AUTOFOLD_SKIP_PROFILER_TESTS").is_some_and(|v| v == "1") => {
            eprintln!("skipped: {program} not found (AUTOFOLD_SKIP_PROFILER_TESTS=1)");
            None
        }
        None => panic!(
            "{program} not found: {install}, or set ${var}; AUTOFOLD_SKIP_PROFILER_TESTS=1 skips this test"
        ),
    }
}

/// Runs the built `autofold` in `dir` with `args`; fails the test, showing
/// autofold's standard error, unless it succeeds.
pub fn autofold_ok(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_autofold"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("autofold runs");
    assert!(
        out.status.success(),
        "autofold {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `autofold report --format json PROFILE EXTRA…`, which must succeed.
pub fn json_report(profile: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["report", "--format", "json", profile.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = autofold_ok(std::path::Path::new("."), &args);
    serde_json::from_slice(&out.stdout).expect("the report is JSON")
}

/// Every stack of `profile` as text (printed frames joined by `;`, an empty
/// root-label slot left out) with its samples, stacks that print alike summed.
pub fn printed_stacks(profile: &Profile) -> std::collections::BTreeMap<String, u64> {
    let mut map = std::collections::BTreeMap::new();
    for (ids, count) in profile.stacks() {
        let names: Vec<&str> = autofold::profile::printed(ids)
            .iter()
            .map(|&i| profile.frames.name(i))
            .collect();
        *map.entry(names.join(";")).or_default() += count;
    }
    map
}

/// The names of the cycles of a JSON report, in its order.
pub fn cycle_names(report: &serde_json::Value) -> Vec<String> {
    report["cycles"]
        .as_array()
        .expect("cycles is an array")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// A file under `fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// The text of a file under `fixtures/`.
pub fn read_fixture(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Fails the test unless `text` parses as XML from start to end.
pub fn assert_well_formed_xml(text: &str) {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "SVG is not well-formed XML at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
}
