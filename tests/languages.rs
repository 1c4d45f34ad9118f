//! Recursions in other languages and styles, named after the author's
//! function, not the runtime's plumbing: a C++ program recursing through
//! `std::visit`, async Rust on tokio, Java and Node recorded with no
//! runtime flags (`fixtures/README.md`, "Other languages").
//!
//! Two kinds of tests: the captured stacks (`fixtures/*/…folded`, names
//! only, as `autofold fold` reads them), and live recordings of the same
//! programs with real perf, where autofold also knows each function's
//! source file or script and so which are the author's. Live tests skip
//! with `AUTOFOLD_SKIP_PERF_TESTS=1`; a missing compiler or runtime fails
//! them saying what to install, unless `AUTOFOLD_SKIP_PROFILER_TESTS=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use autofold::engine::report::{CycleReport, Report};
use serde_json::Value;
use tempfile::TempDir;

use crate::util::fold::fold_text;
use crate::util::perf::{self, skip};
use crate::util::tools::profiler;
use crate::util::{autofold, fixture, read_fixture, strings};

/// The cycle of `report` with the most samples.
fn largest(report: &Report) -> &CycleReport {
    report.cycles.first().expect("a cycle")
}

/// Whether some stack of folded `text` holds `frame` twice.
fn twice_on_a_stack(text: &str, frame: &str) -> bool {
    text.lines().any(|line| {
        let (stack, _) = line.rsplit_once(' ').unwrap();
        stack.split(';').filter(|f| *f == frame).count() >= 2
    })
}

// The captured stacks, names only.

#[test]
fn cpp_visit_recursion_is_named_after_printer_from_its_stacks() {
    let input = read_fixture("cpp/visit.folded");
    let (_, report) = fold_text(&input, &[]);
    let cycle = largest(&report);
    // Six members, none known to be the author's by name alone: the main
    // member, where the recursion's samples leave it, is the visitor.
    assert_eq!(cycle.name, "{Printer::operator(),+5}");
    assert!(cycle.percent > 90.0, "{}", cycle.percent);
    assert!(!cycle.members.iter().any(|m| m == "main"));
}

#[test]
fn async_recursion_is_named_after_the_authors_closure_from_its_stacks() {
    let input = read_fixture("asyncrec/asyncrec.folded");
    let (_, report) = fold_text(&input, &[]);
    let cycle = largest(&report);
    // By name, the crate the process stands for (`asyncrec`) is the
    // author's; the future's poll is not.
    assert_eq!(cycle.name, "{asyncrec::walk::{{closure}},+1}");
    assert_eq!(cycle.author_members, ["asyncrec::walk::{{closure}}"]);
    assert!(cycle.percent > 75.0, "{}", cycle.percent);
    assert!(!cycle.members.iter().any(|m| m.contains("main")));
}

#[test]
fn java_visitor_recursion_leaves_the_interpreter_out() {
    let input = read_fixture("java/calc.folded");
    // Every interpreted method is HotSpot's one `Interpreter` frame, so by
    // name it recurses through the whole program.
    assert!(twice_on_a_stack(&input, "Interpreter"));
    assert!(
        !input.contains("java.lang.Long "),
        "methods without return type"
    );
    let (_, report) = fold_text(&input, &[]);
    let cycle = largest(&report);
    assert_eq!(
        cycle.name,
        "{Calc$Add.accept,Calc$Eval.visitAdd,Calc$Eval.visitMul,Calc$Mul.accept}"
    );
    assert!(cycle.percent > 80.0, "{}", cycle.percent);
    assert!(!cycle.members.iter().any(|m| m == "Calc.main"));
    for other in &report.cycles {
        assert!(
            !other.members.iter().any(|m| m == "Interpreter"),
            "{other:?}"
        );
    }
}

