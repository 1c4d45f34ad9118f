//! Issue #24: each cycle member's source location, `file:line` of the
//! function where the input has one: DWARF of a program autofold's sampler
//! recorded (a function's entry, an inlined one's declaration), a
//! `.cpuprofile`'s call frames; the JSON report's
//! `member_sources` and the page's "source" column. The expected lines are
//! read from the sources themselves.

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::html::{browser_on, page};
use crate::util::perf::{compile_c, even_odd, record, skip};
use crate::util::{fixture, json_report, read_fixture, strings};

/// The 1-based line of `source` (a fixture's text) that starts with
/// `definition`; fails the test where there is none.
fn line_of(source: &str, definition: &str) -> usize {
    source
        .lines()
        .position(|line| line.starts_with(definition))
        .unwrap_or_else(|| panic!("no line starts with {definition:?}"))
        + 1
}

/// The cycle of `report` whose members include `member`.
fn cycle_with<'a>(report: &'a Value, member: &str) -> &'a Value {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| strings(&c["members"]).contains(&member))
        .unwrap_or_else(|| panic!("no cycle has {member}: {report:#}"))
}

/// The source location the report gives `member` of `cycle`.
fn source_of<'a>(cycle: &'a Value, member: &str) -> &'a str {
    let index = strings(&cycle["members"])
        .iter()
        .position(|m| *m == member)
        .unwrap();
    cycle["member_sources"][index]
        .as_str()
        .unwrap_or_else(|| panic!("{member} has no source location: {cycle:#}"))
}

#[test]
fn the_sampler_locates_even_and_odd_where_debug_info_says_they_are_written() {
    if skip() {
        return;
    }
    let program = even_odd();
    let dir = TempDir::new().unwrap();
    record(dir.path())
        .args(["--speedscope", "s.json", "--"])
        .arg(program)
        .args(["60", "20"])
        .success();
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let main_rs = fixture("even-odd/src/main.rs");
    let text = std::fs::read_to_string(&main_rs).unwrap();
    let cycle = cycle_with(&report, "even_odd::even");
    for (member, definition) in [("even_odd::even", "fn even("), ("even_odd::odd", "fn odd(")] {
        let expected = format!("{}:{}", main_rs.display(), line_of(&text, definition));
        let source = source_of(cycle, member);
        assert!(
            same_file_and_line(source, &expected),
            "{member}: {source}, expected {expected}"
        );
    }
    // The speedscope file's frame of crunch (below the cycle, so a frame
    // of its own) carries the same location, as `file` and `line`.
    let speedscope: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.json")).unwrap()).unwrap();
    let frames = speedscope["shared"]["frames"].as_array().unwrap();
    let crunch = frames
        .iter()
        .find(|f| f["name"] == "even_odd::crunch")
        .unwrap_or_else(|| panic!("no crunch frame: {frames:?}"));
    let located = format!("{}:{}", crunch["file"].as_str().unwrap(), crunch["line"]);
    let expected = format!("{}:{}", main_rs.display(), line_of(&text, "fn crunch("));
    assert!(
        same_file_and_line(&located, &expected),
        "crunch: {located}, expected {expected}"
    );
}

#[test]
fn an_inlined_member_is_located_where_debug_info_declares_it() {
    if skip() {
        return;
    }
    // `down` by its symbol's entry, `up` (inlined into it, no symbol of
    // its own) by DWARF's declaration: both on the line that names them.
    let source = "inlined/updown.c";
    assert_located_where_written(&[source], &["-O2"], &[("down", source), ("up", source)]);
}

#[test]
fn a_member_inlined_from_another_file_is_located_there() {
    if skip() {
        return;
    }
    // Link-time optimisation inlines up.c's `up` into down.c's `down`: the
    // declaration is in another compilation unit than the code.
    let (down, up) = ("inlined/across/down.c", "inlined/across/up.c");
    assert_located_where_written(
        &[down, up],
        &["-O2", "-flto"],
        &[("down", down), ("up", up)],
    );
}

