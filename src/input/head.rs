//! The first bytes of an input, read ahead to detect its format.

use std::io::{self, BufRead, Cursor, Read};

/// How many bytes of an input are read ahead to detect its format.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The first bytes of an input (up to [`HEAD_BYTES`]), read ahead to detect
/// its format and then put back in front of the rest.
#[derive(Debug, Clone)]
pub struct Head {
    bytes: Vec<u8>,
    text: Option<String>,
}

impl Head {
    /// Reads the head of `reader`; returns it and a reader that yields the
    /// whole input again, head included.
    pub fn peek<'a>(
        mut reader: Box<dyn BufRead + 'a>,
    ) -> io::Result<(Head, Box<dyn BufRead + 'a>)> {
        let mut bytes = Vec::with_capacity(HEAD_BYTES);
        (&mut reader)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut bytes)?;
        let whole = bytes.len() < HEAD_BYTES;
        let again = Cursor::new(bytes.clone()).chain(reader);
        Ok((Head::new(bytes, whole), Box::new(again)))
    }

    /// A head made of `bytes`, as if they were the whole input (for tests).
    pub fn of(bytes: &[u8]) -> Head {
        Head::new(bytes.to_vec(), true)
    }

    fn new(bytes: Vec<u8>, whole: bool) -> Head {
        let text = as_text(&bytes, whole);
        Head { bytes, text }
    }

    /// The bytes read ahead.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the input is empty or only blank lines (then it holds no
    /// stacks, whatever its format).
    pub fn is_blank(&self) -> bool {
        self.bytes.len() < HEAD_BYTES && self.bytes.iter().all(u8::is_ascii_whitespace)
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

/// `bytes` as text up to their last whole line, or `None` when they look
/// binary: a NUL byte, or more than one byte in a hundred that is not UTF-8
/// (a few such bytes are a legacy encoding, read lossily).
fn as_text(bytes: &[u8], whole: bool) -> Option<String> {
    let end = match whole {
        true => bytes.len(),
        false => memchr::memrchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1),
    };
    let bytes = &bytes[..end];
    if memchr::memchr(0, bytes).is_some() {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    let invalid = text.matches(char::REPLACEMENT_CHARACTER).count();
    (invalid <= 1 + bytes.len() / 100).then(|| text.into_owned())
}
