//! The cycle report: what was folded, re-rooted and why; the engine's
//! answer, written as JSON by `output/report_json.rs` and as text by
//! `output/report_text.rs`.
//!
//! The JSON keys `total_samples` and `cycles[].name`, `.members`, `.samples`
//! are a stable interface (see `docs/REPORT.md`); others may be added, never
//! renamed.

use serde::Serialize;

use crate::engine::fold::{FoldOptions, Folded};
use crate::engine::graph::Cycles;
use crate::engine::split::Split;
use crate::engine::stats::{CallStats, CycleStats, TruncationStats};
use crate::profile::{FrameId, Frames, Unit, printed};

/// How many exits each cycle lists.
pub const TOP_EXITS: usize = 10;

/// Everything the report says about a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What the counts count: `samples`, or `microseconds` of wall-clock
    /// time for an off-CPU profile (`record --off-cpu`).
    pub unit: Unit,
    /// Samples in the whole profile (in `unit`).
    pub total_samples: u64,
    /// The cycles, most samples first.
    pub cycles: Vec<CycleReport>,
    /// What happened to stacks that perf cut mid-recursion.
    pub truncation: TruncationReport,
    /// The inputs read, with the format detected in each and whether its
    /// first frames were taken for process names.
    pub inputs: Vec<InputReport>,
    /// Frames the call graph put in a cycle though they were never on a
    /// stack twice (they never recursed: `main` joined to a recursion by a
    /// function name they share), so they were kept out of every cycle.
    pub kept_out: Vec<String>,
}

/// One input, as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputReport {
    /// The file (`<stdin>` for standard input).
    pub source: String,
    /// The format detected from its content.
    pub format: String,
    /// Whether the first frame of its stacks was taken for a process name
    /// (see docs/INPUTS.md).
    pub root_labels: bool,
}

/// What the report says about one cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleReport {
    /// The cycle's frame name in the folded output.
    pub name: String,
    /// The member functions, sorted by name.
    pub members: Vec<String>,
    /// Samples of stacks that pass through the cycle (once per stack),
    /// stacks re-attached under it by re-rooting included: the width of
    /// its frames in the flame graph.
    pub samples: u64,
    /// Of `samples`, those of stacks cut in another cycle that re-rooting
    /// re-attached under an entry path through this cycle's frame.
    pub rerooted_under_samples: u64,
    /// `samples` as a percentage of all samples.
    pub percent: f64,
    /// Of `samples`, those of stacks on the CPU (in the report's unit).
    pub on_cpu: u64,
    /// Of `samples`, those of stacks waiting off the CPU (ending in
    /// `[off-cpu]`; 0 unless recorded with `--off-cpu`).
    pub off_cpu: u64,
    /// Whether its runs were folded (see `--max-cycle-members`).
    pub folded: bool,
    /// Each member's symbol (members order), where autofold knows which
    /// function a frame is: it tells apart members that print alike (two
    /// instances of one generic). Absent when no member has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_symbols: Option<Vec<Option<String>>>,
    /// Each member's source location (members order): `file:line` of the
    /// function, or `file` where the input gives no line, where the input
    /// says (debug info, a JIT runtime's names, py-spy, `.cpuprofile`,
    /// pprof). Absent when no member has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_sources: Option<Vec<Option<String>>>,
    /// The members the program's author wrote (see `docs/NAMING.md`), in
    /// `members` order.
    pub author_members: Vec<String>,
    /// Each member's self samples (samples whose leaf it is), members order.
    pub member_self_samples: Vec<NamedCount>,
    /// Each member's total samples (samples of stacks it is on as a
    /// member, once per stack however deep the recursion), members order.
    pub member_total_samples: Vec<NamedCount>,
    /// The most frames one run of the cycle replaced.
    pub max_depth: usize,
    /// The sample-weighted mean frames a run replaced.
    pub mean_depth: f64,
    /// The frames that call into the cycle, most samples first.
    pub entries: Vec<NamedCount>,
    /// The callees outside the cycle, most samples first, at most [`TOP_EXITS`].
    pub exits: Vec<NamedCount>,
    /// For cycles of more than 8 members: how to split it.
    pub split: Option<SplitReport>,
    /// Where the cycle looks welded to code above it by a shared name: a
    /// lone member above a frame outside the cycle, the cycle entered again
    /// further down, most samples first.
    pub looks_welded: Vec<WeldReport>,
    /// Who calls whom inside the cycle, where its runs begin and where they
    /// leave it: gathered only when asked (`--html` draws it), and not part
    /// of the JSON report.
    #[serde(skip)]
    pub calls: Option<CallsReport>,
}

