//! A cycle's call graph as the drawing's template shows it: each box with
//! its place, colour and text, each call with its curve and width.

use serde::Serialize;

use crate::engine::report::percent;
use crate::output::html::call_graph::{CycleGraph, Edge, EdgeKind, Node, NodeKind};
use crate::output::html::layout::{Layout, Point, box_size, laid_out};

/// The bounds of the warmth classes of members' boxes, in percent of all
/// the profile's samples ending in the member (its self samples): under
/// 1 % is class 0, the coolest; 20 % and over is class 3. A fixed scale,
/// so that a member's warmth says the same in every drawing, and a member
/// of 1 sample among thousands is never hot.
pub const WARMTH_BOUNDS: [f64; 3] = [1.0, 5.0, 20.0];

/// The widest a call is drawn, in pixels (one that all of the cycle's
/// samples make); the thinnest is 1.
const MAX_STROKE: f64 = 7.0;

/// A drawing, ready for `drawing.svg`.
#[derive(Debug, Clone, Serialize)]
pub struct Drawing {
    /// Its width in pixels.
    pub width: String,
    /// Its height in pixels.
    pub height: String,
    /// The boxes.
    pub nodes: Vec<NodeView>,
    /// The calls.
    pub edges: Vec<EdgeView>,
}

/// One box.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    /// `member`, `caller` or `exit`.
    pub kind: &'static str,
    /// For a member, its index in the cycle's members.
    pub member: Option<usize>,
    /// The full name: the box's tooltip.
    pub name: String,
    /// The short name in the box.
    pub label: String,
    /// The line under it: self samples, or samples through it.
    pub figure: String,
    /// Its top-left corner and size.
    pub x: String,
    /// Top.
    pub y: String,
    /// Width.
    pub w: String,
    /// Height.
    pub h: String,
    /// For a member, its warmth class (0 to 3, [`WARMTH_BOUNDS`]): its
    /// share of all samples, as self samples.
    pub warmth: Option<usize>,
    /// Whether it is the main entry member, where the drawing begins (the
    /// page scrolls a wide drawing to it).
    pub main: bool,
}

/// One call.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeView {
    /// `inside`, `entering` or `leaving`.
    pub kind: &'static str,
    /// The caller's and callee's node indices.
    pub from: usize,
    /// The callee's node index.
    pub to: usize,
    /// Its tooltip: who calls whom, and the samples.
    pub title: String,
    /// Its SVG path.
    pub path: String,
    /// Its stroke width: wider the more samples go through it.
    pub stroke: String,
}

/// The drawing of `graph`, in a profile of `total_samples`.
pub fn drawing(graph: &CycleGraph, total_samples: u64) -> Drawing {
    let texts: Vec<[String; 2]> = graph.nodes.iter().map(|n| box_text(n, graph)).collect();
    let sizes: Vec<(f64, f64)> = texts
        .iter()
        .map(|[label, figure]| box_size(&[label, figure]))
        .collect();
    let layout = laid_out(graph, &sizes);
    let nodes = graph
        .nodes
        .iter()
        .zip(texts)
        .zip(&layout.boxes)
        .enumerate()
        .map(|(i, ((node, [label, figure]), rect))| NodeView {
            kind: node_kind(node.kind),
            member: match node.kind {
                NodeKind::Member(i) => Some(i),
                _ => None,
            },
            name: node.name.clone(),
            label,
            figure,
            x: pixels(rect.corner.x),
            y: pixels(rect.corner.y),
            w: pixels(rect.width),
            h: pixels(rect.height),
            warmth: match node.kind {
                NodeKind::Member(_) => Some(warmth(node.samples, total_samples)),
                _ => None,
            },
            main: i == graph.main,
        })
        .collect();
    Drawing {
        width: pixels(layout.width),
        height: pixels(layout.height),
        nodes,
        edges: edge_views(graph, &layout),
    }
}

/// How far apart the two curves of a call each way between two members
/// bow, each to its side, in pixels: dagre routes them close enough to
/// read as one.
const BOW: f64 = 14.0;

/// `line` bowed sideways by `by` pixels (its ends half as far, so they stay
/// on their boxes' borders).
fn bowed(line: &[Point], by: f64) -> Vec<Point> {
    let mut points: Vec<Point> = line.to_vec();
    if let [first, last] = points[..] {
        let middle = Point {
            x: (first.x + last.x) / 2.0,
            y: (first.y + last.y) / 2.0,
        };
        points.insert(1, middle);
    }
    let n = points.len();
    for (i, p) in points.iter_mut().enumerate() {
        p.x += if i == 0 || i + 1 == n { by / 2.0 } else { by };
    }
    points
}

