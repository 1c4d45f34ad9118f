//! Diagnosing giant cycles: which members to `--exclude` to split them.
//!
//! Interpreters and generic trampolines link unrelated recursions into one
//! strongly connected component of dozens of members. Folding it is correct
//! but hides everything, so for every cycle of more than [`GIANT`] members
//! autofold ranks each member by the largest component left when it alone
//! is removed (the components recomputed within the cycle), and suggests
//! the members whose exclusion splits the cycle.

use petgraph::algo::tarjan_scc;
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

/// The split suggestion for `cycle`, if it has more than [`GIANT`] members.
pub fn suggest_split(graph: &CallGraph, cycle: &Cycle) -> Option<Split> {
    if cycle.members.len() <= GIANT {
        return None;
    }
    let within = subgraph(graph, &cycle.members);
    let candidates = bridge_candidates(&within);
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
            .copied()
            .filter(|m| !removed.contains(m))
            .map(|m| {
                (
                    m,
                    largest_component(&within, &[removed.as_slice(), &[m]].concat()),
                )
            })
            .min_by_key(|&(m, size)| (size, m))?;
        removed.push(best);
        largest = size;
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

/// The members (local indices) tried as bridges: all of them in a cycle of
/// at most [`CANDIDATES`], else the [`CANDIDATES`] with the most neighbours
/// inside the cycle.
fn bridge_candidates(within: &DiGraph<(), ()>) -> Vec<usize> {
    let mut members: Vec<usize> = (0..within.node_count()).collect();
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
/// members are taken out.
fn largest_component(within: &DiGraph<(), ()>, removed: &[usize]) -> usize {
    let kept = NodeFiltered::from_fn(within, |n: NodeIndex| !removed.contains(&n.index()));
    tarjan_scc(&kept).iter().map(Vec::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{FrameFilter, cycles_of};
    use crate::profile::Profile;

    /// Two rings of five functions, each passing through `hub`.
    fn two_rings_through_a_hub() -> Profile {
        let mut p = Profile::new();
        p.push_names("p;main;hub;a1;a2;a3;a4;a5;hub".split(';'), 1);
        p.push_names("p;main;hub;b1;b2;b3;b4;b5;hub".split(';'), 1);
        p
    }

    #[test]
    fn the_hub_of_two_rings_is_the_member_to_exclude() {
        let p = two_rings_through_a_hub();
        let graph = CallGraph::new(&p, &FrameFilter::default());
        let cycles = cycles_of(&graph, &p.frames);
        let split = suggest_split(&graph, cycles.get(0)).unwrap();
        let hub = p.frames.get("hub").unwrap();
        assert_eq!(split.exclude, [hub]);
        assert_eq!(split.largest_after, 1);
        assert_eq!(split.ranking[0], (hub, 1));
    }

    #[test]
    fn excluding_the_suggestion_splits_the_cycle() {
        let p = two_rings_through_a_hub();
        let filter = FrameFilter::new(&["^hub$".to_string()]).unwrap();
        let cycles = cycles_of(&CallGraph::new(&p, &filter), &p.frames);
        assert!(cycles.is_empty());
    }

    #[test]
    fn small_cycles_get_no_suggestion() {
        let mut p = Profile::new();
        p.push_names("p;main;a;b;c;a".split(';'), 1);
        let graph = CallGraph::new(&p, &FrameFilter::default());
        let cycles = cycles_of(&graph, &p.frames);
        assert_eq!(suggest_split(&graph, cycles.get(0)), None);
    }

    #[test]
    fn a_ring_without_a_single_bridge_still_gets_a_split() {
        // A ring of ten with chords both ways: no single member splits it.
        let mut p = Profile::new();
        let ring: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
        for i in 0..10 {
            let (a, b) = (&ring[i], &ring[(i + 1) % 10]);
            p.push_names(["p", "main", a.as_str(), b.as_str(), a.as_str()], 1);
        }
        let graph = CallGraph::new(&p, &FrameFilter::default());
        let cycles = cycles_of(&graph, &p.frames);
        let split = suggest_split(&graph, cycles.get(0)).unwrap();
        assert_eq!(split.exclude.len(), 2);
        assert!(split.largest_after < 10 - 2);
    }
}
