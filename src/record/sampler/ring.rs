//! The ring buffer the kernel writes an event's records into, mapped into
//! autofold: records are read where the kernel wrote them (no copy, a
//! sample's 64 KB stack included) and each one's space is given back to the
//! kernel as soon as it has been handled.

use std::io;
use std::mem::offset_of;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};

use linux_perf_event_reader::{RawData, RawEventRecord, RecordParseInfo, RecordType};
use memmap2::{MmapOptions, MmapRaw};
use perf_event_open_sys::bindings::perf_event_mmap_page;

/// The bytes of a record's header (`perf_event_header`).
const HEADER: usize = 8;

/// One mapped ring buffer.
pub struct Ring {
    map: MmapRaw,
    /// Where the data area starts in the mapping, and its size (a power of
    /// two).
    data_offset: usize,
    data_size: usize,
    /// How far records were read and handed back (bytes since the start).
    tail: u64,
    parse_info: RecordParseInfo,
}

impl Ring {
    /// Maps the ring buffer of `event` with `data_bytes` of data (a power of
    /// two number of pages); its records are read with `parse_info`.
    pub fn map(
        event: &OwnedFd,
        data_bytes: usize,
        parse_info: RecordParseInfo,
    ) -> io::Result<Ring> {
        let page = page_size();
        let map = MmapOptions::new().len(page + data_bytes).map_raw(event)?;
        let mut ring = Ring {
            map,
            data_offset: page,
            data_size: data_bytes,
            tail: 0,
            parse_info,
        };
        // Kernels since 4.1 say where the data is; older ones put it after
        // the first page.
        let (offset, size) = (
            ring.page_field(offset_of!(perf_event_mmap_page, data_offset)),
            ring.page_field(offset_of!(perf_event_mmap_page, data_size)),
        );
        if size != 0 {
            ring.data_offset = usize::try_from(offset).map_err(io::Error::other)?;
            ring.data_size = usize::try_from(size).map_err(io::Error::other)?;
        }
        ring.tail = ring
            .control(offset_of!(perf_event_mmap_page, data_tail))
            .load(Ordering::Relaxed);
        Ok(ring)
    }

    /// The next record the kernel wrote, if there is one: it stays in the
    /// buffer until [`Ring::consume`].
    pub fn peek(&self) -> Option<RawEventRecord<'_>> {
        let (kind, misc, size) = self.next_header()?;
        let start = (self.position() + HEADER) % self.data_size;
        let body = size - HEADER;
        let data = if start + body <= self.data_size {
            RawData::Single(self.bytes(start, body))
        } else {
            let first = self.data_size - start;
            RawData::Split(self.bytes(start, first), self.bytes(0, body - first))
        };
        Some(RawEventRecord::new(
            RecordType(kind),
            misc,
            data,
            self.parse_info,
        ))
    }

    /// The timestamp of the next record, if there is one (0 for a record
    /// without one, so it goes first).
    pub fn next_time(&self) -> Option<u64> {
        self.peek().map(|record| record.timestamp().unwrap_or(0))
    }

    /// Hands the next record's space back to the kernel.
    pub fn consume(&mut self) {
        if let Some((_, _, size)) = self.next_header() {
            self.tail += size as u64;
            // Release: our reads of the record happen before the kernel may
            // write over it.
            self.control(offset_of!(perf_event_mmap_page, data_tail))
                .store(self.tail, Ordering::Release);
        }
    }

    /// How many bytes of records wait to be read.
    pub fn pending(&self) -> u64 {
        self.head().saturating_sub(self.tail)
    }

    /// The next record's type, misc and size (header included), if a whole
    /// well-formed one is there.
    fn next_header(&self) -> Option<(u32, u16, usize)> {
        let pending = self.pending();
        if pending < HEADER as u64 {
            return None;
        }
        // Records are 8-byte aligned and the buffer's size a multiple of 8:
        // a header never wraps.
        let header = self.bytes(self.position(), HEADER);
        let kind = u32::from_ne_bytes(header[0..4].try_into().ok()?);
        let misc = u16::from_ne_bytes(header[4..6].try_into().ok()?);
        let size = usize::from(u16::from_ne_bytes(header[6..8].try_into().ok()?));
        (size >= HEADER && size as u64 <= pending).then_some((kind, misc, size))
    }

    /// Where the tail is in the data area.
    fn position(&self) -> usize {
        (self.tail % self.data_size as u64) as usize
    }

    /// How far the kernel has written (acquire: the records before it are
    /// visible).
    fn head(&self) -> u64 {
        self.control(offset_of!(perf_event_mmap_page, data_head))
            .load(Ordering::Acquire)
    }

    /// `len` bytes of the data area from `start`, which lie between the tail
    /// and the head: the kernel does not write there until the tail moves.
    fn bytes(&self, start: usize, len: usize) -> &[u8] {
        assert!(start + len <= self.data_size, "inside the data area");
        // SAFETY: the range is inside the mapping, and holds records the
        // kernel has published (before the head) and will not overwrite
        // before the tail passes them (we hold `&self`, `consume` needs
        // `&mut self`).
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(self.data_offset + start), len) }
    }

    /// A u64 field of the control page, shared with the kernel.
    fn control(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: `offset` is a field of perf_event_mmap_page at the start of
        // the page-aligned mapping, so aligned for a u64; the kernel and we
        // access it only atomically.
        unsafe { &*self.map.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    /// A field of the control page the kernel sets once, at mapping.
    fn page_field(&self, offset: usize) -> u64 {
        self.control(offset).load(Ordering::Relaxed)
    }
}

/// The system's page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}