/// Who calls whom inside one cycle: its call graph, with the frames around
/// it. Members are named by their index in [`CycleReport::members`] (two
/// members may print alike); every list is most samples first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallsReport {
    /// Each caller→callee pair of members, with the samples of stacks that
    /// make that call (once per stack).
    pub inside: Vec<MemberCall>,
    /// Each frame outside the cycle that calls into it (as written in the
    /// folded output) with the member its runs begin with, and the samples
    /// of those runs. Runs of stacks cut mid-recursion have no known
    /// caller and are left out.
    pub entering: Vec<BoundaryCall>,
    /// Each member that runs end with and the frame after it, outside the
    /// cycle, with the samples of those runs.
    pub leaving: Vec<BoundaryCall>,
}

/// A call from one member of a cycle to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberCall {
    /// The caller's index in the cycle's members.
    pub caller: usize,
    /// The callee's index in the cycle's members.
    pub callee: usize,
    /// Samples of stacks that make this call.
    pub samples: u64,
}

/// A call across a cycle's boundary: into a member, or out of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundaryCall {
    /// The frame outside the cycle, as written in the folded output.
    pub outside: String,
    /// The member's index in the cycle's members.
    pub member: usize,
    /// Samples of the runs that enter or leave this way.
    pub samples: u64,
}

/// A lone member of a cycle above a frame outside it, in stacks that enter
/// the cycle again further down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeldReport {
    /// The lone member.
    pub member: String,
    /// The frame right below it, outside the cycle.
    pub above: String,
    /// Samples of such stacks.
    pub samples: u64,
}

/// A frame name with a sample count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedCount {
    /// The frame, as written in the folded output.
    pub name: String,
    /// Samples.
    pub samples: u64,
}

/// How to split a giant cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitReport {
    /// The members to exclude.
    pub exclude: Vec<String>,
    /// The flags to paste: `--exclude '^name$'` for each.
    pub flags: String,
    /// The largest component left once they are excluded.
    pub largest_component_after: usize,
    /// The best bridges: each with the largest component left when it alone
    /// is excluded.
    pub ranking: Vec<BridgeReport>,
}

/// One candidate bridge member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BridgeReport {
    /// The member.
    pub name: String,
    /// The largest component left without it.
    pub largest_component: usize,
}

/// What re-rooting did with stacks that perf cut mid-recursion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TruncationReport {
    /// Samples of stacks that began mid-recursion.
    pub truncated_samples: u64,
    /// Of those, samples re-attached under an entry path.
    pub rerooted_samples: u64,
    /// Of those, samples grouped under `[truncated]`.
    pub grouped_samples: u64,
    /// Where stacks were re-attached.
    pub rerooted: Vec<RerootReport>,
    /// Samples grouped under `[truncated]`, per cycle.
    pub grouped: Vec<GroupReport>,
}

/// Samples re-attached under one entry path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RerootReport {
    /// The cycle the stacks began in.
    pub cycle: String,
    /// The frames from the root label down to the cycle's caller.
    pub entry_path: Vec<String>,
    /// Samples moved there.
    pub samples: u64,
}

/// Samples grouped under `[truncated]` for one cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupReport {
    /// The cycle the stacks began in.
    pub cycle: String,
    /// Samples grouped.
    pub samples: u64,
}

/// What the engine found before folding: the cycles, their frames, the
/// split suggestions and the author's members (indexed like the cycles;
/// `authors` by frame id).
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// The cycles.
    pub cycles: &'a Cycles,
    /// Each cycle's frame (its name).
    pub cycle_frames: &'a [FrameId],
    /// Each cycle's split suggestion.
    pub splits: &'a [Option<Split>],
    /// Per frame id, whether it is a member the author wrote.
    pub authors: &'a [bool],
}

