//! Reading profiles: folded stacks or raw `perf script` output, from files or
//! standard input, into one interned [`Profile`].
//!
//! The format is detected from the first non-blank line. `perf script` output
//! is collapsed in-process by inferno's perf collapser, then read like any
//! folded file.

pub mod folded;
pub mod perf_script;
pub mod source;

use std::io::{BufRead, Cursor, Read};

use anyhow::{Context, Result, bail};

use crate::input::folded::{looks_folded, read_folded, snippet, trim_line};
use crate::input::perf_script::looks_like_perf_script;
pub use crate::input::perf_script::read_perf_script;
pub use crate::input::source::Source;
use crate::profile::Profile;
/// Reads every source into one profile; counts of identical stacks are
/// summed later, when the profile is folded.
pub fn read_profile(sources: &[Source]) -> Result<Profile> {
    let mut profile = Profile::new();
    for source in sources {
        read_source(source, &mut profile)?;
    }
    Ok(profile)
}

/// Reads one source, detecting its format from its first non-blank line.
pub fn read_source(source: &Source, profile: &mut Profile) -> Result<()> {
    read_from(source.open()?, source, profile)
}

/// Reads an already open source (named `source` in errors) into `profile`.
pub fn read_from(mut reader: impl BufRead, source: &Source, profile: &mut Profile) -> Result<()> {
    let mut first = Vec::new();
    let mut skipped = 0;
    loop {
        first.clear();
        if reader
            .read_until(b'\n', &mut first)
            .with_context(|| format!("{source}: cannot read"))?
            == 0
        {
            return Ok(());
        }
        skipped += 1;
        if !trim_line(&first).is_empty() {
            break;
        }
    }
    let whole = Cursor::new(first.clone()).chain(reader);
    if looks_folded(trim_line(&first)) {
        read_folded(whole, source, skipped - 1, profile)
    } else if looks_like_perf_script(&first) {
        read_perf_script(whole, source, profile)
    } else {
        bail!(
            "{source}:{skipped}: neither folded stacks (`frame;frame;... COUNT`) nor `perf script` output: {:?}",
            snippet(&first)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Result<Profile> {
        let mut profile = Profile::new();
        read_from(text, &Source::File("in.txt".into()), &mut profile)?;
        Ok(profile)
    }

    #[test]
    fn leading_blank_lines_count_in_line_numbers() {
        let err = read(b"\n\np;a 1\np;b x\n").unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "in.txt:4: sample count \"x\" is not a whole number"
        );
    }

    #[test]
    fn text_in_neither_format_is_rejected() {
        let err = read(b"p;a\n").unwrap_err();
        assert!(format!("{err:#}").starts_with("in.txt:1: neither folded stacks"));
    }

    #[test]
    fn perf_script_is_collapsed_by_inferno() {
        let text = b"prog 12 100.0: 1 cpu-clock:\n\t1 leaf (/bin/prog)\n\t2 main (/bin/prog)\n\n";
        let profile = read(text).unwrap();
        let stacks: Vec<Vec<&str>> = profile
            .stacks()
            .map(|(ids, _)| ids.iter().map(|&i| profile.frames.name(i)).collect())
            .collect();
        assert_eq!(stacks, [["prog", "main", "leaf"]]);
    }

    #[test]
    fn empty_input_is_an_empty_profile() {
        assert_eq!(read(b"\n\n").unwrap().stack_count(), 0);
    }
}
