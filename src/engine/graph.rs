//! The call graph and its recursion cycles.
//!
//! Every frame that may recurse is a node; every caller→callee pair seen in a
//! stack is an edge. A recursion cycle is a strongly connected component with
//! two or more members, or one member that calls itself. petgraph's Kosaraju
//! search is iterative, so a million-frame stack cannot overflow our own
//! call stack.

use crate::profile::runtime_frames::{is_call_machinery, is_interpreter_trampoline};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use regex::RegexSet;

use crate::profile::{FrameId, Frames, ReadProfile};

/// Decides which frames may join a cycle at all.
#[derive(Debug, Clone)]
pub struct FrameFilter {
    exclude: RegexSet,
}

impl FrameFilter {
    /// A filter that keeps out pseudo-frames and every frame matching one of
    /// the `exclude` patterns.
    pub fn new(exclude: &[String]) -> anyhow::Result<Self> {
        for pattern in exclude {
            if let Err(e) = regex::Regex::new(pattern) {
                let why = e.to_string();
                let why = why
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                anyhow::bail!("invalid --exclude pattern {pattern:?}: {why}");
            }
        }
        let exclude = RegexSet::new(exclude)?;
        Ok(Self { exclude })
    }

    /// Whether the frame called `name` may be a member of a cycle.
    pub fn may_recurse(&self, name: &str) -> bool {
        !is_pseudo_frame(name) && !self.exclude.is_match(name)
    }
}

impl Default for FrameFilter {
    fn default() -> Self {
        Self::new(&[]).expect("the empty pattern set is valid")
    }
}

/// Whether `name` is a pseudo-frame: a frame that stands for code rather
/// than naming a function. perf's placeholders for frames it could not
/// symbolize (`[unknown]`, `[libc.so.6]`), interpreters' entry
/// trampolines ([`is_interpreter_trampoline`]) and CPython's call machinery
/// ([`is_call_machinery`]).
pub fn is_pseudo_frame(name: &str) -> bool {
    (name.len() >= 2 && name.starts_with('[') && name.ends_with(']'))
        || is_interpreter_trampoline(name)
        || is_call_machinery(name)
}

/// Marks a frame that belongs to no cycle.
const NO_CYCLE: u32 = u32::MAX;

/// Index of a cycle in [`Cycles`].
pub type CycleId = u32;

/// One recursion cycle: its members, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The member frames, sorted by name.
    pub members: Vec<FrameId>,
    /// For each member (same order), how many distinct frames outside the
    /// cycle call it: the naming rule uses it to pick the main entry.
    pub outside_callers: Vec<usize>,
}

/// Every recursion cycle of a profile, and which cycle each frame is in.
#[derive(Debug, Clone, Default)]
pub struct Cycles {
    cycles: Vec<Cycle>,
    cycle_of: Vec<u32>,
}

impl Cycles {
    /// The cycles, in a deterministic order (by their member names).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Cycle> {
        self.cycles.iter()
    }

    /// How many cycles there are.
    pub fn len(&self) -> usize {
        self.cycles.len()
    }

    /// Whether no cycle was found.
    pub fn is_empty(&self) -> bool {
        self.cycles.is_empty()
    }

    /// The cycle `id`.
    pub fn get(&self, id: CycleId) -> &Cycle {
        &self.cycles[id as usize]
    }

    /// The cycle that `frame` belongs to, if any.
    #[inline]
    pub fn cycle_of(&self, frame: FrameId) -> Option<CycleId> {
        match self.cycle_of.get(frame as usize) {
            Some(&c) if c != NO_CYCLE => Some(c),
            _ => None,
        }
    }
}

/// The call graph: node `i` is frame `i`; only edges between frames that may
/// recurse are kept, so root labels, pseudo-frames and excluded frames join
/// no cycle.
#[derive(Debug, Clone)]
pub struct CallGraph {
    graph: DiGraph<(), ()>,
}

impl CallGraph {
    /// Builds the call graph of a profile from the pairs seen while reading.
    pub fn new(read: &ReadProfile, filter: &FrameFilter) -> Self {
        Self::of_edges(&read.profile.frames, read.calls.pairs(), filter)
    }