fn edge_views(graph: &CycleGraph, layout: &Layout) -> Vec<EdgeView> {
    // The line of the call back, where a call inside goes both ways.
    let back = |edge: &Edge| {
        let found = graph.edges.iter().position(|e| {
            edge.kind == EdgeKind::Inside
                && e.kind == EdgeKind::Inside
                && edge.from != edge.to
                && (e.from, e.to) == (edge.to, edge.from)
        });
        found.map(|j| &layout.lines[j])
    };
    let middle_x = |line: &[Point]| line.get(line.len() / 2).map_or(0.0, |p| p.x);
    graph
        .edges
        .iter()
        .zip(&layout.lines)
        .map(|(edge, line)| {
            let line = match back(edge) {
                // Each curve further to the side it already leans to.
                Some(other) => {
                    let right = (middle_x(line), edge.from > edge.to)
                        > (middle_x(other), edge.from < edge.to);
                    bowed(line, if right { BOW } else { -BOW })
                }
                None => line.clone(),
            };
            let share = edge.samples as f64 / graph.samples.max(1) as f64;
            let (from, to) = (&graph.nodes[edge.from], &graph.nodes[edge.to]);
            EdgeView {
                kind: match edge.kind {
                    EdgeKind::Inside => "inside",
                    EdgeKind::Entering => "entering",
                    EdgeKind::Leaving => "leaving",
                },
                from: edge.from,
                to: edge.to,
                title: format!(
                    "{} → {}: {} samples ({:.1}% of the cycle's)",
                    from.name,
                    to.name,
                    edge.samples,
                    percent(edge.samples, graph.samples)
                ),
                path: curve(&line),
                stroke: pixels(1.0 + (MAX_STROKE - 1.0) * share.min(1.0)),
            }
        })
        .collect()
}

/// The two lines of text in a node's box.
fn box_text(node: &Node, graph: &CycleGraph) -> [String; 2] {
    let figure = match node.kind {
        NodeKind::Member(_) => format!("self {}", node.samples),
        NodeKind::Caller => format!("calls in: {}", node.samples),
        NodeKind::Exit => format!(
            "{} ({:.1}%)",
            node.samples,
            percent(node.samples, graph.samples)
        ),
    };
    [node.label.clone(), figure]
}

fn node_kind(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Member(_) => "member",
        NodeKind::Caller => "caller",
        NodeKind::Exit => "exit",
    }
}

/// The warmth class of a member with `samples` self samples among
/// `total` ([`WARMTH_BOUNDS`]).
pub fn warmth(samples: u64, total: u64) -> usize {
    let share = percent(samples, total);
    WARMTH_BOUNDS
        .iter()
        .filter(|&&bound| share >= bound)
        .count()
}

/// A smooth path through `points`: a uniform cubic B-spline that starts at
/// the first point and ends at the last (as dagre's drawings are drawn).
pub fn curve(points: &[Point]) -> String {
    let Some((first, rest)) = points.split_first() else {
        return String::new();
    };
    let mut path = format!("M{} {}", pixels(first.x), pixels(first.y));
    let Some(last) = rest.last() else {
        return path;
    };
    if rest.len() == 1 {
        path.push_str(&format!(" L{} {}", pixels(last.x), pixels(last.y)));
        return path;
    }
    let third = |a: Point, b: Point, w: f64| Point {
        x: a.x + (b.x - a.x) * w,
        y: a.y + (b.y - a.y) * w,
    };
    // The spline's control polygon, with the ends repeated so that it
    // begins and ends on them.
    let mut control = vec![*first, *first];
    control.extend_from_slice(rest);
    control.push(*last);
    let start = third(control[1], control[2], 1.0 / 6.0);
    path.push_str(&format!(" L{} {}", pixels(start.x), pixels(start.y)));
    for window in control.windows(3).skip(1) {
        let [a, b, c] = [window[0], window[1], window[2]];
        let (c1, c2) = (third(a, b, 1.0 / 3.0), third(a, b, 2.0 / 3.0));
        let end = Point {
            x: (a.x + 4.0 * b.x + c.x) / 6.0,
            y: (a.y + 4.0 * b.y + c.y) / 6.0,
        };
        path.push_str(&format!(
            " C{} {} {} {} {} {}",
            pixels(c1.x),
            pixels(c1.y),
            pixels(c2.x),
            pixels(c2.y),
            pixels(end.x),
            pixels(end.y)
        ));
    }
    path.push_str(&format!(" L{} {}", pixels(last.x), pixels(last.y)));
    path
}

/// A coordinate as written in the SVG: one decimal.
fn pixels(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmth_is_a_share_of_all_samples_on_a_fixed_scale() {
        // 1 self sample of 1,020: under 1 %, the coolest, however cool
        // the other members are.
        assert_eq!(warmth(1, 1020), 0);
        assert_eq!(warmth(0, 1020), 0);
        assert_eq!(warmth(10, 1000), 1);
        assert_eq!(warmth(49, 1000), 1);
        assert_eq!(warmth(50, 1000), 2);
        assert_eq!(warmth(200, 1000), 3);
        assert_eq!(warmth(1000, 1000), 3);
        assert_eq!(warmth(0, 0), 0);
    }
}
