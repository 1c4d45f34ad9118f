//! Folding profiles captured from real perf runs (see fixtures/README.md),
//! checked for what a person would look for in the flame graph.

use std::collections::BTreeMap;

use crate::util::fold::{fold, fold_text, fold_with, no_reroot, total};
use crate::util::read_fixture;
use autofold::engine::report::Report;

/// Samples per distinct frame right below the root label.
fn second_frames(folded: &str) -> BTreeMap<String, u64> {
    let mut map = BTreeMap::new();
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let second = stack.split(';').nth(1).unwrap_or("").to_string();
        *map.entry(second).or_default() += count.parse::<u64>().unwrap();
    }
    map
}

/// Samples of stacks that, below the root label and any pseudo-frames,
/// start inside the recursion (a frame whose name matches `member`).
fn truncated_samples(text: &str, member: impl Fn(&str) -> bool) -> u64 {
    text.lines()
        .filter_map(|line| {
            let (stack, count) = line.rsplit_once(' ')?;
            let first = stack
                .split(';')
                .skip(1)
                .find(|f| !(f.starts_with('[') && f.ends_with(']')))?;
            member(first).then(|| count.parse::<u64>().unwrap())
        })
        .sum()
}

fn cycle<'a>(report: &'a Report, name: &str) -> &'a autofold::engine::report::CycleReport {
    report
        .cycles
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no cycle {name}: {report:#?}"))
}

#[test]
fn perf_script_input_collapses_like_inferno_collapse_perf() {
    let from_script = fold(&read_fixture("expr/expr.perf-script.txt"));
    let from_inferno = fold(&read_fixture("expr/expr.perf-script.folded"));
    assert_eq!(from_script, from_inferno);
    assert_eq!(total(&from_script), 20);
}

#[test]
fn even_odd_profile_has_one_cycle_with_crunch_and_settle_beneath() {
    let input = read_fixture("even-odd/even-odd.folded");
    let (folded, report) = fold_text(&input, &[]);
    let even_odd = cycle(&report, "even_odd::{even,odd}");
    assert_eq!(even_odd.members, ["even_odd::even", "even_odd::odd"]);
    let exits: Vec<&str> = even_odd.exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exits, ["even_odd::crunch", "even_odd::settle"]);
    assert_eq!(even_odd.entries[0].name, "even_odd::main::{{closure}}");
    // 100 levels of each: even(100) … even(0) is 101 frames, +1 for the
    // repetition that starts at 101.
    assert_eq!(even_odd.max_depth, 102);
    assert_eq!(total(&folded), total(&input));
    assert_eq!(report.truncation.truncated_samples, 0);
}

#[test]
fn expr_profile_folds_the_three_function_loop() {
    let input = read_fixture("expr/expr.folded");
    let (folded, report) = fold_text(&input, &[]);
    let expr = cycle(&report, "{expr,factor,term}");
    assert_eq!(expr.exits[0].name, "checksum");
    // 151 parenthesis levels, three frames each.
    assert_eq!(expr.max_depth, 453);
    assert!(
        folded.lines().all(|l| !l.contains(";expr;")),
        "no member left unfolded"
    );
    assert_eq!(total(&folded), total(&input));
}

#[test]
fn deep_even_odd_is_rerooted_under_main_into_one_tower() {
    let input = read_fixture("even-odd/even-odd-deep.folded");
    let is_member = |f: &str| f == "even_odd::even" || f == "even_odd::odd";
    let expected_truncated = truncated_samples(&input, is_member);
    assert!(
        expected_truncated > total(&input) / 2,
        "the fixture is mostly truncated stacks"
    );

    let (folded, report) = fold_text(&input, &[]);
    let t = &report.truncation;
    assert_eq!(t.truncated_samples, expected_truncated);
    assert_eq!(t.rerooted_samples, expected_truncated);
    assert_eq!(t.grouped_samples, 0);
    let path = &t.rerooted[0].entry_path;
    assert_eq!(path.first().map(String::as_str), Some("even-odd"));
    assert_eq!(path.get(1).map(String::as_str), Some("_start"));
    assert_eq!(
        path.last().map(String::as_str),
        Some("even_odd::main::{{closure}}")
    );
    assert_eq!(
        total(&folded),
        total(&input),
        "re-rooting conserves samples"
    );

    // One tower: every stack through the cycle reaches it by the same path,
    // except the few whose unwinding failed before the recursion began.
    let tower = format!("{};even_odd::{{even,odd}}", path.join(";"));
    let through: u64 = folded
        .lines()
        .filter(|l| l.contains("even_odd::{even,odd}"))
        .map(total)
        .sum();
    let in_tower: u64 = folded
        .lines()
        .filter(|l| l.starts_with(&tower))
        .map(total)
        .sum();
    assert!(
        in_tower * 100 >= through * 99,
        "{in_tower} of {through} samples in the main tower"
    );
    assert!(second_frames(&folded)["_start"] * 100 >= total(&folded) * 99);
}