impl Report {
    /// Builds the report from the fold's figures.
    pub fn new(folded: &Folded, found: &Found<'_>, options: &FoldOptions) -> Self {
        let Found {
            cycles,
            cycle_frames,
            splits,
            authors,
        } = *found;
        let frames = &folded.profile.frames;
        let total_samples = folded.profile.total_samples();
        let limit = options.max_cycle_members.unwrap_or(usize::MAX);
        let mut reports: Vec<CycleReport> = cycles
            .iter()
            .zip(&folded.stats.cycles)
            .zip(cycle_frames)
            .zip(splits)
            .map(|(((cycle, stats), &frame), split)| CycleReport {
                name: frames.name(frame).to_string(),
                members: cycle
                    .members
                    .iter()
                    .map(|&m| frames.name(m).to_string())
                    .collect(),
                samples: stats.samples,
                rerooted_under_samples: stats.rerooted_under,
                percent: percent(stats.samples, total_samples),
                on_cpu: stats.samples - stats.off_cpu_samples,
                off_cpu: stats.off_cpu_samples,
                folded: cycle.members.len() <= limit,
                member_symbols: where_known(&cycle.members, |m| {
                    frames.identity(m).map(str::to_string)
                }),
                member_sources: where_known(&cycle.members, |m| {
                    frames.source(m).map(ToString::to_string)
                }),
                author_members: cycle
                    .members
                    .iter()
                    .filter(|&&m| authors.get(m as usize).copied().unwrap_or(false))
                    .map(|&m| frames.name(m).to_string())
                    .collect(),
                member_self_samples: member_self_samples(&cycle.members, stats, frames),
                member_total_samples: cycle
                    .members
                    .iter()
                    .map(|&m| NamedCount {
                        name: frames.name(m).to_string(),
                        samples: folded.stats.member_totals.total(m),
                    })
                    .collect(),
                max_depth: stats.max_depth,
                mean_depth: stats.mean_depth(),
                entries: ranked(&stats.entries, frames, usize::MAX),
                exits: ranked(&stats.exits, frames, TOP_EXITS),
                split: split.as_ref().map(|s| split_report(s, frames)),
                looks_welded: weld_reports(&stats.looks_welded, frames),
                calls: stats
                    .calls
                    .as_ref()
                    .map(|calls| calls_report(calls, &cycle.members, frames)),
            })
            .collect();
        reports.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
        Report {
            unit: folded.profile.unit,
            total_samples,
            cycles: reports,
            truncation: truncation_report(&folded.stats.truncation, cycle_frames, frames),
            inputs: folded
                .profile
                .inputs
                .iter()
                .map(|i| InputReport {
                    source: i.source.clone(),
                    format: i.format.clone(),
                    root_labels: i.root_labels,
                })
                .collect(),
            kept_out: Vec::new(),
        }
    }
}

impl CycleReport {
    /// A cycle not worth a table row: one member, shallow, and under 0.5 %
    /// of all samples spent in it.
    pub fn is_trivial(&self, total_samples: u64) -> bool {
        let self_samples: u64 = self.member_self_samples.iter().map(|m| m.samples).sum();
        self.members.len() == 1 && self.max_depth <= 2 && self_samples * 200 < total_samples
    }
}

/// `part` as a percentage of `total`.
pub fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * part as f64 / total as f64
    }
}

/// Who calls whom inside a cycle of `members`, by member index; boundary
/// frames that print alike are counted as one.
fn calls_report(calls: &CallStats, members: &[FrameId], frames: &Frames) -> CallsReport {
    let index: rustc_hash::FxHashMap<FrameId, usize> =
        members.iter().enumerate().map(|(i, &m)| (m, i)).collect();
    let mut inside: Vec<MemberCall> = calls
        .inside()
        .map(|((caller, callee), samples)| MemberCall {
            caller: index[&caller],
            callee: index[&callee],
            samples,
        })
        .collect();
    inside.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| (a.caller, a.callee).cmp(&(b.caller, b.callee)))
    });
    let boundary = |pairs: Vec<(FrameId, FrameId, u64)>| {
        let mut by_name: rustc_hash::FxHashMap<(&str, usize), u64> = Default::default();
        for (outside, member, samples) in pairs {
            *by_name
                .entry((frames.name(outside), index[&member]))
                .or_default() += samples;
        }
        let mut calls: Vec<BoundaryCall> = by_name
            .into_iter()
            .map(|((outside, member), samples)| BoundaryCall {
                outside: outside.to_string(),
                member,
                samples,
            })
            .collect();
        calls.sort_by(|a, b| {
            b.samples
                .cmp(&a.samples)
                .then_with(|| (&a.outside, a.member).cmp(&(&b.outside, b.member)))
        });
        calls
    };
    CallsReport {
        inside,
        entering: boundary(
            calls
                .entering
                .iter()
                .map(|(&(o, m), &n)| (o, m, n))
                .collect(),
        ),
        leaving: boundary(
            calls
                .leaving
                .iter()
                .map(|(&(m, o), &n)| (o, m, n))
                .collect(),
        ),
    }
}

