//! The interned profile: every distinct frame name stored once, every stack a
//! slice of small integer ids with its sample count.
//!
//! This is the one data structure the whole engine passes around. Interning
//! turns a 200 MB folded file into a few tens of MB of `u32`s, and makes every
//! later step (graph, fold, report) a loop over integers instead of strings.

use indexmap::IndexSet;
use rustc_hash::{FxBuildHasher, FxHashSet};

/// Index of an interned frame name.
pub type FrameId = u32;

/// The frame-name table: each distinct name once, addressed by [`FrameId`].
#[derive(Debug, Default, Clone)]
pub struct Frames {
    names: IndexSet<Box<str>, FxBuildHasher>,
}

impl Frames {
    /// The id of `name`, adding it to the table if it is new.
    pub fn intern(&mut self, name: &str) -> FrameId {
        if let Some(id) = self.names.get_index_of(name) {
            return id as FrameId;
        }
        self.names.insert_full(name.into()).0 as FrameId
    }

    /// The id of `name` if it is in the table.
    pub fn get(&self, name: &str) -> Option<FrameId> {
        self.names.get_index_of(name).map(|i| i as FrameId)
    }

    /// The name behind `id`.
    pub fn name(&self, id: FrameId) -> &str {
        &self.names[id as usize]
    }

    /// How many distinct names there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every `(id, name)` pair, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FrameId, &str)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (i as FrameId, &**n))
    }
}

/// Where one stack lives in the frame arena, and how many samples it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRef {
    start: usize,
    segment: u32,
    len: u32,
    /// Samples recorded for this stack.
    pub count: u64,
}

/// A whole profile: the frame table, every stack (root label first, leaf
/// last), and the caller→callee pairs seen while reading them.
///
/// The edge set is collected while stacks are added so that building the
/// call graph needs no second pass over the stacks. Frames live in one or
/// more segments (arenas): merging profiles read by different threads
/// moves their segments instead of copying their frames.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    /// The frame-name table.
    pub frames: Frames,
    segments: Vec<Vec<FrameId>>,
    stacks: Vec<StackRef>,
    edges: FxHashSet<(FrameId, FrameId)>,
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stack given as frame ids (root label first).
    ///
    /// `known_prefix` says how many leading frames are the same as in a stack
    /// added before, whose edges are therefore already recorded.
    pub fn push_ids(&mut self, ids: &[FrameId], count: u64, known_prefix: usize) {
        // The root label (position 0) is never a caller in the call graph,
        // and pairs inside the known prefix were recorded before.
        let first_callee = known_prefix.max(2);
        for callee in first_callee..ids.len() {
            if !repeats_earlier_pair(ids, callee) {
                self.edges.insert((ids[callee - 1], ids[callee]));
            }
        }
        self.push_without_edges(ids, count);
    }

    /// Adds a stack given as names (root label first); convenient in tests.
    pub fn push_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, count: u64) {
        let ids: Vec<FrameId> = names.into_iter().map(|n| self.frames.intern(n)).collect();
        self.push_ids(&ids, count, 0);
    }

    /// Adds a stack without recording its edges: for stacks derived from
    /// stacks already in a graph (folded or re-rooted output).
    pub fn push_without_edges(&mut self, ids: &[FrameId], count: u64) {
        if self.segments.is_empty() {
            self.segments.push(Vec::new());
        }
        let segment = self.segments.len() - 1;
        let arena = &mut self.segments[segment];
        self.stacks
            .push(StackRef::new(segment, arena.len(), ids.len(), count));
        arena.extend_from_slice(ids);
    }

    /// Moves every stack and edge of `other` into this profile, mapping its
    /// frame ids onto this profile's table in place: its frames are not
    /// copied.
    pub fn absorb(&mut self, mut other: Profile) {
        let ids: Vec<FrameId> = other
            .frames
            .iter()
            .map(|(_, name)| self.frames.intern(name))
            .collect();
        for frame in other.segments.iter_mut().flatten() {
            *frame = ids[*frame as usize];
        }
        let offset = self.segments.len() as u32;
        self.stacks.extend(other.stacks.iter().map(|s| StackRef {
            segment: s.segment + offset,
            ..*s
        }));
        self.segments.append(&mut other.segments);
        self.edges.extend(
            other
                .edges
                .iter()
                .map(|&(a, b)| (ids[a as usize], ids[b as usize])),
        );
    }

    /// How many stacks (lines) the profile holds.
    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    /// The sum of all sample counts.
    pub fn total_samples(&self) -> u64 {
        self.stacks.iter().map(|s| s.count).sum()
    }

    /// Every stack as `(frames, count)`.
    pub fn stacks(&self) -> impl Iterator<Item = (&[FrameId], u64)> {
        self.stacks.iter().map(|s| (self.frames_of(s), s.count))
    }

    /// The frames of one stack.
    pub fn frames_of(&self, stack: &StackRef) -> &[FrameId] {
        stack.frames_in(&self.segments)
    }

    /// Every distinct caller→callee pair below the root label.
    pub fn edges(&self) -> impl Iterator<Item = (FrameId, FrameId)> + '_ {
        self.edges.iter().copied()
    }

    /// Splits the profile into its frame table and its stacks, for passes
    /// that rewrite stacks in place.
    pub(crate) fn parts_mut(
        &mut self,
    ) -> (&mut Frames, &mut Vec<Vec<FrameId>>, &mut Vec<StackRef>) {
        (&mut self.frames, &mut self.segments, &mut self.stacks)
    }
}

/// How far back a repeated caller→callee pair is looked for.
const RECENT_PAIRS: usize = 4;

/// Whether the pair ending at `callee` already occurred a few frames
/// earlier in the same stack (as recursion makes it), below the root label.
#[inline]
fn repeats_earlier_pair(ids: &[FrameId], callee: usize) -> bool {
    (1..=RECENT_PAIRS)
        .take_while(|&lag| callee >= lag + 2)
        .any(|lag| ids[callee - lag] == ids[callee] && ids[callee - 1 - lag] == ids[callee - 1])
}

impl StackRef {
    /// A reference to `len` frames at `start` in arena `segment`.
    pub(crate) fn new(segment: usize, start: usize, len: usize, count: u64) -> Self {
        Self {
            start,
            segment: segment as u32,
            len: len as u32,
            count,
        }
    }

    /// Where the stack starts in its arena.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Which arena holds the stack.
    pub(crate) fn segment(&self) -> usize {
        self.segment as usize
    }

    /// The stack's frames, looked up in the profile's arenas.
    pub(crate) fn frames_in<'a>(&self, segments: &'a [Vec<FrameId>]) -> &'a [FrameId] {
        &segments[self.segment()][self.start..self.start + self.len()]
    }

    /// How many frames the stack has.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the stack has no frames.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
