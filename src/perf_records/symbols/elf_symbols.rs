//! Symbols of an ELF module: the function at each address from the symbol
//! table (of the debug file if one is installed), and with inline frames,
//! the chain of inlined functions from DWARF — both as perf finds them; in
//! the procedure linkage table, the stub's `callee@plt`.

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
use crate::profile::{Origin, origin};

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
    lookups
        .iter()
        .map(|lookup| {
            if let Some(stub) = plt.lookup(lookup.address) {
                let function = Function {
                    name: stub.to_owned(),
                    file: None,
                };
                return vec![namer.frame(&function)];
            }
            let Some(symbol) = symtab.lookup(lookup.address) else {
                return Vec::new();
            };
            let inlined = match &context {
                Some(context) if lookup.inline => dwarf::functions_at(context, lookup.address),
                _ => Vec::new(),
            };
            if inlined.is_empty() {
                let file = match &context {
                    Some(context) if module_origin != Origin::Other => {
                        dwarf::file_at(context, lookup.address)
                    }
                    _ => None,
                };
                let function = Function {
                    name: symbol.name().into_owned(),
                    file,
                };
                vec![namer.frame(&function)]
            } else {
                inlined.iter().rev().map(|f| namer.frame(f)).collect()
            }
        })
        .collect()
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
}

impl<'m> Namer<'m> {
    fn new(module: &'m Module, origin: Origin) -> Self {
        Self {
            module,
            origin,
            cache: FxHashMap::default(),
        }
    }

    /// The frame of `function` (its stored name and source file): a
    /// function's first source file found decides whose code it is.
    fn frame(&mut self, function: &Function) -> SymbolFrame {
        let raw = function.name.as_str();
        if let Some(frame) = self.cache.get(raw)
            && (frame.origin != Origin::Unknown || function.file.is_none())
        {
            return frame.clone();
        }
        let identity = if is_mangled(raw) {
            raw.to_owned()
        } else {
            format!("{}!{raw}", self.module.pseudo_frame())
        };
        let frame = SymbolFrame {
            name: demangle(raw),
            identity: Some(identity),
            origin: origin::of_function(self.origin, function.file.as_deref()),
        };
        self.cache.insert(raw.to_owned(), frame.clone());
        frame
    }
}
