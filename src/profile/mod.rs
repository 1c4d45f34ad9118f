//! The interned profile: every distinct frame name stored once, every stack a
//! slice of small integer ids with its sample count.
//!
//! This is the one data structure the whole engine passes around. Interning
//! turns a 200 MB folded file into a few tens of MB of `u32`s, and makes every
//! later step (graph, fold, report) a loop over integers instead of strings.
//!
//! One table a file: [`frames`] (the frame table), [`stacks`] (where a stack
//! lives, and helpers over frame slices), [`origin`] (whose code a frame is),
//! [`source_location`] (where a frame's function is written).
//! [`Profile`] is the plain model every stage reads. Readers fill it through
//! a [`ProfileBuilder`], which keeps what only reading needs (the index that
//! merges a stack added again, the caller→callee pairs and the frames on a
//! stack twice as they are noted) and hands over a [`ReadProfile`]: the
//! model and its [`Calls`].

mod builder;
mod call_pairs;
mod calls;
mod frame_modules;
mod frames;
pub mod origin;
mod recursed;
pub mod runtime_frames;
mod source_location;
mod stack_index;
mod stacks;
mod timeline;

pub use builder::ProfileBuilder;
pub use calls::Calls;
pub use frame_modules::{FrameModule, ModuleCode};
pub use frames::{FrameId, Frames, NO_LABEL};
pub use origin::Origin;
pub use source_location::SourceLocation;
pub use stacks::{StackRef, printed, shared_prefix};
pub use timeline::{ThreadName, TimedSample, Timeline};

/// A whole profile: the frame table and every distinct stack (root label
/// first, leaf last) with its count.
///
/// Every stack starts with a root-label slot: the process name in stacks
/// collapsed from perf, [`NO_LABEL`] for profilers that write none. Frames
/// live in one or more segments (arenas): merging profiles read by
/// different threads moves their segments instead of copying their frames.
/// Stacks are distinct as read (see [`ProfileBuilder`]); passes that rewrite
/// them may make two equal until the fold's sort merges them.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    /// The frame table.
    pub frames: Frames,
    segments: Vec<Vec<FrameId>>,
    stacks: Vec<StackRef>,
    /// The sum of all counts; wider than a count so that readers can check
    /// that it fits in one (see [`Profile::sample_sum`]).
    total: u128,
    /// Where the stacks came from, in reading order.
    pub inputs: Vec<InputInfo>,
    /// What the counts count.
    pub unit: Unit,
}

/// The frame that ends every stack of a thread waiting off the CPU, in a
/// profile recorded with `record --off-cpu`.
pub const OFF_CPU_FRAME: &str = "[off-cpu]";

/// What a profile's counts count (in the JSON report: `samples`,
/// `microseconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Samples (of CPU time, or whatever event a profiler sampled).
    #[default]
    Samples,
    /// Microseconds of wall-clock time: on-CPU samples weighed by their
    /// interval, waits by their length (`record --off-cpu`).
    Microseconds,
}

impl Unit {
    /// The unit's name, as the report, the flame graph and pprof say it.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Samples => "samples",
            Unit::Microseconds => "microseconds",
        }
    }

    /// The unit of a profile read from a file: microseconds where some
    /// stack ends off the CPU (the frame [`OFF_CPU_FRAME`] is only written
    /// by an off-CPU recording), else samples.
    pub fn of_frames(frames: &Frames) -> Unit {
        match frames.get(OFF_CPU_FRAME) {
            Some(_) => Unit::Microseconds,
            None => Unit::Samples,
        }
    }
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

/// A profile as its reader hands it over: the model, and what reading
/// noted of its calls for the engine's call graph.
#[derive(Debug, Default, Clone)]
pub struct ReadProfile {
    /// The frames and stacks.
    pub profile: Profile,
    /// The caller→callee pairs and recursing frames of its stacks.
    pub calls: Calls,
    /// The samples in time order, for a recording read with a timeline
    /// (only the viewers' exports ask for one); their stacks index the
    /// profile's.
    pub timeline: Option<Timeline>,
}

