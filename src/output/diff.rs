//! The differential flame graph of two profiles folded with one cycle set.
//!
//! Both sides are written as folded text, paired stack by stack by inferno's
//! differential support (`inferno-diff-folded`: `STACK BEFORE AFTER`), and
//! drawn by inferno: widths are the after side's samples, red frames grew,
//! blue ones shrank.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use inferno::differential;

use crate::engine::Analysis;
use crate::files::write_output;
use crate::files::write_stdout;
use crate::output::ReportFormat;
use crate::output::diff_report::DiffReport;
use crate::output::folded::write_folded;
use crate::output::html::write_diff_page;
use crate::output::render::{RenderOptions, Titles, cycles_folded, render_lines};
use crate::output::report_text::shorten;
use crate::output::speedscope::write_speedscope_diff;
use crate::source::Source;

/// The widest a side's list of inputs is written in the subtitle.
const SIDE_WIDTH: usize = 40;

/// How the two sides are compared.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Scale the before side's counts to the after side's total, as
    /// `inferno-diff-folded --normalize` does.
    pub normalize: bool,
    /// Never scale, even where the totals differ by more than a tenth
    /// (`--no-normalize`).
    pub no_normalize: bool,
    /// What the before side was read from, for the subtitle.
    pub before_name: String,
    /// What the after side was read from, for the subtitle.
    pub after_name: String,
    /// Where the differential flame graph goes.
    pub output: PathBuf,
    /// Where the HTML page goes, if anywhere.
    pub html: Option<PathBuf>,
    /// Where both sides go as one speedscope file, if anywhere.
    pub speedscope: Option<PathBuf>,
    /// How the diff report is printed on standard output.
    pub format: ReportFormat,
    /// Every input of both sides: never written over.
    pub inputs: Vec<Source>,
}

/// Writes the differential flame graph of the two analyses (before, after)
/// to `diff.output` (and the HTML page to `diff.html`, both sides to
/// `diff.speedscope`, if asked), then prints the diff report to standard
/// output (as `autofold report` does: nothing else is written there, so
/// `--format json` can be piped to a script).
pub fn write_diff(analyses: &[Analysis], diff: &DiffOptions, render: &RenderOptions) -> Result<()> {
    let [before, after] = analyses else {
        panic!("a diff has two sides, not {}", analyses.len());
    };
    let diff = &DiffOptions {
        normalize: diff.normalize || (!diff.no_normalize && totals_differ(before, after)),
        ..diff.clone()
    };
    write_output(&diff.output, &diff.inputs, |out| {
        render_diff(before, after, diff, render, out)
    })?;
    if let Some(path) = &diff.html {
        write_output(path, &diff.inputs, |out| {
            write_diff_page(before, after, diff, render, out)
        })?;
    }
    if let Some(path) = &diff.speedscope {
        write_output(path, &diff.inputs, |out| {
            write_speedscope_diff(before, after, out)
        })?;
    }
    let report = DiffReport::new(before, after);
    write_stdout(|out| match diff.format {
        ReportFormat::Text => report.write_text(out),
        ReportFormat::Json => report.write_json(out),
    })
}

/// How far apart the two sides' totals may be (as a share of the larger)
/// before the before side is scaled to the after side's total by default.
pub const NORMALIZE_ABOVE: f64 = 0.10;

/// Whether the totals of `before` and `after` differ by more than
/// [`NORMALIZE_ABOVE`]: their counts then compare recordings of different
/// lengths, not what changed, and the diff is normalised.
pub fn totals_differ(before: &Analysis, after: &Analysis) -> bool {
    let (b, a) = (
        before.report.total_samples as f64,
        after.report.total_samples as f64,
    );
    (a - b).abs() > NORMALIZE_ABOVE * a.max(b)
}

/// Renders the differential flame graph of `before` → `after` (analysed
/// together, so their cycle frames have the same names) into `out`.
pub fn render_diff(
    before: &Analysis,
    after: &Analysis,
    diff: &DiffOptions,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let lines = differential_lines(before, after, diff.normalize)?;
    let titles = Titles {
        title: format!("Differential flame graph: {}", cycles_folded(&after.report)),
        subtitle: Some(subtitle(diff)),
    };
    render_lines(&lines, &after.report.cycles, &[], &titles, options, out)
}

/// `STACK BEFORE AFTER` lines of the two folded profiles, by inferno.
fn differential_lines(
    before: &Analysis,
    after: &Analysis,
    normalize: bool,
) -> io::Result<Vec<String>> {
    let (mut before_text, mut after_text, mut paired) = (Vec::new(), Vec::new(), Vec::new());
    write_folded(&before.folded, &mut before_text)?;
    write_folded(&after.folded, &mut after_text)?;
    let options = differential::Options {
        normalize,
        strip_hex: false,
    };
    differential::from_readers(options, &before_text[..], &after_text[..], &mut paired)?;
    let paired = String::from_utf8(paired).map_err(io::Error::other)?;
    Ok(paired.lines().map(String::from).collect())
}

/// `BEFORE → AFTER: widths as after; red grew, blue shrank`.
fn subtitle(diff: &DiffOptions) -> String {
    let mut line = format!(
        "{} → {}: widths as after; red grew, blue shrank",
        shorten(&diff.before_name, SIDE_WIDTH),
        shorten(&diff.after_name, SIDE_WIDTH)
    );
    if diff.normalize {
        line.push_str(" (before scaled to after's total)");
    }
    line
}
