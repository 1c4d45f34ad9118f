//! Names for the stubs of an x86-64 ELF file's procedure linkage table
//! (`.plt`, `.plt.sec`, `.plt.got`), which no symbol table covers: a
//! sample in a stub is named `callee@plt`, as perf and objdump name it,
//! instead of the bare module.
//!
//! Each stub is read, not counted: its `jmp *slot(%rip)` gives the GOT slot
//! it jumps through, and the dynamic relocation of that slot gives the
//! callee. Counting entries in relocation order (perf 6.1) names stubs
//! wrongly where the linker put IFUNC relocations out of order (glibc's own
//! `.plt`). A slot relocated by `R_X86_64_IRELATIVE` has no symbol: the
//! stub is named after the IFUNC whose resolver the addend is
//! (`strnlen@plt`, by its exported name), or `*ABS*+0x…@plt` as objdump
//! writes it where none is found. Stubs that jump through no slot (the
//! lazy-binding header and, with IBT, the lazy stubs behind `.plt.sec`)
//! are `.plt`.

use object::read::elf::{ElfSection64, SectionHeader as _};
use object::{Architecture, Endianness, Object, ObjectSection, ObjectSymbol, ObjectSymbolTable};
use rustc_hash::{FxHashMap, FxHashSet};

use super::symtab::SymbolTable;
use crate::demangle::demangle;

/// A stub's length where the section does not say (`sh_entsize` 0).
const DEFAULT_STUB: u64 = 16;

/// The sections that hold stubs, with what each stub that jumps through
/// no slot is called (`None`: left unnamed).
const STUB_SECTIONS: [(&str, Option<&str>); 3] = [
    (".plt", Some(".plt")),
    (".plt.sec", None),
    (".plt.got", None),
];

/// One stub: its addresses (SVMAs) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stub {
    start: u64,
    end: u64,
    name: String,
}

/// The stubs of one file, sorted by address.
#[derive(Debug, Default)]
pub struct PltTable {
    stubs: Vec<Stub>,
}

impl PltTable {
    /// The stubs of `file` (empty but for x86-64).
    pub fn new(file: &object::File<'_>) -> Self {
        let object::File::Elf64(elf) = file else {
            return Self::default();
        };
        if elf.architecture() != Architecture::X86_64 {
            return Self::default();
        }
        let jumps: Vec<(Jump, Option<&str>)> = STUB_SECTIONS
            .iter()
            .filter_map(|&(name, fallback)| Some((elf.section_by_name(name)?, fallback)))
            .flat_map(|(section, fallback)| {
                section_jumps(&section)
                    .into_iter()
                    .map(move |jump| (jump, fallback))
            })
            .collect();
        let slots: FxHashSet<u64> = jumps.iter().filter_map(|(jump, _)| jump.slot).collect();
        let callees = callees_by_slot(file, &slots);
        let mut stubs: Vec<Stub> = jumps
            .into_iter()
            .filter_map(|(jump, fallback)| {
                let name = match jump.slot {
                    Some(slot) => callees.get(&slot).map(|callee| format!("{callee}@plt")),
                    None => fallback.map(str::to_owned),
                }?;
                Some(Stub {
                    start: jump.start,
                    end: jump.end,
                    name,
                })
            })
            .collect();
        stubs.sort_by_key(|stub| stub.start);
        Self { stubs }
    }

    /// Whether any of `addresses` lies in `file`'s stub sections: most
    /// modules' samples do not, and reading the stubs walks every dynamic
    /// relocation (~117,600 in `librustc_driver`).
    pub fn needed(file: &object::File<'_>, addresses: impl Iterator<Item = u64>) -> bool {
        let ranges: Vec<(u64, u64)> = STUB_SECTIONS
            .iter()
            .filter_map(|(name, _)| file.section_by_name(name))
            .map(|section| {
                (
                    section.address(),
                    section.address().saturating_add(section.size()),
                )
            })
            .collect();
        !ranges.is_empty()
            && addresses.into_iter().any(|address| {
                ranges
                    .iter()
                    .any(|&(start, end)| (start..end).contains(&address))
            })
    }

    /// The name of the stub holding `address`, if one does.
    pub fn lookup(&self, address: u64) -> Option<&str> {
        let after = self.stubs.partition_point(|stub| stub.start <= address);
        let stub = self.stubs.get(after.checked_sub(1)?)?;
        (address < stub.end).then_some(stub.name.as_str())
    }
}

/// One stub's addresses and the GOT slot it jumps through, if it does.
#[derive(Debug, Clone, Copy)]
struct Jump {
    start: u64,
    end: u64,
    slot: Option<u64>,
}

/// The stubs of one section, `sh_entsize` bytes each.
fn section_jumps(section: &ElfSection64<'_, '_, Endianness>) -> Vec<Jump> {
    let Ok(code) = section.data() else {
        return Vec::new();
    };
    let size = section
        .elf_section_header()
        .sh_entsize(section.elf_file().endian());
    jumps_in(code, section.address(), size)
}

