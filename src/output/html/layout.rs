//! Where each box and edge of a cycle's drawing goes: a layered layout by
//! `dagre` (the Rust port of dagre.js, the layout behind mermaid): ranks by
//! network simplex, with heavier calls kept shorter and straighter, then
//! crossings reduced and coordinates assigned (Brandes–Köpf).
//!
//! The drawing reads top to bottom, by what dagre is given to rank
//! (`ranking.rs` decides it): the callers into the cycle on the top row,
//! the main entry member alone on the next, the other members below in
//! call order, the exits on the bottom row. The calls that go back up
//! (every cycle has them) are given to dagre the other way round, so it
//! ranks them as calls down, and their routes are turned back.

use dagre::graph::{Graph, GraphOptions};
use dagre::{EdgeLabel, LayoutOptions, NodeLabel, layout};

use crate::output::html::call_graph::CycleGraph;
use crate::output::html::ranking::{RankEdge, bottom, ranking};

/// The width of one character of a box's text (12px monospace), in pixels.
pub const CHAR_WIDTH: f64 = 7.3;

/// The height of a box: two lines of text.
pub const BOX_HEIGHT: f64 = 36.0;

/// Space between a box's text and its border, left and right.
const PADDING: f64 = 10.0;

/// Space around the whole drawing.
const MARGIN: f64 = 12.0;

/// A point of the drawing, in pixels from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Rightwards.
    pub x: f64,
    /// Downwards.
    pub y: f64,
}

/// A box: its top-left corner and its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// The top-left corner.
    pub corner: Point,
    /// Its width.
    pub width: f64,
    /// Its height.
    pub height: f64,
}

/// Where everything of a drawing goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// One box per node, in the graph's node order.
    pub boxes: Vec<Rect>,
    /// One line per edge, in the graph's edge order: the points it passes
    /// through, from the caller's border to the callee's.
    pub lines: Vec<Vec<Point>>,
    /// The drawing's width.
    pub width: f64,
    /// The drawing's height.
    pub height: f64,
}

/// The size of a box that holds `lines` of text.
pub fn box_size(lines: &[&str]) -> (f64, f64) {
    let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (chars as f64 * CHAR_WIDTH + 2.0 * PADDING, BOX_HEIGHT)
}

/// Lays out `graph`, whose node `i` has the box size `sizes[i]`.
pub fn laid_out(graph: &CycleGraph, sizes: &[(f64, f64)]) -> Layout {
    let ranking = ranking(graph);
    let mut g: Graph<NodeLabel, EdgeLabel> = Graph::with_options(GraphOptions {
        directed: true,
        multigraph: true,
        compound: false,
    });
    for (i, &(width, height)) in sizes.iter().enumerate() {
        let node = NodeLabel {
            width,
            height,
            ..NodeLabel::default()
        };
        g.set_node(node_id(i), Some(node));
    }
    if ranking.iter().any(|e| e.to == bottom(graph)) {
        g.set_node(node_id(bottom(graph)), Some(NodeLabel::default()));
    }
    for (k, edge) in ranking.iter().enumerate() {
        let label = EdgeLabel {
            weight: edge.weight,
            nesting_edge: edge.ranking_only,
            ..EdgeLabel::default()
        };
        g.set_edge(
            node_id(edge.from),
            node_id(edge.to),
            Some(label),
            Some(&edge_id(k)),
        );
    }
    let options = LayoutOptions {
        nodesep: 16.0,
        edgesep: 8.0,
        ranksep: 44.0,
        ..LayoutOptions::default()
    };
    layout(&mut g, Some(options));
    let boxes = sizes
        .iter()
        .enumerate()
        .map(|(i, &(width, height))| {
            let node = g.node(&node_id(i)).expect("every node laid out");
            let centre = Point {
                x: node.x.unwrap_or(0.0),
                y: node.y.unwrap_or(0.0),
            };
            Rect {
                corner: Point {
                    x: centre.x - width / 2.0,
                    y: centre.y - height / 2.0,
                },
                width,
                height,
            }
        })
        .collect();
    let lines = (0..graph.edges.len())
        .map(|k| route(&g, &ranking, k))
        .collect();
    framed(boxes, lines)
}