/// Compiles the fixtures `sources` with `cc -g FLAGS` (frame pointers
/// kept; FLAGS after the helper's `-O0`, so `-O2` wins), records the
/// program with the sampler, and checks that each of `members` (a function
/// and the fixture it is written in) is located at its file and the line
/// that names it (`NAME(unsigned long n) {`).
fn assert_located_where_written(sources: &[&str], flags: &[&str], members: &[(&str, &str)]) {
    let dir = TempDir::new().unwrap();
    let program = compile_c(dir.path(), "program", sources, flags);
    record(dir.path())
        .arg("--")
        .arg(&program)
        .args(["100", "150"])
        .success();
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let cycle = cycle_with(&report, members[0].0);
    for &(member, source) in members {
        let text = read_fixture(source);
        let definition = format!("{member}(unsigned long n) {{");
        let expected = format!(
            "{}:{}",
            fixture(source).display(),
            line_of(&text, &definition)
        );
        let located = source_of(cycle, member);
        assert!(
            same_file_and_line(located, &expected),
            "{member}: {located}, expected {expected}"
        );
    }
}

/// Whether `source` is `expected` (`path:line`), the path seen through
/// links (the fixture's path as cargo gave it to the compiler may differ
/// from the test's by a link).
fn same_file_and_line(source: &str, expected: &str) -> bool {
    let split = |location: &str| -> Option<(std::path::PathBuf, String)> {
        let (file, line) = location.rsplit_once(':')?;
        Some((Path::new(file).canonicalize().ok()?, line.to_string()))
    };
    matches!((split(source), split(expected)), (Some(a), Some(b)) if a == b)
}

#[test]
fn a_cpuprofile_locates_each_function_at_its_first_line() {
    let report = json_report(&fixture("node/even-odd.cpuprofile"), &[]);
    let script = read_fixture("node/even_odd.js");
    let even = format!("even (even_odd.js:{})", line_of(&script, "function even("));
    let odd = format!("odd (even_odd.js:{})", line_of(&script, "function odd("));
    let cycle = cycle_with(&report, &even);
    for (member, definition) in [(&even, "function even("), (&odd, "function odd(")] {
        // The profile was recorded in another checkout: its script is
        // fixtures/node/even_odd.js under another root.
        let expected = format!(
            "/fixtures/node/even_odd.js:{}",
            line_of(&script, definition)
        );
        let source = source_of(cycle, member);
        assert!(source.ends_with(&expected), "{member}: {source}");
        assert!(source.starts_with('/'), "a path, not a URL: {source}");
    }
}

#[test]
fn a_go_pprof_locates_each_function_at_its_file() {
    // Go wrote each function's file (module-relative, as built) and no
    // start line (0): the location is the file alone.
    let report = json_report(&fixture("go/even-odd.pprof"), &[]);
    let cycle = cycle_with(&report, "main.even");
    for member in ["main.even", "main.odd"] {
        assert_eq!(source_of(cycle, member), "even-odd/main.go", "{cycle:#}");
    }
}

#[test]
fn folded_input_has_no_source_locations() {
    let report = json_report(&fixture("even-odd/even-odd.folded"), &[]);
    for cycle in report["cycles"].as_array().unwrap() {
        assert!(cycle.get("member_sources").is_none(), "{cycle:#}");
    }
}

#[test]
fn the_member_table_shows_each_members_source_short_and_in_full() {
    let dir = TempDir::new().unwrap();
    let input = fixture("node/even-odd.cpuprofile");
    let page = page(
        dir.path(),
        &["fold", input.to_str().unwrap(), "-o", "folded.txt"],
    );
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let script = read_fixture("node/even_odd.js");
    let even = format!("even (even_odd.js:{})", line_of(&script, "function even("));
    let row = browser.eval(&format!(
        "(() => {{ const row = document.querySelector('tr[data-member={}]');
           const table = row.closest('table');
           const headers = Array.from(table.querySelectorAll('th')).map(h => h.textContent);
           const cell = row.children[headers.indexOf('source')];
           const code = cell && cell.querySelector('code');
           return [headers, code && code.textContent, code && code.title]; }})()",
        serde_json::to_string(&even).unwrap()
    ));
    let headers = strings(&row[0]);
    assert!(headers.contains(&"source"), "{headers:?}");
    let line = line_of(&script, "function even(");
    // Both members are in one file: the cell shows the file's name.
    assert_eq!(row[1], format!("even_odd.js:{line}"), "{row}");
    let full = row[2].as_str().unwrap();
    assert!(
        full.starts_with('/') && full.ends_with(&format!("/fixtures/node/even_odd.js:{line}")),
        "{full}"
    );
}