#[test]
fn node_walk_is_one_frame_across_v8s_tiers() {
    let input = read_fixture("node/walk.folded");
    assert!(!input.contains("JS:"), "V8's tier markers are left out");
    let (_, report) = fold_text(&input, &[]);
    let walk = report
        .cycles
        .iter()
        .find(|c| c.members.iter().any(|m| m == "walk (walk.js:18)"))
        .expect("walk's recursion is a cycle");
    // Names only, nothing tells the script from node's builtins.
    assert_eq!(walk.name, "{Builtins_ArrayMap,walk (walk.js:18)}");
    assert!(walk.percent > 60.0, "{}", walk.percent);
    for cycle in &report.cycles {
        assert!(
            !cycle.members.iter().any(|m| m.contains("Interpreter")),
            "{cycle:?}"
        );
    }
}

// Live recordings, as a user types them.

/// `autofold record -- COMMAND…` in `dir` (`perf::record`'s outputs); its
/// report and standard error.
fn record(dir: &Path, command: &[&std::ffi::OsStr]) -> (Value, String) {
    let output = perf::record(dir).arg("--").args(command).output();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{command:?}: {stderr}");
    let report = std::fs::read(dir.join("report.json")).expect("the report was written");
    (serde_json::from_slice(&report).unwrap(), stderr)
}

/// The cycle of a JSON report with the most samples.
fn largest_of(report: &Value) -> &Value {
    &report["cycles"][0]
}

/// Checks the largest cycle: named `name` (or starting with it, when it
/// ends in `+`: how many other members there are depends on the
/// compiler's inlining), with only `authors` as the author's, more than
/// `percent` of the samples, and no member called `main`.
fn assert_largest(report: &Value, name: &str, authors: &[&str], percent: f64) {
    let cycle = largest_of(report);
    let found = cycle["name"].as_str().unwrap();
    if let Some(start) = name.strip_suffix('+') {
        assert!(
            found.starts_with(&format!("{start}+")) && found.ends_with('}'),
            "{cycle:#}"
        );
    } else {
        assert_eq!(found, name, "{cycle:#}");
    }
    assert_eq!(strings(&cycle["author_members"]), authors, "{cycle:#}");
    assert!(cycle["percent"].as_f64().unwrap() > percent, "{cycle:#}");
    let members = strings(&cycle["members"]);
    assert!(!members.iter().any(|m| m.ends_with("main")), "{members:?}");
}

#[test]
fn recorded_cpp_recursion_is_named_after_the_authors_operator() {
    if skip() {
        return;
    }
    let Some(cxx) = profiler("g++", "CXX", "apt-get install g++") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let program = dir.path().join("visit");
    let built = Command::new(cxx)
        .args(["-O2", "-g", "-o"])
        .arg(&program)
        .arg(fixture("cpp/visit.cpp"))
        .status()
        .unwrap();
    assert!(built.success());
    let (report, _) = record(
        dir.path(),
        &[program.as_os_str(), "16".as_ref(), "200".as_ref()],
    );
    // perf prints the operator's name with its `()`; the plumbing of
    // std::visit (templates of hundreds of characters) is counted.
    assert_largest(
        &report,
        "{Printer::operator(),+",
        &["Printer::operator()"],
        70.0,
    );
}

/// `fixtures/asyncrec` built in release mode (with debug info) in its own
/// target directory.
fn asyncrec() -> PathBuf {
    let manifest = fixture("asyncrec/Cargo.toml");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "building fixtures/asyncrec failed");
    fixture("asyncrec/target/release/asyncrec")
}

#[test]
fn recorded_async_recursion_is_named_after_the_authors_closure() {
    if skip() {
        return;
    }
    let program = asyncrec();
    let dir = TempDir::new().unwrap();
    let (report, _) = record(
        dir.path(),
        &[program.as_os_str(), "14".as_ref(), "100".as_ref()],
    );
    // The closure's source is the fixture's; Pin's poll is the standard
    // library's (under /rustc/), tokio's under cargo's registry.
    assert_largest(
        &report,
        "{asyncrec::walk::{{closure}},+",
        &["asyncrec::walk::{{closure}}"],
        70.0,
    );
}

