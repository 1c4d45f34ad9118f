//! Invariants of the fold, checked over generated profiles.

use std::collections::BTreeMap;

use inferno::collapse::Collapse;
use proptest::prelude::*;

use crate::util::fold::{fold, fold_text, fold_with, no_reroot, printed_stacks, total};

const FUNCTIONS: &[&str] = &["a", "b", "c", "d", "e", "main", "x::y"];

/// A folded line: root label `prog`, then 1–24 frames from a small alphabet
/// (so cycles are common), optionally with pseudo-frames.
fn stack(pseudo: bool) -> impl Strategy<Value = String> {
    let frame = if pseudo {
        prop::sample::select([FUNCTIONS, &["[unknown]", "[libc.so.6]"]].concat()).boxed()
    } else {
        prop::sample::select(FUNCTIONS.to_vec()).boxed()
    };
    (prop::collection::vec(frame, 1..24), 1u64..6)
        .prop_map(|(frames, count)| format!("prog;{} {count}", frames.join(";")))
}

fn profile(pseudo: bool) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(stack(pseudo), 1..40)
}

fn text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Stacks (without counts) → summed counts, after keeping only `keep` frames.
fn projected(text: &str, keep: impl Fn(&str) -> bool) -> BTreeMap<Vec<String>, u64> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let frames: Vec<String> = stack
            .split(';')
            .filter(|f| keep(f))
            .map(String::from)
            .collect();
        *map.entry(frames).or_default() += count.parse::<u64>().unwrap();
    }
    map
}

proptest! {
    #[test]
    fn samples_are_conserved(lines in profile(true)) {
        let input = text(&lines);
        prop_assert_eq!(total(&fold(&input)), total(&input));
    }

    #[test]
    fn folding_twice_equals_folding_once(lines in profile(true)) {
        // Re-rooting adds entry paths above cut stacks, which can show a
        // second fold recursion the first did not see; the fold alone is
        // idempotent.
        let once = fold_with(&text(&lines), &no_reroot()).0;
        prop_assert_eq!(fold_with(&once, &no_reroot()).0, once);
    }

    #[test]
    fn every_run_of_a_cycle_is_folded(lines in profile(true)) {
        // A cycle's frame is never next to itself or to a member of its
        // cycle, pseudo-frames between them aside. (It can appear twice in
        // a stack when a frame that never recursed, kept out of the cycle,
        // stands between two runs.)
        let (folded, report) = fold_text(&text(&lines), &[]);
        for line in folded.lines() {
            let (stack, _) = line.rsplit_once(' ').unwrap();
            let frames: Vec<&str> = stack
                .split(';')
                .skip(1)
                .filter(|f| !(f.starts_with('[') && f.ends_with(']')))
                .collect();
            for cycle in &report.cycles {
                let of_cycle = |f: &str| f == cycle.name || cycle.members.iter().any(|m| m == f);
                for pair in frames.windows(2) {
                    prop_assert!(
                        !(of_cycle(pair[0]) && of_cycle(pair[1])),
                        "{} unfolded in {}", cycle.name, line
                    );
                }
            }
        }
    }

    #[test]
    fn every_member_was_twice_on_some_stack(lines in profile(false)) {
        let input = text(&lines);
        let (_, report) = fold_text(&input, &[]);
        for cycle in &report.cycles {
            for member in &cycle.members {
                let twice = input.lines().any(|line| {
                    let (stack, _) = line.rsplit_once(' ').unwrap();
                    stack.split(';').skip(1).filter(|f| f == member).count() >= 2
                });
                prop_assert!(twice, "{} joined {} without recursing", member, cycle.name);
            }
        }
    }

    #[test]
    fn frames_outside_cycles_keep_their_names_and_order(lines in profile(false)) {
        // Re-rooting adds frames on purpose; the fold alone must not.
        let input = text(&lines);
        let (folded, report) = fold_with(&input, &no_reroot());
        let members: Vec<&str> = report.cycles.iter().flat_map(|c| c.members.iter().map(String::as_str)).collect();
        let names: Vec<&str> = report.cycles.iter().map(|c| c.name.as_str()).collect();
        prop_assert_eq!(
            projected(&input, |f| !members.contains(&f)),
            projected(&folded, |f| !names.contains(&f))
        );
    }

    #[test]
    fn line_order_does_not_change_the_output(lines in profile(true), seed in any::<u64>()) {
        let mut shuffled = lines.clone();
        let len = shuffled.len();
        for i in (1..len).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        prop_assert_eq!(fold(&text(&shuffled)), fold(&text(&lines)));
    }

    #[test]
    fn direct_recursion_alone_folds_exactly_like_inferno(
        runs in prop::collection::vec(prop::collection::vec((0usize..FUNCTIONS.len(), 1usize..5), 1..8), 1..30),
        counts in prop::collection::vec(1u64..9, 30),
    ) {
        // Frames in alphabet order only (repeats allowed): the only
        // recursion is a function calling itself. Every stack starts at a
        // `start` that never recurses, so none looks cut by perf.
        let lines: Vec<String> = runs.iter().zip(&counts).map(|(run, count)| {
            let mut run = run.clone();
            run.sort();
            let frames: Vec<&str> = run.iter().flat_map(|&(f, n)| std::iter::repeat_n(FUNCTIONS[f], n)).collect();
            format!("prog;start;{} {count}", frames.join(";"))
        }).collect();
        let input = text(&lines);
        let mut expected = Vec::new();
        inferno::collapse::recursive::Folder::default()
            .collapse(input.as_bytes(), &mut expected)
            .unwrap();
        prop_assert_eq!(fold(&input), String::from_utf8(expected).unwrap());
    }
}

/// A profile read with lines repeated (at once and far apart): what the
/// reader holds is each distinct stack once, with the counts of all its
/// lines summed, and the order lines come in changes nothing.
fn repeated(lines: Vec<String>, order: Vec<usize>) -> String {
    let mut all: Vec<&String> = lines.iter().chain(&lines).chain(&lines).collect();
    for (i, &j) in order.iter().enumerate() {
        let n = all.len();
        all.swap(i % n, j % n);
    }
    all.into_iter().map(|l| format!("{l}\n")).collect()
}

proptest! {
    #[test]
    fn repeated_stacks_are_held_once_with_their_counts_summed(
        lines in profile(true),
        order in prop::collection::vec(0usize..120, 0..60),
    ) {
        let input = repeated(lines, order);
        let source = autofold::input::Source::File("p.folded".into());
        let reader = Box::new(std::io::Cursor::new(input.clone().into_bytes()));
        let profile = autofold::input::read_from(
            reader,
            &source,
            &autofold::input::ReadOptions::default(),
            0,
        )
        .unwrap()
        .finish()
        .profile;
        let expected = projected(&input, |_| true);
        prop_assert_eq!(profile.stack_count(), expected.len());
        let read = printed_stacks(&profile);
        let expected_text: BTreeMap<String, u64> = expected
            .into_iter()
            .map(|(frames, count)| (frames.join(";"), count))
            .collect();
        prop_assert_eq!(read, expected_text);
    }
}
