//! The in-process perf.data reader against `perf script`, its oracle: real
//! perf recordings of the bundled programs, read both ways, must give the
//! same stacks (function names, order, counts). Where they differ on
//! purpose (docs/RECORD.md), that is tested too: JIT code unwound by frame
//! pointers, lost events reported.
//!
//! `AUTOFOLD_SKIP_PERF_TESTS=1` skips these tests; `node` is needed for the
//! JIT test (`AUTOFOLD_SKIP_PROFILER_TESTS=1` skips it where node is
//! missing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use crate::util::fold::printed_stacks;
use crate::util::perf::{
    cpp_program, even_odd, expr_program, perf, perf_record, perf_script, plumbing, record, skip,
};
use crate::util::tools::{cpython, profiler};
use crate::util::{autofold, fixture};
use autofold::input::{Source, read_perf_script};
use autofold::perf_records::{Options, read_in_process};
use autofold::profile::Profile;

/// Records `program ARGS` with perf at 997 Hz into `dir/NAME.data`.
fn recording(dir: &Path, name: &str, call_graph: &str, program: &Path, args: &[&str]) -> PathBuf {
    let data = dir.join(format!("{name}.data"));
    perf_record(
        &data,
        &["-F", "997", "--call-graph", call_graph],
        program,
        args,
    );
    data
}

/// The recording read by `perf script` and inferno's perf collapser.
fn by_perf_script(data: &Path) -> Profile {
    let script = perf_script(data, &["--no-demangle"]);
    read_perf_script(script.as_slice(), &Source::File(data.into()), 0)
        .unwrap()
        .finish()
        .profile
}

/// The recording read in-process.
fn in_process(data: &Path, perf_compat: bool) -> Profile {
    let options = Options {
        perf_compat,
        ..Options::default()
    };
    read_in_process(data, "test.data", &options)
        .unwrap()
        .finish()
        .profile
}

/// Checks that the two readers gave the same stacks, but for the two
/// differences docs/RECORD.md lists for these programs, both rare:
/// - where perf's DWARF unwinder gave up (a sample in exit code, `_dl_fini`
///   calling a destructor), framehop goes on, so perf's stack is the leaf
///   end of the in-process one (in exit code, perf also misreads frames:
///   there the same leaf is enough);
/// - in ld.so's lazy-binding resolver (`_dl_runtime_resolve_*`, whose
///   CFA is kept in `rbx`, a register framehop does not track) framehop
///   falls back to frame pointers and skips callers: the same leaf in the
///   resolver is enough.
///
/// At most one sample in a hundred may differ so; anything else fails with
/// the first stacks that differ.
fn assert_same_stacks(mine: &Profile, perf: &Profile) {
    let (mut mine, mut perf) = (plt_unnamed(mine), plt_unnamed(perf));
    let total: u64 = perf.values().sum();
    for (stack, count) in perf.clone() {
        let matched = mine.get(&stack).copied().unwrap_or(0).min(count);
        take(&mut mine, &stack, matched);
        take(&mut perf, &stack, matched);
    }
    let mut unwound_further = 0;
    for (stack, count) in perf.clone() {
        let (label, frames) = stack.split_once(';').unwrap_or((&stack, ""));
        // In exit code perf's unwinder also misreads frames (it gave
        // `__quick_exit_funcs`, a data symbol, for `_start` and skipped
        // `_dl_fini`), and in the lazy-binding resolver framehop skips
        // callers: there, the same leaf in the same place is enough.
        let known_gap = |s: &str| {
            [";__run_exit_handlers;", ";_dl_runtime_resolve"]
                .into_iter()
                .find(|gap| s.contains(gap))
        };
        let leaf = |s: &str| s.rsplit(';').next().map(str::to_string);
        let longer = mine
            .keys()
            .find(|m| {
                m.starts_with(&format!("{label};"))
                    && (m.ends_with(&format!(";{frames}"))
                        || known_gap(&stack).is_some()
                            && known_gap(&stack) == known_gap(m)
                            && leaf(m) == leaf(&stack))
            })
            .cloned();
        if let Some(longer) = longer {
            let n = count.min(mine[&longer]);
            take(&mut mine, &longer, n);
            take(&mut perf, &stack, n);
            unwound_further += n;
        }
    }
    let only_mine: Vec<_> = mine.iter().take(3).collect();
    let only_perf: Vec<_> = perf.iter().take(3).collect();
    assert!(
        only_mine.is_empty() && only_perf.is_empty(),
        "in-process only: {only_mine:#?}\nperf script only: {only_perf:#?}"
    );
    assert!(
        unwound_further * 100 <= total.max(100),
        "{unwound_further} samples unwound further than perf's (of {total})"
    );
}

