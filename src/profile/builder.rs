//! Building a profile while it is read: a stack added again only adds to
//! its count, and each new stack's caller→callee pairs and repeated frames
//! are noted as it arrives, so that the engine needs no second pass over
//! the stacks to build its call graph. What only reading needs lives here,
//! not in the [`Profile`] every stage imports; [`ProfileBuilder::finish`]
//! hands over the model and its [`Calls`].

use super::call_pairs::{CallPairs, RecentPairs};
use super::calls::Calls;
use super::frames::{FrameId, Frames, NO_LABEL};
use super::recursed::Recursed;
use super::stack_index::{StackIndex, hash_parts};
use super::{InputInfo, Profile, ReadProfile, Timeline};

/// The longest period of a recursion [`ProfileBuilder`] follows when it
/// notes a stack's frames.
const PERIODS: usize = 4;

/// A profile being read, with the state reading needs.
#[derive(Debug, Default, Clone)]
pub struct ProfileBuilder {
    profile: Profile,
    /// Finds a stack added again (see [`StackIndex`]).
    index: StackIndex,
    /// The stack the last push added to (new or merged).
    last: usize,
    /// The caller→callee pairs noted so far.
    pairs: CallPairs,
    /// The pairs noted last, to skip most repeats cheaply.
    recent_pairs: RecentPairs,
    /// Which frames were on one stack twice.
    recursed: Recursed,
    /// The recording's samples in time order, if its reader kept them.
    timeline: Option<Timeline>,
}

impl ProfileBuilder {
    /// An empty profile to read into.
    pub fn new() -> Self {
        Self::default()
    }

    /// The profile as read so far.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Sets what the counts count (a recording knows; a file's reader
    /// leaves it to [`crate::profile::Unit::of_frames`]).
    pub fn set_unit(&mut self, unit: crate::profile::Unit) {
        self.profile.unit = unit;
    }

    /// The frame table, to intern the frames of the next stack.
    pub fn frames_mut(&mut self) -> &mut Frames {
        &mut self.profile.frames
    }

    /// Notes one more input the stacks come from.
    pub fn add_input(&mut self, input: InputInfo) {
        self.profile.inputs.push(input);
    }

    /// Hands over the profile and what reading noted of its calls.
    pub fn finish(mut self) -> ReadProfile {
        let twice = std::mem::take(&mut self.recursed.twice);
        ReadProfile {
            profile: self.profile,
            calls: Calls::new(self.pairs, twice),
            timeline: self.timeline,
        }
    }

    /// Keeps `timeline` beside the profile: the samples of a recording,
    /// their stacks numbered as this profile's.
    pub fn set_timeline(&mut self, timeline: Timeline) {
        self.timeline = Some(timeline);
    }

    /// The index of the stack the last push added to (new or merged), for a
    /// timeline's samples to name it.
    pub fn last_stack(&self) -> usize {
        self.last
    }

    /// Adds a stack given as frame ids, root label (or [`NO_LABEL`]) first.
    ///
    /// `known_prefix` says how many leading frames are the same as in a stack
    /// added before, whose pairs are therefore already noted.
    pub fn push_ids(&mut self, ids: &[FrameId], count: u64, known_prefix: usize) {
        // The root label (position 0) is never a caller in the call graph,
        // and pairs inside the known prefix were noted before.
        let first_callee = known_prefix.max(2) - 1;
        self.push_parts(&[], ids, count, first_callee);
    }

    /// Adds `count` samples to the stack the last push added to: for a
    /// reader that sees the same stack again at once.
    pub fn repeat_last(&mut self, count: u64) {
        self.profile.add_count(self.last, count);
    }

    /// Adds a stack from a profiler that writes no root label: `frames`
    /// outermost first, stored after a [`NO_LABEL`] slot.
    pub fn push_unlabelled(&mut self, frames: &[FrameId], count: u64) {
        self.push_parts(&[NO_LABEL], frames, count, 1);
    }

