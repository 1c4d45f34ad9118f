//! JIT code names from `/tmp/perf-PID.map`, which JIT runtimes (node
//! `--perf-basic-prof`, the JVM with perf-map-agent, …) write: one
//! `START SIZE NAME` line (hexadecimal) per generated function, appended
//! as code is generated, so the map is read as it grows: whole lines only.

/// A function a perf map lists: start, end (exclusive), name.
pub type MapEntry = (u64, u64, String);

/// The functions of the complete lines of `bytes`, in file order, and how
/// many bytes those lines took (a last line without its newline may still
/// be being written).
pub fn complete_lines(bytes: &[u8]) -> (Vec<MapEntry>, usize) {
    let used = memchr::memrchr(b'\n', bytes).map_or(0, |end| end + 1);
    (parse(&String::from_utf8_lossy(&bytes[..used])), used)
}

fn parse(text: &str) -> Vec<MapEntry> {
    text.lines().filter_map(entry).collect()
}

/// The function of one line; `None` for a malformed one.
fn entry(line: &str) -> Option<MapEntry> {
    let mut fields = line.splitn(3, ' ');
    let start = parse_hex(fields.next()?)?;
    let size = parse_hex(fields.next()?)?;
    let name = fields.next()?.trim_end();
    Some((start, start.saturating_add(size), name.to_owned()))
}

fn parse_hex(field: &str) -> Option<u64> {
    let digits = field.strip_prefix("0x").unwrap_or(field);
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_spaces() {
        let (entries, used) = complete_lines(b"7fa6aaf45b80 1a0 JS:^work /tmp/x.js:2:14\n");
        assert_eq!(used, 41);
        assert_eq!(
            entries,
            [(
                0x7fa6aaf45b80,
                0x7fa6aaf45d20,
                "JS:^work /tmp/x.js:2:14".to_owned()
            )]
        );
    }

    #[test]
    fn a_line_being_written_waits_for_its_newline() {
        let (entries, used) = complete_lines(b"10 4 f\n20 4 g");
        assert_eq!(entries, [(0x10, 0x14, "f".to_owned())]);
        assert_eq!(used, 7);
        assert_eq!(complete_lines(b"20 4 g"), (vec![], 0));
    }

    proptest::proptest! {
        /// A map's bytes are the runtime's (untrusted): any bytes give
        /// entries or none, never a panic, and whole lines only.
        #[test]
        fn any_bytes_are_read_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let (_, used) = complete_lines(&bytes);
            proptest::prop_assert!(used <= bytes.len());
            proptest::prop_assert!(used == 0 || bytes[used - 1] == b'\n');
        }
    }
}
