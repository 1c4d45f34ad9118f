//! The read phase: records in time order turned into process state and raw
//! stacks, one at a time ([`Reader`]), whether they come from a perf.data
//! file ([`read`]) or from the kernel as autofold's sampler reads them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use indicatif::ProgressBar;
use linux_perf_data::linux_perf_event_reader::{
    ClockId, ContextSwitchRecord, CpuMode, EventRecord, Mmap2FileId, PerfClock, RawEventRecord,
    RecordType, SampleRecord, TaskWasPreempted,
};
use linux_perf_data::{PerfFileReader, PerfFileRecord};
use memmap2::Mmap;

use super::callchain::{self, Context};
use super::modules::Modules;
use super::off_cpu::{OffCpu, OffCpuStats, Stretch};
use super::processes::{MapEvent, Process, Processes};
use super::raw_stacks::{RawFrame, RawStackId, RawStacks, lookup_address};
use super::sample_log::SampleLog;
use super::unwind::{UnwindCache, UnwindEnd, UserFrame, unwind_user};
use super::{Options, Stats};
use super::{cut_short, header_check};
use crate::console::note;

/// The bytes of a record's header (`perf_event_header`).
const RECORD_HEADER: u64 = 8;

/// `PROT_EXEC` in an MMAP2 record's protection.
const PROT_EXEC: u32 = 4;

/// What the read phase found.
pub struct Recording {
    pub modules: Modules,
    pub raw: RawStacks,
    pub stats: Stats,
    /// Off-CPU accounting, for a recording made with `--off-cpu`: the raw
    /// stacks then weigh nanoseconds.
    pub off_cpu: Option<OffCpuStats>,
    /// Every sample in the order read, where a timeline was asked for.
    pub samples: Option<SampleLog>,
}

/// Reads every record of the perf.data file at `path` (called `name` in
/// messages; errors do not name it, their callers do); `progress` advances
/// by each record's bytes.
pub fn read(
    path: &Path,
    name: &str,
    options: &Options,
    progress: &ProgressBar,
) -> Result<Recording> {
    let file = File::open(path).context("cannot open")?;
    // SAFETY: read-only mapping of a file perf has finished writing.
    let data = unsafe { Mmap::map(&file) }.context("cannot map")?;
    let unreadable = || "not a readable perf.data file".to_string();
    let parsed = match header_check::check(&data) {
        Ok(()) => PerfFileReader::parse_file(Cursor::new(Cow::Borrowed(&data[..])))
            .map_err(anyhow::Error::from),
        Err(problem) => Err(anyhow!(problem)),
    };
    let PerfFileReader {
        mut perf_file,
        mut record_iter,
    } = match parsed {
        Ok(reader) => reader,
        Err(error) => {
            let Some(repaired) =
                cut_short::repair(&data).filter(|file| header_check::check(file).is_ok())
            else {
                return Err(error.context(unreadable()));
            };
            note(format!(
                "{name}: header and file disagree (perf did not finish writing it?); reading the records it has"
            ));
            PerfFileReader::parse_file(Cursor::new(Cow::Owned(repaired)))
                .with_context(unreadable)?
        }
    };
    let build_ids: HashMap<String, Vec<u8>> = perf_file
        .build_ids()
        .unwrap_or_default()
        .into_values()
        .map(|info| {
            (
                String::from_utf8_lossy(&info.path).into_owned(),
                info.build_id,
            )
        })
        .collect();
    let mut modules = Modules::new(build_ids);
    modules.set_monotonic_samples(monotonic_samples(perf_file.event_attributes()));
    let mut reader = Reader::new(modules, options);
    loop {
        match record_iter.next_record(&mut perf_file) {
            Ok(Some(PerfFileRecord::EventRecord { attr_index, record })) => {
                progress.inc(RECORD_HEADER + record.data.len() as u64);
                reader.record(attr_index, &record);
            }
            Ok(Some(PerfFileRecord::UserRecord(_))) => {}
            Ok(None) => break,
            Err(error) => {
                note(format!("{name}: {error}; using the records before it"));
                break;
            }
        }
    }
    Ok(reader.finish())
}

