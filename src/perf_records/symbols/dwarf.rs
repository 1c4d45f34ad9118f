//! DWARF debug information of one file, through addr2line: the chain of
//! inlined functions at an address.

use std::borrow::Cow;
use std::sync::Arc;

use addr2line::gimli::{self, EndianSlice, RunTimeEndian};
use object::{Object, ObjectSection};
use rustc_hash::FxHashMap;

use crate::profile::SourceLocation;

/// The DWARF sections of one file (decompressed where they were
/// compressed; the others borrowed from the file's mapping).
pub struct DwarfSections<'a> {
    sections: gimli::DwarfSections<Cow<'a, [u8]>>,
    endian: RunTimeEndian,
}

/// The sections addr2line reads for functions, inlining and lines; the
/// others (location lists, macros, …) are large in optimized code and,
/// compressed in distribution debug files, costly to inflate.
const NEEDED: [gimli::SectionId; 10] = [
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugAranges,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugRanges,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
];

/// Line and inline information of one file.
pub type Context<'s> = addr2line::Context<EndianSlice<'s, RunTimeEndian>>;

/// The sections' bytes as gimli reads them.
type Slice<'s> = EndianSlice<'s, RunTimeEndian>;

/// One compilation unit of a [`Context`] (borrowed for `'c`) over
/// sections borrowed for `'s`.
type UnitRef<'c, 's> = gimli::UnitRef<'c, Slice<'s>>;

/// A compilation unit's header.
type UnitHeader<'s> = gimli::UnitHeader<Slice<'s>>;

/// A DIE's offset in its unit.
type UnitOffset = gimli::UnitOffset<usize>;

impl<'a> DwarfSections<'a> {
    /// The sections of `file`; `None` if it has no `.debug_info`.
    pub fn load(file: &object::File<'a>) -> Option<Self> {
        let info = file.section_by_name(".debug_info")?;
        if info.size() == 0 {
            return None;
        }
        let endian = if file.is_little_endian() {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        };
        let sections = gimli::DwarfSections::load(|id| -> Result<_, ()> {
            let data = NEEDED
                .contains(&id)
                .then(|| file.section_by_name(id.name()))
                .flatten()
                .and_then(|section| section.uncompressed_data().ok());
            Ok(data.unwrap_or(Cow::Borrowed(&[])))
        })
        .ok()?;
        Some(Self { sections, endian })
    }

    /// An addr2line context over these sections.
    pub fn context(&self) -> Option<Context<'_>> {
        let dwarf = self
            .sections
            .borrow(|section| EndianSlice::new(section, self.endian));
        addr2line::Context::from_dwarf(dwarf).ok()
    }
}

/// A function at an address, as DWARF names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The linkage (mangled) name, the plain name where there is none.
    pub name: String,
    /// The source file of the function's code at that address (for an
    /// outer function of an inline chain: where it calls the inner one).
    pub file: Option<String>,
    /// The line the function is declared on (`DW_AT_decl_line` of the
    /// function an inline instance is of), where DWARF says.
    pub declared_line: Option<u64>,
}

impl Function {
    /// A function known by its name alone (a PLT stub, a symbol where no
    /// DWARF was read).
    pub fn named(name: String) -> Self {
        Self {
            name,
            file: None,
            declared_line: None,
        }
    }
}

/// The functions at `address`, innermost (most deeply inlined) first.
/// Empty when DWARF knows no function there, or one of them has no name.
/// The inlined ones (all but the last) have the line they are declared on,
/// looked up in `units` where the declaration is in another unit.
pub fn functions_at<'s>(
    context: &Context<'s>,
    units: &mut Units<'s>,
    address: u64,
) -> Vec<Function> {
    let mut functions = Vec::new();
    let mut offsets = Vec::new();
    let Ok(mut frames) = context.find_frames(address).skip_all_loads() else {
        return functions;
    };
    while let Ok(Some(frame)) = frames.next() {
        let Some(name) = frame.function.as_ref().and_then(|f| f.raw_name().ok()) else {
            functions.clear();
            return functions;
        };
        functions.push(Function {
            file: frame.location.and_then(|l| l.file).map(str::to_owned),
            ..Function::named(name.into_owned())
        });
        offsets.push(frame.dw_die_offset);
    }
    if functions.len() > 1
        && let Some(unit) = context.find_dwarf_and_unit(address).skip_all_loads()
    {
        let inlined = functions.len() - 1;
        for (function, offset) in functions[..inlined].iter_mut().zip(offsets) {
            function.declared_line = offset.and_then(|offset| declared_line(unit, units, offset));
        }
    }
    functions
}

