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
use crate::profile::{OFF_CPU_FRAME, Profile};

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
    let waiting = waiting_frames(folded);
    // Counts are named by the profile's unit unless `--count-name` says.
    let mut options = options.clone();
    if options.count_name == defaults::COUNT_NAME {
        options.count_name = report.unit.name().to_string();
    }
    render_lines(&lines, &report.cycles, &waiting, &title, &options, out)
}

/// The frames (by name) whose time is mostly waiting: more of it on
/// stacks that end in `[off-cpu]` than on stacks on the CPU. They are
/// drawn blue-grey, as off-CPU flame graphs are. Empty unless the profile
/// was recorded with `--off-cpu`.
pub fn waiting_frames(folded: &Profile) -> Vec<String> {
    let Some(marker) = folded.frames.get(OFF_CPU_FRAME) else {
        return Vec::new();
    };
    let frames = folded.frames.len();
    let (mut waits, mut runs) = (vec![0u64; frames], vec![0u64; frames]);
    let mut seen = vec![usize::MAX; frames];
    for (index, (stack, count)) in folded.stacks().enumerate() {
        let time = match stack.last() == Some(&marker) {
            true => &mut waits,
            false => &mut runs,
        };
        for &frame in stack.iter().skip(1) {
            // Once per stack, however often it recurs there.
            if std::mem::replace(&mut seen[frame as usize], index) != index {
                time[frame as usize] += count;
            }
        }
    }
    (0..frames)
        .filter(|&f| waits[f] > runs[f])
        .map(|f| folded.frames.name(f as u32).to_string())
        .collect()
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
/// their change) and their tooltips list the members; `waiting` frames
/// (see [`waiting_frames`]) are blue-grey.
pub fn render_lines(
    lines: &[String],
    cycles: &[CycleReport],
    waiting: &[String],
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
    let mut palette_map = cycle_palette(&cycles, waiting);
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

/// The colours set by name: waiting frames blue-grey, then every cycle's
/// frame [`CYCLE_COLOR`] (a cycle that waits is still one colour).
fn cycle_palette(cycles: &[&CycleReport], waiting: &[String]) -> PaletteMap {
    let mut map = PaletteMap::default();
    for name in waiting {
        map.insert(name, waiting_color(name));
    }
    for cycle in cycles {
        map.insert(&cycle.name, CYCLE_COLOR);
    }
    map
}

/// A blue-grey for a waiting frame, its shade varied by its name so that
/// neighbours stand apart.
fn waiting_color(name: &str) -> Color {
    let shade = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 40;
    let shade = shade as u8;
    Color {
        r: 100 + shade,
        g: 115 + shade,
        b: 150 + shade,
    }
}
