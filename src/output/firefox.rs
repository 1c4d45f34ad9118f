//! The folded profile in the Firefox Profiler's processed format
//! (`--firefox FILE`, gzipped where FILE ends in `.gz`), built with
//! `fxprof-processed-profile`, the crate samply writes it with: for the
//! profiler's call tree, inverted tree, flame graph and stack chart, opened
//! with `samply load FILE` or profiler.firefox.com's "Load a profile from
//! file".
//!
//! A recording read with a timeline (`record`, or a perf.data given to
//! `fold`/`report`, with this export asked for) keeps its processes and
//! threads: one process per pid, one thread per tid, named as recorded,
//! each sample at its own time (since the recording's first sample) with
//! its stack folded as the profile's. Other profiles keep no times: one
//! process with one thread per root label (a recording's process names; one
//! in all for inputs without labels), each stack one sample weighed by its
//! count, at a synthetic time: the sum of the weights before it, one
//! millisecond a sample (the count's own microseconds for an off-CPU
//! recording), so the stack chart draws each stack as wide as its weight,
//! in the folded profile's order. Cycle frames are functions in a category
//! of their own, "Recursion cycle", the cycle's members its subcategory
//! (shown in the sidebar); the author's code is "User", `_[k]` frames and
//! a recording's frames in the kernel "Kernel", `_[j]` frames and a
//! recording's frames in JIT code "JIT" (their module says), the rest
//! "Other". A frame whose module a
//! recording knows is an address in that module's library, resolved to its
//! name by a synthetic symbol table ([`Libraries`]); other frames, and
//! cycle frames, are labels.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::SystemTime;

use flate2::Compression;
use flate2::write::GzEncoder;
use fxprof_processed_profile as fx;
use fxprof_processed_profile::{
    CategoryColor, CategoryHandle, CategoryPairHandle, CpuDelta, FrameFlags, FrameHandle,
    FrameInfo, ProcessHandle, SamplingInterval, StackHandle, ThreadHandle, Timestamp,
};
use rustc_hash::FxHashMap;

use crate::engine::Analysis;
use crate::engine::report::{CycleReport, Report};
use crate::engine::timeline::FoldedTimeline;
use crate::profile::{FrameId, ModuleCode, OFF_CPU_FRAME, Origin, Profile, Unit, shared_prefix};

use super::firefox_libraries::Libraries;
use super::viewer_model::{
    Thread, TimedThread, cycle_frames, members_note, profile_name, threads, timed_threads,
};

/// The name of the category of cycle frames.
pub const CYCLE_CATEGORY: &str = "Recursion cycle";

/// Whether a file named `path` is written gzipped (its name ends in `.gz`).
pub fn gzipped(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "gz")
}

/// Writes the folded profile of `analysis` in the Firefox Profiler's
/// processed format, gzip-compressed when `gzip`.
pub fn write_firefox(analysis: &Analysis, gzip: bool, out: &mut dyn Write) -> io::Result<()> {
    let profile = build(analysis);
    if !gzip {
        serde_json::to_writer(&mut *out, &profile).map_err(io::Error::other)?;
        return out.write_all(b"\n");
    }
    // serde_json writes a few bytes at a time: the encoder gets them in
    // blocks, as each call into it costs far more than a buffered copy.
    let mut encoder = BufWriter::with_capacity(1 << 16, GzEncoder::new(out, Compression::fast()));
    serde_json::to_writer(&mut encoder, &profile).map_err(io::Error::other)?;
    encoder.into_inner().map_err(|e| e.into_error())?.finish()?;
    Ok(())
}

/// The Firefox Profiler's profile of `analysis`: its recorded threads and
/// times where it has a timeline, else one thread per root label.
fn build(analysis: &Analysis) -> fx::Profile {
    let name = profile_name(&analysis.folded);
    let mut profile = fx::Profile::new(
        &name,
        SystemTime::now().into(),
        SamplingInterval::from_millis(1),
    );
    match &analysis.timeline {
        Some(timed) => add_recorded_threads(&mut profile, timed, &analysis.report),
        None => add_label_threads(&mut profile, analysis, &name),
    }
    profile
}

