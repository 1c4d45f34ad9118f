//! What the page's templates show, computed from the report: one row and
//! one section per cycle, with its drawing, and the data the page's script
//! reads.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::engine::report::{
    CycleReport, InputReport, NamedCount, Report, SplitReport, TruncationReport, WeldReport,
};
use crate::output::diff_report::Shares;
use crate::output::html::box_labels::label;
use crate::output::html::call_graph::{MAX_BOUNDARY_LINES, MAX_BOUNDARY_NODES, cycle_graph};
use crate::output::html::display_name::display_name;
use crate::output::html::drawing::{Drawing, WARMTH_BOUNDS, drawing};
use crate::output::html::flame::FLAME_GRAPH_CLASS;
use crate::output::html::member_calls::{MemberCalls, member_calls};
use crate::output::html::source_paths::{ShownSource, shown_sources};
use crate::output::html::templates::{EARLY_SCRIPT, SCRIPT, STYLE};
use crate::output::html::unfold::Unfolded;

/// Cycles with more members than this are listed, not drawn: a drawing
/// that large is no longer read, and laying it out takes long.
pub const MAX_DRAWN_MEMBERS: usize = 100;

/// Cycles with more calls between members than this are listed, not
/// drawn: the layout's time grows with the calls and the rows they cross
/// (about 2 s for 350 calls among 60 members, 10 s for 450 among 150;
/// 1.2 s for 240 among 98, with 6 callers and 6 exits, in a release build).
pub const MAX_DRAWN_CALLS: usize = 250;

/// Cycles under this share of the samples (in percent) wait behind "show
/// all" in the table, with the trivial self-recursions: the story first.
pub const MINOR_SHARE: f64 = 1.0;

/// A section lists at most this many callers, exits and welds; the rest
/// are counted (the JSON report has every one). A giant synthetic cycle
/// entered from 3,831 places made a 2.7 MB page that took 1.6 s to open,
/// 0.3 s without its lists.
pub const MAX_LISTED: usize = 30;

/// Everything the page template shows.
#[derive(Debug, Serialize)]
pub struct Page<'a> {
    /// autofold's version, in the page's `generator`.
    pub version: &'static str,
    /// The page's title and heading.
    pub title: String,
    /// The line under it.
    pub summary: String,
    /// One sentence on the main recursion, above the flame graph (none
    /// for a diff, or without a cycle worth a row).
    pub story: Option<String>,
    /// Rows behind "show all": the minor cycles, and of them the trivial.
    pub minor_cycles: usize,
    pub trivial_cycles: usize,
    /// The inputs read (the after side's, for a diff).
    pub inputs: Vec<InputReport>,
    /// For a diff, the before side's inputs.
    pub before_inputs: Vec<InputReport>,
    /// The flame graph's inline SVG.
    pub flamegraph: String,
    /// Whether this is the page of a diff (before and after shares).
    pub diff: bool,
    /// One row and section per cycle, in table order.
    pub cycles: Vec<CycleView<'a>>,
    /// What happened to stacks cut mid-recursion.
    pub truncation: &'a TruncationReport,
    /// Functions kept out of every cycle.
    pub kept_out: &'a [String],
    /// How many callers and exits a drawing shows at most.
    pub max_boundary: usize,
    /// How many members each caller or exit is linked to at most.
    pub max_boundary_lines: usize,
    /// How many callers, exits and welds a section lists.
    pub max_listed: usize,
    /// The drawings' warmth classes, coolest first, as the legend names
    /// them.
    pub warmth_legend: Vec<String>,
    /// What the page's script reads.
    pub data: PageData,
    /// The stylesheet.
    pub style: &'static str,
    /// The script in the head.
    pub early_script: &'static str,
    /// The script at the end.
    pub script: &'static str,
}

/// What the page's script reads (as JSON in the page).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageData {
    /// The class of the flame graph's `<svg>`.
    pub flame_graph_class: &'static str,
    /// The folded cycles, by the index their flame graph frames carry.
    pub flame_cycles: Vec<FlameCycle>,
    /// Per cycle that can be unfolded (by name): what its unfolded flame
    /// graph's script needs.
    pub unfolded: BTreeMap<String, UnfoldedData>,
}

