//! Symbols of an ELF module: the function at each address from the symbol
//! table (of the debug file if one is installed), and with inline frames,
//! the chain of inlined functions from DWARF — both as perf finds them.

use rustc_hash::FxHashMap;

use super::super::elf::ElfImage;
use super::super::modules::Module;
use super::debug_file;
use super::demangle::{demangle, is_mangled};
use super::dwarf::{self, DwarfSections};
use super::symtab::SymbolTable;
use super::{Lookup, SymbolFrame};

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
    let sections = if lookups.iter().any(|lookup| lookup.inline) {
        debug
            .as_ref()
            .and_then(DwarfSections::load)
            .or_else(|| binary.as_ref().and_then(DwarfSections::load))
    } else {
        None
    };
    let context = sections.as_ref().and_then(DwarfSections::context);
    let mut namer = Namer::new(module);
    lookups
        .iter()
        .map(|lookup| {
            let Some(symbol) = symtab.lookup(lookup.address) else {
                return Vec::new();
            };
            let inlined = match &context {
                Some(context) if lookup.inline => dwarf::function_names(context, lookup.address),
                _ => Vec::new(),
            };
            if inlined.is_empty() {
                vec![namer.frame(&symbol.name())]
            } else {
                inlined.iter().rev().map(|raw| namer.frame(raw)).collect()
            }
        })
        .collect()
}

/// Names and identities of one module's functions, demangled once each.
struct Namer<'m> {
    module: &'m Module,
    cache: FxHashMap<String, SymbolFrame>,
}

impl<'m> Namer<'m> {
    fn new(module: &'m Module) -> Self {
        Self {
            module,
            cache: FxHashMap::default(),
        }
    }

    /// The frame of the function whose stored name is `raw`.
    fn frame(&mut self, raw: &str) -> SymbolFrame {
        if let Some(frame) = self.cache.get(raw) {
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
        };
        self.cache.insert(raw.to_owned(), frame.clone());
        frame
    }
}
