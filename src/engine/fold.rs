//! The fold: every maximal run of one cycle's frames becomes one frame.
//!
//! Stacks are rewritten in place in the profile's arena (a folded stack is
//! never longer than the original), truncated stacks are re-rooted
//! (`reroot.rs`), then all are sorted and merged: one pass over the frames
//! and no allocation per frame.

use crate::engine::graph::{CycleId, Cycles, is_pseudo_frame};
use crate::engine::reroot::{Cut, EntrySighting, Truncated, reroot};
use crate::engine::sort::sort_and_merge;
use crate::engine::stats::{FoldStats, Run};
use crate::profile::OFF_CPU_FRAME;
use crate::profile::{FrameId, Frames, Profile, StackRef};

/// How to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldOptions {
    /// Re-attach stacks that perf cut mid-recursion under the path by which
    /// complete stacks enter their cycle.
    pub reroot: bool,
    /// Leave cycles with more members than this unfolded.
    pub max_cycle_members: Option<usize>,
    /// Also gather who calls whom inside each cycle, and where its runs
    /// begin and end (`CycleStats::calls`): what a drawing of the cycle's
    /// call graph needs. Off by default: it costs a look-up per frame of
    /// every run.
    pub calls: bool,
    /// Leave this one cycle unfolded (its members stay in the stacks), as
    /// the HTML page's "unfold" shows it; the others fold as usual.
    pub unfolded: Option<CycleId>,
}

impl Default for FoldOptions {
    fn default() -> Self {
        Self {
            reroot: true,
            max_cycle_members: None,
            calls: false,
            unfolded: None,
        }
    }
}

/// A folded profile and what the fold saw.
#[derive(Debug)]
pub struct Folded {
    /// The folded stacks: merged, sorted by their text.
    pub profile: Profile,
    /// Per-cycle figures for the report.
    pub stats: FoldStats,
}

/// Folds every cycle run of `profile` into the frame `cycle_frames[cycle]`.
///
/// Each arena's stacks are folded on a thread of their own (the folded
/// reader fills one arena per parser thread), their figures added up after.
pub fn fold(
    profile: Profile,
    cycles: &Cycles,
    cycle_frames: &[FrameId],
    options: &FoldOptions,
) -> Folded {
    let mut folded = fold_in_place(profile, cycles, cycle_frames, options);
    let (frames, segments, stacks) = folded.profile.parts_mut();
    sort_and_merge(stacks, segments, frames);
    folded
}

/// [`fold`] without the sort: each stack folded (and re-rooted) where it
/// is, so stack `i` of the result is stack `i` of `profile` folded, and
/// stacks that fold alike stay apart. What a timeline's samples need, which
/// name their stacks by index.
pub fn fold_in_place(
    mut profile: Profile,
    cycles: &Cycles,
    cycle_frames: &[FrameId],
    options: &FoldOptions,
) -> Folded {
    let folder = Folder::new(&profile.frames, cycles, cycle_frames, options);
    let (frames, segments, stacks) = profile.parts_mut();
    let mut parts = fold_by_arena(&folder, segments, stacks, options).into_iter();
    let mut all = parts
        .next()
        .unwrap_or_else(|| Pass::new(cycles.len(), options.calls, frames.len()));
    for part in parts {
        all.add(part);
    }
    let mut stats = all.stats;
    truncate_to_folded(segments, stacks);
    if options.reroot {
        let cut = Cut {
            sightings: &all.sightings,
            truncated: &all.truncated,
            cycle_frames,
        };
        reroot(frames, segments, stacks, &cut, &mut stats);
    }
    merge_frames_that_print_alike(frames, segments);
    Folded { profile, stats }
}

/// What folding a run of stacks recorded.
struct Pass {
    stats: FoldStats,
    sightings: Vec<EntrySighting>,
    truncated: Vec<Truncated>,
}

impl Pass {
    fn new(cycles: usize, calls: bool, frames: usize) -> Self {
        Pass {
            stats: FoldStats::new(cycles, calls, frames),
            sightings: Vec::new(),
            truncated: Vec::new(),
        }
    }

    /// Adds what a pass over later stacks recorded.
    fn add(&mut self, later: Pass) {
        self.stats.add(later.stats);
        self.sightings.extend(later.sightings);
        self.truncated.extend(later.truncated);
    }
}

/// Folds the stacks of each arena, the arenas side by side on threads;
/// one [`Pass`] per arena, in stack order. Stacks of one arena are
/// contiguous and in order (as profiles lay them out).
fn fold_by_arena(
    folder: &Folder,
    segments: &mut [Vec<FrameId>],
    stacks: &mut [StackRef],
    options: &FoldOptions,
) -> Vec<Pass> {
    let mut runs: Vec<(usize, &mut [StackRef], &mut Vec<FrameId>)> = Vec::new();
    let mut arenas: Vec<Option<&mut Vec<FrameId>>> = segments.iter_mut().map(Some).collect();
    let (mut rest, mut first) = (stacks, 0);
    while let Some(segment) = rest.first().map(StackRef::segment) {
        let len = rest.iter().take_while(|s| s.segment() == segment).count();
        let (run, later) = rest.split_at_mut(len);
        let arena = arenas[segment]
            .take()
            .expect("each arena's stacks are contiguous");
        runs.push((first, run, arena));
        (rest, first) = (later, first + len);
    }
    std::thread::scope(|scope| {
        let mut runs = runs.into_iter();
        let last = runs.next_back();
        let threads: Vec<_> = runs
            .map(|(first, run, arena)| {
                scope.spawn(move || fold_run(folder, first, run, arena, options))
            })
            .collect();
        let last = last.map(|(first, run, arena)| fold_run(folder, first, run, arena, options));
        threads
            .into_iter()
            .map(|t| t.join().expect("a fold thread panicked"))
            .chain(last)
            .collect()
    })
}

