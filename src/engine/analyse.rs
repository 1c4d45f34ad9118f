//! Several profiles analysed as one: one frame table, one call graph, one
//! set of cycles and names, each profile then folded with that set.
//!
//! Folded apart, two profiles of the same program can name one recursion
//! differently (its members and main entry depend on what was sampled), and
//! a side that never recursed deeply enough has no cycle at all. Found on
//! the union of both sides' caller→callee pairs, each recursion gets one
//! name, and both sides fold it into the same frame, so they can be
//! compared stack by stack (`autofold diff`).

use rustc_hash::FxHashSet;

use crate::engine::authors::authors_of;
use crate::engine::cycle_names::{Evidence, MAX_LISTED, name_cycles};
use crate::engine::fold::fold;
use crate::engine::graph::{CallGraph, Cycles, cycles_of};
use crate::engine::recursion::{
    frames_on_a_stack_twice, members_inside_the_recursion, work_by_member,
};
use crate::engine::refold::Refold;
use crate::engine::report::{Found, Report};
use crate::engine::split::{GIANT, suggest_split};
use crate::engine::timeline::fold_timeline;
use crate::engine::{Analysis, EngineOptions};
use crate::profile::{Calls, FrameId, Frames, Profile, ReadProfile, Timeline};

/// Finds the cycles of all `profiles` together (one call graph from all
/// their edges), names them once, and folds each profile with that one set
/// of cycles. Returns one analysis per profile, in order; the same cycle
/// has the same name in every one of them, also in a profile where it never
/// recursed.
pub fn analyse_together(read: Vec<ReadProfile>, options: &EngineOptions) -> Vec<Analysis> {
    if read.is_empty() {
        return Vec::new();
    }
    let (mut frames, profiles, calls, mut timelines) = on_one_table(read);
    let mut graph = match calls.as_slice() {
        [one] => CallGraph::of_edges(&frames, one.pairs(), &options.filter),
        // A pair seen in several profiles counts once.
        several => {
            let pairs: FxHashSet<(FrameId, FrameId)> =
                several.iter().flat_map(Calls::pairs).collect();
            CallGraph::of_edges(&frames, pairs, &options.filter)
        }
    };
    let (cycles, kept_out) = recursing_cycles(&mut graph, &calls, &frames);
    drop(calls);
    let inside = members_inside_the_recursion(&profiles, &frames, &cycles, GIANT);
    let splits: Vec<_> = cycles
        .iter()
        .map(|c| suggest_split(&graph, c, &inside))
        .collect();
    drop(graph);
    let evidence = Evidence {
        work: work_by_member(&profiles, &frames, &cycles, MAX_LISTED),
        authors: authors_of(&profiles, &frames, &cycles),
    };
    let cycle_frames = name_cycles(&cycles, &mut frames, &evidence);
    let last = profiles.len() - 1;
    profiles
        .into_iter()
        .enumerate()
        .map(|(i, mut profile)| {
            profile.frames = if i == last {
                std::mem::take(&mut frames)
            } else {
                frames.clone()
            };
            let refold = options
                .refold
                .then(|| Refold::new(profile.clone(), &cycles, &cycle_frames, options.fold));
            let timeline = timelines[i].take().map(|timeline| {
                let read = profile.clone();
                fold_timeline(timeline, read, &cycles, &cycle_frames, &options.fold)
            });
            let folded = fold(profile, &cycles, &cycle_frames, &options.fold);
            let found = Found {
                cycles: &cycles,
                cycle_frames: &cycle_frames,
                splits: &splits,
                authors: &evidence.authors,
            };
            let mut report = Report::new(&folded, &found, &options.fold);
            report.kept_out = kept_out.clone();
            Analysis {
                folded: folded.profile,
                report,
                refold,
                timeline,
            }
        })
        .collect()
}

/// The profiles read, numbered on one frame table (returned), and their
/// calls and timelines apart: the calls are dropped once the call graph is
/// built.
fn on_one_table(read: Vec<ReadProfile>) -> OnOneTable {
    let mut read = read.into_iter();
    let Some(mut first) = read.next() else {
        return Default::default();
    };
    let mut frames = std::mem::take(&mut first.profile.frames);
    let mut profiles = Vec::new();
    let mut calls = Vec::new();
    let mut timelines = Vec::new();
    let others = read.map(|mut other| {
        other.move_onto(&mut frames);
        other
    });
    for r in std::iter::once(first).chain(others) {
        profiles.push(r.profile);
        calls.push(r.calls);
        timelines.push(r.timeline);
    }
    (frames, profiles, calls, timelines)
}

/// What [`on_one_table`] returns: the one frame table, and each profile's
/// stacks, calls and timeline.
type OnOneTable = (Frames, Vec<Profile>, Vec<Calls>, Vec<Option<Timeline>>);

