//! The JIT code of one process over time: every function its perf map and
//! jitdumps listed, in the order they were listed, each with the earliest
//! time it can have been there. A runtime frees code and compiles other
//! code at the same addresses (node compiles its stream modules at exit
//! where a parser's freed code was), so a sample is named after the code
//! that was at its address when it was taken, not after the last.
//!
//! Where that time comes from:
//! - a jitdump's code loads and moves carry their time (`CLOCK_MONOTONIC`,
//!   the clock autofold's sampler and `perf record -k mono` stamp samples
//!   with);
//! - a perf map carries none: recorded live ([`Reading::Live`]), it is
//!   read as it grows, and a line first seen at one read was written after
//!   the read before; read from a perf.data file's time
//!   ([`Reading::Recorded`]), nothing tells, and where an address held
//!   several functions the last is taken and counted as a guess
//!   ([`JitCode::guesses`]).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use rustc_hash::FxHashMap;

use super::growing_file::GrowingFile;
use super::jitdump::{self, JitRecord, Stop, UnwindInfo};
use super::perf_map;
use crate::perf_records::clock::monotonic_ns;

/// How far a sample's time may pass the last read of a live recording's
/// JIT files before they are read again.
const READ_EVERY_NS: u64 = 10_000_000;

/// How the JIT files are read, which says what their entries' times mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// While the process runs (autofold's sampler), on `CLOCK_MONOTONIC`.
    Live,
    /// After the recording (a perf.data file); `monotonic`: its samples
    /// are stamped with `CLOCK_MONOTONIC`, as jitdumps are (`perf record
    /// -k mono`).
    Recorded { monotonic: bool },
}

/// One function of the JIT code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    start: u64,
    end: u64,
    name: String,
    /// The earliest time it can have been there; `None`: unknown.
    since: Option<u64>,
}

/// A jitdump being read.
#[derive(Debug)]
struct Dump {
    file: GrowingFile,
    header: Option<jitdump::Header>,
    /// The unwinding information for the next code load.
    unwinding: Option<UnwindInfo>,
    /// Entry of each code index, for code moves.
    by_index: FxHashMap<u64, u32>,
}

/// The JIT code of one process: see the module's description.
#[derive(Debug)]
pub struct JitCode {
    entries: Vec<Entry>,
    by_start: BTreeMap<u64, Vec<u32>>,
    /// The largest entry: how far back of an address its code may start.
    longest: u64,
    perf_map: GrowingFile,
    dumps: Vec<Dump>,
    reading: Reading,
    /// When the files were last read (live), or whether they were
    /// (recorded: `Some(0)`).
    last_read: Option<u64>,
    /// Entries with unwinding information, in the order listed, and how
    /// many of them were handed to the unwinder.
    unwinding: Vec<(u32, UnwindInfo)>,
    unwinding_given: usize,
    guesses: u64,
}

impl JitCode {
    /// The JIT code of the process whose perf map is `perf_map`, written
    /// by a process running as `process_uid` where known.
    pub fn new(perf_map: &Path, process_uid: Option<u32>, reading: Reading) -> Self {
        Self {
            entries: Vec::new(),
            by_start: BTreeMap::new(),
            longest: 0,
            perf_map: GrowingFile::new(perf_map, process_uid),
            dumps: Vec::new(),
            reading,
            last_read: None,
            unwinding: Vec::new(),
            unwinding_given: 0,
            guesses: 0,
        }
    }

    /// Adds the jitdump at `path` (the process mapped it), once.
    pub fn add_jitdump(&mut self, path: &Path, process_uid: Option<u32>) {
        if self.dumps.iter().any(|dump| dump.file.path() == path) {
            return;
        }
        self.dumps.push(Dump {
            file: GrowingFile::new(path, process_uid),
            header: None,
            unwinding: None,
            by_index: FxHashMap::default(),
        });
        // A recording's files are read whole once; a new one is unread.
        if let Reading::Recorded { .. } = self.reading {
            self.last_read = None;
        }
    }

