//! Writing results: folded stacks, the cycle report and the flame graph,
//! atomically and never over an input.

pub mod cycle_titles;
pub mod diff;
pub mod diff_report;
pub mod files;
pub mod folded;
pub mod pprof;
pub mod progress;
pub mod render;
pub mod report;
pub mod report_text;

use std::path::PathBuf;

use anyhow::Result;

use crate::engine::Analysis;
use crate::input::Source;
pub use crate::output::files::{write_atomically, write_stdout};
pub use crate::output::folded::write_folded;
use crate::output::pprof::write_pprof;
use crate::output::render::{RenderOptions, render_svg};

/// Tells the user something worth knowing that is not an error, on
/// standard error, as `autofold: note: …`.
pub fn note(message: impl std::fmt::Display) {
    eprintln!("autofold: note: {message}");
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
    /// How the flame graph looks.
    pub render: RenderOptions,
}

/// Writes every export of `analysis`; none may overwrite one of `inputs`.
pub fn export(analysis: &Analysis, exports: &Exports, inputs: &[Source]) -> Result<()> {
    if let Some(path) = &exports.svg {
        write_atomically(path, inputs, |out| {
            render_svg(&analysis.folded, &analysis.report, &exports.render, out)
        })?;
    }
    if let Some(path) = &exports.report {
        write_atomically(path, inputs, |out| analysis.report.write_json(out))?;
    }
    if let Some(path) = &exports.pprof {
        write_atomically(path, inputs, |out| write_pprof(&analysis.folded, out))?;
    }
    match &exports.folded {
        Some(Destination::File(path)) => {
            write_atomically(path, inputs, |out| write_folded(&analysis.folded, out))
        }
        Some(Destination::Stdout) => write_stdout(|out| write_folded(&analysis.folded, out)),
        None => Ok(()),
    }
}