    /// Stores `head` (the label slot, or nothing) then `rest` as one stack,
    /// or adds `count` to the same stack added before. A new stack's frames
    /// below the label are noted (which recur, and the caller→callee pairs
    /// from callee `first_callee` on, counted from the first frame below
    /// the label).
    fn push_parts(&mut self, head: &[FrameId], rest: &[FrameId], count: u64, first_callee: usize) {
        let profile = &mut self.profile;
        self.index.make_valid(&profile.segments, &profile.stacks);
        let hash = hash_parts(head, rest, false);
        let same = |&(h, i): &(u64, u32)| {
            let stack = profile.stacks[i as usize];
            h == hash
                && !stack.is_whole()
                && stack.len() == head.len() + rest.len()
                && stack.frames_in(&profile.segments).split_at(head.len()) == (head, rest)
        };
        if let Some(&(_, i)) = self.index.table.find(hash, same) {
            self.last = i as usize;
            profile.add_count(self.last, count);
            return;
        }
        self.last = profile.store(head, rest, count);
        self.index.add(hash, self.last);
        let below_label = match head {
            [] => rest.get(1..).unwrap_or_default(),
            _ => rest,
        };
        self.note_new_stack(below_label, first_callee);
    }

    /// Notes, in one pass over a new stack's frames below its label, which
    /// frames it holds twice and (from callee `first_callee` on) its
    /// caller→callee pairs.
    ///
    /// Inside a recursion a frame mostly repeats the one a period back
    /// (one to [`PERIODS`] frames): such a frame is on the stack twice, and
    /// where the frame before it repeats too, its pair was noted a period
    /// back. Only the other frames are looked up in the tables.
    fn note_new_stack(&mut self, frames: &[FrameId], first_callee: usize) {
        let recursed = &mut self.recursed;
        let stamp = recursed.next_stack(self.profile.frames.len());
        let first_callee = first_callee.max(1);
        let mut period = 1;
        for (i, &frame) in frames.iter().enumerate() {
            let f = frame as usize;
            let repeats = |period: usize| i >= period && frames[i - period] == frame;
            if !repeats(period) {
                period = (1..=PERIODS).find(|&p| repeats(p)).unwrap_or(period);
            }
            if repeats(period) {
                recursed.twice[f] = true;
                let noted = i > period
                    && i - period >= first_callee
                    && frames[i - 1] == frames[i - 1 - period];
                if noted {
                    continue;
                }
            } else {
                if recursed.seen_on[f] == stamp {
                    recursed.twice[f] = true;
                }
                recursed.seen_on[f] = stamp;
            }
            if i >= first_callee {
                let pair = (frames[i - 1], frame);
                if self.recent_pairs.first_sighting(pair) {
                    self.pairs.insert(pair);
                }
            }
        }
    }

    /// Moves every stack and pair of `other` into this profile, mapping its
    /// frame ids onto this profile's table in place: its frames are not
    /// copied. A stack both hold is held twice until the fold merges them.
    pub fn absorb(&mut self, mut other: ProfileBuilder) {
        let this = &self.profile;
        if this.stacks.is_empty() && this.frames.is_empty() && self.pairs.is_empty() {
            // Nothing to renumber onto: take `other` whole, after the
            // inputs already read (which may have had no stacks).
            let mut inputs = std::mem::take(&mut self.profile.inputs);
            inputs.append(&mut other.profile.inputs);
            *self = other;
            self.profile.inputs = inputs;
            return;
        }
        // A timeline is one recording's: profiles read together keep none.
        self.timeline = None;
        let ids = self.profile.frames.adopt_all(&other.profile.frames);
        other.renumber(&ids);
        self.profile.append(other.profile);
        // Stacks both profiles hold stay two until the fold merges them:
        // finding them here would cost a hash of every stack again.
        self.index.invalidate();
        self.recursed.merge(&other.recursed);
        self.pairs.absorb(other.pairs);
    }

    /// Rewrites every frame id `f` of the stacks and notes as `ids[f]`.
    fn renumber(&mut self, ids: &[FrameId]) {
        self.profile.renumber(ids);
        self.index.invalidate();
        self.recursed.renumber(ids);
        self.pairs.renumber(ids);
    }

    /// Turns every root label into an ordinary outermost frame, behind a
    /// [`NO_LABEL`] slot: for inputs whose first frames are functions, not
    /// process names. Stacks that already have no label are left alone.
    pub fn demote_root_labels(&mut self) {
        self.rebuild_stacks(|frames| match frames {
            [] | [NO_LABEL, ..] => (None, 0),
            _ => (Some(NO_LABEL), 0),
        });
    }

