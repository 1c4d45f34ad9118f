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
/// summing counts:
/// each half sorted on a thread of its own, then the halves merged.
pub fn sort_and_merge(stacks: &mut Vec<StackRef>, segments: &[Vec<FrameId>], frames: &Frames) {
    let ranks = TextRanks::of(frames);
    let texts: Vec<&[FrameId]> = stacks
        .iter()
        .map(|s| printed(s.frames_in(segments)))
        .collect();
    let keys = Keys {
        texts: &texts,
        ranks: &ranks,
    };
    let mut order: Vec<u32> = (0..stacks.len() as u32).collect();
    let mid = order.len() / 2;
    let (left, right) = order.split_at_mut(mid);
    std::thread::scope(|scope| {
        scope.spawn(|| radix_quicksort(left, 0, &keys));
        radix_quicksort(right, 0, &keys);
    });
    let (left, right) = order.split_at(mid);
    let mut merged: Vec<StackRef> = Vec::with_capacity(stacks.len());
    let mut kept_index = None;
    let (mut l, mut r) = (left.iter().peekable(), right.iter().peekable());
    while let Some(&next) = match (l.peek(), r.peek()) {
        (Some(&&a), Some(&&b)) if keys.compare(a, b, 0) != Ordering::Greater => l.next(),
        (Some(_), Some(_)) | (None, _) => r.next(),
        (Some(_), None) => l.next(),
    } {
        let next_stack = stacks[next as usize];
        match (merged.last_mut(), kept_index) {
            // The same text: one line.
            (Some(kept), Some(k)) if keys.compare(k, next, 0) == Ordering::Equal => {
                kept.count += next_stack.count;
            }
            _ => {
                merged.push(next_stack);
                kept_index = Some(next);
            }
        }
    }
    *stacks = merged;
}

/// The sort key of each stack at each position: the rank of its frame's
/// text there (plus one), or 0 past its end.
struct Keys<'a> {
    texts: &'a [&'a [FrameId]],
    ranks: &'a TextRanks,
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

/// Sorts the stacks `order` (equal before `depth`) by their keys: a
/// three-way partition on the key at `depth`, the part equal to the pivot
/// then sorted from the next position. The smaller parts are sorted by
/// recursion, the largest by the loop, so recursion stays O(log n) deep.
fn radix_quicksort(mut order: &mut [u32], mut depth: usize, keys: &Keys) {
    loop {
        if order.len() <= SMALL {
            return insertion_sort(order, depth, keys);
        }
        let pivot = median_of_three(order, depth, keys);
        let (less, equal) = partition(order, depth, pivot, keys);
        let (below, rest) = order.split_at_mut(less);
        let (same, above) = rest.split_at_mut(equal);
        // The part with the most stacks goes round the loop.
        let same_is_largest = same.len() >= below.len() && same.len() >= above.len();
        if same_is_largest {
            radix_quicksort(below, depth, keys);
            radix_quicksort(above, depth, keys);
            if pivot == 0 {
                return; // all ended here: equal
            }
            (order, depth) = (same, depth + 1);
        } else {
            if pivot != 0 {
                radix_quicksort(same, depth + 1, keys);
            }
            let (smaller, larger) = match below.len() < above.len() {
                true => (below, above),
                false => (above, below),
            };
            radix_quicksort(smaller, depth, keys);
            order = larger;
        }
    }
}

/// Moves the stacks whose key at `depth` is below `pivot` first, then those
/// equal to it; returns how many there are of each.
fn partition(order: &mut [u32], depth: usize, pivot: u32, keys: &Keys) -> (usize, usize) {
    let (mut lt, mut i, mut gt) = (0, 0, order.len());
    while i < gt {
        match keys.key(order[i], depth).cmp(&pivot) {
            Ordering::Less => {
                order.swap(lt, i);
                lt += 1;
                i += 1;
            }
            Ordering::Greater => {
                gt -= 1;
                order.swap(i, gt);
            }
            Ordering::Equal => i += 1,
        }
    }
    (lt, gt - lt)
}

/// The median of the keys at `depth` of the first, middle and last stacks.
fn median_of_three(order: &[u32], depth: usize, keys: &Keys) -> u32 {
    let mut three = [
        keys.key(order[0], depth),
        keys.key(order[order.len() / 2], depth),
        keys.key(order[order.len() - 1], depth),
    ];
    three.sort_unstable();
    three[1]
}

/// Sorts a few stacks, equal before `depth`, by insertion.
fn insertion_sort(order: &mut [u32], depth: usize, keys: &Keys) {
    for i in 1..order.len() {
        let mut j = i;
        while j > 0 && keys.compare(order[j - 1], order[j], depth) == Ordering::Greater {
            order.swap(j - 1, j);
            j -= 1;
        }
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
    use crate::profile::{NO_LABEL, Profile};
    use proptest::prelude::*;

    /// Names that start one another and hold bytes below and above `;`.
    const NAMES: &[&str] = &["a", "a.b", "a b", "ab", "a(x)", "b", "b::c", "z", "a:", ""];

    fn stack() -> impl Strategy<Value = Vec<&'static str>> {
        prop::collection::vec(prop::sample::select(NAMES), 0..7)
    }

    proptest! {
        #[test]
        fn stacks_sort_as_their_text_and_equal_ones_merge(
            stacks in prop::collection::vec(stack(), 0..60),
        ) {
            let mut profile = Profile::new();
            for names in &stacks {
                let ids: Vec<FrameId> = std::iter::once(NO_LABEL)
                    .chain(names.iter().map(|n| profile.frames.intern(n)))
                    .collect();
                profile.push_without_edges(&ids, 1);
            }
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
            let mut texts: Vec<(String, bool)> =
                stacks.iter().map(|s| (s.join(";"), !s.is_empty())).collect();
            texts.sort();
            let mut expected: Vec<((String, bool), u64)> = Vec::new();
            for text in texts {
                match expected.last_mut() {
                    Some((last, count)) if *last == text => *count += 1,
                    _ => expected.push((text, 1)),
                }
            }
            let expected: Vec<(String, u64)> =
                expected.into_iter().map(|((text, _), count)| (text, count)).collect();
            prop_assert_eq!(sorted, expected);
        }
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
            profile.push_without_edges(&ids, 1);
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
