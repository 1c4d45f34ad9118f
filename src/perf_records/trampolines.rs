//! CPython's perf trampolines (3.12 and later, `PYTHONPERFSUPPORT=1`),
//! stepped over when unwinding.
//!
//! To let perf name Python functions, CPython copies one small piece of
//! code (`_Py_trampoline_func_start` in `Python/asm_trampoline.S`) for each
//! Python function into anonymous memory, names each copy in
//! `/tmp/perf-PID.map` (`py::evaluate:/app/calc.py`), and runs the function
//! through its copy. On x86-64 the copy is `sub $8,%rsp; call *%rcx; add
//! $8,%rsp; ret`: it keeps no frame pointer and has no unwind information,
//! so neither DWARF CFI nor frame pointers get past it, and every stack of a
//! CPython built without frame pointers (pyenv's, most distributions')
//! stopped at the innermost Python frame.
//!
//! The code is fixed, so its unwind rule is known: at the call's return
//! address the caller's return address is 8 bytes above the stack pointer
//! and the frame is 16 bytes (`rbp` untouched). autofold applies that rule
//! to JIT code of a process that maps a CPython interpreter whose
//! trampoline is that very code (checked in the interpreter's file), and
//! only where the caller it finds is code of a mapped file (the eval loop's
//! `_PyEval_EvalFrame`), so a guess never replaces what frame pointers
//! find. Anything else in JIT code is unwound as before.

use framehop::x86_64::UnwindRegsX86_64;
use framehop::{Error, FrameAddress};
use object::{Object, ObjectSection, ObjectSymbol};

use super::elf_files::ElfImage;
use super::mappings::Mappings;
use super::modules::{ModuleId, UNKNOWN_MODULE};
use super::raw_stacks::lookup_address;

/// The symbol CPython's trampoline code starts at.
const TRAMPOLINE_SYMBOL: &str = "_Py_trampoline_func_start";

/// CPython's x86-64 trampoline: `sub $8,%rsp; call *%rcx; add $8,%rsp;
/// ret` (3.12 and 3.13).
const X86_64_TRAMPOLINE: [u8; 11] = [
    0x48, 0x83, 0xec, 0x08, 0xff, 0xd1, 0x48, 0x83, 0xc4, 0x08, 0xc3,
];

/// The trampoline's frame size in the body, where it calls the eval loop
/// (from its stack pointer to its caller's).
const FRAME_IN_CALL: u64 = 16;

/// Its frame size on entry and at its `ret`.
const FRAME_AT_EDGES: u64 = 8;

/// Whether `image` is a CPython interpreter (a `python3.x` program or
/// `libpython3.x.so`) whose perf trampoline is the code autofold knows how
/// to step over.
pub fn has_known_trampolines(image: &ElfImage) -> bool {
    let name = image
        .path()
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    (name.starts_with("python") || name.starts_with("libpython"))
        && trampoline_code(image).is_some_and(|code| code.starts_with(&X86_64_TRAMPOLINE))
}

/// The bytes at [`TRAMPOLINE_SYMBOL`] in `image` (as many as the known
/// code has), if the file exports it.
fn trampoline_code(image: &ElfImage) -> Option<&[u8]> {
    let file = image.parse()?;
    let symbol = file
        .dynamic_symbols()
        .chain(file.symbols())
        .find(|symbol| symbol.name() == Ok(TRAMPOLINE_SYMBOL))?;
    let address = symbol.address();
    let section = file.sections().find(|section| {
        (section.address()..section.address() + section.size()).contains(&address)
    })?;
    let (offset, size) = section.file_range()?;
    let start = offset.checked_add(address - section.address())?;
    let end = start.checked_add(X86_64_TRAMPOLINE.len() as u64)?;
    if end > offset.saturating_add(size) {
        return None;
    }
    image
        .data()
        .get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

/// The CPython trampolines of one process: they are in its JIT code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trampolines {
    /// The process's module of JIT (anonymous executable) memory.
    pub jit_module: ModuleId,
}

impl Trampolines {
    /// Steps over the frame at `address` if it is a trampoline's: sets
    /// `regs` to its caller's and gives the caller's return address (an
    /// error if the stack copy ends first). `None` where `address` is not
    /// in JIT code, or no trampoline rule leads to code of a mapped file.
    pub fn step(
        &self,
        mappings: &Mappings,
        address: FrameAddress,
        regs: &mut UnwindRegsX86_64,
        read_stack: &mut dyn FnMut(u64) -> Result<u64, ()>,
    ) -> Option<Result<Option<u64>, Error>> {
        let in_jit = mappings
            .find(address.address_for_lookup())
            .is_some_and(|mapping| mapping.module == self.jit_module);
        if !in_jit {
            return None;
        }
        // A return address is the call's; where the thread was, it may
        // also be at the trampoline's first or last instruction.
        let frame_sizes: &[u64] = match address {
            FrameAddress::ReturnAddress(_) => &[FRAME_IN_CALL],
            FrameAddress::InstructionPointer(_) => &[FRAME_IN_CALL, FRAME_AT_EDGES],
        };
        let sp = regs.sp();
        for &size in frame_sizes {
            let Some(cfa) = sp.checked_add(size) else {
                continue;
            };
            let slot = cfa - 8;
            let Ok(caller) = read_stack(slot) else {
                return Some(Err(Error::CouldNotReadStack(slot)));
            };
            if self.is_file_code(mappings, caller) {
                regs.set_sp(cfa);
                regs.set_ip(caller);
                return Some(Ok(Some(caller)));
            }
        }
        None
    }

