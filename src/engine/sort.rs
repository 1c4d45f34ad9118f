//! Folded stacks sorted by their text, byte by byte (the order inferno's
//! collapsers write), and equal stacks merged.
//!
//! No string is compared while sorting: each frame's text gets an integer
//! rank ([`TextRanks`]), a stack becomes a sequence of ranks, and the
//! sequences are sorted by a radix quicksort (multikey quicksort, Bentley
//! and Sedgewick), which looks at each position of a stack once per
//! partition instead of comparing long shared prefixes again and again.

use std::cmp::Ordering;

use crate::profile::{FrameId, Frames, StackRef, printed, shared_prefix};

/// Parts this small are sorted by insertion.
const SMALL: usize = 16;

/// Sorts stacks by their folded text and merges those of the same text,
/// summing counts: the sort splits the stacks between two threads where a
/// partition first parts them evenly enough, and marks the stacks equal to
/// the one before them as it goes, so no pass compares them again.
pub fn sort_and_merge(stacks: &mut Vec<StackRef>, segments: &[Vec<FrameId>], frames: &Frames) {
    let ranks = TextRanks::of(frames);
    let texts: Vec<&[FrameId]> = stacks
        .iter()
        .map(|s| printed(s.frames_in(segments)))
        .collect();
    let keys = Keys {
        texts: &texts,
        ranks: &ranks,
        width: if ranks.count() < u32::from(u16::MAX) {
            16
        } else {
            32
        },
    };
    let mut items: Vec<Item> = (0..stacks.len() as u32)
        .map(|stack| Item {
            cached: keys.packed(stack, 0),
            stack,
            same_as_before: false,
        })
        .collect();
    sort_on_two_threads(&mut items, 0, &keys);
    let mut merged: Vec<StackRef> = Vec::with_capacity(stacks.len());
    for item in &items {
        let stack = stacks[item.stack as usize];
        match merged.last_mut() {
            // The same text: one line.
            Some(kept) if item.same_as_before => kept.count += stack.count,
            _ => merged.push(stack),
        }
    }
    *stacks = merged;
}

/// Parts this large are worth a thread of their own.
const PARALLEL: usize = 1 << 12;

/// Sorts `items` (equal before `depth`, their keys cached for `depth`) as
/// [`radix_quicksort`] does, but partitions them first until the parts
/// split evenly enough between two threads.
fn sort_on_two_threads(mut items: &mut [Item], mut depth: usize, keys: &Keys) {
    loop {
        if items.len() < PARALLEL {
            return radix_quicksort(items, depth, keys);
        }
        let total = items.len();
        let (below, same, above, next) = match partitioned(items, depth, keys) {
            Parts::Equal => return,
            Parts::Split {
                below,
                same,
                above,
                next,
            } => (below, same, above, next),
        };
        if 4 * same.len() > 3 * total {
            // Nearly all alike so far: the rest on this thread, then on.
            radix_quicksort(below, depth, keys);
            radix_quicksort(above, depth, keys);
            (items, depth) = (same, next);
            continue;
        }
        // The largest part on one thread, the other two on the other.
        std::thread::scope(|scope| {
            if same.len() >= below.len() + above.len() {
                scope.spawn(|| radix_quicksort(same, next, keys));
                radix_quicksort(below, depth, keys);
                radix_quicksort(above, depth, keys);
            } else {
                let (larger, smaller) = match below.len() >= above.len() {
                    true => (below, above),
                    false => (above, below),
                };
                scope.spawn(|| radix_quicksort(larger, depth, keys));
                radix_quicksort(smaller, depth, keys);
                radix_quicksort(same, next, keys);
            }
        });
        return;
    }
}

/// The parts a partition leaves.
enum Parts<'a> {
    /// Every item was equal (marked so): nothing left to sort.
    Equal,
    /// Items below, equal to and above the pivot at the depth partitioned;
    /// the equal ones have their keys cached for depth `next`.
    Split {
        below: &'a mut [Item],
        same: &'a mut [Item],
        above: &'a mut [Item],
        next: usize,
    },
}