/// The state of the read phase: what the records so far said about
/// processes and modules, and the raw stacks of the samples so far. Fed one
/// record at a time, in time order.
pub struct Reader {
    modules: Modules,
    processes: Processes,
    raw: RawStacks,
    stats: Stats,
    cache: Box<UnwindCache>,
    /// The event whose samples are kept: the first one sampled.
    main_attr: Option<usize>,
    user_frames: Vec<UserFrame>,
    /// Look recorded return addresses up as they are (`perf script` 6.1).
    raw_return_addresses: bool,
    /// Forget a process (its mappings, its unwinder) once its last thread
    /// has exited, so that a long recording of many short processes does
    /// not keep them all. Only where records are strictly in time order (as
    /// the sampler delivers them): a perf.data file keeps every process.
    forget_exited: bool,
    /// Off-CPU accounting (`--off-cpu`): samples of event kind
    /// [`SWITCH_EVENT`] are stacks leaving the CPU.
    off_cpu: Option<OffCpu>,
    /// Every sample, where a timeline was asked for.
    samples: Option<SampleLog>,
}

/// The event kind (index) whose samples are taken as a thread leaves the
/// CPU, in a recording made with `--off-cpu` (the sampler's
/// `context-switches` event).
pub const SWITCH_EVENT: usize = 1;

impl Reader {
    /// A reader of records whose modules are looked up in `modules`.
    pub fn new(mut modules: Modules, options: &Options) -> Self {
        let mut raw = RawStacks::default();
        let off_cpu = options.off_cpu.map(|off_cpu| {
            let marker = RawFrame {
                module: modules.marker("off-cpu"),
                address: 0,
                unwound: false,
                jit_code: None,
            };
            OffCpu::new(off_cpu, raw.intern(marker))
        });
        Self {
            modules,
            processes: Processes::default(),
            raw,
            stats: Stats::default(),
            cache: Box::new(UnwindCache::new()),
            main_attr: None,
            user_frames: Vec::new(),
            raw_return_addresses: options.perf_compat,
            forget_exited: false,
            off_cpu,
            samples: options.timeline.then(SampleLog::default),
        }
    }

    /// This reader, forgetting each process once its last thread exited.
    pub fn forgetting_exited(self) -> Self {
        Self {
            forget_exited: true,
            ..self
        }
    }

    /// What the records so far held besides stacks.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The modules, processes' state dropped, and the raw stacks (with the
    /// off-CPU stretches still open closed at the last record).
    pub fn finish(mut self) -> Recording {
        self.modules.finish_jit_code();
        let mut off_cpu = self.off_cpu.take();
        if let Some(off_cpu) = &mut off_cpu {
            for stretch in off_cpu.finish() {
                self.add_stretch(stretch);
            }
        }
        Recording {
            modules: self.modules,
            raw: self.raw,
            stats: self.stats,
            off_cpu: off_cpu.map(|off_cpu| *off_cpu.stats()),
            samples: self.samples,
        }
    }

    /// Adds an off-CPU stretch to the stacks, under its thread's name (and
    /// to the samples at the time it began).
    fn add_stretch(&mut self, stretch: Stretch) {
        let comm = self.raw.comm(&self.processes.comm(stretch.tid));
        let stack = self.raw.add(comm, &stretch.frames, stretch.ns);
        let pid = (self.samples.as_ref())
            .and_then(|log| log.pid_of(stretch.tid))
            .unwrap_or(stretch.tid);
        self.log_sample(Some(stretch.since), pid, stretch.tid, stretch.ns, stack);
    }

    /// Logs a sample of raw stack `stack` weighing `weight` on thread `tid`
    /// of `pid` at `time`, where a timeline was asked for.
    fn log_sample(
        &mut self,
        time: Option<u64>,
        pid: i32,
        tid: i32,
        weight: u64,
        stack: RawStackId,
    ) {
        if let Some(log) = &mut self.samples {
            log.note_thread(pid, tid, |tid| self.processes.comm(tid));
            log.sample(time, pid, tid, weight, stack);
        }
    }

    /// A SWITCH record (a followed thread left or came back to a CPU), for
    /// off-CPU accounting.
    fn context_switch(&mut self, record: &RawEventRecord<'_>) {
        let Some(off_cpu) = &mut self.off_cpu else {
            return;
        };
        let Ok(common) = record.common_data() else {
            self.stats.bad_records += 1;
            return;
        };
        let (Some(tid), Some(time)) = (common.tid, common.timestamp) else {
            return;
        };
        let stretch = match ContextSwitchRecord::from_misc(record.misc) {
            ContextSwitchRecord::Out { preempted, .. } => {
                off_cpu.switched_out(tid, time, preempted == TaskWasPreempted::Yes);
                None
            }
            ContextSwitchRecord::In { .. } => off_cpu.comes_back(tid, time),
        };
        if let Some(stretch) = stretch {
            self.add_stretch(stretch);
        }
    }

