//! The fold: every maximal run of one cycle's frames becomes one frame.
//!
//! Stacks are rewritten in place in the profile's arena (a folded stack is
//! never longer than the original), truncated stacks are re-rooted
//! (`reroot.rs`), then all are sorted and merged: one pass over the frames
//! and no allocation per frame.

use std::cmp::Ordering;

use crate::engine::graph::{CycleId, Cycles, is_pseudo_frame};
use crate::engine::reroot::{EntrySighting, Truncated, reroot};
use crate::engine::stats::{FoldStats, Run};
use crate::profile::{FrameId, Frames, Profile, StackRef, printed};

/// How to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldOptions {
    /// Re-attach stacks that perf cut mid-recursion under the path by which
    /// complete stacks enter their cycle.
    pub reroot: bool,
    /// Leave cycles with more members than this unfolded.
    pub max_cycle_members: Option<usize>,
}

impl Default for FoldOptions {
    fn default() -> Self {
        Self {
            reroot: true,
            max_cycle_members: None,
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
    mut profile: Profile,
    cycles: &Cycles,
    cycle_frames: &[FrameId],
    options: &FoldOptions,
) -> Folded {
    let folder = Folder::new(&profile.frames, cycles, cycle_frames, options);
    let (frames, segments, stacks) = profile.parts_mut();
    let mut parts = fold_by_arena(&folder, segments, stacks, options).into_iter();
    let mut all = parts.next().unwrap_or_else(|| Pass::new(cycles.len()));
    for part in parts {
        all.add(part);
    }
    let mut stats = all.stats;
    truncate_to_folded(segments, stacks);
    if options.reroot {
        reroot(
            frames,
            segments,
            stacks,
            &all.sightings,
            &all.truncated,
            &mut stats,
        );
    }
    merge_frames_that_print_alike(frames, segments);
    sort_and_merge(stacks, segments, frames);
    Folded { profile, stats }
}

/// What folding a run of stacks recorded.
struct Pass {
    stats: FoldStats,
    sightings: Vec<EntrySighting>,
    truncated: Vec<Truncated>,
}

impl Pass {
    fn new(cycles: usize) -> Self {
        Pass {
            stats: FoldStats::new(cycles),
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
    let mut pass = Pass::new(folder.cycles.len());
    let mut entered_in = vec![usize::MAX; folder.cycles.len()];
    let mut write = 0;
    for (offset, stack) in run.iter_mut().enumerate() {
        let index = first + offset;
        let found = folder.truncation(arena, *stack).filter(|_| options.reroot);
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
        pass.truncated
            .extend(found.map(|(cycle, skipped)| Truncated {
                stack: index,
                cycle,
                skipped,
            }));
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
            folds: cycles.iter().map(|c| c.members.len() <= limit).collect(),
            pseudo: frames.iter().map(|(_, n)| is_pseudo_frame(n)).collect(),
        }
    }

    /// The folded cycle `frame` belongs to, if any.
    #[inline]
    fn cycle_of(&self, frame: FrameId) -> Option<CycleId> {
        self.cycles
            .cycle_of(frame)
            .filter(|&c| self.folds[c as usize])
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
            match self.cycle_of(frame) {
                Some(cycle) => {
                    let last = self.run_end(arena, i, end, cycle);
                    // A truncated stack's first run has no known caller yet:
                    // re-rooting supplies it.
                    let entered_from_root = pass.truncated && first_run;
                    first_run = false;
                    let first_entry = pass.entered_in[cycle as usize] != pass.index;
                    pass.entered_in[cycle as usize] = pass.index;
                    if pass.whole_path && first_entry {
                        pass.sightings.push(EntrySighting {
                            cycle,
                            stack: pass.index,
                            prefix_len: w - write,
                        });
                    }
                    pass.stats.record_run(Run {
                        cycle,
                        stack: pass.index,
                        depth: last - i + 1,
                        caller: (!entered_from_root).then(|| arena[w - 1]),
                        callee: (last + 1 < end).then(|| self.folded_name(arena[last + 1])),
                        first: frame,
                        count: stack.count,
                    });
                    arena[w] = self.cycle_frames[cycle as usize];
                    i = last + 1;
                }
                None => {
                    arena[w] = frame;
                    i += 1;
                }
            }
            w += 1;
        }
        if let Some(cycle) = self.cycle_of(leaf) {
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
            if self.cycle_of(frame) == Some(cycle) {
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

/// Sorts stacks by their folded text and merges equal ones, summing counts:
/// each half sorted on a thread of its own, then the halves merged.
fn sort_and_merge(stacks: &mut Vec<StackRef>, segments: &[Vec<FrameId>], frames: &Frames) {
    let ranks = TextRanks::of(frames);
    let order = |a: &StackRef, b: &StackRef| {
        ranks.compare(a.frames_in(segments), b.frames_in(segments), frames)
    };
    let mid = stacks.len() / 2;
    let (left, right) = stacks.split_at_mut(mid);
    std::thread::scope(|scope| {
        scope.spawn(|| left.sort_unstable_by(order));
        right.sort_unstable_by(order);
    });
    let (left, right) = stacks.split_at(mid);
    let mut merged: Vec<StackRef> = Vec::with_capacity(stacks.len());
    let (mut l, mut r) = (left.iter().peekable(), right.iter().peekable());
    while let Some(next) = match (l.peek(), r.peek()) {
        (Some(a), Some(b)) if order(a, b) != Ordering::Greater => l.next(),
        (Some(_), Some(_)) | (None, _) => r.next(),
        (Some(_), None) => l.next(),
    } {
        match merged.last_mut() {
            Some(kept)
                if printed(kept.frames_in(segments)) == printed(next.frames_in(segments)) =>
            {
                kept.count += next.count;
            }
            _ => merged.push(*next),
        }
    }
    *stacks = merged;
}

/// Where each frame's name falls in the byte order of folded text, so that
/// sorting compares integers, not strings. A frame's text is its name
/// followed by `;` where another frame follows, or by the end of the line:
/// each frame gets a rank for both (`name` and `name;`), from one sort of
/// all of them. Two stacks that differ first at frames `x` and `y` sort as
/// those two texts do: names hold no `;`, so one text can start the other
/// only where it ends the line, and then it sorts first, as a shorter line
/// does.
struct TextRanks {
    /// Per frame: the rank of its name at the end of a line, and followed
    /// by `;`.
    ranks: Vec<[u32; 2]>,
}

impl TextRanks {
    fn of(frames: &Frames) -> TextRanks {
        let mut texts: Vec<(FrameId, bool)> = (0..frames.len() as FrameId)
            .flat_map(|f| [(f, false), (f, true)])
            .collect();
        let bytes = |&(f, more): &(FrameId, bool)| {
            let name = frames.name(f).as_bytes().iter();
            name.chain(if more { &b";"[..] } else { &b""[..] })
        };
        texts.sort_unstable_by(|a, b| bytes(a).cmp(bytes(b)));
        let mut ranks = vec![[0; 2]; frames.len()];
        let mut rank = 0;
        for (i, text) in texts.iter().enumerate() {
            if i > 0 && bytes(&texts[i - 1]).ne(bytes(text)) {
                rank += 1;
            }
            ranks[text.0 as usize][usize::from(text.1)] = rank;
        }
        TextRanks { ranks }
    }

    /// Orders two stacks as their `a;b;c` text would sort, byte by byte.
    fn compare(&self, a: &[FrameId], b: &[FrameId], frames: &Frames) -> Ordering {
        let (a, b) = (printed(a), printed(b));
        let shared = shared_prefix(a, b);
        match (a.get(shared), b.get(shared)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(&x), Some(&y)) => {
                let rank = |f: FrameId, stack: &[FrameId]| {
                    self.ranks[f as usize][usize::from(shared + 1 < stack.len())]
                };
                match rank(x, a).cmp(&rank(y, b)) {
                    // Two frames that print alike: byte by byte.
                    Ordering::Equal => compare_stacks(a, b, frames),
                    order => order,
                }
            }
        }
    }
}

/// How many leading frames two stacks share, compared four at a time
/// (stacks sorted next to each other share long prefixes).
fn shared_prefix(a: &[FrameId], b: &[FrameId]) -> usize {
    let n = a.len().min(b.len());
    let four = |s: &[FrameId], i: usize| <[FrameId; 4]>::try_from(&s[i..i + 4]).expect("4 frames");
    let mut i = 0;
    while i + 4 <= n && four(a, i) == four(b, i) {
        i += 4;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// The bytes of `frames` joined by `;`, without building the string.
fn text_bytes<'a>(stack: &'a [FrameId], frames: &'a Frames) -> impl Iterator<Item = u8> + 'a {
    stack.iter().enumerate().flat_map(move |(i, &f)| {
        let separator: &[u8] = if i == 0 { b"" } else { b";" };
        separator.iter().chain(frames.name(f).as_bytes()).copied()
    })
}

/// Orders two stacks as their `a;b;c` text would sort, byte by byte,
/// comparing names (where no [`TextRanks`] are at hand).
pub fn compare_stacks(a: &[FrameId], b: &[FrameId], frames: &Frames) -> Ordering {
    let (a, b) = (printed(a), printed(b));
    let shared = shared_prefix(a, b);
    match (a.get(shared), b.get(shared)) {
        (None, None) => Ordering::Equal,
        // A stack that is the start of the other is a prefix of its text.
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(&x), Some(&y)) if frames.name(x) != frames.name(y) => {
            let after = |stack: &[FrameId]| (shared + 1 < stack.len()).then_some(b';');
            compare_frames(frames.name(x), after(a), frames.name(y), after(b))
        }
        // Two frames that print alike (an empty name beside an empty
        // label slot): byte by byte.
        _ => text_bytes(&a[shared..], frames).cmp(text_bytes(&b[shared..], frames)),
    }
}

/// Orders two texts that start with different frame names `x` and `y`,
/// each followed by `x_next` / `y_next` (`;`, or nothing where the stack
/// ends): names never hold `;`, so the first byte after the shorter name
/// decides where one name starts the other.
fn compare_frames(x: &str, x_next: Option<u8>, y: &str, y_next: Option<u8>) -> Ordering {
    let (x, y) = (x.as_bytes(), y.as_bytes());
    let common = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    match (x.get(common), y.get(common)) {
        (Some(p), Some(q)) => p.cmp(q),
        (None, Some(&q)) => x_next.map_or(Ordering::Less, |p| p.cmp(&q)),
        (Some(&p), None) => y_next.map_or(Ordering::Greater, |q| p.cmp(&q)),
        (None, None) => x_next.cmp(&y_next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::NO_LABEL;
    use proptest::prelude::*;

    /// Names that start one another and hold bytes below and above `;`.
    const NAMES: &[&str] = &["a", "a.b", "a b", "ab", "a(x)", "b", "b::c", "z", "a:"];

    proptest! {
        #[test]
        fn ranked_stacks_sort_as_their_text(
            a in prop::collection::vec(prop::sample::select(NAMES), 0..6),
            b in prop::collection::vec(prop::sample::select(NAMES), 0..6),
        ) {
            let mut profile = Profile::new();
            for name in NAMES {
                profile.frames.intern(name);
            }
            let ids = |names: &[&str], p: &Profile| -> Vec<FrameId> {
                std::iter::once(NO_LABEL)
                    .chain(names.iter().map(|n| p.frames.get(n).unwrap()))
                    .collect()
            };
            let (x, y) = (ids(&a, &profile), ids(&b, &profile));
            let ranks = TextRanks::of(&profile.frames);
            let expected = a.join(";").as_bytes().cmp(b.join(";").as_bytes());
            prop_assert_eq!(ranks.compare(&x, &y, &profile.frames), expected);
        }

        #[test]
        fn stacks_sort_as_their_text(
            a in prop::collection::vec(prop::sample::select(NAMES), 0..6),
            b in prop::collection::vec(prop::sample::select(NAMES), 0..6),
        ) {
            let mut profile = Profile::new();
            let ids = |names: &[&str], p: &mut Profile| -> Vec<FrameId> {
                std::iter::once(NO_LABEL)
                    .chain(names.iter().map(|n| p.frames.intern(n)))
                    .collect()
            };
            let (x, y) = (ids(&a, &mut profile), ids(&b, &mut profile));
            let expected = a.join(";").as_bytes().cmp(b.join(";").as_bytes());
            prop_assert_eq!(compare_stacks(&x, &y, &profile.frames), expected);
        }
    }

    #[test]
    fn shared_prefix_counts_across_groups_of_four() {
        let a: Vec<FrameId> = (0..11).collect();
        for cut in 0..11 {
            let mut b = a.clone();
            b[cut] = 99;
            assert_eq!(shared_prefix(&a, &b), cut);
        }
        assert_eq!(shared_prefix(&a, &a[..7]), 7);
    }
}
