//! User stacks unwound from a sample's registers and stack copy
//! (`--call-graph dwarf`) with framehop: DWARF CFI from each module's
//! `.eh_frame`/`.eh_frame_hdr` (or `.debug_frame`), frame pointers where an
//! address is in no module that has unwind information (JIT code).

use std::ops::{Deref, Range};
use std::sync::Arc;

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{Error, ExplicitModuleSectionInfo, FrameAddress, Module, Unwinder as _};
use linux_perf_event_reader::constants::{PERF_REG_X86_BP, PERF_REG_X86_IP, PERF_REG_X86_SP};
use linux_perf_event_reader::{RawData, Regs};
use memmap2::Mmap;
use object::{CompressionFormat, Object, ObjectSection};

use super::elf_files::ElfImage;
use super::symbols::jitdump::UnwindInfo;

/// A section's bytes: a range of the file's mapping, or a decompressed copy.
#[derive(Debug, Clone)]
pub enum SectionBytes {
    Mapped(Arc<Mmap>, Range<usize>),
    Owned(Arc<[u8]>),
}

impl Deref for SectionBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SectionBytes::Mapped(map, range) => &map[range.clone()],
            SectionBytes::Owned(bytes) => bytes,
        }
    }
}

/// Bytes in a stack word.
const WORD: usize = 8;

/// The unwinder of one process (x86_64).
pub type ProcessUnwinder = UnwinderX86_64<SectionBytes>;
/// Unwind rules cached across samples and processes.
pub type UnwindCache = CacheX86_64;

/// The framehop module for `image` mapped at `avma` with `bias`
/// (`avma = svma + bias`).
pub fn unwind_module(
    image: &ElfImage,
    avma: Range<u64>,
    bias: u64,
) -> Option<Module<SectionBytes>> {
    let file = image.parse()?;
    let section = |name: &str| {
        let section = file.section_by_name(name)?;
        let range = section.address()..section.address() + section.size();
        Some((range, section_bytes(image, &section)?))
    };
    let text = section(".text");
    let eh_frame = section(".eh_frame");
    let eh_frame_hdr = section(".eh_frame_hdr");
    let debug_frame = section(".debug_frame");
    let got = file.section_by_name(".got");
    let info = ExplicitModuleSectionInfo {
        // ELF: relative addresses are the file's own addresses (SVMAs).
        base_svma: 0,
        text_svma: text.as_ref().map(|(range, _)| range.clone()),
        text: text.map(|(_, bytes)| bytes),
        got_svma: got.map(|s| s.address()..s.address() + s.size()),
        eh_frame_svma: eh_frame.as_ref().map(|(range, _)| range.clone()),
        eh_frame: eh_frame.map(|(_, bytes)| bytes),
        eh_frame_hdr_svma: eh_frame_hdr.as_ref().map(|(range, _)| range.clone()),
        eh_frame_hdr: eh_frame_hdr.map(|(_, bytes)| bytes),
        debug_frame: debug_frame.map(|(_, bytes)| bytes),
        stubs_svma: None,
        stub_helper_svma: None,
        unwind_info: None,
        text_segment_svma: None,
        text_segment: None,
    };
    let name = image.path().to_string_lossy().into_owned();
    Some(Module::new(name, avma, bias, info))
}

/// The framehop module for JIT code at `code` that its runtime wrote
/// unwinding information for (a jitdump's `JIT_CODE_UNWINDING_INFO`):
/// laid out as `perf inject --jit` lays it out, the code at relative
/// address 0, `.eh_frame` at its size rounded up to 8, `.eh_frame_hdr`
/// right after, so that the runtime's pc-relative encodings hold.
pub fn jit_unwind_module(code: Range<u64>, unwinding: &UnwindInfo) -> Module<SectionBytes> {
    let size = code.end.saturating_sub(code.start);
    let eh_frame_start = size.next_multiple_of(8);
    let eh_frame_end = eh_frame_start + unwinding.eh_frame.len() as u64;
    let eh_frame_hdr_end = eh_frame_end + unwinding.eh_frame_hdr.len() as u64;
    let info = ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: Some(0..size),
        eh_frame_svma: Some(eh_frame_start..eh_frame_end),
        eh_frame: Some(SectionBytes::Owned(unwinding.eh_frame.clone())),
        eh_frame_hdr_svma: Some(eh_frame_end..eh_frame_hdr_end),
        eh_frame_hdr: Some(SectionBytes::Owned(unwinding.eh_frame_hdr.clone())),
        text: None,
        got_svma: None,
        debug_frame: None,
        stubs_svma: None,
        stub_helper_svma: None,
        unwind_info: None,
        text_segment_svma: None,
        text_segment: None,
    };
    let name = format!("JIT code at {:#x}", code.start);
    Module::new(name, code.clone(), code.start, info)
}

