//! Kernel symbols from a kallsyms file: perf's copy of the recording
//! machine's `/proc/kallsyms` in its build-id cache, else this machine's.

use std::path::Path;

use super::address_table::AddressTable;

/// The kernel's function symbols (`t`, `T`, `w`, `W` lines), each ending
/// where the next begins; `None` if the file cannot be read.
pub fn load(path: &Path) -> Option<AddressTable> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(parse(&text))
}

/// Parses kallsyms text: `ADDRESS TYPE NAME [MODULE]` lines.
fn parse(text: &str) -> AddressTable {
    AddressTable::new(text.lines().filter_map(|line| {
        let mut fields = line.split_whitespace();
        let address = u64::from_str_radix(fields.next()?, 16).ok()?;
        let kind = fields.next()?;
        let name = fields.next()?;
        let is_text = matches!(kind, "t" | "T" | "w" | "W");
        (is_text && address != 0).then(|| (address, None, name.to_owned()))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_symbols_only() {
        let table = parse(
            "ffffffff81000000 T _stext\nffffffff81000100 D some_data\nffffffff81000200 t helper\t[ext4]\n",
        );
        assert_eq!(table.lookup(0xffffffff81000150), Some("_stext"));
        assert_eq!(table.lookup(0xffffffff81000250), Some("helper"));
    }
}
