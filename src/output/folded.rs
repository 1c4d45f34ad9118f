//! Folded stacks as text: `frame;frame;... COUNT`, one stack a line.

use std::io::{self, Write};

use crate::profile::{Profile, printed};

/// Writes the profile's stacks as folded lines, `frame;frame;... COUNT`.
pub fn write_folded(profile: &Profile, out: &mut dyn Write) -> io::Result<()> {
    for (ids, count) in profile.stacks() {
        write_line(profile, ids, count, out)?;
    }
    Ok(())
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
            write_line(profile, ids, count, &mut line).expect("writing to a Vec cannot fail");
            line.pop(); // the line ending
            String::from_utf8(line).expect("frame names are UTF-8")
        })
        .collect()
}

/// Writes one `frame;frame;... COUNT` line, built first and written at once.
fn write_line(profile: &Profile, ids: &[u32], count: u64, out: &mut dyn Write) -> io::Result<()> {
    LINE.with_borrow_mut(|line| {
        line.clear();
        for (i, &id) in printed(ids).iter().enumerate() {
            if i > 0 {
                line.push(b';');
            }
            line.extend_from_slice(profile.frames.name(id).as_bytes());
        }
        line.push(b' ');
        line.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
        line.push(b'\n');
        out.write_all(line)
    })
}

thread_local! {
    /// The line being written, reused from line to line.
    static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}
