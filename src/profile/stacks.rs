//! Stacks as the profile stores them: runs of frame ids in arenas
//! ("segments"), each stack a [`StackRef`] to its run with its count.

use super::frames::{FrameId, NO_LABEL};

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

/// Where one stack lives in the frame arena, and how many samples it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRef {
    start: usize,
    segment: u32,
    len: u32,
    /// Samples recorded for this stack.
    pub count: u64,
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

    /// Marks the stack as whole (see [`StackRef::is_whole`]).
    pub(crate) fn mark_whole(&mut self) {
        self.len |= WHOLE;
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
