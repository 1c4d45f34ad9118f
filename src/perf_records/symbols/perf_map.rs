//! JIT code names from `/tmp/perf-PID.map`, which JIT runtimes (node
//! `--perf-basic-prof`, the JVM with perf-map-agent, …) write: one
//! `START SIZE NAME` line (hexadecimal) per generated function.

use std::io::Read;
use std::path::Path;

use super::address_table::Range;
use super::jit_file;

/// The functions listed in the perf map at `path`, in file order; `None`
/// if it cannot be read or is not to be trusted ([`jit_file::open`]; the
/// recorded process runs as `process_uid` where known).
pub fn entries(path: &Path, process_uid: Option<u32>) -> Option<Vec<Range>> {
    let mut text = Vec::new();
    jit_file::open(path, process_uid)?
        .read_to_end(&mut text)
        .ok()?;
    Some(parse(&String::from_utf8_lossy(&text)))
}

fn parse(text: &str) -> Vec<Range> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ' ');
            let start = parse_hex(fields.next()?)?;
            let size = parse_hex(fields.next()?)?;
            let name = fields.next()?.trim_end();
            Some((start, Some(start.saturating_add(size)), name.to_owned()))
        })
        .collect()
}

fn parse_hex(field: &str) -> Option<u64> {
    let digits = field.strip_prefix("0x").unwrap_or(field);
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::super::address_table::AddressTable;
    use super::*;

    #[test]
    fn names_keep_their_spaces() {
        let table = AddressTable::new(parse("7fa6aaf45b80 1a0 JS:^work /tmp/x.js:2:14\n"));
        assert_eq!(
            table.lookup(0x7fa6aaf45bec),
            Some("JS:^work /tmp/x.js:2:14")
        );
        assert_eq!(table.lookup(0x7fa6aaf45d20), None);
    }
}