#[test]
fn recorded_java_with_no_flags_names_the_visitor() {
    if skip() {
        return;
    }
    let Some(javac) = profiler("javac", "JAVAC", "apt-get install default-jdk-headless") else {
        return;
    };
    let Some(java) = profiler("java", "JAVA", "apt-get install default-jdk-headless") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let compiled = Command::new(javac)
        .arg("-d")
        .arg(dir.path())
        .arg(fixture("java/Calc.java"))
        .status()
        .unwrap();
    assert!(compiled.success());
    let (report, stderr) = record(
        dir.path(),
        &[
            java.as_os_str(),
            "-cp".as_ref(),
            ".".as_ref(),
            "Calc".as_ref(),
        ],
    );
    assert!(
        stderr.contains("autofold: note: java: set JAVA_TOOL_OPTIONS="),
        "{stderr}"
    );
    let cycle = largest_of(&report);
    let members = strings(&cycle["members"]);
    assert!(members.iter().all(|m| m.starts_with("Calc$")), "{cycle:#}");
    assert!(members.contains(&"Calc$Add.accept"), "{cycle:#}");
    assert!(cycle["percent"].as_f64().unwrap() > 70.0, "{cycle:#}");
    // The program's classes are the author's; none is the JDK's.
    assert_eq!(strings(&cycle["author_members"]), members, "{cycle:#}");
    for cycle in report["cycles"].as_array().unwrap() {
        assert!(
            !strings(&cycle["members"]).contains(&"Interpreter"),
            "{cycle:#}"
        );
    }
}

/// Node, where perf tests run and node is installed (else why not is
/// printed).
fn node_to_record() -> Option<std::path::PathBuf> {
    if skip() {
        return None;
    }
    profiler("node", "NODE", "apt-get install nodejs")
}

#[test]
fn recorded_node_with_no_flags_names_walk_once_across_tiers() {
    let Some(node) = node_to_record() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let script = fixture("node/walk.js");
    let (report, stderr) = record(dir.path(), &[node.as_os_str(), script.as_os_str()]);
    assert!(
        stderr.contains("autofold: note: node: set NODE_OPTIONS="),
        "{stderr}"
    );
    // Nothing is left behind in the working directory (node 20's
    // `--perf-basic-prof` would write a V8 log there).
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["flame.svg", "out.folded", "report.json"]);
    // walk's script is the author's, node's builtins are not.
    assert_largest(
        &report,
        "{walk (walk.js:18),+",
        &["walk (walk.js:18)"],
        50.0,
    );
    // V8's names locate walk at its script and the line it is written on.
    let cycle = largest_of(&report);
    let walk = strings(&cycle["members"])
        .iter()
        .position(|m| *m == "walk (walk.js:18)")
        .unwrap();
    let line = read_fixture("node/walk.js")
        .lines()
        .position(|l| l.starts_with("function walk("))
        .unwrap()
        + 1;
    assert_eq!(
        cycle["member_sources"][walk],
        format!("{}:{line}", script.display()),
        "{cycle:#}"
    );
    let cycles = report["cycles"].as_array().unwrap();
    for cycle in cycles {
        let members = strings(&cycle["members"]);
        assert!(!members.iter().any(|m| m.starts_with("JS:")), "{cycle:#}");
        assert!(
            !members.iter().any(|m| m.contains("Interpreter")),
            "{cycle:#}"
        );
    }
}

#[test]
fn no_jit_setup_leaves_the_runtime_alone() {
    let Some(node) = node_to_record() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let script = fixture("node/walk.js");
    let output = autofold()
        .current_dir(dir.path())
        .args(["record", "--no-jit-setup", "--folded", "out.folded", "--"])
        .arg(node)
        .arg(script)
        .args(["8", "10"])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("NODE_OPTIONS"), "{stderr}");
    // Without V8's perf map, no frame of the script has a name.
    let folded = std::fs::read_to_string(dir.path().join("out.folded")).unwrap();
    assert!(!folded.contains("walk.js"));
    assert!(
        folded.contains("node::Start"),
        "node's own frames are there"
    );
}

