//! The formats of profilers that do not run on Linux (DTrace, macOS
//! `sample`, Intel VTune, Visual Studio, Apple `xctrace`), read from small
//! hand-written inputs in `fixtures/other-formats/`, and GHC's `.prof`.
//!
//! Every expected stack and count below was worked out by hand from the
//! file and from how inferno's collapser reads it (see "Hand-written inputs
//! for formats without a Linux profiler" in `fixtures/README.md`), not
//! copied from autofold's output.
//!
//! Then every format autofold hands to one of inferno's collapsers (perf
//! script too) read from an input over a megabyte, which the test writes
//! by growing a small input's body: real reports end far past the head
//! autofold detects the format from, and `sample`'s end marker, or a deep
//! first DTrace stack's count, lies beyond it. No such report can be made
//! on Linux; these are synthetic.

use std::collections::BTreeMap;

use autofold::engine::{EngineOptions, analyse};
use autofold::input::head::HEAD_BYTES;
use autofold::input::{ReadOptions, Source, read_from, read_profile};
use autofold::profile::{NO_LABEL, Profile};

use crate::util::fold::printed_stacks;
use crate::util::{fixture, read_fixture};

/// Reads `fixtures/PATH` as `fold` and `report` do.
fn read(path: &str) -> Profile {
    let source = Source::File(fixture(path));
    read_profile(&[source], &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e:#}"))
        .profile
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
fn cycles(path: &str) -> Vec<(String, Vec<String>)> {
    let source = Source::File(fixture(path));
    let read = read_profile(&[source], &ReadOptions::default()).unwrap();
    let report = analyse(read, &EngineOptions::default()).report;
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
        cycles("other-formats/even-odd.dtrace.txt"),
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
        cycles("other-formats/even-odd.sample.txt"),
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
        cycles("other-formats/even-odd.vtune.csv"),
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
        cycles("other-formats/even-odd.vsprof.csv"),
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
        cycles("other-formats/even-odd.xctrace.xml"),
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
    assert!(cycles("haskell/even-odd.prof").is_empty());
}

/// The size the grown inputs pass.
const MEGABYTE: usize = 1 << 20;

/// Reads `text` as `fold` reads a file of it; fails the test with the error.
fn read_text(text: &[u8]) -> Profile {
    let source = Source::File("grown.txt".into());
    read_from(Box::new(text), &source, &ReadOptions::default(), 0)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .finish()
        .profile
}

/// `small` with its body, from the end of `start` to `end` (or to the end
/// of the text), repeated until the text is over a megabyte; and the number
/// of copies. A `token` is numbered in each copy (`token.0`, `token.1`, …)
/// for the formats of a call tree, which holds each path once (inferno's
/// collapsers of them keep one count a path); stacks of the other formats
/// add up.
fn grown(small: &str, start: &str, end: Option<&str>, token: Option<&str>) -> (String, usize) {
    let from = small.find(start).expect("start marker") + start.len();
    let to = end.map_or(small.len(), |end| {
        from + small[from..].find(end).expect("end marker")
    });
    let body = &small[from..to];
    let copies = MEGABYTE / body.len() + 1;
    let bodies: String = (0..copies)
        .map(|copy| match token {
            Some(token) => body.replace(token, &format!("{token}.{copy}")),
            None => body.to_owned(),
        })
        .collect();
    let text = format!("{}{bodies}{}", &small[..from], &small[to..]);
    assert!(text.len() > MEGABYTE);
    (text, copies)
}

/// Fails unless `grown` reads as `copies` copies of the fixture `small`
/// (same format and root labels), `token` numbered in each as [`grown`]
/// numbers it, or without one, with every count `copies` times as large.
fn assert_reads_as_copies(grown: &Profile, small: &Profile, token: Option<&str>, copies: usize) {
    assert_eq!(input_of(grown), input_of(small));
    let small = printed_stacks(small);
    let expected: BTreeMap<String, u64> = match token {
        Some(token) => (0..copies)
            .flat_map(|copy| {
                let numbered = format!("{token}.{copy}");
                small
                    .iter()
                    .map(move |(stack, &count)| (stack.replace(token, &numbered), count))
            })
            .collect(),
        None => small
            .into_iter()
            .map(|(stack, count)| (stack, count * copies as u64))
            .collect(),
    };
    assert_eq!(printed_stacks(grown), expected);
}

/// Where a `sample` report's call graph starts and ends, and the thread
/// each copy of it is numbered by.
const CALL_GRAPH: &str = "Call graph:\n";
const END_OF_GRAPH: Option<&str> = Some("\nTotal number in stack");
const THREAD: Option<&str> = Some("Thread_52017");

#[test]
fn a_megabyte_sample_report_is_known_by_its_header_not_its_end() {
    let small_text = read_fixture("other-formats/even-odd.sample.txt");
    let (text, threads) = grown(&small_text, CALL_GRAPH, END_OF_GRAPH, THREAD);
    let end = text.find("Total number in stack").unwrap();
    assert!(end > 10 * HEAD_BYTES, "the end marker is far past the head");
    let small = read("other-formats/even-odd.sample.txt");
    assert_reads_as_copies(&read_text(text.as_bytes()), &small, THREAD, threads);

    // As inferno's own large.txt.gz comes: gzip-compressed.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, text.as_bytes()).unwrap();
    let compressed = read_text(&gzip.finish().unwrap());
    assert_eq!(compressed.inputs[0].format, "gzip-compressed macOS sample");
    assert_eq!(
        printed_stacks(&compressed),
        printed_stacks(&read_text(text.as_bytes()))
    );
}

#[test]
fn a_sample_report_below_activity_monitors_progress_lines_is_known() {
    let small_text = read_fixture("other-formats/even-odd.sample.txt");
    let (text, threads) = grown(&small_text, CALL_GRAPH, END_OF_GRAPH, THREAD);
    let saved = format!(
        "Sampling process 4242 for 3 seconds with 1 millisecond of run time between samples\nSampling completed, processing symbols...\n{text}"
    );
    let small = read("other-formats/even-odd.sample.txt");
    assert_reads_as_copies(&read_text(saved.as_bytes()), &small, THREAD, threads);
}

#[test]
fn a_truncated_sample_report_is_known_and_said_to_be_cut() {
    let small_text = read_fixture("other-formats/even-odd.sample.txt");
    let (text, _) = grown(&small_text, CALL_GRAPH, END_OF_GRAPH, THREAD);
    let cut = &text[..text.find("\nTotal number in stack").unwrap()];
    let source = Source::File("cut.txt".into());
    let error = read_from(
        Box::new(cut.as_bytes()),
        &source,
        &ReadOptions::default(),
        0,
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.starts_with("cut.txt: not valid macOS sample input: "),
        "{message}"
    );
}

/// DTrace output whose every stack is `depth` frames of even/odd recursion
/// deep, each counted once, `stacks` times.
fn deep_dtrace(depth: usize, stacks: usize) -> String {
    let mut stack = String::from("              even-odd`crunch+0x1d\n");
    for level in (0..depth).rev() {
        let function = if level % 2 == 0 { "even" } else { "odd" };
        stack.push_str(&format!("              even-odd`{function}+0x2e\n"));
    }
    stack.push_str("              even-odd`main+0x44\n");
    stack.push_str("              libdyld.dylib`start+0x1\n");
    stack.push_str("                1\n\n");
    format!(
        "CPU     ID                    FUNCTION:NAME\n  1  80164                        :tick-10s\n\n\n{}",
        stack.repeat(stacks)
    )
}

#[test]
fn a_megabyte_of_dtrace_whose_first_stack_is_deeper_than_the_head_is_known() {
    // 3,000 frames of about 34 bytes: the first count lies past the head.
    let text = deep_dtrace(3000, 11);
    assert!(text.len() > MEGABYTE);
    let first_count = text.find("\n                1\n").unwrap();
    assert!(first_count > HEAD_BYTES, "{first_count}");
    let profile = read_text(text.as_bytes());
    assert_eq!(input_of(&profile), ("DTrace", false));
    let mut stack = vec!["libdyld.dylib`start", "even-odd`main"];
    stack.extend((0..3000).map(|level| match level % 2 {
        0 => "even-odd`even",
        _ => "even-odd`odd",
    }));
    stack.push("even-odd`crunch");
    assert_eq!(
        printed_stacks(&profile),
        expected(&[(&stack.join(";"), 11)])
    );
}

#[test]
fn a_megabyte_of_perf_script_reads_every_sample() {
    // No period field: each sample counts 1 (inferno weighs by the period).
    let sample = "even-odd  4242 [000]  1000.000001: cpu-clock:ppp: \n\
        \t    55d0c0a01a3d even_odd::crunch+0x1d (/tmp/even-odd)\n\
        \t    55d0c0a01b2e even_odd::odd+0x1e (/tmp/even-odd)\n\
        \t    55d0c0a01c2e even_odd::even+0x2e (/tmp/even-odd)\n\
        \t    55d0c0a01d44 main+0x44 (/tmp/even-odd)\n\n";
    let (text, samples) = grown(sample, "", None, None);
    let profile = read_text(text.as_bytes());
    assert_eq!(input_of(&profile), ("perf script", true));
    assert_eq!(
        printed_stacks(&profile),
        expected(&[(
            "even-odd;main;even_odd::even;even_odd::odd;even_odd::crunch",
            samples as u64
        )])
    );
}

#[test]
fn a_megabyte_of_vtune_csv_reads_every_row() {
    let (text, times) = grown(
        &read_fixture("other-formats/even-odd.vtune.csv"),
        "Function Stack,CPU Time:Self,Module\n",
        None,
        Some("Total"),
    );
    let small = read("other-formats/even-odd.vtune.csv");
    assert_reads_as_copies(&read_text(text.as_bytes()), &small, Some("Total"), times);
}

#[test]
fn a_megabyte_of_visual_studio_csv_reads_every_row() {
    // The tree under `main` repeated, each copy's `even` numbered: main
    // calls even.0, even.1, …
    let (text, times) = grown(
        &read_fixture("other-formats/even-odd.vsprof.csv"),
        "\"main\",1,100.00,0.02,48.31,0.01,\"even-odd.exe\",\n",
        None,
        Some("even"),
    );
    let small = read("other-formats/even-odd.vsprof.csv");
    assert_reads_as_copies(&read_text(text.as_bytes()), &small, Some("even"), times);
}

#[test]
fn a_megabyte_of_xctrace_xml_reads_every_row() {
    let small_text = read_fixture("other-formats/even-odd.xctrace.xml");
    // More rows of the first backtrace (start;main;even;crunch), each with
    // a sample time of its own.
    let rows = (1000..40_000).map(|id| {
        format!(
            "<row><sample-time id=\"{id}\" fmt=\"00:01.{id}\">{id}000</sample-time><thread ref=\"2\"/><weight ref=\"6\"/><backtrace ref=\"7\"/></row>\n"
        )
    });
    let rows: String = rows.collect();
    let text = small_text.replace("</node>", &format!("{rows}</node>"));
    assert!(text.len() > MEGABYTE);
    let profile = read_text(text.as_bytes());
    let small = read("other-formats/even-odd.xctrace.xml");
    assert_eq!(input_of(&profile), input_of(&small));
    let mut stacks = printed_stacks(&small);
    *stacks.get_mut("start;main;even;crunch").unwrap() += 39_000;
    assert_eq!(printed_stacks(&profile), stacks);
}

#[test]
fn a_megabyte_ghc_report_reads_every_call_tree() {
    let (text, times) = grown(
        &read_fixture("haskell/even-odd.prof"),
        "%time %alloc   %time %alloc\n\n",
        None,
        None,
    );
    let small = read("haskell/even-odd.prof");
    assert_reads_as_copies(&read_text(text.as_bytes()), &small, None, times);
}
