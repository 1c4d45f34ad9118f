//! The formats of profilers that do not run on Linux (DTrace, macOS
//! `sample`, Intel VTune, Visual Studio, Apple `xctrace`), read from small
//! hand-written inputs in `fixtures/other-formats/`, and GHC's `.prof`.
//!
//! Every expected stack and count below was worked out by hand from the
//! file and from how inferno's collapser reads it (see "Hand-written inputs
//! for formats without a Linux profiler" in `fixtures/README.md`), not
//! copied from autofold's output.

use std::collections::BTreeMap;

use autofold::engine::{EngineOptions, analyse};
use autofold::input::{ReadOptions, Source, read_profile};
use autofold::profile::{NO_LABEL, Profile};

use crate::util::fixture;
use crate::util::fold::printed_stacks;

/// Reads `fixtures/PATH` as `fold` and `report` do.
fn read(path: &str) -> Profile {
    let source = Source::File(fixture(path));
    read_profile(&[source], &ReadOptions::default()).unwrap_or_else(|e| panic!("{e:#}"))
}

fn expected(lines: &[(&str, u64)]) -> BTreeMap<String, u64> {
    lines.iter().map(|&(s, n)| (s.to_string(), n)).collect()
}

/// The format detected, and whether the first frames were taken for root
/// labels.
fn input_of(profile: &Profile) -> (&str, bool) {
    assert_eq!(profile.inputs.len(), 1, "{:?}", profile.inputs);
    (&profile.inputs[0].format, profile.inputs[0].root_labels)
}

/// The cycles the engine finds: name and members.
fn cycles(profile: Profile) -> Vec<(String, Vec<String>)> {
    let report = analyse(profile, &EngineOptions::default()).report;
    report
        .cycles
        .into_iter()
        .map(|c| (c.name, c.members))
        .collect()
}

/// Every stack starts with an empty root-label slot: the format writes no
/// process name.
fn assert_unlabelled(profile: &Profile) {
    for (frames, _) in profile.stacks() {
        assert_eq!(frames[0], NO_LABEL);
    }
}

#[test]
fn dtrace_stacks_lose_their_offsets_and_equal_stacks_add_up() {
    let profile = read("other-formats/even-odd.dtrace.txt");
    assert_eq!(input_of(&profile), ("DTrace", false));
    assert_unlabelled(&profile);
    // Two aggregation entries differ only in crunch's offset (+0x1d,
    // +0x24): without offsets they are one stack, 1 + 3 samples.
    assert_eq!(
        printed_stacks(&profile),
        expected(&[
            (
                "libdyld.dylib`start;even-odd`main;even-odd`even;even-odd`crunch",
                3
            ),
            (
                "libdyld.dylib`start;even-odd`main;even-odd`even;even-odd`odd;even-odd`crunch",
                2
            ),
            (
                "libdyld.dylib`start;even-odd`main;even-odd`even;even-odd`odd;even-odd`even;even-odd`crunch",
                4
            ),
            (
                "libdyld.dylib`start;even-odd`main;even-odd`even;even-odd`odd;even-odd`even;even-odd`odd;even-odd`crunch",
                1
            ),
        ])
    );
    assert_eq!(profile.total_samples(), 10);
    // No `::` path is shared: the members are listed whole, in byte order.
    assert_eq!(
        cycles(profile),
        [(
            "{even-odd`even,even-odd`odd}".to_string(),
            vec!["even-odd`even".to_string(), "even-odd`odd".to_string()]
        )]
    );
}

/// inferno's `sample` collapser reads a module from the last `(in …)` of a
/// line, or else from everything before its last `)`: the main thread's
/// line, `Thread_52017   DispatchQueue_1: com.apple.main-thread  (serial)`,
/// has no `(in …)`, so its frame is `MODULE`FUNCTION` with MODULE the line
/// up to `(serial` and FUNCTION the line up to its `(`, without the blanks.
const SAMPLE_THREAD: &str = "Thread_52017   DispatchQueue_1: com.apple.main-thread  (serial`Thread_52017   DispatchQueue_1: com.apple.main-thread";

#[test]
fn macos_sample_call_graph_leaves_are_stacks_under_the_thread_as_root_label() {
    let profile = read("other-formats/even-odd.sample.txt");
    assert_eq!(input_of(&profile), ("macOS sample", true));
    let stack = |frames: &str| format!("{SAMPLE_THREAD};dyld`start;even-odd`main;{frames}");
    assert_eq!(
        printed_stacks(&profile),
        BTreeMap::from([
            (stack("even-odd`even;even-odd`crunch"), 3),
            (stack("even-odd`even;even-odd`odd;even-odd`crunch"), 2),
            (
                stack("even-odd`even;even-odd`odd;even-odd`even;even-odd`crunch"),
                4
            ),
            (
                stack("even-odd`even;even-odd`odd;even-odd`even;even-odd`odd;even-odd`crunch"),
                1
            ),
        ])
    );
    assert_eq!(profile.total_samples(), 10);
    let thread = profile.frames.get(SAMPLE_THREAD).unwrap();
    for (frames, _) in profile.stacks() {
        assert_eq!(frames[0], thread, "the thread is in the root-label slot");
    }
    assert_eq!(
        cycles(profile),
        [(
            "{even-odd`even,even-odd`odd}".to_string(),
            vec!["even-odd`even".to_string(), "even-odd`odd".to_string()]
        )]
    );
}