/// The printed stacks of `profile`, every PLT stub frame written `@plt`:
/// where autofold reads each stub's jump (`callee@plt`, checked against
/// objdump in `symbols/plt.rs`), perf 6.1 names a program's stubs `_init`
/// (the symbol before them, stretched over them), glibc's in relocation
/// order, which is not stub order there, and those of IFUNCs not at all
/// (`@plt`). A sample in a stub is rare in these programs: one in startup
/// code, now and then.
fn plt_unnamed(profile: &Profile) -> BTreeMap<String, u64> {
    let mut stacks = BTreeMap::new();
    for (stack, count) in printed_stacks(profile) {
        let stack: Vec<&str> = stack
            .split(';')
            .map(|frame| match frame.ends_with("@plt") || frame == "_init" {
                true => "@plt",
                false => frame,
            })
            .collect();
        *stacks.entry(stack.join(";")).or_insert(0) += count;
    }
    stacks
}

/// Takes `n` samples of `stack` out of `stacks`.
fn take(stacks: &mut BTreeMap<String, u64>, stack: &str, n: u64) {
    if let Some(count) = stacks.get_mut(stack) {
        *count -= n;
        if *count == 0 {
            stacks.remove(stack);
        }
    }
}

#[test]
fn dwarf_recordings_read_in_process_equal_perf_script() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let expr = expr_program(dir.path());
    let recordings = [
        recording(
            dir.path(),
            "even-odd",
            "dwarf,65528",
            even_odd(),
            &["100", "20"],
        ),
        recording(dir.path(), "expr", "dwarf,65528", &expr, &["60", "60"]),
        recording(
            dir.path(),
            "plumbing",
            "dwarf,65528",
            plumbing(),
            &["50000", "4"],
        ),
    ];
    for data in &recordings {
        let (mine, perf) = (in_process(data, false), by_perf_script(data));
        assert!(mine.total_samples() > 50, "{}", data.display());
        assert_eq!(
            mine.total_samples(),
            perf.total_samples(),
            "{}",
            data.display()
        );
        assert_same_stacks(&mine, &perf);
    }
}

#[test]
fn frame_pointer_recordings_equal_perf_script_read_as_perf_reads_them() {
    // perf 6.1 looks a recorded return address up as it is; by default the
    // reader looks inside the call (docs/RECORD.md). With perf's rule the
    // stacks are perf's.
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let expr = expr_program(dir.path());
    let data = recording(dir.path(), "expr-fp", "fp", &expr, &["60", "60"]);
    let (mine, perf) = (in_process(&data, true), by_perf_script(&data));
    assert_eq!(mine.total_samples(), perf.total_samples());
    assert_same_stacks(&mine, &perf);
}

#[test]
fn symbols_tell_instances_of_one_generic_apart_on_both_paths() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let data = recording(
        dir.path(),
        "plumbing",
        "dwarf,65528",
        plumbing(),
        &["50000", "4"],
    );
    for profile in [in_process(&data, false), by_perf_script(&data)] {
        let mut through: Vec<&str> = profile
            .frames
            .iter()
            .filter(|(_, name)| *name == "plumbing::through")
            .filter_map(|(id, _)| profile.frames.identity(id))
            .collect();
        through.sort();
        through.dedup();
        // main's instance and the two of qsort's closures.
        assert_eq!(through.len(), 3, "{through:?}");
    }
}