    /// Handles one kernel record of the event with index `attr_index`.
    pub fn record(&mut self, attr_index: usize, record: &RawEventRecord<'_>) {
        if record.record_type == RecordType::LOST_SAMPLES {
            self.stats.lost_samples += lost_samples(record);
            return;
        }
        if record.record_type == RecordType::SWITCH {
            self.context_switch(record);
            return;
        }
        match record.parse() {
            Ok(parsed) => self.event(attr_index, parsed),
            Err(_) => self.stats.bad_records += 1,
        }
    }

    /// Handles one parsed record of the event with index `attr_index`: one
    /// the kernel wrote, or one made to describe what was there before
    /// recording began (a process's threads and mappings).
    pub fn event(&mut self, attr_index: usize, parsed: EventRecord<'_>) {
        match parsed {
            EventRecord::Sample(sample) => {
                if self.off_cpu.is_some() && attr_index == SWITCH_EVENT {
                    self.sample(&sample, Weigh::Leaving);
                    return;
                }
                let main = *self.main_attr.get_or_insert(attr_index);
                if main == attr_index {
                    let weigh = match self.off_cpu {
                        Some(_) => Weigh::Period,
                        None => Weigh::One,
                    };
                    self.sample(&sample, weigh);
                } else {
                    self.stats.other_event_samples += 1;
                }
            }
            EventRecord::Comm(comm) => {
                let name = String::from_utf8_lossy(&comm.name.as_slice()).into_owned();
                self.processes
                    .set_comm(comm.pid, comm.tid, &name, comm.is_execve);
                if let Some(log) = &mut self.samples {
                    log.rename(comm.tid, &name);
                }
            }
            EventRecord::Fork(fork) => {
                self.processes
                    .fork(fork.pid, fork.ppid, fork.tid, fork.ptid);
            }
            EventRecord::Mmap(mmap) if mmap.is_executable && mmap.pid != -1 => {
                let path = String::from_utf8_lossy(&mmap.path.as_slice()).into_owned();
                self.map(MapEvent {
                    pid: mmap.pid,
                    start: mmap.address,
                    len: mmap.length,
                    file_offset: mmap.page_offset,
                    path: &path,
                    build_id: None,
                });
            }
            EventRecord::Mmap2(mmap) if mmap.protection & PROT_EXEC != 0 && mmap.pid != -1 => {
                let path = String::from_utf8_lossy(&mmap.path.as_slice()).into_owned();
                let build_id = match &mmap.file_id {
                    Mmap2FileId::BuildId(id) => Some(id.as_slice()),
                    Mmap2FileId::InodeAndVersion(_) => None,
                };
                self.map(MapEvent {
                    pid: mmap.pid,
                    start: mmap.address,
                    len: mmap.length,
                    file_offset: mmap.page_offset,
                    path: &path,
                    build_id,
                });
            }
            EventRecord::Lost(lost) => {
                self.stats.lost_records += 1;
                self.stats.lost_events += lost.count;
            }
            EventRecord::Exit(exit) => {
                if let Some(off_cpu) = &mut self.off_cpu {
                    off_cpu.exited(exit.tid);
                }
                if self.forget_exited {
                    self.processes.exit(exit.pid, exit.tid);
                }
            }
            _ => {}
        }
    }

    fn map(&mut self, event: MapEvent<'_>) {
        self.processes.map(&mut self.modules, event);
    }

