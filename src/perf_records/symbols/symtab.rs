//! An ELF symbol table as perf reads it: function symbols (and labels in
//! `.text`), one per address, each ending where its size says or, without
//! a size, where the next one starts.
//!
//! Large libraries hold hundreds of thousands of symbols and, after
//! identical code folding, many aliases (several names at one address).
//! Which alias perf shows is decided only for the addresses looked up, not
//! while the table is built.

use std::cmp::Ordering;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind, SymbolSection};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::demangle::{demangle, is_mangled};

/// A function symbol.
#[derive(Debug, Clone, Copy)]
pub struct Symbol<'a> {
    /// First address (SVMA).
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// The name as stored (mangled), not yet checked to be UTF-8.
    name: &'a [u8],
    binding: Binding,
}

impl<'a> Symbol<'a> {
    /// The name as stored (mangled).
    pub fn name(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.name)
    }

    fn has_size(&self) -> bool {
        self.end > self.start
    }
}

/// Symbol binding, in perf's order of preference (weak last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Global,
    Local,
    Weak,
}

/// Function symbols sorted by start address (aliases in table order).
#[derive(Debug, Default)]
pub struct SymbolTable<'a> {
    symbols: Vec<Symbol<'a>>,
    /// Names of local symbols (C's `static` functions) that two functions
    /// of the table have: two files' `static int step`.
    shared_local_names: FxHashSet<&'a [u8]>,
}

impl<'a> SymbolTable<'a> {
    /// The functions of `file`'s `.symtab`; of `.dynsym` if it has no
    /// `.symtab` (a stripped binary).
    pub fn new(file: &object::File<'a>) -> Self {
        let table = Self::from_symbols(file, file.symbols());
        if table.is_empty() {
            Self::from_symbols(file, file.dynamic_symbols())
        } else {
            table
        }
    }

    /// The functions of `file`'s `.dynsym` alone: the names other modules
    /// link against.
    pub fn dynamic(file: &object::File<'a>) -> Self {
        Self::from_symbols(file, file.dynamic_symbols())
    }

    /// Whether `symbol` is a local function whose name another function
    /// of the table has too (two files' `static` functions of one name):
    /// its name alone does not tell which function it is.
    pub fn shares_name(&self, symbol: &Symbol<'a>) -> bool {
        symbol.binding == Binding::Local && self.shared_local_names.contains(symbol.name)
    }

    /// Whether no function symbol was found.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The symbol perf names `address` with: of the aliases starting
    /// closest below it, the one perf keeps, if its range holds `address`.
    pub fn lookup(&self, address: u64) -> Option<Symbol<'a>> {
        let after = self.symbols.partition_point(|s| s.start <= address);
        let start = self.symbols.get(after.checked_sub(1)?)?.start;
        let first = self.symbols[..after].partition_point(|s| s.start < start);
        let best = self.symbols[first..after]
            .iter()
            .copied()
            .reduce(|kept, later| if prefer(&later, &kept) { later } else { kept })?;
        (address < best.end).then_some(best)
    }

    fn from_symbols<'f>(
        file: &'f object::File<'a>,
        symbols: impl Iterator<Item = object::Symbol<'a, 'f>>,
    ) -> Self {
        let mut found: Vec<Symbol<'a>> = symbols
            .filter(|symbol| is_function(file, symbol))
            .filter_map(|symbol| {
                let name = symbol.name_bytes().ok().filter(|name| !name.is_empty())?;
                let binding = if symbol.is_weak() {
                    Binding::Weak
                } else if symbol.is_global() {
                    Binding::Global
                } else {
                    Binding::Local
                };
                Some(Symbol {
                    start: symbol.address(),
                    end: symbol.address() + symbol.size(),
                    name,
                    binding,
                })
            })
            .collect();
        found.sort_by_key(|s| s.start);
        // A label inside a sized function (an entry point, a local jump
        // target) is not where perf names its addresses: the function is.
        let mut covered_to = 0;
        found.retain(|symbol| {
            let inside = !symbol.has_size() && symbol.start < covered_to;
            covered_to = covered_to.max(symbol.end);
            !inside
        });
        // Symbols without a size end where the next address's symbols begin.
        let mut next_start = u64::MAX;
        for symbol in found.iter_mut().rev() {
            if !symbol.has_size() && next_start != u64::MAX {
                symbol.end = next_start;
            }
            if symbol.start < next_start {
                next_start = symbol.start;
            }
        }
        let shared_local_names = shared_local_names(&found);
        Self {
            symbols: found,
            shared_local_names,
        }
    }
}