    /// Whether return address `address` is in code of a mapped file.
    fn is_file_code(&self, mappings: &Mappings, address: u64) -> bool {
        address != 0
            && mappings
                .find(lookup_address(address, false))
                .is_some_and(|m| m.module != self.jit_module && m.module != UNKNOWN_MODULE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf_records::mappings::Mapping;

    const JIT: ModuleId = 7;
    const LIBPYTHON: ModuleId = 3;

    fn mappings() -> Mappings {
        let mut mappings = Mappings::default();
        for (start, end, module) in [(0x1000, 0x2000, JIT), (0x10_0000, 0x20_0000, LIBPYTHON)] {
            mappings.insert(Mapping {
                start,
                end,
                module,
                bias: 0,
            });
        }
        mappings
    }

    /// A stack copy starting at `sp` holding `words`.
    fn stack(sp: u64, words: &[u64]) -> impl FnMut(u64) -> Result<u64, ()> + '_ {
        move |address| {
            let index = usize::try_from(address.checked_sub(sp).ok_or(())? / 8).map_err(|_| ())?;
            words.get(index).copied().ok_or(())
        }
    }

    fn step(
        address: FrameAddress,
        sp: u64,
        words: &[u64],
    ) -> Option<(Result<Option<u64>, Error>, u64)> {
        let trampolines = Trampolines { jit_module: JIT };
        let mut regs = UnwindRegsX86_64::new(address.address(), sp, 0xbbbb);
        let result = trampolines.step(&mappings(), address, &mut regs, &mut stack(sp, words))?;
        assert_eq!(regs.bp(), 0xbbbb, "rbp is untouched");
        Some((result, regs.sp()))
    }

    #[test]
    fn a_trampoline_return_address_steps_to_the_eval_loop() {
        let ra = FrameAddress::from_return_address(0x1006).unwrap();
        // [sp] is the 8 bytes `sub $8` made; [sp+8] returns into libpython.
        let (result, sp) = step(ra, 0x7000, &[0xdead, 0x10_1234]).unwrap();
        assert_eq!(result.unwrap(), Some(0x10_1234));
        assert_eq!(sp, 0x7010);
    }

    #[test]
    fn a_caller_outside_file_code_is_no_trampoline() {
        let ra = FrameAddress::from_return_address(0x1006).unwrap();
        assert!(
            step(ra, 0x7000, &[0xdead, 0x1500]).is_none(),
            "into JIT code"
        );
        assert!(
            step(ra, 0x7000, &[0xdead, 0x9_0000]).is_none(),
            "into no mapping"
        );
    }

    #[test]
    fn code_of_a_file_is_left_to_the_unwinder() {
        let ra = FrameAddress::from_return_address(0x10_1006).unwrap();
        assert!(step(ra, 0x7000, &[0xdead, 0x10_1234]).is_none());
    }

    #[test]
    fn where_the_thread_was_both_frame_sizes_are_tried() {
        let ip = FrameAddress::InstructionPointer(0x1000);
        // On the first instruction the return address is at [sp].
        let (result, sp) = step(ip, 0x7000, &[0x10_4321, 0xdead]).unwrap();
        assert_eq!(result.unwrap(), Some(0x10_4321));
        assert_eq!(sp, 0x7008);
    }

    #[test]
    fn a_stack_copy_that_ends_is_an_error() {
        let ra = FrameAddress::from_return_address(0x1006).unwrap();
        let (result, _) = step(ra, 0x7000, &[0xdead]).unwrap();
        assert!(matches!(result, Err(Error::CouldNotReadStack(0x7008))));
    }

    #[test]
    fn pyenvs_interpreters_have_the_known_trampoline() {
        let root = std::process::Command::new("pyenv").arg("root").output();
        let Ok(root) = root else {
            panic!("pyenv is not installed: install pyenv with CPython 3.12.1 (see README.md)");
        };
        let root = String::from_utf8_lossy(&root.stdout).trim().to_owned();
        for lib in [
            "3.12.1/lib/libpython3.12.so.1.0",
            "3.13.0/lib/libpython3.13.so.1.0",
        ] {
            let path = std::path::Path::new(&root).join("versions").join(lib);
            let image = ElfImage::open(&path).unwrap_or_else(|| {
                panic!("{}: missing; `pyenv install {}`", path.display(), &lib[..6])
            });
            assert!(has_known_trampolines(&image), "{}", path.display());
        }
        let libc = ElfImage::open(std::path::Path::new("/lib/x86_64-linux-gnu/libc.so.6")).unwrap();
        assert!(!has_known_trampolines(&libc));
    }
}
