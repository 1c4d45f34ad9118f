//! Parsing folded stacks (`frame;frame;... COUNT`, one a line) into a
//! profile: the hot loop of every command.
//!
//! The text is cut into blocks of whole lines, parsed by two threads into
//! profiles of their own, then merged: reading a 200 MB file is mostly
//! parsing, and parsing splits cleanly.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Mutex;
use std::thread;

use anyhow::{Context, Result, bail};

use crate::input::name_cache::{NameIds, same_bytes};
use crate::input::root_label::{Labels, looks_like_process_name};
use crate::input::separators::push_separators;
use crate::input::{Format, Head, Input, Source, shortened};
use crate::profile::{FrameId, NO_LABEL, ProfileBuilder};

/// Folded stacks, `frame;frame;... COUNT` one stack a line, as inferno's and
/// the FlameGraph scripts' collapsers (and autofold) write them.
pub struct Folded;

impl Format for Folded {
    fn name(&self) -> &'static str {
        "folded stacks"
    }

    /// The first line that is neither blank nor a sample with no frames has
    /// the shape `stack COUNT`; or there are only such samples.
    fn detect(&self, head: &Head) -> bool {
        let mut lines = head
            .lines()
            .map(|line| trim_line(line.as_bytes()))
            .filter(|line| !line.is_empty());
        let mut empty_stacks = false;
        for line in lines.by_ref() {
            if !is_empty_stack(line) {
                return looks_folded(line);
            }
            empty_stacks = true;
        }
        empty_stacks
    }

    /// Collapsed from perf, stacks start with the process name; from py-spy
    /// or async-profiler, with a function. Only the stacks can tell.
    fn root_labels(&self) -> Labels {
        Labels::FromEvidence(looks_like_process_name)
    }

    fn read(&self, input: Input<'_>) -> Result<ProfileBuilder> {
        read_folded(input.reader, input.source, input.samples_before)
    }
}

/// Bytes of text per block a parser reads: small enough that a block is
/// still in its core's cache when the parser reaches its end.
const BLOCK: usize = 256 << 10;

/// Parser threads.
const PARSERS: usize = 2;

/// Reads folded text from `reader` into a profile of its own. The first
/// frame of every line goes in the root-label slot (see
/// [`crate::input::root_label`] for when it is demoted to a frame).
/// `samples_before` counts the samples read from earlier inputs: a total
/// past `u64::MAX` is an error naming the line where it is crossed.
///
/// Each parser thread reads its next block itself (one at a time, in
/// turn) and parses it: the bytes the kernel copies are then in the cache
/// of the core that parses them, and whichever parser is free takes the
/// next block, so a parser on a busier core does less of the work.
pub fn read_folded(
    reader: impl Read + Send,
    source: &Source,
    samples_before: u128,
) -> Result<ProfileBuilder> {
    let ledger = Mutex::new(Ledger::new(samples_before));
    let text = Mutex::new(Text::new(reader));
    let profiles: Vec<ProfileBuilder> = thread::scope(|scope| {
        let parsers: Vec<_> = (0..PARSERS)
            .map(|_| scope.spawn(|| parse_blocks(&text, &ledger)))
            .collect();
        parsers
            .into_iter()
            .map(|p| p.join().expect("a parser thread panicked"))
            .collect()
    });
    let text = text
        .into_inner()
        .expect("no parser panicked holding the text");
    if let Some(error) = text.error {
        return Err(error).with_context(|| format!("{source}: cannot read"));
    }
    let ledger = ledger
        .into_inner()
        .expect("no parser panicked holding the ledger");
    if let Some((line, error)) = ledger.verdict {
        bail!("{source}:{line}: {error:#}");
    }
    let mut profile = ProfileBuilder::new();
    for part in profiles {
        profile.absorb(part);
    }
    Ok(profile)
}

/// The text being read, cut into blocks of whole lines as parsers ask.
struct Text<R> {
    reader: R,
    /// The start of the line the last block cut off.
    carry: Vec<u8>,
    /// The number of the next block.
    next: usize,
    /// Whether the text has ended (or failed).
    ended: bool,
    /// Why reading failed.
    error: Option<io::Error>,
}

impl<R: Read> Text<R> {
    fn new(reader: R) -> Self {
        Text {
            reader,
            carry: Vec::new(),
            next: 0,
            ended: false,
            error: None,
        }
    }

