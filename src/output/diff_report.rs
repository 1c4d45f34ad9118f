//! What changed between two profiles folded with one cycle set: each
//! cycle's share of the samples before and after, and the frames whose self
//! time changed most; as JSON (schema in `docs/REPORT.md`) or as text.
//!
//! Shares are percentages of each side's own total, so two recordings of
//! different lengths compare as they are, and `--normalize` (which scales
//! only the flame graph's counts) does not change them.

use std::cmp::Ordering;
use std::io::{self, Write};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::engine::Analysis;
use crate::engine::report::percent;
use crate::output::report_text::{WIDTH, shorten};
use crate::profile::printed;

/// How many frames the self-time list keeps.
pub const TOP_FRAMES: usize = 15;

/// How many cycles the text report lists (the JSON lists all).
const TEXT_CYCLES: usize = 20;

/// The difference between two profiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Samples in the before profile.
    pub before_total_samples: u64,
    /// Samples in the after profile.
    pub after_total_samples: u64,
    /// Every folded cycle, largest change of share first.
    pub cycles: Vec<CycleChange>,
    /// The frames whose share of self time changed most, largest first, at
    /// most [`TOP_FRAMES`].
    pub self_time: Vec<FrameChange>,
}

/// How one cycle's share changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleChange {
    /// The cycle's frame name, the same on both sides.
    pub name: String,
    /// Its member functions, sorted by name.
    pub members: Vec<String>,
    /// Its samples (stacks through it) and share on each side.
    #[serde(flatten)]
    pub shares: Shares,
}

/// How one frame's self time changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameChange {
    /// The frame, as written in the folded output.
    pub name: String,
    /// Its self samples (samples whose leaf it is) and share on each side.
    #[serde(flatten)]
    pub shares: Shares,
}

/// Samples and shares on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shares {
    /// Samples before.
    pub before_samples: u64,
    /// `before_samples` as a percentage of all samples before.
    pub before_percent: f64,
    /// Samples after.
    pub after_samples: u64,
    /// `after_samples` as a percentage of all samples after.
    pub after_percent: f64,
    /// `after_percent - before_percent`, in percentage points.
    pub change: f64,
}

impl Shares {
    /// `before` and `after` are (samples, total samples) of each side.
    fn new(before: (u64, u64), after: (u64, u64)) -> Self {
        let before_percent = percent(before.0, before.1);
        let after_percent = percent(after.0, after.1);
        Self {
            before_samples: before.0,
            before_percent,
            after_samples: after.0,
            after_percent,
            change: after_percent - before_percent,
        }
    }
}

impl DiffReport {
    /// Compares `before` with `after`, two analyses made together (one
    /// cycle set, so a cycle has one name on both sides).
    pub fn new(before: &Analysis, after: &Analysis) -> Self {
        let totals = (before.report.total_samples, after.report.total_samples);
        let before_cycles: FxHashMap<&str, u64> = before
            .report
            .cycles
            .iter()
            .map(|c| (c.name.as_str(), c.samples))
            .collect();
        let mut cycles: Vec<CycleChange> = after
            .report
            .cycles
            .iter()
            .filter(|c| c.folded)
            .map(|c| CycleChange {
                name: c.name.clone(),
                members: c.members.clone(),
                shares: Shares::new(
                    (
                        before_cycles.get(c.name.as_str()).copied().unwrap_or(0),
                        totals.0,
                    ),
                    (c.samples, totals.1),
                ),
            })
            .collect();
        cycles.sort_by(|a, b| by_change(&a.shares, &b.shares).then_with(|| a.name.cmp(&b.name)));
        let mut self_time = self_time_changes(before, after);
        self_time.truncate(TOP_FRAMES);
        DiffReport {
            before_total_samples: totals.0,
            after_total_samples: totals.1,
            cycles,
            self_time,
        }
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }

    /// Writes the report as text for people, at most 80 columns wide.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{} samples before, {} after; recursion cycles found on both together",
            self.before_total_samples, self.after_total_samples
        )?;
        let shown = self.cycles.len().min(TEXT_CYCLES);
        let rows: Vec<(&str, &Shares)> = self.cycles[..shown]
            .iter()
            .map(|c| (c.name.as_str(), &c.shares))
            .collect();
        write_table(out, "cycle", "Cycles (share of all samples)", &rows)?;
        if self.cycles.len() > shown {
            let more = self.cycles.len() - shown;
            let s = if more == 1 { "" } else { "s" };
            writeln!(
                out,
                "  + {more} cycle{s} with smaller changes (--format json lists all)"
            )?;
        }
        let rows: Vec<(&str, &Shares)> = self
            .self_time
            .iter()
            .map(|c| (c.name.as_str(), &c.shares))
            .collect();
        write_table(out, "frame", "Self time (share of all samples)", &rows)
    }
}