/// The welds seen, most samples first (ties by names).
fn weld_reports(
    welds: &rustc_hash::FxHashMap<(FrameId, FrameId), u64>,
    frames: &Frames,
) -> Vec<WeldReport> {
    let mut reports: Vec<WeldReport> = welds
        .iter()
        .map(|(&(member, above), &samples)| WeldReport {
            member: frames.name(member).to_string(),
            above: frames.name(above).to_string(),
            samples,
        })
        .collect();
    reports.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| (&a.member, &a.above).cmp(&(&b.member, &b.above)))
    });
    reports
}

/// What `known` says of each member (members order), if it says
/// something of any: the members' symbols, their source locations.
fn where_known(
    members: &[FrameId],
    known: impl Fn(FrameId) -> Option<String>,
) -> Option<Vec<Option<String>>> {
    let said: Vec<Option<String>> = members.iter().map(|&m| known(m)).collect();
    said.iter().any(Option::is_some).then_some(said)
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

/// The `limit` frames with the most samples, most first (ties by name);
/// frames that print alike are listed once, their samples summed.
fn ranked(
    counts: &rustc_hash::FxHashMap<FrameId, u64>,
    frames: &Frames,
    limit: usize,
) -> Vec<NamedCount> {
    let mut by_name: rustc_hash::FxHashMap<&str, u64> = rustc_hash::FxHashMap::default();
    for (&frame, &samples) in counts {
        *by_name.entry(frames.name(frame)).or_default() += samples;
    }
    let mut ranked: Vec<NamedCount> = by_name
        .into_iter()
        .map(|(name, samples)| NamedCount {
            name: name.to_string(),
            samples,
        })
        .collect();
    ranked.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
    ranked.truncate(limit);
    ranked
}

fn split_report(split: &Split, frames: &Frames) -> SplitReport {
    let exclude: Vec<String> = split
        .exclude
        .iter()
        .map(|&m| frames.name(m).to_string())
        .collect();
    SplitReport {
        flags: exclude
            .iter()
            .map(|name| exclude_flag(name))
            .collect::<Vec<_>>()
            .join(" "),
        exclude,
        largest_component_after: split.largest_after,
        ranking: split
            .ranking
            .iter()
            .map(|&(m, size)| BridgeReport {
                name: frames.name(m).to_string(),
                largest_component: size,
            })
            .collect(),
    }
}

/// `--exclude '^name$'`, quoted for a POSIX shell.
pub fn exclude_flag(name: &str) -> String {
    let pattern = format!("^{}$", regex::escape(name));
    format!("--exclude '{}'", pattern.replace('\'', r"'\''"))
}

fn truncation_report(
    stats: &TruncationStats,
    cycle_frames: &[FrameId],
    frames: &Frames,
) -> TruncationReport {
    let cycle_name = |c: u32| frames.name(cycle_frames[c as usize]).to_string();
    let mut rerooted: Vec<RerootReport> = stats
        .rerooted
        .iter()
        .map(|r| RerootReport {
            cycle: cycle_name(r.cycle),
            entry_path: printed(&r.entry_path)
                .iter()
                .map(|&f| frames.name(f).to_string())
                .collect(),
            samples: r.samples,
        })
        .collect();
    rerooted.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| a.entry_path.cmp(&b.entry_path))
    });
    let mut grouped: Vec<GroupReport> = stats
        .grouped
        .iter()
        .map(|&(c, samples)| GroupReport {
            cycle: cycle_name(c),
            samples,
        })
        .collect();
    grouped.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| a.cycle.cmp(&b.cycle))
    });
    TruncationReport {
        truncated_samples: stats.truncated_samples,
        rerooted_samples: rerooted.iter().map(|r| r.samples).sum(),
        grouped_samples: grouped.iter().map(|g| g.samples).sum(),
        rerooted,
        grouped,
    }
}
