//! perf.data recordings given to `fold` or `report`: recognised by their
//! magic bytes and turned into stacks by the same path as `autofold record
//! --perf-data FILE`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{Context, Result};

use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input, Source};
use crate::perf_records::{Options, read_in_process};
use crate::profile::ProfileBuilder;

/// The first bytes of every perf.data file (file and pipe mode alike).
const MAGIC: &[u8] = b"PERFILE2";

/// The perf.data format.
pub struct PerfData;

impl Format for PerfData {
    fn name(&self) -> &'static str {
        "perf.data"
    }

    fn detect(&self, head: &Head) -> bool {
        head.bytes().starts_with(MAGIC)
    }

    /// Stacks start with the process name, as perf script writes them.
    fn root_labels(&self) -> Labels {
        Labels::Always
    }

    /// The reader maps the recording from a file: the input's own when it is a
    /// plain perf.data file, else (standard input, a pipe, a gzip-compressed
    /// file) a temporary copy of what was read. Errors name the input; the
    /// input is listed by [`crate::input::read_from`].
    fn read(&self, mut input: Input<'_>) -> Result<ProfileBuilder> {
        let options = Options {
            timeline: input.options.timeline,
            ..Options::default()
        };
        let source = input.source;
        let name = source.to_string();
        let profile = match source {
            Source::File(path) if is_plain_perf_data(path) => {
                read_in_process(path, &name, &options)
            }
            _ => {
                let mut temp = tempfile::NamedTempFile::new()
                    .context("cannot create a temporary file for perf.data")?;
                io::copy(&mut input.reader, &mut temp).map_err(|e| source.read_error(e))?;
                read_in_process(temp.path(), &name, &options)
            }
        };
        profile.with_context(|| name.clone())
    }
}

/// Whether `path` is a regular file that starts with perf.data's magic (not
/// a pipe, which cannot be read twice, nor a compressed file).
fn is_plain_perf_data(path: &Path) -> bool {
    let mut magic = [0; MAGIC.len()];
    path.is_file()
        && File::open(path)
            .and_then(|mut file| file.read_exact(&mut magic))
            .is_ok()
        && magic == MAGIC
}
