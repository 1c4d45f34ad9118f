//! What dagre is given to rank a cycle's drawing by, so that it reads top
//! to bottom. dagre has no "this row" constraint, only each edge's `minlen`
//! (at least one rank down) and `weight` (how hard network simplex keeps it
//! short), so the order is put into the edges it ranks:
//!
//! - The calls inside the cycle are walked depth-first from the main entry
//!   member, heaviest calls first; a call back to a member still on the
//!   walk's path goes back up and is turned round for ranking. What is
//!   left runs downhill from the main entry member, the one member nothing
//!   above it calls: it is alone on the first member rank, every other
//!   member at least a rank below.
//! - Each caller is tied to the main entry member by an edge heavier than
//!   all the others together: a rank above it, the top row.
//! - A zero-sized node, [`BOTTOM`], hangs below every member that calls no
//!   member further down (weight 0: it only keeps below); each exit hangs
//!   from it by a heavy edge: the bottom row, below every member.
//!
//! The graph's own calls come first, in its order, so that the `k`th
//! ranking edge is the `k`th call.

use crate::output::html::call_graph::{CycleGraph, EdgeKind, NodeKind};

/// The node index of the zero-sized node every exit hangs from.
pub const BOTTOM: usize = usize::MAX;

/// One edge as dagre ranks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankEdge {
    /// The node above.
    pub from: usize,
    /// The node below.
    pub to: usize,
    /// How hard dagre keeps it short.
    pub weight: i32,
    /// Whether it is a call from `to` to `from`, turned round because it
    /// goes back up.
    pub turned: bool,
}

/// The edges dagre ranks `graph` by: its calls (each turned round where it
/// goes back up), then the edges that put callers on top and exits at the
/// bottom.
pub fn ranking(graph: &CycleGraph) -> Vec<RankEdge> {
    let turned = calls_back_up(graph);
    let mut edges: Vec<RankEdge> = graph
        .edges
        .iter()
        .zip(turned)
        .map(|(edge, turned)| RankEdge {
            from: if turned { edge.to } else { edge.from },
            to: if turned { edge.from } else { edge.to },
            weight: weight(edge.samples, graph.samples),
            turned,
        })
        .collect();
    let heavy = edges.iter().map(|e| e.weight).sum::<i32>() + 1;
    callers_on_top(graph, heavy, &mut edges);
    exits_at_the_bottom(graph, heavy, &mut edges);
    edges
}

/// How hard dagre tries to keep a call short and straight: 1, plus up to
/// 8 for a call that all of the cycle's samples make.
fn weight(samples: u64, total: u64) -> i32 {
    1 + (8.0 * samples as f64 / total.max(1) as f64).round() as i32
}

/// Where a member is in the depth-first walk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    NotYet,
    OnPath,
    Done,
}

/// For each of `graph`'s calls, whether it goes back up: a call inside
/// the cycle to a member on the path of a depth-first walk from the main
/// entry member (calls taken most samples first, as the graph lists
/// them). Turning these round leaves no cycle.
fn calls_back_up(graph: &CycleGraph) -> Vec<bool> {
    let members = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Member(_)))
        .count();
    let mut calls: Vec<Vec<usize>> = vec![Vec::new(); members];
    for (k, edge) in graph.edges.iter().enumerate() {
        if edge.kind == EdgeKind::Inside && edge.from != edge.to {
            calls[edge.from].push(k);
        }
    }
    let mut turned = vec![false; graph.edges.len()];
    let mut walk = vec![Walk::NotYet; members];
    for root in std::iter::once(graph.main).chain(0..members) {
        if root >= members || walk[root] != Walk::NotYet {
            continue;
        }
        walk[root] = Walk::OnPath;
        // Each member on the path, with how many of its calls are taken.
        let mut path = vec![(root, 0)];
        while let Some((member, taken)) = path.last_mut() {
            let Some(&k) = calls[*member].get(*taken) else {
                walk[*member] = Walk::Done;
                path.pop();
                continue;
            };
            *taken += 1;
            let callee = graph.edges[k].to;
            match walk[callee] {
                Walk::NotYet => {
                    walk[callee] = Walk::OnPath;
                    path.push((callee, 0));
                }
                Walk::OnPath => turned[k] = true,
                Walk::Done => {}
            }
        }
    }
    turned
}

/// Each caller a rank above the main entry member: its call into it made
/// heavy, or a heavy edge of its own to it.
fn callers_on_top(graph: &CycleGraph, heavy: i32, edges: &mut Vec<RankEdge>) {
    let callers = graph.nodes.iter().enumerate();
    for (caller, _) in callers.filter(|(_, n)| n.kind == NodeKind::Caller) {
        match edges
            .iter_mut()
            .find(|e| (e.from, e.to) == (caller, graph.main))
        {
            Some(call) => call.weight = heavy,
            None => edges.push(RankEdge {
                from: caller,
                to: graph.main,
                weight: heavy,
                turned: false,
            }),
        }
    }
}

/// [`BOTTOM`] below every member that calls no member further down, and
/// each exit a rank below it.
fn exits_at_the_bottom(graph: &CycleGraph, heavy: i32, edges: &mut Vec<RankEdge>) {
    let kind = |node: usize| graph.nodes.get(node).map(|n| n.kind);
    let is_member = |node: usize| matches!(kind(node), Some(NodeKind::Member(_)));
    let exits: Vec<usize> = (0..graph.nodes.len())
        .filter(|&n| kind(n) == Some(NodeKind::Exit))
        .collect();
    if exits.is_empty() {
        return;
    }
    let lowest: Vec<usize> = (0..graph.nodes.len())
        .filter(|&m| is_member(m))
        .filter(|&m| {
            !edges
                .iter()
                .any(|e| e.from == m && e.to != m && is_member(e.to))
        })
        .collect();
    for member in lowest {
        edges.push(RankEdge {
            from: member,
            to: BOTTOM,
            weight: 0,
            turned: false,
        });
    }
    for exit in exits {
        edges.push(RankEdge {
            from: BOTTOM,
            to: exit,
            weight: heavy,
            turned: false,
        });
    }
}
