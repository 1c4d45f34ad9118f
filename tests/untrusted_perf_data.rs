//! perf.data, the largest reader of untrusted bytes, property-tested on
//! real recordings: a C program recorded by perf with frame-pointer and
//! with DWARF call graphs, then mutated (bytes flipped, header and feature
//! fields overwritten with huge values, the file cut, runs of it copied
//! elsewhere or deleted) and read as `fold` and `report` read a perf.data
//! (detected by its magic, read in-process). Whatever the bytes, reading
//! gives a profile or an error of one line that names the file: never a
//! panic, and never an abort (`linux-perf-data` allocates whatever size a
//! header states: `src/perf_records/header_check.rs`). An abort would
//! end this test process, so part of the cases run `autofold fold FILE` as
//! a child process, where an abort is a signal and a panic exit code 101.
//!
//! They record with perf (`AUTOFOLD_SKIP_PERF_TESTS=1` skips them). The
//! program is linked statically and recorded in user space only, so that
//! reading a recording symbolizes one small binary (glibc's debug info and
//! the kernel's symbols take seconds to read in a debug build).

use std::ops::Range;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tempfile::TempDir;

use autofold::input::{ReadOptions, Source, read_from};

use crate::untrusted_inputs::{check_error, check_profile};
use crate::util::autofold;
use crate::util::perf::{perf_record, skip, static_expr_program};

/// A recording to mutate.
struct Recording {
    /// How it was recorded, to name it when a case fails.
    name: &'static str,
    bytes: Vec<u8>,
    /// The data section (the records), from the header.
    data: Range<usize>,
}

impl Recording {
    /// The bytes of `region` (clamped to the file).
    fn range(&self, region: Region) -> Range<usize> {
        let len = self.bytes.len();
        let range = match region {
            Region::Header => 0..HEADER_LEN,
            Region::Data => self.data.clone(),
            // The feature table and the feature sections follow the data.
            Region::Features => self.data.end..len,
            Region::Anywhere => 0..len,
        };
        range.start.min(len)..range.end.min(len)
    }
}

/// The length of a perf.data header, up to the end of its feature bitmap.
const HEADER_LEN: usize = 104;

/// The recordings, made once per test run: `fixtures/expr` linked
/// statically, recorded in user space with frame pointers (`-g`) and with
/// DWARF stack copies (small ones: 4 KiB a sample).
fn recordings() -> &'static [Recording] {
    static MADE: OnceLock<Vec<Recording>> = OnceLock::new();
    MADE.get_or_init(|| {
        // Kept for the test run: the recordings name the program, and the
        // reader symbolizes it from there.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("untrusted-perf-data");
        std::fs::create_dir_all(&dir).unwrap();
        let program = static_expr_program(&dir);
        [
            ("fp", &["--all-user", "-F", "499", "-g"][..]),
            (
                "dwarf",
                &["--all-user", "-F", "499", "--call-graph", "dwarf,4096"],
            ),
        ]
        .into_iter()
        .map(|(name, options)| {
            let data = dir.join(format!("{name}.data"));
            perf_record(&data, options, &program, &["40", "60"]);
            let bytes = std::fs::read(&data).unwrap();
            let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
            let (offset, size) = (field(40) as usize, field(48) as usize);
            Recording {
                name,
                data: offset..offset + size,
                bytes,
            }
        })
        .collect()
    })
}

/// Where in a recording a mutation lands.
#[derive(Debug, Clone, Copy)]
enum Region {
    /// The header: sizes and (offset, size) pairs of its sections.
    Header,
    /// The records.
    Data,
    /// The feature table and sections (build ids, event descriptions with
    /// their counts and strings).
    Features,
    Anywhere,
}

/// One change to a recording.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR a byte with a non-zero mask.
    Flip(Region, Index, u8),
    /// Overwrite an aligned u64 (a size, an offset, a count).
    Word64(Region, Index, u64),
    /// Overwrite an aligned u32 (a count, a string's length).
    Word32(Region, Index, u32),
    /// Cut the file here.
    Truncate(Index),
    /// Delete a run of bytes.
    Delete(Index, u16),
    /// Copy a run of bytes from one place to another (inserted there).
    Splice(Index, Index, u16),
}

