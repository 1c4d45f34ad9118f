//! The folded flame graph, rendered by inferno, with cycle frames coloured
//! apart and a tooltip listing each cycle's members.

use std::io::{self, Write};

use inferno::flamegraph::color::{Color, PaletteMap};
use inferno::flamegraph::{self, FuncFrameAttrsMap};

pub use inferno::flamegraph::Palette;

use crate::output::folded::folded_lines;
use crate::output::report::{CycleReport, Report};
use crate::profile::Profile;

/// The colour of every cycle frame: a blue that no warm palette uses.
pub const CYCLE_COLOR: Color = Color {
    r: 90,
    g: 150,
    b: 235,
};

/// How the flame graph looks.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The title; by default it says how many cycles were folded.
    pub title: Option<String>,
    /// inferno's palette for frames that are not cycles.
    pub palette: Palette,
    /// Icicle graph: roots at the top.
    pub inverted: bool,
    /// Frames narrower than this many pixels are left out.
    pub min_width: f64,
    /// The image width in pixels; inferno's default when `None`.
    pub image_width: Option<usize>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            title: None,
            palette: Palette::default(),
            inverted: false,
            min_width: 0.1,
            image_width: None,
        }
    }
}

/// Renders `folded` as an SVG flame graph into `out`.
pub fn render_svg(
    folded: &Profile,
    report: &Report,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut palette_map = cycle_palette(report);
    let mut opt = flamegraph::Options::default();
    opt.title = options
        .title
        .clone()
        .unwrap_or_else(|| default_title(report));
    opt.colors = options.palette;
    opt.palette_map = Some(&mut palette_map);
    opt.func_frameattrs = cycle_tooltips(report)?;
    opt.direction = if options.inverted {
        flamegraph::Direction::Inverted
    } else {
        flamegraph::Direction::Straight
    };
    opt.min_width = options.min_width;
    opt.image_width = options.image_width;
    opt.deterministic = true;
    let lines = folded_lines(folded);
    if lines.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no stacks to draw",
        ));
    }
    flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), out)
}

/// "Flame graph: N recursion cycles folded".
pub fn default_title(report: &Report) -> String {
    match folded_cycles(report).count() {
        1 => "Flame graph: 1 recursion cycle folded".to_string(),
        n => format!("Flame graph: {n} recursion cycles folded"),
    }
}

fn cycle_palette(report: &Report) -> PaletteMap {
    let mut map = PaletteMap::default();
    for cycle in folded_cycles(report) {
        map.insert(&cycle.name, CYCLE_COLOR);
    }
    map
}

/// The cycles that are frames of the flame graph.
fn folded_cycles(report: &Report) -> impl Iterator<Item = &CycleReport> {
    report.cycles.iter().filter(|c| c.folded)
}

/// A `title` attribute per cycle frame: its name, sample count and members.
fn cycle_tooltips(report: &Report) -> io::Result<FuncFrameAttrsMap> {
    let mut spec = String::new();
    for cycle in folded_cycles(report) {
        let title = format!(
            "{} — recursion cycle of {} ({} samples): {}",
            cycle.name,
            cycle.members.len(),
            cycle.samples,
            cycle.members.join(", ")
        );
        spec.push_str(&format!(
            "{}\ttitle={}\n",
            cycle.name,
            title.replace(['\t', '\n'], " ")
        ));
    }
    FuncFrameAttrsMap::from_reader(spec.as_bytes())
}
