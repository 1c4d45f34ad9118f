//! Reading profiles, in any format autofold knows, into one interned
//! [`Profile`].
//!
//! Every format is one file behind the [`Format`] trait, the way inferno's
//! `collapse/` is laid out. The format of an input is detected from its
//! content, never its file name: [`detect`] tries each format on the first
//! bytes ([`Head`]), after undoing gzip compression ([`gzip`]). Whether the
//! first frame of each stack is a process name (a *root label*) is then
//! decided per input ([`root_label`]).

pub mod collapsers;
pub mod cpuprofile;
pub mod folded;
pub mod gzip;
pub mod head;
pub mod name_cache;
pub mod perf_data;
pub mod perf_script;
pub mod pprof;
pub mod py_spy;
pub mod root_label;
pub mod separators;

use std::io::BufRead;

use anyhow::{Result, bail};

pub use crate::input::head::Head;
pub use crate::input::perf_script::read_perf_script;
use crate::input::root_label::{Labels, RootLabel};
use crate::profile::{InputInfo, ProfileBuilder, ReadProfile, Unit};
pub use crate::source::Source;

/// How inputs are read: the options `fold`, `report` and `diff` share.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Whether the first frame of each stack is a process name.
    pub root_label: RootLabel,
    /// The pprof sample type to read (`--sample-type`); see [`pprof`].
    pub sample_type: Option<String>,
    /// Keep a recording's samples in time order beside its profile
    /// (`ReadProfile::timeline`), for the viewers' exports; only a perf.data
    /// input has them.
    pub timeline: bool,
}

/// An input being read: its bytes, its name for messages, and the options.
pub struct Input<'a> {
    /// The input's bytes from the start (the head included).
    pub reader: Box<dyn BufRead + Send + 'a>,
    /// Where it comes from, for messages.
    pub source: &'a Source,
    /// How to read it.
    pub options: &'a ReadOptions,
    /// Samples read from earlier inputs: readers fail where the total passes
    /// `u64::MAX`, naming the line (or sample) where it does.
    pub samples_before: u128,
}

/// One input format.
pub trait Format: Sync {
    /// The format's name, as messages and the report give it.
    fn name(&self) -> &'static str;

    /// Whether an input that starts with `head` is in this format.
    fn detect(&self, head: &Head) -> bool;

    /// Whether the format writes a root label before each stack. A reader
    /// of a format that does (or may) puts each stack's first frame in the
    /// root-label slot; one that does not stores stacks unlabelled.
    fn root_labels(&self) -> Labels;

    /// Whether the profiler keeps every stack whole (py-spy does): then no
    /// stack of the input counts as cut mid-recursion.
    fn keeps_whole_stacks(&self) -> bool {
        false
    }

