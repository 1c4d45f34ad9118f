//! The interned profile: every distinct frame name stored once, every stack a
//! slice of small integer ids with its sample count.
//!
//! This is the one data structure the whole engine passes around. Interning
//! turns a 200 MB folded file into a few tens of MB of `u32`s, and makes every
//! later step (graph, fold, report) a loop over integers instead of strings.

use std::hash::{Hash, Hasher};

use indexmap::{Equivalent, IndexSet};
use rustc_hash::{FxBuildHasher, FxHashSet};

/// Index of an interned frame.
pub type FrameId = u32;

/// The frame in the root-label slot of a stack whose profiler writes no root
/// label (py-spy, pprof, Chrome): every stack starts with a label slot, so the
/// engine treats all stacks alike, and this one prints as nothing.
pub const NO_LABEL: FrameId = 0;

/// What makes two frames the same frame.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FrameKey {
    /// A frame known only by its name (folded text, `perf script`): one
    /// name, one frame.
    Name(Box<str>),
    /// A function known by more than its name (its symbol, its inline
    /// instance): one identity, one frame, even where two identities print
    /// the same name (two instances of one generic).
    Symbol { name: Box<str>, identity: Box<str> },
    /// The empty root-label slot ([`NO_LABEL`]).
    NoLabel,
}

impl Hash for FrameKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            // Hashed like a plain `str`, so lookups by name need no key.
            FrameKey::Name(name) => name.hash(state),
            FrameKey::Symbol { identity, .. } => (1u8, identity).hash(state),
            FrameKey::NoLabel => 2u8.hash(state),
        }
    }
}

/// A lookup of a plain-name frame by `&str`, without building a key.
struct ByName<'a>(&'a str);

impl Hash for ByName<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl Equivalent<FrameKey> for ByName<'_> {
    fn equivalent(&self, key: &FrameKey) -> bool {
        matches!(key, FrameKey::Name(name) if **name == *self.0)
    }
}

/// The frame table: each distinct frame once, addressed by [`FrameId`].
/// Frame [`NO_LABEL`] is always there.
#[derive(Debug, Clone)]
pub struct Frames {
    keys: IndexSet<FrameKey, FxBuildHasher>,
    /// Where each frame's code comes from, by id, where a reader said
    /// (see [`Origin`]); ids past its end are [`Origin::Unknown`].
    origins: Vec<Origin>,
}

impl Default for Frames {
    fn default() -> Self {
        let mut keys = IndexSet::default();
        keys.insert(FrameKey::NoLabel);
        Self {
            keys,
            origins: Vec::new(),
        }
    }
}

/// Whose code a frame is, as far as its reader could tell from where the
/// code came from (its source file, its script): the naming rule lists the
/// author's functions first (docs/NAMING.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    /// Nothing said (names-only input): the engine judges by name.
    #[default]
    Unknown,
    /// The profiled program's own code.
    Author,
    /// Code from elsewhere: the toolchain, the system, a package registry,
    /// the runtime.
    Other,
}

impl Frames {
    /// The id of the frame called `name`, adding it if it is new.
    pub fn intern(&mut self, name: &str) -> FrameId {
        if let Some(id) = self.keys.get_index_of(&ByName(name)) {
            return id as FrameId;
        }
        self.keys.insert_full(FrameKey::Name(name.into())).0 as FrameId
    }

    /// The id of the function `identity`, printed as `name`, adding it if
    /// it is new. Two identities never share an id, whatever their names.
    pub fn intern_symbol(&mut self, name: &str, identity: &str) -> FrameId {
        let key = FrameKey::Symbol {
            name: name.into(),
            identity: identity.into(),
        };
        self.keys.insert_full(key).0 as FrameId
    }

    /// The id of the plain-name frame `name`, if it is in the table.
    pub fn get(&self, name: &str) -> Option<FrameId> {
        self.keys.get_index_of(&ByName(name)).map(|i| i as FrameId)
    }