#[test]
fn jit_code_is_unwound_by_frame_pointers() {
    // node names its JIT code in /tmp/perf-PID.map; perf's DWARF unwinder
    // stops at it, the in-process reader goes on by frame pointers.
    if skip() {
        return;
    }
    let Some(node) = profiler("node", "NODE", "apt-get install nodejs") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let script = fixture("node/even_odd.js");
    record(dir.path())
        .arg("--")
        .arg(node)
        .arg("--perf-basic-prof")
        .arg(&script)
        .args(["200", "60", "0", "0"])
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    // even (line 28) and odd (line 36) of even_odd.js, as V8 names them
    // (`JS:*even …even_odd.js:28:14` once optimised, `JS:^…` before), named
    // as a .cpuprofile's frames are, every tier of one function one frame,
    // in one cycle. (perf script's unwinding stops at the first JIT frame:
    // no JS frame reaches a cycle that way.)
    let members_of = |c: &serde_json::Value, key: &str| -> Vec<String> {
        let members = c[key].as_array().unwrap().iter();
        members.map(|m| m.as_str().unwrap().to_owned()).collect()
    };
    let (even, odd) = ("even (even_odd.js:28)", "odd (even_odd.js:36)");
    let js = report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| members_of(c, "members").iter().any(|m| m == even))
        .unwrap_or_else(|| panic!("no cycle through the JS recursion: {report:#}"));
    assert_eq!(members_of(js, "members"), [even, odd], "{js:#}");
    assert_eq!(js["name"], "{even,odd} (even_odd.js)");
    assert_eq!(members_of(js, "author_members"), [even, odd]);
    // V8 optimises mid-recursion: its tiers are one frame, so the
    // recursion is one run from the interpreted levels to the optimised.
    assert!(js["max_depth"].as_u64().unwrap() > 100, "{js:#}");
}

