//! What the fold saw of each cycle: samples, depth, entries and exits.
//!
//! Collected during the fold pass itself, so the report costs no extra pass
//! over the stacks.

use rustc_hash::FxHashMap;

use crate::engine::graph::CycleId;
use crate::profile::FrameId;

/// Figures for one cycle, gathered while folding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CycleStats {
    /// Samples of stacks that pass through the cycle, each counted once
    /// however deep the recursion.
    pub samples: u64,
    /// Samples whose leaf frame is this member.
    pub self_samples: FxHashMap<FrameId, u64>,
    /// The most frames one run of the cycle replaced.
    pub max_depth: usize,
    depth_sum: u128,
    depth_weight: u64,
    /// Frames (as written in the folded output) that call into the cycle,
    /// with the samples through each.
    pub entries: FxHashMap<FrameId, u64>,
    /// Frames (as written in the folded output) that the cycle calls on its
    /// way out, with the samples through each.
    pub exits: FxHashMap<FrameId, u64>,
    /// Stacks where one frame of the cycle stands alone above a frame
    /// outside it and the cycle is entered again further down: per (that
    /// member, the frame below it), their samples. The usual cause is a
    /// function that prints like a member (another instance of a generic)
    /// running above the recursion.
    pub looks_welded: FxHashMap<(FrameId, FrameId), u64>,
    last_stack: Option<usize>,
    /// The stack's first run: a lone member and the frame below it.
    first_run_alone: Option<(FrameId, FrameId)>,
    welded_in: Option<usize>,
}

/// Adds every count of `from` into `into`.
fn add_counts<K: std::hash::Hash + Eq>(into: &mut FxHashMap<K, u64>, from: FxHashMap<K, u64>) {
    for (key, count) in from {
        *into.entry(key).or_default() += count;
    }
}

impl CycleStats {
    /// Adds the figures of the same cycle from other stacks.
    fn add(&mut self, other: CycleStats) {
        self.samples += other.samples;
        add_counts(&mut self.self_samples, other.self_samples);
        self.max_depth = self.max_depth.max(other.max_depth);
        self.depth_sum += other.depth_sum;
        self.depth_weight += other.depth_weight;
        add_counts(&mut self.entries, other.entries);
        add_counts(&mut self.exits, other.exits);
        add_counts(&mut self.looks_welded, other.looks_welded);
    }

    /// The sample-weighted mean number of frames a run of the cycle replaced.
    pub fn mean_depth(&self) -> f64 {
        if self.depth_weight == 0 {
            0.0
        } else {
            self.depth_sum as f64 / self.depth_weight as f64
        }
    }
}

/// One maximal run of a cycle inside one stack.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Which cycle.
    pub cycle: CycleId,
    /// Index of the stack in the pass, so a stack counts once per cycle.
    pub stack: usize,
    /// Frames the run replaced.
    pub depth: usize,
    /// The folded frame just before the run; `None` when perf cut the stack
    /// there (re-rooting then records the entry).
    pub caller: Option<FrameId>,
    /// The folded frame just after the run, if the stack goes on.
    pub callee: Option<FrameId>,
    /// The run's first frame (a member).
    pub first: FrameId,
    /// The stack's samples.
    pub count: u64,
}

/// Figures for every cycle, indexed by [`CycleId`].
#[derive(Debug, Clone, Default)]
pub struct FoldStats {
    /// Per-cycle figures.
    pub cycles: Vec<CycleStats>,
    /// What re-rooting did with stacks that perf cut mid-recursion.
    pub truncation: TruncationStats,
}

/// What re-rooting did with truncated stacks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TruncationStats {
    /// Samples of stacks that begin mid-recursion.
    pub truncated_samples: u64,
    /// Re-attached stacks: per cycle and entry path (root label first, the
    /// cycle's caller last), the samples moved there.
    pub rerooted: Vec<Rerooted>,
    /// Per cycle, the samples grouped under `[truncated]` because no
    /// complete stack enters that cycle.
    pub grouped: Vec<(CycleId, u64)>,
}

/// Samples re-attached under one entry path of one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rerooted {
    /// The cycle the stacks begin in.
    pub cycle: CycleId,
    /// The frames from the root label down to the cycle's caller.
    pub entry_path: Vec<FrameId>,
    /// Samples moved under it.
    pub samples: u64,
}

impl FoldStats {
    /// Empty figures for `cycles` cycles.
    pub fn new(cycles: usize) -> Self {
        Self {
            cycles: vec![CycleStats::default(); cycles],
            truncation: TruncationStats::default(),
        }
    }

    /// Adds the figures of a pass over other stacks (folded apart, on
    /// another thread).
    pub fn add(&mut self, other: FoldStats) {
        for (mine, theirs) in self.cycles.iter_mut().zip(other.cycles) {
            mine.add(theirs);
        }
    }

    /// Records one run of a cycle.
    #[inline]
    pub fn record_run(&mut self, run: Run) {
        let s = &mut self.cycles[run.cycle as usize];
        if s.last_stack != Some(run.stack) {
            s.last_stack = Some(run.stack);
            s.samples += run.count;
            s.first_run_alone = run
                .callee
                .filter(|_| run.depth == 1)
                .map(|c| (run.first, c));
        } else if let Some(alone) = s.first_run_alone
            && s.welded_in != Some(run.stack)
        {
            s.welded_in = Some(run.stack);
            *s.looks_welded.entry(alone).or_default() += run.count;
        }
        s.max_depth = s.max_depth.max(run.depth);
        s.depth_sum += run.depth as u128 * run.count as u128;
        s.depth_weight += run.count;
        if let Some(caller) = run.caller {
            *s.entries.entry(caller).or_default() += run.count;
        }
        if let Some(callee) = run.callee {
            *s.exits.entry(callee).or_default() += run.count;
        }
    }

    /// Records that `caller` calls into `cycle` in `count` samples.
    pub fn record_entry(&mut self, cycle: CycleId, caller: FrameId, count: u64) {
        *self.cycles[cycle as usize]
            .entries
            .entry(caller)
            .or_default() += count;
    }

    /// Records the samples of a stack whose leaf is `member` of `cycle`.
    #[inline]
    pub fn record_leaf(&mut self, cycle: CycleId, member: FrameId, count: u64) {
        *self.cycles[cycle as usize]
            .self_samples
            .entry(member)
            .or_default() += count;
    }
}
