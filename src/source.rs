//! Where profiles come from (files, standard input): named in messages by
//! every stage, and checked by outputs so that none overwrites an input.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
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

    /// Opens the source for buffered reading. The buffer is smaller than
    /// the blocks the folded-stack reader reads, so that its reads go
    /// straight into its blocks instead of being copied twice.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>> {
        const CAPACITY: usize = 128 << 10;
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
