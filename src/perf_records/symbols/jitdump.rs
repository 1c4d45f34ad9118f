//! The records of a jitdump file (`jit-PID.dump`, written by JIT runtimes
//! for `perf inject --jit`: node `--perf-prof`, CPython 3.13 `-X
//! perf_jit`, the JVM agent), read as the file grows: code loads (address,
//! size, name, time), code moves, and the unwinding information (the
//! runtime's `.eh_frame` and `.eh_frame_hdr`) of the next code load. Debug
//! information is skipped.
//!
//! The file is the runtime's, that is untrusted: any bytes give records or
//! none, never a panic, and a record claiming more than
//! [`MAX_RECORD_BYTES`] ends the reading.

use std::sync::Arc;

/// `JiTD` read in the file's byte order; little-endian files only (every
/// machine autofold records on).
const MAGIC: u32 = 0x4A69_5444;
/// The header's fixed part: magic, version, total size, ELF machine,
/// padding, pid, timestamp, flags.
const HEADER_BYTES: usize = 40;
/// A record's prefix: id, total size, timestamp.
const RECORD_PREFIX: usize = 16;
/// Header flag: timestamps are the CPU's time stamp counter, not
/// `CLOCK_MONOTONIC`.
const FLAG_ARCH_TIMESTAMP: u64 = 1;
/// The largest record read: far more than any compiled function's code.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

const CODE_LOAD: u32 = 0;
const CODE_MOVE: u32 = 1;
const CODE_UNWINDING_INFO: u32 = 4;

/// One record of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JitRecord {
    /// Code of `size` bytes, named `name`, placed at `start` at `time`;
    /// `index` is the runtime's number for it (code moves name it).
    Load {
        time: u64,
        start: u64,
        size: u64,
        index: u64,
        name: String,
    },
    /// The code numbered `index` moved from `from` to `to` at `time`.
    Move {
        time: u64,
        index: u64,
        from: u64,
        to: u64,
        size: u64,
    },
    /// The CFI of the next code load: its `.eh_frame` and `.eh_frame_hdr`,
    /// laid out as if they followed the code (see [`UnwindInfo`]).
    Unwinding(UnwindInfo),
}

/// A runtime's unwinding information for one piece of code, as `perf
/// inject --jit` lays it out in the ELF file it makes: the code at
/// relative address 0, `.eh_frame` at the code's size rounded up to 8,
/// `.eh_frame_hdr` right after it. Their pc-relative encodings only hold in
/// that layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnwindInfo {
    pub eh_frame: Arc<[u8]>,
    pub eh_frame_hdr: Arc<[u8]>,
}

/// What a jitdump's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Where the first record starts.
    pub size: usize,
    /// Timestamps are `CLOCK_MONOTONIC` nanoseconds (not the CPU's counter).
    pub monotonic: bool,
}

/// The header at the start of `bytes`: `None` while too few bytes are
/// there, `Some(Err(()))` if it is no jitdump autofold can read.
pub fn header(bytes: &[u8]) -> Option<Result<Header, ()>> {
    if bytes.len() < HEADER_BYTES {
        return None;
    }
    let size = u32_at(bytes, 8)? as usize;
    let flags = u64_at(bytes, 32)?;
    let valid = u32_at(bytes, 0)? == MAGIC && size >= HEADER_BYTES;
    Some(if valid {
        Ok(Header {
            size,
            monotonic: flags & FLAG_ARCH_TIMESTAMP == 0,
        })
    } else {
        Err(())
    })
}

/// How reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The rest is an incomplete record: more may come.
    Incomplete,
    /// A record is malformed: nothing after it can be trusted.
    Corrupt,
}

/// The records of `bytes` (records only, after the header), and how many
/// bytes they took; then why reading stopped.
pub fn records(bytes: &[u8]) -> (Vec<JitRecord>, usize, Stop) {
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let rest = &bytes[offset..];
        let (Some(id), Some(size)) = (u32_at(rest, 0), u32_at(rest, 4)) else {
            return (found, offset, Stop::Incomplete);
        };
        let size = size as usize;
        if !(RECORD_PREFIX..=MAX_RECORD_BYTES).contains(&size) {
            return (found, offset, Stop::Corrupt);
        }
        let Some(record) = rest.get(..size) else {
            return (found, offset, Stop::Incomplete);
        };
        match parsed(id, record) {
            Ok(Some(parsed)) => found.push(parsed),
            Ok(None) => {}
            Err(()) => return (found, offset, Stop::Corrupt),
        }
        offset += size;
    }
}