/// A section's bytes without copying, unless it is compressed.
fn section_bytes<'f>(image: &ElfImage, section: &object::Section<'f, 'f>) -> Option<SectionBytes> {
    let range = section.compressed_file_range().ok()?;
    if range.format == CompressionFormat::None {
        let start = usize::try_from(range.offset).ok()?;
        let end = start.checked_add(usize::try_from(range.uncompressed_size).ok()?)?;
        (end <= image.data().len()).then(|| SectionBytes::Mapped(image.mmap().clone(), start..end))
    } else {
        let bytes = section.uncompressed_data().ok()?;
        Some(SectionBytes::Owned(Arc::from(&*bytes)))
    }
}

/// A user-space frame found by unwinding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFrame {
    /// Where the thread was: look the address up as it is.
    Ip(u64),
    /// A return address: the call is just before it.
    Return(u64),
}

/// How an unwind ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwindEnd {
    /// At the outermost frame, or where no rule recovers a caller.
    Complete,
    /// The caller's return address is beyond the stack copy: the stack is
    /// cut (deep recursion, or a stack larger than the copy).
    Truncated,
}

/// A rule for frames framehop cannot step over: given the frame's address,
/// the registers (set to the caller's) and the stack, the caller's return
/// address; `None` to leave the frame to framehop.
pub type JitStep<'j> = dyn FnMut(
        FrameAddress,
        &mut UnwindRegsX86_64,
        &mut dyn FnMut(u64) -> Result<u64, ()>,
    ) -> Option<Result<Option<u64>, Error>>
    + 'j;

/// Unwinds the user stack of a sample from its registers and stack copy,
/// pushing frames innermost first onto `out`. `jit_step` steps over a
/// frame framehop cannot (JIT code with a known rule, such as CPython's
/// trampolines), or gives `None` to leave it to framehop.
pub fn unwind_user(
    unwinder: &ProcessUnwinder,
    cache: &mut UnwindCache,
    regs: &Regs,
    stack: RawData,
    jit_step: &mut JitStep<'_>,
    out: &mut Vec<UserFrame>,
) -> UnwindEnd {
    let (Some(ip), Some(sp), Some(bp)) = (
        regs.get(PERF_REG_X86_IP),
        regs.get(PERF_REG_X86_SP),
        regs.get(PERF_REG_X86_BP),
    ) else {
        return UnwindEnd::Complete;
    };
    let stack = stack.as_slice();
    // perf's unwinder never reads the last word of the copy; not
    // reading it either cuts deep stacks exactly where `perf script` does.
    let readable = stack.len().saturating_sub(WORD);
    let mut read_stack = |address: u64| -> Result<u64, ()> {
        let offset = usize::try_from(address.checked_sub(sp).ok_or(())?).map_err(|_| ())?;
        let end = offset.checked_add(WORD).ok_or(())?;
        let bytes = stack[..readable].get(offset..end).ok_or(())?;
        Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| ())?))
    };
    let mut regs = UnwindRegsX86_64::new(ip, sp, bp);
    let mut address = FrameAddress::InstructionPointer(ip);
    out.push(UserFrame::Ip(ip));
    loop {
        let next = match jit_step(address, &mut regs, &mut read_stack) {
            Some(stepped) => stepped,
            None => unwinder.unwind_frame(address, &mut regs, cache, &mut read_stack),
        };
        match next {
            Ok(Some(return_address)) => {
                let Some(caller) = FrameAddress::from_return_address(return_address) else {
                    return UnwindEnd::Complete;
                };
                out.push(UserFrame::Return(return_address));
                address = caller;
            }
            Ok(None) => return UnwindEnd::Complete,
            Err(Error::CouldNotReadStack(_)) => return UnwindEnd::Truncated,
            Err(_) => return UnwindEnd::Complete,
        }
    }
}
