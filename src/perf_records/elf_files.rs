//! ELF files on disk, memory-mapped once and shared by every process that
//! maps them: where their code lands in a process, and their build ids.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use object::elf::PF_X;
use object::{Object, ObjectSegment, SegmentFlags};

/// Mappings start on page boundaries.
const PAGE_SIZE: u64 = 4096;

/// A memory-mapped ELF file.
#[derive(Debug)]
pub struct ElfImage {
    path: PathBuf,
    data: Arc<Mmap>,
}

impl ElfImage {
    /// Maps `path`; `None` if it cannot be read or is not an ELF file.
    pub fn open(path: &Path) -> Option<Arc<Self>> {
        let file = File::open(path).ok()?;
        // SAFETY: the mapping is read-only; a binary changed on disk while
        // it is mapped gives wrong symbols, as it would for perf.
        let data = unsafe { Mmap::map(&file) }.ok()?;
        if !data.starts_with(b"\x7fELF") {
            return None;
        }
        let image = Self {
            path: path.to_owned(),
            data: Arc::new(data),
        };
        image.parse()?;
        Some(Arc::new(image))
    }

    /// An image of `bytes` (an ELF file that is not on disk: the vdso),
    /// called `path`; `None` if they are not an ELF file.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Option<Arc<Self>> {
        let mut copy = memmap2::MmapMut::map_anon(bytes.len().max(1)).ok()?;
        copy[..bytes.len()].copy_from_slice(bytes);
        let image = Self {
            path: path.to_owned(),
            data: Arc::new(copy.make_read_only().ok()?),
        };
        (bytes.starts_with(b"\x7fELF") && image.parse().is_some()).then(|| Arc::new(image))
    }

    /// Where the file was found.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The mapping itself, to hand out ranges of it without copying.
    pub fn mmap(&self) -> &Arc<Mmap> {
        &self.data
    }

    /// The parsed file (headers are parsed again on each call: cheap).
    pub fn parse(&self) -> Option<object::File<'_>> {
        object::File::parse(&self.data[..]).ok()
    }

    /// The GNU build id note, if any.
    pub fn build_id(&self) -> Option<Vec<u8>> {
        Some(self.parse()?.build_id().ok()??.to_vec())
    }

    /// The `.gnu_debuglink` file name, if any.
    pub fn debuglink(&self) -> Option<String> {
        let (name, _crc) = self.parse()?.gnu_debuglink().ok()??;
        Some(String::from_utf8_lossy(name).into_owned())
    }

    /// For a mapping of this file at `avma` from file offset `file_offset`,
    /// the bias that turns the file's own (stated) addresses into the
    /// process's: `avma = svma + bias`. The mapping is of the loadable
    /// segment whose pages hold `file_offset` (an executable one when a page
    /// is shared by two segments).
    pub fn bias(&self, file_offset: u64, avma: u64) -> Option<u64> {
        let file = self.parse()?;
        let holds = |segment: &object::Segment<'_, '_>| {
            let (offset, size) = segment.file_range();
            let first_page = offset & !(PAGE_SIZE - 1);
            size > 0 && first_page <= file_offset && file_offset < offset + size
        };
        let executable = |segment: &object::Segment<'_, '_>| matches!(segment.flags(), SegmentFlags::Elf { p_flags } if p_flags & PF_X != 0);
        let segment = file.segments().filter(holds).max_by_key(executable)?;
        let (offset, _) = segment.file_range();
        let svma = segment
            .address()
            .wrapping_add(file_offset)
            .wrapping_sub(offset);
        Some(avma.wrapping_sub(svma))
    }
}