/// One process of one thread per root label of the folded profile (named
/// `name` where it has none), its stacks at synthetic times.
fn add_label_threads(profile: &mut fx::Profile, analysis: &Analysis, name: &str) {
    let folded = &analysis.folded;
    let mut frames = FrameTable::new(folded, &analysis.report, profile);
    for (pid, thread) in (1..).zip(threads(folded).iter()) {
        let handle = add_thread(profile, pid, thread.name(folded, name));
        frames.add_samples(profile, handle, thread);
    }
}

/// The processes and threads of `timed` as recorded, each sample at its
/// time.
fn add_recorded_threads(profile: &mut fx::Profile, timed: &FoldedTimeline, report: &Report) {
    let start = Timestamp::from_nanos_since_reference(0);
    let mut frames = FrameTable::new(&timed.stacks, report, profile);
    let mut processes: FxHashMap<i32, ProcessHandle> = FxHashMap::default();
    for thread in timed_threads(timed) {
        let process = *processes
            .entry(thread.pid)
            .or_insert_with(|| profile.add_process(thread.process, thread.pid as u32, start));
        let is_main = thread.tid == thread.pid;
        let handle = profile.add_thread(process, thread.tid as u32, start, is_main);
        profile.set_thread_name(handle, thread.name);
        frames.add_timed_samples(profile, handle, &thread);
    }
}

/// A process of one thread named `name`, started at time 0.
fn add_thread(profile: &mut fx::Profile, pid: u32, name: &str) -> ThreadHandle {
    let start = Timestamp::from_millis_since_reference(0.0);
    let process = profile.add_process(name, pid, start);
    let thread = profile.add_thread(process, pid, start, true);
    profile.set_thread_name(thread, name);
    thread
}

/// The categories frames fall in.
struct Categories {
    user: CategoryPairHandle,
    kernel: CategoryPairHandle,
    jit: CategoryPairHandle,
    cycle: CategoryHandle,
    /// Each cycle's subcategory (its members), by cycle name.
    cycles: FxHashMap<String, CategoryPairHandle>,
}

impl Categories {
    /// Adds the categories to `profile`.
    fn new(profile: &mut fx::Profile) -> Self {
        Self {
            user: profile.add_category("User", CategoryColor::Yellow).into(),
            kernel: profile.add_category("Kernel", CategoryColor::Orange).into(),
            jit: profile.add_category("JIT", CategoryColor::Green).into(),
            cycle: profile.add_category(CYCLE_CATEGORY, CategoryColor::Purple),
            cycles: FxHashMap::default(),
        }
    }

    /// The category of a frame named `name` in `module` whose code is
    /// `origin`'s, or of `cycle`'s frame.
    fn of(
        &mut self,
        profile: &mut fx::Profile,
        name: &str,
        module: Option<ModuleCode>,
        origin: Origin,
        cycle: Option<&CycleReport>,
    ) -> CategoryPairHandle {
        if let Some(cycle) = cycle {
            let category = self.cycle;
            return *self
                .cycles
                .entry(cycle.name.clone())
                .or_insert_with(|| profile.add_subcategory(category, &members_note(cycle)));
        }
        match (name, origin) {
            (name, _) if name.ends_with("_[k]") || module == Some(ModuleCode::Kernel) => {
                self.kernel
            }
            (name, _) if name.ends_with("_[j]") || module == Some(ModuleCode::Jit) => self.jit,
            (_, Origin::Author) => self.user,
            _ => CategoryHandle::OTHER.into(),
        }
    }
}