/// The stubs of `code`, at address `base`, `size` bytes each (0: the
/// default); none that would end past the address space.
fn jumps_in(code: &[u8], base: u64, size: u64) -> Vec<Jump> {
    let size = if size == 0 { DEFAULT_STUB } else { size };
    let step = usize::try_from(size).unwrap_or(usize::MAX);
    (0..code.len())
        .step_by(step)
        .map_while(|offset| {
            let start = base.checked_add(offset as u64)?;
            Some(Jump {
                start,
                end: start.checked_add(size)?,
                slot: jump_slot(&code[offset..], start),
            })
        })
        .collect()
}

/// The GOT slot the stub in `bytes`, at address `start`, jumps through:
/// `jmp *disp32(%rip)` (`ff 25`), after an `endbr64` and a `bnd` prefix
/// where IBT and MPX stubs have them.
fn jump_slot(bytes: &[u8], start: u64) -> Option<u64> {
    const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
    const BND: u8 = 0xf2;
    let mut at = 0;
    if bytes.starts_with(&ENDBR64) {
        at += ENDBR64.len();
    }
    if bytes.get(at) == Some(&BND) {
        at += 1;
    }
    if bytes.get(at..at + 2)? != [0xff, 0x25] {
        return None;
    }
    let disp = i32::from_le_bytes(bytes.get(at + 2..at + 6)?.try_into().ok()?);
    // RIP-relative: from the end of the instruction.
    let next = start.checked_add(at as u64 + 6)?;
    Some(next.wrapping_add_signed(i64::from(disp)))
}

/// The function each of `slots` will hold, from its dynamic relocation:
/// the relocation's symbol, demangled, or for `R_X86_64_IRELATIVE` the
/// IFUNC its addend resolves, by the name the file exports it under (a
/// debug file's local name for the resolver, `__strchrnul_ifunc`, is not
/// what callers call). Other relocations (a library has many thousands of
/// `R_X86_64_RELATIVE` ones) are skipped before anything is looked up.
fn callees_by_slot(file: &object::File<'_>, slots: &FxHashSet<u64>) -> FxHashMap<u64, String> {
    let (Some(relocations), Some(dynsym)) =
        (file.dynamic_relocations(), file.dynamic_symbol_table())
    else {
        return FxHashMap::default();
    };
    let mut exported = None;
    relocations
        .filter(|(slot, _)| slots.contains(slot))
        .filter_map(|(slot, relocation)| {
            let callee = match relocation.target() {
                object::RelocationTarget::Symbol(index) => {
                    let symbol = dynsym.symbol_by_index(index).ok()?;
                    demangle(symbol.name().ok().filter(|name| !name.is_empty())?)
                }
                object::RelocationTarget::Absolute if is_irelative(&relocation) => {
                    let resolver = u64::try_from(relocation.addend()).ok()?;
                    let exported = exported.get_or_insert_with(|| SymbolTable::dynamic(file));
                    match exported.lookup(resolver).filter(|s| s.start == resolver) {
                        Some(ifunc) => demangle(&ifunc.name()),
                        None => format!("*ABS*+{resolver:#x}"),
                    }
                }
                _ => return None,
            };
            Some((slot, callee))
        })
        .collect()
}

