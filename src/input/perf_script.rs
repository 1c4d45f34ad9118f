//! `perf script` text, collapsed in-process by inferno's perf collapser.

use std::io::BufRead;

use anyhow::{Result, anyhow};
use inferno::collapse::Collapse;
use inferno::collapse::perf::{Folder as PerfFolder, Options as PerfOptions};

use crate::demangle::demangled_frame;
use crate::input::collapsers::guarded;
use crate::input::folded::read_folded;
use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input, Source};
use crate::profile::ProfileBuilder;

/// The text `perf script` prints: an event line per sample, then its stack,
/// one frame a line, leaf first.
pub struct PerfScript;

impl Format for PerfScript {
    fn name(&self) -> &'static str {
        "perf script"
    }

    /// inferno's perf collapser recognises an event line followed by a stack
    /// line; a file of only `#` comments (a recording with no samples) is
    /// perf script too.
    fn detect(&self, head: &Head) -> bool {
        let Some(text) = head.text() else {
            return false;
        };
        match PerfFolder::default().is_applicable(text) {
            Some(applicable) => applicable,
            None => text.trim_start().starts_with('#'),
        }
    }

    /// inferno's collapser starts every stack with the process name.
    fn root_labels(&self) -> Labels {
        Labels::Always
    }

    fn read(&self, input: Input<'_>) -> Result<ProfileBuilder> {
        read_perf_script(input.reader, input.source, input.samples_before)
    }
}

/// Reads `perf script` text: collapses it with inferno, reads the folded
/// lines it wrote, and demangles symbols perf left mangled (`perf script
/// --no-demangle`, as `record` runs it), keeping each symbol as its frame's
/// identity.
pub fn read_perf_script(
    reader: impl BufRead,
    source: &Source,
    samples_before: u128,
) -> Result<ProfileBuilder> {
    let mut folded = Vec::new();
    let mut options = PerfOptions::default();
    options.nthreads = 1;
    guarded(|| PerfFolder::from(options).collapse(reader, &mut folded))
        .map_err(|e| anyhow!("{source}: cannot collapse perf script output: {e}"))?;
    let mut profile = read_folded(folded.as_slice(), source, samples_before)?;
    profile.frames_mut().identify(demangled_frame);
    Ok(profile)
}