fn region() -> impl Strategy<Value = Region> {
    prop_oneof![
        3 => Just(Region::Header),
        2 => Just(Region::Data),
        3 => Just(Region::Features),
        1 => Just(Region::Anywhere),
    ]
}

/// Sizes and counts that a reader trusting them would allocate, loop or
/// seek by: huge, just past 32 bits, zero, or anything.
fn huge64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(u64::MAX),
        Just(1 << 63),
        Just(1 << 40),
        Just(1 << 32),
        Just(u64::from(u32::MAX)),
        Just(0),
        any::<u64>(),
    ]
}

fn huge32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(u32::MAX),
        Just(1 << 31),
        Just(1 << 28),
        Just(0x10000),
        Just(0),
        any::<u32>(),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let mutation = prop_oneof![
        3 => (region(), any::<Index>(), 1u8..=255).prop_map(|(r, at, mask)| Mutation::Flip(r, at, mask)),
        3 => (region(), any::<Index>(), huge64()).prop_map(|(r, at, v)| Mutation::Word64(r, at, v)),
        3 => (region(), any::<Index>(), huge32()).prop_map(|(r, at, v)| Mutation::Word32(r, at, v)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), 1u16..512).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<Index>(), any::<Index>(), 1u16..4096).prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
    ];
    prop::collection::vec(mutation, 1..4)
}

/// `recording` with `mutations` applied, in order (positions are taken
/// in the original's regions, clamped to the bytes as they are by then).
fn mutate(recording: &Recording, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = recording.bytes.clone();
    // An aligned place in `region` that `width` bytes from it fit in.
    let place = |bytes: &[u8], region: Region, at: &Index, width: usize| -> Option<usize> {
        let range = recording.range(region);
        let end = range.end.min(bytes.len()).checked_sub(width)?;
        let start = range.start.next_multiple_of(width);
        (start <= end).then(|| start + at.index((end - start) / width + 1) * width)
    };
    for mutation in mutations {
        let len = bytes.len();
        if len == 0 {
            break;
        }
        match mutation {
            Mutation::Flip(region, at, mask) => {
                if let Some(i) = place(&bytes, *region, at, 1) {
                    bytes[i] ^= mask;
                }
            }
            Mutation::Word64(region, at, value) => {
                if let Some(i) = place(&bytes, *region, at, 8) {
                    bytes[i..i + 8].copy_from_slice(&value.to_le_bytes());
                }
            }
            Mutation::Word32(region, at, value) => {
                if let Some(i) = place(&bytes, *region, at, 4) {
                    bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            Mutation::Truncate(at) => bytes.truncate(at.index(len)),
            Mutation::Delete(at, n) => {
                let start = at.index(len);
                bytes.drain(start..(start + usize::from(*n)).min(len));
            }
            Mutation::Splice(from, to, n) => {
                let from = from.index(len);
                let run = bytes[from..(from + usize::from(*n)).min(len)].to_vec();
                let to = to.index(len + 1);
                bytes.splice(to..to, run);
            }
        }
    }
    bytes
}

/// A recording and the mutations made to it.
fn mutated() -> impl Strategy<Value = (Index, Vec<Mutation>)> {
    (any::<Index>(), mutations())
}

/// `cases` cases, or `PROPTEST_CASES` for a longer search. Failures are
/// not saved for proptest to replay: the recordings are made anew each
/// run, so a saved case would mutate other bytes. What these tests found
/// is pinned below, on bytes written here.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(cases);
    Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    }
}