/// How many `DW_AT_abstract_origin` or `DW_AT_specification` links are
/// followed to a function's declaration (an inline instance points at its
/// abstract function, which may point at a declaration in a type).
const DECLARATION_LINKS: usize = 4;

/// The line the function of the DIE at `offset` in `unit` is declared on:
/// its own `DW_AT_decl_line`, or that of the DIE it is an instance of, in
/// this unit or another (`units`: a generic inlined in one Rust codegen
/// unit is declared in another, a function inlined across files by LTO in
/// its own file's unit).
fn declared_line<'s>(
    unit: UnitRef<'_, 's>,
    units: &mut Units<'s>,
    offset: UnitOffset,
) -> Option<u64> {
    let dwarf = unit.dwarf;
    let (mut header, mut abbreviations, mut offset) =
        (unit.header, unit.abbreviations.clone(), offset);
    for _ in 0..=DECLARATION_LINKS {
        let entry = header.entry(&abbreviations, offset).ok()?;
        if let Some(line) = entry
            .attr_value(gimli::DW_AT_decl_line)
            .and_then(|value| value.udata_value())
        {
            return Some(line);
        }
        let link = entry
            .attr_value(gimli::DW_AT_abstract_origin)
            .or_else(|| entry.attr_value(gimli::DW_AT_specification));
        match link {
            Some(gimli::AttributeValue::UnitRef(next)) => offset = next,
            Some(gimli::AttributeValue::DebugInfoRef(next)) => {
                (header, abbreviations, offset) = units.holding(dwarf, next)?;
            }
            _ => return None,
        }
    }
    None
}

/// The compilation units of one file's `.debug_info`, for declarations in
/// another unit than the code: their headers read once, when a link first
/// points out of a unit, and each unit's abbreviations once.
#[derive(Default)]
pub struct Units<'s> {
    headers: Option<Vec<UnitHeader<'s>>>,
    abbreviations: FxHashMap<usize, Arc<gimli::Abbreviations>>,
}

impl<'s> Units<'s> {
    /// The unit holding the DIE at `offset` (in the section): its header,
    /// abbreviations and the DIE's offset in it.
    fn holding(
        &mut self,
        dwarf: &gimli::Dwarf<Slice<'s>>,
        offset: gimli::DebugInfoOffset,
    ) -> Option<(UnitHeader<'s>, Arc<gimli::Abbreviations>, UnitOffset)> {
        let headers = self.headers.get_or_insert_with(|| {
            let mut headers = Vec::new();
            let mut iter = dwarf.debug_info.units();
            while let Ok(Some(header)) = iter.next() {
                headers.push(header);
            }
            headers
        });
        let starts_before =
            |h: &UnitHeader<'s>| h.debug_info_offset().is_some_and(|start| start <= offset);
        let index = headers.partition_point(starts_before).checked_sub(1)?;
        let header = headers[index];
        let in_unit = offset.to_unit_offset(&header)?;
        let abbreviations = match self.abbreviations.get(&index) {
            Some(known) => known.clone(),
            None => {
                let parsed = dwarf.abbreviations(&header).ok()?;
                self.abbreviations.insert(index, parsed.clone());
                parsed
            }
        };
        Some((header, abbreviations, in_unit))
    }
}

/// The source file of the code at `address`, if DWARF has a line for it.
pub fn file_at(context: &Context<'_>, address: u64) -> Option<String> {
    let location = context.find_location(address).ok()??;
    location.file.map(str::to_owned)
}

/// The file and line of the code at a function's first address (`entry`,
/// its symbol's start): the line its definition begins on, where the
/// compiler put the function's prologue (`fn even(…)` in Rust, the line of
/// the name in C).
pub fn entry_location(context: &Context<'_>, entry: u64) -> Option<SourceLocation> {
    let location = context.find_location(entry).ok()??;
    SourceLocation::new(location.file?, location.line.map(u64::from))
}
