//! Diagnosing giant cycles: which members to `--exclude` to split them.
//!
//! Interpreters and generic trampolines link unrelated recursions into one
//! strongly connected component of dozens of members. Folding it is correct
//! but hides everything, so for every cycle of more than [`GIANT`] members
//! autofold looks for members that weld separate recursions, and suggests
//! excluding those that split the cycle.
//!
//! Only a member that no stack shows inside the recursion may be suggested
//! (see `recursion.rs`): one that a run of the cycle passes through between
//! two calls of one member (or that is itself called twice in a run) is
//! part of the recursion the samples show, and excluding it would cut that
//! recursion (the rayon quicksort's `qsort`, an interpreter's `eval`, the
//! match arms of syn's expression parser). Of the others, each is
//! ranked by the largest component left when it alone is removed (the
//! components recomputed within the cycle), and the suggestion excludes
//! them greedily until the cycle splits. A cycle no candidate splits gets
//! no suggestion: it is one recursion.

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::NodeFiltered;
use rustc_hash::FxHashMap;

use crate::engine::graph::{CallGraph, Cycle};
use crate::profile::FrameId;

/// Cycles with more members than this get a split suggestion.
pub const GIANT: usize = 8;

/// How many members the ranking lists.
const RANKED: usize = 5;

/// How many members the suggestion excludes at most.
const MAX_EXCLUDED: usize = 5;

/// In larger cycles only this many members are tried as bridges: those
/// with the most callers and callees inside the cycle (a member that links
/// recursions is called from, and calls into, many). Trying every member of
/// a cycle of hundreds would cost a component search per member and round.
const CANDIDATES: usize = 16;

/// A suggestion for splitting one giant cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The members to exclude, in the order they were picked.
    pub exclude: Vec<FrameId>,
    /// The largest component left once they are excluded.
    pub largest_after: usize,
    /// The best bridges: each member with the largest component left when
    /// it alone is excluded, smallest first.
    pub ranking: Vec<(FrameId, usize)>,
}

/// The split suggestion for `cycle`, if it has more than [`GIANT`] members
/// and some of them, none marked in `inside` (by frame id: members a stack
/// shows inside the recursion), split it.
pub fn suggest_split(graph: &CallGraph, cycle: &Cycle, inside: &[bool]) -> Option<Split> {
    if cycle.members.len() <= GIANT {
        return None;
    }
    let within = subgraph(graph, &cycle.members);
    let outside_the_recursion = |m: usize| {
        !inside
            .get(cycle.members[m] as usize)
            .copied()
            .unwrap_or(false)
    };
    let candidates = bridge_candidates(&within, outside_the_recursion);
    let mut ranking: Vec<(usize, usize)> = candidates
        .iter()
        .map(|&m| (m, largest_component(&within, &[m])))
        .collect();
    ranking.sort_by_key(|&(m, size)| (size, m));
    let mut removed: Vec<usize> = Vec::new();
    let mut largest = cycle.members.len();
    while removed.len() < MAX_EXCLUDED && largest >= cycle.members.len() - removed.len() {
        let (best, size) = candidates
            .iter()
            .filter(|m| !removed.contains(m))
            .map(|&m| {
                (
                    m,
                    largest_component(&within, &[removed.as_slice(), &[m]].concat()),
                )
            })
            .min_by_key(|&(m, size)| (size, m))?;
        removed.push(best);
        largest = size;
    }
    if largest >= cycle.members.len() - removed.len() {
        return None;
    }
    let member = |m: usize| cycle.members[m];
    Some(Split {
        exclude: removed.into_iter().map(member).collect(),
        largest_after: largest,
        ranking: ranking
            .into_iter()
            .take(RANKED)
            .map(|(m, s)| (member(m), s))
            .collect(),
    })
}

/// The cycle's members as a graph of their own (node `i` = member `i`).
fn subgraph(graph: &CallGraph, members: &[FrameId]) -> DiGraph<(), ()> {
    let local: FxHashMap<FrameId, usize> =
        members.iter().enumerate().map(|(i, &m)| (m, i)).collect();
    let mut within = DiGraph::with_capacity(members.len(), 0);
    for _ in members {
        within.add_node(());
    }
    for (i, &m) in members.iter().enumerate() {
        for callee in graph.callees(m) {
            if let Some(&j) = local.get(&callee) {
                within.add_edge(NodeIndex::new(i), NodeIndex::new(j), ());
            }
        }
    }
    within
}

