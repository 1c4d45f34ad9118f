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
//!   all the calls together: a rank above it, the top row.
//! - A zero-sized node, [`bottom`], hangs below every member that calls no
//!   member further down (weight 0: it only keeps below); each exit hangs
//!   from it by a heavy edge: the bottom row, below every member (and a
//!   row apart from them, the bottom node's).
//!
//! The edges that tie callers and exits to their rows are for ranking only
//! (dagre's `nesting_edge`, what it ranks its own cluster borders by):
//! dagre drops them once ranks are assigned, so they are neither drawn
//! nor weigh on the order within a row. The graph's own calls come first,
//! in its order, so that the `k`th ranking edge is the `k`th call.

use crate::output::html::call_graph::{CycleGraph, EdgeKind, NodeKind};

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
    /// Whether it only keeps a caller or an exit on its row: not a call,
    /// dropped once ranks are assigned.
    pub ranking_only: bool,
}

/// The edges dagre ranks `graph` by: its calls (each turned round where it
/// goes back up), then the ranking-only edges that put callers on top and
/// exits at the bottom.
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
            ranking_only: false,
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

/// Each caller a rank above the main entry member, by a heavy edge.
fn callers_on_top(graph: &CycleGraph, heavy: i32, edges: &mut Vec<RankEdge>) {
    for caller in nodes_of_kind(graph, NodeKind::Caller) {
        edges.push(RankEdge {
            from: caller,
            to: graph.main,
            weight: heavy,
            turned: false,
            ranking_only: true,
        });
    }
}

/// Each exit a rank below [`bottom`], itself a rank below every member
/// that calls no member further down (so below every member): one edge per
/// such member and per exit, not one per pair.
fn exits_at_the_bottom(graph: &CycleGraph, heavy: i32, edges: &mut Vec<RankEdge>) {
    let exits = nodes_of_kind(graph, NodeKind::Exit);
    if exits.is_empty() {
        return;
    }
    let is_member = |node: usize| matches!(graph.nodes[node].kind, NodeKind::Member(_));
    let lowest: Vec<usize> = (0..graph.nodes.len())
        .filter(|&m| is_member(m))
        .filter(|&m| {
            !edges
                .iter()
                .any(|e| e.from == m && e.to != m && is_member(e.to))
        })
        .collect();
    let tie = |from, to, weight| RankEdge {
        from,
        to,
        weight,
        turned: false,
        ranking_only: true,
    };
    let bottom = bottom(graph);
    // Weight 0: it only keeps the bottom node below; the exits' own
    // calls pull them up to it.
    edges.extend(lowest.into_iter().map(|member| tie(member, bottom, 0)));
    edges.extend(exits.into_iter().map(|exit| tie(bottom, exit, heavy)));
}

/// The node index of the zero-sized node the exits hang from (the one
/// after `graph`'s last), when there are exits.
pub fn bottom(graph: &CycleGraph) -> usize {
    graph.nodes.len()
}

/// The nodes of `graph` of `kind`.
fn nodes_of_kind(graph: &CycleGraph, kind: NodeKind) -> Vec<usize> {
    (0..graph.nodes.len())
        .filter(|&n| graph.nodes[n].kind == kind)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::html::call_graph::{Edge, Node};

    /// Members `m0`..`m3` calling as `calls` say, entered at `main` by one
    /// caller, left through one exit from `m3`.
    fn graph(calls: &[(usize, usize)], main: usize) -> CycleGraph {
        let node = |kind, name: String| Node {
            kind,
            label: name.clone(),
            name,
            samples: 1,
        };
        let mut nodes: Vec<Node> = (0..4)
            .map(|i| node(NodeKind::Member(i), format!("m{i}")))
            .collect();
        nodes.push(node(NodeKind::Caller, "caller".into()));
        nodes.push(node(NodeKind::Exit, "exit".into()));
        let edge = |(from, to), kind| Edge {
            from,
            to,
            kind,
            samples: 10,
        };
        let mut edges: Vec<Edge> = calls.iter().map(|&c| edge(c, EdgeKind::Inside)).collect();
        edges.push(edge((4, main), EdgeKind::Entering));
        edges.push(edge((3, 5), EdgeKind::Leaving));
        CycleGraph {
            nodes,
            edges,
            samples: 10,
            main,
        }
    }

    #[test]
    fn calls_back_to_a_member_on_the_walk_from_the_main_entry_member_are_turned() {
        // Walked from m1: m1 → m2 → m3 → m0; m0 → m1 and m3 → m1 go back
        // up to m1, m2 → m2 is a call to itself, m0 → m2 a call back to m2.
        let calls = [(0, 1), (1, 2), (2, 3), (3, 0), (3, 1), (2, 2), (0, 2)];
        let turned: Vec<(usize, usize)> = ranking(&graph(&calls, 1))
            .iter()
            .filter(|e| e.turned)
            .map(|e| (e.to, e.from))
            .collect();
        assert_eq!(turned, [(0, 1), (3, 1), (0, 2)]);
    }

    #[test]
    fn callers_and_exits_are_tied_to_their_rows_for_ranking_only() {
        let g = graph(&[(0, 1), (1, 2), (2, 3), (3, 0)], 0);
        let ties: Vec<(usize, usize)> = ranking(&g)
            .iter()
            .filter(|e| e.ranking_only)
            .map(|e| (e.from, e.to))
            .collect();
        // The caller above m0; m3, the one member calling none further
        // down, above the bottom node (6); the exit below it.
        assert_eq!(ties, [(4, 0), (3, 6), (6, 5)]);
        assert_eq!(bottom(&g), 6);
    }
}
