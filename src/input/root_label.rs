//! Root labels: whether the first frame of each stack names a process.
//!
//! Stacks collapsed from perf (`perf script | inferno-collapse-perf`, and
//! autofold's own `record`) begin with the process name, `even-odd;_start;…`.
//! py-spy, pprof, Chrome, DTrace and most other profilers write no such
//! label: their first frame is a function. A root label never joins a cycle,
//! and the truncation rule (docs/REPORT.md) looks below it, so taking a
//! function for a label (or the reverse) gives wrong results. It is decided
//! per input (docs/INPUTS.md):
//! 1. `--root-label yes|no` when given;
//! 2. otherwise what the format says, where it says it;
//! 3. otherwise (folded stacks of unknown origin) the evidence: yes when
//!    every distinct first frame has the shape of a process name as perf's
//!    collapsers write it, no when any first frame does not.

use rustc_hash::FxHashSet;

use crate::profile::{FrameId, NO_LABEL, Profile, ProfileBuilder};

/// `--root-label`: whether the first frame of each stack is a process name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RootLabel {
    /// The first frame is a process name, never part of a cycle.
    Yes,
    /// The first frame is a function like any other.
    No,
    /// Decide per input: from its format, or from the evidence in its stacks.
    #[default]
    Auto,
}

/// What a format says about root labels.
#[derive(Debug, Clone, Copy)]
pub enum Labels {
    /// Every stack starts with a process (or thread) name.
    Always,
    /// Stacks start with a function.
    Never,
    /// The format cannot say (folded text from any collapser): the first
    /// frames are labels when every distinct one passes this test of its
    /// name.
    FromEvidence(fn(&str) -> bool),
}

/// Decides whether `profile` (read from a format that says `format`) has
/// root labels, and lays its stacks out accordingly; returns the decision.
///
/// Readers put the first frame in the root-label slot unless their format
/// says [`Labels::Never`]; this moves it out (or in) when the decision
/// differs.
pub fn apply(format: Labels, option: RootLabel, profile: &mut ProfileBuilder) -> bool {
    let read_as_labelled = !matches!(format, Labels::Never);
    let labelled = match (option, format) {
        (RootLabel::Yes, _) => true,
        (RootLabel::No, _) => false,
        (RootLabel::Auto, Labels::Always) => true,
        (RootLabel::Auto, Labels::Never) => false,
        (RootLabel::Auto, Labels::FromEvidence(is_label)) => {
            first_frames_pass(profile.profile(), is_label)
        }
    };
    match (read_as_labelled, labelled) {
        (true, false) => profile.demote_root_labels(),
        (false, true) => profile.promote_first_frames(),
        _ => {}
    }
    labelled
}

/// Whether every distinct first frame of `profile` passes `is_label`; false
/// for a profile with no frames.
pub fn first_frames_pass(profile: &Profile, is_label: fn(&str) -> bool) -> bool {
    let firsts: FxHashSet<FrameId> = profile
        .stacks()
        .filter_map(|(frames, _)| frames.first().copied())
        .filter(|&first| first != NO_LABEL)
        .collect();
    !firsts.is_empty() && firsts.iter().all(|&id| is_label(profile.frames.name(id)))
}

/// The longest process name Linux keeps (`TASK_COMM_LEN` less its NUL).
const COMM_LEN: usize = 15;

/// Whether `name` has the shape of a process name as perf's collapsers
/// write it: at most 15 bytes (Linux cuts longer names), blanks replaced
/// by `_`, optionally followed by `-PID` or `-PID/TID` (inferno's `--pid`
/// and `--tid`); no `::`, brackets, parentheses, quotes, backquotes or
/// commas, which function names have and process names do not.
pub fn looks_like_process_name(name: &str) -> bool {
    let name = without_pid_suffix(name);
    !name.is_empty()
        && name.len() <= COMM_LEN
        && !name.contains("::")
        && !name.contains([
            ' ', '(', ')', '<', '>', '[', ']', '{', '}', '`', '"', '\'', ',', '@',
        ])
}

/// `name` without a trailing `-PID` or `-PID/TID`.
fn without_pid_suffix(name: &str) -> &str {
    let Some((base, suffix)) = name.rsplit_once('-') else {
        return name;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let is_pid = match suffix.split_once('/') {
        Some((pid, tid)) => digits(pid) && digits(tid),
        None => digits(suffix),
    };
    if is_pid && !base.is_empty() {
        base
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ReadProfile;

    fn looks(name: &str) -> bool {
        looks_like_process_name(name)
    }

    #[test]
    fn perf_process_names_look_like_labels() {
        for name in [
            "even-odd",
            "python3.11",
            "kworker/0:1H",
            "tokio-runtime-w",
            "prog-1234",
            "prog-1234/1240",
            "Web_Content",
        ] {
            assert!(looks(name), "{name}");
        }
    }

    #[test]
    fn function_names_from_other_profilers_do_not() {
        for name in [
            "<module> (even_odd.py:15)",
            "thread (0x7F3A2B)",
            "java/lang/Thread.run",
            "libc.so.1`_lwp_start",
            "tree::walk",
            "[unknown]",
            "a_very_long_function_name",
            "process 1234:\"python x.py\"",
        ] {
            assert!(!looks(name), "{name}");
        }
    }

    fn profile(lines: &[&str]) -> ProfileBuilder {
        ProfileBuilder::of_lines(lines)
    }

    #[test]
    fn one_function_shaped_first_frame_decides_no() {
        let p = profile(&["prog;main;a", "<module> (x.py:1);a"]);
        assert!(!first_frames_pass(p.profile(), looks_like_process_name));
        let perf = profile(&["prog;main;a", "cc1;b"]);
        assert!(first_frames_pass(perf.profile(), looks_like_process_name));
    }

    #[test]
    fn demoting_labels_makes_the_first_frame_a_caller() {
        let mut p = profile(&["<module> (x.py:1);even;odd;even"]);
        let labelled = apply(
            Labels::FromEvidence(looks_like_process_name),
            RootLabel::Auto,
            &mut p,
        );
        assert!(!labelled);
        let ReadProfile {
            profile: p, calls, ..
        } = p.finish();
        let (frames, _) = p.stacks().next().unwrap();
        assert_eq!(frames[0], NO_LABEL);
        let module = p.frames.get("<module> (x.py:1)").unwrap();
        let even = p.frames.get("even").unwrap();
        assert!(calls.pairs().any(|e| e == (module, even)));
    }

    #[test]
    fn the_option_overrules_the_format() {
        let mut p = ProfileBuilder::new();
        let ids: Vec<FrameId> = ["main", "a"]
            .iter()
            .map(|n| p.frames_mut().intern(n))
            .collect();
        p.push_unlabelled(&ids, 3);
        assert!(apply(Labels::Never, RootLabel::Yes, &mut p));
        let ReadProfile {
            profile: p, calls, ..
        } = p.finish();
        let (frames, count) = p.stacks().next().unwrap();
        assert_eq!((frames, count), (&ids[..], 3));
        assert!(calls.pairs().next().is_none(), "a label calls nothing");
    }
}
