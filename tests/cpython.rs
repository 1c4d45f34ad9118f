//! CPython 3.12 and 3.13 recorded as a user types it, no flags:
//! `autofold record -- python3.12 calc.py`. autofold turns on the
//! interpreter's perf support, unwinds through its trampolines to `main`
//! (pyenv's builds keep no frame pointers), leaves the eval loop out
//! between Python frames, and so finds the program's two recursions (an
//! evaluator and a printer visitor, `fixtures/python/calc.py`) as two
//! cycles of Python functions.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::util::perf::{self, skip};
use crate::util::python::{EVALUATOR, VISITOR};
use crate::util::tools::cpython;
use crate::util::{fixture, strings};

/// `autofold record [ARGS] -- PYTHON calc.py` in a new directory: its
/// report, folded stacks and standard error.
fn record_calc(python: &Path, args: &[&str]) -> (Value, String, String) {
    let dir = TempDir::new().unwrap();
    let calc = fixture("python/calc.py");
    let output = perf::record(dir.path())
        .args(args)
        .arg("--")
        .args([python.as_os_str(), calc.as_os_str()])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{python:?}: {stderr}");
    let report = std::fs::read(dir.path().join("report.json")).unwrap();
    let folded = std::fs::read_to_string(dir.path().join("out.folded")).unwrap();
    (serde_json::from_slice(&report).unwrap(), folded, stderr)
}

/// The cycle of `report` named `name`.
fn cycle<'r>(report: &'r Value, name: &str) -> &'r Value {
    let cycles = report["cycles"].as_array().unwrap();
    cycles
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cycle {name}: {report:#}"))
}

/// Checks the evaluator and the visitor are two cycles of Python functions
/// (each over 35 % of the samples, every member the author's), that no
/// cycle is named after CPython, and that stacks reach `main`.
fn assert_two_python_cycles(report: &Value, folded: &str) {
    for (name, members) in [
        ("{evaluate,+4} (calc.py)", EVALUATOR),
        ("{Printer.visit,+4} (calc.py)", VISITOR),
    ] {
        let found = cycle(report, name);
        assert_eq!(strings(&found["members"]), members, "{found:#}");
        assert_eq!(strings(&found["author_members"]), members, "{found:#}");
        let percent = found["percent"].as_f64().unwrap();
        assert!(percent >= 35.0, "{name}: {percent} %");
    }
    for found in report["cycles"].as_array().unwrap() {
        let name = found["name"].as_str().unwrap();
        assert!(
            !name.contains("PyEval") && !name.contains("Vectorcall"),
            "{name}"
        );
    }
    // Unwound through every trampoline: the evaluator stands under the
    // interpreter's `main` and the script's own `main`.
    let whole = folded.lines().any(|line| {
        let frames: Vec<&str> = line.split(';').collect();
        let at = |name: &str| frames.iter().position(|f| f.starts_with(name));
        matches!(
            (at("Py_RunMain"), at("main (calc.py)"), at("{evaluate,+4} (calc.py)")),
            (Some(a), Some(b), Some(c)) if a < b && b < c
        )
    });
    assert!(whole, "no stack reaches main:\n{folded}");
}

#[test]
fn python312_with_no_flags_gives_the_evaluator_and_the_visitor() {
    if skip() {
        return;
    }
    let Some(python) = cpython(12) else {
        return;
    };
    let (report, folded, stderr) = record_calc(&python, &[]);
    assert!(stderr.contains("PYTHONPERFSUPPORT=1"), "{stderr}");
    assert_two_python_cycles(&report, &folded);
    // The trampolines' names carry the script, not the line.
    let evaluator = cycle(&report, "{evaluate,+4} (calc.py)");
    let script = fixture("python/calc.py");
    for source in evaluator["member_sources"].as_array().unwrap() {
        assert_eq!(source, &script.display().to_string(), "{evaluator:#}");
    }
}

#[test]
fn python313_with_no_flags_gives_the_evaluator_and_the_visitor() {
    if skip() {
        return;
    }
    let Some(python) = cpython(13) else {
        return;
    };
    let (report, folded, _) = record_calc(&python, &[]);
    assert_two_python_cycles(&report, &folded);
}

#[test]
fn a_venvs_python_is_set_up_too() {
    if skip() {
        return;
    }
    let Some(python) = cpython(12) else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let venv = dir.path().join("venv");
    let made = std::process::Command::new(&python)
        .args([
            OsStr::new("-m"),
            OsStr::new("venv"),
            OsStr::new("--without-pip"),
        ])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let (report, folded, _) = record_calc(&venv.join("bin").join("python"), &[]);
    assert_two_python_cycles(&report, &folded);
}

#[test]
fn without_jit_setup_the_eval_loop_is_still_no_cycle() {
    if skip() {
        return;
    }
    let Some(python) = cpython(12) else {
        return;
    };
    let (report, _, stderr) = record_calc(&python, &["--no-jit-setup"]);
    assert!(!stderr.contains("PYTHONPERFSUPPORT"), "{stderr}");
    // No Python names at all, but the interpreter's own recursion through
    // its eval loop is plumbing, not the program's.
    for found in report["cycles"].as_array().unwrap() {
        for member in strings(&found["members"]) {
            assert!(!member.contains("(calc.py)"), "{found:#}");
            assert!(!member.starts_with("_PyEval_EvalFrame"), "{found:#}");
        }
    }
}

/// `python3.12` running `calc.py` over and over (for `--pid`), with
/// `PYTHONPERFSUPPORT` as `perf_support` says.
fn running_calc(python: &Path, perf_support: bool) -> std::process::Child {
    let calc = fixture("python/calc.py");
    let script = format!(
        "import runpy\nfor _ in range(50): runpy.run_path({:?}, run_name='__main__')",
        calc.display()
    );
    let mut command = std::process::Command::new(python);
    command
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .env_remove("PYTHONPERFSUPPORT");
    if perf_support {
        command.env("PYTHONPERFSUPPORT", "1");
    }
    command.spawn().unwrap()
}

#[test]
fn attaching_to_python312_names_its_functions_or_says_why_not() {
    if skip() {
        return;
    }
    let Some(python) = cpython(12) else {
        return;
    };
    for perf_support in [true, false] {
        let mut target = running_calc(&python, perf_support);
        // Past the interpreter's start.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let dir = TempDir::new().unwrap();
        let pid = target.id().to_string();
        let args = ["--report", "report.json", "--pid", &pid];
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let output = perf::interrupted_record(dir.path(), &args);
        target.kill().unwrap();
        target.wait().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .unwrap();
        let names: Vec<&str> = report["cycles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let named = names.contains(&"{evaluate,+4} (calc.py)");
        assert_eq!(named, perf_support, "{names:?}");
        assert_eq!(
            stderr.contains("without perf support"),
            !perf_support,
            "{stderr}"
        );
    }
}
