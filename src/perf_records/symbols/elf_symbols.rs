//! Symbols of an ELF module: the function at each address from the symbol
//! table (of the debug file if one is installed), and with inline frames,
//! the chain of inlined functions from DWARF — both as perf finds them; in
//! the procedure linkage table, the stub's `callee@plt`. Where DWARF was
//! loaded, a function is located at the line of its entry (its symbol's
//! start); a function inlined into it at the line DWARF declares it on.

use object::Object;
use rustc_hash::FxHashMap;

use super::super::elf_files::ElfImage;
use super::super::modules::Module;
use super::debug_file;
use super::dwarf::{self, DwarfSections, Function};
use super::plt::PltTable;
use super::symtab::SymbolTable;
use super::{Lookup, SymbolFrame};
use crate::demangle::{demangle, is_mangled};
use crate::profile::{Origin, SourceLocation, origin};

/// The frames at each lookup (module addresses) of `module`, whose file is
/// `image`: outermost first; empty where no symbol holds the address.
pub fn symbolize(image: &ElfImage, module: &Module, lookups: &[Lookup]) -> Vec<Vec<SymbolFrame>> {
    let debug = debug_file::find(image);
    let binary = image.parse();
    let debug = debug.as_deref().and_then(ElfImage::parse);
    // perf's order: the debug file's symbol table, else the binary's.
    let symtab = debug
        .as_ref()
        .map(SymbolTable::new)
        .filter(|table| !table.is_empty())
        .or_else(|| binary.as_ref().map(SymbolTable::new))
        .unwrap_or_default();
    // Stubs are in the binary only: debug files keep no code.
    let plt = binary
        .as_ref()
        .filter(|file| PltTable::needed(file, lookups.iter().map(|lookup| lookup.address)))
        .map(PltTable::new)
        .unwrap_or_default();
    let module_origin = origin::of_module(&module.path, binary.as_ref().is_some_and(is_executable));
    // DWARF for inline frames, and for the source files that tell whose
    // code a function is (only an executable's can be the author's).
    let wants_dwarf = lookups.iter().any(|lookup| lookup.inline) || module_origin != Origin::Other;
    let sections = if wants_dwarf {
        debug
            .as_ref()
            .and_then(DwarfSections::load)
            .or_else(|| binary.as_ref().and_then(DwarfSections::load))
    } else {
        None
    };
    let context = sections.as_ref().and_then(DwarfSections::context);
    let mut namer = Namer::new(module, module_origin);
    let mut entries = Entries::default();
    let mut units = dwarf::Units::default();
    lookups
        .iter()
        .map(|lookup| {
            if let Some(stub) = plt.lookup(lookup.address) {
                return vec![namer.frame(&Function::named(stub.to_owned()), None)];
            }
            let Some(symbol) = symtab.lookup(lookup.address) else {
                return Vec::new();
            };
            // Two files' `static` functions of one name: the symbol's start
            // tells them apart.
            let instance = symtab.shares_name(&symbol).then_some(symbol.start);
            let Some(context) = &context else {
                let function = Function::named(symbol.name().into_owned());
                return vec![namer.frame_of(&function, None, instance)];
            };
            let entry = entries.location(context, symbol.start);
            let inlined = match lookup.inline {
                true => dwarf::functions_at(context, &mut units, lookup.address),
                false => Vec::new(),
            };
            if inlined.is_empty() {
                let file = (module_origin != Origin::Other)
                    .then(|| dwarf::file_at(context, lookup.address))
                    .flatten();
                let function = Function {
                    file,
                    ..Function::named(symbol.name().into_owned())
                };
                vec![namer.frame_of(&function, entry, instance)]
            } else {
                inline_frames(&mut namer, &inlined, entry, instance)
            }
        })
        .collect()
}

/// The frames of an inline chain (`inlined`, innermost first), outermost
/// first: the outermost is the symbol's function, written where its entry
/// is (`entry`); an inlined function has no entry of its own, so it is
/// located by its file and the line DWARF declares it on (its file alone
/// where DWARF names no line). `instance` as for [`Namer::frame_of`], of
/// the outermost.
fn inline_frames(
    namer: &mut Namer<'_>,
    inlined: &[Function],
    entry: Option<SourceLocation>,
    instance: Option<u64>,
) -> Vec<SymbolFrame> {
    let (outermost, inner) = inlined.split_last().expect("an inline chain is not empty");
    let mut frames = vec![namer.frame_of(outermost, entry, instance)];
    frames.extend(inner.iter().rev().map(|function| {
        let file = function.file.as_deref();
        let source = file.and_then(|file| SourceLocation::new(file, function.declared_line));
        namer.frame(function, source)
    }));
    frames
}

/// The source location of each function's entry (by its symbol's start),
/// looked up in DWARF once.
#[derive(Default)]
struct Entries {
    known: FxHashMap<u64, Option<SourceLocation>>,
}

impl Entries {
    /// Where the function starting at `start` is written.
    fn location(&mut self, context: &dwarf::Context<'_>, start: u64) -> Option<SourceLocation> {
        self.known
            .entry(start)
            .or_insert_with(|| dwarf::entry_location(context, start))
            .clone()
    }
}

/// Whether `file` is a program (it names an ELF interpreter), not a shared
/// library.
fn is_executable(file: &object::File<'_>) -> bool {
    file.section_by_name(".interp").is_some()
}

/// Names and identities of one module's functions, demangled once each.
struct Namer<'m> {
    module: &'m Module,
    origin: Origin,
    cache: FxHashMap<String, SymbolFrame>,
    /// Frames of functions whose name is not theirs alone, by start.
    instances: FxHashMap<u64, SymbolFrame>,
}

impl<'m> Namer<'m> {
    fn new(module: &'m Module, origin: Origin) -> Self {
        Self {
            module,
            origin,
            cache: FxHashMap::default(),
            instances: FxHashMap::default(),
        }
    }

    /// The frame of `function` (its stored name and source file), written
    /// at `source`: a function's first source file found decides whose code
    /// it is, and its first location with a line is where it is written.
    fn frame(&mut self, function: &Function, source: Option<SourceLocation>) -> SymbolFrame {
        self.frame_of(function, source, None)
    }

    /// [`Self::frame`], for a function whose name another function of the
    /// module has too where `instance` is its start: the start is then part
    /// of its identity, so two files' `static` functions of one name stay
    /// two frames (printed alike).
    fn frame_of(
        &mut self,
        function: &Function,
        source: Option<SourceLocation>,
        instance: Option<u64>,
    ) -> SymbolFrame {
        let raw = function.name.as_str();
        let cached = match instance {
            Some(start) => self.instances.get(&start),
            None => self.cache.get(raw),
        };
        if let Some(frame) = cached
            && (frame.origin != Origin::Unknown || function.file.is_none())
            && !source
                .as_ref()
                .is_some_and(|new| new.says_more_than(frame.source.as_ref()))
        {
            return frame.clone();
        }
        let module = self.module.pseudo_frame();
        let identity = match instance {
            _ if is_mangled(raw) => raw.to_owned(),
            Some(start) => format!("{module}!{raw}@{start:#x}"),
            None => format!("{module}!{raw}"),
        };
        let frame = SymbolFrame {
            name: demangle(raw),
            identity: Some(identity),
            origin: origin::of_function(self.origin, function.file.as_deref()),
            source,
        };
        match instance {
            Some(start) => self.instances.insert(start, frame.clone()),
            None => self.cache.insert(raw.to_owned(), frame.clone()),
        };
        frame
    }
}