/// Runs `check` on mutated recordings, `cases` of them (a shrunk failure
/// names the recording and its mutations).
fn for_mutated_recordings(cases: u32, check: impl Fn(&Path, &[u8]) -> Result<(), TestCaseError>) {
    let recordings = recordings();
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("mutated.data");
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&mutated(), |(which, mutations)| {
        let recording = which.get(recordings);
        let bytes = mutate(recording, &mutations);
        std::fs::write(&path, &bytes).unwrap();
        check(&path, &bytes).map_err(|e| {
            TestCaseError::fail(format!("{} recording, {mutations:?}: {e}", recording.name))
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn mutated_recordings_read_in_process_give_a_profile_or_a_one_line_error() {
    if skip() {
        return;
    }
    for_mutated_recordings(256, read_cleanly);
}

/// Reads `path` (holding `bytes`) in this process, as `fold` reads it:
/// a profile whose invariants hold, or an error of one line naming it.
fn read_cleanly(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let source = Source::File(path.to_path_buf());
    let reader = source.open().unwrap();
    match read_from(reader, &source, &ReadOptions::default(), 0) {
        Ok(profile) => check_profile(&profile.finish().profile),
        Err(error) => check_error(&format!("{error:#}"), &path.display().to_string(), bytes),
    }
}

/// How long `autofold fold` may take on one recording.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn mutated_recordings_never_kill_autofold() {
    if skip() {
        return;
    }
    for_mutated_recordings(96, |path, _| fold_in_child_ends_cleanly(path));
}

/// Checks `autofold fold PATH`: it was not killed (an abort is SIGABRT),
/// did not panic (exit code 101), and wrote only notes and errors that
/// name the file, an error last when it failed.
fn fold_in_child_ends_cleanly(path: &Path) -> Result<(), TestCaseError> {
    let (status, stderr) = fold_in_child(path);
    prop_assert!(
        status.signal().is_none(),
        "autofold was killed by signal {:?}: {stderr}",
        status.signal()
    );
    prop_assert!(
        matches!(status.code(), Some(0 | 1)),
        "autofold exited with {status}: {stderr}"
    );
    let name = path.display();
    for line in stderr.lines() {
        prop_assert!(
            line.starts_with(&format!("autofold: note: {name}: "))
                || line.starts_with(&format!("autofold: error: {name}: ")),
            "a line that does not name the file: {stderr}"
        );
    }
    if !status.success() {
        let last = stderr.lines().last().unwrap_or_default();
        prop_assert!(last.starts_with("autofold: error: "), "{stderr}");
    }
    Ok(())
}

/// `autofold fold PATH` run to the end (killed after [`CHILD_TIMEOUT`]):
/// its exit status and standard error.
fn fold_in_child(path: &Path) -> (std::process::ExitStatus, String) {
    let mut fold = autofold();
    fold.arg("fold").arg(path);
    let mut child = fold
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("autofold runs");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHILD_TIMEOUT {
            child.kill().unwrap();
            panic!(
                "autofold fold {} ran over {CHILD_TIMEOUT:?}",
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, reader.join().unwrap())
}

/// A recording as perf wrote it reads, so that the mutations start from
/// something the reader accepts.
#[test]
fn the_recordings_read_as_they_are() {
    if skip() {
        return;
    }
    for recording in recordings() {
        let dir = TempDir::new().unwrap();
        let path: PathBuf = dir.path().join(format!("{}.data", recording.name));
        std::fs::write(&path, &recording.bytes).unwrap();
        let source = Source::File(path.clone());
        let profile = read_from(source.open().unwrap(), &source, &ReadOptions::default(), 0)
            .unwrap_or_else(|e| panic!("{}: {e:#}", recording.name))
            .finish()
            .profile;
        assert!(profile.total_samples() > 20, "{}", recording.name);
    }
}

// --- What the properties found, pinned ------------------------------------

/// A little-endian u64 of `bytes` at `at`.
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// The records of `recording`'s data section: (offset, type, size).
fn records(recording: &Recording) -> Vec<(usize, u32, usize)> {
    let bytes = &recording.bytes;
    let mut records = Vec::new();
    let mut at = recording.data.start;
    while at + 8 <= recording.data.end {
        let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let size = usize::from(u16::from_le_bytes(
            bytes[at + 6..at + 8].try_into().unwrap(),
        ));
        records.push((at, kind, size));
        at += size.max(8);
    }
    records
}

/// `bytes` written to `dir/NAME`; its path.
fn written(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// linux-perf-event-reader multiplies a sample's call chain length by 8
/// unchecked: a length of u64::MAX panicked in a debug build.
#[test]
fn every_field_of_a_sample_set_to_u64_max_reads() {
    if skip() {
        return;
    }
    let recording = &recordings()[0];
    const SAMPLE: u32 = 9;
    let (at, _, size) = *records(recording)
        .iter()
        .find(|(_, kind, _)| *kind == SAMPLE)
        .expect("a sample");
    let dir = TempDir::new().unwrap();
    for field in (at + 8..at + size - 7).step_by(8) {
        let mut bytes = recording.bytes.clone();
        bytes[field..field + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let path = written(&dir, "sample.data", &bytes);
        read_cleanly(&path, &bytes).unwrap_or_else(|e| panic!("field at {}: {e}", field - at));
    }
}

/// linux-perf-data reserves room for as many event descriptions as the
/// section says there are, before reading them: 4 billion aborted.
#[test]
fn event_descriptions_counted_past_their_section_abort_nothing() {
    if skip() {
        return;
    }
    let recording = &recordings()[0];
    let bytes = &recording.bytes;
    // The feature table follows the data; HEADER_EVENT_DESC is bit 12.
    let bitmap = u64_at(bytes, 72);
    assert!(bitmap & 1 << 12 != 0, "perf describes its events");
    let index = (bitmap & ((1 << 12) - 1)).count_ones() as usize;
    let section = u64_at(bytes, recording.data.end + 16 * index) as usize;
    let dir = TempDir::new().unwrap();
    let mut counted = bytes.clone();
    counted[section..section + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fold_in_child_ends_cleanly(&written(&dir, "events.data", &counted)).unwrap();
}

/// linux-perf-data grows its buffer to an AUXTRACE record's size before
/// reading that much: a record turned into one aborted.
#[test]
fn a_record_turned_auxtrace_aborts_nothing() {
    if skip() {
        return;
    }
    let recording = &recordings()[0];
    const AUXTRACE: u32 = 71;
    let (at, _, _) = records(recording)[0];
    let mut bytes = recording.bytes.clone();
    bytes[at..at + 4].copy_from_slice(&AUXTRACE.to_le_bytes());
    bytes[at + 8..at + 16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let dir = TempDir::new().unwrap();
    let path = written(&dir, "aux.data", &bytes);
    fold_in_child_ends_cleanly(&path).unwrap();
}

/// A build id of no bytes in the header's build-id section (its size byte
/// zeroed) was looked for in perf's build-id cache under its "first two"
/// hex digits: a panic, slicing past its end.
#[test]
fn empty_build_ids_in_the_header_read() {
    if skip() {
        return;
    }
    let recording = &recordings()[0];
    let mut bytes = recording.bytes.clone();
    // The feature table follows the data; HEADER_BUILD_ID is bit 2.
    let bitmap = u64_at(&bytes, 72);
    assert!(bitmap & 1 << 2 != 0, "perf wrote build ids");
    let index = (bitmap & 0b11).count_ones() as usize;
    let entry = recording.data.end + 16 * index;
    let (start, size) = (u64_at(&bytes, entry) as usize, u64_at(&bytes, entry + 8));
    // Each event: type, misc (bit 15: the size is in byte 20 of the id),
    // size, pid, the id (24 bytes), the path.
    let mut at = start;
    while at + 36 <= start + size as usize {
        let misc = u16::from_le_bytes(bytes[at + 4..at + 6].try_into().unwrap()) | 1 << 15;
        bytes[at + 4..at + 6].copy_from_slice(&misc.to_le_bytes());
        bytes[at + 12 + 20] = 0;
        at += usize::from(u16::from_le_bytes(
            bytes[at + 6..at + 8].try_into().unwrap(),
        ))
        .max(8);
    }
    let dir = TempDir::new().unwrap();
    let path = written(&dir, "build-ids.data", &bytes);
    read_cleanly(&path, &bytes).unwrap();
}