    /// The next block of about [`BLOCK`] bytes ending at a line ending (a
    /// longer line makes a longer block), read into `buffer`; `None` at the
    /// end of the text or once reading failed.
    fn next_block(&mut self, mut buffer: Vec<u8>) -> Option<Block> {
        if self.ended {
            return None;
        }
        room_for(&mut buffer, self.carry.len());
        buffer[..self.carry.len()].copy_from_slice(&self.carry);
        let mut len = self.carry.len();
        self.carry.clear();
        match fill_block(&mut self.reader, &mut buffer, &mut len) {
            Ok(at_end) => self.ended = at_end,
            Err(error) => {
                self.error = Some(error);
                self.ended = true;
                return None;
            }
        }
        if !self.ended
            && let Some(last_newline) = memchr::memrchr(b'\n', &buffer[..len])
        {
            self.carry.extend_from_slice(&buffer[last_newline + 1..len]);
            len = last_newline + 1;
        }
        if len == 0 {
            return None;
        }
        self.next += 1;
        Some(Block {
            index: self.next - 1,
            buffer,
            len,
        })
    }
}

/// A run of whole lines, numbered in reading order.
struct Block {
    index: usize,
    /// The lines, then room for the next read.
    buffer: Vec<u8>,
    /// How many bytes of `buffer` are lines.
    len: usize,
}