    /// The entry for the code at `address` when a sample was taken at
    /// `time`, reading the files first where they may have grown since.
    pub fn code_at(&mut self, address: u64, time: Option<u64>) -> Option<u32> {
        self.read_if_due(time);
        if self.candidates(address).is_empty() && self.may_have_grown(time) {
            self.read();
        }
        let (entry, guessed) = self.choose(&self.candidates(address), time)?;
        self.guesses += u64::from(guessed);
        Some(entry)
    }

    /// The name of entry `entry`.
    pub fn name(&self, entry: u32) -> Option<&str> {
        self.entries.get(entry as usize).map(|e| e.name.as_str())
    }

    /// The name of the last code listed at `address` (a frame taken when no
    /// code was known there, named after the code found at the end).
    pub fn last_name_at(&self, address: u64) -> Option<&str> {
        let last = *self.candidates(address).last()?;
        self.name(last)
    }

    /// The code ranges whose unwinding information is known by `time`,
    /// not handed out before, with that information.
    pub fn unwinding_by(&mut self, time: Option<u64>) -> Vec<(Range<u64>, UnwindInfo)> {
        self.read_if_due(time);
        let ready = self.unwinding[self.unwinding_given..]
            .iter()
            .take_while(|(entry, _)| {
                let since = self.entries[*entry as usize].since;
                matches!((since, time), (None, _) | (_, None))
                    || since.zip(time).is_some_and(|(since, time)| since <= time)
            })
            .map(|(entry, info)| {
                let entry = &self.entries[*entry as usize];
                (entry.start..entry.end, info.clone())
            })
            .collect::<Vec<_>>();
        self.unwinding_given += ready.len();
        ready
    }

    /// Reads what the files gained since the last read: at the end of a
    /// recording, for code listed at exit.
    pub fn read_last(&mut self) {
        self.read();
    }

    /// How many lookups took the last of several codes at an address with
    /// no time to tell which was there.
    pub fn guesses(&self) -> u64 {
        self.guesses
    }

    /// Whether the files may hold code listed since the last read that a
    /// sample at `time` may have run.
    fn may_have_grown(&self, time: Option<u64>) -> bool {
        match (self.reading, self.last_read, time) {
            (_, None, _) => true,
            (Reading::Live, Some(read), Some(time)) => time > read,
            _ => false,
        }
    }

    fn read_if_due(&mut self, time: Option<u64>) {
        let due = match (self.reading, self.last_read, time) {
            (_, None, _) => true,
            (Reading::Live, Some(read), Some(time)) => time > read.saturating_add(READ_EVERY_NS),
            _ => false,
        };
        if due {
            self.read();
        }
    }

    /// Reads what every file gained.
    fn read(&mut self) {
        let now = monotonic_ns();
        let map_since = match self.reading {
            Reading::Live => Some(self.last_read.unwrap_or(0)),
            Reading::Recorded { .. } => None,
        };
        let (lines, used) = perf_map::complete_lines(self.perf_map.read_new());
        self.perf_map.consume(used);
        for (start, end, name) in lines {
            self.push(Entry {
                start,
                end,
                name,
                since: map_since,
            });
        }
        for index in 0..self.dumps.len() {
            self.read_dump(index);
        }
        self.last_read = Some(match self.reading {
            Reading::Live => now,
            Reading::Recorded { .. } => 0,
        });
    }

    /// Reads what jitdump `index` gained.
    fn read_dump(&mut self, index: usize) {
        let Some(header) = self.dump_header(index) else {
            return;
        };
        let dump = &mut self.dumps[index];
        let (records, used, stop) = jitdump::records(dump.file.read_new());
        dump.file.consume(used);
        if stop == Stop::Corrupt {
            dump.file.close();
        }
        let timed = header.monotonic
            && matches!(
                self.reading,
                Reading::Live | Reading::Recorded { monotonic: true }
            );
        for record in records {
            self.take_record(index, record, timed);
        }
    }

    /// The header of jitdump `index`, read once it is all there; `None`
    /// before, or if it is no jitdump (then it is read no further).
    fn dump_header(&mut self, index: usize) -> Option<jitdump::Header> {
        let dump = &mut self.dumps[index];
        if let Some(header) = dump.header {
            return Some(header);
        }
        let bytes = dump.file.read_new();
        let Ok(header) = jitdump::header(bytes)? else {
            dump.file.close();
            return None;
        };
        if bytes.len() < header.size {
            return None;
        }
        dump.file.consume(header.size);
        dump.header = Some(header);
        Some(header)
    }

