//! Reads a `perf.data` recording in-process and turns it into collapsed
//! stacks, the way `perf script | inferno-collapse-perf` would, without
//! running `perf script` (whose binutils `addr2line` takes minutes on big
//! binaries) and unwinding what perf cannot (JIT code, by frame pointers).
//!
//! The records come from a perf.data file ([`read`]), or from the kernel as
//! autofold's sampler reads them ([`RecordStream`]); both go through the
//! same three phases:
//! 1. **read** ([`records`]): the records, in time order; processes, threads,
//!    names and memory mappings are tracked ([`processes`]), and each sample
//!    becomes a stack of raw frames (module, address) — kernel frames from
//!    the recorded call chain, user frames from the call chain (`fp`, `lbr`)
//!    or unwound from the stack copy (`dwarf`, [`unwind`]). Raw frames and
//!    raw stacks are interned ([`raw_stacks`]), so the work after this phase
//!    grows with the distinct stacks, not with the samples.
//! 2. **symbolize** ([`symbols`]): each distinct (module, address) once,
//!    inline frames expanded.
//! 3. **assemble** ([`assemble`]): raw stacks become stacks of [`Frame`]s;
//!    stacks that only differed by addresses inside one function merge.

mod assemble;
mod callchain;
mod clock;
mod cpython_calls;
mod cut_short;
mod elf_files;
mod frame_text;
mod header_check;
mod mappings;
mod modules;
mod off_cpu;
mod processes;
mod raw_stacks;
mod records;
mod sample_log;
mod symbols;
mod trampolines;
mod unwind;
mod vdso;

use std::path::Path;

use anyhow::Result;
use indicatif::ProgressBar;
use linux_perf_event_reader::{EventRecord, RawEventRecord};

use crate::console::{note, progress};
use crate::profile::{FrameModule, Origin, ProfileBuilder, SourceLocation};
pub use clock::monotonic_ns;
pub use off_cpu::{OffCpuOptions, OffCpuStats};

/// How a recording is turned into stacks.
#[derive(Debug, Clone)]
pub struct Options {
    /// Expand frames into the functions inlined there (DWARF), outermost
    /// first, as `perf script` does unless `--no-inline`.
    pub inline: bool,
    /// Treat frames of a recorded call chain (`fp`, `lbr`, kernel) exactly
    /// as `perf script` 6.1 does, for diffing against it: return addresses
    /// looked up as they are (not inside the call, which can name the
    /// function after a call that ends a function) and no inline frames.
    pub perf_compat: bool,
    /// Off-CPU accounting (`record --off-cpu`, the sampler only): samples
    /// of the second event are stacks leaving the CPU, weights are time.
    pub off_cpu: Option<OffCpuOptions>,
    /// Keep every sample's time, thread and stack beside the profile
    /// ([`PerfStacks::timeline`]): what the viewers' exports show. Off, the
    /// memory read takes grows with the distinct stacks only.
    pub timeline: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            inline: true,
            perf_compat: false,
            off_cpu: None,
            timeline: false,
        }
    }
}

/// One frame of a stack, as a flame graph shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The frame's text, exactly as `inferno-collapse-perf` writes it for
    /// `perf script` output: a function name (demangled, Rust hash and C++
    /// parameters removed), a pseudo-frame naming a module (`[libfoo.so]`,
    /// `[unknown]`), or the command name that roots each stack.
    pub name: String,
    /// Which function this frame is, where the name alone may not tell:
    /// the mangled symbol (Rust legacy mangling keeps the `17h…E` hash that
    /// tells two instances of one generic apart; v0 and C++ mangled names
    /// are unique), for inline frames the inlined function's mangled linkage
    /// name; `module!name` for unmangled (C) functions. `None` for
    /// pseudo-frames, command names, kernel and JIT frames, whose names are
    /// their identity.
    pub identity: Option<String>,
    /// Whose code it is, from where it came from (its source file, its
    /// script): see `docs/NAMING.md`.
    pub origin: Origin,
    /// Where its function is written (DWARF's line for the function's
    /// first address, a JIT runtime's script and line), where known.
    pub source: Option<SourceLocation>,
    /// The module its code is in (an ELF file's path, `[kernel.kallsyms]`,
    /// a JIT map), where it has one: the Firefox export's library.
    pub module: Option<FrameModule>,
}