/// Folds `run`, the stacks of `arena` (the first of them stack `first` of
/// the profile), compacting each in place from the arena's start.
fn fold_run(
    folder: &Folder,
    first: usize,
    run: &mut [StackRef],
    arena: &mut [FrameId],
    options: &FoldOptions,
) -> Pass {
    let mut pass = Pass::new(folder.cycles.len(), options.calls, folder.pseudo.len());
    let mut entered_in = vec![usize::MAX; folder.cycles.len()];
    let mut write = 0;
    for (offset, stack) in run.iter_mut().enumerate() {
        let index = first + offset;
        let found = folder.truncation(arena, *stack).filter(|_| options.reroot);
        // The member the cut stack begins with and its leaf, before the
        // fold replaces them.
        let first = found.map(|(_, skipped)| {
            let leaf = arena[stack.start() + stack.len() - 1];
            (
                arena[stack.start() + 1 + skipped],
                folder.off_cpu == Some(leaf),
            )
        });
        let mut stack_pass = StackPass {
            index,
            truncated: found.is_some(),
            whole_path: found.is_none() && folder.unwound_to_the_root(arena, *stack),
            stats: &mut pass.stats,
            sightings: &mut pass.sightings,
            entered_in: &mut entered_in,
        };
        let len = folder.fold_stack(arena, *stack, write, &mut stack_pass);
        *stack = stack.moved(stack.segment(), write, len);
        write += len;
        pass.truncated.extend(
            found
                .zip(first)
                .map(|((cycle, skipped), (first, off_cpu))| Truncated {
                    stack: index,
                    cycle,
                    skipped,
                    first,
                    off_cpu,
                }),
        );
    }
    pass
}

/// What one stack's fold records besides its frames.
struct StackPass<'a> {
    index: usize,
    truncated: bool,
    /// Whether the path into each cycle of this stack is whole (below the
    /// root label comes a real frame, not one the unwinder lost).
    whole_path: bool,
    stats: &'a mut FoldStats,
    sightings: &'a mut Vec<EntrySighting>,
    /// Per cycle, the last stack whose entry into it was recorded: only a
    /// stack's first run of a cycle is an entry path (a later run's path
    /// goes through the cycle itself).
    entered_in: &'a mut Vec<usize>,
}

/// What the fold needs to know about each frame, looked up by id.
struct Folder<'a> {
    cycles: &'a Cycles,
    cycle_frames: &'a [FrameId],
    folds: Vec<bool>,
    pseudo: Vec<bool>,
    /// The frame `[off-cpu]` that ends every waiting stack of an off-CPU
    /// profile, if the profile has one.
    off_cpu: Option<FrameId>,
    /// Whether to gather who calls whom inside each cycle.
    calls: bool,
}

impl<'a> Folder<'a> {
    fn new(
        frames: &Frames,
        cycles: &'a Cycles,
        cycle_frames: &'a [FrameId],
        options: &FoldOptions,
    ) -> Self {
        let limit = options.max_cycle_members.unwrap_or(usize::MAX);
        Self {
            cycles,
            cycle_frames,
            folds: (0..cycles.len() as CycleId)
                .map(|c| cycles.get(c).members.len() <= limit && options.unfolded != Some(c))
                .collect(),
            pseudo: frames.iter().map(|(_, n)| is_pseudo_frame(n)).collect(),
            off_cpu: frames.get(OFF_CPU_FRAME),
            calls: options.calls,
        }
    }

    /// The folded cycle `frame` belongs to, if any.
    #[inline]
    fn cycle_of(&self, frame: FrameId) -> Option<CycleId> {
        self.any_cycle_of(frame).filter(|&c| self.folds[c as usize])
    }

    /// The cycle `frame` belongs to, folded or not: every cycle's runs are
    /// counted for the report, even one `--max-cycle-members` leaves
    /// unfolded.
    #[inline]
    fn any_cycle_of(&self, frame: FrameId) -> Option<CycleId> {
        self.cycles.cycle_of(frame)
    }

    #[inline]
    fn is_pseudo(&self, frame: FrameId) -> bool {
        self.pseudo.get(frame as usize).copied().unwrap_or(false)
    }

    /// The frame `id` as written in folded output.
    #[inline]
    fn folded_name(&self, id: FrameId) -> FrameId {
        match self.cycle_of(id) {
            Some(c) => self.cycle_frames[c as usize],
            None => id,
        }
    }

