//! The flame graph with one cycle unfolded, for each cycle's "unfold"
//! button: the profile folded again with that cycle left out (its members'
//! tower back, as recorded; every other cycle still folded), drawn by
//! inferno as the page's own flame graph is, gzipped and embedded in the
//! page as base64. The page's script swaps it in and back (browsers
//! decompress gzip natively: `DecompressionStream`).

use std::io::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::engine::Analysis;
use crate::engine::report::Report;
use crate::output::html::flame;
use crate::output::render::{RenderOptions, render_svg};

/// At most this many cycles (those with the most samples) can be unfolded.
pub const MAX_UNFOLDED: usize = 8;

/// Unfolded flame graphs stop being added once those embedded reach this
/// many bytes (base64), so that a page stays a few megabytes.
pub const UNFOLDED_BUDGET: usize = 4 << 20;

/// One cycle's unfolded flame graph.
#[derive(Debug, Clone)]
pub struct Unfolded {
    /// The cycle left unfolded.
    pub cycle: String,
    /// Its flame graph: inline SVG, gzipped, base64.
    pub graph: String,
    /// The report as that flame graph was drawn with (the cycle marked not
    /// folded): its cycle frames are numbered by the folded cycles in it.
    pub report: Report,
}

/// The unfolded flame graphs of `analysis`'s largest non-trivial folded
/// cycles, drawn with `render`; none unless the engine kept the profile
/// before the fold (`EngineOptions::refold`).
pub fn unfolded_graphs(analysis: &Analysis, render: &RenderOptions) -> io::Result<Vec<Unfolded>> {
    let Some(refold) = &analysis.refold else {
        return Ok(Vec::new());
    };
    let report = &analysis.report;
    let candidates = report
        .cycles
        .iter()
        .filter(|c| c.folded && !c.is_trivial(report.total_samples))
        .take(MAX_UNFOLDED);
    let mut graphs = Vec::new();
    let mut embedded = 0;
    for cycle in candidates {
        let Some(profile) = refold.unfolding(&cycle.name) else {
            continue;
        };
        let mut unfolded_report = report.clone();
        for c in &mut unfolded_report.cycles {
            c.folded &= c.name != cycle.name;
        }
        let options = RenderOptions {
            title: Some(format!(
                "{}: {} unfolded",
                render.title.as_deref().unwrap_or("Flame graph"),
                cycle.name
            )),
            ..render.clone()
        };
        let mut svg = Vec::new();
        render_svg(&profile, &unfolded_report, &options, &mut svg)?;
        let graph = STANDARD.encode(gzipped(flame::inline(&svg)?.as_bytes())?);
        embedded += graph.len();
        if embedded > UNFOLDED_BUDGET {
            break;
        }
        graphs.push(Unfolded {
            cycle: cycle.name.clone(),
            graph,
            report: unfolded_report,
        });
    }
    Ok(graphs)
}

fn gzipped(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}