/// Index of a frame in [`Profile::frames`].
pub type FrameId = u32;

/// A distinct stack and how many samples had it.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Outermost first; the first frame is the command name (comm).
    pub frames: Box<[FrameId]>,
    /// Number of samples.
    pub count: u64,
}

/// What a recording held besides stacks: sample and loss counts.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// SAMPLE records of the profiled event (all of them are in the stacks).
    pub samples: u64,
    /// SAMPLE records of other events, left out like `inferno-collapse-perf`
    /// leaves out every event but the first one it meets.
    pub other_event_samples: u64,
    /// LOST records.
    pub lost_records: u64,
    /// The events the LOST records say were lost.
    pub lost_events: u64,
    /// Samples the kernel dropped (LOST_SAMPLES records).
    pub lost_samples: u64,
    /// Records that could not be parsed (skipped).
    pub bad_records: u64,
}

impl Stats {
    /// One line about what perf lost or autofold skipped, or `None` when
    /// every event perf saw is in the stacks.
    pub fn loss_line(&self) -> Option<String> {
        self.loss_line_of("perf")
    }

    /// [`Stats::loss_line`] of a recording made by `recorder` ("perf",
    /// "the sampler").
    pub fn loss_line_of(&self, recorder: &str) -> Option<String> {
        let mut parts = Vec::new();
        if self.lost_events > 0 || self.lost_records > 0 {
            parts.push(format!(
                "{recorder} lost {} events ({} LOST records)",
                self.lost_events, self.lost_records
            ));
        }
        if self.lost_samples > 0 {
            parts.push(format!("the kernel dropped {} samples", self.lost_samples));
        }
        if self.other_event_samples > 0 {
            parts.push(format!(
                "{} samples of other events were left out",
                self.other_event_samples
            ));
        }
        if self.bad_records > 0 {
            parts.push(format!(
                "{} unreadable records were skipped",
                self.bad_records
            ));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "{}; the profile has the {} samples {recorder} kept",
                parts.join(", "),
                self.samples
            )
        })
    }
}

/// The stacks of a recording: interned frames, and distinct stacks that
/// index them.
#[derive(Debug, Clone, Default)]
pub struct PerfStacks {
    /// Every distinct frame.
    pub frames: Vec<Frame>,
    /// Every distinct stack (distinct by frame identity).
    pub stacks: Vec<Stack>,
    /// Sample and loss counts.
    pub stats: Stats,
    /// For an off-CPU recording: what its accounting saw. Counts are then
    /// microseconds of wall-clock time.
    pub off_cpu: Option<OffCpuStats>,
    /// Every sample in time order, its stack an index into `stacks`, where
    /// [`Options::timeline`] asked for it and every sample had a time.
    pub timeline: Option<crate::profile::Timeline>,
}

impl PerfStacks {
    /// The frames of `stack`, outermost (the command name) first.
    pub fn frames_of<'p>(&'p self, stack: &'p Stack) -> impl Iterator<Item = &'p Frame> + 'p {
        stack.frames.iter().map(|&id| &self.frames[id as usize])
    }
}

/// Reads `path` (called `name` in messages) into [`PerfStacks`];
/// `progress` advances over the file's bytes as its records are read.
pub fn read(
    path: &Path,
    name: &str,
    options: &Options,
    progress: &ProgressBar,
) -> Result<PerfStacks> {
    let recording = records::read(path, name, options, progress)?;
    Ok(stacks_of(recording, options))
}

