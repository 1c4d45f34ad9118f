//! What a cycle's drawing shows: every member a node, every caller→callee
//! pair inside the cycle an edge weighted by its samples, and the frames
//! that enter the cycle and its top exits around it.

use rustc_hash::FxHashMap;

use crate::engine::report::{BoundaryCall, CycleReport};
use crate::output::html::box_labels::distinct_labels;

/// How many of the callers into a cycle, and of its exits, are drawn (the
/// ones with the most samples); the section lists them all.
pub const MAX_BOUNDARY_NODES: usize = 6;

/// How many lines each caller or exit gets: to (or from) the members that
/// make the most of its calls. An exit such as a parser's `peek` is called
/// from most members; a line from each would cross the whole drawing.
pub const MAX_BOUNDARY_LINES: usize = 2;

/// The graph a cycle's drawing shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleGraph {
    /// Members first (in the report's member order), then the callers
    /// into the cycle, then its exits.
    pub nodes: Vec<Node>,
    /// Calls between nodes, most samples first.
    pub edges: Vec<Edge>,
    /// The cycle's samples (stacks through it), which edges are a share of.
    pub samples: u64,
    /// The node of the main entry member: the member that most of the
    /// runs entering the cycle begin with (without callers, the member on
    /// the most stacks). The drawing begins with it.
    pub main: usize,
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A member of the cycle: its index in the report's members.
    Member(usize),
    /// A frame outside the cycle that calls into it.
    Caller,
    /// A frame outside the cycle that it calls on its way out.
    Exit,
}

/// One box of the drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Member, caller or exit.
    pub kind: NodeKind,
    /// The frame's full name.
    pub name: String,
    /// The short label in its box, unlike every other box's
    /// ([`distinct_labels`]).
    pub label: String,
    /// For a member its self samples; for a caller or an exit the samples
    /// of the runs that enter or leave through it.
    pub samples: u64,
}

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A call from one member to another (or itself).
    Inside,
    /// A call into the cycle.
    Entering,
    /// A call out of the cycle.
    Leaving,
}

/// One call of the drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The caller's node index.
    pub from: usize,
    /// The callee's node index.
    pub to: usize,
    /// Inside, entering or leaving.
    pub kind: EdgeKind,
    /// Its samples: for a call inside, the stacks that make it (once per
    /// stack); across the boundary, the runs that cross there.
    pub samples: u64,
}

/// The graph to draw for `cycle`, or `None` when who calls whom inside it
/// was not gathered.
pub fn cycle_graph(cycle: &CycleReport) -> Option<CycleGraph> {
    let calls = cycle.calls.as_ref()?;
    let mut nodes: Vec<Node> = cycle
        .members
        .iter()
        .enumerate()
        .map(|(i, name)| Node {
            kind: NodeKind::Member(i),
            name: name.clone(),
            label: String::new(),
            samples: cycle.member_self_samples.get(i).map_or(0, |m| m.samples),
        })
        .collect();
    let mut edges: Vec<Edge> = calls
        .inside
        .iter()
        .map(|call| Edge {
            from: call.caller,
            to: call.callee,
            kind: EdgeKind::Inside,
            samples: call.samples,
        })
        .collect();
    for (calls, kind) in [
        (&calls.entering, EdgeKind::Entering),
        (&calls.leaving, EdgeKind::Leaving),
    ] {
        add_boundary(calls, kind, &mut nodes, &mut edges);
    }
    edges.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then((a.from, a.to).cmp(&(b.from, b.to)))
    });
    let labels = node_labels(&nodes);
    for (node, label) in nodes.iter_mut().zip(labels) {
        node.label = label;
    }
    Some(CycleGraph {
        main: main_entry_member(cycle, &calls.entering),
        nodes,
        edges,
        samples: cycle.samples,
    })
}