/// Partitions `items` (equal before `depth`, keys cached for it) around the
/// median of three; the part equal to the pivot is marked equal where it
/// ended, or gets its keys cached for the next depth.
fn partitioned<'a>(items: &'a mut [Item], depth: usize, keys: &Keys) -> Parts<'a> {
    let pivot = median_of_three(items);
    let (less, equal) = partition(items, pivot);
    let (below, rest) = items.split_at_mut(less);
    let (same, above) = rest.split_at_mut(equal);
    let next = depth + keys.per_pack();
    if keys.ends(pivot) {
        // Equal stacks, all of them: each but the first one line with the
        // one before.
        for item in same.iter_mut().skip(1) {
            item.same_as_before = true;
        }
        if below.is_empty() && above.is_empty() {
            return Parts::Equal;
        }
        return Parts::Split {
            below,
            same: &mut [],
            above,
            next,
        };
    }
    for item in same.iter_mut() {
        item.cached = keys.packed(item.stack, next);
    }
    Parts::Split {
        below,
        same,
        above,
        next,
    }
}

/// The sort key of each stack at each position: the rank of its frame's
/// text there (plus one), or 0 past its end.
struct Keys<'a> {
    texts: &'a [&'a [FrameId]],
    ranks: &'a TextRanks,
    /// Bits a key takes in a packed run of keys ([`Keys::packed`]): 16
    /// where every key fits, else 32.
    width: u32,
}

impl Keys<'_> {
    #[inline]
    fn key(&self, stack: u32, depth: usize) -> u32 {
        let text = self.texts[stack as usize];
        match text.get(depth) {
            Some(&frame) => self.ranks.rank(frame, depth + 1 < text.len()) + 1,
            None => 0,
        }
    }

    /// How many keys [`Keys::packed`] packs.
    #[inline]
    fn per_pack(&self) -> usize {
        (64 / self.width) as usize
    }

    /// The keys from `depth` on, as many as fit (four, or two), as one
    /// number that orders as they do in turn; it ends in a 0 key where
    /// the stack ends within them.
    #[inline]
    fn packed(&self, stack: u32, depth: usize) -> u64 {
        (depth..depth + self.per_pack()).fold(0, |packed, d| {
            (packed << self.width) | u64::from(self.key(stack, d))
        })
    }

    /// Whether a packed run of keys reaches the end of its stack.
    #[inline]
    fn ends(&self, packed: u64) -> bool {
        packed & ((1 << self.width) - 1) == 0
    }

    /// Orders stacks `a` and `b`, equal before `depth`.
    fn compare(&self, a: u32, b: u32, mut depth: usize) -> Ordering {
        // The same frames at the same places have the same keys, but for
        // the last shared one (one stack may end after it).
        let (x, y) = (self.texts[a as usize], self.texts[b as usize]);
        depth = depth.max(shared_prefix(x, y).saturating_sub(1));
        loop {
            let (x, y) = (self.key(a, depth), self.key(b, depth));
            if x != y || x == 0 {
                return x.cmp(&y);
            }
            depth += 1;
        }
    }
}

/// Orders the texts `a` and `b`, each followed by `;` where `more`: names
/// hold no `;`, so where one name starts the other, the byte after the
/// shorter (`;`, or the end of the line, which sorts first) decides.
fn text_order(a: &[u8], a_more: bool, b: &[u8], b_more: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {
            let next = |s: &[u8], more: bool| s.get(n).copied().or(more.then_some(b';'));
            next(a, a_more).cmp(&next(b, b_more))
        }
        order => order,
    }
}

/// A stack being sorted, with its keys from the depth its part of the sort
/// has reached on (see [`Keys::packed`]): partitions compare these
/// in place, and only a part that goes one step deeper reads the stacks'
/// frames again, where every comparison would read them (one cache miss
/// each: the stacks lie all over the arena).
#[derive(Debug, Clone, Copy)]
struct Item {
    cached: u64,
    stack: u32,
    /// Whether its text is that of the item before it, once sorted.
    same_as_before: bool,
}

/// Sorts `items` (equal before `depth`, their keys cached for `depth`) by
/// their keys: a three-way partition on the cached keys, the part equal to
/// the pivot then sorted from the positions after the cached ones (or, if
/// the stacks end within them, marked equal). The smaller parts are sorted
/// by recursion, the largest by the loop, so recursion stays O(log n) deep.
fn radix_quicksort(mut items: &mut [Item], mut depth: usize, keys: &Keys) {
    loop {
        if items.len() <= SMALL {
            return insertion_sort(items, depth, keys);
        }
        let Parts::Split {
            below,
            same,
            above,
            next,
        } = partitioned(items, depth, keys)
        else {
            return;
        };
        // The part with the most stacks goes round the loop.
        if same.len() >= below.len() && same.len() >= above.len() {
            radix_quicksort(below, depth, keys);
            radix_quicksort(above, depth, keys);
            (items, depth) = (same, next);
        } else {
            radix_quicksort(same, next, keys);
            let (smaller, larger) = match below.len() < above.len() {
                true => (below, above),
                false => (above, below),
            };
            radix_quicksort(smaller, depth, keys);
            items = larger;
        }
    }
}