/// The names of local, unmangled symbols that start at two addresses or
/// more (mangled names already differ from one function to another).
fn shared_local_names<'a>(symbols: &[Symbol<'a>]) -> FxHashSet<&'a [u8]> {
    let mut first_start: FxHashMap<&'a [u8], u64> = FxHashMap::default();
    let mut shared = FxHashSet::default();
    let locals = symbols.iter().filter(|s| s.binding == Binding::Local);
    for symbol in locals.filter(|s| !std::str::from_utf8(s.name).is_ok_and(is_mangled)) {
        let start = *first_start.entry(symbol.name).or_insert(symbol.start);
        if start != symbol.start {
            shared.insert(symbol.name);
        }
    }
    shared
}

/// A defined function, or a label in `.text` (perf keeps both).
fn is_function(file: &object::File<'_>, symbol: &object::Symbol<'_, '_>) -> bool {
    let SymbolSection::Section(section) = symbol.section() else {
        return false;
    };
    match symbol.kind() {
        SymbolKind::Text => true,
        // STT_NOTYPE: perf keeps such labels when they are in `.text`.
        SymbolKind::Label | SymbolKind::Unknown => file
            .section_by_index(section)
            .is_ok_and(|section| section.name() == Ok(".text")),
        _ => false,
    }
}

/// Of two symbols at one address (aliases, identical code folded), whether
/// perf keeps the later one, `a`, rather than `b`: one with a size, then
/// global over local over weak, then fewer leading underscores, then the
/// longer demangled name; on a tie the one listed first.
fn prefer(a: &Symbol<'_>, b: &Symbol<'_>) -> bool {
    let underscores = |s: &Symbol<'_>| s.name.iter().take_while(|&&b| b == b'_').count();
    let key = |s: &Symbol<'_>| (!s.has_size(), s.binding, underscores(s));
    match key(a).cmp(&key(b)) {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => demangle(&a.name()).len() > demangle(&b.name()).len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(start: u64, size: u64, name: &'static str, binding: Binding) -> Symbol<'static> {
        Symbol {
            start,
            end: start + size,
            name: name.as_bytes(),
            binding,
        }
    }

    #[test]
    fn aliases_resolve_as_perf_resolves_them() {
        let table = SymbolTable {
            symbols: vec![
                symbol(0x10, 8, "__GI___write", Binding::Global),
                symbol(0x10, 8, "__GI___libc_write", Binding::Global),
                symbol(0x10, 8, "write", Binding::Weak),
            ],
            ..SymbolTable::default()
        };
        assert_eq!(table.lookup(0x12).unwrap().name(), "__GI___libc_write");
        assert!(table.lookup(0x18).is_none());
    }

    #[test]
    fn two_static_functions_of_one_name_share_it_and_aliases_do_not() {
        let symbols = vec![
            symbol(0x10, 8, "step", Binding::Local),
            symbol(0x20, 8, "step", Binding::Local),
            symbol(0x30, 8, "walk", Binding::Local),
            symbol(0x30, 8, "walk", Binding::Local),
            symbol(0x40, 8, "main", Binding::Global),
            symbol(0x50, 8, "main", Binding::Local),
        ];
        let shared = shared_local_names(&symbols);
        let table = SymbolTable {
            symbols,
            shared_local_names: shared,
        };
        let named = |start| table.lookup(start).unwrap();
        assert!(table.shares_name(&named(0x10)));
        assert!(table.shares_name(&named(0x20)));
        // One function listed twice (an alias at one address).
        assert!(!table.shares_name(&named(0x30)));
        // A global's name is its own: only the local is counted.
        assert!(!table.shares_name(&named(0x40)));
        assert!(!table.shares_name(&named(0x50)));
    }
}