/// The members (local indices) tried as bridges: of those `allowed`, all
/// of them when they are at most [`CANDIDATES`], else the [`CANDIDATES`]
/// with the most neighbours inside the cycle.
fn bridge_candidates(within: &DiGraph<(), ()>, allowed: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut members: Vec<usize> = (0..within.node_count()).filter(|&m| allowed(m)).collect();
    if members.len() > CANDIDATES {
        let degree = |m: usize| {
            let n = NodeIndex::new(m);
            within.neighbors_undirected(n).count()
        };
        members.sort_by_key(|&m| (std::cmp::Reverse(degree(m)), m));
        members.truncate(CANDIDATES);
        members.sort_unstable();
    }
    members
}

/// The size of the largest strongly connected component once `removed`
/// members are taken out (Kosaraju's search, iterative: petgraph's Tarjan
/// recurses once per member, so a cycle of a few hundred thousand members
/// would overflow the stack).
fn largest_component(within: &DiGraph<(), ()>, removed: &[usize]) -> usize {
    let kept = NodeFiltered::from_fn(within, |n: NodeIndex| !removed.contains(&n.index()));
    kosaraju_scc(&kept).iter().map(Vec::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{FrameFilter, cycles_of};
    use crate::engine::report::SplitReport;
    use crate::engine::{EngineOptions, analyse};
    use crate::profile::ProfileBuilder;

    /// The suggestion for the largest cycle of `lines`, as the engine makes
    /// it (members that never recursed kept out first).
    fn split_of(lines: &[String]) -> Option<SplitReport> {
        let mut p = ProfileBuilder::new();
        for line in lines {
            p.push_names(line.split(';'), 1);
        }
        let report = analyse(p.finish(), &EngineOptions::default()).report;
        let giant = report.cycles.iter().max_by_key(|c| c.members.len())?;
        giant.split.clone()
    }

    /// Two recursions, rings of five (`a1`…`a5`, `b1`…`b5`), welded by `w`,
    /// which each ring calls on its way into the other: `w` is twice on a
    /// stack (it also starts the program), but never through the rings.
    fn two_rings_welded_by_w() -> Vec<String> {
        let a = "a1;a2;a3;a4;a5";
        let b = "b1;b2;b3;b4;b5";
        vec![
            format!("p;w;main;{a};{a};w;{b};{b};b1"),
            format!("p;main;{b};{b};w;{a};{a};a1"),
        ]
    }

    #[test]
    fn the_frame_that_welds_two_recursions_is_the_member_to_exclude() {
        let split = split_of(&two_rings_welded_by_w()).unwrap();
        assert_eq!(split.exclude, ["w"]);
        assert_eq!(split.flags, "--exclude '^w$'");
        assert_eq!(split.largest_component_after, 5);
        assert_eq!(split.ranking.len(), 1);
    }

    #[test]
    fn excluding_the_suggestion_leaves_both_recursions_whole() {
        let mut p = ProfileBuilder::new();
        for line in two_rings_welded_by_w() {
            p.push_names(line.split(';'), 1);
        }
        let filter = FrameFilter::new(&["^w$".to_string()]).unwrap();
        let p = p.finish();
        let cycles = cycles_of(&CallGraph::new(&p, &filter), &p.profile.frames);
        let sizes: Vec<usize> = cycles.iter().map(|c| c.members.len()).collect();
        assert_eq!(sizes, [5, 5]);
    }

    #[test]
    fn small_cycles_get_no_suggestion() {
        assert_eq!(split_of(&["p;main;a;b;c;a;b;c".to_string()]), None);
    }

    #[test]
    fn a_member_inside_the_recursion_is_never_suggested() {
        // Two rings through a hub: the hub is the recursion's heart (as an
        // interpreter's eval, or qsort through rayon's join), not a weld.
        let rings = [
            "p;main;hub;a1;a2;a3;a4;a5;hub;a1;a2;a3;a4;a5;hub".to_string(),
            "p;main;hub;b1;b2;b3;b4;b5;hub;b1;b2;b3;b4;b5;hub".to_string(),
        ];
        assert_eq!(split_of(&rings), None);
        // A ring of ten with chords both ways: every member re-enters.
        let ring: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
        let chords: Vec<String> = (0..10)
            .map(|i| {
                let (a, b) = (&ring[i], &ring[(i + 1) % 10]);
                format!("p;main;{a};{b};{a};{b}")
            })
            .collect();
        assert_eq!(split_of(&chords), None);
    }
}
