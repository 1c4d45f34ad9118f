//! Folded stacks as text: `frame;frame;... COUNT`, one stack a line.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::mpsc::sync_channel;

use crate::profile::{FrameId, Profile, printed, shared_prefix};

/// Stacks formatted at a time.
const CHUNK: usize = 4096;

/// Writes the profile's stacks as folded lines, `frame;frame;... COUNT`:
/// chunks of lines are formatted on two threads, and written in order.
pub fn write_folded(profile: &Profile, out: &mut dyn Write) -> io::Result<()> {
    let chunks = profile.stack_count().div_ceil(CHUNK);
    let chunk = |k: usize| k * CHUNK..((k + 1) * CHUNK).min(profile.stack_count());
    if chunks < 2 {
        return out.write_all(&formatted(profile, chunk(0)));
    }
    std::thread::scope(|scope| {
        let (odd_sender, odd) = sync_channel::<Vec<u8>>(2);
        scope.spawn(move || {
            for k in (1..chunks).step_by(2) {
                if odd_sender.send(formatted(profile, chunk(k))).is_err() {
                    break;
                }
            }
        });
        for k in 0..chunks {
            let text = match k % 2 {
                0 => formatted(profile, chunk(k)),
                _ => odd
                    .recv()
                    .expect("the formatting thread sends every odd chunk"),
            };
            out.write_all(&text)?;
        }
        Ok(())
    })
}

/// The folded lines of stacks `range`: where a line starts with the frames
/// of the line before (sorted lines do), those bytes are copied at once.
fn formatted(profile: &Profile, range: Range<usize>) -> Vec<u8> {
    let mut text = Vec::with_capacity(range.len() * 64);
    let mut previous = PreviousLine::default();
    for (ids, count) in profile.stacks_in(range) {
        let frames = printed(ids);
        let shared = shared_prefix(&previous.frames, frames);
        let start = text.len();
        if shared > 0 {
            let end = previous.start + previous.ends[shared - 1];
            text.extend_from_within(previous.start..end);
        }
        previous.ends.truncate(shared);
        for (i, &id) in frames.iter().enumerate().skip(shared) {
            if i > 0 {
                text.push(b';');
            }
            text.extend_from_slice(profile.frames.name(id).as_bytes());
            previous.ends.push(text.len() - start);
        }
        push_count(count, &mut text);
        previous.start = start;
        previous.frames.clear();
        previous.frames.extend_from_slice(frames);
    }
    text
}

/// The line written last: its frames, where it starts in the text, and
/// where each of its frames ends (from its start).
#[derive(Default)]
struct PreviousLine {
    frames: Vec<FrameId>,
    start: usize,
    ends: Vec<usize>,
}

/// The frame the flame graph draws for samples with no frames (py-spy's
/// samples outside Python code), so that its total is the report's:
/// inferno would skip them.
pub const NO_FRAMES: &str = "[no frames]";

/// The profile's stacks as folded lines, for the renderer: a stack with no
/// frames is drawn as [`NO_FRAMES`].
pub fn folded_lines(profile: &Profile) -> Vec<String> {
    profile
        .stacks()
        .map(|(ids, count)| {
            let mut line = Vec::new();
            if printed(ids).is_empty() {
                line.extend_from_slice(NO_FRAMES.as_bytes());
            }
            push_line(profile, ids, count, &mut line);
            line.pop(); // the line ending
            String::from_utf8(line).expect("frame names are UTF-8")
        })
        .collect()
}

/// The line `frame;frame;... COUNT` of `frames` (printed frames: no
/// label slot), without its line ending.
pub fn line_text(profile: &Profile, frames: &[FrameId], count: u64) -> String {
    let mut line = Vec::new();
    for (i, &id) in frames.iter().enumerate() {
        if i > 0 {
            line.push(b';');
        }
        line.extend_from_slice(profile.frames.name(id).as_bytes());
    }
    push_count(count, &mut line);
    line.pop(); // the line ending
    String::from_utf8(line).expect("frame names are UTF-8")
}

/// Appends one `frame;frame;... COUNT` line to `line`.
fn push_line(profile: &Profile, ids: &[u32], count: u64, line: &mut Vec<u8>) {
    for (i, &id) in printed(ids).iter().enumerate() {
        if i > 0 {
            line.push(b';');
        }
        line.extend_from_slice(profile.frames.name(id).as_bytes());
    }
    push_count(count, line);
}

/// Appends ` COUNT` and the line ending.
fn push_count(count: u64, line: &mut Vec<u8>) {
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
    line.push(b'\n');
}
