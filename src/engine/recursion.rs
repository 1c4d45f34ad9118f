//! What the samples say about recursion, beyond the call graph.
//!
//! A call graph built from printed names joins functions that print alike:
//! the `FnOnce::call_once` that starts `main` and the one inside a parser's
//! closures are one node, so `main` lands in the parser's cycle though it
//! never recursed. Two facts from the stacks themselves correct for it:
//!
//! - **Re-entry**: a function that recursed was on some stack twice. A cycle
//!   member that is never twice on one stack (`main`, start-up code) is kept
//!   out of cycles and the cycles are found again without it
//!   ([`frames_on_a_stack_twice`]).
//! - **Where the work is**: the recursion's samples leave it, to do their
//!   work or as leaves, from the function its author wrote (`qsort` calling
//!   `partition`), not from the plumbing it recurses through (`join`,
//!   `catch_unwind`); the naming rule uses it ([`work_by_member`]).

use crate::engine::graph::{Cycles, is_pseudo_frame};
use crate::profile::{Frames, Profile};

/// Which of the `candidates` (by frame id) are on at least one stack of
/// `profiles` twice, below the root label (noted as the stacks were read).
pub fn frames_on_a_stack_twice(profiles: &[Profile], candidates: &[bool]) -> Vec<bool> {
    candidates
        .iter()
        .enumerate()
        .map(|(f, &c)| c && profiles.iter().any(|p| p.on_a_stack_twice(f as u32)))
        .collect()
}

/// For every frame (numbered as in `frames`, the table all `profiles`
/// share), the samples of runs of its cycle that end at it: where the
/// recursion's samples leave it for a callee outside it, or stop as the
/// leaf. A pseudo-frame between two members does not end a run (as in the
/// fold). Only cycles with more than `min_members` members are counted (the
/// naming rule needs no more); empty when there are none.
pub fn work_by_member(
    profiles: &[Profile],
    frames: &Frames,
    cycles: &Cycles,
    min_members: usize,
) -> Vec<u64> {
    if cycles.iter().all(|c| c.members.len() <= min_members) {
        return Vec::new();
    }
    // Per frame: the counted cycle it belongs to, or what it is if none.
    let kind: Vec<u32> = frames
        .iter()
        .map(|(id, name)| match cycles.cycle_of(id) {
            Some(c) if cycles.get(c).members.len() > min_members => c,
            _ if is_pseudo_frame(name) => PSEUDO,
            _ => OUTSIDE,
        })
        .collect();
    // Each profile's stacks in two halves, on two threads.
    let halves = profiles.iter().flat_map(|p| {
        let mid = p.stack_count() / 2;
        [(p, 0..mid), (p, mid..p.stack_count())]
    });
    let (first, second): (Vec<_>, Vec<_>) = halves.enumerate().partition(|(i, _)| i % 2 == 0);
    let count = |parts: Vec<(usize, (&Profile, std::ops::Range<usize>))>| {
        let mut work = vec![0; frames.len()];
        for (_, (profile, range)) in parts {
            add_work(profile.stacks_in(range), &kind, &mut work);
        }
        work
    };
    let (mut work, other) = std::thread::scope(|scope| {
        let other = scope.spawn(|| count(second));
        (
            count(first),
            other.join().expect("a counting thread panicked"),
        )
    });
    for (mine, theirs) in work.iter_mut().zip(other) {
        *mine += theirs;
    }
    work
}

/// A frame of a counted cycle: its cycle's id; other frames are one of
/// these two.
const OUTSIDE: u32 = u32::MAX;
const PSEUDO: u32 = u32::MAX - 1;

/// Adds to `work` the samples of the runs of `stacks` that end at each
/// member, `kind` saying what each frame is.
fn add_work<'a>(stacks: impl Iterator<Item = (&'a [u32], u64)>, kind: &[u32], work: &mut [u64]) {
    for (stack, count) in stacks {
        // From the leaf up: the cycle of the nearest frame below (called
        // by) each frame that is not a pseudo-frame.
        let mut below = OUTSIDE;
        for &frame in stack.iter().skip(1).rev() {
            match kind[frame as usize] {
                PSEUDO => {}
                OUTSIDE => below = OUTSIDE,
                cycle => {
                    if cycle != below {
                        work[frame as usize] += count;
                    }
                    below = cycle;
                }
            }
        }
    }
}
