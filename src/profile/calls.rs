//! What reading noted of the calls in a profile's stacks: the distinct
//! caller→callee pairs (the call graph's edges) and the frames that were on
//! one stack twice (the functions that recursed). Noted while the stacks
//! were added ([`super::ProfileBuilder`]), so the engine builds its graph
//! without a second pass over the stacks; dropped once the graph is built.

use super::call_pairs::CallPairs;
use super::frames::FrameId;
use super::recursed::renumbered;

/// The caller→callee pairs and recursing frames of one profile's stacks as
/// read, numbered as the profile's frame table.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pairs: CallPairs,
    /// By frame id: on some stack twice, below the root label.
    twice: Vec<bool>,
}

impl Calls {
    /// The pairs (sorted into one run) and flags a builder noted.
    pub(super) fn new(mut pairs: CallPairs, twice: Vec<bool>) -> Self {
        pairs.settle();
        Self { pairs, twice }
    }

    /// Every distinct caller→callee pair below the root label, ascending.
    pub fn pairs(&self) -> impl Iterator<Item = (FrameId, FrameId)> + '_ {
        self.pairs.distinct()
    }

    /// Whether frame `id` is on some stack twice, below the root label: a
    /// function that recursed was (engine/recursion.rs).
    pub fn on_a_stack_twice(&self, id: FrameId) -> bool {
        self.twice.get(id as usize).copied().unwrap_or(false)
    }

    /// Rewrites every frame id `f` as `ids[f]`, as its profile was.
    pub(super) fn renumber(&mut self, ids: &[FrameId]) {
        self.pairs.renumber(ids);
        self.twice = renumbered(&self.twice, ids);
    }
}