/// Each profile frame as the crate knows it: its label and category once
/// for the whole profile, its frame handle once per thread.
struct FrameTable<'a> {
    folded: &'a Profile,
    cycles: FxHashMap<FrameId, &'a CycleReport>,
    categories: Categories,
    /// The frames that are addresses in a library.
    libraries: Libraries,
    /// By frame id: its label and category, once interned.
    infos: Vec<Option<FrameInfo>>,
    /// This thread's frame handles, by frame id.
    handles: FxHashMap<FrameId, FrameHandle>,
    /// A sample's time per unit of weight, in milliseconds.
    millis_per_unit: f64,
    off_cpu: Option<FrameId>,
}

impl<'a> FrameTable<'a> {
    /// An empty table for the frames of `folded` (cycles as `report` names
    /// them), its categories added to `profile`.
    fn new(folded: &'a Profile, report: &'a Report, profile: &mut fx::Profile) -> Self {
        let cycles = cycle_frames(folded, report);
        let libraries = Libraries::new(&folded.frames, |id| cycles.contains_key(&id), profile);
        Self {
            folded,
            cycles,
            categories: Categories::new(profile),
            libraries,
            infos: vec![None; folded.frames.len()],
            handles: FxHashMap::default(),
            millis_per_unit: match folded.unit {
                Unit::Samples => 1.0,
                Unit::Microseconds => 0.001,
            },
            off_cpu: folded.frames.get(OFF_CPU_FRAME),
        }
    }

    /// Adds the stacks of `thread` to `handle` as samples at synthetic,
    /// ascending times; stacks that begin alike (sorted ones do) reuse the
    /// stack handles of their shared prefix.
    fn add_samples(
        &mut self,
        profile: &mut fx::Profile,
        handle: ThreadHandle,
        thread: &Thread<'_>,
    ) {
        self.handles.clear();
        let mut previous: &[FrameId] = &[];
        let mut stacks: Vec<StackHandle> = Vec::new();
        let mut elapsed: u128 = 0;
        for &(frames, count) in &thread.stacks {
            stacks.truncate(shared_prefix(previous, frames));
            for &id in &frames[stacks.len()..] {
                let frame = self.frame(profile, handle, id);
                stacks.push(profile.intern_stack(handle, stacks.last().copied(), frame));
            }
            previous = frames;
            let on_cpu = self.on_cpu(frames);
            for weight in weights(count) {
                let millis = elapsed as f64 * self.millis_per_unit;
                let sample = Sample {
                    stack: stacks.last().copied(),
                    time: Timestamp::from_millis_since_reference(millis),
                    weight,
                    on_cpu,
                };
                self.add_sample(profile, handle, sample);
                elapsed += weight as u128;
            }
        }
    }

    /// Adds the samples of the recorded `thread` to `handle` at their
    /// times; each distinct stack is interned once.
    fn add_timed_samples(
        &mut self,
        profile: &mut fx::Profile,
        handle: ThreadHandle,
        thread: &TimedThread<'_>,
    ) {
        self.handles.clear();
        let mut stacks: FxHashMap<u32, Option<StackHandle>> = FxHashMap::default();
        for sample in &thread.samples {
            let stack = match stacks.get(&sample.stack) {
                Some(&stack) => stack,
                None => {
                    let stack = self.stack(profile, handle, sample.frames);
                    *stacks.entry(sample.stack).or_insert(stack)
                }
            };
            let on_cpu = self.on_cpu(sample.frames);
            let time = Timestamp::from_nanos_since_reference(sample.since_start);
            for weight in weights(sample.weight) {
                let sample = Sample {
                    stack,
                    time,
                    weight,
                    on_cpu,
                };
                self.add_sample(profile, handle, sample);
            }
        }
    }

    /// The stack handle of `frames` (root first) in `thread`.
    fn stack(
        &mut self,
        profile: &mut fx::Profile,
        thread: ThreadHandle,
        frames: &[FrameId],
    ) -> Option<StackHandle> {
        let mut stack = None;
        for &id in frames {
            let frame = self.frame(profile, thread, id);
            stack = Some(profile.intern_stack(thread, stack, frame));
        }
        stack
    }

