//! What the fold saw of each cycle: samples, depth, entries and exits.
//!
//! Collected during the fold pass itself, so the report costs no extra pass
//! over the stacks. Who calls whom inside each cycle ([`CallStats`]) is
//! gathered only when asked (`--html` draws it), from the runs the fold
//! walks anyway.

use rustc_hash::FxHashMap;

use crate::engine::graph::CycleId;
use crate::profile::FrameId;

/// Figures for one cycle, gathered while folding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CycleStats {
    /// Samples of stacks that pass through the cycle, each counted once
    /// however deep the recursion.
    pub samples: u64,
    /// Of `samples`, those of stacks that end off the CPU (`[off-cpu]`).
    pub off_cpu_samples: u64,
    /// Samples whose leaf frame is this member.
    pub self_samples: FxHashMap<FrameId, u64>,
    /// Samples of stacks that re-rooting re-attached under an entry path
    /// through this cycle's frame (stacks cut in another cycle, called
    /// from this one): counted in `samples`, as the flame graph and the
    /// folded output count them.
    pub rerooted_under: u64,
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
    /// Who calls whom inside the cycle, and where runs of it begin and end;
    /// `None` unless the fold was asked to gather it.
    pub calls: Option<CallStats>,
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
        self.off_cpu_samples += other.off_cpu_samples;
        self.rerooted_under += other.rerooted_under;
        add_counts(&mut self.self_samples, other.self_samples);
        self.max_depth = self.max_depth.max(other.max_depth);
        self.depth_sum += other.depth_sum;
        self.depth_weight += other.depth_weight;
        add_counts(&mut self.entries, other.entries);
        add_counts(&mut self.exits, other.exits);
        add_counts(&mut self.looks_welded, other.looks_welded);
        match (&mut self.calls, other.calls) {
            (Some(mine), Some(theirs)) => mine.add(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
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

/// Who calls whom inside one cycle, with the samples of each call: what
/// a drawing of the cycle's call graph needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallStats {
    /// Per caller→callee pair of members: the samples of stacks in which
    /// the caller calls the callee, each stack counted once however often
    /// it makes that call (so a pair never has more than the cycle).
    inside: FxHashMap<(FrameId, FrameId), Tally>,
    /// Per (frame before a run, as written in the folded output; the
    /// member the run begins with): the samples of such runs.
    pub entering: FxHashMap<(FrameId, FrameId), u64>,
    /// Per (the member a run ends with; frame after it, as written in the
    /// folded output): the samples of such runs.
    pub leaving: FxHashMap<(FrameId, FrameId), u64>,
}

/// Samples of one call pair, and the last stack counted.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tally {
    samples: u64,
    last_stack: usize,
}

impl CallStats {
    /// Adds the calls seen in other stacks (folded on another thread).
    fn add(&mut self, other: CallStats) {
        for (pair, tally) in other.inside {
            self.inside
                .entry(pair)
                .or_insert(Tally {
                    samples: 0,
                    last_stack: usize::MAX,
                })
                .samples += tally.samples;
        }
        add_counts(&mut self.entering, other.entering);
        add_counts(&mut self.leaving, other.leaving);
    }

