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
//! - **Re-entry through the cycle**: a member that is twice on one stack
//!   with only members of its cycle between is part of the recursion the
//!   samples show; excluding it would cut that recursion, so the giant-cycle
//!   advice never suggests it ([`members_reentering_through_their_cycle`]).

use crate::engine::graph::{Cycles, is_pseudo_frame};
use crate::profile::{FrameId, Frames, Profile};

/// Which of the `candidates` (by frame id) are on at least one stack of
/// `profiles` twice, below the root label.
pub fn frames_on_a_stack_twice(profiles: &[Profile], candidates: &[bool]) -> Vec<bool> {
    let mut twice = vec![false; candidates.len()];
    let mut left = candidates.iter().filter(|&&c| c).count();
    // The stack a frame was last seen on, plus one (0: never).
    let mut seen_on = vec![0u32; candidates.len()];
    let mut stamp = 0u32;
    let stacks = profiles.iter().flat_map(|p| p.stacks());
    for (frames, _) in stacks {
        if left == 0 {
            break;
        }
        stamp = stamp.wrapping_add(1);
        if stamp == 0 {
            seen_on.fill(0);
            stamp = 1;
        }
        for &frame in frames.iter().skip(1) {
            let f = frame as usize;
            if !candidates[f] {
                continue;
            }
            if seen_on[f] == stamp {
                if !twice[f] {
                    twice[f] = true;
                    left -= 1;
                }
            } else {
                seen_on[f] = stamp;
            }
        }
    }
    twice
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
    let pseudo: Vec<bool> = frames.iter().map(|(_, n)| is_pseudo_frame(n)).collect();
    let counted = |frame: FrameId| {
        cycles
            .cycle_of(frame)
            .filter(|&c| cycles.get(c).members.len() > min_members)
    };
    let mut work = vec![0; frames.len()];
    for (stack, count) in profiles.iter().flat_map(|p| p.stacks()) {
        for (i, &frame) in stack.iter().enumerate().skip(1) {
            let Some(cycle) = counted(frame) else {
                continue;
            };
            let next = stack[i + 1..].iter().find(|&&f| !pseudo[f as usize]);
            if next.and_then(|&f| counted(f)) != Some(cycle) {
                work[frame as usize] += count;
            }
        }
    }
    work
}

/// For every frame (numbered as in `frames`), whether it is a member of a
/// cycle of more than `min_members` members that is twice on one stack of
/// `profiles` with only members of that cycle (or pseudo-frames) between:
/// it re-enters itself through the cycle. Empty when no cycle is that big.
pub fn members_reentering_through_their_cycle(
    profiles: &[Profile],
    frames: &Frames,
    cycles: &Cycles,
    min_members: usize,
) -> Vec<bool> {
    if cycles.iter().all(|c| c.members.len() <= min_members) {
        return Vec::new();
    }
    let pseudo: Vec<bool> = frames.iter().map(|(_, n)| is_pseudo_frame(n)).collect();
    let counted = |frame: FrameId| {
        cycles
            .cycle_of(frame)
            .filter(|&c| cycles.get(c).members.len() > min_members)
    };
    let mut reenters = vec![false; frames.len()];
    // The run a frame was last seen in, plus one (0: never).
    let mut seen_in = vec![0u32; frames.len()];
    let mut run = 0u32;
    for (stack, _) in profiles.iter().flat_map(|p| p.stacks()) {
        let mut current = None;
        for &frame in stack.iter().skip(1) {
            if pseudo[frame as usize] {
                continue;
            }
            let cycle = counted(frame);
            if cycle.is_none() || cycle != current {
                current = cycle;
                run = run.wrapping_add(1);
                if run == 0 {
                    seen_in.fill(0);
                    run = 1;
                }
            }
            if cycle.is_some() {
                let f = frame as usize;
                reenters[f] |= seen_in[f] == run;
                seen_in[f] = run;
            }
        }
    }
    reenters
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{CallGraph, FrameFilter, cycles_of};

    fn reentering(lines: &[&str]) -> Vec<String> {
        let p = Profile::of_lines(lines);
        let cycles = cycles_of(&CallGraph::new(&p, &FrameFilter::default()), &p.frames);
        let flags =
            members_reentering_through_their_cycle(std::slice::from_ref(&p), &p.frames, &cycles, 0);
        let mut names: Vec<String> = (0..flags.len())
            .filter(|&f| flags[f])
            .map(|f| p.frames.name(f as FrameId).to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_member_between_two_of_its_own_runs_does_not_reenter_through_them() {
        // `w` above `main` (outside the cycle) and again inside: it is on
        // the stack twice, but not through its cycle; `a` and `b` are.
        let lines = ["p;w;main;a;w;b;a;w;b"];
        assert_eq!(reentering(&lines), ["a", "b", "w"]);
        let lines = ["p;w;main;a;b;a;b", "p;x;b;w;a;b"];
        assert_eq!(reentering(&lines), ["a", "b"]);
    }

    #[test]
    fn pseudo_frames_do_not_end_a_run() {
        let lines = ["p;m;a;b", "p;m;b;a", "p;m;a;[unknown];b;[unknown];a"];
        assert_eq!(reentering(&lines), ["a"]);
    }
}
