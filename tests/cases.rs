//! Hand-written cases: each `fixtures/cases/NAME.folded` folds into
//! `NAME.expected` (worked out by hand; see fixtures/README.md).

use crate::util::fold::{fold, fold_text};
use crate::util::read_fixture;

fn check_case(name: &str) {
    let input = read_fixture(&format!("cases/{name}.folded"));
    let expected = read_fixture(&format!("cases/{name}.expected"));
    assert_eq!(fold(&input), expected, "case {name}");
}

#[test]
fn direct_recursion_folds_like_inferno_collapse_recursive() {
    check_case("direct");
}

#[test]
fn mutual_recursion_folds_into_one_frame() {
    check_case("mutual");
}

#[test]
fn three_member_loop_folds_into_one_frame() {
    check_case("three-members");
}

#[test]
fn two_cycles_in_one_stack_fold_apart() {
    check_case("two-cycles");
}

#[test]
fn a_cycle_nested_under_another_keeps_its_own_frame() {
    check_case("nested");
}

#[test]
fn pseudo_frames_join_no_cycle_but_fold_between_members() {
    check_case("pseudo-frames");
}

#[test]
fn a_function_never_twice_on_a_stack_joins_no_cycle() {
    check_case("once-around");
    let (_, report) = fold_text(&read_fixture("cases/once-around.folded"), &[]);
    let names: Vec<&str> = report.cycles.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["{c,d}"]);
    // a was twice on a stack; b (and y) never: they are what the call
    // graph put in a cycle, and what was kept out.
    assert_eq!(report.kept_out, ["b", "y"]);
}

#[test]
fn root_label_equal_to_a_function_makes_no_cycle() {
    check_case("root-label");
    let (_, report) = fold_text(&read_fixture("cases/root-label.folded"), &[]);
    assert!(report.cycles.is_empty());
}

#[test]
fn mutual_report_has_samples_depth_entries_and_exits() {
    // 4 stacks: runs of 4, 2, 1 and 3 frames with 4, 3, 2 and 1 samples.
    let (_, report) = fold_text(&read_fixture("cases/mutual.folded"), &[]);
    assert_eq!(report.total_samples, 10);
    let cycle = &report.cycles[0];
    assert_eq!(cycle.name, "{even,odd}");
    assert_eq!(cycle.members, ["even", "odd"]);
    assert_eq!(cycle.samples, 10);
    assert_eq!(cycle.max_depth, 4);
    assert!(
        (cycle.mean_depth - 2.7).abs() < 1e-9,
        "{}",
        cycle.mean_depth
    );
    let pairs = |v: &[autofold::engine::report::NamedCount]| {
        v.iter()
            .map(|c| (c.name.clone(), c.samples))
            .collect::<Vec<_>>()
    };
    assert_eq!(pairs(&cycle.entries), [("main".to_string(), 10)]);
    assert_eq!(
        pairs(&cycle.exits),
        [("crunch".to_string(), 9), ("settle".to_string(), 1)]
    );
    assert_eq!(
        pairs(&cycle.member_self_samples),
        [("even".to_string(), 0), ("odd".to_string(), 0)]
    );
}

#[test]
fn inclusive_samples_count_a_stack_once_however_deep() {
    let (_, report) = fold_text("p;m;a;b;a;b;a;b;a 7\np;m;x 3\n", &[]);
    assert_eq!(report.cycles[0].samples, 7);
    assert!((report.cycles[0].percent - 70.0).abs() < 1e-9);
    assert_eq!(report.cycles[0].member_self_samples[0].samples, 7);
}

#[test]
fn exclude_keeps_a_trampoline_out_of_every_cycle() {
    let input = "p;main;a;call_once;b;call_once;a;call_once;b;call_once;a;work 2\n";
    assert_eq!(fold(input), "p;main;{a,b,call_once};work 2\n");
    let (folded, report) = fold_text(input, &["call_once"]);
    assert_eq!(folded, input);
    assert!(report.cycles.is_empty());
}