#[test]
fn vtune_self_cpu_time_becomes_milliseconds_per_stack() {
    let profile = read("other-formats/even-odd.vtune.csv");
    assert_eq!(input_of(&profile), ("VTune CSV", false));
    assert_unlabelled(&profile);
    let stack = |frames: &str| {
        format!("Total;even-odd`_start;libc.so.6`__libc_start_main;even-odd`main;{frames}")
    };
    // CPU Time:Self 0.030 s is 30 ms; rows with 0 s make no stack.
    assert_eq!(
        printed_stacks(&profile),
        BTreeMap::from([
            (stack("even-odd`even;even-odd`crunch"), 30),
            (stack("even-odd`even;even-odd`odd;even-odd`crunch"), 20),
            (
                stack("even-odd`even;even-odd`odd;even-odd`even;even-odd`crunch"),
                40
            ),
            (
                stack("even-odd`even;even-odd`odd;even-odd`even;even-odd`odd;even-odd`crunch"),
                10
            ),
        ])
    );
    assert_eq!(profile.total_samples(), 100);
    assert_eq!(
        cycles(profile),
        [(
            "{even-odd`even,even-odd`odd}".to_string(),
            vec!["even-odd`even".to_string(), "even-odd`odd".to_string()]
        )]
    );
}

#[test]
fn visual_studio_call_counts_of_leaves_are_the_counts() {
    let profile = read("other-formats/even-odd.vsprof.csv");
    assert_eq!(input_of(&profile), ("Visual Studio CSV", false));
    assert_unlabelled(&profile);
    // Every node has 5 calls: a caller's count less its last callee's is
    // never below the callee's, so only the leaves (`crunch`) make stacks.
    assert_eq!(
        printed_stacks(&profile),
        expected(&[
            ("main;even;crunch", 5),
            ("main;even;odd;crunch", 5),
            ("main;even;odd;even;crunch", 5),
            ("main;even;odd;even;odd;crunch", 5),
        ])
    );
    assert_eq!(profile.total_samples(), 20);
    assert_eq!(
        cycles(profile),
        [(
            "{even,odd}".to_string(),
            vec!["even".to_string(), "odd".to_string()]
        )]
    );
}

#[test]
fn xctrace_rows_are_samples_and_backtraces_that_print_alike_add_up() {
    let profile = read("other-formats/even-odd.xctrace.xml");
    assert_eq!(input_of(&profile), ("xctrace XML", false));
    assert_unlabelled(&profile);
    // Ten rows; rows 1 and 9 share backtrace 7, row 5 has backtrace 23
    // (crunch at another address): one stack of 3.
    assert_eq!(
        printed_stacks(&profile),
        expected(&[
            ("start;main;even;crunch", 3),
            ("start;main;even;odd;crunch", 2),
            ("start;main;even;odd;even;crunch", 4),
            ("start;main;even;odd;even;odd;crunch", 1),
        ])
    );
    assert_eq!(profile.total_samples(), 10);
    assert_eq!(
        cycles(profile),
        [(
            "{even,odd}".to_string(),
            vec!["even".to_string(), "odd".to_string()]
        )]
    );
}

#[test]
fn ghc_prof_without_ticks_counts_per_mille_of_time() {
    let profile = read("haskell/even-odd.prof");
    assert_eq!(input_of(&profile), ("GHC .prof", false));
    assert_unlabelled(&profile);
    // The individual %time column holds 49.7 (crunch.go under even), 49.3
    // (crunch.go under odd), 0.6 and 0.5 (settle.go), 0.0 elsewhere; inferno
    // multiplies by 10: 497 + 493 + 6 + 5.
    assert_eq!(profile.total_samples(), 1001);
    let stacks = printed_stacks(&profile);
    assert_eq!(
        stacks["MAIN.MAIN;Main.main;Main.main.evens;Main.even;Main.even.acc';Main.crunch;Main.crunch.go"],
        497
    );
    assert_eq!(
        stacks["MAIN.MAIN;Main.main;Main.main.evens;Main.even;Main.odd;Main.odd.acc';Main.crunch;Main.crunch.go"],
        493
    );
    // GHC's cost-centre stacks fold recursion themselves: `odd` never
    // calls `even` again, so there is no cycle.
    assert!(cycles(profile).is_empty());
}
