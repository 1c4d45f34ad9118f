//! Where profiles come from (files, standard input), and the first bytes of
//! each, read ahead to detect its format.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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

    /// Opens the source for buffered reading.
    pub fn open(&self) -> Result<Box<dyn BufRead>> {
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

    /// The error for a failed read of this source.
    pub fn read_error(&self, error: io::Error) -> anyhow::Error {
        anyhow::Error::new(error).context(format!("{self}: cannot read"))
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