    /// Whether a stack of `frames` was on the CPU: it does not end in
    /// `[off-cpu]`.
    fn on_cpu(&self, frames: &[FrameId]) -> bool {
        self.off_cpu.is_none() || frames.last() != self.off_cpu.as_ref()
    }

    /// Adds `sample` to `thread`: its weight's worth of CPU time, in
    /// milliseconds, where it was on the CPU.
    fn add_sample(&self, profile: &mut fx::Profile, thread: ThreadHandle, sample: Sample) {
        let busy = match sample.on_cpu {
            true => f64::from(sample.weight) * self.millis_per_unit,
            false => 0.0,
        };
        profile.add_sample(
            thread,
            sample.time,
            sample.stack,
            CpuDelta::from_millis(busy),
            sample.weight,
        );
    }

    /// The handle of frame `id` in `thread`.
    fn frame(
        &mut self,
        profile: &mut fx::Profile,
        thread: ThreadHandle,
        id: FrameId,
    ) -> FrameHandle {
        if let Some(&handle) = self.handles.get(&id) {
            return handle;
        }
        let info = self.info(profile, id);
        let handle = profile.intern_frame(thread, info);
        self.handles.insert(id, handle);
        handle
    }

    /// The address or label, and the category, of frame `id`.
    fn info(&mut self, profile: &mut fx::Profile, id: FrameId) -> FrameInfo {
        if let Some(info) = &self.infos[id as usize] {
            return info.clone();
        }
        let name = self.folded.frames.name(id);
        let origin = self.folded.frames.origin(id);
        let cycle = self.cycles.get(&id).copied();
        let module = self.folded.frames.module_code(id);
        let frame = match self.libraries.frame(id) {
            Some(address) => address,
            None => fx::Frame::Label(profile.intern_string(name)),
        };
        let info = FrameInfo {
            frame,
            category_pair: (self.categories).of(profile, name, module, origin, cycle),
            flags: FrameFlags::empty(),
        };
        self.infos[id as usize] = Some(info.clone());
        info
    }
}

/// One sample as the Firefox Profiler gets it.
struct Sample {
    stack: Option<StackHandle>,
    /// When it was taken (or, without a timeline, the weight of the
    /// thread's samples before it as a time).
    time: Timestamp,
    weight: i32,
    /// Whether its stack was on the CPU (not ending in `[off-cpu]`).
    on_cpu: bool,
}

