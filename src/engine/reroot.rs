//! Re-rooting stacks that perf cut mid-recursion.
//!
//! perf copies a bounded slice of the user stack, so in a deep recursion
//! most samples begin inside it: `prog;[unknown];{even,odd};crunch` instead
//! of `prog;_start;…;main;{even,odd};crunch`. Left alone they form a second
//! tower beside `main`. A stack is **truncated** when, below its root label,
//! it has only pseudo-frames and then a member of a folded cycle. Each is
//! re-attached under the path by which complete stacks (same root label)
//! enter that cycle. When they enter it by several paths, a cut stack could
//! have come by any of them: it goes under the frames they all share, then
//! `[truncated]` where the frames it lost were (`runtime.main;main.main;
//! [truncated];{even,odd}` when `main.main` enters the recursion both
//! through `shallow` and through `deep`). With no complete stack entering
//! the cycle it goes under `root;[truncated]`. The pseudo-frames before the
//! cycle are dropped in every case.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::graph::CycleId;
use crate::engine::stats::{FoldStats, Rerooted};
use crate::profile::{FrameId, Frames, StackRef};

/// The frame that stands for the frames a truncated stack lost, where they
/// cannot be known.
pub const TRUNCATED_FRAME: &str = "[truncated]";

/// A complete folded stack entering `cycle` after `prefix_len` frames.
#[derive(Debug, Clone, Copy)]
pub struct EntrySighting {
    /// The cycle entered.
    pub cycle: CycleId,
    /// The stack (index into the stack table).
    pub stack: usize,
    /// Folded frames before the cycle's frame: the entry path's length.
    pub prefix_len: usize,
}

/// A stack that begins mid-recursion.
#[derive(Debug, Clone, Copy)]
pub struct Truncated {
    /// The stack (index into the stack table).
    pub stack: usize,
    /// The cycle it begins in.
    pub cycle: CycleId,
    /// Pseudo-frames between the root label and the cycle.
    pub skipped: usize,
    /// The member the stack begins with (its run's first frame).
    pub first: FrameId,
    /// Whether the stack ends off the CPU (`[off-cpu]`).
    pub off_cpu: bool,
}

/// What the fold saw of cut stacks, and the cycles' frames.
#[derive(Debug, Clone, Copy)]
pub struct Cut<'a> {
    /// Complete stacks entering a cycle.
    pub sightings: &'a [EntrySighting],
    /// Stacks that begin mid-recursion.
    pub truncated: &'a [Truncated],
    /// Each cycle's frame, by cycle id.
    pub cycle_frames: &'a [FrameId],
}

/// Re-attaches every truncated stack (folded, in `segments`) under the entry
/// path its cycle's complete stacks share, or under `[truncated]`, in an
/// arena of their own; records what it did in `stats`: the entry, and the
/// samples of every other cycle whose frame the path goes through (the
/// stack now stands on that frame in the flame graph).
pub fn reroot(
    frames: &mut Frames,
    segments: &mut Vec<Vec<FrameId>>,
    stacks: &mut [StackRef],
    cut: &Cut,
    stats: &mut FoldStats,
) {
    let Cut {
        sightings,
        truncated,
        cycle_frames,
    } = *cut;
    if truncated.is_empty() {
        return;
    }
    let cycle_of: FxHashMap<FrameId, CycleId> = cycle_frames
        .iter()
        .enumerate()
        .map(|(c, &f)| (f, c as CycleId))
        .collect();
    let marker = frames.intern(TRUNCATED_FRAME);
    let paths = entry_paths(segments, stacks, sightings, marker);
    let mut moved: FxHashMap<(CycleId, FrameId), u64> = FxHashMap::default();
    let mut arena = Vec::new();
    let segment = segments.len();
    for t in truncated {
        let stack = stacks[t.stack];
        let old = stack.frames_in(segments);
        let root = old[0];
        let start = arena.len();
        match paths.get(&(t.cycle, root)) {
            Some(path) => arena.extend_from_slice(path),
            None => arena.extend_from_slice(&[root, marker]),
        }
        let caller = arena[arena.len() - 1];
        let path_end = arena.len();
        arena.extend_from_slice(&old[1 + t.skipped..]);
        stacks[t.stack] = StackRef::new(segment, start, arena.len() - start, stack.count);
        stats.record_entry(t.cycle, caller, t.first, stack.count);
        let (path, rest) = arena[start..].split_at(path_end - start);
        let mut under: Vec<CycleId> = path
            .iter()
            .filter(|f| !rest.contains(f))
            .filter_map(|f| cycle_of.get(f).copied())
            .collect();
        under.sort_unstable();
        under.dedup();
        for cycle in under {
            stats.record_rerooted_under(cycle, stack.count, t.off_cpu);
        }
        *moved.entry((t.cycle, root)).or_default() += stack.count;
    }
    segments.push(arena);
    record_truncation(&paths, moved, stats);
}

