//! Which frames were on one stack twice (a function that recursed was),
//! noted while stacks are read.

use super::frames::FrameId;

/// Which frames were on one stack twice, noted as stacks are added so that
/// no pass of its own is needed.
#[derive(Debug, Clone, Default)]
pub(super) struct Recursed {
    /// By frame id: on some stack twice.
    pub(super) twice: Vec<bool>,
    /// By frame id: the stamp of the stack it was last seen on.
    pub(super) seen_on: Vec<u32>,
    /// The stamp of the stack being noted (0: none yet).
    stamp: u32,
}

impl Recursed {
    /// Starts noting a new stack: the stamp its frames are marked with; the
    /// tables cover `frame_count` frames.
    pub(super) fn next_stack(&mut self, frame_count: usize) -> u32 {
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
    pub(super) fn merge(&mut self, other: &Recursed) {
        if self.twice.len() < other.twice.len() {
            self.twice.resize(other.twice.len(), false);
        }
        for (mine, &theirs) in self.twice.iter_mut().zip(&other.twice) {
            *mine |= theirs;
        }
    }

    /// Renumbers frame `f` as `ids[f]`.
    pub(super) fn renumber(&mut self, ids: &[FrameId]) {
        self.twice = renumbered(&self.twice, ids);
        self.seen_on = Vec::new();
        self.stamp = 0;
    }
}

/// Flags by frame id, with frame `f`'s flag moved to `ids[f]` (two frames
/// that become one keep either's flag).
pub(super) fn renumbered(flags: &[bool], ids: &[FrameId]) -> Vec<bool> {
    let len = ids.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
    let mut out = vec![false; len];
    for (f, &was) in flags.iter().enumerate() {
        out[ids[f] as usize] |= was;
    }
    out
}