/// The points the `k`th call passes through, from its caller to its
/// callee (the ranking's `k`th edge is the graph's `k`th call, maybe
/// turned round).
fn route(g: &Graph<NodeLabel, EdgeLabel>, ranking: &[RankEdge], k: usize) -> Vec<Point> {
    let edge = &ranking[k];
    let label = g.edge(&node_id(edge.from), &node_id(edge.to), Some(&edge_id(k)));
    let mut points: Vec<Point> = label
        .map(|l| l.points.iter().map(|p| Point { x: p.x, y: p.y }).collect())
        .unwrap_or_default();
    if edge.turned {
        points.reverse();
    }
    points
}

/// The layout moved so that everything lies inside `MARGIN` from the top
/// left, and its size.
fn framed(mut boxes: Vec<Rect>, mut lines: Vec<Vec<Point>>) -> Layout {
    let corners = boxes.iter().flat_map(|b| {
        [
            b.corner,
            Point {
                x: b.corner.x + b.width,
                y: b.corner.y + b.height,
            },
        ]
    });
    let points: Vec<Point> = corners.chain(lines.iter().flatten().copied()).collect();
    let min_x = points.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
    let min_y = points.iter().map(|p| p.y).fold(f64::INFINITY, f64::min);
    let max_x = points.iter().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max);
    let max_y = points.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max);
    if points.is_empty() {
        return Layout {
            boxes,
            lines,
            width: 2.0 * MARGIN,
            height: 2.0 * MARGIN,
        };
    }
    let shift = |p: &mut Point| {
        p.x += MARGIN - min_x;
        p.y += MARGIN - min_y;
    };
    boxes.iter_mut().for_each(|b| shift(&mut b.corner));
    lines.iter_mut().flatten().for_each(shift);
    Layout {
        boxes,
        lines,
        width: max_x - min_x + 2.0 * MARGIN,
        height: max_y - min_y + 2.0 * MARGIN,
    }
}

/// dagre's name of node `i`.
fn node_id(i: usize) -> String {
    format!("n{i}")
}

