//! Frames told apart by what function they are, not by what they print:
//! autofold's sampler (and perf, for perf's own names) recording
//! `fixtures/plumbing`, whose `qsort` recurses through a
//! generic `through` that `main` also runs its job through (one name,
//! several instances).

use std::path::Path;

use tempfile::TempDir;

use crate::util::autofold;
use crate::util::perf::{perf_script, plumbing, skip};

/// Folded lines that draw `plumbing::fill` (the work `main` does before
/// sorting), with the frame right above `plumbing::main::{{closure}}`.
fn parents_of_fill(folded: &str) -> Vec<String> {
    let mut parents: Vec<String> = folded
        .lines()
        .filter(|l| l.contains(";plumbing::main::{{closure}};plumbing::fill"))
        .map(|l| {
            let (stack, _) = l.rsplit_once(' ').unwrap();
            let frames: Vec<&str> = stack.split(';').collect();
            let closure = frames
                .iter()
                .position(|f| *f == "plumbing::main::{{closure}}")
                .unwrap();
            frames[closure - 1].to_string()
        })
        .collect();
    parents.sort();
    parents.dedup();
    parents
}

/// `autofold ARGS` in `dir`, which must succeed.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    autofold().current_dir(dir).args(args).success()
}

#[test]
fn generic_plumbing_above_a_recursion_stays_out_of_it() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let program = plumbing().to_str().unwrap();
    let args = [
        "record",
        "--folded",
        "id.folded",
        "--report",
        "id.json",
        "-o",
        "flame.svg",
        "--",
        program,
        "100000",
        "8",
    ];
    run(dir.path(), &args);
    let folded = std::fs::read_to_string(dir.path().join("id.folded")).unwrap();
    // main's instance of `through` is not the recursion's: `fill` hangs
    // under it, printed as itself.
    assert_eq!(parents_of_fill(&folded), ["plumbing::through"], "{folded}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("id.json")).unwrap()).unwrap();
    let cycle = &report["cycles"][0];
    assert_eq!(
        cycle["name"],
        "plumbing::{qsort,qsort::{{closure}},through}"
    );
    // Two instances of `through` (one per closure of qsort) are members,
    // told apart by their symbols; main's is not among them.
    let members: Vec<&str> = cycle["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let symbols = cycle["member_symbols"]
        .as_array()
        .expect("symbols are known");
    let through: Vec<&str> = members
        .iter()
        .zip(symbols)
        .filter(|(m, _)| **m == "plumbing::through")
        .map(|(_, s)| s.as_str().unwrap())
        .collect();
    assert_eq!(through.len(), 2, "{members:?}");
    assert_ne!(through[0], through[1]);
    assert!(
        through
            .iter()
            .all(|s| s.starts_with("_ZN8plumbing7through17h"))
    );
}

#[test]
fn by_name_alone_the_plumbing_welds_the_start_into_the_recursion() {
    // The same recording demangled by perf: only names are left, and main's
    // `through` is the recursion's by name. The fill below it is drawn
    // under the cycle; this is what symbols avoid.
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let program = plumbing().to_str().unwrap();
    let args = [
        "record",
        "--keep-perf-data",
        "perf.data",
        "-o",
        "flame.svg",
        "--",
        program,
        "100000",
        "8",
    ];
    run(dir.path(), &args);
    let script = perf_script(&dir.path().join("perf.data"), &[]);
    std::fs::write(dir.path().join("names.txt"), script).unwrap();
    let out = run(dir.path(), &["fold", "names.txt", "--report", "names.json"]);
    let folded = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        parents_of_fill(&folded),
        ["plumbing::{qsort,qsort::{{closure}},through}"],
        "{folded}"
    );
    // The report says so: a lone `through` above main's closure, then the
    // recursion again further down.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("names.json")).unwrap()).unwrap();
    let weld = &report["cycles"][0]["looks_welded"][0];
    assert_eq!(weld["member"], "plumbing::through");
    assert_eq!(weld["above"], "plumbing::main::{{closure}}");
    assert!(weld["samples"].as_u64().unwrap() > 0);
}

/// The members of each cycle of the report in `dir/report.json`, each
/// cycle's sorted, with the file of each member's source location.
fn cycles_with_files(dir: &Path) -> Vec<Vec<(String, String)>> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let mut cycles: Vec<Vec<(String, String)>> = report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cycle| {
            let sources = cycle["member_sources"].as_array().unwrap();
            let mut members: Vec<(String, String)> = cycle["members"]
                .as_array()
                .unwrap()
                .iter()
                .zip(sources)
                .map(|(member, source)| {
                    let source = source.as_str().unwrap_or("");
                    let file = Path::new(source.split(':').next().unwrap());
                    let file = file.file_name().unwrap_or_default().to_string_lossy();
                    (member.as_str().unwrap().to_string(), file.into_owned())
                })
                .collect();
            members.sort();
            members
        })
        .collect();
    cycles.sort();
    cycles
}

/// Two files' `static long step` (fixtures/statics): one name, two local
/// symbols. Told apart by their symbols' starts, they are members of two
/// cycles, each located in its own file; by name alone the two recursions
/// were one cycle, `{a_walk,b_walk,step}`.
#[test]
fn two_static_functions_of_one_name_stay_in_their_own_cycles() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let program = crate::util::perf::statics_program(dir.path());
    let args = [
        "record",
        "--report",
        "report.json",
        "-o",
        "flame.svg",
        "--",
        program.to_str().unwrap(),
    ];
    run(dir.path(), &args);
    let pair = |walk: &str, file: &str| {
        vec![
            (walk.to_string(), file.to_string()),
            ("step".to_string(), file.to_string()),
        ]
    };
    assert_eq!(
        cycles_with_files(dir.path()),
        [pair("a_walk", "a.c"), pair("b_walk", "b.c")]
    );
}