#[test]
fn events_perf_lost_are_reported_in_one_line() {
    if skip() {
        return;
    }
    // A small ring buffer, a high rate and large samples: perf loses some.
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("lossy.data");
    let options = ["-m", "4", "-F", "20000", "--call-graph", "dwarf,4096"];
    perf_record(&data, &options, even_odd(), &["100", "10"]);
    let stats = perf()
        .args(["report", "--stats", "-i"])
        .arg(&data)
        .output()
        .unwrap();
    let stats = String::from_utf8_lossy(&stats.stdout);
    let lost_records = stats
        .lines()
        .find(|l| l.trim_start().starts_with("LOST events:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .map_or(0, |n| n.parse::<u64>().unwrap());
    let output = autofold()
        .args(["report", "--format", "json"])
        .arg(&data)
        .output();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("LOST records"))
        .collect();
    if lost_records == 0 {
        assert!(notes.is_empty(), "{stderr}");
    } else {
        assert_eq!(notes.len(), 1, "{stderr}");
        assert!(
            notes[0].contains(&format!("({lost_records} LOST records)")),
            "{stderr}"
        );
    }
}

/// The frames of `fixtures/cpp/walker.cpp`'s own functions in folded text,
/// by name.
fn walker_frames(folded: &str) -> BTreeSet<String> {
    folded
        .lines()
        .filter_map(|line| line.rsplit_once(' '))
        .flat_map(|(stack, _)| stack.split(';'))
        .filter(|frame| frame.contains("calc::") || ["main", "overloaded"].contains(frame))
        .map(str::to_owned)
        .collect()
}

#[test]
fn cpp_frames_are_named_alike_on_every_path_as_perf_names_them() {
    if skip() {
        return;
    }
    let Some(cxx) = profiler("g++", "CXX", "apt-get install g++") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let program = cpp_program(&cxx, dir.path(), "walker");
    // What perf 6.1's `perf script` prints for these functions, cut as
    // inferno's collapser cuts a frame: no parameter list, no return type;
    // both overloads are `overloaded`; the lambda is printed
    // `calc::Walker::odd(int, std::vector<int, std::allocator<int> >
    // const&)::{lambda(int)#1}::operator()` and cut to the function it is
    // in.
    let expected: BTreeSet<String> = [
        "main",
        "overloaded",
        "calc::Walker::operator()",
        "calc::Walker::even",
        "calc::Walker::odd",
        "calc::crunch<long>",
        "calc::crunch<int>",
    ]
    .map(str::to_owned)
    .into();
    let no_cycles = ["--exclude", ".*"];
    let fold = |input: &Path| {
        let out = autofold()
            .current_dir(dir.path())
            .args(["fold", input.to_str().unwrap()])
            .args(no_cycles)
            .success();
        walker_frames(&String::from_utf8_lossy(&out.stdout))
    };
    let record = |extra: &[&str]| {
        let folded = dir.path().join("out.folded");
        let mut args = vec!["record", "-o", "flame.svg", "--folded", "out.folded"];
        args.extend_from_slice(&no_cycles);
        args.extend_from_slice(extra);
        args.extend(["--", program.to_str().unwrap()]);
        autofold().current_dir(dir.path()).args(&args).success();
        walker_frames(&std::fs::read_to_string(folded).unwrap())
    };

    // The perf.data reader.
    let data = recording(dir.path(), "walker", "dwarf", &program, &[]);
    assert_eq!(fold(&data), expected, "autofold fold perf.data");
    // `perf script --no-demangle` text, demangled by autofold.
    assert_eq!(record(&["--perf-script"]), expected, "record --perf-script");
    // autofold's sampler.
    assert_eq!(record(&[]), expected, "record (the sampler)");

    // `perf script` as a user runs it: perf demangles, and inferno's
    // collapser cuts each name at its first top-level `(`, an operator's
    // own `()` too (autofold keeps it on the other paths, as perf prints
    // it); the rest is named alike.
    let script = perf().args(["script", "-i"]).arg(&data).output().unwrap();
    assert!(script.status.success(), "perf script failed");
    let text = dir.path().join("walker.perf-script.txt");
    std::fs::write(&text, &script.stdout).unwrap();
    let cut_by_inferno: BTreeSet<String> = expected
        .iter()
        .map(|name| name.replace("operator()", "operator"))
        .collect();
    assert_eq!(
        fold(&text),
        cut_by_inferno,
        "autofold fold of perf script text"
    );
}

/// Runs `program ARGS` with `input` on standard input; its standard output.
fn filter(program: &str, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e} (binutils installs it)"));
    let mut stdin = child.stdin.take().unwrap();
    let text = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{program} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_function_libstdcxx_exports_is_demangled_as_perf_demangles_it() {
    let Some(cxx) = profiler("g++", "CXX", "apt-get install g++") else {
        return;
    };
    let library = Command::new(cxx)
        .arg("-print-file-name=libstdc++.so.6")
        .output()
        .unwrap();
    let library = String::from_utf8(library.stdout).unwrap();
    let symbols = filter("nm", &["-D", "--defined-only", library.trim()], "");
    // Functions only (text symbols): data (vtables, typeinfo) is never a
    // frame.
    let functions: Vec<&str> = symbols
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [_, "T" | "W" | "t" | "w", name] => name.split('@').next(),
                _ => None,
            },
        )
        .filter(|name| name.starts_with("_Z"))
        .collect();
    assert!(functions.len() > 3000, "{} functions", functions.len());
    // `c++filt -p -i` makes perf 6.1's call: libiberty without parameters
    // and without verbose abbreviations.
    let perf = filter("c++filt", &["-p", "-i"], &(functions.join("\n") + "\n"));
    let differ: Vec<String> = functions
        .iter()
        .zip(perf.lines())
        .filter(|(symbol, name)| autofold::demangle::demangle(symbol) != *name)
        .map(|(symbol, name)| {
            format!(
                "{symbol}: perf {name}, autofold {}",
                autofold::demangle::demangle(symbol)
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn cpython_trampolines_unwind_by_the_cfi_of_their_jitdump() {
    // CPython 3.13's `-X perf_jit` trampolines keep no frame pointer; the
    // jitdump holds their .eh_frame, which autofold feeds to its unwinder.
    // Without it, 18 of 245 samples unwound to `_start`.
    if skip() {
        return;
    }
    let Some(python) = cpython(13) else {
        return;
    };
    let dir = TempDir::new().unwrap();
    record(dir.path())
        .args(["--perf", "--"])
        .arg(python)
        .args(["-X", "perf_jit"])
        .arg(fixture("python/perf_jit.py"))
        .args(["10", "100000"])
        .success();
    let folded = std::fs::read_to_string(dir.path().join("out.folded")).unwrap();
    let (mut whole, mut all) = (0, 0);
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let count: u64 = count.parse().unwrap();
        all += count;
        if stack.split(';').nth(1) == Some("_start") {
            whole += count;
        }
    }
    assert!(all > 50, "{folded}");
    assert!(whole * 10 >= all * 9, "{whole} of {all} whole: {folded}");
    assert!(folded.contains("{ping,pong} (perf_jit.py)"), "{folded}");
}