/// For each (cycle, root label) that complete stacks enter: the path they
/// all take, or the frames their paths share followed by `marker`.
///
/// A path that is the tail end of a longer one (the same frames from some
/// point down to the cycle) is a stack the profiler cut above the
/// recursion, not a path of its own, and is left out.
fn entry_paths(
    segments: &[Vec<FrameId>],
    stacks: &[StackRef],
    sightings: &[EntrySighting],
    marker: FrameId,
) -> FxHashMap<(CycleId, FrameId), Vec<FrameId>> {
    let mut paths: FxHashMap<(CycleId, FrameId), FxHashSet<&[FrameId]>> = FxHashMap::default();
    for s in sightings {
        let path = &stacks[s.stack].frames_in(segments)[..s.prefix_len];
        paths.entry((s.cycle, path[0])).or_default().insert(path);
    }
    paths
        .into_iter()
        .filter_map(|(key, paths)| {
            let (prefix, whole) = shared_path(&without_cut_copies(paths));
            (whole || prefix.len() > 1).then(|| {
                let mut path = prefix.to_vec();
                if !whole {
                    path.push(marker);
                }
                (key, path)
            })
        })
        .collect()
}

/// The paths (root label first) that are not the tail end of another below
/// its root label.
fn without_cut_copies(paths: FxHashSet<&[FrameId]>) -> Vec<&[FrameId]> {
    let tails: FxHashSet<&[FrameId]> = paths
        .iter()
        .flat_map(|path| (2..path.len()).map(move |from| &path[from..]))
        .collect();
    let mut kept: Vec<&[FrameId]> = paths
        .into_iter()
        .filter(|path| !tails.contains(&path[1..]))
        .collect();
    kept.sort_unstable();
    kept
}

/// The frames `paths` share from the start, and whether that is all of
/// every path (they are one path).
fn shared_path<'a>(paths: &[&'a [FrameId]]) -> (&'a [FrameId], bool) {
    let Some((&first, rest)) = paths.split_first() else {
        return (&[], false);
    };
    let shared = rest
        .iter()
        .fold(first.len(), |n, path| n.min(common_prefix(first, path)));
    (&first[..shared], rest.is_empty())
}

/// How many leading frames `a` and `b` share.
fn common_prefix(a: &[FrameId], b: &[FrameId]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Fills `stats.truncation` in a deterministic order (by cycle, then path).
fn record_truncation(
    paths: &FxHashMap<(CycleId, FrameId), Vec<FrameId>>,
    moved: FxHashMap<(CycleId, FrameId), u64>,
    stats: &mut FoldStats,
) {
    let mut moved: Vec<((CycleId, FrameId), u64)> = moved.into_iter().collect();
    moved.sort_unstable();
    let truncation = &mut stats.truncation;
    for ((cycle, root), samples) in moved {
        truncation.truncated_samples += samples;
        match paths.get(&(cycle, root)) {
            Some(path) => truncation.rerooted.push(Rerooted {
                cycle,
                entry_path: path.clone(),
                samples,
            }),
            None => match truncation.grouped.last_mut() {
                Some((c, n)) if *c == cycle => *n += samples,
                _ => truncation.grouped.push((cycle, samples)),
            },
        }
    }
}
