//! The profilers inferno's other collapsers read, through inferno's library:
//! DTrace, macOS `sample`, Intel VTune CSV, Visual Studio CSV, Apple
//! `xctrace` XML and GHC's `.prof` report. Each is recognised by the
//! collapser's own `is_applicable`, or by its opening lines where that
//! cannot tell from the head ([`Collapser::opens`]), collapsed in-process
//! into folded text, and read like any folded file.

use std::cell::Cell;
use std::io::{self, Read};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use anyhow::{Result, anyhow};
use inferno::collapse::{Collapse, dtrace, ghcprof, sample, vsprof, vtune, xctrace};

use crate::input::folded::read_folded;
use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input, one_line};
use crate::profile::ProfileBuilder;

/// One of inferno's collapsers, as an input format.
pub struct Collapser {
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Dtrace,
    Sample,
    Vtune,
    Vsprof,
    Xctrace,
    Ghcprof,
}

/// DTrace `ustack()` aggregations (`dtrace -x ustackframes=100 -n …`).
pub const DTRACE: Collapser = Collapser { kind: Kind::Dtrace };
/// macOS `sample` call-graph reports.
pub const SAMPLE: Collapser = Collapser { kind: Kind::Sample };
/// Intel VTune `-report top-down` CSV.
pub const VTUNE: Collapser = Collapser { kind: Kind::Vtune };
/// Visual Studio profiler call-tree CSV.
pub const VSPROF: Collapser = Collapser { kind: Kind::Vsprof };
/// Apple `xctrace export` XML of a Time Profiler trace.
pub const XCTRACE: Collapser = Collapser {
    kind: Kind::Xctrace,
};
/// GHC's `.prof` report: its `ticks` column (`+RTS -P`), or per-mille of
/// time where there is none (`+RTS -p`).
pub const GHCPROF: Collapser = Collapser {
    kind: Kind::Ghcprof,
};

impl Format for Collapser {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Dtrace => "DTrace",
            Kind::Sample => "macOS sample",
            Kind::Vtune => "VTune CSV",
            Kind::Vsprof => "Visual Studio CSV",
            Kind::Xctrace => "xctrace XML",
            Kind::Ghcprof => "GHC .prof",
        }
    }

    /// The collapser's own test on the head's text must say yes; where it
    /// cannot tell from the head (it waits for a line that may lie
    /// megabytes further on), the opening lines decide.
    fn detect(&self, head: &Head) -> bool {
        let Some(text) = head.text() else {
            return false;
        };
        match self.is_applicable(text) {
            Some(answer) => answer,
            None => self.opens(text),
        }
    }

    /// `sample` starts each stack with the thread's name; the others with a
    /// function.
    fn root_labels(&self) -> Labels {
        match self.kind {
            Kind::Sample => Labels::Always,
            _ => Labels::Never,
        }
    }

    fn read(&self, mut input: Input<'_>) -> Result<ProfileBuilder> {
        // These reports are small: read whole, a collapser can look twice.
        let mut text = Vec::new();
        input
            .reader
            .read_to_end(&mut text)
            .map_err(|e| input.source.read_error(e))?;
        let mut folded = Vec::new();
        guarded(|| self.collapse(&text, &mut folded)).map_err(|e| {
            anyhow!(
                "{}: not valid {} input: {}",
                input.source,
                self.name(),
                one_line(&e.to_string())
            )
        })?;
        let mut profile = read_folded(folded.as_slice(), input.source, input.samples_before)?;
        if matches!(self.root_labels(), Labels::Never) {
            profile.demote_root_labels();
        }
        Ok(profile)
    }
}

impl Collapser {
    fn is_applicable(&self, text: &str) -> Option<bool> {
        match self.kind {
            Kind::Dtrace => dtrace::Folder::default().is_applicable(text),
            Kind::Sample => sample::Folder::default().is_applicable(text),
            Kind::Vtune => vtune::Folder::default().is_applicable(text),
            Kind::Vsprof => vsprof::Folder::default().is_applicable(text),
            Kind::Xctrace => xctrace::Folder::default().is_applicable(text),
            Kind::Ghcprof => ghcprof::Folder::default().is_applicable(text),
        }
    }

    /// Whether `text`, the head of an input, opens as this format does,
    /// for the formats whose collapser answers only further on: `sample`
    /// (its test waits for the report's end, "Total number in stack", after
    /// the whole call graph) and DTrace (its test waits for the first
    /// stack's count, after a stack that may be deeper than the head).
    fn opens(&self, text: &str) -> bool {
        match self.kind {
            Kind::Sample => opens_as_sample_report(text),
            Kind::Dtrace => opens_as_dtrace_stacks(text),
            _ => false,
        }
    }