/// What the page's script needs of one unfolded flame graph.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnfoldedData {
    /// Its folded cycles, by the index its cycle frames carry.
    pub flame_cycles: Vec<FlameCycle>,
    /// The members of the cycle unfolded in it, which it colours.
    pub members: Vec<String>,
}

/// A folded cycle as the flame graph's frames name it.
#[derive(Debug, Serialize)]
pub struct FlameCycle {
    /// Its name.
    pub name: String,
    /// The name its frames are labelled with (`display_name.rs`).
    pub short: String,
    /// The id of its section.
    pub anchor: String,
    /// A line about it.
    pub about: String,
    /// Samples of stacks through it: what its members' totals are shares of.
    pub samples: u64,
    /// Its members' own figures, for a search that matches a member.
    pub members: Vec<MemberFigures>,
}

/// A member's own figures, as the page's search reports them: a search
/// for a member matches its samples, not its whole cycle's.
#[derive(Debug, Serialize)]
pub struct MemberFigures {
    /// The member's full name.
    pub name: String,
    /// Samples that end in it.
    #[serde(rename = "self")]
    pub self_samples: u64,
    /// Samples of stacks it is on, once per stack.
    pub total: u64,
}

/// One cycle: its table row and its section.
#[derive(Debug, Serialize)]
pub struct CycleView<'a> {
    /// The cycle's name, exactly as in the JSON report.
    pub name: &'a str,
    /// The name it is shown by (`display_name.rs`).
    pub display: String,
    /// The id of its section.
    pub anchor: String,
    /// Its members (for the count in the split advice).
    pub members: &'a [String],
    /// Members that print differently.
    pub distinct_members: usize,
    /// Samples of stacks through it.
    pub samples: u64,
    /// Its share of all samples, as text.
    pub share: String,
    /// Its share as the width of the bar behind it, in percent.
    pub bar: String,
    /// For a diff: its share before, after and the change, as text.
    pub before_share: String,
    /// The share after.
    pub after_share: String,
    /// The change, in percentage points, signed.
    pub change: String,
    /// The most frames one run replaced.
    pub max_depth: usize,
    /// The mean, as text.
    pub mean_depth_text: String,
    /// Whether its runs were folded.
    pub folded: bool,
    /// A trivial self-recursion (as the text report summarises them).
    pub trivial: bool,
    /// Left out of the table until "show all": trivial, or under
    /// [`MINOR_SHARE`] of the samples.
    pub minor: bool,
    /// Its callers, most samples first.
    pub entries: Vec<Listed>,
    /// Its top exits.
    pub exits: Vec<Listed>,
    /// The callers past the first [`MAX_LISTED`], which its section counts.
    pub entries_rest: Rest,
    /// The exits past the first [`MAX_LISTED`].
    pub exits_rest: Rest,
    /// The welds past the first [`MAX_LISTED`].
    pub welded_rest: Rest,
    /// Short notes for its row.
    pub notes: Vec<String>,
    /// Its members, most self samples first.
    pub member_rows: Vec<MemberRow>,
    /// Whether any member has a symbol.
    pub has_symbols: bool,
    /// Whether any member has a source location.
    pub has_sources: bool,
    /// How to split it, for a giant cycle.
    pub split: Option<&'a SplitReport>,
    /// Where it looks welded by a name.
    pub looks_welded: &'a [WeldReport],
    /// Its call graph, laid out.
    pub drawing: Option<Drawing>,
    /// Why there is no drawing.
    pub drawing_note: Option<String>,
    /// Which side of a diff is drawn.
    pub drawn_side: Option<&'static str>,
    /// Whether callers or exits were left out of the drawing.
    pub boundary_cut: bool,
    /// Its unfolded flame graph (gzipped SVG, base64), if it has one.
    pub unfolded: Option<String>,
}

/// What a list leaves out past its first [`MAX_LISTED`]: how many, and
/// their samples.
#[derive(Debug, Default, Serialize)]
pub struct Rest {
    /// How many are left out (0: none).
    pub count: usize,
    /// Their samples, added up.
    pub samples: u64,
}

impl Rest {
    /// What is left out of `samples` (one figure per item, in list order).
    fn of(samples: impl Iterator<Item = u64>) -> Self {
        samples
            .skip(MAX_LISTED)
            .fold(Self::default(), |rest, s| Self {
                count: rest.count + 1,
                samples: rest.samples + s,
            })
    }
}