/// The stacks of what the read phase found: each distinct address
/// symbolized once, then the stacks assembled.
fn stacks_of(recording: records::Recording, options: &Options) -> PerfStacks {
    let symbolized = symbols::symbolize(&recording.modules, recording.raw.frames(), options);
    assemble::assemble(recording, symbolized)
}

/// Records turned into raw stacks one at a time as they arrive, the way a
/// perf.data file's are, but with no file: autofold's sampler feeds it the
/// kernel's records while it records, so each sample's stack copy is
/// unwound and dropped at once, and memory grows with the distinct stacks,
/// not with time.
pub struct RecordStream {
    reader: records::Reader,
    options: Options,
}

impl RecordStream {
    /// A stream of records made on this machine now: modules are the files
    /// on disk (and the running kernel's vdso), and a process is forgotten
    /// once its last thread has exited.
    pub fn live(options: &Options) -> Self {
        Self {
            reader: records::Reader::new(modules::Modules::live(), options).forgetting_exited(),
            options: options.clone(),
        }
    }

    /// One record the kernel wrote, of the event of kind `kind` (the CPU
    /// clock is 0; with off-CPU accounting, context switches are 1).
    pub fn record(&mut self, kind: usize, record: &RawEventRecord<'_>) {
        self.reader.record(kind, record);
    }

    /// One record made to describe what existed before the recording began
    /// (a thread's name, a mapping read from `/proc`).
    pub fn event(&mut self, record: EventRecord<'_>) {
        self.reader.event(0, record);
    }

    /// What the records so far held besides stacks.
    pub fn stats(&self) -> &Stats {
        self.reader.stats()
    }

    /// The stacks of every sample: each distinct address symbolized once
    /// (with inline frames, as options say), then assembled.
    pub fn finish(self) -> PerfStacks {
        let mut recording = self.reader.finish();
        recording.modules.find_late_perf_maps();
        stacks_of(recording, &self.options)
    }
}

impl PerfStacks {
    /// The stacks as autofold's profile: a frame with an identity is told
    /// apart from others of its name by it.
    pub fn into_profile(self) -> ProfileBuilder {
        let mut profile = crate::profile::ProfileBuilder::new();
        let ids: Vec<crate::profile::FrameId> = self
            .frames
            .iter()
            .map(|frame| {
                let id = match &frame.identity {
                    Some(identity) => profile.frames_mut().intern_symbol(&frame.name, identity),
                    None => profile.frames_mut().intern(&frame.name),
                };
                if frame.origin != Origin::Unknown {
                    profile.frames_mut().set_origin(id, frame.origin);
                }
                if let Some(source) = &frame.source {
                    profile.frames_mut().set_source(id, source.clone());
                }
                if let Some(module) = &frame.module {
                    profile.frames_mut().set_module(id, module);
                }
                id
            })
            .collect();
        let mut stack = Vec::new();
        let mut stack_of = Vec::with_capacity(self.stacks.len());
        for recorded in &self.stacks {
            stack.clear();
            stack.extend(recorded.frames.iter().map(|&f| ids[f as usize]));
            profile.push_ids(&stack, recorded.count, 0);
            stack_of.push(u32::try_from(profile.last_stack()).ok());
        }
        if self.off_cpu.is_some() {
            profile.set_unit(crate::profile::Unit::Microseconds);
        }
        if let Some(timeline) = self.timeline {
            profile.set_timeline(timeline.renumbered(&stack_of));
        }
        profile
    }
}

/// Reads the recording at `data` (called `name` in messages) in-process,
/// with a progress bar over its bytes, and says in one line what perf lost.
pub fn read_in_process(data: &Path, name: &str, options: &Options) -> Result<ProfileBuilder> {
    let bytes = std::fs::metadata(data).map(|m| m.len()).unwrap_or(0);
    let progress = progress::reading_perf_data(bytes);
    let stacks = read(data, name, options, &progress);
    progress.finish_and_clear();
    let stacks = stacks?;
    if let Some(line) = stacks.stats.loss_line() {
        note(format!("{name}: {line}"));
    }
    Ok(stacks.into_profile())
}