/// A perf map planted for the process `--pid` records: what it is.
#[derive(Debug, Clone, Copy)]
enum Planted {
    /// A link to `/dev/zero`: read whole, it would never end.
    LinkToZero,
    /// A FIFO no one writes: opened for reading, it would block.
    Fifo,
    /// A regular file another user wrote, naming every address.
    AnotherUsers,
}

/// Plants `kind` as `/tmp/perf-PID.map`.
fn plant(kind: Planted, pid: u32) -> PathBuf {
    let map = PathBuf::from(format!("/tmp/perf-{pid}.map"));
    match kind {
        Planted::LinkToZero => std::os::unix::fs::symlink("/dev/zero", &map).unwrap(),
        Planted::Fifo => {
            let status = Command::new("mkfifo").arg(&map).status().unwrap();
            assert!(status.success(), "mkfifo failed");
        }
        Planted::AnotherUsers => {
            std::fs::write(&map, "0 ffffffffffffffff SPOOFED_BY_ANOTHER_USER\n").unwrap();
            // nobody's uid; giving a file away needs root (as CI runs).
            std::os::unix::fs::chown(&map, Some(65534), None)
                .expect("this test gives a file to another user: run it as root");
        }
    }
    map
}

#[test]
fn a_planted_perf_map_costs_only_a_note() {
    let Some(node) = node_to_record() else {
        return;
    };
    let script = fixture("node/walk.js");
    for kind in [Planted::LinkToZero, Planted::Fifo, Planted::AnotherUsers] {
        let dir = TempDir::new().unwrap();
        // No runtime flags: node writes no perf map of its own.
        let mut target = Command::new(&node)
            .arg(&script)
            .args(["11", "10"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let map = plant(kind, target.id());
        let mut recording = autofold();
        recording
            .current_dir(dir.path())
            .args(["record", "--folded", "out.folded", "-o", "f.svg", "--pid"])
            .arg(target.id().to_string());
        let mut child = recording
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The recording ends when node does; a planted map must not hold it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().unwrap();
        }
        let output = child.wait_with_output().unwrap();
        target.wait().unwrap();
        let _ = std::fs::remove_file(&map);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(finished, "{kind:?}: still recording after two minutes");
        assert!(output.status.success(), "{kind:?}: {stderr}");
        let notes: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(&*map.to_string_lossy()))
            .collect();
        assert_eq!(notes.len(), 1, "{kind:?}: one note line: {stderr}");
        assert!(notes[0].contains("JIT names not read"), "{}", notes[0]);
        let folded = std::fs::read_to_string(dir.path().join("out.folded")).unwrap();
        assert!(
            !folded.contains("SPOOFED"),
            "{kind:?}: another user's names"
        );
    }
}

#[test]
fn recorded_node_parser_is_named_after_the_code_that_ran_where_code_is_reused() {
    let Some(node) = node_to_record() else {
        return;
    };
    let script = fixture("node/parser.js");
    // The parser's optimized code is thrown away, collected, and thousands
    // of functions are compiled at its addresses (as node compiles its
    // stream modules at exit): named after the last code at each address,
    // the parser's cycle gained `(anonymous)` members in every recording.
    for recording in 0..3 {
        let dir = TempDir::new().unwrap();
        let (report, _) = record(
            dir.path(),
            &[node.as_os_str(), "--expose-gc".as_ref(), script.as_os_str()],
        );
        let cycles = report["cycles"].as_array().unwrap();
        let parser = cycles
            .iter()
            .find(|c| strings(&c["members"]).contains(&"parseExpr (parser.js:16)"))
            .unwrap_or_else(|| panic!("recording {recording}: no parser cycle: {report:#}"));
        assert_eq!(
            parser["name"], "{parseExpr,parseFactor,parseTerm} (parser.js)",
            "recording {recording}: {parser:#}"
        );
        assert_eq!(
            strings(&parser["members"]),
            [
                "parseExpr (parser.js:16)",
                "parseFactor (parser.js:35)",
                "parseTerm (parser.js:26)"
            ],
            "recording {recording}: {parser:#}"
        );
    }
}