    fn collapse(&self, text: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        match self.kind {
            Kind::Dtrace => {
                let mut options = dtrace::Options::default();
                options.nthreads = 1;
                dtrace::Folder::from(options).collapse(text, out)
            }
            Kind::Sample => sample::Folder::default().collapse(text, out),
            Kind::Vtune => vtune::Folder::default().collapse(text, out),
            Kind::Vsprof => vsprof::Folder::default().collapse(text, out),
            Kind::Xctrace => xctrace::Folder::default().collapse(text, out),
            Kind::Ghcprof => {
                let mut options = ghcprof::Options::default();
                options.source = match has_ticks_column(text) {
                    true => ghcprof::Source::Ticks,
                    false => ghcprof::Source::PercentTime,
                };
                ghcprof::Folder::from(options).collapse(text, out)
            }
        }
    }
}

thread_local! {
    /// Whether this thread is inside [`guarded`], where panics are errors.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Runs one of inferno's collapsers on untrusted input. They panic on some
/// inputs they do not expect (a level skipped in a Visual Studio CSV, a
/// frame name that is not UTF-8 in perf script text; in a debug build also
/// a DTrace count with no stack, or counts that add past `u64::MAX`): such
/// a panic becomes an error, and the panic message is not printed, since
/// the error says it.
pub(crate) fn guarded(collapse: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.get() {
                previous(info);
            }
        }));
    });
    GUARDED.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(collapse));
    GUARDED.set(false);
    result.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        Err(io::Error::other(format!(
            "inferno's collapser failed on it ({})",
            one_line(what)
        )))
    })
}

/// Whether `text` opens as a macOS `sample` report: the header's
/// "Analysis of sampling PROCESS (pid N) ..." line (after the progress lines
/// Activity Monitor writes above it, if any), then "Call graph:", then
/// stack lines indented by four spaces as far as the text goes.
fn opens_as_sample_report(text: &str) -> bool {
    let mut lines = text.lines();
    let analysis = lines
        .by_ref()
        .take(SAMPLE_HEADER_LINES)
        .position(|line| line.starts_with("Analysis of sampling "));
    if analysis.is_none() || !lines.by_ref().any(|line| line.starts_with("Call graph:")) {
        return false;
    }
    lines
        .filter(|line| !line.trim().is_empty())
        .all(|line| line.starts_with("    "))
}

/// How far down a `sample` report's "Analysis of sampling" line may lie.
const SAMPLE_HEADER_LINES: usize = 10;

/// Whether `text` opens as DTrace `ustack()` output whose first stack goes
/// on past it: after the first blank line, indented frame lines only
/// (`module`function+offset`, or a bare `0x` address), at least one.
fn opens_as_dtrace_stacks(text: &str) -> bool {
    let mut lines = text
        .lines()
        .skip_while(|line| !line.trim().is_empty())
        .filter(|line| !line.trim().is_empty())
        .peekable();
    lines.peek().is_some() && lines.all(is_dtrace_frame)
}

/// Whether a line is a DTrace stack frame, indented as DTrace prints one.
fn is_dtrace_frame(line: &str) -> bool {
    let frame = line.trim();
    let address = frame
        .strip_prefix("0x")
        .is_some_and(|hex| u64::from_str_radix(hex, 16).is_ok());
    line.starts_with(char::is_whitespace) && (frame.contains('`') || address)
}

/// Whether a GHC report's call tree has a `ticks` column (`+RTS -P`).
fn has_ticks_column(text: &[u8]) -> bool {
    String::from_utf8_lossy(text)
        .lines()
        .filter(|line| line.starts_with("COST CENTRE"))
        .any(|header| header.split_whitespace().any(|word| word == "ticks"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_HEAD: &str = "Analysis of sampling prog (pid 1) every 1 millisecond\n\
        Process:         prog [1]\n\n\
        Call graph:\n    \
        10 Thread_1\n    \
        + 10 start  (in dyld) + 1  [0x1]\n";

    #[test]
    fn a_sample_report_opens_with_its_analysis_line_then_its_call_graph() {
        assert!(opens_as_sample_report(SAMPLE_HEAD));
        let no_analysis = SAMPLE_HEAD.replace("Analysis of sampling", "Summary of");
        assert!(!opens_as_sample_report(&no_analysis));
        let no_graph = SAMPLE_HEAD.replace("Call graph:", "Calls:");
        assert!(!opens_as_sample_report(&no_graph));
        let unindented = format!("{SAMPLE_HEAD}main;even 3\n");
        assert!(!opens_as_sample_report(&unindented));
    }

    #[test]
    fn dtrace_opens_with_indented_frames_after_a_blank_line() {
        let head = "CPU     ID    FUNCTION:NAME\n  1  80164   :tick-10s\n\n\n              prog`even+0x2e\n              0x7fff0001\n";
        assert!(opens_as_dtrace_stacks(head));
        // Folded stacks of a DTrace profile are not DTrace output.
        assert!(!opens_as_dtrace_stacks("\nprog`main;prog`even 3\n"));
        assert!(!opens_as_dtrace_stacks("CPU ID\n\n"));
        let other = format!("{head}              some words\n");
        assert!(!opens_as_dtrace_stacks(&other));
    }
}
