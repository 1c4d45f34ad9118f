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

use crate::demangle::demangle;

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
        Self { symbols: found }
    }
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
        };
        assert_eq!(table.lookup(0x12).unwrap().name(), "__GI___libc_write");
        assert!(table.lookup(0x18).is_none());
    }
}
