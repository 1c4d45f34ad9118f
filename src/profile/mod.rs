//! The interned profile: every distinct frame name stored once, every stack a
//! slice of small integer ids with its sample count.
//!
//! This is the one data structure the whole engine passes around. Interning
//! turns a 200 MB folded file into a few tens of MB of `u32`s, and makes every
//! later step (graph, fold, report) a loop over integers instead of strings.

pub mod origin;

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use indexmap::{Equivalent, IndexSet};
use rustc_hash::{FxBuildHasher, FxHasher};

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

/// How many leading frames two stacks share, compared four at a time
/// (stacks sorted next to each other share long prefixes).
pub fn shared_prefix(a: &[FrameId], b: &[FrameId]) -> usize {
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

/// The longest period of a recursion [`Profile::note_new_stack`] follows.
const PERIODS: usize = 4;

/// Where one stack lives in the frame arena, and how many samples it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRef {
    start: usize,
    segment: u32,
    len: u32,
    /// Samples recorded for this stack.
    pub count: u64,
}

/// A whole profile: the frame table, every distinct stack (root label
/// first, leaf last) with its count, and the caller→callee pairs seen while
/// reading them.
///
/// Every stack starts with a root-label slot: the process name in stacks
/// collapsed from perf, [`NO_LABEL`] for profilers that write none. A stack
/// added again only adds to the count of the first (see [`StackIndex`]), so
/// memory grows with the distinct stacks, not with the lines read. The edge
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
    index: StackIndex,
    /// The stack the last push added to (new or merged).
    last: usize,
    edges: Edges,
    recent_edges: RecentEdges,
    recursed: Recursed,
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
        let first_callee = known_prefix.max(2) - 1;
        self.push_parts(&[], ids, count, Some(first_callee));
    }

    /// Adds `count` samples to the stack the last push added to: for a
    /// reader that sees the same stack again at once.
    pub fn repeat_last(&mut self, count: u64) {
        let stack = &mut self.stacks[self.last];
        stack.count = stack.count.saturating_add(count);
        self.total += u128::from(count);
    }

    /// Adds a stack from a profiler that writes no root label: `frames`
    /// outermost first, stored after a [`NO_LABEL`] slot.
    pub fn push_unlabelled(&mut self, frames: &[FrameId], count: u64) {
        self.push_parts(&[NO_LABEL], frames, count, Some(1));
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

    /// Every stack as `label;frame;… COUNT` text (an empty label left
    /// out), in the profile's order; the inverse of [`Profile::of_lines`],
    /// convenient in tests.
    pub fn lines(&self) -> Vec<String> {
        self.stacks()
            .map(|(ids, count)| {
                let names: Vec<&str> = printed(ids).iter().map(|&i| self.frames.name(i)).collect();
                format!("{} {count}", names.join(";"))
            })
            .collect()
    }

    /// Adds a stack given as names (root label first); convenient in tests.
    pub fn push_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, count: u64) {
        let ids: Vec<FrameId> = names.into_iter().map(|n| self.frames.intern(n)).collect();
        self.push_ids(&ids, count, 0);
    }

    /// Adds a stack without recording its edges: for stacks derived from
    /// stacks already in a graph (folded or re-rooted output).
    pub fn push_without_edges(&mut self, ids: &[FrameId], count: u64) {
        self.push_parts(&[], ids, count, None);
    }

    /// Stores `head` (the label slot, or nothing) then `rest` as one stack,
    /// or adds `count` to the same stack added before. A new stack's frames
    /// below the label are noted (which recur) and, with `edges_from`, the
    /// caller→callee pairs among them from that callee on (counted from the
    /// first frame below the label).
    fn push_parts(
        &mut self,
        head: &[FrameId],
        rest: &[FrameId],
        count: u64,
        edges_from: Option<usize>,
    ) {
        self.total += u128::from(count);
        self.index.make_valid(&self.segments, &self.stacks);
        let hash = hash_parts(head, rest, false);
        let same = |&(h, i): &(u64, u32)| {
            let stack = self.stacks[i as usize];
            h == hash
                && !stack.is_whole()
                && stack.len() == head.len() + rest.len()
                && stack.frames_in(&self.segments).split_at(head.len()) == (head, rest)
        };
        if let Some(&(_, i)) = self.index.table.find(hash, same) {
            let stack = &mut self.stacks[i as usize];
            // Exact sums are kept in `total`, which readers check against
            // `u64::MAX`; a count past it is an error before it is used.
            stack.count = stack.count.saturating_add(count);
            self.last = i as usize;
            return;
        }
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
        self.last = self.stacks.len() - 1;
        self.index.add(hash, self.last);
        let below_label = match head {
            [] => rest.get(1..).unwrap_or_default(),
            _ => rest,
        };
        self.note_new_stack(below_label, edges_from);
    }

    /// Notes, in one pass over a new stack's frames below its label, which
    /// frames it holds twice and (from callee `edges_from` on) its
    /// caller→callee pairs.
    ///
    /// Inside a recursion a frame mostly repeats the one a period back
    /// (one to [`PERIODS`] frames): such a frame is on the stack twice, and
    /// where the frame before it repeats too, its pair was noted a period
    /// back. Only the other frames are looked up in the tables.
    fn note_new_stack(&mut self, frames: &[FrameId], edges_from: Option<usize>) {
        let recursed = &mut self.recursed;
        let stamp = recursed.next_stack(self.frames.len());
        let first_callee = edges_from.unwrap_or(usize::MAX).max(1);
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
                if self.recent_edges.first_sighting(pair) {
                    self.edges.insert(pair);
                }
            }
        }
    }

    /// Moves every stack and edge of `other` into this profile, mapping its
    /// frame ids onto this profile's table in place: its frames are not
    /// copied. A stack both hold is held twice until the fold merges them.
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
        // Stacks both profiles hold stay two until the fold merges them:
        // finding them here would cost a hash of every stack again.
        self.index.invalidate();
        self.recursed.merge(&other.recursed);
        self.edges.absorb(other.edges);
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
        self.index.invalidate();
        self.recursed.renumber(ids);
        self.edges.renumber(ids);
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
        self.index.invalidate();
        self.edges = Edges::default();
        self.recent_edges = RecentEdges::default();
        self.recursed = Recursed::default();
        for stack in &stacks {
            let frames = stack.frames_in(std::slice::from_ref(&arena));
            self.note_new_stack(frames.get(1..).unwrap_or_default(), Some(1));
        }
        self.segments = vec![arena];
        self.stacks = stacks;
    }

    /// Marks every stack as whole: for inputs from a profiler that never
    /// cuts stacks (py-spy), so that none counts as cut mid-recursion.
    pub fn mark_stacks_whole(&mut self) {
        for stack in &mut self.stacks {
            stack.len |= WHOLE;
        }
        self.index.invalidate();
    }

    /// How many distinct stacks the profile holds.
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

    /// The stacks `range` (by index) as `(frames, count)`.
    pub fn stacks_in(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (&[FrameId], u64)> {
        self.stacks[range]
            .iter()
            .map(|s| (self.frames_of(s), s.count))
    }

    /// The frames of one stack.
    pub fn frames_of(&self, stack: &StackRef) -> &[FrameId] {
        stack.frames_in(&self.segments)
    }

    /// Whether frame `id` is on some stack twice, below the root label: a
    /// function that recursed was (engine/recursion.rs). Known for the
    /// stacks as read; passes that rewrite stacks do not keep it.
    pub fn on_a_stack_twice(&self, id: FrameId) -> bool {
        self.recursed
            .twice
            .get(id as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Every distinct caller→callee pair below the root label.
    pub fn edges(&self) -> impl Iterator<Item = (FrameId, FrameId)> + '_ {
        self.edges.distinct()
    }

    /// Sorts the caller→callee pairs noted so far into one run: each
    /// parser thread does it before its profile is merged, so the merge
    /// itself has little left to do.
    pub fn settle_edges(&mut self) {
        self.edges.settle();
    }

    /// Frees what only reading needed, once the call graph is built: the
    /// caller→callee pairs, which frames recurred, the stack index.
    pub fn forget_reading(&mut self) {
        self.edges = Edges::default();
        self.recent_edges = RecentEdges::default();
        self.recursed.seen_on = Vec::new();
        self.index.invalidate();
    }

    /// Splits the profile into its frame table and its stacks, for passes
    /// that rewrite stacks in place.
    pub(crate) fn parts_mut(
        &mut self,
    ) -> (&mut Frames, &mut Vec<Vec<FrameId>>, &mut Vec<StackRef>) {
        self.index.invalidate();
        (&mut self.frames, &mut self.segments, &mut self.stacks)
    }
}

/// Where each distinct stack is, by the hash of its frames: a stack added
/// again is found and only its count grows. Passes that rewrite stacks in
/// place invalidate it; it is rebuilt when the next stack is added.
#[derive(Debug, Default, Clone)]
struct StackIndex {
    /// (hash, stack index) of every distinct stack: the hash is kept, so
    /// growing the table never hashes a stack again.
    table: HashTable<(u64, u32)>,
    /// Whether `table` is out of date (stacks were rewritten).
    stale: bool,
}

impl StackIndex {
    fn invalidate(&mut self) {
        // Freed, not only emptied: it is rebuilt only if stacks are added.
        self.table = HashTable::new();
        self.stale = true;
    }

    /// Rebuilds the table from `stacks` if they were rewritten since; stacks
    /// that became equal stay apart (the fold merges them when it sorts).
    fn make_valid(&mut self, segments: &[Vec<FrameId>], stacks: &[StackRef]) {
        if !self.stale {
            return;
        }
        self.stale = false;
        for (i, &stack) in stacks.iter().enumerate() {
            self.add(hash_stack(stack, segments), i);
        }
    }

    /// Adds stack `index`, whose frames hash to `hash`.
    fn add(&mut self, hash: u64, index: usize) {
        self.table
            .insert_unique(hash, (hash, index as u32), |&(h, _)| h);
    }
}

/// The hash of a stack's frames and wholeness.
fn hash_stack(stack: StackRef, segments: &[Vec<FrameId>]) -> u64 {
    hash_parts(&[], stack.frames_in(segments), stack.is_whole())
}

/// The hash of the stack `head` then `rest` (and whether it is whole), the
/// same as [`hash_stack`] gives it once stored.
fn hash_parts(head: &[FrameId], rest: &[FrameId], whole: bool) -> u64 {
    let mut hasher = FxHasher::default();
    (head.len() + rest.len()).hash(&mut hasher);
    for &frame in head.iter().chain(rest) {
        hasher.write_u32(frame);
    }
    whole.hash(&mut hasher);
    hasher.finish()
}

/// The caller→callee pairs recorded last, one per slot of a small table
/// indexed by the pair's hash: most pairs of a stack were recorded for an
/// earlier one, and one look here is far cheaper than one in the edge set.
#[derive(Debug, Clone, Default)]
struct RecentEdges {
    slots: Vec<u64>,
}

impl RecentEdges {
    /// Slots in the table (a power of two).
    const SLOTS: usize = 1 << 12;

    /// Whether `pair` is not in the table (it may still be in the edge
    /// set); it is there afterwards.
    #[inline]
    fn first_sighting(&mut self, (caller, callee): (FrameId, FrameId)) -> bool {
        if self.slots.is_empty() {
            self.slots = vec![u64::MAX; Self::SLOTS];
        }
        let key = pack(caller, callee);
        let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize;
        let seen = self.slots[slot] == key;
        self.slots[slot] = key;
        !seen
    }
}

/// The caller→callee pairs seen, packed `caller << 32 | callee`: a sorted
/// run of distinct pairs, and the pairs added since, in any order and
/// maybe repeated. Appending and sorting now and then is several times
/// cheaper than a hash-set insert per pair (whose table outgrows the
/// cache), and sorted runs merge cheaply across parser threads.
#[derive(Debug, Clone, Default)]
struct Edges {
    /// Distinct pairs, ascending.
    sorted: Vec<u64>,
    /// Pairs added since `sorted` was last brought up to date.
    pending: Vec<u64>,
}

impl Edges {
    /// Pending pairs that set off a merge into the sorted run (at least;
    /// more once the run is longer, so merging stays linear overall).
    const MERGE_AT: usize = 1 << 20;

    #[inline]
    fn insert(&mut self, (caller, callee): (FrameId, FrameId)) {
        self.pending.push(pack(caller, callee));
        if self.pending.len() >= Self::MERGE_AT.max(self.sorted.len()) {
            self.settle();
        }
    }

    fn is_empty(&self) -> bool {
        self.sorted.is_empty() && self.pending.is_empty()
    }

    /// Sorts the pending pairs into the sorted run.
    fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        self.sorted = merged(&self.sorted, &self.pending);
        self.pending.clear();
    }

    /// Takes `other`'s pairs (numbered as these already).
    fn absorb(&mut self, mut other: Edges) {
        if self.is_empty() {
            *self = other;
            return;
        }
        self.settle();
        other.settle();
        self.sorted = merged(&self.sorted, &other.sorted);
    }

    fn renumber(&mut self, ids: &[FrameId]) {
        let all = self.sorted.iter().chain(&self.pending);
        let renumbered = all
            .map(|&key| {
                let (a, b) = unpack(key);
                pack(ids[a as usize], ids[b as usize])
            })
            .collect();
        self.sorted = Vec::new();
        self.pending = renumbered;
        self.settle();
    }

    /// Every pair once, ascending.
    fn distinct(&self) -> impl Iterator<Item = (FrameId, FrameId)> + '_ {
        let keys: std::borrow::Cow<'_, [u64]> = match self.pending.is_empty() {
            true => std::borrow::Cow::Borrowed(&self.sorted),
            false => {
                let mut pending = self.pending.clone();
                pending.sort_unstable();
                pending.dedup();
                std::borrow::Cow::Owned(merged(&self.sorted, &pending))
            }
        };
        (0..keys.len()).map(move |i| unpack(keys[i]))
    }
}

