//! The index that finds a stack added again, so that only its count grows
//! and memory follows the distinct stacks, not the lines read.

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use super::frames::FrameId;
use super::stacks::StackRef;

/// Where each distinct stack is, by the hash of its frames: a stack added
/// again is found and only its count grows. Passes that rewrite stacks in
/// place invalidate it; it is rebuilt when the next stack is added.
#[derive(Debug, Default, Clone)]
pub(super) struct StackIndex {
    /// (hash, stack index) of every distinct stack: the hash is kept, so
    /// growing the table never hashes a stack again.
    pub(super) table: HashTable<(u64, u32)>,
    /// Whether `table` is out of date (stacks were rewritten).
    stale: bool,
}

impl StackIndex {
    pub(super) fn invalidate(&mut self) {
        // Freed, not only emptied: it is rebuilt only if stacks are added.
        self.table = HashTable::new();
        self.stale = true;
    }

    /// Rebuilds the table from `stacks` if they were rewritten since; stacks
    /// that became equal stay apart (the fold merges them when it sorts).
    pub(super) fn make_valid(&mut self, segments: &[Vec<FrameId>], stacks: &[StackRef]) {
        if !self.stale {
            return;
        }
        self.stale = false;
        for (i, &stack) in stacks.iter().enumerate() {
            self.add(hash_stack(stack, segments), i);
        }
    }

    /// Adds stack `index`, whose frames hash to `hash`.
    pub(super) fn add(&mut self, hash: u64, index: usize) {
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
pub(super) fn hash_parts(head: &[FrameId], rest: &[FrameId], whole: bool) -> u64 {
    let mut hasher = FxHasher::default();
    (head.len() + rest.len()).hash(&mut hasher);
    for &frame in head.iter().chain(rest) {
        hasher.write_u32(frame);
    }
    whole.hash(&mut hasher);
    hasher.finish()
}