impl Block {
    fn lines(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

/// What a parser saw of one block's lines: their counts (0 for a blank
/// line) and the first malformed line, if any. The ledger needs no more to
/// name the line where anything goes wrong.
struct Tally {
    /// The count of each line of the block parsed, in order.
    counts: Vec<u64>,
    /// A malformed line: its number in the block (from 1), what is wrong.
    error: Option<(usize, anyhow::Error)>,
}

/// The blocks' counts added up in file order as parsers finish them (in
/// any order), so that the first line that is malformed or at which the
/// sample total passes `u64::MAX` is named exactly, while memory holds only
/// the few blocks finished ahead of their turn.
struct Ledger {
    /// The block whose tally is added next.
    next: usize,
    /// Samples of the blocks added so far (and of earlier inputs).
    total: u128,
    /// Lines of the blocks added so far.
    lines: usize,
    /// Tallies finished ahead of their turn.
    waiting: BTreeMap<usize, Tally>,
    /// The first bad line of the input and what is wrong with it.
    verdict: Option<(usize, anyhow::Error)>,
}

impl Ledger {
    fn new(samples_before: u128) -> Self {
        Ledger {
            next: 0,
            total: samples_before,
            lines: 0,
            waiting: BTreeMap::new(),
            verdict: None,
        }
    }

    /// Takes block `index`'s tally, adds every tally whose turn has come,
    /// and returns their count buffers for reuse.
    fn settle(&mut self, index: usize, tally: Tally) -> Vec<Vec<u64>> {
        self.waiting.insert(index, tally);
        let mut spent = Vec::new();
        while let Some(tally) = self.waiting.remove(&self.next) {
            self.next += 1;
            if self.verdict.is_none() {
                self.verdict = self.add(&tally);
            }
            spent.push(tally.counts);
        }
        spent
    }

    /// Adds one block's lines; returns the first bad line, if any.
    fn add(&mut self, tally: &Tally) -> Option<(usize, anyhow::Error)> {
        for (i, &count) in tally.counts.iter().enumerate() {
            self.total += u128::from(count);
            if self.total > u128::from(u64::MAX) {
                return Some((self.lines + i + 1, count_overflow_error()));
            }
        }
        if let Some((line, error)) = &tally.error {
            return Some((self.lines + line, anyhow::anyhow!("{error:#}")));
        }
        self.lines += tally.counts.len();
        None
    }

    /// Whether a bad line was found: parsing further is wasted.
    fn has_verdict(&self) -> bool {
        self.verdict.is_some()
    }
}

/// Reads and parses blocks until the text ends or a bad line is known,
/// settling each block with the ledger.
fn parse_blocks(text: &Mutex<Text<impl Read>>, ledger: &Mutex<Ledger>) -> ProfileBuilder {
    let mut parser = LineParser {
        last_lag: 1,
        ..LineParser::default()
    };
    let mut spare_counts = Vec::new();
    let mut buffer = Vec::new();
    loop {
        let next = text
            .lock()
            .expect("no parser panicked holding the text")
            .next_block(buffer);
        let Some(block) = next else { break };
        let mut tally = Tally {
            counts: spare_counts.pop().unwrap_or_default(),
            error: None,
        };
        tally.counts.clear();
        tally.error = parser.parse_block(block.lines(), &mut tally.counts).err();
        let mut ledger = ledger
            .lock()
            .expect("no parser panicked holding the ledger");
        spare_counts.extend(ledger.settle(block.index, tally));
        if ledger.has_verdict() {
            break;
        }
        buffer = block.buffer;
    }
    parser.profile.settle_pairs();
    parser.profile
}

/// What is wrong when counts add up past what a count can hold.
pub(crate) fn count_overflow_error() -> anyhow::Error {
    anyhow::anyhow!(
        "the sample counts add up past {} (the largest total autofold can hold)",
        u64::MAX
    )
}

/// Makes `buffer` at least `len` and a block's read long.
fn room_for(buffer: &mut Vec<u8>, len: usize) {
    let wanted = len + BLOCK;
    if buffer.len() < wanted {
        buffer.resize(wanted.max(2 * BLOCK), 0);
    }
}

/// Reads into `buffer` after its first `len` bytes until they hold at
/// least a block and a line ending, or the text ends; returns whether it
/// ended. Buffers are reused at their length, so reading into them writes
/// each byte once (no zeroing first); reads of a block's size go past the
/// source's smaller `BufReader` buffer (see [`Source::open`]), not through
/// it.
fn fill_block(reader: &mut impl Read, buffer: &mut Vec<u8>, len: &mut usize) -> io::Result<bool> {
    loop {
        room_for(buffer, *len);
        let read = match reader.read(&mut buffer[*len..*len + BLOCK]) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if read == 0 {
            return Ok(true);
        }
        *len += read;
        if *len >= BLOCK && memchr::memrchr(b'\n', &buffer[*len - read..*len]).is_some() {
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
    profile: ProfileBuilder,
    names: NameIds,
    /// The stack of the last line of the block before, whose frames `ids`
    /// and `ends` describe while the next block's first line is parsed:
    /// within a block, the line before is read where it lies.
    carried: Vec<u8>,
    ids: Vec<FrameId>,
    ends: Vec<usize>,
    last_lag: usize,
}

impl LineParser {
    /// Parses every line of `block`, appending each line's count to
    /// `counts` (0 for a blank line); on a bad line, returns its number
    /// within the block (from 1) and what is wrong.
    fn parse_block(
        &mut self,
        block: &[u8],
        counts: &mut Vec<u64>,
    ) -> Result<(), (usize, anyhow::Error)> {
        let carried = std::mem::take(&mut self.carried);
        let mut previous: &[u8] = &carried;
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', block)
            .chain((!block.ends_with(b"\n")).then_some(block.len()));
        for end in ends {
            let line = trim_line(&block[start..end]);
            let count = match line.is_empty() {
                true => 0,
                false => {
                    let (count, stack) = self
                        .add_line(line, previous)
                        .map_err(|e| (counts.len() + 1, e))?;
                    previous = stack;
                    count
                }
            };
            counts.push(count);
            start = end + 1;
        }
        self.carried = previous.to_vec();
        Ok(())
    }

    /// Adds one line's stack, given the stack of the line before; returns
    /// its count and the stack the next line may share frames with (empty:
    /// none).
    fn add_line<'a>(&mut self, line: &'a [u8], previous: &'a [u8]) -> Result<(u64, &'a [u8])> {
        let Some((stack, count)) = split_count(line) else {
            bail!(
                "expected `frame;frame;... COUNT`, found no sample count: {:?}",
                snippet(line)
            );
        };
        let Some(count) = parse_count(count) else {
            bail!("sample count {:?} is not a whole number", snippet(count));
        };
        if stack.iter().all(u8::is_ascii_whitespace) {
            // A sample with no frames (py-spy writes them): kept and counted.
            self.profile.push_ids(&[NO_LABEL], count, 1);
            self.ids.clear();
            self.ends.clear();
            return Ok((count, &[]));
        }
        if !previous.is_empty() && stack == previous {
            // The same stack as the line before (merged runs repeat lines).
            self.profile.repeat_last(count);
            return Ok((count, previous));
        }
        let reused = self.reusable_frames(stack, previous);
        self.ids.truncate(reused);
        self.ends.truncate(reused);
        let from = self.ends.last().map_or(0, |&e| e + 1);
        let shareable = self.intern_frames(stack, from);
        self.profile.push_ids(&self.ids, count, reused);
        Ok((count, if shareable { stack } else { &[] }))
    }

    /// How many leading frames `stack` shares, byte for byte, with
    /// `previous`, the line before.
    fn reusable_frames(&self, stack: &[u8], previous: &[u8]) -> usize {
        let common = common_prefix_len(stack, previous);
        // A frame is shared when the `;` after it is inside the common prefix.
        self.ends.partition_point(|&end| end < common)
    }

    /// The id of `name`, frame `k` of this line, if it is one of the few
    /// frames before it: recursion repeats a frame every one to four frames,
    /// and comparing a few bytes is cheaper than hashing them. The lag that
    /// matched last is tried first, since a recursion keeps its period.
    #[inline]
    fn recent_frame(&mut self, stack: &[u8], k: usize, name: &[u8]) -> Option<FrameId> {
        let matches = |lag: usize| {
            let j = k - lag;
            let start = if j == 0 { 0 } else { self.ends[j - 1] + 1 };
            same_bytes(&stack[start..self.ends[j]], name)
        };
        let last = self.last_lag;
        if last <= k && matches(last) {
            return Some(self.ids[k - last]);
        }
        for lag in 1..=RECENT.min(k) {
            if lag != last && matches(lag) {
                self.last_lag = lag;
                return Some(self.ids[k - lag]);
            }
        }
        None
    }

    /// Interns the frames of `stack` from byte `from` on (the frames before
    /// it are `ids` already), recording where each ends; returns whether
    /// the next line may share frames with it (not when it was not UTF-8).
    fn intern_frames(&mut self, stack: &[u8], from: usize) -> bool {
        let rest = &stack[from..];
        let Ok(text) = std::str::from_utf8(rest) else {
            // Lossy text has other byte offsets: intern it, and share
            // nothing with the next line.
            let text = String::from_utf8_lossy(rest);
            for name in text.split(';') {
                self.ids
                    .push(self.names.id(self.profile.frames_mut(), name));
                self.ends.push(usize::MAX);
            }
            return false;
        };
        let first = self.ends.len();
        push_separators(rest, from, &mut self.ends);
        self.ends.push(stack.len());
        let mut start = from;
        for k in first..self.ends.len() {
            let end = self.ends[k];
            let id = match self.recent_frame(stack, k, &stack[start..end]) {
                Some(id) => id,
                None => {
                    let name = &text[start - from..end - from];
                    self.names.id(self.profile.frames_mut(), name)
                }
            };
            self.ids.push(id);
            start = end + 1;
        }
        true
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

/// The start of a line, for error messages: at most 60 bytes of it (not
/// characters: a message quotes little of an input, whatever its script).
pub(crate) fn snippet(bytes: &[u8]) -> String {
    shortened(&String::from_utf8_lossy(bytes), 60)
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

/// Whether a line is a sample with no frames: blanks, then a count.
pub(crate) fn is_empty_stack(line: &[u8]) -> bool {
    split_count(line).is_some_and(|(stack, count)| {
        stack.iter().all(u8::is_ascii_whitespace) && parse_count(count).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn read(text: &[u8]) -> Result<Profile> {
        read_folded(text, &Source::File("stacks.folded".into()), 0).map(|b| b.finish().profile)
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
        // Blocks go to whichever parser is free: stacks come in no set
        // order until they are sorted.
        let mut stacks: Vec<(usize, u64)> = profile
            .stacks()
            .map(|(ids, count)| (ids.len(), count))
            .collect();
        stacks.sort_unstable();
        assert_eq!(stacks, [(2, 1), (2, 2), (200_001, 3)]);
    }

    #[test]
    fn common_prefix_len_crosses_word_boundaries() {
        let a = vec![b'x'; 100];
        let mut b = a.clone();
        b[70] = b'y';
        assert_eq!(common_prefix_len(&a, &b), 70);
        assert_eq!(common_prefix_len(&a, &a[..43]), 43);
    }
}