    /// Whether perf cut the stack mid-recursion: below the root label come
    /// only pseudo-frames, then a member of a folded cycle. Returns that
    /// cycle and how many pseudo-frames stand before it.
    fn truncation(&self, arena: &[FrameId], stack: StackRef) -> Option<(CycleId, usize)> {
        if stack.is_whole() {
            return None;
        }
        let frames = arena.get(stack.start() + 1..stack.start() + stack.len())?;
        let skipped = frames.iter().take_while(|&&f| self.is_pseudo(f)).count();
        let cycle = self.cycle_of(*frames.get(skipped)?)?;
        Some((cycle, skipped))
    }

    /// Whether the unwinder reached the stack's outermost frame: below the
    /// root label comes a real frame, not a pseudo-frame standing for the
    /// frames it lost.
    fn unwound_to_the_root(&self, arena: &[FrameId], stack: StackRef) -> bool {
        arena
            .get(stack.start() + 1)
            .filter(|_| stack.len() > 1)
            .is_none_or(|&first| !self.is_pseudo(first))
    }

    /// Folds the stack at `stack` into `arena[write..]`; returns its new length.
    fn fold_stack(
        &self,
        arena: &mut [FrameId],
        stack: StackRef,
        write: usize,
        pass: &mut StackPass,
    ) -> usize {
        let (start, end) = (stack.start(), stack.start() + stack.len());
        if stack.is_empty() {
            return 0;
        }
        let leaf = arena[end - 1];
        // The root label is copied as it is and never folded.
        arena[write] = arena[start];
        let mut w = write + 1;
        let mut i = start + 1;
        let mut first_run = true;
        while i < end {
            let frame = arena[i];
            match self.any_cycle_of(frame) {
                Some(cycle) => {
                    let last = self.run_end(arena, i, end, cycle);
                    let folds = self.folds[cycle as usize];
                    // A truncated stack's first run has no known caller yet:
                    // re-rooting supplies it.
                    let entered_from_root = pass.truncated && first_run;
                    first_run = false;
                    let first_entry = pass.entered_in[cycle as usize] != pass.index;
                    pass.entered_in[cycle as usize] = pass.index;
                    if folds && pass.whole_path && first_entry {
                        pass.sightings.push(EntrySighting {
                            cycle,
                            stack: pass.index,
                            prefix_len: w - write,
                        });
                    }
                    let run = Run {
                        cycle,
                        stack: pass.index,
                        depth: last - i + 1,
                        caller: (!entered_from_root).then(|| arena[w - 1]),
                        callee: (last + 1 < end).then(|| self.folded_name(arena[last + 1])),
                        first: frame,
                        count: stack.count,
                        off_cpu: self.off_cpu == Some(leaf),
                    };
                    pass.stats.record_run(run);
                    for &member in &arena[i..=last] {
                        if !self.is_pseudo(member) {
                            pass.stats
                                .member_totals
                                .record(member, pass.index, stack.count);
                        }
                    }
                    if self.calls {
                        let members = arena[i..=last].iter().copied();
                        pass.stats
                            .record_calls(&run, members.filter(|&f| !self.is_pseudo(f)));
                    }
                    if folds {
                        arena[w] = self.cycle_frames[cycle as usize];
                        w += 1;
                    } else {
                        // Left unfolded: the run stays as it is.
                        arena.copy_within(i..=last, w);
                        w += last + 1 - i;
                    }
                    i = last + 1;
                }
                None => {
                    arena[w] = frame;
                    w += 1;
                    i += 1;
                }
            }
        }
        if let Some(cycle) = self.any_cycle_of(leaf) {
            pass.stats.record_leaf(cycle, leaf, stack.count);
        }
        w - write
    }

    /// The index of the last member of the run of `cycle` that starts at
    /// `start`: the run goes on through members, and through pseudo-frames
    /// that stand between two members.
    #[inline]
    fn run_end(&self, arena: &[FrameId], start: usize, end: usize, cycle: CycleId) -> usize {
        let mut last = start;
        for (j, &frame) in arena.iter().enumerate().take(end).skip(start + 1) {
            if self.any_cycle_of(frame) == Some(cycle) {
                last = j;
            } else if !self.is_pseudo(frame) {
                break;
            }
        }
        last
    }
}

/// Frees what folding left unused at the end of each arena.
fn truncate_to_folded(segments: &mut [Vec<FrameId>], stacks: &[StackRef]) {
    let mut used = vec![0; segments.len()];
    for s in stacks {
        used[s.segment()] = used[s.segment()].max(s.start() + s.len());
    }
    for (arena, used) in segments.iter_mut().zip(used) {
        arena.truncate(used);
        arena.shrink_to_fit();
    }
}

/// Rewrites every frame known by its identity as the frame of the name it
/// prints: the cycles were found with two functions that print alike kept
/// apart; the folded text shows one line per printed stack.
fn merge_frames_that_print_alike(frames: &mut Frames, segments: &mut [Vec<FrameId>]) {
    if !frames.has_symbols() {
        return;
    }
    let printed = frames.by_printed_name();
    for frame in segments.iter_mut().flatten() {
        *frame = printed[*frame as usize];
    }
}