    /// The name `id` prints as (empty for [`NO_LABEL`]).
    pub fn name(&self, id: FrameId) -> &str {
        match &self.keys[id as usize] {
            FrameKey::Name(name) | FrameKey::Symbol { name, .. } => name,
            FrameKey::NoLabel => "",
        }
    }

    /// What tells `id` apart from other frames of the same name, when known.
    pub fn identity(&self, id: FrameId) -> Option<&str> {
        match &self.keys[id as usize] {
            FrameKey::Symbol { identity, .. } => Some(identity),
            _ => None,
        }
    }

    /// Re-keys every frame known only by its name for which `display_of`
    /// gives another name (a demangled symbol): identified from now on by
    /// its old name, printed as the new one. Ids do not change.
    pub fn identify(&mut self, display_of: impl Fn(&str) -> Option<String>) {
        let keys = std::mem::take(&mut self.keys);
        let count = keys.len();
        self.keys = keys
            .into_iter()
            .map(|key| match key {
                FrameKey::Name(raw) => match display_of(&raw) {
                    Some(name) => FrameKey::Symbol {
                        name: name.into(),
                        identity: raw,
                    },
                    None => FrameKey::Name(raw),
                },
                other => other,
            })
            .collect();
        // A raw name is never also the identity of another frame, so no two
        // keys become one and ids keep their meaning.
        assert_eq!(self.keys.len(), count, "re-keying merged two frames");
    }

    /// For every frame, the frame known only by the name it prints (added
    /// where missing): text output merges frames that print alike.
    pub fn by_printed_name(&mut self) -> Vec<FrameId> {
        let symbols: Vec<(FrameId, Box<str>)> = self
            .keys
            .iter()
            .enumerate()
            .filter_map(|(id, key)| match key {
                FrameKey::Symbol { name, .. } => Some((id as FrameId, name.clone())),
                _ => None,
            })
            .collect();
        let mut ids: Vec<FrameId> = (0..self.len() as FrameId).collect();
        for (id, name) in symbols {
            ids[id as usize] = self.intern(&name);
        }
        ids
    }

    /// Records where frame `id`'s code comes from.
    pub fn set_origin(&mut self, id: FrameId, origin: Origin) {
        let index = id as usize;
        if index >= self.origins.len() {
            if origin == Origin::Unknown {
                return;
            }
            self.origins.resize(index + 1, Origin::Unknown);
        }
        self.origins[index] = origin;
    }

    /// Where frame `id`'s code comes from, if its reader said.
    pub fn origin(&self, id: FrameId) -> Origin {
        self.origins.get(id as usize).copied().unwrap_or_default()
    }

    /// Whether some frame is known by its identity (not only by its name).
    pub fn has_symbols(&self) -> bool {
        self.keys
            .iter()
            .any(|k| matches!(k, FrameKey::Symbol { .. }))
    }

    /// How many distinct frames there are, [`NO_LABEL`] included.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the table holds only [`NO_LABEL`].
    pub fn is_empty(&self) -> bool {
        self.keys.len() <= 1
    }

    /// Every `(id, name)` pair, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FrameId, &str)> {
        (0..self.keys.len() as FrameId).map(|id| (id, self.name(id)))
    }

    /// The id in this table of frame `id` of `other`, added if new.
    fn adopt(&mut self, other: &Frames, id: FrameId) -> FrameId {
        let key = &other.keys[id as usize];
        let adopted = match self.keys.get_index_of(key) {
            Some(i) => i as FrameId,
            None => self.keys.insert_full(key.clone()).0 as FrameId,
        };
        if self.origin(adopted) == Origin::Unknown {
            self.set_origin(adopted, other.origin(id));
        }
        adopted
    }

    /// For every frame of `other`, its id in this table (added if new).
    fn adopt_all(&mut self, other: &Frames) -> Vec<FrameId> {
        (0..other.len() as FrameId)
            .map(|id| self.adopt(other, id))
            .collect()
    }
}

