//! Other profilers, run for real on the bundled programs (py-spy on Python,
//! Go's runtime/pprof, `node --cpu-prof`), their output read by autofold.
//!
//! `scripts/test` installs the profilers. Set
//! `AUTOFOLD_SKIP_PROFILER_TESTS=1` to skip these tests where a profiler
//! (or the Python, Go or Node it profiles) is missing; otherwise a missing
//! one fails the test with what to install.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::tools::profiler;
use crate::util::{autofold, fixture, json_report};

/// Runs `command`, failing the test with its output if it fails.
fn succeed(command: &mut Command) {
    let out = command.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// autofold's JSON report of `profile`.
fn report(profile: &Path) -> Value {
    json_report(profile, &[])
}

/// The cycle whose members include `member`.
fn cycle_with(report: &Value, member: impl Fn(&str) -> bool) -> &Value {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| member(m.as_str().unwrap()))
        })
        .unwrap_or_else(|| panic!("no such cycle in {report:#}"))
}

fn members(cycle: &Value) -> Vec<String> {
    cycle["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn py_spy_recording_of_python_even_odd() {
    let Some(py_spy) = profiler("py-spy", "PYSPY", "pip install py-spy (in a venv)") else {
        return;
    };
    let Some(python) = profiler("python3", "PYTHON", "apt-get install python3") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("py.folded");
    succeed(
        Command::new(py_spy)
            .args(["record", "-f", "raw", "-r", "200", "-o"])
            .arg(&out)
            .arg("--")
            .arg(python)
            .arg(fixture("python/even_odd.py"))
            .args(["100", "4", "0"]),
    );
    let report = report(&out);
    assert_eq!(report["inputs"][0]["root_labels"], false);
    assert_eq!(report["truncation"]["truncated_samples"], 0);
    // One frame per function, whatever line py-spy saw it on: neither
    // function is also among the cycle's exits on another line.
    let even_odd = cycle_with(&report, |m| m == "even (even_odd.py)");
    assert_eq!(
        members(even_odd),
        ["even (even_odd.py)", "odd (even_odd.py)"]
    );
    let exits = even_odd["exits"].as_array().unwrap();
    assert!(
        exits.iter().all(|e| {
            let name = e["name"].as_str().unwrap();
            !name.starts_with("even (") && !name.starts_with("odd (")
        }),
        "{exits:?}"
    );
    assert!(even_odd["max_depth"].as_u64().unwrap() >= 50);
}

#[test]
fn go_cpu_profile_of_go_even_odd() {
    let Some(go) = profiler("go", "GO", "apt-get install golang-go") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("even-odd-go");
    succeed(
        Command::new(&go)
            .args(["build", "-o"])
            .arg(&binary)
            .arg(".")
            .current_dir(fixture("go"))
            .env("GOCACHE", dir.path().join("gocache"))
            .env("GOFLAGS", "-mod=mod")
            .env("HOME", dir.path()),
    );
    let pprof = dir.path().join("cpu.pprof");
    // Shallow: 20 levels, whole stacks; deep: 2,000 levels, cut at 64 frames.
    succeed(
        Command::new(&binary)
            .arg(&pprof)
            .args(["20", "600", "2000", "8"]),
    );
    let report = report(&pprof);
    assert_eq!(report["inputs"][0]["format"], "gzip-compressed pprof");
    let even_odd = cycle_with(&report, |m| m == "main.even");
    assert_eq!(members(even_odd), ["main.even", "main.odd"]);
    let t = &report["truncation"];
    assert!(t["truncated_samples"].as_u64().unwrap() > 0, "{t:#}");
    if t["grouped_samples"] != 0 {
        // Now and then (one run in 50 here) a deep sample is cut by Go's
        // 64-frame limit just above the recursion: `main.deep;{even,odd};…`
        // looks complete, and no complete deep stack shows it as the tail
        // of `runtime.main;main.main;main.deep`, so the entry paths share
        // nothing and cut stacks are grouped (docs/REPORT.md). Anything
        // else grouping them is a failure.
        assert_eq!(t["grouped_samples"], t["truncated_samples"], "{t:#}");
        let folded = autofold()
            .current_dir(dir.path())
            .args(["fold", "--no-reroot", "cpu.pprof"])
            .success();
        let cut_above = String::from_utf8_lossy(&folded.stdout)
            .lines()
            .any(|line| line.starts_with("main.deep;{main.even,main.odd}"));
        assert!(
            cut_above,
            "grouped, and no stack cut above the recursion: {t:#}"
        );
        return;
    }
    for rerooted in t["rerooted"].as_array().unwrap() {
        let path: Vec<&str> = rerooted["entry_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(&path[..2], ["runtime.main", "main.main"], "{path:?}");
    }
}

#[test]
fn node_cpu_prof_of_javascript_even_odd() {
    let Some(node) = profiler("node", "NODE", "apt-get install nodejs") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name: OsString = "even-odd.cpuprofile".into();
    succeed(
        Command::new(node)
            .arg("--cpu-prof")
            .arg("--cpu-prof-dir")
            .arg(dir.path())
            .arg("--cpu-prof-name")
            .arg(&name)
            .arg(fixture("node/even_odd.js"))
            .args(["100", "100", "0", "0"]),
    );
    let report = report(&dir.path().join(&name));
    assert_eq!(report["inputs"][0]["format"], "Chrome/Node .cpuprofile");
    assert_eq!(report["inputs"][0]["root_labels"], false);
    let even_odd = cycle_with(&report, |m| m.starts_with("even (even_odd.js:"));
    let members = members(even_odd);
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(members[1].starts_with("odd (even_odd.js:"), "{members:?}");
}