/// Whether `relocation` has the slot call an IFUNC's resolver.
fn is_irelative(relocation: &object::Relocation) -> bool {
    relocation.flags()
        == object::RelocationFlags::Elf {
            r_type: object::elf::R_X86_64_IRELATIVE,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stub_jumps_through_the_slot_its_displacement_names() {
        // glibc's `.plt` entry at 0x26030: `jmp *0x1acfda(%rip)` -> 0x1d3010.
        let lazy = [0xff, 0x25, 0xda, 0xcf, 0x1a, 0x00, 0x68, 0, 0, 0, 0];
        assert_eq!(jump_slot(&lazy, 0x26030), Some(0x1d3010));
        // IBT: `endbr64; bnd jmp *disp(%rip)`, 11 bytes in.
        let ibt = [
            0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xf0, 0xff, 0xff, 0xff,
        ];
        assert_eq!(jump_slot(&ibt, 0x1000), Some(0x1000 + 11 - 0x10));
        // The lazy header pushes first; an IBT lazy stub pushes an index.
        let header = [0xff, 0x35, 0xea, 0xcf, 0x1a, 0x00, 0xff, 0x25];
        assert_eq!(jump_slot(&header, 0x26000), None);
        assert_eq!(jump_slot(&[0xff, 0x25, 0x01], 0), None);
    }

    #[test]
    fn lookups_find_the_stub_that_holds_the_address() {
        let stub = |start, name: &str| Stub {
            start,
            end: start + 16,
            name: name.into(),
        };
        let table = PltTable {
            stubs: vec![stub(0x1000, ".plt"), stub(0x1010, "puts@plt")],
        };
        assert_eq!(table.lookup(0xfff), None);
        assert_eq!(table.lookup(0x100f), Some(".plt"));
        assert_eq!(table.lookup(0x101f), Some("puts@plt"));
        assert_eq!(table.lookup(0x1020), None);
    }

    /// The stubs objdump labels in `path` (`name@plt`), by address; the
    /// lazy header (`first@plt-0x10`, or `.plt` with IBT) left out.
    fn objdump_stubs(path: &std::path::Path) -> Vec<(u64, String)> {
        let output = std::process::Command::new("objdump")
            .args(["-d", "-j", ".plt", "-j", ".plt.sec", "-j", ".plt.got"])
            .arg(path)
            .output()
            .expect("objdump (binutils) runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let (address, label) = line.strip_suffix(">:")?.split_once(" <")?;
                let address = u64::from_str_radix(address, 16).ok()?;
                label.ends_with("@plt").then(|| (address, label.to_owned()))
            })
            .collect()
    }

    /// The IFUNCs `path` defines at `address`, as `nm -D` lists them.
    fn ifuncs_at(path: &std::path::Path, address: u64) -> Vec<String> {
        let output = std::process::Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(path)
            .output()
            .expect("nm (binutils) runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let at = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?.split('@').next()?;
                (at == address && kind == "i").then(|| name.to_owned())
            })
            .collect()
    }

    /// Checks every stub objdump labels in `path` against the table's name
    /// for it; returns how many were checked.
    fn stubs_named_as_objdump_names_them(path: &std::path::Path) -> usize {
        let bytes = std::fs::read(path).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let table = PltTable::new(&file);
        let stubs = objdump_stubs(path);
        for (address, _) in &stubs {
            assert!(PltTable::needed(&file, [0, *address].into_iter()));
        }
        assert!(!PltTable::needed(&file, [0, u64::MAX].into_iter()));
        for (address, label) in &stubs {
            let ours = table.lookup(*address);
            // objdump does not name an IFUNC's stub: it writes the
            // resolver's address, which nm lists as an IFUNC.
            if let Some(resolver) = label.strip_prefix("*ABS*+0x") {
                let resolver = u64::from_str_radix(resolver.trim_end_matches("@plt"), 16).unwrap();
                let ifuncs = ifuncs_at(path, resolver);
                assert!(
                    ifuncs
                        .iter()
                        .any(|ifunc| ours == Some(format!("{ifunc}@plt").as_str())),
                    "{}: {address:#x} {label}: ours {ours:?}, IFUNCs there {ifuncs:?}",
                    path.display()
                );
            } else {
                assert_eq!(
                    ours,
                    Some(label.as_str()),
                    "{}: {address:#x}",
                    path.display()
                );
            }
            // The stub is named past its first byte (`.plt.got` stubs are
            // 8 bytes, the others 16).
            assert_eq!(table.lookup(address + 7), ours);
        }
        stubs.len()
    }

    #[test]
    fn stubs_are_named_as_objdump_names_them_in_programs_gcc_links() {
        let dir = tempfile::TempDir::new().unwrap();
        let source = dir.path().join("calls.c");
        std::fs::write(
            &source,
            "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\
             static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }\n\
             int main(int argc, char **argv) { int v[3] = {3, 1, 2}; qsort(v, 3, sizeof v[0], cmp);\n\
             printf(\"%zu %d\\n\", strlen(argv[0]), v[0]); puts(\"x\"); return abs(argc - 1); }\n",
        )
        .unwrap();
        // Lazy `.plt`; IBT's `.plt.sec` with lazy stubs behind it; both
        // bound at load.
        let flavours: [&[&str]; 4] = [
            &[],
            &["-fcf-protection=full", "-Wl,-z,ibtplt"],
            &["-Wl,-z,now"],
            &["-fcf-protection=full", "-Wl,-z,ibtplt", "-Wl,-z,now"],
        ];
        for (i, flags) in flavours.iter().enumerate() {
            let program = dir.path().join(format!("calls-{i}"));
            let status = std::process::Command::new("gcc")
                .arg("-O1")
                .args(*flags)
                .arg(&source)
                .arg("-o")
                .arg(&program)
                .status()
                .expect("gcc runs");
            assert!(status.success(), "gcc {flags:?}");
            // puts, qsort, strlen, printf and __cxa_finalize.
            assert!(
                stubs_named_as_objdump_names_them(&program) >= 5,
                "{flags:?}"
            );
        }
    }

    #[test]
    fn glibc_stubs_of_ifuncs_are_named_after_the_ifunc() {
        // glibc's own `.plt` mostly calls its IFUNCs (strlen, memcpy, ...),
        // whose relocations the linker did not put in stub order.
        let libc = std::path::Path::new("/lib/x86_64-linux-gnu/libc.so.6");
        if !libc.exists() {
            eprintln!("skipped: no {}", libc.display());
            return;
        }
        assert!(stubs_named_as_objdump_names_them(libc) >= 10);
    }

    proptest::proptest! {
        #[test]
        fn any_section_bytes_address_and_stub_size_read_without_panic(
            code in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            base in proptest::prelude::any::<u64>(),
            size in proptest::prelude::any::<u64>(),
        ) {
            for jump in jumps_in(&code, base, size) {
                proptest::prop_assert!(jump.start < jump.end);
            }
        }
    }
}