/// The cycles of `graph` once the members that never recursed (never on a
/// stack twice) are taken out of it, and the names of those taken out.
fn recursing_cycles(
    graph: &mut CallGraph,
    calls: &[Calls],
    frames: &Frames,
) -> (Cycles, Vec<String>) {
    let cycles = cycles_of(graph, frames);
    let mut members = vec![false; frames.len()];
    for member in cycles.iter().flat_map(|c| &c.members) {
        members[*member as usize] = true;
    }
    let twice = frames_on_a_stack_twice(calls, &members);
    let never: Vec<bool> = members.iter().zip(&twice).map(|(&m, &t)| m && !t).collect();
    if !never.contains(&true) {
        return (cycles, Vec::new());
    }
    graph.remove_frames(&never);
    let mut kept_out: Vec<String> = (0..frames.len() as FrameId)
        .filter(|&f| never[f as usize])
        .map(|f| frames.name(f).to_string())
        .collect();
    kept_out.sort();
    kept_out.dedup();
    (cycles_of(graph, frames), kept_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileBuilder;

    fn profile(lines: &[&str]) -> ReadProfile {
        ReadProfile::of_lines(lines)
    }

    fn folded_text(analysis: &Analysis) -> String {
        analysis
            .folded
            .lines()
            .iter()
            .map(|l| l.clone() + "\n")
            .collect()
    }

    #[test]
    fn a_side_without_recursion_folds_with_the_other_sides_cycle() {
        let shallow = profile(&["p;main;even;work", "p;main;even;odd;work"]);
        let deep = profile(&["p;main;even;odd;even;odd;work"]);
        let both = analyse_together(vec![shallow, deep], &EngineOptions::default());
        assert_eq!(folded_text(&both[0]), "p;main;{even,odd};work 2\n");
        assert_eq!(folded_text(&both[1]), "p;main;{even,odd};work 1\n");
        assert_eq!(both[0].report.cycles[0].name, "{even,odd}");
        assert_eq!(both[1].report.cycles[0].name, "{even,odd}");
        assert_eq!(both[0].report.cycles[0].samples, 2);
    }

    #[test]
    fn both_sides_name_a_cycle_after_its_main_entry_over_both() {
        let cycle = "p;m;a;b;c;d;e;a;b;c;d;e;a";
        let first = || profile(&[cycle, "p;x;a", "p;y;a"]);
        let second = || profile(&[cycle, "p;u;c", "p;v;c", "p;w;c", "p;t;c"]);
        let options = EngineOptions::default();
        let apart = |p| {
            crate::engine::analyse(p, &options).report.cycles[0]
                .name
                .clone()
        };
        assert_eq!(apart(first()), "{a,+4}");
        assert_eq!(apart(second()), "{c,+4}");
        let both = analyse_together(vec![first(), second()], &options);
        assert_eq!(both[0].report.cycles[0].name, "{c,+4}");
        assert_eq!(both[1].report.cycles[0].name, "{c,+4}");
    }

    #[test]
    fn one_profile_analyses_as_analyse_does() {
        let lines = ["p;main;even;odd;even;work", "p;main;x"];
        let alone = crate::engine::analyse(profile(&lines), &EngineOptions::default());
        let together = analyse_together(vec![profile(&lines)], &EngineOptions::default());
        assert_eq!(folded_text(&together[0]), folded_text(&alone));
        assert_eq!(together[0].report, alone.report);
    }

    /// A recursion through five plumbing functions: `sort` does the work
    /// (calls `partition`), `join` is called from everywhere.
    fn plumbed(prog: &str) -> ReadProfile {
        let round = "join;job;catch;wrap;sort";
        let deep = format!("{prog};main;{round};{round};{round}");
        let mut lines = vec![format!("{deep};partition"); 6];
        lines.push(format!("{deep};join;spin"));
        // Many outside callers of `join` (the old rule's main entry), whose
        // runs end in `job`.
        lines.extend(["a", "b", "c", "d"].map(|caller| format!("{prog};{caller};join;job")));
        profile(&lines.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn a_giant_cycle_is_named_after_where_its_samples_leave_it() {
        let analysis = crate::engine::analyse(plumbed("prog"), &EngineOptions::default());
        // Runs end at sort 6 times (calling partition), at job 4, join once.
        assert_eq!(analysis.report.cycles[0].name, "{sort,+4}");
    }

    #[test]
    fn the_programs_own_crate_comes_first() {
        let mut p = ProfileBuilder::new();
        let round = "lib::join;lib::job;lib::catch;lib::wrap;my_app::visit";
        let deep = format!("my-app;main;{round};{round};{round}");
        // Most runs end in the library's join (spinning), one in visit.
        for line in [
            format!("{deep};lib::join;spin"),
            format!("{deep};lib::join;spin"),
            format!("{deep};work"),
        ] {
            p.push_names(line.split(';'), 1);
        }
        let analysis = crate::engine::analyse(p.finish(), &EngineOptions::default());
        assert_eq!(analysis.report.cycles[0].name, "{my_app::visit,+4}");
    }
}
