//! What the samples say about recursion, beyond the call graph.
//!
//! A call graph built from printed names joins functions that print alike:
//! the `FnOnce::call_once` that starts `main` and the one inside a parser's
//! closures are one node, so `main` lands in the parser's cycle though it
//! never recursed. Three facts from the stacks themselves correct for it:
//!
//! - **Re-entry**: a function that recursed was on some stack twice. A cycle
//!   member that is never twice on one stack (`main`, start-up code) is kept
//!   out of cycles and the cycles are found again without it
//!   ([`frames_on_a_stack_twice`]).
//! - **Where the work is**: the recursion's samples leave it, to do their
//!   work or as leaves, from the function its author wrote (`qsort` calling
//!   `partition`), not from the plumbing it recurses through (`join`,
//!   `catch_unwind`); the naming rule uses it ([`work_by_member`]).
//! - **Inside the recursion**: a member that a stack shows between two
//!   calls of one member of its cycle, with only members between (the
//!   recursion went around through it), is part of the recursion the
//!   samples show; excluding it would cut that recursion, so the giant-cycle
//!   advice never suggests it ([`members_inside_the_recursion`]).

use crate::engine::graph::{CycleId, Cycles, is_pseudo_frame};
use crate::profile::{Calls, FrameId, Frames, Profile};

/// Which of the `candidates` (by frame id) are on at least one stack twice,
/// below the root label, in any of the profiles whose `calls` are given
/// (noted as the stacks were read).
pub fn frames_on_a_stack_twice(calls: &[Calls], candidates: &[bool]) -> Vec<bool> {
    candidates
        .iter()
        .enumerate()
        .map(|(f, &c)| c && calls.iter().any(|p| p.on_a_stack_twice(f as u32)))
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
    let Some(kind) = frame_kinds(frames, cycles, min_members) else {
        return Vec::new();
    };
    let (mut work, other) = on_two_halves(profiles, |stacks| {
        let mut work = vec![0; frames.len()];
        add_work(stacks, &kind, &mut work);
        work
    });
    for (mine, theirs) in work.iter_mut().zip(other) {
        *mine += theirs;
    }
    work
}

/// The stacks of one half of `profiles`.
type Half<'a> = Box<dyn Iterator<Item = (&'a [FrameId], u64)> + 'a>;

/// `pass` over each half of the stacks of `profiles` (each profile cut in
/// two), the halves on two threads.
fn on_two_halves<'a, T: Send>(
    profiles: &'a [Profile],
    pass: impl Fn(Half<'a>) -> T + Sync,
) -> (T, T) {
    let half = |second: bool| -> Half<'a> {
        Box::new(profiles.iter().flat_map(move |p| {
            let mid = p.stack_count() / 2;
            p.stacks_in(if second { mid..p.stack_count() } else { 0..mid })
        }))
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| pass(half(true)));
        let first = pass(half(false));
        (first, other.join().expect("a pass over stacks panicked"))
    })
}

/// What the passes over stacks need to know of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// A member of a counted cycle.
    Member(CycleId),
    /// A pseudo-frame: it neither ends a run nor joins one.
    Pseudo,
    /// Anything else: it ends a run.
    Other,
}

impl FrameKind {
    /// The cycle of a frame that is not a pseudo-frame (`None` outside
    /// every counted cycle); `None` for a pseudo-frame, which is skipped.
    #[inline]
    fn run_cycle(self) -> Option<Option<CycleId>> {
        match self {
            FrameKind::Pseudo => None,
            FrameKind::Member(c) => Some(Some(c)),
            FrameKind::Other => Some(None),
        }
    }
}

/// Per frame (numbered as in `frames`): a member of a cycle of more than
/// `min_members` members (counted), a pseudo-frame, or other; `None` when
/// no cycle is that big, so no pass is needed.
fn frame_kinds(frames: &Frames, cycles: &Cycles, min_members: usize) -> Option<Vec<FrameKind>> {
    if cycles.iter().all(|c| c.members.len() <= min_members) {
        return None;
    }
    let kinds = frames
        .iter()
        .map(|(id, name)| match cycles.cycle_of(id) {
            Some(c) if cycles.get(c).members.len() > min_members => FrameKind::Member(c),
            _ if is_pseudo_frame(name) => FrameKind::Pseudo,
            _ => FrameKind::Other,
        })
        .collect();
    Some(kinds)
}

/// Adds to `work` the samples of the runs of `stacks` that end at each
/// member, `kind` saying what each frame is.
fn add_work<'a>(
    stacks: impl Iterator<Item = (&'a [u32], u64)>,
    kind: &[FrameKind],
    work: &mut [u64],
) {
    for (stack, count) in stacks {
        // From the root down (the order the stack lies in memory): the
        // last frame that is not a pseudo-frame, and its cycle; a member
        // ends a run where the next such frame is not of its cycle.
        let (mut last, mut last_cycle) = (0, None);
        for &frame in stack.iter().skip(1) {
            let Some(cycle) = kind[frame as usize].run_cycle() else {
                continue;
            };
            if last_cycle.is_some() && last_cycle != cycle {
                work[last as usize] += count;
            }
            (last, last_cycle) = (frame, cycle);
        }
        if last_cycle.is_some() {
            work[last as usize] += count;
        }
    }
}

/// For every frame (numbered as in `frames`), whether it is a member of a
/// cycle of more than `min_members` members that some stack of `profiles`
/// shows inside the recursion: in one run of the cycle (only members, or
/// pseudo-frames, between), between two occurrences of one member, or
/// itself twice. The recursion went around through it once; excluding it
/// would cut that. Empty when no cycle is that big.
pub fn members_inside_the_recursion(
    profiles: &[Profile],
    frames: &Frames,
    cycles: &Cycles,
    min_members: usize,
) -> Vec<bool> {
    let Some(kind) = frame_kinds(frames, cycles, min_members) else {
        return Vec::new();
    };
    let members = kind
        .iter()
        .filter(|k| matches!(k, FrameKind::Member(_)))
        .count();
    let (mut inside, other) = on_two_halves(profiles, |stacks| inside_in(stacks, &kind, members));
    for (mine, theirs) in inside.iter_mut().zip(other) {
        *mine |= theirs;
    }
    inside
}

