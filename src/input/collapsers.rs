//! The profilers inferno's other collapsers read, through inferno's library:
//! DTrace, macOS `sample`, Intel VTune CSV, Visual Studio CSV, Apple
//! `xctrace` XML and GHC's `.prof` report. Each is recognised by the
//! collapser's own `is_applicable`, collapsed in-process into folded text,
//! and read like any folded file.

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

    /// The collapser's own test on the head's text must say yes; "cannot
    /// tell yet" is no.
    fn detect(&self, head: &Head) -> bool {
        head.text()
            .is_some_and(|text| self.is_applicable(text) == Some(true))
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

/// Whether a GHC report's call tree has a `ticks` column (`+RTS -P`).
fn has_ticks_column(text: &[u8]) -> bool {
    String::from_utf8_lossy(text)
        .lines()
        .filter(|line| line.starts_with("COST CENTRE"))
        .any(|header| header.split_whitespace().any(|word| word == "ticks"))
}