    /// Turns one sample into a raw stack: kernel frames from the call
    /// chain, then user frames unwound from the stack copy when there is
    /// one, else from the call chain; weighed as `weigh` says.
    fn sample(&mut self, sample: &SampleRecord<'_>, weigh: Weigh) {
        if weigh != Weigh::Leaving {
            self.stats.samples += 1;
        }
        let pid = sample.pid.unwrap_or(-1);
        let tid = sample.tid.unwrap_or(pid);
        let time = sample.timestamp;
        for (code, unwinding) in self.modules.jit_unwinding(pid, time) {
            self.processes.add_jit_unwinding(pid, code, &unwinding);
        }
        let process = self.processes.process(pid);
        let user_stack = match (&sample.user_regs, sample.user_stack) {
            (Some(regs), Some((stack, size))) if size > 0 => {
                let size = usize::try_from(size).unwrap_or(usize::MAX).min(stack.len());
                stack.get(0..size).map(|stack| (regs, stack))
            }
            _ => None,
        };
        let initial = match sample.cpu_mode {
            CpuMode::Kernel => Context::Kernel,
            CpuMode::User => Context::User,
            _ => Context::Other,
        };
        let mut pushed = false;
        if let Some(chain) = sample.callchain {
            let frames = callchain::frames(chain, initial)
                .filter(|frame| frame.context != Context::User || user_stack.is_none());
            for frame in frames {
                let as_is = frame.is_ip || self.raw_return_addresses;
                let raw = recorded_frame(
                    &mut self.modules,
                    process,
                    frame.context,
                    frame.address,
                    as_is,
                );
                self.raw.push_frame(at_time(&mut self.modules, raw, time));
                pushed = true;
            }
        }
        if let Some((regs, stack)) = user_stack {
            self.user_frames.clear();
            let trampolines = process.trampolines;
            let mappings = &process.mappings;
            let mut jit_step =
                |address, regs: &mut _, read: &mut dyn FnMut(u64) -> Result<u64, ()>| {
                    trampolines.and_then(|t| t.step(mappings, address, regs, read))
                };
            let end = unwind_user(
                &process.unwinder,
                &mut self.cache,
                regs,
                stack,
                &mut jit_step,
                &mut self.user_frames,
            );
            for &frame in &self.user_frames {
                let raw = match frame {
                    UserFrame::Ip(address) => process.frame(address, true),
                    UserFrame::Return(address) => process.frame(address, false),
                };
                let raw = at_time(&mut self.modules, raw.unwound(), time);
                self.raw.push_frame(raw);
                pushed = true;
            }
            // perf marks a stack cut at the end of the copy with an
            // `[unknown]` caller; so do we.
            if end == UnwindEnd::Truncated {
                self.raw.push_frame(RawFrame::UNKNOWN);
            }
        }
        if !pushed && let Some(ip) = sample.ip {
            let raw = recorded_frame(&mut self.modules, process, initial, ip, true);
            self.raw.push_frame(at_time(&mut self.modules, raw, time));
        }
        match (weigh, &mut self.off_cpu, sample.timestamp) {
            (Weigh::Leaving, Some(off_cpu), Some(time)) => {
                off_cpu.leaves(tid, time, self.raw.take_stack());
                if let Some(log) = &mut self.samples {
                    log.note_thread(pid, tid, |tid| self.processes.comm(tid));
                }
            }
            (Weigh::Leaving, _, _) => drop(self.raw.take_stack()),
            (weigh, _, _) => {
                let weight = match weigh {
                    Weigh::Period => sample.period.unwrap_or(0),
                    _ => 1,
                };
                let comm = self.raw.comm(&self.processes.comm(tid));
                let stack = self.raw.finish_weighted(comm, weight);
                self.log_sample(time, pid, tid, weight, stack);
            }
        }
    }
}

/// What a sample weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weigh {
    /// One sample.
    One,
    /// Its period: the nanoseconds of CPU time it stands for (`--off-cpu`).
    Period,
    /// Nothing yet: the stack of a thread leaving the CPU, weighed by how
    /// long it stays off.
    Leaving,
}

/// The raw frame of an address the kernel recorded (call chain or sample
/// ip) in `context`; `as_is`: look it up as it is, not one byte back.
fn recorded_frame(
    modules: &mut Modules,
    process: &Process,
    context: Context,
    address: u64,
    as_is: bool,
) -> RawFrame {
    match context {
        Context::Kernel => RawFrame {
            module: modules.kernel(),
            address: lookup_address(address, as_is),
            unwound: false,
            jit_code: None,
        },
        Context::User => process.frame(address, as_is),
        Context::Other => RawFrame::UNKNOWN,
    }
}

/// `raw` naming the JIT code that was at its address at `time`, where it
/// is JIT code.
fn at_time(modules: &mut Modules, raw: RawFrame, time: Option<u64>) -> RawFrame {
    let code = modules.jit_code_at(raw.module, raw.address, time);
    raw.with_jit_code(code)
}

/// Whether a perf.data file's samples are stamped with `CLOCK_MONOTONIC`
/// (`perf record -k mono`), the clock of jitdumps' times.
fn monotonic_samples(attributes: &[linux_perf_data::AttributeDescription]) -> bool {
    attributes.first().is_some_and(|described| {
        matches!(described.attr.clock, PerfClock::ClockId(ClockId::Monotonic))
    })
}

/// The count of a LOST_SAMPLES record (its first field, in the file's
/// byte order: little-endian on every machine perf.data comes from here).
fn lost_samples(record: &RawEventRecord<'_>) -> u64 {
    let body = record.data.as_slice();
    body.get(..8)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