/// A count as sample weights, each at most `i32::MAX` (the format's
/// weights are 32-bit): one weight unless the count is larger.
fn weights(count: u64) -> impl Iterator<Item = i32> {
    let max = i32::MAX as u64;
    let whole = count / max;
    let rest = count % max;
    let rest = (rest > 0 || count == 0).then_some(rest as i32);
    std::iter::repeat_n(i32::MAX, whole as usize).chain(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineOptions, analyse};
    use crate::profile::ReadProfile;

    #[test]
    fn kernel_and_jit_frames_are_told_by_their_module_or_their_suffix() {
        let mut profile = fx::Profile::new(
            "p",
            SystemTime::now().into(),
            SamplingInterval::from_millis(1),
        );
        let mut categories = Categories::new(&mut profile);
        let (kernel, jit) = (categories.kernel, categories.jit);
        let mut of =
            |name, module| categories.of(&mut profile, name, module, Origin::Unknown, None);
        assert_eq!(of("do_syscall_64", Some(ModuleCode::Kernel)), kernel);
        assert_eq!(of("do_syscall_64_[k]", None), kernel);
        assert_eq!(of("parseExpr", Some(ModuleCode::Jit)), jit);
        assert_eq!(of("parseExpr_[j]", None), jit);
        assert_eq!(
            of("memcpy", Some(ModuleCode::File)),
            CategoryHandle::OTHER.into()
        );
    }

    /// The Firefox file of stacks `lines` recorded as `samples` on
    /// `threads` (see [`ReadProfile::recorded`]), parsed.
    fn recorded(
        lines: &[&str],
        samples: &[(u64, i32, i32, u32)],
        threads: &[(i32, i32, &str)],
    ) -> serde_json::Value {
        let read = ReadProfile::recorded(lines, samples, threads);
        let analysis = analyse(read, &EngineOptions::default());
        let mut out = Vec::new();
        write_firefox(&analysis, false, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_timeline_keeps_processes_threads_and_sample_times() {
        let lines = ["app;main;f;f;g", "worker;run;h"];
        // The worker's samples come out of order (as off-CPU waits do).
        let samples = [(0, 7, 7, 0), (30, 7, 8, 1), (10, 7, 8, 1), (20, 7, 7, 0)];
        let threads = [(7, 7, "app"), (7, 8, "worker")];
        let file = recorded(&lines, &samples, &threads);
        let threads = file["threads"].as_array().unwrap();
        let described: Vec<(&str, &str, &str, &str)> = (threads.iter())
            .map(|t| {
                let field = |name: &str| t[name].as_str().unwrap();
                (
                    field("name"),
                    field("pid"),
                    field("tid"),
                    field("processName"),
                )
            })
            .collect();
        assert_eq!(
            described,
            [("app", "7", "7", "app"), ("worker", "7", "8", "app")]
        );
        // Times since the first sample: app at 0 and 20 ms, the worker at
        // 10 and 30 ms, each thread's in ascending order.
        let deltas = |t: &serde_json::Value| -> Vec<f64> {
            let deltas = t["samples"]["timeDeltas"].as_array().unwrap();
            deltas.iter().map(|d| d.as_f64().unwrap()).collect()
        };
        assert_eq!(deltas(&threads[0]), [0.0, 20.0]);
        assert_eq!(deltas(&threads[1]), [10.0, 20.0]);
    }

    #[test]
    fn counts_past_32_bits_are_split_into_weights_that_add_up() {
        assert_eq!(weights(5).collect::<Vec<_>>(), [5]);
        assert_eq!(weights(0).collect::<Vec<_>>(), [0]);
        let big = 2 * i32::MAX as u64 + 7;
        let split: Vec<i32> = weights(big).collect();
        assert_eq!(split, [i32::MAX, i32::MAX, 7]);
        assert_eq!(weights(i32::MAX as u64).collect::<Vec<_>>(), [i32::MAX]);
    }

    #[test]
    fn a_cycle_is_a_function_of_the_recursion_cycle_category() {
        let lines = [
            "p;main;even;odd;even;odd;leaf",
            "p;main;even;odd;leaf",
            "q;main",
        ];
        let analysis = analyse(ReadProfile::of_lines(&lines), &EngineOptions::default());
        let mut out = Vec::new();
        write_firefox(&analysis, false, &mut out).unwrap();
        let file: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let categories = file["meta"]["categories"].as_array().unwrap();
        let cycle = categories
            .iter()
            .position(|c| c["name"] == CYCLE_CATEGORY)
            .expect("the cycle category");
        assert_eq!(
            categories[cycle]["subcategories"][1],
            "recursion cycle: even, odd"
        );
        let threads = file["threads"].as_array().unwrap();
        assert_eq!(threads.len(), 2);
        assert_eq!(threads[0]["name"], "p");
        let thread = &threads[0];
        let names = thread["stringArray"].as_array().unwrap();
        let cycle_frames = thread["frameTable"]["category"]
            .as_array()
            .unwrap()
            .iter()
            .zip(thread["frameTable"]["func"].as_array().unwrap())
            .filter(|(category, _)| **category == cycle)
            .map(|(_, func)| {
                let name = thread["funcTable"]["name"][func.as_u64().unwrap() as usize].as_u64();
                names[name.unwrap() as usize].as_str().unwrap()
            })
            .collect::<Vec<_>>();
        assert_eq!(cycle_frames.len(), 1);
        assert!(!names.iter().any(|n| n == "even" || n == "odd"));
    }
}