impl ReadProfile {
    /// Renumbers the profile's frames (stacks and calls) as `table` numbers
    /// them, adding to `table` the frames it lacks, and takes a copy of
    /// `table` as its own frame table: profiles moved onto one table share
    /// their frame ids.
    pub fn move_onto(&mut self, table: &mut Frames) {
        let ids = table.adopt_all(&self.profile.frames);
        self.profile.renumber(&ids);
        self.calls.renumber(&ids);
        self.profile.frames = table.clone();
    }
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
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

    /// Splits the profile into its frame table and its stacks, for passes
    /// that rewrite stacks in place.
    pub(crate) fn parts_mut(
        &mut self,
    ) -> (&mut Frames, &mut Vec<Vec<FrameId>>, &mut Vec<StackRef>) {
        (&mut self.frames, &mut self.segments, &mut self.stacks)
    }

    /// Stores `head` (the label slot, or nothing) then `rest` as a new stack
    /// in the last arena; returns its index.
    fn store(&mut self, head: &[FrameId], rest: &[FrameId], count: u64) -> usize {
        self.total += u128::from(count);
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
        self.stacks.len() - 1
    }

    /// Adds `count` samples to stack `index`.
    fn add_count(&mut self, index: usize, count: u64) {
        let stack = &mut self.stacks[index];
        // Exact sums are kept in `total`, which readers check against
        // `u64::MAX`; a count past it is an error before it is used.
        stack.count = stack.count.saturating_add(count);
        self.total += u128::from(count);
    }

    /// Moves every stack of `other` (numbered as this profile) after this
    /// profile's: its arenas are moved, not copied.
    fn append(&mut self, mut other: Profile) {
        let offset = self.segments.len();
        self.stacks.extend(
            other
                .stacks
                .iter()
                .map(|s| s.moved(s.segment() + offset, s.start(), s.len())),
        );
        self.segments.append(&mut other.segments);
        self.total += other.total;
        self.inputs.append(&mut other.inputs);
    }

    /// Rewrites every frame id `f` of the stacks as `ids[f]`.
    fn renumber(&mut self, ids: &[FrameId]) {
        for frame in self.segments.iter_mut().flatten() {
            *frame = ids[*frame as usize];
        }
    }
}

#[cfg(test)]
impl ReadProfile {
    /// A profile of stacks given as `label;frame;…` text, one sample each,
    /// as a reader hands it over.
    pub fn of_lines(lines: &[&str]) -> ReadProfile {
        ProfileBuilder::of_lines(lines).finish()
    }

    /// A recording of the stacks `lines` (one sample each) with a
    /// timeline: `samples` as (milliseconds, pid, tid, line index), weighing
    /// one each, on `threads` as (pid, tid, name).
    pub fn recorded(
        lines: &[&str],
        samples: &[(u64, i32, i32, u32)],
        threads: &[(i32, i32, &str)],
    ) -> ReadProfile {
        let mut builder = ProfileBuilder::new();
        for line in lines {
            builder.push_names(line.split(';'), 1);
        }
        let samples = (samples.iter())
            .map(|&(ms, pid, tid, stack)| TimedSample {
                time: 5_000_000_000 + ms * 1_000_000,
                weight: 1,
                pid,
                tid,
                stack,
            })
            .collect();
        let threads = (threads.iter())
            .map(|&(pid, tid, name)| ThreadName {
                pid,
                tid,
                name: name.to_string(),
            })
            .collect();
        builder.set_timeline(Timeline { samples, threads });
        builder.finish()
    }
}

#[cfg(test)]
impl Profile {
    /// A profile of stacks given as `label;frame;…` text, one sample each.
    pub fn of_lines(lines: &[&str]) -> Profile {
        ProfileBuilder::of_lines(lines).finish().profile
    }

    /// Adds `ids` as a new stack, equal to another or not: for stacks
    /// derived from stacks already read (passes that rewrite stacks).
    pub fn push_stack(&mut self, ids: &[FrameId], count: u64) {
        self.store(&[], ids, count);
    }

    /// Every stack as `label;frame;… COUNT` text (an empty label left
    /// out), in the profile's order; the inverse of [`Profile::of_lines`].
    pub fn lines(&self) -> Vec<String> {
        self.stacks()
            .map(|(ids, count)| {
                let names: Vec<&str> = printed(ids).iter().map(|&i| self.frames.name(i)).collect();
                format!("{} {count}", names.join(";"))
            })
            .collect()
    }
}