    /// Builds one call graph from distinct caller→callee pairs of frames
    /// numbered as in `frames` (several profiles sharing that table make
    /// one graph: give each pair once).
    pub fn of_edges(
        frames: &Frames,
        edges: impl IntoIterator<Item = (FrameId, FrameId)>,
        filter: &FrameFilter,
    ) -> Self {
        let may_recurse: Vec<bool> = frames
            .iter()
            .map(|(_, name)| filter.may_recurse(name))
            .collect();
        let mut graph = DiGraph::with_capacity(may_recurse.len(), 0);
        for _ in 0..may_recurse.len() {
            graph.add_node(());
        }
        let edges = edges
            .into_iter()
            .filter(|&(a, b)| may_recurse[a as usize] && may_recurse[b as usize]);
        graph.extend_with_edges(edges);
        Self { graph }
    }

    /// Takes the frames marked in `removed` (by id) out of the graph: they
    /// join no cycle.
    pub fn remove_frames(&mut self, removed: &[bool]) {
        // Rebuilt rather than edited: petgraph removes edges one at a time.
        let kept: Vec<(u32, u32)> = self
            .graph
            .raw_edges()
            .iter()
            .map(|e| (e.source().index() as u32, e.target().index() as u32))
            .filter(|&(a, b)| !removed[a as usize] && !removed[b as usize])
            .collect();
        let mut graph = DiGraph::with_capacity(self.graph.node_count(), kept.len());
        for _ in 0..self.graph.node_count() {
            graph.add_node(());
        }
        graph.extend_with_edges(kept);
        self.graph = graph;
    }

    /// The callees of `frame`.
    pub fn callees(&self, frame: FrameId) -> impl Iterator<Item = FrameId> + '_ {
        self.graph
            .neighbors(NodeIndex::new(frame as usize))
            .map(|n| n.index() as FrameId)
    }
}

/// Finds every recursion cycle in `graph`.
pub fn cycles_of(graph: &CallGraph, frames: &Frames) -> Cycles {
    let graph = &graph.graph;
    let mut found: Vec<Vec<FrameId>> = kosaraju_scc(graph)
        .into_iter()
        .filter(|scc| is_cycle(graph, scc))
        .map(|scc| scc.into_iter().map(|n| n.index() as FrameId).collect())
        .collect();
    for members in &mut found {
        sort_by_name(members, frames);
    }
    found.sort_by(|a, b| names_of(a, frames).cmp(names_of(b, frames)));
    index_cycles(found, graph, frames.len())
}

/// Whether a strongly connected component is a cycle: several members, or
/// one that calls itself.
fn is_cycle(graph: &DiGraph<(), ()>, scc: &[NodeIndex]) -> bool {
    match scc {
        [only] => graph.contains_edge(*only, *only),
        _ => true,
    }
}

fn sort_by_name(members: &mut [FrameId], frames: &Frames) {
    members.sort_by(|&a, &b| frames.name(a).cmp(frames.name(b)));
}

fn names_of<'a>(members: &'a [FrameId], frames: &'a Frames) -> impl Iterator<Item = &'a str> {
    members.iter().map(|&m| frames.name(m))
}