#[test]
fn without_reroot_the_truncated_stacks_stay_a_second_tower() {
    let input = read_fixture("even-odd/even-odd-deep.folded");
    let (folded, report) = fold_with(&input, &no_reroot());
    assert_eq!(report.truncation.truncated_samples, 0);
    let roots = second_frames(&folded);
    let beside_main = roots.get("even_odd::{even,odd}").copied().unwrap_or(0)
        + roots.get("[unknown]").copied().unwrap_or(0);
    assert!(
        beside_main >= truncated_samples(&input, |f| f.starts_with("even_odd::")),
        "{roots:?}"
    );
}

#[test]
fn truncated_stacks_with_no_complete_entry_go_under_truncated() {
    let input = "p;a;b;a;work 3\np;[unknown];b;a;b 2\np;main;c 1\n";
    let (folded, report) = fold_text(input, &[]);
    assert_eq!(
        folded,
        "p;[truncated];{a,b} 2\np;[truncated];{a,b};work 3\np;main;c 1\n"
    );
    assert_eq!(report.truncation.grouped_samples, 5);
    assert_eq!(report.truncation.grouped[0].cycle, "{a,b}");
}

#[test]
fn truncated_stacks_join_the_one_entry_path() {
    // Both complete stacks enter {a,b} from run; the third was cut.
    let input = "p;main;run;a;b;a;b;x 5\np;main;run;b;y 2\np;b;a;b;a;z 4\n";
    let (folded, report) = fold_text(input, &[]);
    assert_eq!(
        folded,
        "p;main;run;{a,b};x 5\np;main;run;{a,b};y 2\np;main;run;{a,b};z 4\n"
    );
    assert_eq!(
        report.truncation.rerooted[0].entry_path,
        ["p", "main", "run"]
    );
    assert_eq!(cycle(&report, "{a,b}").entries[0].name, "run");
    assert_eq!(cycle(&report, "{a,b}").entries[0].samples, 11);
}

#[test]
fn truncated_stacks_with_several_entry_paths_go_under_what_they_share() {
    // run and other both enter {a,b}: a cut stack could come from either.
    let input = "p;main;run;a;b;a;b;x 5\np;main;other;a;y 2\np;b;a;b;a;z 4\n";
    let (folded, report) = fold_text(input, &[]);
    assert_eq!(
        folded,
        "p;main;[truncated];{a,b};z 4\np;main;other;{a,b};y 2\np;main;run;{a,b};x 5\n"
    );
    let t = &report.truncation;
    assert_eq!(t.rerooted[0].entry_path, ["p", "main", "[truncated]"]);
    assert_eq!((t.rerooted_samples, t.grouped_samples), (4, 0));
}

#[test]
fn an_entry_path_that_is_the_tail_of_another_is_a_cut_copy_of_it() {
    // `run;a;…` (no main above run) is the longer path cut short.
    let input = "p;start;main;run;a;b;a;b;x 5\np;run;b;a;y 2\np;b;a;b;a;z 4\n";
    let (folded, report) = fold_text(input, &[]);
    assert!(folded.contains("p;start;main;run;{a,b};z 4\n"), "{folded}");
    assert_eq!(
        report.truncation.rerooted[0].entry_path,
        ["p", "start", "main", "run"]
    );
}

