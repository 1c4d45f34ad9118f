//! Where each box and edge of a cycle's drawing goes: a layered layout by
//! `dagre` (the Rust port of dagre.js, the layout behind mermaid): ranks by
//! network simplex, with heavier calls kept shorter and straighter, then
//! crossings reduced and coordinates assigned (Brandes–Köpf); calls that go
//! back up (every cycle has them) are routed around the boxes.

use dagre::graph::{Graph, GraphOptions};
use dagre::{EdgeLabel, LayoutOptions, NodeLabel, layout};

use crate::output::html::call_graph::CycleGraph;

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
    for edge in &graph.edges {
        let label = EdgeLabel {
            weight: weight(edge.samples, graph.samples),
            ..EdgeLabel::default()
        };
        g.set_edge(
            node_id(edge.from),
            node_id(edge.to),
            Some(label),
            Some("call"),
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
    let lines = graph
        .edges
        .iter()
        .map(|edge| {
            let label = g.edge(&node_id(edge.from), &node_id(edge.to), Some("call"));
            label
                .map(|l| l.points.iter().map(|p| Point { x: p.x, y: p.y }).collect())
                .unwrap_or_default()
        })
        .collect();
    framed(boxes, lines)
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

/// How hard dagre tries to keep an edge short and straight: 1, plus up to
/// 8 for a call that all of the cycle's samples make.
fn weight(samples: u64, total: u64) -> i32 {
    1 + (8.0 * samples as f64 / total.max(1) as f64).round() as i32
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