    /// Each caller→callee pair of members with its samples (stacks that
    /// make the call, once per stack), in no particular order.
    pub fn inside(&self) -> impl Iterator<Item = ((FrameId, FrameId), u64)> + '_ {
        self.inside
            .iter()
            .map(|(&pair, tally)| (pair, tally.samples))
    }

    /// Records the calls between consecutive `members` of one run, and the
    /// run's way in and out.
    fn record(&mut self, run: &Run, members: impl Iterator<Item = FrameId>) {
        let mut last = run.first;
        for member in members.skip(1) {
            let tally = self.inside.entry((last, member)).or_insert(Tally {
                samples: 0,
                last_stack: usize::MAX,
            });
            if tally.last_stack != run.stack {
                tally.last_stack = run.stack;
                tally.samples += run.count;
            }
            last = member;
        }
        if let Some(caller) = run.caller {
            *self.entering.entry((caller, run.first)).or_default() += run.count;
        }
        if let Some(callee) = run.callee {
            *self.leaving.entry((last, callee)).or_default() += run.count;
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
    /// Whether the stack ends off the CPU (`[off-cpu]`).
    pub off_cpu: bool,
}

/// Per frame (by id), the samples of the stacks it is on as a member of
/// a cycle, each stack counted once however deep the recursion (as
/// Firefox Profiler and speedscope count a recursive function's total).
#[derive(Debug, Clone, Default)]
pub struct MemberTotals {
    totals: Vec<u64>,
    last_stack: Vec<usize>,
}

impl MemberTotals {
    /// Empty totals for a profile of `frames` frames.
    pub fn new(frames: usize) -> Self {
        Self {
            totals: vec![0; frames],
            last_stack: vec![usize::MAX; frames],
        }
    }

    /// Records that `member` is on stack `stack` of `count` samples.
    #[inline]
    pub fn record(&mut self, member: FrameId, stack: usize, count: u64) {
        let i = member as usize;
        if i >= self.totals.len() {
            self.totals.resize(i + 1, 0);
            self.last_stack.resize(i + 1, usize::MAX);
        }
        if self.last_stack[i] != stack {
            self.last_stack[i] = stack;
            self.totals[i] += count;
        }
    }

    /// The samples of stacks `member` is on.
    pub fn total(&self, member: FrameId) -> u64 {
        self.totals.get(member as usize).copied().unwrap_or(0)
    }

    /// Adds the totals of other stacks (never the same stacks).
    fn add(&mut self, other: MemberTotals) {
        if other.totals.len() > self.totals.len() {
            self.totals.resize(other.totals.len(), 0);
            self.last_stack.resize(other.totals.len(), usize::MAX);
        }
        for (mine, theirs) in self.totals.iter_mut().zip(other.totals) {
            *mine += theirs;
        }
    }
}

/// Figures for every cycle, indexed by [`CycleId`].
#[derive(Debug, Clone, Default)]
pub struct FoldStats {
    /// Per-cycle figures.
    pub cycles: Vec<CycleStats>,
    /// Each member's total samples.
    pub member_totals: MemberTotals,
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
    /// Empty figures for `cycles` cycles; with `calls`, who calls whom
    /// inside each is gathered too.
    pub fn new(cycles: usize, calls: bool, frames: usize) -> Self {
        let stats = CycleStats {
            calls: calls.then(CallStats::default),
            ..CycleStats::default()
        };
        Self {
            cycles: vec![stats; cycles],
            member_totals: MemberTotals::new(frames),
            truncation: TruncationStats::default(),
        }
    }

    /// Adds the figures of a pass over other stacks (folded apart, on
    /// another thread).
    pub fn add(&mut self, other: FoldStats) {
        for (mine, theirs) in self.cycles.iter_mut().zip(other.cycles) {
            mine.add(theirs);
        }
        self.member_totals.add(other.member_totals);
    }

    /// Records the calls made inside one run of a cycle: `members` are the
    /// run's members in stack order (its first is `run.first`). Does
    /// nothing unless calls are gathered.
    pub fn record_calls(&mut self, run: &Run, members: impl Iterator<Item = FrameId>) {
        if let Some(calls) = &mut self.cycles[run.cycle as usize].calls {
            calls.record(run, members);
        }
    }

    /// Records one run of a cycle.
    #[inline]
    pub fn record_run(&mut self, run: Run) {
        let s = &mut self.cycles[run.cycle as usize];
        if s.last_stack != Some(run.stack) {
            s.last_stack = Some(run.stack);
            s.samples += run.count;
            if run.off_cpu {
                s.off_cpu_samples += run.count;
            }
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

    /// Records that `caller` calls into `cycle` in `count` samples, the
    /// run beginning with `first` (a stack re-attached under `caller`).
    pub fn record_entry(&mut self, cycle: CycleId, caller: FrameId, first: FrameId, count: u64) {
        let s = &mut self.cycles[cycle as usize];
        *s.entries.entry(caller).or_default() += count;
        if let Some(calls) = &mut s.calls {
            *calls.entering.entry((caller, first)).or_default() += count;
        }
    }

    /// Records that a stack of `count` samples (`off_cpu` or not) was
    /// re-attached under a path through `cycle`'s frame.
    pub fn record_rerooted_under(&mut self, cycle: CycleId, count: u64, off_cpu: bool) {
        let s = &mut self.cycles[cycle as usize];
        s.samples += count;
        s.rerooted_under += count;
        if off_cpu {
            s.off_cpu_samples += count;
        }
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

#[cfg(test)]
mod tests {
    use crate::engine::fold::FoldOptions;
    use crate::engine::report::{BoundaryCall, CallsReport, MemberCall};
    use crate::engine::{EngineOptions, analyse};
    use crate::profile::ProfileBuilder;

    /// The calls of the first cycle of `lines` (`stack count`), gathered.
    fn calls_of(lines: &[(&str, u64)]) -> CallsReport {
        let mut profile = ProfileBuilder::new();
        for (stack, count) in lines {
            profile.push_names(stack.split(';'), *count);
        }
        let options = EngineOptions {
            fold: FoldOptions {
                calls: true,
                ..FoldOptions::default()
            },
            ..EngineOptions::default()
        };
        let report = analyse(profile.finish(), &options).report;
        report.cycles[0].calls.clone().expect("gathered")
    }

    fn call(caller: usize, callee: usize, samples: u64) -> MemberCall {
        MemberCall {
            caller,
            callee,
            samples,
        }
    }

    fn boundary(outside: &str, member: usize, samples: u64) -> BoundaryCall {
        BoundaryCall {
            outside: outside.to_string(),
            member,
            samples,
        }
    }

    #[test]
    fn a_call_counts_once_per_stack_however_deep_the_recursion() {
        // Members by name: even (0), odd (1).
        let calls = calls_of(&[
            ("p;main;even;odd;even;odd;work", 3),
            ("p;main;even;odd;work", 2),
        ]);
        assert_eq!(calls.inside, vec![call(0, 1, 5), call(1, 0, 3)]);
        assert_eq!(calls.entering, vec![boundary("main", 0, 5)]);
        assert_eq!(calls.leaving, vec![boundary("work", 1, 5)]);
    }

    #[test]
    fn pseudo_frames_inside_a_run_stand_between_the_members_they_join() {
        let calls = calls_of(&[("p;main;a;[unknown];b;a;b;x", 1)]);
        assert_eq!(calls.inside, vec![call(0, 1, 1), call(1, 0, 1)]);
        assert_eq!(calls.leaving, vec![boundary("x", 1, 1)]);
    }

    #[test]
    fn each_run_enters_and_leaves_where_it_does() {
        // Two runs in one stack: in through main at a, out to x from b;
        // back in from x at b, out to y from a.
        let calls = calls_of(&[("p;main;a;b;a;b;x;b;a;y", 2), ("p;main;a;b;a;z", 1)]);
        assert_eq!(calls.inside, vec![call(0, 1, 3), call(1, 0, 3)]);
        assert_eq!(
            calls.entering,
            vec![boundary("main", 0, 3), boundary("x", 1, 2)]
        );
        assert_eq!(
            calls.leaving,
            vec![
                boundary("x", 1, 2),
                boundary("y", 0, 2),
                boundary("z", 0, 1)
            ]
        );
    }

    #[test]
    fn stacks_cut_mid_recursion_enter_where_they_are_re_attached() {
        let calls = calls_of(&[("p;main;even;odd;even;work", 1), ("p;odd;even;odd;work", 4)]);
        assert_eq!(
            calls.entering,
            vec![boundary("main", 1, 4), boundary("main", 0, 1)]
        );
        assert_eq!(calls.inside, vec![call(0, 1, 5), call(1, 0, 5)]);
    }

    #[test]
    fn calls_are_gathered_only_when_asked() {
        let mut profile = ProfileBuilder::new();
        profile.push_names("p;main;even;odd;even;odd;work".split(';'), 1);
        let report = analyse(profile.finish(), &EngineOptions::default()).report;
        assert_eq!(report.cycles[0].calls, None);
    }
}