/// Which of the `members` (by `kind`) some of `stacks` shows inside the
/// recursion.
fn inside_in<'a>(
    stacks: impl Iterator<Item = (&'a [FrameId], u64)>,
    kind: &[FrameKind],
    members: usize,
) -> Vec<bool> {
    let mut left = members;
    let mut inside = vec![false; kind.len()];
    let mut last = LastSeen::new(kind.len());
    let mut run: Vec<FrameId> = Vec::new();
    for (stack, _) in stacks {
        // Once every member is inside, there is nothing left to find.
        if left == 0 {
            break;
        }
        let mut current = None;
        for &frame in stack.iter().skip(1) {
            let Some(cycle) = kind[frame as usize].run_cycle() else {
                continue;
            };
            if cycle != current {
                left -= mark_loops(&run, &mut last, &mut inside);
                run.clear();
                current = cycle;
            }
            if cycle.is_some() {
                run.push(frame);
            }
        }
        left -= mark_loops(&run, &mut last, &mut inside);
        run.clear();
    }
    inside
}

/// Marks in `inside` the frames of one run of a cycle that are between two
/// occurrences of one frame of it, or that occur twice; returns how many
/// were newly marked.
fn mark_loops(run: &[FrameId], last: &mut LastSeen, inside: &mut [bool]) -> usize {
    if run.len() < 2 {
        return 0;
    }
    last.next_run();
    for (position, &frame) in run.iter().enumerate() {
        last.set(frame, position);
    }
    let mut marked = 0;
    // The furthest position a frame seen so far occurs at again.
    let mut reach = 0;
    for (position, &frame) in run.iter().enumerate() {
        let again = last.get(frame) > position;
        if (again || reach > position) && !inside[frame as usize] {
            inside[frame as usize] = true;
            marked += 1;
        }
        reach = reach.max(last.get(frame));
    }
    marked
}

/// The last position of each frame in the current run, without clearing a
/// table the size of the frame table for every run.
struct LastSeen {
    position: Vec<usize>,
    run_of: Vec<u32>,
    run: u32,
}

impl LastSeen {
    fn new(frames: usize) -> Self {
        Self {
            position: vec![0; frames],
            run_of: vec![0; frames],
            run: 0,
        }
    }

    fn next_run(&mut self) {
        self.run = self.run.wrapping_add(1);
        if self.run == 0 {
            self.run_of.fill(0);
            self.run = 1;
        }
    }

    fn set(&mut self, frame: FrameId, position: usize) {
        self.position[frame as usize] = position;
        self.run_of[frame as usize] = self.run;
    }

    fn get(&self, frame: FrameId) -> usize {
        match self.run_of[frame as usize] == self.run {
            true => self.position[frame as usize],
            false => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{CallGraph, FrameFilter, cycles_of};
    use crate::profile::ReadProfile;

    #[test]
    fn work_goes_to_the_member_each_run_ends_at() {
        // Frames: 0 root label, 1 main, 2 a and 3 b (cycle 0), 4 a
        // pseudo-frame, 5 x (cycle 1), 6 a leaf outside any cycle.
        use FrameKind::{Member, Other, Pseudo};
        let kind = [Other, Other, Member(0), Member(0), Pseudo, Member(1), Other];
        let stacks: [(&[u32], u64); 4] = [
            // a b a b, then the leaf: the run ends at b.
            (&[0, 1, 2, 3, 2, 3, 6], 2),
            // a pseudo-frame between two members does not end the run,
            // which ends at b, the leaf.
            (&[0, 1, 2, 4, 3], 3),
            // a run of cycle 0 calls one of cycle 1: both end.
            (&[0, 1, 2, 5, 6], 5),
            // a pseudo-frame below the last member: it still ends there.
            (&[0, 1, 5, 4], 7),
        ];
        let mut work = vec![0; kind.len()];
        add_work(stacks.into_iter(), &kind, &mut work);
        assert_eq!(work, [0, 0, 5, 5, 0, 12, 0]);
    }

    fn inside(lines: &[&str]) -> Vec<String> {
        let read = ReadProfile::of_lines(lines);
        let cycles = cycles_of(
            &CallGraph::new(&read, &FrameFilter::default()),
            &read.profile.frames,
        );
        let p = read.profile;
        let flags = members_inside_the_recursion(std::slice::from_ref(&p), &p.frames, &cycles, 0);
        let mut names: Vec<String> = (0..flags.len())
            .filter(|&f| flags[f])
            .map(|f| p.frames.name(f as FrameId).to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_member_on_a_loop_of_one_run_is_inside_the_recursion() {
        // b goes around through w: w is inside, though once on the stack.
        assert_eq!(inside(&["p;main;a;b;w;a;b"]), ["a", "b", "w"]);
        // `w` between one recursion and another: on no loop of one run.
        let lines = ["p;main;a;b;a;b;w;c;d;c;d", "p;main;c;d;c;d;w;a;b;a;b"];
        assert_eq!(inside(&lines), ["a", "b", "c", "d"]);
    }

    #[test]
    fn pseudo_frames_do_not_end_a_run() {
        let lines = ["p;m;a;b", "p;m;b;a", "p;m;a;[unknown];b;[unknown];a"];
        assert_eq!(inside(&lines), ["a", "b"]);
    }
}