/// The record `id` whose bytes (prefix included) are `record`: `Ok(None)`
/// for a kind not read, `Err` if its fields do not fit.
fn parsed(id: u32, record: &[u8]) -> Result<Option<JitRecord>, ()> {
    let time = u64_at(record, 8).ok_or(())?;
    let body = &record[RECORD_PREFIX..];
    let field = |at: usize| u64_at(body, at).ok_or(());
    Ok(Some(match id {
        CODE_LOAD => {
            // pid, tid (u32 each), vma, code address, size, index, name.
            let (start, size, index) = (field(16)?, field(24)?, field(32)?);
            let name = body.get(40..).ok_or(())?;
            let name = &name[..memchr::memchr(0, name).ok_or(())?];
            JitRecord::Load {
                time,
                start,
                size,
                index,
                name: String::from_utf8_lossy(name).into_owned(),
            }
        }
        CODE_MOVE => JitRecord::Move {
            time,
            from: field(16)?,
            to: field(24)?,
            size: field(32)?,
            index: field(40)?,
        },
        CODE_UNWINDING_INFO => JitRecord::Unwinding(unwinding(body)?),
        _ => return Ok(None),
    }))
}

/// An unwinding record's body: sizes of the whole and of the header, the
/// mapped size, then `.eh_frame` followed by `.eh_frame_hdr`.
fn unwinding(body: &[u8]) -> Result<UnwindInfo, ()> {
    let whole = usize::try_from(u64_at(body, 0).ok_or(())?).map_err(|_| ())?;
    let header = usize::try_from(u64_at(body, 8).ok_or(())?).map_err(|_| ())?;
    let data = body
        .get(24..24usize.checked_add(whole).ok_or(())?)
        .ok_or(())?;
    let (eh_frame, eh_frame_hdr) = data.split_at(whole.checked_sub(header).ok_or(())?);
    Ok(UnwindInfo {
        eh_frame: Arc::from(eh_frame),
        eh_frame_hdr: Arc::from(eh_frame_hdr),
    })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(word.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let word = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(word.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A jitdump CPython 3.13.0 wrote for `fixtures/python/perf_jit.py`
    /// (see fixtures/README.md).
    fn cpython_dump() -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/python/perf_jit.dump");
        std::fs::read(path).unwrap()
    }

    #[test]
    fn cpython_code_loads_follow_their_unwinding_information() {
        let dump = cpython_dump();
        let header = header(&dump).unwrap().unwrap();
        assert!(header.monotonic);
        let (records, used, stop) = records(&dump[header.size..]);
        assert_eq!((used + header.size, stop), (dump.len(), Stop::Incomplete));
        let loads = records
            .iter()
            .filter(|r| matches!(r, JitRecord::Load { .. }))
            .count();
        assert!(loads > 100, "{loads}");
        // Each trampoline's load comes right after its CFI.
        for pair in records.chunks(2) {
            let [
                JitRecord::Unwinding(unwind),
                JitRecord::Load { name, time, .. },
            ] = pair
            else {
                panic!("{pair:?}");
            };
            assert!(name.starts_with("py::"), "{name}");
            assert!(*time > 0);
            assert_eq!(unwind.eh_frame_hdr.first(), Some(&1), "version 1");
            assert!(unwind.eh_frame.len() >= 24);
        }
        assert!(records.iter().any(|r| matches!(
            r,
            JitRecord::Load { name, .. }
                if name.starts_with("py::ping:") && name.ends_with("/fixtures/python/perf_jit.py")
        )));
    }

    #[test]
    fn a_record_cut_short_waits_for_the_rest() {
        let dump = cpython_dump();
        let size = header(&dump).unwrap().unwrap().size;
        let (whole, ..) = records(&dump[size..]);
        let (part, used, stop) = records(&dump[size..dump.len() - 3]);
        assert_eq!(stop, Stop::Incomplete);
        assert_eq!(part.len(), whole.len() - 1);
        let (rest, ..) = records(&dump[size + used..]);
        assert_eq!(rest.len(), 1);
    }

    #[test]
    fn a_record_of_impossible_size_ends_the_reading() {
        let mut bytes = vec![0u8; 32];
        bytes[4..8].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(records(&bytes), (vec![], 0, Stop::Corrupt));
        assert_eq!(header(&[0; 39]), None);
        assert_eq!(header(&[0; 40]), Some(Err(())));
    }

    proptest::proptest! {
        /// Any bytes give records or none, never a panic, and reading
        /// never goes past them.
        #[test]
        fn any_bytes_are_read_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = header(&bytes);
            let (_, used, _) = records(&bytes);
            proptest::prop_assert!(used <= bytes.len());
        }

        /// Records of well-formed prefixes with any body.
        #[test]
        fn any_body_of_a_known_record_is_read_without_panic(
            id in 0u32..6,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let mut bytes = id.to_le_bytes().to_vec();
            bytes.extend_from_slice(&((body.len() + RECORD_PREFIX) as u32).to_le_bytes());
            bytes.extend_from_slice(&7u64.to_le_bytes());
            bytes.extend_from_slice(&body);
            let (_, used, _) = records(&bytes);
            proptest::prop_assert!(used == 0 || used == bytes.len());
        }
    }
}