    /// One jitdump record of dump `index`; `timed`: its times compare with
    /// the samples'.
    fn take_record(&mut self, index: usize, record: JitRecord, timed: bool) {
        let since = |time: u64| timed.then_some(time);
        match record {
            JitRecord::Unwinding(info) => self.dumps[index].unwinding = Some(info),
            JitRecord::Load {
                time,
                start,
                size,
                index: code,
                name,
            } => {
                let entry = self.push(Entry {
                    start,
                    end: start.saturating_add(size),
                    name,
                    since: since(time),
                });
                self.dumps[index].by_index.insert(code, entry);
                if let Some(info) = self.dumps[index].unwinding.take() {
                    self.unwinding.push((entry, info));
                }
            }
            JitRecord::Move {
                time,
                index: code,
                to,
                size,
                ..
            } => {
                let Some(&moved) = self.dumps[index].by_index.get(&code) else {
                    return;
                };
                let name = self.entries[moved as usize].name.clone();
                let entry = self.push(Entry {
                    start: to,
                    end: to.saturating_add(size),
                    name,
                    since: since(time),
                });
                self.dumps[index].by_index.insert(code, entry);
            }
        }
    }

    fn push(&mut self, entry: Entry) -> u32 {
        let id = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.longest = self.longest.max(entry.end.saturating_sub(entry.start));
        self.by_start.entry(entry.start).or_default().push(id);
        self.entries.push(entry);
        id
    }

