//! Re-rooting stacks that perf cut mid-recursion.
//!
//! perf copies a bounded slice of the user stack, so in a deep recursion
//! most samples begin inside it: `prog;[unknown];{even,odd};crunch` instead
//! of `prog;_start;…;main;{even,odd};crunch`. Left alone they form a second
//! tower beside `main`. A stack is **truncated** when, below its root label,
//! it has only pseudo-frames and then a member of a folded cycle. Each is
//! re-attached under the entry path by which complete stacks (same root
//! label) enter that cycle with the most samples (ties: the first in byte
//! order); with no such path it goes under `root;[truncated]`. The
//! pseudo-frames before the cycle are dropped either way.

use rustc_hash::FxHashMap;

use crate::engine::fold::compare_stacks;
use crate::engine::graph::CycleId;
use crate::engine::stats::{FoldStats, Rerooted};
use crate::profile::{FrameId, Frames, StackRef};

/// The frame that truncated stacks with no known entry path go under.
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
}

/// Re-attaches every truncated stack (folded, in `segments`) under its
/// cycle's main entry path, or under `[truncated]`, in an arena of their
/// own; records what it did in `stats`.
pub fn reroot(
    frames: &mut Frames,
    segments: &mut Vec<Vec<FrameId>>,
    stacks: &mut [StackRef],
    sightings: &[EntrySighting],
    truncated: &[Truncated],
    stats: &mut FoldStats,
) {
    if truncated.is_empty() {
        return;
    }
    let paths = main_entry_paths(frames, segments, stacks, sightings);
    let marker = frames.intern(TRUNCATED_FRAME);
    let mut moved: FxHashMap<(CycleId, FrameId), u64> = FxHashMap::default();
    let mut arena = Vec::new();
    let segment = segments.len();
    for t in truncated {
        let stack = stacks[t.stack];
        let old = stack.frames_in(segments);
        let root = old[0];
        let path = paths.get(&(t.cycle, root));
        let start = arena.len();
        match path {
            Some(path) => arena.extend_from_slice(path),
            None => arena.extend_from_slice(&[root, marker]),
        }
        arena.extend_from_slice(&old[1 + t.skipped..]);
        stacks[t.stack] = StackRef::new(segment, start, arena.len() - start, stack.count);
        let caller = path.and_then(|p| p.last().copied()).unwrap_or(marker);
        stats.record_entry(t.cycle, caller, stack.count);
        *moved.entry((t.cycle, root)).or_default() += stack.count;
    }
    segments.push(arena);
    record_truncation(&paths, moved, stats);
}

/// For each (cycle, root label), the entry path with the most samples.
fn main_entry_paths(
    frames: &Frames,
    segments: &[Vec<FrameId>],
    stacks: &[StackRef],
    sightings: &[EntrySighting],
) -> FxHashMap<(CycleId, FrameId), Vec<FrameId>> {
    let mut samples: FxHashMap<(CycleId, &[FrameId]), u64> = FxHashMap::default();
    for s in sightings {
        let stack = stacks[s.stack];
        let path = &stack.frames_in(segments)[..s.prefix_len];
        *samples.entry((s.cycle, path)).or_default() += stack.count;
    }
    let mut best: FxHashMap<(CycleId, FrameId), (&[FrameId], u64)> = FxHashMap::default();
    for ((cycle, path), count) in samples {
        let slot = best.entry((cycle, path[0])).or_insert((path, count));
        let better =
            count > slot.1 || (count == slot.1 && compare_stacks(path, slot.0, frames).is_lt());
        if better {
            *slot = (path, count);
        }
    }
    best.into_iter()
        .map(|(key, (path, _))| (key, path.to_vec()))
        .collect()
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
