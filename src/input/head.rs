//! The first bytes of an input, read ahead to detect its format.
//!
//! A head is at least [`HEAD_BYTES`] long, and longer where the input is
//! text whose first line is: detection needs whole lines, and a folded stack
//! of a deep recursion can be megabytes on one line.

use std::io::{self, BufRead, Cursor, Read};
use std::sync::Arc;

/// How many bytes of an input are read ahead, at least, to detect its
/// format.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The first bytes of an input, read ahead to detect its format and then
/// put back in front of the rest: [`HEAD_BYTES`], or up to the end of the
/// first line that is not blank where that is further (and the input is
/// text).
#[derive(Debug, Clone)]
pub struct Head {
    bytes: Arc<[u8]>,
    whole: bool,
    text: Option<String>,
}

impl Head {
    /// Reads the head of `reader`; returns it and a reader that yields the
    /// whole input again, head included.
    pub fn peek<'a>(
        mut reader: Box<dyn BufRead + Send + 'a>,
    ) -> io::Result<(Head, Box<dyn BufRead + Send + 'a>)> {
        let mut bytes = Vec::with_capacity(HEAD_BYTES);
        let mut whole = read_more(&mut reader, &mut bytes, HEAD_BYTES)?;
        while !whole && first_line_is_cut(&bytes) {
            // Doubling keeps the checks linear in the line's length.
            let wanted = bytes.len();
            whole = read_more(&mut reader, &mut bytes, wanted)?;
        }
        let head = Head::new(bytes.into(), whole);
        let again = Cursor::new(Arc::clone(&head.bytes)).chain(reader);
        Ok((head, Box::new(again)))
    }

    /// A head made of `bytes`, as if they were the whole input (for tests).
    pub fn of(bytes: &[u8]) -> Head {
        Head::new(bytes.into(), true)
    }

    fn new(bytes: Arc<[u8]>, whole: bool) -> Head {
        let text = as_text(&bytes, whole);
        Head { bytes, whole, text }
    }

    /// The bytes read ahead.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the input is empty or only blank lines (then it holds no
    /// stacks, whatever its format).
    pub fn is_blank(&self) -> bool {
        self.whole && self.bytes.iter().all(u8::is_ascii_whitespace)
    }

    /// The head as text, cut after its last whole line (unless it is the
    /// whole input); `None` when it is binary.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The whole lines of the head's text, without line endings.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text().into_iter().flat_map(str::lines)
    }
}

/// Appends up to `wanted` more bytes of `reader` to `bytes`; returns whether
/// the input ended.
fn read_more(reader: &mut impl Read, bytes: &mut Vec<u8>, wanted: usize) -> io::Result<bool> {
    let before = bytes.len();
    reader.take(wanted as u64).read_to_end(bytes)?;
    Ok(bytes.len() - before < wanted)
}

/// Whether `bytes` look like text whose first line that is not blank has
/// not ended yet.
fn first_line_is_cut(bytes: &[u8]) -> bool {
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return true;
    };
    memchr::memchr(b'\n', &bytes[start..]).is_none() && !looks_binary(bytes)
}

/// Whether `bytes` look binary: a NUL byte, or more than one byte in a
/// hundred that is not UTF-8 (a few such bytes are a legacy encoding, read
/// lossily).
fn looks_binary(bytes: &[u8]) -> bool {
    if memchr::memchr(0, bytes).is_some() {
        return true;
    }
    let invalid = String::from_utf8_lossy(bytes)
        .matches(char::REPLACEMENT_CHARACTER)
        .count();
    invalid > 1 + bytes.len() / 100
}

/// `bytes` as text up to their last whole line, or `None` when they look
/// binary.
fn as_text(bytes: &[u8], whole: bool) -> Option<String> {
    let end = match whole {
        true => bytes.len(),
        false => memchr::memrchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1),
    };
    let bytes = &bytes[..end];
    (!looks_binary(bytes)).then(|| String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peek(input: &[u8]) -> (Head, Vec<u8>) {
        let (head, mut again) = Head::peek(Box::new(input)).unwrap();
        let mut all = Vec::new();
        again.read_to_end(&mut all).unwrap();
        (head, all)
    }

    #[test]
    fn a_first_line_longer_than_the_head_is_read_whole() {
        let line = format!("p;{} 3\n", vec!["frame"; 100_000].join(";"));
        let input = format!("\n\n{line}p;a 1\n");
        let (head, again) = peek(input.as_bytes());
        assert_eq!(again, input.as_bytes(), "the input is given back whole");
        let first = head.lines().find(|l| !l.is_empty()).unwrap();
        assert_eq!(first, line.trim_end());
    }

    #[test]
    fn a_short_first_line_reads_only_the_usual_head() {
        let input = "p;a 1\n".repeat(50_000);
        let (head, again) = peek(input.as_bytes());
        assert_eq!(head.bytes().len(), HEAD_BYTES);
        assert_eq!(again, input.as_bytes());
    }

    #[test]
    fn binary_input_is_not_read_further() {
        let mut input = vec![0u8; 8];
        input.extend(std::iter::repeat_n(b'x', 3 * HEAD_BYTES));
        let (head, again) = peek(&input);
        assert_eq!(head.bytes().len(), HEAD_BYTES);
        assert!(head.text().is_none());
        assert_eq!(again, input);
    }

    #[test]
    fn blank_only_when_all_of_the_input_is_blank() {
        assert!(peek(b"\n \n\t\n").0.is_blank());
        let mut long_blank = vec![b' '; 2 * HEAD_BYTES];
        long_blank.extend_from_slice(b"p;a 1\n");
        assert!(!peek(&long_blank).0.is_blank());
    }
}
