//! CPython before 3.12 recorded through py-spy: `autofold record --
//! python3.11 app.py` (and `--pid` of one) names the program's Python
//! functions, which perf events cannot; the command's exit code and output
//! stay its own; without py-spy, one note says how to get it. Also the
//! author's members of a py-spy recording with full paths
//! (`fixtures/python/calc.pyspy.folded.gz`, see `fixtures/README.md`).
//!
//! The live tests need CPython 3.11 (`util::tools::cpython`) and py-spy
//! (`$PYSPY`, else `PATH`); missing, they fail saying what to install
//! (unless `AUTOFOLD_SKIP_PROFILER_TESTS=1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use crate::util::perf::skip;
use crate::util::python::{EVALUATOR, VISITOR};
use crate::util::tools::{cpython, profiler};
use crate::util::{autofold, fixture, json_report, strings};

/// The note that says the interpreter goes through py-spy (or not).
const NOTE: &str = "is CPython 3.11, which cannot name its Python functions to perf";

/// py-spy and CPython 3.11, or `None` where they are missing and profiler
/// tests are skipped.
fn py_spy_and_python() -> Option<(PathBuf, PathBuf)> {
    let py_spy = profiler("py-spy", "PYSPY", "pip install py-spy (in a venv)")?;
    Some((py_spy, cpython(11)?))
}

/// `autofold record --report report.json -o flame.svg ARGS` in `dir`, with
/// py-spy given as `$PYSPY`.
fn record(dir: &Path, py_spy: &Path, args: &[&std::ffi::OsStr]) -> Output {
    autofold()
        .current_dir(dir)
        .env("PYSPY", py_spy)
        .args(["record", "--report", "report.json", "-o", "flame.svg"])
        .args(args)
        .output()
}

/// The JSON report `record` wrote in `dir`.
fn report_in(dir: &Path) -> Value {
    let report = std::fs::read(dir.join("report.json")).expect("the report was written");
    serde_json::from_slice(&report).unwrap()
}

/// The cycle whose members are `members`.
fn cycle_of<'a>(report: &'a Value, members: &[&str]) -> &'a Value {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| strings(&c["members"]) == members)
        .unwrap_or_else(|| panic!("no cycle of {members:?}: {report:#}"))
}

/// Checks that `report` has calc.py's two recursions as two cycles named
/// after their main member, each at least `percent` of the samples, every
/// member the author's; and that no cycle's member is CPython's.
fn assert_two_recursions(report: &Value, percent: f64) {
    let cycles = [
        (&EVALUATOR, "{evaluate,+4} (calc.py)"),
        (&VISITOR, "{Printer.visit,+4} (calc.py)"),
    ];
    for (members, name) in cycles {
        let cycle = cycle_of(report, members);
        assert_eq!(cycle["name"], *name, "{cycle:#}");
        assert_eq!(strings(&cycle["author_members"]), members, "{cycle:#}");
        assert!(cycle["percent"].as_f64().unwrap() >= percent, "{cycle:#}");
    }
    for cycle in report["cycles"].as_array().unwrap() {
        let members = strings(&cycle["members"]);
        assert!(!members.iter().any(|m| m.contains("_PyEval")), "{cycle:#}");
    }
}

#[test]
fn recorded_python_3_11_is_two_cycles_of_its_own_functions() {
    let Some((py_spy, python)) = py_spy_and_python() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let script = fixture("python/calc.py");
    let output = record(
        dir.path(),
        &py_spy,
        &["--".as_ref(), python.as_os_str(), script.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains(NOTE)).collect();
    assert_eq!(notes.len(), 1, "one note line: {stderr}");
    assert!(
        notes[0].contains("recording through py-spy"),
        "{}",
        notes[0]
    );
    let report = report_in(dir.path());
    assert_eq!(report["inputs"][0]["format"], "py-spy folded stacks");
    assert_two_recursions(&report, 35.0);
    assert_located_at_their_defs(cycle_of(&report, &EVALUATOR), &script);
}

/// Checks that each member of `cycle` (`function (calc.py)`, a method
/// `Class.method`) is located at `script` and the line of its `def`:
/// py-spy's `--function` puts every frame on its function's first line.
fn assert_located_at_their_defs(cycle: &Value, script: &Path) {
    let text = std::fs::read_to_string(script).unwrap();
    for (index, member) in strings(&cycle["members"]).iter().enumerate() {
        let function = member.split(" (").next().unwrap();
        let method = function.rsplit('.').next().unwrap();
        let def = format!("def {method}(");
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(&def))
            .unwrap_or_else(|| panic!("no {def} in {}", script.display()))
            + 1;
        assert_eq!(
            cycle["member_sources"][index],
            format!("{}:{line}", script.display()),
            "{member}: {cycle:#}"
        );
    }
}