/// Largest absolute change first.
fn by_change(a: &Shares, b: &Shares) -> Ordering {
    b.change
        .abs()
        .partial_cmp(&a.change.abs())
        .unwrap_or(Ordering::Equal)
}

/// Self samples (samples whose leaf it is) of every frame on both sides,
/// largest change of share first (ties by name).
fn self_time_changes(before: &Analysis, after: &Analysis) -> Vec<FrameChange> {
    let mut counts: FxHashMap<&str, (u64, u64)> = FxHashMap::default();
    for (side, analysis) in [before, after].into_iter().enumerate() {
        let profile = &analysis.folded;
        for (stack, count) in profile.stacks() {
            if let Some(&leaf) = printed(stack).last() {
                let slot = counts.entry(profile.frames.name(leaf)).or_default();
                if side == 0 {
                    slot.0 += count;
                } else {
                    slot.1 += count;
                }
            }
        }
    }
    let totals = (before.report.total_samples, after.report.total_samples);
    let mut changes: Vec<FrameChange> = counts
        .into_iter()
        .map(|(name, (b, a))| FrameChange {
            name: name.to_string(),
            shares: Shares::new((b, totals.0), (a, totals.1)),
        })
        .collect();
    changes.sort_by(|a, b| by_change(&a.shares, &b.shares).then_with(|| a.name.cmp(&b.name)));
    changes
}

/// A table of changes under a heading; names shortened to fit [`WIDTH`].
fn write_table(
    out: &mut dyn Write,
    what: &str,
    measure: &str,
    rows: &[(&str, &Shares)],
) -> io::Result<()> {
    writeln!(out, "\n{measure}, largest change first:")?;
    if rows.is_empty() {
        return writeln!(out, "  none");
    }
    writeln!(out, "   before     after    change  {what}")?;
    for (name, shares) in rows {
        let head = format!(
            "  {:>6.2}%  {:>7.2}%  {:>+8.2}  ",
            shares.before_percent, shares.after_percent, shares.change
        );
        writeln!(out, "{head}{}", shorten(name, WIDTH - head.len()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineOptions, analyse_together};
    use crate::profile::{ProfileBuilder, ReadProfile};

    fn profile(lines: &[(&str, u64)]) -> ReadProfile {
        let mut p = ProfileBuilder::new();
        for (line, count) in lines {
            p.push_names(line.split(';'), *count);
        }
        p.finish()
    }

    fn diff(before: &[(&str, u64)], after: &[(&str, u64)]) -> DiffReport {
        let both = analyse_together(
            vec![profile(before), profile(after)],
            &EngineOptions::default(),
        );
        DiffReport::new(&both[0], &both[1])
    }

    #[test]
    fn cycle_shares_and_self_time_are_compared_largest_change_first() {
        let report = diff(
            &[("p;main;a;b;a;b;work", 2), ("p;main;idle", 8)],
            &[("p;main;a;b;a;b;work", 6), ("p;main;idle", 4)],
        );
        assert_eq!(report.cycles.len(), 1);
        let cycle = &report.cycles[0];
        assert_eq!(cycle.name, "{a,b}");
        assert_eq!(
            (cycle.shares.before_percent, cycle.shares.after_percent),
            (20.0, 60.0)
        );
        assert!((cycle.shares.change - 40.0).abs() < 1e-9);
        let names: Vec<&str> = report.self_time.iter().map(|c| c.name.as_str()).collect();
        // Both moved by 40 points: ties by name.
        assert_eq!(names, ["idle", "work"]);
        assert!(report.self_time[0].shares.change < 0.0);
    }

    #[test]
    fn a_cycle_only_one_side_has_is_listed_with_zero_on_the_other() {
        let report = diff(&[("p;main;work", 5)], &[("p;main;a;a;work", 5)]);
        let cycle = &report.cycles[0];
        assert_eq!(cycle.name, "a");
        assert_eq!(cycle.shares.before_samples, 0);
        assert_eq!(cycle.shares.after_percent, 100.0);
    }

    #[test]
    fn text_fits_in_80_columns() {
        let long = format!(
            "p;main;{};leaf",
            "very::long::module::path::".repeat(5) + "f"
        );
        let report = diff(&[(long.as_str(), 1)], &[("p;main;leaf", 1)]);
        let mut out = Vec::new();
        report.write_text(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
    }
}