/// A caller→callee pair as one sortable number.
#[inline]
fn pack(caller: FrameId, callee: FrameId) -> u64 {
    (u64::from(caller) << 32) | u64::from(callee)
}

/// The pair [`pack`] made `key` of.
#[inline]
fn unpack(key: u64) -> (FrameId, FrameId) {
    ((key >> 32) as FrameId, key as FrameId)
}

/// The distinct union of two sorted runs of distinct keys, ascending.
fn merged(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Which frames were on one stack twice, noted as stacks are added so that
/// no pass of its own is needed.
#[derive(Debug, Clone, Default)]
struct Recursed {
    /// By frame id: on some stack twice.
    twice: Vec<bool>,
    /// By frame id: the stamp of the stack it was last seen on.
    seen_on: Vec<u32>,
    /// The stamp of the stack being noted (0: none yet).
    stamp: u32,
}

impl Recursed {
    /// Starts noting a new stack: the stamp its frames are marked with; the
    /// tables cover `frame_count` frames.
    fn next_stack(&mut self, frame_count: usize) -> u32 {
        if self.seen_on.len() < frame_count {
            self.seen_on.resize(frame_count, 0);
            self.twice.resize(frame_count, false);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen_on.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }

    /// Adds what `other` (numbered as this one) noted.
    fn merge(&mut self, other: &Recursed) {
        if self.twice.len() < other.twice.len() {
            self.twice.resize(other.twice.len(), false);
        }
        for (mine, &theirs) in self.twice.iter_mut().zip(&other.twice) {
            *mine |= theirs;
        }
    }

    /// Renumbers frame `f` as `ids[f]`.
    fn renumber(&mut self, ids: &[FrameId]) {
        let len = ids.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
        let mut twice = vec![false; len];
        for (f, &was) in self.twice.iter().enumerate() {
            twice[ids[f] as usize] |= was;
        }
        self.twice = twice;
        self.seen_on = Vec::new();
        self.stamp = 0;
    }
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
            let profile = Profile::of_lines(&refs);
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
                profile.edges().map(|(a, b)| (name(a), name(b))).collect();
            prop_assert_eq!(found, pairs);
            let found: BTreeSet<String> = (0..profile.frames.len() as FrameId)
                .filter(|&f| profile.on_a_stack_twice(f))
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
