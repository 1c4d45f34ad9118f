//! Folded stacks as text: `frame;frame;... COUNT`, one stack a line.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::mpsc::sync_channel;

use crate::profile::{Profile, printed};

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

/// The folded lines of stacks `range`.
fn formatted(profile: &Profile, range: Range<usize>) -> Vec<u8> {
    let mut text = Vec::with_capacity(range.len() * 64);
    for (ids, count) in profile.stacks_in(range) {
        push_line(profile, ids, count, &mut text);
    }
    text
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

/// Appends one `frame;frame;... COUNT` line to `line`.
fn push_line(profile: &Profile, ids: &[u32], count: u64, line: &mut Vec<u8>) {
    for (i, &id) in printed(ids).iter().enumerate() {
        if i > 0 {
            line.push(b';');
        }
        line.extend_from_slice(profile.frames.name(id).as_bytes());
    }
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
    line.push(b'\n');
}