/// A frame with its samples, and its short label.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// The full name.
    pub name: String,
    /// Its label.
    pub short: String,
    /// Samples.
    pub samples: u64,
}

/// One member's row.
#[derive(Debug, Serialize)]
pub struct MemberRow {
    /// Its index in the cycle's members.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Its self samples.
    pub samples: u64,
    /// Its total samples (stacks it is on, once per stack).
    pub total: u64,
    /// Who calls it and whom it calls, inside the cycle and outside.
    pub calls: MemberCalls,
    /// Its symbol, where known.
    pub symbol: Option<String>,
    /// Where it is written, where known: in full and short.
    pub source: Option<ShownSource>,
}

/// The shares of a cycle on both sides of a diff, and the side drawn.
#[derive(Debug, Clone, Copy)]
pub struct DiffSide<'a> {
    /// Before and after.
    pub shares: &'a Shares,
    /// Which side's call graph is drawn.
    pub drawn: &'static str,
}

impl<'a> CycleView<'a> {
    /// The row and section of `cycle`, the `index`th of the page, in a
    /// profile of `total_samples`.
    pub fn new(cycle: &'a CycleReport, index: usize, total_samples: u64) -> Self {
        let (drawing, drawing_note) = drawn(cycle, total_samples);
        let boundary_cut = cycle.calls.as_ref().is_some_and(|calls| {
            distinct_outside(&calls.entering) > MAX_BOUNDARY_NODES
                || distinct_outside(&calls.leaving) > MAX_BOUNDARY_NODES
        });
        let mut distinct: Vec<&String> = cycle.members.iter().collect();
        distinct.dedup();
        Self {
            name: &cycle.name,
            display: display_name(cycle),
            anchor: anchor(index),
            members: &cycle.members,
            distinct_members: distinct.len(),
            samples: cycle.samples,
            share: format!("{:.2}%", cycle.percent),
            bar: format!("{:.1}", cycle.percent.clamp(0.0, 100.0)),
            before_share: String::new(),
            after_share: String::new(),
            change: String::new(),
            max_depth: cycle.max_depth,
            mean_depth_text: format!("{:.1}", cycle.mean_depth),
            folded: cycle.folded,
            trivial: cycle.is_trivial(total_samples),
            minor: cycle.is_trivial(total_samples) || cycle.percent < MINOR_SHARE,
            entries: listed(&cycle.entries),
            exits: listed(&cycle.exits),
            entries_rest: Rest::of(cycle.entries.iter().map(|e| e.samples)),
            exits_rest: Rest::of(cycle.exits.iter().map(|e| e.samples)),
            welded_rest: Rest::of(cycle.looks_welded.iter().map(|w| w.samples)),
            notes: notes(cycle),
            member_rows: member_rows(cycle),
            has_symbols: cycle.member_symbols.is_some(),
            has_sources: cycle.member_sources.is_some(),
            split: cycle.split.as_ref(),
            looks_welded: &cycle.looks_welded,
            drawing,
            drawing_note,
            drawn_side: None,
            boundary_cut,
            unfolded: None,
        }
    }

    /// The same for a cycle of a diff.
    pub fn of_diff(cycle: &'a CycleReport, index: usize, total: u64, side: DiffSide) -> Self {
        let shares = side.shares;
        Self {
            before_share: format!("{:.2}%", shares.before_percent),
            after_share: format!("{:.2}%", shares.after_percent),
            change: format!("{:+.2}", shares.change),
            drawn_side: Some(side.drawn),
            ..Self::new(cycle, index, total)
        }
    }

    /// The cycle as the flame graph's script names it.
    pub fn flame_cycle(&self) -> FlameCycle {
        FlameCycle {
            name: self.name.to_string(),
            short: self.display.clone(),
            anchor: self.anchor.clone(),
            about: format!(
                "{} member{}, {} of the samples; its call graph is below.",
                self.distinct_members,
                if self.distinct_members == 1 { "" } else { "s" },
                self.share
            ),
            samples: self.samples,
            members: self
                .member_rows
                .iter()
                .map(|row| MemberFigures {
                    name: row.name.clone(),
                    self_samples: row.samples,
                    total: row.total,
                })
                .collect(),
        }
    }
}

/// The id of the `index`th cycle's section.
pub fn anchor(index: usize) -> String {
    format!("cycle-{}", index + 1)
}