/// Builds the frame→cycle index and counts each member's outside callers.
fn index_cycles(found: Vec<Vec<FrameId>>, graph: &DiGraph<(), ()>, frames: usize) -> Cycles {
    let mut cycle_of = vec![NO_CYCLE; frames];
    for (c, members) in found.iter().enumerate() {
        for &m in members {
            cycle_of[m as usize] = c as u32;
        }
    }
    let cycles = found
        .into_iter()
        .enumerate()
        .map(|(c, members)| {
            let outside_callers = members
                .iter()
                .map(|&m| {
                    graph
                        .neighbors_directed(NodeIndex::new(m as usize), petgraph::Incoming)
                        .filter(|caller| cycle_of[caller.index()] != c as u32)
                        .count()
                })
                .collect();
            Cycle {
                members,
                outside_callers,
            }
        })
        .collect();
    Cycles { cycles, cycle_of }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileBuilder;

    fn profile(lines: &[&str]) -> ReadProfile {
        ReadProfile::of_lines(lines)
    }

    fn find(p: &ReadProfile, filter: &FrameFilter) -> Cycles {
        cycles_of(&CallGraph::new(p, filter), &p.profile.frames)
    }

    fn member_names(p: &ReadProfile, cycles: &Cycles) -> Vec<Vec<String>> {
        cycles
            .iter()
            .map(|c| {
                names_of(&c.members, &p.profile.frames)
                    .map(String::from)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn direct_recursion_is_a_cycle_of_one() {
        let p = profile(&["prog;main;walk;walk;leaf"]);
        let cycles = find(&p, &FrameFilter::default());
        assert_eq!(member_names(&p, &cycles), vec![vec!["walk"]]);
    }

    #[test]
    fn mutual_and_three_member_cycles_are_found_apart() {
        let p = profile(&[
            "prog;main;even;odd;even;work",
            "prog;main;expr;term;factor;expr;term",
        ]);
        let cycles = find(&p, &FrameFilter::default());
        assert_eq!(
            member_names(&p, &cycles),
            vec![vec!["even", "odd"], vec!["expr", "factor", "term"]]
        );
    }

    #[test]
    fn root_label_never_joins_a_cycle() {
        let p = profile(&["parse;main;parse;helper"]);
        assert!(find(&p, &FrameFilter::default()).is_empty());
    }

    #[test]
    fn pseudo_frames_do_not_link_functions() {
        let p = profile(&["prog;a;[unknown];b;[unknown];a"]);
        assert!(find(&p, &FrameFilter::default()).is_empty());
    }

    #[test]
    fn interpreter_trampolines_never_join_a_cycle() {
        // Every interpreted method is one `Interpreter` frame: by name it
        // recurses through everything.
        let p = profile(&["java;main;Interpreter;a;Interpreter;b;Interpreter"]);
        assert!(find(&p, &FrameFilter::default()).is_empty());
        let p = profile(&[
            "node;Builtins_InterpreterEntryTrampoline;Builtins_ArrayMap;Builtins_InterpreterEntryTrampoline",
        ]);
        assert!(find(&p, &FrameFilter::default()).is_empty());
    }

    #[test]
    fn cpythons_eval_loop_never_joins_a_cycle() {
        // CPython before its perf trampolines are on: the eval loop calls
        // itself through every import.
        let p = profile(&[
            "python3;main;_PyEval_EvalFrameDefault;import_name;import_find_and_load;object_vacall;_PyEval_EvalFrameDefault;import_name;import_find_and_load;object_vacall;_PyEval_EvalFrameDefault",
        ]);
        let cycles = find(&p, &FrameFilter::default());
        assert!(cycles.is_empty(), "{cycles:?}");
    }

    #[test]
    fn excluded_frames_split_a_cycle() {
        let p = profile(&["prog;a;trampoline;b;trampoline;a"]);
        let all = find(&p, &FrameFilter::default());
        assert_eq!(all.len(), 1);
        let filter = FrameFilter::new(&["^trampoline$".into()]).unwrap();
        assert!(find(&p, &filter).is_empty());
    }

    #[test]
    fn outside_callers_count_distinct_callers_from_outside() {
        let p = profile(&["prog;main;even;odd;even", "prog;other;even", "prog;x;odd"]);
        let cycles = find(&p, &FrameFilter::default());
        let cycle = cycles.get(0);
        assert_eq!(cycle.outside_callers, vec![2, 1]);
    }

    #[test]
    fn a_million_frame_chain_does_not_overflow() {
        let mut p = ProfileBuilder::new();
        let names: Vec<String> = (0..1_000_000).map(|i| format!("f{i}")).collect();
        let mut stack = vec!["prog"];
        stack.extend(names.iter().map(String::as_str));
        stack.push("f0");
        p.push_names(stack, 1);
        let cycles = find(&p.finish(), &FrameFilter::default());
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles.get(0).members.len(), 1_000_000);
    }
}