/// The most times `name` is on one stack of folded `text`.
fn most_on_one_stack(text: &str, name: &str) -> usize {
    text.lines()
        .map(|line| {
            let (stack, _) = line.rsplit_once(' ').unwrap();
            stack.split(';').filter(|f| *f == name).count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn serde_json_start_up_is_kept_out_of_the_parsers_recursion() {
    // The runtime's FnOnce::call_once is above main and, once, inside the
    // parser (fixtures/README.md): by name, that joined start-up to the
    // parser's recursion. main, from_str and Result::map were never on a
    // stack twice: they never recursed, and are kept out.
    let input = read_fixture("serde-nested/serde-nested.folded");
    for never_twice in [
        "serde_nested::main",
        "serde_json::de::from_str",
        "core::result::Result<T,E>::map",
    ] {
        assert_eq!(most_on_one_stack(&input, never_twice), 1, "{never_twice}");
    }
    let (_, report) = fold_text(&input, &[]);
    for kept_out in ["serde_nested::main", "serde_json::de::from_str"] {
        assert!(report.kept_out.iter().any(|k| k == kept_out), "{kept_out}");
    }
    let parser = &report.cycles[0];
    assert!(
        parser
            .members
            .iter()
            .any(|m| m.ends_with("deserialize_any")),
        "{:?}",
        parser.members
    );
    assert!(
        parser.members.iter().all(|m| m.contains("serde")),
        "only the parser's own functions: {:?}",
        parser.members
    );
    assert!(!parser.name.contains("call_once"), "{}", parser.name);
    assert_eq!(parser.entries[0].name, "serde_json::de::from_trait");
}

/// Whether `name` is twice on one stack of folded `text` with only frames
/// of `members` (or pseudo-frames) between: it re-enters itself through
/// their cycle.
fn reenters_through(text: &str, members: &[String], name: &str) -> bool {
    text.lines().any(|line| {
        let (stack, _) = line.rsplit_once(' ').unwrap();
        // Whether `name` was seen since the last frame outside the cycle.
        let mut seen = false;
        for frame in stack.split(';') {
            let pseudo = frame.starts_with('[') && frame.ends_with(']');
            if frame == name {
                if seen {
                    return true;
                }
                seen = true;
            } else if !pseudo && !members.iter().any(|m| m == frame) {
                seen = false;
            }
        }
        false
    })
}

#[test]
fn serde_json_giant_cycles_are_recursions_no_advice_cuts() {
    // Both giant cycles (the parser's, Value's drop) are one recursion
    // each: every member re-enters itself through its cycle, so excluding
    // any of them would cut the recursion, and none is suggested.
    let input = read_fixture("serde-nested/serde-nested.folded");
    let (folded, report) = fold_text(&input, &[]);
    assert_eq!(
        total(&folded),
        total(&input),
        "samples conserved through re-rooting"
    );
    let giants: Vec<_> = report
        .cycles
        .iter()
        .filter(|c| c.members.len() > 8)
        .collect();
    assert_eq!(giants.len(), 2, "{:?}", report.cycles);
    for giant in giants {
        let cut = giant
            .members
            .iter()
            .filter(|m| !reenters_through(&input, &giant.members, m))
            .count();
        assert_eq!(cut, 0, "{}: members that never re-enter", giant.name);
        assert_eq!(giant.split, None, "{}", giant.name);
    }
}

#[test]
fn serde_json_recursion_is_rerooted_where_the_program_enters_it() {
    let input = read_fixture("serde-nested/serde-nested.folded");
    let (folded, report) = fold_text(&input, &[]);
    let parser = report
        .cycles
        .iter()
        .find(|c| c.members.iter().any(|m| m.ends_with("deserialize_any")))
        .expect("the parser's recursion is a cycle");
    let t = &report.truncation;
    let members = |f: &str| parser.members.iter().any(|m| m == f);
    assert_eq!(t.truncated_samples, truncated_samples(&input, members));
    assert!(t.truncated_samples > 0);
    let path = &t.rerooted[0].entry_path;
    assert_eq!(&path[..2], ["serde-nested", "_start"]);
    assert!(path.iter().any(|f| f == "serde_nested::main"), "{path:?}");
    assert_eq!(
        path.last().map(String::as_str),
        Some("serde_json::de::from_trait")
    );
    assert_eq!(total(&folded), total(&input));
}

#[test]
fn interpreter_giant_cycle_is_named_after_eval_and_never_cut() {
    let input = read_fixture("interp/interp.folded");
    let (_, report) = fold_text(&input, &[]);
    let giant = &report.cycles[0];
    assert_eq!(
        giant.name,
        format!("{{interp::eval,+{}}}", giant.members.len() - 1)
    );
    for member in [
        "interp::eval",
        "interp::eval_call",
        "interp::call_closure",
        "interp::apply",
        "interp::eval_if",
    ] {
        assert!(giant.members.iter().any(|m| m == member), "{member}");
    }
    // eval_work, the builtin doing the work (it calls hash_work), never
    // recursed: it is where the recursion's samples leave it.
    assert_eq!(most_on_one_stack(&input, "interp::eval_work"), 1);
    assert!(!giant.members.iter().any(|m| m == "interp::eval_work"));
    assert_eq!(giant.exits[0].name, "interp::eval_work");
    // eval is the recursion's heart: it re-enters itself through the
    // cycle, and excluding it would cut every recursion the program runs
    // (no cycle of even half the members is left), so it is never
    // suggested; no other member splits the cycle.
    assert!(reenters_through(&input, &giant.members, "interp::eval"));
    assert_eq!(giant.split, None);
    let (_, after) = fold_text(&input, &["^interp::eval$"]);
    assert!(
        after
            .cycles
            .iter()
            .all(|c| c.members.len() < giant.members.len() / 2),
        "{:?}",
        after.cycles
    );
}

#[test]
fn max_cycle_members_leaves_giant_cycles_unfolded_but_reported() {
    let input = read_fixture("interp/interp.folded");
    let options = autofold::engine::EngineOptions {
        fold: autofold::engine::fold::FoldOptions {
            max_cycle_members: Some(8),
            ..Default::default()
        },
        ..Default::default()
    };
    let (folded, report) = fold_with(&input, &options);
    assert!(!report.cycles[0].folded);
    assert!(
        folded.contains(";interp::eval;interp::eval_"),
        "members stay in the stacks"
    );
    assert!(!folded.contains("{interp::eval,"));
    assert_eq!(total(&folded), total(&input));
}

#[test]
fn text_report_fits_80_columns() {
    for fixture in [
        "serde-nested/serde-nested.folded",
        "interp/interp.folded",
        "even-odd/even-odd-deep.folded",
    ] {
        let (_, report) = fold_text(&read_fixture(fixture), &[]);
        let mut text = Vec::new();
        report.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        for line in text
            .lines()
            .filter(|l| !l.trim_start().starts_with("--exclude"))
        {
            assert!(line.chars().count() <= 80, "{fixture}: {line}");
        }
    }
}