/// The folded cycles of `cycles` (the order the flame graph numbers them
/// in), each with its section as `views` has it.
pub fn flame_cycles(cycles: &[CycleReport], views: &[CycleView]) -> Vec<FlameCycle> {
    let by_name: HashMap<&str, &CycleView> = views.iter().map(|v| (v.name, v)).collect();
    cycles
        .iter()
        .filter(|c| c.folded)
        .filter_map(|c| by_name.get(c.name.as_str()).map(|v| v.flame_cycle()))
        .collect()
}

/// The data the page's script reads.
pub fn page_data(flame_cycles: Vec<FlameCycle>) -> PageData {
    PageData {
        flame_graph_class: FLAME_GRAPH_CLASS,
        flame_cycles,
        unfolded: BTreeMap::new(),
    }
}

/// Adds the unfolded flame graphs to their cycles' views and to `data`.
pub fn add_unfolded(unfolded: Vec<Unfolded>, views: &mut [CycleView], data: &mut PageData) {
    for graph in unfolded {
        let flame_cycles = flame_cycles(&graph.report.cycles, views);
        let Some(view) = views.iter_mut().find(|v| v.name == graph.cycle) else {
            continue;
        };
        let mut members = view.members.to_vec();
        members.dedup();
        view.unfolded = Some(graph.graph);
        let data_of = UnfoldedData {
            flame_cycles,
            members,
        };
        data.unfolded.insert(graph.cycle, data_of);
    }
}

/// The page around `cycles`, with the flame graph's SVG.
pub fn page<'a>(
    title: String,
    summary: String,
    report: &'a Report,
    flamegraph: String,
    cycles: Vec<CycleView<'a>>,
    data: PageData,
) -> Page<'a> {
    Page {
        version: env!("CARGO_PKG_VERSION"),
        title,
        summary,
        story: None,
        minor_cycles: cycles.iter().filter(|c| c.minor).count(),
        trivial_cycles: cycles.iter().filter(|c| c.trivial).count(),
        inputs: report.inputs.clone(),
        before_inputs: Vec::new(),
        flamegraph,
        diff: false,
        cycles,
        truncation: &report.truncation,
        kept_out: &report.kept_out,
        max_boundary: MAX_BOUNDARY_NODES,
        max_boundary_lines: MAX_BOUNDARY_LINES,
        max_listed: MAX_LISTED,
        warmth_legend: warmth_legend(),
        data,
        style: STYLE,
        early_script: EARLY_SCRIPT,
        script: SCRIPT,
    }
}

/// The drawing of `cycle`, in a profile of `total_samples`, or why there
/// is none.
fn drawn(cycle: &CycleReport, total_samples: u64) -> (Option<Drawing>, Option<String>) {
    let calls = cycle.calls.as_ref().map_or(0, |c| c.inside.len());
    if cycle.members.len() > MAX_DRAWN_MEMBERS || calls > MAX_DRAWN_CALLS {
        let note = format!(
            "Too large to draw: {} members and {calls} calls between them (at most \
             {MAX_DRAWN_MEMBERS} members and {MAX_DRAWN_CALLS} calls are drawn); the members \
             are listed below. Excluding the suggested members splits it.",
            cycle.members.len()
        );
        return (None, Some(note));
    }
    match cycle_graph(cycle) {
        Some(graph) if cycle.samples > 0 => (Some(drawing(&graph, total_samples)), None),
        Some(_) => (
            None,
            Some("No samples went through it on this side.".into()),
        ),
        None => (
            None,
            Some("Who calls whom inside it was not gathered.".into()),
        ),
    }
}

/// The warmth classes' ranges: `under 1 %`, `1–5 %`, …, `20 % or more`.
fn warmth_legend() -> Vec<String> {
    let bounds = WARMTH_BOUNDS;
    let mut legend = vec![format!("under {} %", bounds[0])];
    legend.extend(bounds.windows(2).map(|w| format!("{}–{} %", w[0], w[1])));
    legend.push(format!("{} % or more", bounds[bounds.len() - 1]));
    legend
}

