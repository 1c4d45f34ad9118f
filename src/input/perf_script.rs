//! `perf script` text, collapsed in-process by inferno's perf collapser.

use std::io::BufRead;

use anyhow::{Context, Result};
use inferno::collapse::Collapse;
use inferno::collapse::perf::{Folder as PerfFolder, Options as PerfOptions};

use crate::input::Source;
use crate::input::folded::read_folded;
use crate::profile::Profile;

/// Reads `perf script` text: collapses it with inferno, then reads the
/// folded lines it wrote.
pub fn read_perf_script(
    reader: impl BufRead,
    source: &Source,
    profile: &mut Profile,
) -> Result<()> {
    let mut folded = Vec::new();
    let mut options = PerfOptions::default();
    options.nthreads = 1;
    PerfFolder::from(options)
        .collapse(reader, &mut folded)
        .with_context(|| format!("{source}: cannot collapse perf script output"))?;
    read_folded(folded.as_slice(), source, 0, profile)
}

pub(crate) fn looks_like_perf_script(first_line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(first_line);
    text.starts_with('#') || PerfFolder::default().is_applicable(&text) != Some(false)
}
