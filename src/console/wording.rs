//! Words for figures in messages and reports: a plural's `s`, a duration
//! as people read it. One place, so a note and the text report say a
//! figure alike.

/// `s` for a count other than one.
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// `nanoseconds` as people read them: `850 µs`, `42.1 ms`, `1.02 s`.
pub fn duration(nanoseconds: u64) -> String {
    match nanoseconds {
        0..1_000_000 => format!("{:.0} µs", nanoseconds as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} ms", nanoseconds as f64 / 1e6),
        _ => format!("{:.2} s", nanoseconds as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_largest_unit() {
        assert_eq!(duration(850_000), "850 µs");
        assert_eq!(duration(42_100_000), "42.1 ms");
        assert_eq!(duration(1_020_000_000), "1.02 s");
        assert_eq!((plural(1), plural(0), plural(2)), ("", "s", "s"));
    }
}
