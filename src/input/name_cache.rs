//! A parser's own map from frame names to frame ids, in front of the
//! profile's frame table.
//!
//! The frame table ([`Frames`]) keeps each name in its own allocation,
//! behind an index map: a lookup hashes the name, probes, follows two
//! pointers and calls `memcmp`. A parser looks up millions of names (every
//! frame that is neither shared with the line before nor repeated a few
//! frames back), so it keeps the names it has seen in one arena, each
//! after its id and length, and a table of where each starts. The table is
//! small enough to stay in the cache while the input streams through it,
//! so a lookup costs at most one miss, in the arena, where the table's
//! entries and then the names would each cost one; the names are compared
//! inline.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::profile::{FrameId, Frames};

/// Frame names seen by one parser, with their ids in its profile's table.
#[derive(Debug, Default)]
pub struct NameIds {
    /// Every name seen, each as its id and length (four bytes each,
    /// little-endian), then its bytes.
    arena: Vec<u8>,
    /// Where each name's record starts in `arena`.
    table: HashTable<u32>,
}

/// Bytes before a name in its record: its id and its length.
const HEADER: usize = 8;

impl NameIds {
    /// The id of the frame called `name` in `frames`, interned there if
    /// it is new to this map.
    #[inline]
    pub fn id(&mut self, frames: &mut Frames, name: &str) -> FrameId {
        let hash = hash_of(name.as_bytes());
        let arena = &self.arena;
        if let Some(&at) = self.table.find(hash, |&at| {
            same_bytes(record_name(arena, at), name.as_bytes())
        }) {
            return record_id(arena, at);
        }
        self.add(frames, name, hash)
    }

    /// Interns `name` in `frames` and remembers its id here.
    #[cold]
    fn add(&mut self, frames: &mut Frames, name: &str, hash: u64) -> FrameId {
        let id = frames.intern(name);
        let (Ok(at), Ok(len)) = (u32::try_from(self.arena.len()), u32::try_from(name.len())) else {
            // Past 4 GiB of distinct names: the frame table alone answers.
            return id;
        };
        self.arena.extend_from_slice(&id.to_le_bytes());
        self.arena.extend_from_slice(&len.to_le_bytes());
        self.arena.extend_from_slice(name.as_bytes());
        let arena = &self.arena;
        self.table
            .insert_unique(hash, at, |&at| hash_of(record_name(arena, at)));
        id
    }
}

/// The id in the record at `at`.
#[inline]
fn record_id(arena: &[u8], at: u32) -> FrameId {
    let at = at as usize;
    FrameId::from_le_bytes(arena[at..at + 4].try_into().expect("4 bytes"))
}

/// The name in the record at `at`.
#[inline]
fn record_name(arena: &[u8], at: u32) -> &[u8] {
    let at = at as usize;
    let len = u32::from_le_bytes(arena[at + 4..at + HEADER].try_into().expect("4 bytes"));
    &arena[at + HEADER..][..len as usize]
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
