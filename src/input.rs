//! Reading profiles: folded stacks or raw `perf script` output, from files or
//! standard input, into one interned [`Profile`].
//!
//! The format is detected from the first non-blank line. `perf script` output
//! is collapsed in-process by inferno's perf collapser, then read like any
//! folded file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use inferno::collapse::Collapse;
use inferno::collapse::perf::{Folder as PerfFolder, Options as PerfOptions};

use crate::profile::{FrameId, Profile};

/// Where a profile comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-`, or no file given).
    Stdin,
    /// A file on disk.
    File(PathBuf),
}

impl Source {
    /// `-` means standard input; anything else is a path.
    pub fn from_arg(arg: &Path) -> Self {
        if arg == Path::new("-") {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }

    /// The sources named by command-line arguments: standard input when none.
    pub fn from_args(args: &[PathBuf]) -> Vec<Self> {
        if args.is_empty() {
            vec![Source::Stdin]
        } else {
            args.iter().map(|a| Source::from_arg(a)).collect()
        }
    }

    fn open(&self) -> Result<Box<dyn BufRead>> {
        const CAPACITY: usize = 1 << 20;
        Ok(match self {
            Source::Stdin => Box::new(BufReader::with_capacity(CAPACITY, io::stdin())),
            Source::File(path) => {
                let file =
                    File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
                Box::new(BufReader::with_capacity(CAPACITY, file))
            }
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("<stdin>"),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Reads every source into one profile; counts of identical stacks are
/// summed later, when the profile is folded.
pub fn read_profile(sources: &[Source]) -> Result<Profile> {
    let mut profile = Profile::new();
    for source in sources {
        read_source(source, &mut profile)?;
    }
    Ok(profile)
}

/// Reads one source, detecting its format from its first non-blank line.
pub fn read_source(source: &Source, profile: &mut Profile) -> Result<()> {
    read_from(source.open()?, source, profile)
}

/// Reads an already open source (named `source` in errors) into `profile`.
pub fn read_from(mut reader: impl BufRead, source: &Source, profile: &mut Profile) -> Result<()> {
    let mut first = Vec::new();
    let mut skipped = 0;
    loop {
        first.clear();
        if read_line(&mut reader, &mut first).with_context(|| format!("{source}: cannot read"))?
            == 0
        {
            return Ok(());
        }
        skipped += 1;
        if !trim_line(&first).is_empty() {
            break;
        }
    }
    let whole = Cursor::new(first.clone()).chain(reader);
    if looks_folded(trim_line(&first)) {
        FoldedReader::new(profile, source).read_all(whole, skipped - 1)
    } else if looks_like_perf_script(&first) {
        read_perf_script(whole, source, profile)
    } else {
        bail!(
            "{source}:{skipped}: neither folded stacks (`frame;frame;... COUNT`) nor `perf script` output: {:?}",
            snippet(&first)
        )
    }
}

/// Reads `perf script` text: collapses it with inferno, then reads the
/// folded lines it wrote.
pub fn read_perf_script(
    reader: impl BufRead,
    source: &Source,
    profile: &mut Profile,
) -> Result<()> {
    let mut folded = Vec::new();
    let mut options = PerfOptions::default();
    options.nthreads = 1;
    PerfFolder::from(options)
        .collapse(reader, &mut folded)
        .with_context(|| format!("{source}: cannot collapse perf script output"))?;
    FoldedReader::new(profile, source).read_all(Cursor::new(folded), 0)
}

fn looks_like_perf_script(first_line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(first_line);
    text.starts_with('#') || PerfFolder::default().is_applicable(&text) != Some(false)
}

/// Whether a line has the shape `stack COUNT`.
fn looks_folded(line: &[u8]) -> bool {
    !line.starts_with(b" ")
        && !line.starts_with(b"\t")
        && split_count(line)
            .is_some_and(|(stack, count)| !stack.is_empty() && parse_count(count).is_some())
}

/// How many frames back a repeated frame is looked for.
const RECENT: usize = 4;

/// Reads folded lines, reusing the frame ids of the prefix a line shares with
/// the line before (sorted folded files share long prefixes), so most frames
/// are never hashed.
struct FoldedReader<'a> {
    profile: &'a mut Profile,
    source: &'a Source,
    previous: Vec<u8>,
    ids: Vec<FrameId>,
    ends: Vec<usize>,
    last_lag: usize,
}

impl<'a> FoldedReader<'a> {
    fn new(profile: &'a mut Profile, source: &'a Source) -> Self {
        Self {
            profile,
            source,
            previous: Vec::new(),
            ids: Vec::new(),
            ends: Vec::new(),
            last_lag: 1,
        }
    }

    /// Reads every line; `line_offset` lines were consumed before `reader`.
    fn read_all(mut self, mut reader: impl BufRead, line_offset: usize) -> Result<()> {
        let mut line = Vec::with_capacity(4096);
        let mut number = line_offset;
        loop {
            line.clear();
            if read_line(&mut reader, &mut line)
                .with_context(|| format!("{}: cannot read", self.source))?
                == 0
            {
                return Ok(());
            }
            number += 1;
            self.add_line(trim_line(&line))
                .with_context(|| format!("{}:{number}", self.source))?;
        }
    }

    fn add_line(&mut self, line: &[u8]) -> Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        let Some((stack, count)) = split_count(line) else {
            bail!(
                "expected `frame;frame;... COUNT`, found no sample count: {:?}",
                snippet(line)
            );
        };
        let Some(count) = parse_count(count) else {
            bail!("sample count {:?} is not a whole number", snippet(count));
        };
        if stack.is_empty() {
            bail!("the stack before the sample count {count} is empty");
        }
        let reused = self.reusable_frames(stack);
        self.ids.truncate(reused);
        self.ends.truncate(reused);
        let from = self.ends.last().map_or(0, |&e| e + 1);
        self.intern_frames(stack, from);
        self.profile.push_ids(&self.ids, count, reused);
        Ok(())
    }

    /// How many leading frames `stack` shares, byte for byte, with the
    /// previous line.
    fn reusable_frames(&self, stack: &[u8]) -> usize {
        let common = common_prefix_len(stack, &self.previous);
        // A frame is shared when the `;` after it is inside the common prefix.
        self.ends.partition_point(|&end| end < common)
    }

    /// The id of `name` if it is one of the last few frames of this line:
    /// recursion repeats a frame every one to four frames, and comparing a
    /// few bytes is cheaper than hashing them. The lag that matched last is
    /// tried first, since a recursion keeps its period.
    #[inline]
    fn recent_frame(&mut self, stack: &[u8], name: &[u8]) -> Option<FrameId> {
        let n = self.ids.len();
        let last = self.last_lag;
        let lags = std::iter::once(last).chain((1..=RECENT).filter(move |&l| l != last));
        for lag in lags.take_while(|&lag| lag <= n) {
            let k = n - lag;
            let start = if k == 0 { 0 } else { self.ends[k - 1] + 1 };
            if same_bytes(&stack[start..self.ends[k]], name) {
                self.last_lag = lag;
                return Some(self.ids[k]);
            }
        }
        None
    }

    fn intern_frames(&mut self, stack: &[u8], from: usize) {
        let rest = &stack[from..];
        match std::str::from_utf8(rest) {
            Ok(text) => {
                let mut start = from;
                // Frames are short: a plain scan beats a SIMD search per frame.
                let ends = rest
                    .iter()
                    .enumerate()
                    .filter(|&(_, &b)| b == b';')
                    .map(|(i, _)| from + i);
                for end in ends.chain(std::iter::once(stack.len())) {
                    let name = &text[start - from..end - from];
                    let id = match self.recent_frame(stack, name.as_bytes()) {
                        Some(id) => id,
                        None => self.profile.frames.intern(name),
                    };
                    self.ids.push(id);
                    self.ends.push(end);
                    start = end + 1;
                }
                self.previous.clear();
                self.previous.extend_from_slice(stack);
            }
            Err(_) => {
                // Lossy text has other byte offsets: intern it, and share
                // nothing with the next line.
                let text = String::from_utf8_lossy(rest);
                for name in text.split(';') {
                    self.ids.push(self.profile.frames.intern(name));
                    self.ends.push(usize::MAX);
                }
                self.previous.clear();
            }
        }
    }
}

/// Reads one line (with its `\n`) into `buf`; returns the bytes read.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<usize> {
    reader.read_until(b'\n', buf)
}

/// A line without its line ending and trailing blanks.
fn trim_line(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &line[..end]
}

/// Splits `stack COUNT` at its last space.
fn split_count(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = memchr::memrchr(b' ', line)?;
    Some((&line[..space], &line[space + 1..]))
}

fn parse_count(count: &[u8]) -> Option<u64> {
    std::str::from_utf8(count).ok()?.parse().ok()
}

/// The start of a line, for error messages.
fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Whether two short byte strings are equal, compared eight bytes at a time
/// (cheaper than a call to `memcmp` for frame-sized strings).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && common_prefix_len(a, b) == a.len()
}

/// How many leading bytes two slices share.
#[inline]
fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    let limit = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= limit {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < limit && a[i] == b[i] {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Profile> {
        let mut profile = Profile::new();
        let source = Source::File("stacks.folded".into());
        FoldedReader::new(&mut profile, &source)
            .read_all(Cursor::new(text.as_bytes().to_vec()), 0)?;
        Ok(profile)
    }

    fn lines(profile: &Profile) -> Vec<String> {
        profile
            .stacks()
            .map(|(ids, count)| {
                let names: Vec<&str> = ids.iter().map(|&i| profile.frames.name(i)).collect();
                format!("{} {count}", names.join(";"))
            })
            .collect()
    }

    #[test]
    fn shared_prefixes_are_read_the_same_as_fresh_lines() {
        let text = "p;main;a;b 1\np;main;a;bc 2\np;main;a 3\np;main;ab;b 4\np;main;a;b;c 5\n";
        assert_eq!(
            lines(&read(text).unwrap()),
            [
                "p;main;a;b 1",
                "p;main;a;bc 2",
                "p;main;a 3",
                "p;main;ab;b 4",
                "p;main;a;b;c 5"
            ]
        );
    }

    #[test]
    fn bad_count_names_file_line_and_value() {
        let err = read("p;a 1\n\np;b abc\n").unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "stacks.folded:3: sample count \"abc\" is not a whole number"
        );
    }

    #[test]
    fn missing_count_is_an_error() {
        let err = read("p;a\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("stacks.folded:1: expected `frame;frame;... COUNT`")
        );
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let mut profile = Profile::new();
        let source = Source::Stdin;
        let bytes = b"p;caf\xff;x 2\np;caf\xff;y 1\n".to_vec();
        FoldedReader::new(&mut profile, &source)
            .read_all(Cursor::new(bytes), 0)
            .unwrap();
        assert_eq!(lines(&profile), ["p;caf\u{fffd};x 2", "p;caf\u{fffd};y 1"]);
    }

    #[test]
    fn common_prefix_len_crosses_chunk_boundaries() {
        let a = vec![b'x'; 100];
        let mut b = a.clone();
        b[70] = b'y';
        assert_eq!(common_prefix_len(&a, &b), 70);
        assert_eq!(common_prefix_len(&a, &a[..40]), 40);
    }
}