#[test]
fn python_3_11s_exit_code_and_output_are_its_own() {
    let Some((py_spy, python)) = py_spy_and_python() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("exits.py");
    let program = "import sys\n\
        def f(n): return 0 if n == 0 else f(n - 1) + 1\n\
        for _ in range(2000): f(200)\n\
        print('out'); print('err', file=sys.stderr); sys.exit(3)\n";
    std::fs::write(&script, program).unwrap();
    let output = record(
        dir.path(),
        &py_spy,
        &["--".as_ref(), python.as_os_str(), script.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    // py-spy's own messages go elsewhere: standard output is the program's.
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\n");
    assert!(stderr.lines().any(|l| l == "err"), "{stderr}");
    let report = report_in(dir.path());
    let f = cycle_of(&report, &["f (exits.py)"]);
    assert_eq!(strings(&f["author_members"]), ["f (exits.py)"]);
}

#[test]
fn recorded_pid_of_python_3_11_goes_through_py_spy() {
    let Some((py_spy, python)) = py_spy_and_python() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let mut target = Command::new(&python)
        .arg(fixture("python/calc.py"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = target.id().to_string();
    let output = record(dir.path(), &py_spy, &["--pid".as_ref(), pid.as_ref()]);
    assert!(target.wait().unwrap().success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("recording through py-spy"), "{stderr}");
    // Attached after the interpreter started: the share of each recursion
    // is of what py-spy saw, not of the whole run.
    assert_two_recursions(&report_in(dir.path()), 30.0);
}

#[test]
fn without_py_spy_the_note_says_how_to_get_it() {
    if skip() {
        return;
    }
    let Some(python) = cpython(11) else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let output = autofold()
        .current_dir(dir.path())
        .env_remove("PYSPY")
        .env("PATH", "/usr/bin:/bin")
        .args(["record", "--folded", "out.folded", "-o", "flame.svg", "--"])
        .arg(&python)
        .args(["-c", "sum(i * i for i in range(3_000_000))"])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains(NOTE)).collect();
    assert_eq!(notes.len(), 1, "one note line: {stderr}");
    assert!(notes[0].contains("pip install py-spy"), "{}", notes[0]);
    assert!(
        notes[0].contains("recording with perf events"),
        "{}",
        notes[0]
    );
    // No PYTHONPERFSUPPORT note: 3.11 has nothing to set up.
    assert!(!stderr.contains("PYTHONPERFSUPPORT"), "{stderr}");
    let folded = std::fs::read_to_string(dir.path().join("out.folded")).unwrap();
    assert!(folded.contains("python3.11"), "recorded with perf events");
}

#[test]
fn no_jit_setup_records_python_3_11_with_perf_events_and_no_note() {
    if skip() {
        return;
    }
    let Some((py_spy, python)) = py_spy_and_python() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let output = autofold()
        .current_dir(dir.path())
        .env("PYSPY", py_spy)
        .args(["record", "--no-jit-setup", "--folded", "out.folded", "--"])
        .arg(&python)
        .args(["-c", "sum(i * i for i in range(3_000_000))"])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains(NOTE), "{stderr}");
    let folded = std::fs::read_to_string(dir.path().join("out.folded")).unwrap();
    assert!(!folded.contains("<module>"), "no py-spy frames");
}

#[test]
fn py_spy_full_paths_tell_the_programs_functions_from_the_standard_librarys() {
    let report = json_report(&fixture("python/calc.pyspy.folded.gz"), &[]);
    assert_two_recursions(&report, 35.0);
    // Frames print with their file's name only; the path py-spy gave is
    // their identity.
    let evaluator = cycle_of(&report, &EVALUATOR);
    let symbols = strings(&evaluator["member_symbols"]);
    assert!(
        symbols.contains(&"evaluate (/tmp/app/calc.py)"),
        "{symbols:?}"
    );
}
