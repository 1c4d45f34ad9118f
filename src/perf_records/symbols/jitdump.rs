//! JIT code names from jitdump files (`jit-PID.dump`, written by JIT
//! runtimes for `perf inject --jit`; node `--perf-prof`, the JVM agent):
//! the address, size and name of every code load. Code moves and debug
//! information are not read.

use std::io::BufReader;
use std::path::Path;

use linux_perf_data::jitdump::{JitDumpReader, JitDumpRecord};

use super::address_table::Range;
use super::jit_file;

/// The code loads listed in the jitdump at `path`, in file order (empty if
/// it cannot be read or is not to be trusted, [`jit_file::open`]; as far as
/// it goes if it is cut short). The recorded process runs as `process_uid`
/// where known.
pub fn entries(path: &Path, process_uid: Option<u32>) -> Vec<Range> {
    let mut ranges = Vec::new();
    let Some(file) = jit_file::open(path, process_uid) else {
        return ranges;
    };
    let Ok(mut reader) = JitDumpReader::new(BufReader::new(file)) else {
        return ranges;
    };
    while let Ok(Some(raw)) = reader.next_record() {
        if let Ok(JitDumpRecord::CodeLoad(load)) = raw.parse() {
            let end = load.code_addr.saturating_add(load.code_bytes.len() as u64);
            let name = String::from_utf8_lossy(&load.function_name.as_slice()).into_owned();
            ranges.push((load.code_addr, Some(end), name));
        }
    }
    ranges
}
