//! Where a function is written: its source file and, where the input says,
//! the line it starts on. Readers that know it (DWARF in a perf.data or the
//! sampler's recording, a JIT runtime's names, py-spy, `.cpuprofile`,
//! pprof) give it to their frames; the report lists it for each member of a
//! cycle (`member_sources`, docs/REPORT.md).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

/// A function's source location: `file:line`, or `file` alone where the
/// input gives no line (CPython's perf trampolines name only the file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    /// The source file as the input names it: a path, or a script's URL
    /// without `file://`. Shared, since many functions share a file.
    pub file: Arc<str>,
    /// The function's first line (1-based), where known.
    pub line: Option<NonZeroU32>,
}

impl SourceLocation {
    /// `file` at `line` (1-based; 0 or none is "no line"); `None` for an
    /// empty file name, which locates nothing.
    pub fn new(file: &str, line: Option<u64>) -> Option<Self> {
        if file.is_empty() {
            return None;
        }
        let file = file.strip_prefix("file://").unwrap_or(file);
        Some(Self {
            file: file.into(),
            line: line
                .and_then(|line| u32::try_from(line).ok())
                .and_then(NonZeroU32::new),
        })
    }

    /// `file` at the 1-based line written as `line` (digits); a line that
    /// is not a number is no line.
    pub fn parse_line(file: &str, line: &str) -> Option<Self> {
        Self::new(file, line.parse().ok())
    }

    /// Whether this says more of where a function is written than `other`:
    /// anything beats nothing, and a line beats a file alone (an inlined
    /// copy of a function is located by its file, its own code by its line).
    pub fn says_more_than(&self, other: Option<&SourceLocation>) -> bool {
        other.is_none_or(|other| self.line.is_some() && other.line.is_none())
    }
}

impl fmt::Display for SourceLocation {
    /// `file:line`, or `file` where there is no line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_file_and_line() {
        let at = |file, line| SourceLocation::new(file, line).map(|l| l.to_string());
        assert_eq!(at("/a/b.rs", Some(12)).as_deref(), Some("/a/b.rs:12"));
        assert_eq!(at("/a/b.py", None).as_deref(), Some("/a/b.py"));
        assert_eq!(at("/a/b.py", Some(0)).as_deref(), Some("/a/b.py"));
        assert_eq!(at("file:///a/b.js", Some(3)).as_deref(), Some("/a/b.js:3"));
        assert_eq!(at("", Some(3)), None);
        assert_eq!(
            SourceLocation::parse_line("x.js", "7x").map(|l| l.to_string()),
            Some("x.js".to_string())
        );
    }
}