    /// The entries whose code covers `address`, in the order listed.
    fn candidates(&self, address: u64) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .by_start
            .range(address.saturating_sub(self.longest)..=address)
            .flat_map(|(_, ids)| ids)
            .copied()
            .filter(|&id| address < self.entries[id as usize].end)
            .collect();
        found.sort_unstable();
        found
    }

    /// Of `candidates` (in the order listed), the code a sample at `time`
    /// ran, and whether that is a guess: the last one listed by then; the
    /// last one if times are unknown (a guess where there are several);
    /// the first one if all came later (a guess).
    fn choose(&self, candidates: &[u32], time: Option<u64>) -> Option<(u32, bool)> {
        let (&first, &last) = (candidates.first()?, candidates.last()?);
        if candidates.len() == 1 {
            return Some((first, false));
        }
        let sinces: Option<Vec<u64>> = candidates
            .iter()
            .map(|&id| self.entries[id as usize].since)
            .collect();
        let (Some(sinces), Some(time)) = (sinces, time) else {
            return Some((last, true));
        };
        let by_then = candidates
            .iter()
            .zip(sinces)
            .filter(|(_, since)| *since <= time)
            .map(|(&id, _)| id)
            .next_back();
        Some(by_then.map_or((first, true), |id| (id, false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn code(reading: Reading) -> (tempfile::TempDir, std::path::PathBuf, JitCode) {
        let dir = tempfile::tempdir().unwrap();
        let map = dir.path().join("perf-1.map");
        let code = JitCode::new(&map, None, reading);
        (dir, map, code)
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn name_at(code: &mut JitCode, address: u64, time: u64) -> Option<String> {
        let entry = code.code_at(address, Some(time))?;
        code.name(entry).map(str::to_owned)
    }

    #[test]
    fn live_a_reused_address_names_each_sample_after_its_time() {
        let (_dir, map, mut code) = code(Reading::Live);
        append(&map, "1000 100 parseExpr\n");
        let before = monotonic_ns();
        assert_eq!(name_at(&mut code, 0x1010, before).unwrap(), "parseExpr");
        std::thread::sleep(std::time::Duration::from_millis(2));
        // The parser's code is freed; other code is compiled there.
        append(&map, "1000 80 abort_controller\n");
        let after = monotonic_ns() + 2 * READ_EVERY_NS;
        assert_eq!(
            name_at(&mut code, 0x1010, after).unwrap(),
            "abort_controller"
        );
        assert_eq!(name_at(&mut code, 0x1010, before).unwrap(), "parseExpr");
        // Beyond the new code's end, only the parser was ever there.
        assert_eq!(name_at(&mut code, 0x1090, after).unwrap(), "parseExpr");
        assert_eq!(code.guesses(), 0);
        assert_eq!(code.last_name_at(0x1010), Some("abort_controller"));
    }

    #[test]
    fn recorded_perf_map_takes_the_last_and_counts_a_guess() {
        let (_dir, map, mut code) = code(Reading::Recorded { monotonic: true });
        append(&map, "1000 100 parseExpr\n1000 100 other\n2000 10 alone\n");
        assert_eq!(name_at(&mut code, 0x1010, 5).unwrap(), "other");
        assert_eq!(code.guesses(), 1);
        assert_eq!(name_at(&mut code, 0x2000, 5).unwrap(), "alone");
        assert_eq!(code.guesses(), 1, "one code there: no guess");
        assert_eq!(name_at(&mut code, 0x3000, 5), None);
    }

    /// A jitdump with one unwinding record and two code loads at one
    /// address, at times 100 and 200.
    fn dump_bytes() -> Vec<u8> {
        let mut bytes = 0x4A69_5444u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&40u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 28]);
        let mut unwinding = 24u64.to_le_bytes().to_vec();
        unwinding.extend_from_slice(&4u64.to_le_bytes());
        unwinding.extend_from_slice(&32u64.to_le_bytes());
        unwinding.extend_from_slice(&[7; 20]);
        unwinding.extend_from_slice(&[1, 2, 3, 4]);
        record(&mut bytes, 4, 90, &unwinding);
        for (time, name) in [(100u64, "first"), (200, "second")] {
            let mut load = vec![0; 16];
            load.extend_from_slice(&0x5000u64.to_le_bytes());
            load.extend_from_slice(&0x40u64.to_le_bytes());
            load.extend_from_slice(&(time / 100).to_le_bytes());
            load.extend_from_slice(name.as_bytes());
            load.push(0);
            record(&mut bytes, 0, time, &load);
        }
        let mut moved = vec![0; 16];
        for field in [0x5000u64, 0x9000, 0x40, 1] {
            moved.extend_from_slice(&field.to_le_bytes());
        }
        record(&mut bytes, 1, 300, &moved);
        bytes
    }

    fn record(bytes: &mut Vec<u8>, id: u32, time: u64, body: &[u8]) {
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&(16 + body.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&time.to_le_bytes());
        bytes.extend_from_slice(body);
    }

    #[test]
    fn jitdump_loads_and_moves_name_samples_by_their_time() {
        let (dir, _map, mut code) = code(Reading::Recorded { monotonic: true });
        let dump = dir.path().join("jit-1.dump");
        std::fs::write(&dump, dump_bytes()).unwrap();
        code.add_jitdump(&dump, None);
        assert_eq!(name_at(&mut code, 0x5010, 150).unwrap(), "first");
        assert_eq!(name_at(&mut code, 0x5010, 250).unwrap(), "second");
        assert_eq!(name_at(&mut code, 0x9010, 350).unwrap(), "first");
        assert_eq!(code.guesses(), 0);
        let unwinding = code.unwinding_by(Some(150));
        assert_eq!(unwinding.len(), 1);
        assert_eq!(unwinding[0].0, 0x5000..0x5040);
        assert_eq!(&*unwinding[0].1.eh_frame_hdr, &[1, 2, 3, 4]);
        assert!(code.unwinding_by(Some(400)).is_empty(), "handed out once");
    }

    #[test]
    fn jitdump_times_on_another_clock_are_not_compared() {
        let (dir, _map, mut code) = code(Reading::Recorded { monotonic: false });
        let dump = dir.path().join("jit-1.dump");
        std::fs::write(&dump, dump_bytes()).unwrap();
        code.add_jitdump(&dump, None);
        assert_eq!(name_at(&mut code, 0x5010, 150).unwrap(), "second");
        assert_eq!(code.guesses(), 1);
    }
}
