//! The folded flame graph, rendered by inferno, with cycle frames coloured
//! apart and a tooltip listing each cycle's members (`cycle_titles.rs`).

use std::io::{self, Write};

use inferno::flamegraph;
use inferno::flamegraph::color::{Color, PaletteMap};

pub use inferno::flamegraph::{Palette, defaults};

use crate::engine::report::{CycleReport, Report};
use crate::output::cycle_titles::{add_members, cycle_marks};
use crate::output::folded::folded_lines;
use crate::output::narrow::drawn_lines;
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
    /// Reverse every stack (leaf first): what calls the leaf functions.
    pub reverse: bool,
    /// Notes embedded in the SVG (a comment at its top).
    pub notes: String,
    /// The font size in points.
    pub font_size: usize,
    /// The height of a frame in pixels.
    pub frame_height: usize,
    /// What a count is called in tooltips ("samples").
    pub count_name: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            title: None,
            palette: Palette::default(),
            inverted: false,
            min_width: 0.1,
            image_width: None,
            reverse: false,
            notes: String::new(),
            font_size: defaults::FONT_SIZE,
            frame_height: defaults::FRAME_HEIGHT,
            count_name: defaults::COUNT_NAME.to_string(),
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
    // Reversed, inferno sorts the stacks anew: which frames merge is known
    // only then.
    let lines = match options.reverse || options.min_width <= 0.0 || folded.total_samples() == 0 {
        true => folded_lines(folded),
        false => drawn_lines(folded, options.min_width),
    };
    let title = Titles {
        title: default_title(report),
        subtitle: None,
    };
    render_lines(&lines, &report.cycles, &title, options, out)
}

/// The title inferno writes when `--title` is not given, and a subtitle.
#[derive(Debug, Clone)]
pub struct Titles {
    /// The default title.
    pub title: String,
    /// A line under the title, if any.
    pub subtitle: Option<String>,
}

/// Renders folded lines (`frame;frame;... COUNT`, or `... BEFORE AFTER` for
/// a differential flame graph) into `out`: the frames of the folded cycles
/// in `cycles` are coloured apart (unless a differential colours them by
/// their change) and their tooltips list the members.
pub fn render_lines(
    lines: &[String],
    cycles: &[CycleReport],
    titles: &Titles,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if lines.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no stacks to draw",
        ));
    }
    let cycles: Vec<&CycleReport> = cycles.iter().filter(|c| c.folded).collect();
    let mut palette_map = cycle_palette(&cycles);
    let mut opt = flamegraph::Options::default();
    opt.title = options.title.clone().unwrap_or(titles.title.clone());
    opt.subtitle = titles.subtitle.clone();
    opt.colors = options.palette;
    opt.palette_map = Some(&mut palette_map);
    opt.func_frameattrs = cycle_marks(&cycles)?;
    opt.direction = if options.inverted {
        flamegraph::Direction::Inverted
    } else {
        flamegraph::Direction::Straight
    };
    opt.min_width = options.min_width;
    opt.image_width = options.image_width;
    opt.reverse_stack_order = options.reverse;
    // A comment cannot hold `--`.
    opt.notes = options.notes.replace("--", "- -");
    opt.font_size = options.font_size;
    opt.frame_height = options.frame_height;
    opt.count_name = options.count_name.clone();
    opt.deterministic = true;
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), &mut svg)?;
    add_members(&svg, &cycles, out)
}

/// "Flame graph: N recursion cycles folded".
pub fn default_title(report: &Report) -> String {
    format!("Flame graph: {}", cycles_folded(report))
}

/// "N recursion cycles folded".
pub fn cycles_folded(report: &Report) -> String {
    match report.cycles.iter().filter(|c| c.folded).count() {
        1 => "1 recursion cycle folded".to_string(),
        n => format!("{n} recursion cycles folded"),
    }
}

fn cycle_palette(cycles: &[&CycleReport]) -> PaletteMap {
    let mut map = PaletteMap::default();
    for cycle in cycles {
        map.insert(&cycle.name, CYCLE_COLOR);
    }
    map
}