    /// Makes the first frame of every unlabelled stack its root label: the
    /// opposite of [`ProfileBuilder::demote_root_labels`], when told that
    /// the input's first frames are process names after all.
    pub fn promote_first_frames(&mut self) {
        // A stack with no frame at all keeps its empty slot.
        self.rebuild_stacks(|frames| match frames {
            [NO_LABEL, _, ..] => (None, 1),
            _ => (None, 0),
        });
    }

    /// Rewrites every stack into one new arena: `change` says what frame to
    /// put before it and how many leading frames to drop; the notes are
    /// made again from the new stacks.
    fn rebuild_stacks(&mut self, change: impl Fn(&[FrameId]) -> (Option<FrameId>, usize)) {
        let profile = &mut self.profile;
        let size = profile.segments.iter().map(Vec::len).sum::<usize>() + profile.stacks.len();
        let mut arena = Vec::with_capacity(size);
        let mut stacks = std::mem::take(&mut profile.stacks);
        for stack in &mut stacks {
            let frames = stack.frames_in(&profile.segments);
            let (before, drop) = change(frames);
            let start = arena.len();
            arena.extend(before);
            arena.extend_from_slice(&frames[drop..]);
            *stack = stack.moved(0, start, arena.len() - start);
        }
        self.profile.segments = vec![arena];
        self.profile.stacks = stacks;
        self.note_again();
    }

    /// Re-keys every frame known only by its name for which `key_of` gives
    /// another name: from now on it prints as that name, and frames that
    /// print alike are one frame (py-spy's `f (x.py:3)` and `f (x.py:9)`
    /// become `f (x.py)`). Where frames merged, the stacks are renumbered
    /// onto the new table and the notes made again: one frame may now be
    /// on a stack twice. Stacks that became equal stay two until the fold
    /// merges them.
    pub fn merge_frames(&mut self, key_of: impl Fn(&str) -> Option<String>) {
        let (frames, ids) = self.profile.frames.rekeyed(key_of);
        self.profile.frames = frames;
        let merged = ids.iter().enumerate().any(|(f, &id)| id as usize != f);
        if merged {
            self.profile.renumber(&ids);
            self.note_again();
        }
    }

    /// Forgets the notes and makes them again from every stack, below its
    /// label: for passes that rewrote the stacks.
    fn note_again(&mut self) {
        self.index.invalidate();
        self.pairs = CallPairs::default();
        self.recent_pairs = RecentPairs::default();
        self.recursed = Recursed::default();
        let segments = std::mem::take(&mut self.profile.segments);
        let stacks = std::mem::take(&mut self.profile.stacks);
        for stack in &stacks {
            let frames = stack.frames_in(&segments);
            self.note_new_stack(frames.get(1..).unwrap_or_default(), 1);
        }
        self.profile.segments = segments;
        self.profile.stacks = stacks;
    }

    /// Marks every stack as whole: for inputs from a profiler that never
    /// cuts stacks (py-spy), so that none counts as cut mid-recursion.
    pub fn mark_stacks_whole(&mut self) {
        for stack in &mut self.profile.stacks {
            stack.mark_whole();
        }
        self.index.invalidate();
    }

    /// Sorts the caller→callee pairs noted so far into one run: each
    /// parser thread does it before its profile is merged, so the merge
    /// itself has little left to do.
    pub fn settle_pairs(&mut self) {
        self.pairs.settle();
    }
}

#[cfg(test)]
impl ProfileBuilder {
    /// A profile of stacks given as `label;frame;…` text, one sample each.
    pub fn of_lines(lines: &[&str]) -> ProfileBuilder {
        let mut builder = ProfileBuilder::new();
        for line in lines {
            builder.push_names(line.split(';'), 1);
        }
        builder
    }