fn distinct_outside(calls: &[crate::engine::report::BoundaryCall]) -> usize {
    let mut names: Vec<&str> = calls.iter().map(|c| c.outside.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn listed(counts: &[NamedCount]) -> Vec<Listed> {
    counts
        .iter()
        .map(|c| Listed {
            name: c.name.clone(),
            short: label(&c.name),
            samples: c.samples,
        })
        .collect()
}

/// The members, most self samples first (ties by name).
fn member_rows(cycle: &CycleReport) -> Vec<MemberRow> {
    let sources = cycle
        .member_sources
        .as_deref()
        .map(shown_sources)
        .unwrap_or_default();
    let mut rows: Vec<MemberRow> = cycle
        .members
        .iter()
        .enumerate()
        .map(|(index, name)| MemberRow {
            index,
            name: name.clone(),
            samples: cycle
                .member_self_samples
                .get(index)
                .map_or(0, |m| m.samples),
            total: cycle
                .member_total_samples
                .get(index)
                .map_or(0, |m| m.samples),
            calls: member_calls(cycle, index),
            symbol: cycle
                .member_symbols
                .as_ref()
                .and_then(|s| s.get(index).cloned().flatten()),
            source: sources.get(index).cloned().flatten(),
        })
        .collect();
    rows.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// The notes of a cycle's row.
fn notes(cycle: &CycleReport) -> Vec<String> {
    let mut notes = Vec::new();
    if !cycle.folded {
        notes.push("not folded: over --max-cycle-members".to_string());
    }
    if let Some(split) = &cycle.split {
        notes.push(format!(
            "giant: excluding {} leaves at most {} together",
            split.exclude.len(),
            split.largest_component_after
        ));
    }
    if let Some(weld) = cycle.looks_welded.first() {
        notes.push(format!("looks welded by a name ({} samples)", weld.samples));
    }
    notes
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::report::{CallsReport, MemberCall};

    /// A ring of `n` members, each calling the next.
    pub(crate) fn ring(n: usize) -> CycleReport {
        let members: Vec<String> = (0..n).map(|i| format!("m{i:03}")).collect();
        CycleReport {
            name: "{m000,+}".into(),
            member_total_samples: Vec::new(),
            rerooted_under_samples: 0,
            member_self_samples: members
                .iter()
                .map(|m| NamedCount {
                    name: m.clone(),
                    samples: 1,
                })
                .collect(),
            members,
            samples: 10,
            percent: 100.0,
            on_cpu: 10,
            off_cpu: 0,
            folded: true,
            member_symbols: None,
            member_sources: None,
            author_members: Vec::new(),
            max_depth: n,
            mean_depth: 1.0,
            entries: Vec::new(),
            exits: Vec::new(),
            split: None,
            looks_welded: Vec::new(),
            calls: Some(CallsReport {
                inside: (0..n)
                    .map(|i| MemberCall {
                        caller: i,
                        callee: (i + 1) % n,
                        samples: 10,
                    })
                    .collect(),
                ..CallsReport::default()
            }),
        }
    }

    #[test]
    fn a_cycle_is_drawn_up_to_the_limit_and_listed_beyond_it() {
        let (largest, larger) = (ring(MAX_DRAWN_MEMBERS), ring(MAX_DRAWN_MEMBERS + 1));
        let drawn = CycleView::new(&largest, 0, 10);
        assert_eq!(
            drawn.drawing.map(|d| d.nodes.len()),
            Some(MAX_DRAWN_MEMBERS)
        );
        let listed = CycleView::new(&larger, 0, 10);
        assert!(listed.drawing.is_none());
        assert!(
            listed
                .drawing_note
                .unwrap()
                .starts_with("Too large to draw")
        );
    }

    #[test]
    fn a_list_counts_what_it_leaves_out_past_its_first_entries() {
        let samples = (1..=MAX_LISTED as u64 + 5).rev();
        let rest = Rest::of(samples);
        // Left out: the five smallest, 5 + 4 + 3 + 2 + 1.
        assert_eq!((rest.count, rest.samples), (5, 15));
        let none = Rest::of(std::iter::repeat_n(7, MAX_LISTED));
        assert_eq!((none.count, none.samples), (0, 0));
    }

    #[test]
    fn without_gathered_calls_there_is_no_drawing_and_it_says_why() {
        let mut cycle = ring(3);
        cycle.calls = None;
        let view = CycleView::new(&cycle, 0, 10);
        assert!(view.drawing.is_none());
        assert_eq!(
            view.drawing_note.as_deref(),
            Some("Who calls whom inside it was not gathered.")
        );
    }
}
