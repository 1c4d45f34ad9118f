//! `--html FILE`: one self-contained page (no network, no other files) with
//! the flame graph as inferno draws it (zoom, search, tooltips), a table of
//! the cycles, and a section per cycle with a drawing of its own call
//! graph: who calls whom inside it, where it is entered and where it
//! leaves.
//!
//! One concern a file: `flame.rs` makes inferno's SVG stand inline,
//! `call_graph.rs` picks what a drawing shows, `layout.rs` lays it out
//! (dagre), `drawing.rs` turns that into what `assets/drawing.svg` draws,
//! `box_labels.rs` shortens names for boxes, `display_name.rs` long cycle
//! names, `member_calls.rs` finds each member's callers and callees for
//! its row, `view.rs` is what the templates
//! show, `templates.rs` embeds the assets (templates, stylesheet, scripts),
//! `unfold.rs` draws the flame graph again with one cycle unfolded.

pub mod box_labels;
pub mod call_graph;
pub mod display_name;
pub mod drawing;
pub mod flame;
pub mod layout;
pub mod member_calls;
pub mod ranking;
pub mod source_paths;
pub mod templates;
pub mod unfold;
pub mod view;

use std::io::{self, Write};

use crate::engine::Analysis;
use crate::engine::report::{Report, percent};
use crate::output::diff::{DiffOptions, render_diff};
use crate::output::diff_report::DiffReport;
use crate::output::html::display_name::display_name;
use crate::output::html::templates::render_page;
use crate::output::html::unfold::unfolded_graphs;
use crate::output::html::view::{CycleView, DiffSide, add_unfolded, flame_cycles, page, page_data};
use crate::output::render::{RenderOptions, cycles_folded, render_svg};
use crate::profile::Unit;

/// Writes the page of one analysed profile into `out`: its flame graph as
/// `render` asks, its cycles, each one's call graph drawn (when the fold
/// gathered calls: `FoldOptions::calls`), and for the largest cycles the
/// flame graph with that cycle unfolded (when the engine kept the profile
/// before the fold: `EngineOptions::refold`).
pub fn write_page(
    analysis: &Analysis,
    render: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let report = &analysis.report;
    let mut svg = Vec::new();
    render_svg(&analysis.folded, report, render, &mut svg)?;
    let mut cycles: Vec<CycleView> = report
        .cycles
        .iter()
        .enumerate()
        .map(|(i, cycle)| CycleView::new(cycle, i, report.total_samples))
        .collect();
    let mut data = page_data(flame_cycles(&report.cycles, &cycles));
    add_unfolded(unfolded_graphs(analysis, render)?, &mut cycles, &mut data);
    let title = render
        .title
        .clone()
        .unwrap_or_else(|| format!("autofold: {}", cycles_folded(report)));
    let mut page = page(
        title,
        summary(report),
        report,
        flame::inline(&svg)?,
        cycles,
        data,
    );
    page.story = story(report);
    render_page(&page, out)
}

/// Writes the page of a diff into `out`: the differential flame graph, each
/// cycle's share before and after (largest change first), and its call
/// graph as the after side shows it (the before side's where the after
/// side never entered it).
pub fn write_diff_page(
    before: &Analysis,
    after: &Analysis,
    diff: &DiffOptions,
    render: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut svg = Vec::new();
    render_diff(before, after, diff, render, &mut svg)?;
    let changes = DiffReport::new(before, after);
    let find = |report: &'_ Report, name: &str| report.cycles.iter().position(|c| c.name == name);
    let cycles: Vec<CycleView> = changes
        .cycles
        .iter()
        .enumerate()
        .filter_map(|(i, change)| {
            let after_cycle = &after.report.cycles[find(&after.report, &change.name)?];
            let (cycle, total, drawn) = match find(&before.report, &change.name) {
                Some(b) if after_cycle.samples == 0 => (
                    &before.report.cycles[b],
                    before.report.total_samples,
                    "before",
                ),
                _ => (after_cycle, after.report.total_samples, "after"),
            };
            let side = DiffSide {
                shares: &change.shares,
                drawn,
            };
            Some(CycleView::of_diff(cycle, i, total, side))
        })
        .collect();
    let data = page_data(flame_cycles(&after.report.cycles, &cycles));
    let title = render
        .title
        .clone()
        .unwrap_or_else(|| format!("autofold diff: {} → {}", diff.before_name, diff.after_name));
    let scaled = if diff.normalize {
        "normalised: the before side scaled to the after side's total, so colours compare shares"
    } else {
        "not normalised (the totals are within 10 %), so colours compare counts"
    };
    let summary = format!(
        "{} samples before, {} after ({scaled}); frame widths are the after side's, red frames grew, blue ones shrank. {}.",
        changes.before_total_samples,
        changes.after_total_samples,
        cycles_folded(&after.report)
    );
    let mut page = page(
        title,
        summary,
        &after.report,
        flame::inline(&svg)?,
        cycles,
        data,
    );
    page.diff = true;
    page.before_inputs = before.report.inputs.clone();
    render_page(&page, out)
}

/// The story first: the main recursion (the largest cycle worth a row),
/// its share, how much of it waits (off-CPU profiles), and where its time
/// goes (its top three exits, as shares of its own time).
fn story(report: &Report) -> Option<String> {
    let total = report.total_samples;
    let main = report.cycles.iter().find(|c| !c.is_trivial(total))?;
    let of = match report.unit {
        Unit::Samples => "of the samples",
        Unit::Microseconds => "of the wall-clock time",
    };
    let waiting = match main.off_cpu {
        0 => String::new(),
        off => format!(" ({:.0} % of it waiting)", percent(off, main.samples)),
    };
    let exits: Vec<String> = main
        .exits
        .iter()
        .take(3)
        .map(|exit| {
            format!(
                "{} ({:.0} %)",
                exit.name,
                percent(exit.samples, main.samples)
            )
        })
        .collect();
    let goes = match exits.is_empty() {
        true => "its time is its own".to_string(),
        false => format!("its time goes to {}", exits.join(", ")),
    };
    Some(format!(
        "The main recursion is {}: {:.1} % {of}{waiting}; {goes}.",
        display_name(main),
        main.percent
    ))
}

/// The line under the page's title.
fn summary(report: &Report) -> String {
    let n = report.cycles.len();
    format!(
        "{n} recursion cycle{} in {} samples. In the flame graph each folded cycle is one blue frame; below, each cycle's own call graph.",
        if n == 1 { "" } else { "s" },
        report.total_samples
    )
}
