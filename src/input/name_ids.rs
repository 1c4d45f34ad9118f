//! A parser's own map from frame names to frame ids, in front of the
//! profile's frame table.
//!
//! The frame table ([`Frames`]) keeps each name in its own allocation,
//! behind an index map: a lookup hashes the name, probes, follows two
//! pointers and calls `memcmp`. A parser looks up millions of names (every
//! frame that is neither shared with the line before nor repeated a few
//! frames back), so it keeps the names it has seen in one arena of bytes,
//! next to their ids, and compares them inline: half the cost of a lookup
//! in the table on the deep benchmark shapes.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::profile::{FrameId, Frames};

/// Frame names seen by one parser, with their ids in its profile's table.
#[derive(Debug, Default)]
pub struct NameIds {
    /// Every name seen, back to back.
    bytes: Vec<u8>,
    table: HashTable<Entry>,
}

/// One name: where it is in the arena, its hash (kept, so growing the
/// table hashes nothing again) and its id.
#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    start: u32,
    len: u32,
    id: FrameId,
}

impl NameIds {
    /// The id of the frame called `name` in `frames`, interned there if
    /// it is new to this map.
    #[inline]
    pub fn id(&mut self, frames: &mut Frames, name: &str) -> FrameId {
        let hash = hash_of(name.as_bytes());
        let bytes = &self.bytes;
        let same = |e: &Entry| {
            e.hash == hash
                && same_bytes(
                    &bytes[e.start as usize..][..e.len as usize],
                    name.as_bytes(),
                )
        };
        if let Some(entry) = self.table.find(hash, same) {
            return entry.id;
        }
        self.add(frames, name, hash)
    }

    /// Interns `name` in `frames` and remembers its id here.
    #[cold]
    fn add(&mut self, frames: &mut Frames, name: &str, hash: u64) -> FrameId {
        let id = frames.intern(name);
        let (Ok(start), Ok(len)) = (u32::try_from(self.bytes.len()), u32::try_from(name.len()))
        else {
            // Past 4 GiB of distinct names: the table alone answers.
            return id;
        };
        self.bytes.extend_from_slice(name.as_bytes());
        let entry = Entry {
            hash,
            start,
            len,
            id,
        };
        self.table.insert_unique(hash, entry, |e| e.hash);
        id
    }
}

/// The hash of a name's bytes.
#[inline]
fn hash_of(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// Whether two short byte strings are equal, compared eight bytes at a
/// time, the last word overlapping (cheaper than a call to `memcmp` for
/// frame-sized strings).
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        0..4 => a == b,
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => {
            let mut i = 0;
            while i + 8 < n {
                if word(a, i) != word(b, i) {
                    return false;
                }
                i += 8;
            }
            word(a, n - 8) == word(b, n - 8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_has_one_id_however_often_it_is_looked_up() {
        let mut frames = Frames::default();
        let mut ids = NameIds::default();
        let names: Vec<String> = (0..5000).map(|i| format!("mod::f{}", i % 1234)).collect();
        let got: Vec<FrameId> = names.iter().map(|n| ids.id(&mut frames, n)).collect();
        for (name, id) in names.iter().zip(&got) {
            assert_eq!(frames.name(*id), name);
            assert_eq!(frames.get(name), Some(*id));
        }
        assert_eq!(frames.len(), 1 + 1234);
    }

    #[test]
    fn a_name_already_in_the_table_keeps_its_id() {
        let mut frames = Frames::default();
        let main = frames.intern("main");
        let mut ids = NameIds::default();
        assert_eq!(ids.id(&mut frames, "main"), main);
        assert_eq!(ids.id(&mut frames, "main"), main);
        assert_ne!(ids.id(&mut frames, "mai"), main);
        assert_ne!(ids.id(&mut frames, ""), main);
    }

    #[test]
    fn same_bytes_compares_every_byte_of_every_length() {
        for len in 0..30 {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x40;
                assert!(!same_bytes(&a, &b), "len {len}, byte {i}");
            }
        }
        assert!(!same_bytes(b"abc", b"abcd"));
        assert!(same_bytes(b"parity::is_even", b"parity::is_even"));
        assert!(!same_bytes(b"parity::is_even", b"parity::is_odd!"));
    }
}