/// dagre's name of the ranking's `k`th edge.
fn edge_id(k: usize) -> String {
    format!("e{k}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::output::html::call_graph::{Edge, EdgeKind, Node, NodeKind};

    /// A graph of `n` members with `edges` (indices taken modulo `n`).
    fn graph(n: usize, edges: &[(usize, usize, u64)]) -> CycleGraph {
        CycleGraph {
            nodes: (0..n)
                .map(|i| Node {
                    kind: NodeKind::Member(i),
                    name: format!("member_{i}"),
                    label: format!("member_{i}"),
                    samples: i as u64,
                })
                .collect(),
            edges: edges
                .iter()
                .map(|&(from, to, samples)| Edge {
                    from: from % n,
                    to: to % n,
                    kind: EdgeKind::Inside,
                    samples,
                })
                .collect(),
            samples: 100,
            main: 0,
        }
    }

    /// A cycle of four members, `m0 → m1 → m2 → m3 → m0` (and `m3 → m1`),
    /// entered mostly at `m2` (from `main`), also at `m0` (from `spawn`);
    /// it leaves for `peek` from `m2` and `alloc` from `m0`.
    fn entered_midway() -> CycleGraph {
        let node = |kind, name: &str, samples| Node {
            kind,
            name: name.into(),
            label: name.into(),
            samples,
        };
        let edge = |from, to, kind, samples| Edge {
            from,
            to,
            kind,
            samples,
        };
        let (inside, entering, leaving) = (EdgeKind::Inside, EdgeKind::Entering, EdgeKind::Leaving);
        CycleGraph {
            nodes: vec![
                node(NodeKind::Member(0), "m0", 5),
                node(NodeKind::Member(1), "m1", 5),
                node(NodeKind::Member(2), "m2", 5),
                node(NodeKind::Member(3), "m3", 5),
                node(NodeKind::Caller, "main", 80),
                node(NodeKind::Caller, "spawn", 20),
                node(NodeKind::Exit, "peek", 30),
                node(NodeKind::Exit, "alloc", 10),
            ],
            edges: vec![
                edge(4, 2, entering, 80),
                edge(2, 3, inside, 60),
                edge(3, 0, inside, 50),
                edge(0, 1, inside, 40),
                edge(2, 6, leaving, 30),
                edge(1, 2, inside, 30),
                edge(5, 0, entering, 20),
                edge(3, 1, inside, 10),
                edge(0, 7, leaving, 10),
            ],
            samples: 100,
            main: 2,
        }
    }

    /// The callers' row, the members' rows and the exits' row of a
    /// layout of [`entered_midway`]: each node's y, by kind.
    fn rows(layout: &Layout) -> (Vec<f64>, f64, Vec<f64>, Vec<f64>) {
        let y = |i: usize| layout.boxes[i].corner.y;
        let members: Vec<f64> = (0..4).map(y).collect();
        (vec![y(4), y(5)], y(2), members, vec![y(6), y(7)])
    }

    #[test]
    fn callers_are_on_top_the_main_entry_member_first_and_exits_at_the_bottom() {
        let g = entered_midway();
        let layout = laid_out(&g, &sizes(&g));
        let (callers, main, members, exits) = rows(&layout);
        let top_member = members.iter().copied().fold(f64::INFINITY, f64::min);
        let bottom_member = members.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // `spawn` calls m0, which m2 reaches two calls down: still on top.
        assert!(
            callers.iter().all(|&c| c < top_member),
            "callers {callers:?} above members {members:?}"
        );
        assert_eq!(callers[0], callers[1], "the callers share one row");
        // m2, not m0 (the report's first member), begins the drawing, alone.
        assert_eq!(main, top_member, "m2 first: {members:?}");
        assert_eq!(members.iter().filter(|&&y| y == main).count(), 1);
        // `peek` is called by m2, the top member: still at the bottom.
        assert!(
            exits.iter().all(|&e| e > bottom_member),
            "exits {exits:?} below members {members:?}"
        );
        assert_eq!(exits[0], exits[1], "the exits share one row");
    }

    #[test]
    fn each_line_runs_from_its_caller_to_its_callee() {
        let g = entered_midway();
        let layout = laid_out(&g, &sizes(&g));
        let centre_y = |i: usize| layout.boxes[i].corner.y + layout.boxes[i].height / 2.0;
        for (edge, line) in g.edges.iter().zip(&layout.lines) {
            let (first, last) = (line.first().unwrap(), line.last().unwrap());
            // Begins on its caller's box, ends on its callee's.
            let from = (first.y - centre_y(edge.from)).abs();
            let to = (last.y - centre_y(edge.to)).abs();
            assert!(
                from <= BOX_HEIGHT / 2.0 + 1e-6 && to <= BOX_HEIGHT / 2.0 + 1e-6,
                "{edge:?}: {line:?}"
            );
        }
    }

    fn sizes(graph: &CycleGraph) -> Vec<(f64, f64)> {
        graph.nodes.iter().map(|n| box_size(&[&n.label])).collect()
    }

    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.corner.x < b.corner.x + b.width
            && b.corner.x < a.corner.x + a.width
            && a.corner.y < b.corner.y + b.height
            && b.corner.y < a.corner.y + a.height
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any graph (self calls, calls both ways, several components) is
        /// laid out: every box inside the drawing, no two overlapping,
        /// every call a line of finite points.
        #[test]
        fn every_graph_is_laid_out_without_overlaps(
            n in 1usize..24,
            edges in proptest::collection::vec((0usize..24, 0usize..24, 1u64..100), 0..60),
        ) {
            let mut edges = edges;
            edges.sort_by_key(|&(a, b, _)| (a % n, b % n));
            edges.dedup_by_key(|e| (e.0 % n, e.1 % n));
            let g = graph(n, &edges);
            let layout = laid_out(&g, &sizes(&g));
            prop_assert_eq!(layout.boxes.len(), n);
            prop_assert_eq!(layout.lines.len(), g.edges.len());
            for b in &layout.boxes {
                prop_assert!(b.corner.x >= 0.0 && b.corner.y >= 0.0);
                prop_assert!(b.corner.x + b.width <= layout.width + 1e-6);
                prop_assert!(b.corner.y + b.height <= layout.height + 1e-6);
            }
            for (i, a) in layout.boxes.iter().enumerate() {
                for b in &layout.boxes[i + 1..] {
                    prop_assert!(!overlap(a, b), "{:?} overlaps {:?}", a, b);
                }
            }
            for line in &layout.lines {
                prop_assert!(line.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
            }
        }
    }

    /// A cycle of `n` members (a ring, and `extra` calls), entered at
    /// `main` and at the members `entries` name, left from those `exits`
    /// name (indices taken modulo `n`).
    fn entered_cycle(
        n: usize,
        extra: &[(usize, usize)],
        main: usize,
        entries: &[usize],
        exits: &[usize],
    ) -> CycleGraph {
        let ring = (0..n).map(|i| (i, (i + 1) % n, 10));
        let calls: Vec<(usize, usize, u64)> = ring
            .chain(extra.iter().map(|&(a, b)| (a % n, b % n, 3)))
            .collect();
        let mut g = graph(n, &calls);
        g.edges.sort_by_key(|e| (e.from, e.to));
        g.edges.dedup_by_key(|e| (e.from, e.to));
        g.main = main % n;
        let outside = [(NodeKind::Caller, &[main][..]), (NodeKind::Caller, entries)];
        for (kind, targets) in outside.into_iter().chain([(NodeKind::Exit, exits)]) {
            for &member in targets {
                let node = g.nodes.len();
                g.nodes.push(Node {
                    kind,
                    name: format!("outside_{node}"),
                    label: format!("outside_{node}"),
                    samples: 1,
                });
                let (from, to, kind) = match kind {
                    NodeKind::Caller => (node, member % n, EdgeKind::Entering),
                    _ => (member % n, node, EdgeKind::Leaving),
                };
                g.edges.push(Edge {
                    from,
                    to,
                    kind,
                    samples: 1,
                });
            }
        }
        g
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Whatever the cycle and wherever it is entered and left, the
        /// callers' row is on top, the main entry member alone below it,
        /// the exits' row at the bottom.
        #[test]
        fn every_cycle_reads_from_its_callers_down_to_its_exits(
            n in 1usize..16,
            extra in proptest::collection::vec((0usize..16, 0usize..16), 0..30),
            main in 0usize..16,
            entries in proptest::collection::vec(0usize..16, 0..4),
            exits in proptest::collection::vec(0usize..16, 0..5),
        ) {
            let g = entered_cycle(n, &extra, main, &entries, &exits);
            let layout = laid_out(&g, &sizes(&g));
            let y = |kind: fn(&NodeKind) -> bool| -> Vec<f64> {
                g.nodes.iter().zip(&layout.boxes)
                    .filter(|(node, _)| kind(&node.kind))
                    .map(|(_, b)| b.corner.y)
                    .collect()
            };
            let callers = y(|k| *k == NodeKind::Caller);
            let members = y(|k| matches!(k, NodeKind::Member(_)));
            let exits = y(|k| *k == NodeKind::Exit);
            let main_y = layout.boxes[g.main].corner.y;
            prop_assert!(callers.iter().all(|&c| c == callers[0] && c < main_y));
            prop_assert!(members.iter().filter(|&&m| m <= main_y).count() == 1);
            let lowest = members.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(exits.iter().all(|&e| e == exits[0] && e > lowest));
        }
    }

    #[test]
    fn the_same_graph_is_laid_out_the_same_every_time() {
        let edges: Vec<(usize, usize, u64)> = (0..20)
            .flat_map(|i| [(i, (i + 1) % 20, 50), (i, (i * 7) % 20, 5)])
            .collect();
        let g = graph(20, &edges);
        let first = laid_out(&g, &sizes(&g));
        for _ in 0..5 {
            assert_eq!(laid_out(&g, &sizes(&g)), first);
        }
    }
}
