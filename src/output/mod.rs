//! Writing results: folded stacks, the cycle report and the flame graph,
//! atomically and never over an input.

pub mod cycle_titles;
pub mod diff;
pub mod diff_report;
pub mod firefox;
pub mod firefox_libraries;
pub mod folded;
pub mod html;
pub mod narrow;
pub mod pprof;
pub mod render;
pub mod report_json;
pub mod report_text;
pub mod speedscope;
pub mod viewer_model;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::engine::Analysis;
use crate::engine::report::Report;
use crate::files::Target;
pub use crate::files::{write_output, write_stdout};
use crate::output::firefox::{gzipped, write_firefox};
pub use crate::output::folded::write_folded;
use crate::output::html::write_page;
use crate::output::pprof::write_pprof;
use crate::output::render::{RenderOptions, render_svg};
use crate::output::speedscope::write_speedscope;
use crate::source::Source;

/// How a report is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A table for people.
    #[default]
    Text,
    /// JSON, for scripts (schema in docs/REPORT.md).
    Json,
}

/// Prints `report` to standard output, as text or JSON.
pub fn print_report(report: &Report, format: ReportFormat) -> Result<()> {
    write_stdout(|out| match format {
        ReportFormat::Text => report.write_text(out),
        ReportFormat::Json => report.write_json(out),
    })
}

/// Where the folded stacks go.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file, written atomically.
    File(PathBuf),
}

/// Everything a command writes besides its messages.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    /// The folded stacks.
    pub folded: Option<Destination>,
    /// The flame graph (SVG).
    pub svg: Option<PathBuf>,
    /// The cycle report (JSON).
    pub report: Option<PathBuf>,
    /// The folded profile as gzipped pprof.
    pub pprof: Option<PathBuf>,
    /// The HTML page: flame graph, cycle table, each cycle's call graph.
    pub html: Option<PathBuf>,
    /// The folded profile in speedscope's format (JSON).
    pub speedscope: Option<PathBuf>,
    /// The folded profile in the Firefox Profiler's processed format
    /// (JSON, gzipped where the name ends in `.gz`).
    pub firefox: Option<PathBuf>,
    /// How the flame graph looks.
    pub render: RenderOptions,
}

impl Exports {
    /// Whether another export than the flame graph names the file `svg`
    /// writes to, links followed ([`Target::of`]); also where `svg` cannot
    /// be resolved, so that nothing is written at once that might clash.
    fn written_elsewhere(&self, svg: &Path) -> bool {
        let folded = match &self.folded {
            Some(Destination::File(path)) => Some(path),
            _ => None,
        };
        let Ok(svg) = Target::of(svg) else {
            return true;
        };
        [
            folded,
            self.report.as_ref(),
            self.pprof.as_ref(),
            self.html.as_ref(),
            self.speedscope.as_ref(),
            self.firefox.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|other| Target::of(other).is_ok_and(|other| other == svg))
    }
}

/// Writes every export of `analysis`; none may overwrite one of `inputs`.
pub fn export(analysis: &Analysis, exports: &Exports, inputs: &[Source]) -> Result<()> {
    let Some(svg) = &exports.svg else {
        return write_the_rest(analysis, exports, inputs);
    };
    let draw = || {
        write_output(svg, inputs, |out| {
            render_svg(&analysis.folded, &analysis.report, &exports.render, out)
        })
    };
    if exports.written_elsewhere(svg) {
        // One file named twice: written in turn, the last one stays.
        draw()?;
        return write_the_rest(analysis, exports, inputs);
    }
    // The flame graph is drawn on a thread of its own while the other
    // files are written: on a large profile each takes a tenth of a second.
    let (drawn, rest) = std::thread::scope(|scope| {
        let drawing = scope.spawn(draw);
        let rest = write_the_rest(analysis, exports, inputs);
        (
            drawing.join().expect("the flame graph's thread panicked"),
            rest,
        )
    });
    drawn?;
    rest
}

/// Writes every export but the flame graph.
fn write_the_rest(analysis: &Analysis, exports: &Exports, inputs: &[Source]) -> Result<()> {
    if let Some(path) = &exports.report {
        write_output(path, inputs, |out| analysis.report.write_json(out))?;
    }
    if let Some(path) = &exports.html {
        write_output(path, inputs, |out| {
            write_page(analysis, &exports.render, out)
        })?;
    }
    if let Some(path) = &exports.pprof {
        write_output(path, inputs, |out| write_pprof(&analysis.folded, out))?;
    }
    if let Some(path) = &exports.speedscope {
        write_output(path, inputs, |out| write_speedscope(analysis, out))?;
    }
    if let Some(path) = &exports.firefox {
        write_output(path, inputs, |out| {
            write_firefox(analysis, gzipped(path), out)
        })?;
    }
    match &exports.folded {
        Some(Destination::File(path)) => {
            write_output(path, inputs, |out| write_folded(&analysis.folded, out))
        }
        Some(Destination::Stdout) => write_stdout(|out| write_folded(&analysis.folded, out)),
        None => Ok(()),
    }
}
