//! Parsing folded stacks (`frame;frame;... COUNT`, one a line) into a
//! [`Profile`]: the hot loop of every command.
//!
//! The text is cut into blocks of whole lines, parsed by two threads into
//! profiles of their own, then merged: reading a 200 MB file is mostly
//! parsing, and parsing splits cleanly.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use anyhow::{Context, Result, bail};

use crate::input::Source;
use crate::profile::{FrameId, Profile};

/// Bytes of text per block handed to a parser.
const BLOCK: usize = 1 << 20;

/// Parser threads.
const PARSERS: usize = 2;

/// Blocks waiting per parser: bounds memory while the reader runs ahead.
const QUEUE: usize = 1;

/// Reads folded text from `reader` into `profile`. `line_offset` lines of
/// `source` were consumed before `reader`, for line numbers in errors.
pub fn read_folded(
    reader: impl Read,
    source: &Source,
    line_offset: usize,
    profile: &mut Profile,
) -> Result<()> {
    let (read, parsed) = thread::scope(|scope| {
        // Parsed blocks come back for reuse: fresh buffers would cost a page
        // fault every 4 KiB of input.
        let (spare_sender, spares) = sync_channel::<Vec<u8>>(PARSERS * (QUEUE + 1));
        let (senders, parsers): (Vec<SyncSender<Block>>, Vec<_>) = (0..PARSERS)
            .map(|_| {
                let (sender, receiver) = sync_channel(QUEUE);
                let spare_sender = spare_sender.clone();
                (
                    sender,
                    scope.spawn(move || parse_blocks(receiver, spare_sender)),
                )
            })
            .unzip();
        let new_buffer = || {
            spares
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(2 * BLOCK))
        };
        let read = split_blocks(reader, new_buffer, |block| {
            senders[block.index % PARSERS].send(block).is_ok()
        });
        drop(senders);
        let parsed: Vec<Parsed> = parsers
            .into_iter()
            .map(|p| p.join().expect("a parser thread panicked"))
            .collect();
        (read, parsed)
    });
    read.with_context(|| format!("{source}: cannot read"))?;
    if let Some(error) = first_error(&parsed, source, line_offset) {
        return Err(error);
    }
    for part in parsed {
        profile.absorb(part.parser.profile);
    }
    Ok(())
}

/// A run of whole lines, numbered in reading order.
struct Block {
    index: usize,
    bytes: Vec<u8>,
}

/// What one parser thread made of its blocks.
struct Parsed {
    parser: LineParser,
    /// Lines in each block parsed, by block index.
    lines: Vec<(usize, usize)>,
    /// The first bad line: block index, line in block, what is wrong.
    error: Option<(usize, usize, anyhow::Error)>,
}

/// Parses blocks until the channel closes; after a bad line, only drains.
fn parse_blocks(blocks: Receiver<Block>, spares: SyncSender<Vec<u8>>) -> Parsed {
    let mut parsed = Parsed {
        parser: LineParser {
            last_lag: 1,
            ..LineParser::default()
        },
        lines: Vec::new(),
        error: None,
    };
    for block in blocks {
        if parsed.error.is_some() {
            continue;
        }
        match parsed.parser.parse_block(&block.bytes) {
            Ok(lines) => parsed.lines.push((block.index, lines)),
            Err((line, error)) => parsed.error = Some((block.index, line, error)),
        }
        let mut buffer = block.bytes;
        buffer.clear();
        let _ = spares.try_send(buffer);
    }
    parsed
}

/// The bad line that comes first in the file, with its file and line number.
fn first_error(parsed: &[Parsed], source: &Source, line_offset: usize) -> Option<anyhow::Error> {
    let (block, line, error) = parsed
        .iter()
        .filter_map(|p| p.error.as_ref())
        .min_by_key(|(block, _, _)| *block)?;
    let before: usize = parsed
        .iter()
        .flat_map(|p| &p.lines)
        .filter(|(index, _)| index < block)
        .map(|(_, lines)| lines)
        .sum();
    let number = line_offset + before + line;
    Some(anyhow::anyhow!("{source}:{number}: {error:#}"))
}

/// Cuts the text into blocks of about [`BLOCK`] bytes that end at a line
/// ending (a longer line makes a longer block); stops early when `send`
/// returns false.
fn split_blocks(
    mut reader: impl Read,
    mut new_buffer: impl FnMut() -> Vec<u8>,
    mut send: impl FnMut(Block) -> bool,
) -> io::Result<()> {
    let mut bytes = new_buffer();
    for index in 0.. {
        let at_end = fill_block(&mut reader, &mut bytes)?;
        let mut next = new_buffer();
        if !at_end && let Some(last_newline) = memchr::memrchr(b'\n', &bytes) {
            next.extend_from_slice(&bytes[last_newline + 1..]);
            bytes.truncate(last_newline + 1);
        }
        if bytes.is_empty() || !send(Block { index, bytes }) || at_end {
            return Ok(());
        }
        bytes = next;
    }
    Ok(())
}

