//! perf.data recordings given to `fold` or `report`: recognised by their
//! magic bytes and turned into stacks by the same path as `autofold record
//! --perf-data FILE`.

use std::io;

use anyhow::{Context, Result};

use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input, Source};
use crate::profile::Profile;
use crate::record::{RecordOptions, profile_of_recording};

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

    fn read(&self, mut input: Input<'_>) -> Result<Profile> {
        let options = RecordOptions::default();
        match input.source {
            Source::File(path) => profile_of_recording(path, &options),
            Source::Stdin => {
                // perf reads a recording from a file: keep standard input in one.
                let mut temp = tempfile::NamedTempFile::new()
                    .context("cannot create a temporary file for perf.data")?;
                io::copy(&mut input.reader, &mut temp).map_err(|e| input.source.read_error(e))?;
                profile_of_recording(temp.path(), &options)
            }
        }
    }
}