/// Moves the items whose cached keys are below `pivot` first, then those
/// equal to it; returns how many there are of each.
fn partition(items: &mut [Item], pivot: u64) -> (usize, usize) {
    let (mut lt, mut i, mut gt) = (0, 0, items.len());
    while i < gt {
        match items[i].cached.cmp(&pivot) {
            Ordering::Less => {
                items.swap(lt, i);
                lt += 1;
                i += 1;
            }
            Ordering::Greater => {
                gt -= 1;
                items.swap(i, gt);
            }
            Ordering::Equal => i += 1,
        }
    }
    (lt, gt - lt)
}

/// The median of the cached keys of the first, middle and last items.
fn median_of_three(items: &[Item]) -> u64 {
    let mut three = [
        items[0].cached,
        items[items.len() / 2].cached,
        items[items.len() - 1].cached,
    ];
    three.sort_unstable();
    three[1]
}

/// Sorts a few items, equal before `depth`, by insertion: by their cached
/// keys, then where those are alike, by their stacks; marks each item
/// whose text is that of the one before it.
fn insertion_sort(items: &mut [Item], depth: usize, keys: &Keys) {
    let order = |a: &Item, b: &Item| match a.cached.cmp(&b.cached) {
        Ordering::Equal if !keys.ends(a.cached) => {
            keys.compare(a.stack, b.stack, depth + keys.per_pack())
        }
        order => order,
    };
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && order(&items[j - 1], &items[j]) == Ordering::Greater {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
    for i in 1..items.len() {
        items[i].same_as_before = order(&items[i - 1], &items[i]) == Ordering::Equal;
    }
}

/// Where each frame's name falls in the byte order of folded text, so that
/// sorting compares integers, not strings. A frame's text is its name
/// followed by `;` where another frame follows, or by the end of the line:
/// each frame gets a rank for both (`name` and `name;`), from one sort of
/// all of them. Two stacks that differ first at frames `x` and `y` sort as
/// those two texts do: names hold no `;`, so one text can start the other
/// only where it ends the line, and then it sorts first, as a shorter line
/// does.
struct TextRanks {
    /// Per frame: the rank of its name at the end of a line, and followed
    /// by `;`.
    ranks: Vec<[u32; 2]>,
}

impl TextRanks {
    fn of(frames: &Frames) -> TextRanks {
        let mut texts: Vec<(FrameId, bool)> = (0..frames.len() as FrameId)
            .flat_map(|f| [(f, false), (f, true)])
            .collect();
        let order = |&(f, more): &(FrameId, bool), &(g, g_more): &(FrameId, bool)| {
            text_order(
                frames.name(f).as_bytes(),
                more,
                frames.name(g).as_bytes(),
                g_more,
            )
        };
        texts.sort_unstable_by(order);
        let mut ranks = vec![[0; 2]; frames.len()];
        let mut rank = 0;
        for (i, text) in texts.iter().enumerate() {
            if i > 0 && order(&texts[i - 1], text) != Ordering::Equal {
                rank += 1;
            }
            ranks[text.0 as usize][usize::from(text.1)] = rank;
        }
        TextRanks { ranks }
    }

    /// How many ranks there are.
    fn count(&self) -> u32 {
        self.ranks.iter().flatten().max().map_or(0, |&r| r + 1)
    }

    /// The rank of `frame`'s text where another frame follows it (`more`)
    /// or where the line ends.
    #[inline]
    fn rank(&self, frame: FrameId, more: bool) -> u32 {
        self.ranks[frame as usize][usize::from(more)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{NO_LABEL, Profile, ProfileBuilder};
    use proptest::prelude::*;

    /// Names that start one another and hold bytes below and above `;`.
    const NAMES: &[&str] = &["a", "a.b", "a b", "ab", "a(x)", "b", "b::c", "z", "a:", ""];

    fn stack() -> impl Strategy<Value = Vec<&'static str>> {
        prop::collection::vec(prop::sample::select(NAMES), 0..7)
    }

    /// Sorts `stacks` in a profile whose frame table also holds `unused`
    /// other frames, and checks the order and merged counts against the
    /// stacks' texts sorted.
    fn sorts_as_text(stacks: &[Vec<&str>], unused: usize) -> Result<(), TestCaseError> {
        let mut read = ProfileBuilder::new();
        for i in 0..unused {
            read.frames_mut().intern(&format!("unused::{i}"));
        }
        // Each stack read apart and absorbed: equal stacks stay apart until
        // the sort merges them, as after a fold.
        for names in stacks {
            let mut one = ProfileBuilder::new();
            let ids: Vec<FrameId> = std::iter::once(NO_LABEL)
                .chain(names.iter().map(|n| one.frames_mut().intern(n)))
                .collect();
            one.push_ids(&ids, 1, 0);
            read.absorb(one);
        }
        let mut profile = read.finish().profile;
        let (frames, segments, refs) = profile.parts_mut();
        sort_and_merge(refs, segments, frames);
        let sorted: Vec<(String, u64)> = refs
            .iter()
            .map(|s| {
                let names: Vec<&str> = printed(s.frames_in(segments))
                    .iter()
                    .map(|&f| frames.name(f))
                    .collect();
                (names.join(";"), s.count)
            })
            .collect();
        // By text; a stack with no frames stays apart from one whose
        // only frame has an empty name (both print as nothing), first.
        let mut texts: Vec<(String, bool)> = stacks
            .iter()
            .map(|s| (s.join(";"), !s.is_empty()))
            .collect();
        texts.sort();
        let mut expected: Vec<((String, bool), u64)> = Vec::new();
        for text in texts {
            match expected.last_mut() {
                Some((last, count)) if *last == text => *count += 1,
                _ => expected.push((text, 1)),
            }
        }
        let expected: Vec<(String, u64)> = expected
            .into_iter()
            .map(|((text, _), count)| (text, count))
            .collect();
        prop_assert_eq!(sorted, expected);
        Ok(())
    }

    proptest! {
        #[test]
        fn stacks_sort_as_their_text_and_equal_ones_merge(
            stacks in prop::collection::vec(stack(), 0..60),
        ) {
            sorts_as_text(&stacks, 0)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// With more than 65,535 ranks, keys are packed two to a number,
        /// not four.
        #[test]
        fn stacks_sort_as_their_text_with_keys_too_wide_for_16_bits(
            stacks in prop::collection::vec(stack(), 0..60),
        ) {
            sorts_as_text(&stacks, 33_000)?;
        }
    }

    #[test]
    fn many_stacks_split_between_two_threads_sort_as_their_text() {
        // Enough stacks for the sort to split them between threads (some
        // parts nearly all alike, some not), many of them equal.
        let mut state = 7u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as usize % n
        };
        let stacks: Vec<Vec<&str>> = (0..20_000)
            .map(|i| {
                let common = if i % 3 == 0 {
                    &["main", "run"][..]
                } else {
                    &["main"][..]
                };
                let rest = (0..next(6)).map(|_| NAMES[next(NAMES.len())]);
                common.iter().copied().chain(rest).collect()
            })
            .collect();
        sorts_as_text(&stacks, 0).unwrap();
    }

    #[test]
    fn a_long_shared_prefix_sorts_without_deep_recursion() {
        let mut profile = Profile::new();
        let tower: Vec<FrameId> = (0..100_000)
            .map(|i| profile.frames.intern(if i % 2 == 0 { "a" } else { "b" }))
            .collect();
        for leaf in ["z", "c", "m", "c"] {
            let mut ids = vec![NO_LABEL];
            ids.extend(&tower);
            ids.push(profile.frames.intern(leaf));
            profile.push_stack(&ids, 1);
        }
        let (frames, segments, refs) = profile.parts_mut();
        sort_and_merge(refs, segments, frames);
        let leaves: Vec<(&str, u64)> = refs
            .iter()
            .map(|s| (frames.name(*s.frames_in(segments).last().unwrap()), s.count))
            .collect();
        assert_eq!(leaves, [("c", 2), ("m", 1), ("z", 1)]);
    }
}
