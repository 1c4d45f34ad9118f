//! The cycle report: what was folded, as a text table or JSON.
//!
//! The JSON keys `total_samples` and `cycles[].name`, `.members`, `.samples`
//! are a stable interface (see `docs/REPORT.md`); others may be added, never
//! renamed.

use std::io::{self, Write};

use serde::Serialize;

use crate::fold::Folded;
use crate::graph::Cycles;
use crate::profile::{FrameId, Frames};
use crate::stats::CycleStats;

/// How many exits each cycle lists.
pub const TOP_EXITS: usize = 10;

/// Everything the report says about a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Samples in the whole profile.
    pub total_samples: u64,
    /// The cycles, most samples first.
    pub cycles: Vec<CycleReport>,
}

/// What the report says about one cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleReport {
    /// The cycle's frame name in the folded output.
    pub name: String,
    /// The member functions, sorted by name.
    pub members: Vec<String>,
    /// Samples of stacks that pass through the cycle (once per stack).
    pub samples: u64,
    /// `samples` as a percentage of all samples.
    pub percent: f64,
    /// Each member's self samples (samples whose leaf it is), members order.
    pub member_self_samples: Vec<NamedCount>,
    /// The most frames one run of the cycle replaced.
    pub max_depth: usize,
    /// The sample-weighted mean frames a run replaced.
    pub mean_depth: f64,
    /// The frames that call into the cycle, most samples first.
    pub entries: Vec<NamedCount>,
    /// The callees outside the cycle, most samples first, at most [`TOP_EXITS`].
    pub exits: Vec<NamedCount>,
}

/// A frame name with a sample count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedCount {
    /// The frame, as written in the folded output.
    pub name: String,
    /// Samples.
    pub samples: u64,
}

impl Report {
    /// Builds the report from the fold's figures.
    pub fn new(
        folded: &Folded,
        cycles: &Cycles,
        cycle_frames: &[FrameId],
        total_samples: u64,
    ) -> Self {
        let frames = &folded.profile.frames;
        let mut reports: Vec<CycleReport> = cycles
            .iter()
            .zip(&folded.stats.cycles)
            .zip(cycle_frames)
            .map(|((cycle, stats), &frame)| CycleReport {
                name: frames.name(frame).to_string(),
                members: cycle
                    .members
                    .iter()
                    .map(|&m| frames.name(m).to_string())
                    .collect(),
                samples: stats.samples,
                percent: percent(stats.samples, total_samples),
                member_self_samples: member_self_samples(&cycle.members, stats, frames),
                max_depth: stats.max_depth,
                mean_depth: stats.mean_depth(),
                entries: ranked(&stats.entries, frames, usize::MAX),
                exits: ranked(&stats.exits, frames, TOP_EXITS),
            })
            .collect();
        reports.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
        Report {
            total_samples,
            cycles: reports,
        }
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }

    /// Writes the report as a text table for people.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{} recursion cycle{} in {} samples",
            self.cycles.len(),
            if self.cycles.len() == 1 { "" } else { "s" },
            self.total_samples
        )?;
        if self.cycles.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n  samples        %  max depth  mean depth  cycle")?;
        for cycle in &self.cycles {
            writeln!(
                out,
                "{:>9}  {:>6.2}%  {:>9}  {:>10.1}  {}",
                cycle.samples, cycle.percent, cycle.max_depth, cycle.mean_depth, cycle.name
            )?;
            writeln!(
                out,
                "           members (self): {}",
                list(&cycle.member_self_samples)
            )?;
            writeln!(out, "           entered from:   {}", list(&cycle.entries))?;
            writeln!(out, "           top exits:      {}", list(&cycle.exits))?;
        }
        Ok(())
    }
}

fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * part as f64 / total as f64
    }
}

fn member_self_samples(
    members: &[FrameId],
    stats: &CycleStats,
    frames: &Frames,
) -> Vec<NamedCount> {
    members
        .iter()
        .map(|m| NamedCount {
            name: frames.name(*m).to_string(),
            samples: stats.self_samples.get(m).copied().unwrap_or(0),
        })
        .collect()
}

/// The `limit` frames with the most samples, most first (ties by name).
fn ranked(
    counts: &rustc_hash::FxHashMap<FrameId, u64>,
    frames: &Frames,
    limit: usize,
) -> Vec<NamedCount> {
    let mut ranked: Vec<NamedCount> = counts
        .iter()
        .map(|(&f, &samples)| NamedCount {
            name: frames.name(f).to_string(),
            samples,
        })
        .collect();
    ranked.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
    ranked.truncate(limit);
    ranked
}

fn list(counts: &[NamedCount]) -> String {
    if counts.is_empty() {
        return "-".to_string();
    }
    counts
        .iter()
        .map(|c| format!("{} ({})", c.name, c.samples))
        .collect::<Vec<_>>()
        .join(", ")
}