/// The labels of `nodes`' boxes, no two members' alike: each member is a
/// function of its own, even where two print alike (monomorphisations of
/// one generic function); a caller and an exit of one name are one
/// function, and read alike.
fn node_labels(nodes: &[Node]) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    let mut name_of_node = Vec::with_capacity(nodes.len());
    let first_outside = first_outside(nodes);
    for node in nodes {
        let outside = |&i: &usize| i >= first_outside && names[i] == node.name;
        let index = match node.kind {
            NodeKind::Member(_) => None,
            _ => (0..names.len()).find(outside),
        };
        name_of_node.push(index.unwrap_or_else(|| {
            names.push(&node.name);
            names.len() - 1
        }));
    }
    let labels = distinct_labels(&names);
    name_of_node
        .into_iter()
        .map(|i| labels[i].clone())
        .collect()
}

/// The index of the first node outside the cycle (members come first).
fn first_outside(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .take_while(|n| matches!(n.kind, NodeKind::Member(_)))
        .count()
}

/// The member that most of the runs in `entering` begin with; without
/// any, the member on the most stacks (the first on a tie).
fn main_entry_member(cycle: &CycleReport, entering: &[BoundaryCall]) -> usize {
    let mut entered = vec![0u64; cycle.members.len()];
    for call in entering {
        if let Some(samples) = entered.get_mut(call.member) {
            *samples += call.samples;
        }
    }
    if entered.iter().all(|&s| s == 0) {
        entered = (0..cycle.members.len())
            .map(|i| cycle.member_total_samples.get(i).map_or(0, |m| m.samples))
            .collect();
    }
    // The first of the largest: max_by_key keeps the last.
    (0..entered.len())
        .rev()
        .max_by_key(|&i| entered[i])
        .unwrap_or(0)
}

/// Adds the [`MAX_BOUNDARY_NODES`] outside frames with the most samples
/// among `calls` as nodes, and their calls as edges.
fn add_boundary(
    calls: &[BoundaryCall],
    kind: EdgeKind,
    nodes: &mut Vec<Node>,
    edges: &mut Vec<Edge>,
) {
    let mut by_frame: FxHashMap<&str, u64> = FxHashMap::default();
    for call in calls {
        *by_frame.entry(&call.outside).or_default() += call.samples;
    }
    let mut ranked: Vec<(&str, u64)> = by_frame.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.truncate(MAX_BOUNDARY_NODES);
    for (name, samples) in ranked {
        let node = nodes.len();
        nodes.push(Node {
            kind: if kind == EdgeKind::Entering {
                NodeKind::Caller
            } else {
                NodeKind::Exit
            },
            name: name.to_string(),
            label: String::new(),
            samples,
        });
        // `calls` is most samples first.
        for call in calls
            .iter()
            .filter(|c| c.outside == name)
            .take(MAX_BOUNDARY_LINES)
        {
            let (from, to) = match kind {
                EdgeKind::Entering => (node, call.member),
                _ => (call.member, node),
            };
            edges.push(Edge {
                from,
                to,
                kind,
                samples: call.samples,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::report::CallsReport;
    use crate::output::html::view::tests::ring;

    fn entering(member: usize, samples: u64) -> BoundaryCall {
        BoundaryCall {
            outside: format!("caller_{member}"),
            member,
            samples,
        }
    }

    #[test]
    fn the_main_entry_member_is_where_most_runs_begin() {
        let mut cycle = ring(4);
        cycle.calls = Some(CallsReport {
            entering: vec![entering(0, 30), entering(2, 25), entering(2, 10)],
            ..cycle.calls.unwrap()
        });
        // m002 is entered by 35 samples' runs, m000 by 30.
        assert_eq!(cycle_graph(&cycle).unwrap().main, 2);
    }

    #[test]
    fn members_that_print_alike_are_numbered_a_caller_and_exit_alike_are_not() {
        let mut cycle = ring(3);
        cycle.members = vec!["a::parse".into(), "b::f".into(), "a::parse".into()];
        cycle.calls = Some(CallsReport {
            entering: vec![BoundaryCall {
                outside: "c::g".into(),
                member: 0,
                samples: 5,
            }],
            leaving: vec![BoundaryCall {
                outside: "c::g".into(),
                member: 1,
                samples: 5,
            }],
            ..cycle.calls.unwrap()
        });
        let graph = cycle_graph(&cycle).unwrap();
        let labels: Vec<&str> = graph.nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(
            labels,
            ["a::parse #1", "b::f", "a::parse #2", "c::g", "c::g"]
        );
    }
}