    /// Reads the whole input into a profile of its own.
    fn read(&self, input: Input<'_>) -> Result<ProfileBuilder>;
}

/// Every format, in the order they are tried: magic numbers first, then
/// structured text, then line-based text, strictest shape first. pprof has
/// no magic number: it comes after the text formats whose shape no pprof
/// file has, and before those that accept looser text.
pub const FORMATS: &[&dyn Format] = &[
    &perf_data::PerfData,
    &cpuprofile::CpuProfile,
    &collapsers::XCTRACE,
    &py_spy::PySpy,
    &folded::Folded,
    &perf_script::PerfScript,
    &pprof::Pprof,
    &collapsers::DTRACE,
    &collapsers::SAMPLE,
    &collapsers::VTUNE,
    &collapsers::VSPROF,
    &collapsers::GHCPROF,
];

/// Reads every source into one profile; counts of identical stacks are
/// summed later, when the profile is folded.
pub fn read_profile(sources: &[Source], options: &ReadOptions) -> Result<ReadProfile> {
    let mut profile = ProfileBuilder::new();
    for source in sources {
        let part = read_from(
            source.open()?,
            source,
            options,
            profile.profile().sample_sum(),
        )?;
        profile.absorb(part);
    }
    let mut read = profile.finish();
    read.profile.unit = Unit::of_frames(&read.profile.frames);
    Ok(read)
}

/// Reads the two sides of a diff (before, after), each merged from its
/// sources; a side without samples is an error.
pub fn read_sides(
    before: &[Source],
    after: &[Source],
    options: &ReadOptions,
) -> Result<Vec<ReadProfile>> {
    let side = |sources: &[Source], name: &str| -> Result<ReadProfile> {
        let read = read_profile(sources, options)?;
        if read.profile.total_samples() == 0 {
            let names: Vec<String> = sources.iter().map(Source::to_string).collect();
            bail!("{name} ({}) has no samples to compare", names.join(", "));
        }
        Ok(read)
    };
    Ok(vec![side(before, "BEFORE")?, side(after, "AFTER")?])
}

/// Reads one open source (named `source` in messages), detecting its format
/// and whether its stacks have root labels.
pub fn read_from(
    reader: Box<dyn BufRead + Send + '_>,
    source: &Source,
    options: &ReadOptions,
    samples_before: u128,
) -> Result<ProfileBuilder> {
    let (mut head, mut reader) = Head::peek(reader).map_err(|e| source.read_error(e))?;
    let compressed = gzip::is_gzip(&head);
    if compressed {
        (head, reader) = Head::peek(gzip::decompress(reader)).map_err(|e| source.read_error(e))?;
    }
    if head.is_blank() {
        return Ok(ProfileBuilder::new());
    }
    let Some(format) = detect(&head) else {
        bail!("{source}: {}", unknown_format(&head, compressed));
    };
    let input = Input {
        reader,
        source,
        options,
        samples_before,
    };
    let mut profile = format.read(input)?;
    if samples_before + profile.profile().sample_sum() > u128::from(u64::MAX) {
        bail!("{source}: {:#}", folded::count_overflow_error());
    }
    let labelled = root_label::apply(format.root_labels(), options.root_label, &mut profile);
    if format.keeps_whole_stacks() {
        profile.mark_stacks_whole();
    }
    profile.add_input(InputInfo {
        source: source.to_string(),
        format: match compressed {
            true => format!("gzip-compressed {}", format.name()),
            false => format.name().to_string(),
        },
        root_labels: labelled,
    });
    Ok(profile)
}

/// A frame name from a structured format made safe for folded text: `;`
/// separates frames, so it becomes `:` (as inferno's perf collapser does),
/// and control characters (line breaks) become blanks.
pub fn clean(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            ';' => ':',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A message from a parser of the input (inferno's collapsers, serde_json)
/// on one line and at most 80 bytes: some quote whole input lines or
/// strings.
pub(crate) fn one_line(message: &str) -> String {
    let words: Vec<&str> = message.split_whitespace().collect();
    shortened(&words.join(" "), 80)
}

/// `text` cut to at most `max` bytes (at a character boundary), with `…`
/// where it was cut.
pub(crate) fn shortened(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let cut = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", &text[..cut])
}

/// The first format that recognises `head`.
pub fn detect(head: &Head) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|format| format.detect(head))
}

/// What an input in no known format looks like, and what autofold reads.
fn unknown_format(head: &Head, compressed: bool) -> String {
    let looks = match head.text() {
        None => "binary data of an unknown format".to_string(),
        Some(text) if text.trim_start().starts_with(['{', '[']) => {
            "JSON of an unknown shape (not a Chrome/Node .cpuprofile: no \"nodes\" tree)"
                .to_string()
        }
        Some(text) => {
            let line = text.lines().position(|l| !l.trim().is_empty()).unwrap_or(0) + 1;
            format!(
                "text in no known profile format (line {line} is neither folded stacks `frame;frame;... COUNT` nor the start of any other format)"
            )
        }
    };
    let looks = match compressed {
        true => format!("gzip-compressed {looks}"),
        false => looks,
    };
    let known: Vec<&str> = FORMATS.iter().map(|f| f.name()).collect();
    format!(
        "{looks}; autofold reads {}, each also gzip-compressed",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn read(text: &[u8]) -> Result<Profile> {
        let source = Source::File("in.txt".into());
        read_from(Box::new(text), &source, &ReadOptions::default(), 0).map(|b| b.finish().profile)
    }

    fn stacks(profile: &Profile) -> Vec<Vec<&str>> {
        profile
            .stacks()
            .map(|(ids, _)| ids.iter().map(|&i| profile.frames.name(i)).collect())
            .collect()
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
    fn text_in_no_format_is_rejected_without_its_bytes() {
        let err = format!("{:#}", read(b"p;a\nsecret words here\n").unwrap_err());
        assert!(
            err.starts_with("in.txt: text in no known profile format (line 1 is neither"),
            "{err}"
        );
        assert!(err.contains("folded stacks, perf script"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn binary_in_no_format_is_named_binary() {
        let err = format!("{:#}", read(b"\x00\x01\x02\xff\xfe").unwrap_err());
        assert!(
            err.starts_with("in.txt: binary data of an unknown format"),
            "{err}"
        );
    }

    #[test]
    fn json_of_another_shape_is_named_json() {
        let err = format!("{:#}", read(b"{\"traceEvents\": []}").unwrap_err());
        assert!(err.starts_with("in.txt: JSON of an unknown shape"), "{err}");
    }

    #[test]
    fn perf_script_is_collapsed_by_inferno() {
        let text = b"prog 12 100.0: 1 cpu-clock:\n\t1 leaf (/bin/prog)\n\t2 main (/bin/prog)\n\n";
        let profile = read(text).unwrap();
        assert_eq!(stacks(&profile), [["prog", "main", "leaf"]]);
        assert_eq!(profile.inputs[0].format, "perf script");
        assert!(profile.inputs[0].root_labels);
    }

    #[test]
    fn empty_input_is_an_empty_profile() {
        assert_eq!(read(b"\n\n").unwrap().stack_count(), 0);
        assert_eq!(read(b"").unwrap().stack_count(), 0);
    }
}