/// The frames of `stack` that are printed: all but an empty label slot.
#[inline]
pub fn printed(stack: &[FrameId]) -> &[FrameId] {
    match stack {
        [NO_LABEL, rest @ ..] => rest,
        _ => stack,
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
/// Every stack starts with a root-label slot: the process name in stacks
/// collapsed from perf, [`NO_LABEL`] for profilers that write none. The edge
/// set is collected while stacks are added so that building the call graph
/// needs no second pass over the stacks. Frames live in one or more segments
/// (arenas): merging profiles read by different threads moves their
/// segments instead of copying their frames.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    /// The frame table.
    pub frames: Frames,
    segments: Vec<Vec<FrameId>>,
    stacks: Vec<StackRef>,
    edges: FxHashSet<(FrameId, FrameId)>,
    /// The sum of all counts; wider than a count so that readers can check
    /// that it fits in one (see [`Profile::sample_sum`]).
    total: u128,
    /// Where the stacks came from, in reading order.
    pub inputs: Vec<InputInfo>,
}

/// One input a profile was read from, as the report describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// The file (or `<stdin>`).
    pub source: String,
    /// The format detected, e.g. `folded stacks` or `gzip-compressed pprof`.
    pub format: String,
    /// Whether the first frame of its stacks was taken for a process name.
    pub root_labels: bool,
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stack given as frame ids, root label (or [`NO_LABEL`]) first.
    ///
    /// `known_prefix` says how many leading frames are the same as in a stack
    /// added before, whose edges are therefore already recorded.
    pub fn push_ids(&mut self, ids: &[FrameId], count: u64, known_prefix: usize) {
        // The root label (position 0) is never a caller in the call graph,
        // and pairs inside the known prefix were recorded before.
        self.record_edges(ids, 1, known_prefix.max(2));
        self.push_without_edges(ids, count);
    }

    /// Adds a stack from a profiler that writes no root label: `frames`
    /// outermost first, stored after a [`NO_LABEL`] slot.
    pub fn push_unlabelled(&mut self, frames: &[FrameId], count: u64) {
        self.record_edges(frames, 0, 1);
        self.push_parts(&[NO_LABEL], frames, count);
    }

    /// A profile of stacks given as `label;frame;…` text, one sample each;
    /// convenient in tests.
    pub fn of_lines(lines: &[&str]) -> Profile {
        let mut profile = Profile::new();
        for line in lines {
            profile.push_names(line.split(';'), 1);
        }
        profile
    }

    /// Adds a stack given as names (root label first); convenient in tests.
    pub fn push_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, count: u64) {
        let ids: Vec<FrameId> = names.into_iter().map(|n| self.frames.intern(n)).collect();
        self.push_ids(&ids, count, 0);
    }

    /// Adds a stack without recording its edges: for stacks derived from
    /// stacks already in a graph (folded or re-rooted output).
    pub fn push_without_edges(&mut self, ids: &[FrameId], count: u64) {
        self.push_parts(&[], ids, count);
    }

    /// Records the caller→callee pairs of `frames` that end at `first_callee`
    /// or later, none of whose callers comes before `first_caller`.
    fn record_edges(&mut self, frames: &[FrameId], first_caller: usize, first_callee: usize) {
        for callee in first_callee.max(first_caller + 1)..frames.len() {
            if !repeats_earlier_pair(frames, callee, first_caller) {
                self.edges.insert((frames[callee - 1], frames[callee]));
            }
        }
    }

    /// Stores `head` then `rest` as one stack.
    fn push_parts(&mut self, head: &[FrameId], rest: &[FrameId], count: u64) {
        if self.segments.is_empty() {
            self.segments.push(Vec::new());
        }
        let segment = self.segments.len() - 1;
        let arena = &mut self.segments[segment];
        let len = head.len() + rest.len();
        self.stacks
            .push(StackRef::new(segment, arena.len(), len, count));
        arena.extend_from_slice(head);
        arena.extend_from_slice(rest);
        self.total += u128::from(count);
    }

    /// Moves every stack and edge of `other` into this profile, mapping its
    /// frame ids onto this profile's table in place: its frames are not
    /// copied.
    pub fn absorb(&mut self, mut other: Profile) {
        if self.stacks.is_empty() && self.frames.is_empty() && self.edges.is_empty() {
            // Nothing to renumber onto: take `other` whole, after the
            // inputs already read (which may have had no stacks).
            let mut inputs = std::mem::take(&mut self.inputs);
            inputs.append(&mut other.inputs);
            *self = other;
            self.inputs = inputs;
            return;
        }
        other.renumber(&self.frames.adopt_all(&other.frames));
        let offset = self.segments.len() as u32;
        self.stacks.extend(other.stacks.iter().map(|s| StackRef {
            segment: s.segment + offset,
            ..*s
        }));
        self.segments.append(&mut other.segments);
        self.edges.extend(other.edges);
        self.total += other.total;
        self.inputs.append(&mut other.inputs);
    }

    /// Renumbers the profile's frames as `table` numbers them, adding to
    /// `table` the frames it lacks, and takes a copy of `table` as its own
    /// frame table: profiles moved onto one table share their frame ids.
    pub fn move_onto(&mut self, table: &mut Frames) {
        self.renumber(&table.adopt_all(&self.frames));
        self.frames = table.clone();
    }

    /// Rewrites every frame id `f` of the stacks and edges as `ids[f]`.
    fn renumber(&mut self, ids: &[FrameId]) {
        for frame in self.segments.iter_mut().flatten() {
            *frame = ids[*frame as usize];
        }
        self.edges = self
            .edges
            .iter()
            .map(|&(a, b)| (ids[a as usize], ids[b as usize]))
            .collect();
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
    /// opposite of [`Profile::demote_root_labels`], when told that the
    /// input's first frames are process names after all.
    pub fn promote_first_frames(&mut self) {
        // A stack with no frame at all keeps its empty slot.
        self.rebuild_stacks(|frames| match frames {
            [NO_LABEL, _, ..] => (None, 1),
            _ => (None, 0),
        });
    }

    /// Rewrites every stack into one new arena: `change` says what frame to
    /// put before it and how many leading frames to drop; the edges are
    /// recomputed from the new stacks.
    fn rebuild_stacks(&mut self, change: impl Fn(&[FrameId]) -> (Option<FrameId>, usize)) {
        let size = self.segments.iter().map(Vec::len).sum::<usize>() + self.stacks.len();
        let mut arena = Vec::with_capacity(size);
        let mut stacks = std::mem::take(&mut self.stacks);
        for stack in &mut stacks {
            let frames = stack.frames_in(&self.segments);
            let (before, drop) = change(frames);
            let start = arena.len();
            arena.extend(before);
            arena.extend_from_slice(&frames[drop..]);
            *stack = stack.moved(0, start, arena.len() - start);
        }
        self.segments = vec![arena];
        self.edges.clear();
        for stack in &stacks {
            let frames = stack.frames_in(&self.segments);
            for callee in 2..frames.len() {
                self.edges.insert((frames[callee - 1], frames[callee]));
            }
        }
        self.stacks = stacks;
    }

    /// Marks every stack as whole: for inputs from a profiler that never
    /// cuts stacks (py-spy), so that none counts as cut mid-recursion.
    pub fn mark_stacks_whole(&mut self) {
        for stack in &mut self.stacks {
            stack.len |= WHOLE;
        }
    }

    /// How many stacks (lines) the profile holds.
    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    /// The sum of all sample counts. Readers make sure it fits in a `u64`
    /// (an input whose counts add up past it is an error), so every sum of
    /// counts the engine makes fits too.
    pub fn total_samples(&self) -> u64 {
        debug_assert!(self.total <= u128::from(u64::MAX), "unchecked sample sum");
        self.total.min(u128::from(u64::MAX)) as u64
    }

    /// The exact sum of all counts, for readers to check against `u64::MAX`.
    pub fn sample_sum(&self) -> u128 {
        self.total
    }

    /// The counts of the stacks, in the order they were added.
    pub fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.stacks.iter().map(|s| s.count)
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
/// earlier in the same stack (as recursion makes it), with no caller before
/// `first_caller`.
#[inline]
fn repeats_earlier_pair(ids: &[FrameId], callee: usize, first_caller: usize) -> bool {
    (1..=RECENT_PAIRS)
        .take_while(|&lag| callee >= lag + 1 + first_caller)
        .any(|lag| ids[callee - lag] == ids[callee] && ids[callee - 1 - lag] == ids[callee - 1])
}

/// The bit of [`StackRef`]'s length that marks a stack known to be whole.
const WHOLE: u32 = 1 << 31;

impl StackRef {
    /// A reference to `len` frames at `start` in arena `segment`.
    pub(crate) fn new(segment: usize, start: usize, len: usize, count: u64) -> Self {
        assert!(len < WHOLE as usize, "a stack of 2^31 frames or more");
        Self {
            start,
            segment: segment as u32,
            len: len as u32,
            count,
        }
    }

    /// The same stack (count, wholeness), now `len` frames at `start` in
    /// arena `segment`.
    pub(crate) fn moved(self, segment: usize, start: usize, len: usize) -> Self {
        Self {
            len: StackRef::new(segment, start, len, 0).len | (self.len & WHOLE),
            segment: segment as u32,
            start,
            ..self
        }
    }

    /// Whether the profiler is known to have kept the whole stack (py-spy
    /// does): then it never counts as cut mid-recursion.
    pub fn is_whole(&self) -> bool {
        self.len & WHOLE != 0
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
        (self.len & !WHOLE) as usize
    }

    /// Whether the stack has no frames.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> InputInfo {
        InputInfo {
            source: name.into(),
            format: "folded stacks".into(),
            root_labels: true,
        }
    }

    #[test]
    fn absorbing_keeps_the_inputs_of_an_empty_profile() {
        let mut all = Profile::new();
        all.inputs.push(input("empty.folded"));
        let mut next = Profile::of_lines(&["p;a;b"]);
        next.inputs.push(input("b.folded"));
        all.absorb(next);
        let sources: Vec<&str> = all.inputs.iter().map(|i| i.source.as_str()).collect();
        assert_eq!(sources, ["empty.folded", "b.folded"]);
        assert_eq!(all.total_samples(), 1);
    }

    #[test]
    fn origins_follow_their_frames_into_another_table() {
        let mut first = Profile::of_lines(&["p;x"]);
        let mut second = Profile::of_lines(&["p;main;walk"]);
        let walk = second.frames.get("walk").unwrap();
        second.frames.set_origin(walk, Origin::Author);
        assert_eq!(second.frames.origin(walk), Origin::Author);
        assert_eq!(
            first.frames.origin(first.frames.get("x").unwrap()),
            Origin::Unknown
        );
        first.absorb(second);
        let walk = first.frames.get("walk").unwrap();
        assert_eq!(first.frames.origin(walk), Origin::Author);
        let mut table = Frames::default();
        table.intern("other");
        first.move_onto(&mut table);
        assert_eq!(table.origin(table.get("walk").unwrap()), Origin::Author);
        assert_eq!(table.origin(table.get("main").unwrap()), Origin::Unknown);
    }

    #[test]
    fn absorbing_renumbers_frames_and_sums_samples() {
        let mut all = Profile::of_lines(&["p;x;y"]);
        all.absorb(Profile::of_lines(&["p;y;x", "p;z"]));
        let text: Vec<String> = all
            .stacks()
            .map(|(ids, _)| {
                let names: Vec<&str> = ids.iter().map(|&i| all.frames.name(i)).collect();
                names.join(";")
            })
            .collect();
        assert_eq!(text, ["p;x;y", "p;y;x", "p;z"]);
        assert_eq!(all.total_samples(), 3);
        let (x, y) = (all.frames.get("x").unwrap(), all.frames.get("y").unwrap());
        assert!(all.edges().any(|e| e == (x, y)) && all.edges().any(|e| e == (y, x)));
    }
}