    /// Adds a stack given as names (root label first).
    pub fn push_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, count: u64) {
        let ids: Vec<FrameId> = names
            .into_iter()
            .map(|n| self.frames_mut().intern(n))
            .collect();
        self.push_ids(&ids, count, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Origin, SourceLocation};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// The shortcuts taken for frames that repeat a period back leave
        /// the pairs and the frames on a stack twice as a plain pass over
        /// every frame finds them.
        #[test]
        fn pairs_and_repeats_are_those_of_every_frame(
            stacks in prop::collection::vec(prop::collection::vec(0u8..6, 0..40), 1..20)
        ) {
            let lines: Vec<String> = stacks
                .iter()
                .map(|s| std::iter::once("p".to_string()).chain(s.iter().map(|f| format!("f{f}"))).collect::<Vec<_>>().join(";"))
                .collect();
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let ReadProfile { profile, calls, .. } = ProfileBuilder::of_lines(&refs).finish();
            let mut pairs = BTreeSet::new();
            let mut twice = BTreeSet::new();
            for stack in &stacks {
                for (i, f) in stack.iter().enumerate() {
                    if i > 0 {
                        pairs.insert((format!("f{}", stack[i - 1]), format!("f{f}")));
                    }
                    if stack[..i].contains(f) {
                        twice.insert(format!("f{f}"));
                    }
                }
            }
            let name = |id: FrameId| profile.frames.name(id).to_string();
            let found: BTreeSet<(String, String)> =
                calls.pairs().map(|(a, b)| (name(a), name(b))).collect();
            prop_assert_eq!(found, pairs);
            let found: BTreeSet<String> = (0..profile.frames.len() as FrameId)
                .filter(|&f| calls.on_a_stack_twice(f))
                .map(name)
                .collect();
            prop_assert_eq!(found, twice);
        }
    }

    fn input(name: &str) -> InputInfo {
        InputInfo {
            source: name.into(),
            format: "folded stacks".into(),
            root_labels: true,
        }
    }

    #[test]
    fn a_stack_added_again_adds_to_its_count() {
        let read = ProfileBuilder::of_lines(&["p;a;b", "p;a", "p;a;b"]).finish();
        assert_eq!(read.profile.lines(), ["p;a;b 2", "p;a 1"]);
        assert_eq!(read.profile.total_samples(), 3);
    }

    #[test]
    fn absorbing_keeps_the_inputs_of_an_empty_profile() {
        let mut all = ProfileBuilder::new();
        all.add_input(input("empty.folded"));
        let mut next = ProfileBuilder::of_lines(&["p;a;b"]);
        next.add_input(input("b.folded"));
        all.absorb(next);
        let all = all.finish().profile;
        let sources: Vec<&str> = all.inputs.iter().map(|i| i.source.as_str()).collect();
        assert_eq!(sources, ["empty.folded", "b.folded"]);
        assert_eq!(all.total_samples(), 1);
    }

    #[test]
    fn origins_follow_their_frames_into_another_table() {
        let mut first = ProfileBuilder::of_lines(&["p;x"]);
        let mut second = ProfileBuilder::of_lines(&["p;main;walk"]);
        let frames = second.frames_mut();
        let walk = frames.get("walk").unwrap();
        frames.set_origin(walk, Origin::Author);
        assert_eq!(frames.origin(walk), Origin::Author);
        let x = first.profile().frames.get("x").unwrap();
        assert_eq!(first.profile().frames.origin(x), Origin::Unknown);
        first.absorb(second);
        let mut first = first.finish();
        let walk = first.profile.frames.get("walk").unwrap();
        assert_eq!(first.profile.frames.origin(walk), Origin::Author);
        let mut table = Frames::default();
        table.intern("other");
        first.move_onto(&mut table);
        assert_eq!(table.origin(table.get("walk").unwrap()), Origin::Author);
        assert_eq!(table.origin(table.get("main").unwrap()), Origin::Unknown);
    }

    #[test]
    fn sources_follow_their_frames_into_another_table() {
        let mut first = ProfileBuilder::of_lines(&["p;x"]);
        let mut second = ProfileBuilder::of_lines(&["p;main;walk"]);
        let frames = second.frames_mut();
        let walk = frames.get("walk").unwrap();
        let at = |line| SourceLocation::new("/app/walk.js", line).unwrap();
        frames.set_source(walk, at(None));
        // A line says more than the file alone; a later file alone does not.
        frames.set_source(walk, at(Some(18)));
        frames.set_source(walk, at(None));
        first.absorb(second);
        let mut first = first.finish();
        let mut table = Frames::default();
        table.intern("other");
        first.move_onto(&mut table);
        let source = |name: &str| {
            table
                .source(table.get(name).unwrap())
                .map(|s| s.to_string())
        };
        assert_eq!(source("walk").as_deref(), Some("/app/walk.js:18"));
        assert_eq!(source("main"), None);
    }

    #[test]
    fn modules_follow_their_frames_into_another_table_and_through_renaming() {
        let mut first = ProfileBuilder::of_lines(&["p;x"]);
        let mut second = ProfileBuilder::of_lines(&["p;main;walk;f (a.py:3)"]);
        let frames = second.frames_mut();
        let walk = frames.get("walk").unwrap();
        frames.set_module(walk, &crate::profile::FrameModule::file("/bin/app"));
        let f = frames.get("f (a.py:3)").unwrap();
        frames.set_module(f, &crate::profile::FrameModule::file("/usr/bin/python3"));
        first.absorb(second);
        // Renaming `f (a.py:3)` to `f` keeps its module with it.
        first.merge_frames(|name| name.strip_suffix(" (a.py:3)").map(String::from));
        let mut first = first.finish();
        let mut table = Frames::default();
        table.intern("other");
        first.move_onto(&mut table);
        let module = |name: &str| table.module(table.get(name).unwrap());
        assert_eq!(module("walk"), Some("/bin/app"));
        assert_eq!(module("f"), Some("/usr/bin/python3"));
        assert_eq!(module("main"), None);
    }

    #[test]
    fn frames_merged_into_one_are_one_frame_in_stacks_and_notes() {
        let mut builder = ProfileBuilder::of_lines(&[
            "p;m;f@1;g;f@2;g;f@3",
            "p;m;f@3;g;f@2;g;f@1",
            "p;a@1;b",
            "p;a@2;b",
        ]);
        builder.merge_frames(|name| name.split_once('@').map(|(f, _)| f.to_string()));
        let read = builder.finish();
        let ReadProfile { profile, calls, .. } = &read;
        let names: Vec<&str> = profile.frames.iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["", "p", "m", "f", "g", "a", "b"]);
        assert_eq!(
            profile.lines(),
            ["p;m;f;g;f;g;f 1", "p;m;f;g;f;g;f 1", "p;a;b 1", "p;a;b 1"]
        );
        let name = |id: FrameId| profile.frames.name(id);
        let pairs: BTreeSet<(&str, &str)> =
            calls.pairs().map(|(a, b)| (name(a), name(b))).collect();
        assert_eq!(
            pairs,
            BTreeSet::from([("m", "f"), ("f", "g"), ("g", "f"), ("a", "b")])
        );
        let twice: Vec<&str> = profile
            .frames
            .iter()
            .filter(|&(id, _)| calls.on_a_stack_twice(id))
            .map(|(_, n)| n)
            .collect();
        assert_eq!(twice, ["f", "g"]);
        // The fold merges the stacks that became equal.
        let analysis = crate::engine::analyse(read, &crate::engine::EngineOptions::default());
        assert_eq!(analysis.folded.lines(), ["p;a;b 2", "p;m;{f,g} 2"]);
    }

    #[test]
    fn frames_renamed_without_merging_keep_their_ids() {
        let mut builder = ProfileBuilder::of_lines(&["p;f@1;g@2;f@1"]);
        let before = builder.clone().finish();
        builder.merge_frames(|name| name.split_once('@').map(|(f, _)| f.to_string()));
        let after = builder.finish();
        assert_eq!(after.profile.lines(), ["p;f;g;f 1"]);
        let pairs = |read: &ReadProfile| read.calls.pairs().collect::<BTreeSet<_>>();
        assert_eq!(pairs(&after), pairs(&before));
    }

    #[test]
    fn absorbing_renumbers_frames_and_sums_samples() {
        let mut all = ProfileBuilder::of_lines(&["p;x;y"]);
        all.absorb(ProfileBuilder::of_lines(&["p;y;x", "p;z"]));
        let ReadProfile { profile, calls, .. } = all.finish();
        assert_eq!(profile.lines(), ["p;x;y 1", "p;y;x 1", "p;z 1"]);
        assert_eq!(profile.total_samples(), 3);
        let (x, y) = (
            profile.frames.get("x").unwrap(),
            profile.frames.get("y").unwrap(),
        );
        assert!(calls.pairs().any(|e| e == (x, y)) && calls.pairs().any(|e| e == (y, x)));
    }
}