/// Reads until `bytes` holds at least a block and a line ending, or the text
/// ends; returns whether it ended.
fn fill_block(reader: &mut impl Read, bytes: &mut Vec<u8>) -> io::Result<bool> {
    loop {
        let wanted = BLOCK.saturating_sub(bytes.len()).max(BLOCK / 4) as u64;
        if reader.by_ref().take(wanted).read_to_end(bytes)? == 0 {
            return Ok(true);
        }
        if bytes.len() >= BLOCK && memchr::memrchr(b'\n', bytes).is_some() {
            return Ok(false);
        }
    }
}

/// How many frames back a repeated frame is looked for.
const RECENT: usize = 4;

/// Parses folded lines into its own profile, reusing the frame ids of the
/// prefix a line shares with the line before (sorted folded files share long
/// prefixes) and of frames repeated a few frames back (recursion), so most
/// frames are never hashed.
#[derive(Default)]
struct LineParser {
    profile: Profile,
    previous: Vec<u8>,
    ids: Vec<FrameId>,
    ends: Vec<usize>,
    last_lag: usize,
}

impl LineParser {
    /// Parses every line of `block`; on a bad line, returns its number
    /// within the block (from 1) and what is wrong.
    fn parse_block(&mut self, block: &[u8]) -> Result<usize, (usize, anyhow::Error)> {
        let mut lines = 0;
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', block)
            .chain((!block.ends_with(b"\n")).then_some(block.len()));
        for end in ends {
            lines += 1;
            self.add_line(trim_line(&block[start..end]))
                .map_err(|e| (lines, e))?;
            start = end + 1;
        }
        Ok(lines)
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

/// A line without its line ending and trailing blanks.
pub(crate) fn trim_line(line: &[u8]) -> &[u8] {
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
pub(crate) fn snippet(bytes: &[u8]) -> String {
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

/// Whether a line has the shape `stack COUNT`.
pub(crate) fn looks_folded(line: &[u8]) -> bool {
    !line.starts_with(b" ")
        && !line.starts_with(b"\t")
        && split_count(line)
            .is_some_and(|(stack, count)| !stack.is_empty() && parse_count(count).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Result<Profile> {
        let mut profile = Profile::new();
        read_folded(text, &Source::File("stacks.folded".into()), 0, &mut profile)?;
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
    fn shared_prefixes_and_repeats_are_read_the_same_as_fresh_lines() {
        let text = "p;main;a;b 1\np;main;a;bc 2\np;main;a 3\np;main;ab;b 4\np;main;a;b;a;b;c;b 5\n";
        let expected: Vec<&str> = text.lines().collect();
        assert_eq!(lines(&read(text.as_bytes()).unwrap()), expected);
    }

    #[test]
    fn bad_count_names_file_line_and_value() {
        let err = read(b"p;a 1\n\np;b abc\n").unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "stacks.folded:3: sample count \"abc\" is not a whole number"
        );
    }

    #[test]
    fn missing_count_is_an_error() {
        let err = read(b"p;a 1\np;a\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("stacks.folded:2: expected `frame;frame;... COUNT`")
        );
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let profile = read(b"p;caf\xff;x 2\np;caf\xff;y 1\n").unwrap();
        assert_eq!(lines(&profile), ["p;caf\u{fffd};x 2", "p;caf\u{fffd};y 1"]);
    }

    #[test]
    fn many_blocks_keep_every_line_and_the_first_error_line() {
        // Lines of ~100 bytes: well over two blocks for the two parsers.
        let good: String = (0..30_000)
            .map(|i| format!("p;main;{:090};leaf {}\n", i, i % 7 + 1))
            .collect();
        let profile = read(good.as_bytes()).unwrap();
        assert_eq!(profile.stack_count(), 30_000);
        let expected: u64 = (0..30_000u64).map(|i| i % 7 + 1).sum();
        assert_eq!(profile.total_samples(), expected);
        let bad = format!("{good}p;x y\n{good}");
        let err = read(bad.as_bytes()).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("stacks.folded:30001: sample count"),
            "{err:#}"
        );
    }

    #[test]
    fn a_line_longer_than_a_block_is_read_whole() {
        let frames: Vec<String> = (0..200_000).map(|i| format!("f{i}")).collect();
        let text = format!("p;a 1\np;{} 3\np;b 2\n", frames.join(";"));
        let profile = read(text.as_bytes()).unwrap();
        let lens: Vec<usize> = profile.stacks().map(|(ids, _)| ids.len()).collect();
        assert_eq!(lens, [2, 200_001, 2]);
    }

    #[test]
    fn common_prefix_len_crosses_word_boundaries() {
        let a = vec![b'x'; 100];
        let mut b = a.clone();
        b[70] = b'y';
        assert_eq!(common_prefix_len(&a, &b), 70);
        assert_eq!(common_prefix_len(&a, &a[..43]), 43);
        assert!(same_bytes(b"parity::is_even", b"parity::is_even"));
        assert!(!same_bytes(b"parity::is_even", b"parity::is_odd!"));
    }
}
