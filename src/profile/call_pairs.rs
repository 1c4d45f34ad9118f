//! The caller→callee pairs seen while stacks are read: the call graph's
//! edges, collected as stacks arrive so that no second pass is needed.

use super::frames::FrameId;

/// The caller→callee pairs recorded last, one per slot of a small table
/// indexed by the pair's hash: most pairs of a stack were recorded for an
/// earlier one, and one look here is far cheaper than one in the edge set.
#[derive(Debug, Clone, Default)]
pub(super) struct RecentPairs {
    slots: Vec<u64>,
}

impl RecentPairs {
    /// Slots in the table (a power of two).
    const SLOTS: usize = 1 << 12;

    /// Whether `pair` is not in the table (it may still be in the edge
    /// set); it is there afterwards.
    #[inline]
    pub(super) fn first_sighting(&mut self, (caller, callee): (FrameId, FrameId)) -> bool {
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
pub(super) struct CallPairs {
    /// Distinct pairs, ascending.
    sorted: Vec<u64>,
    /// Pairs added since `sorted` was last brought up to date.
    pending: Vec<u64>,
}

impl CallPairs {
    /// Pending pairs that set off a merge into the sorted run (at least;
    /// more once the run is longer, so merging stays linear overall).
    const MERGE_AT: usize = 1 << 20;

    #[inline]
    pub(super) fn insert(&mut self, (caller, callee): (FrameId, FrameId)) {
        self.pending.push(pack(caller, callee));
        if self.pending.len() >= Self::MERGE_AT.max(self.sorted.len()) {
            self.settle();
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.sorted.is_empty() && self.pending.is_empty()
    }

    /// Sorts the pending pairs into the sorted run.
    pub(super) fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        self.sorted = merged(&self.sorted, &self.pending);
        self.pending.clear();
    }

    /// Takes `other`'s pairs (numbered as these already).
    pub(super) fn absorb(&mut self, mut other: CallPairs) {
        if self.is_empty() {
            *self = other;
            return;
        }
        self.settle();
        other.settle();
        self.sorted = merged(&self.sorted, &other.sorted);
    }

    pub(super) fn renumber(&mut self, ids: &[FrameId]) {
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
    pub(super) fn distinct(&self) -> impl Iterator<Item = (FrameId, FrameId)> + '_ {
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
