//! Processes and threads as the COMM, FORK, EXIT and MMAP records describe
//! them: each thread's name (what `perf script` prints as `comm`), each
//! process's mappings and the unwinder that knows its modules.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use rustc_hash::FxHashMap;

use super::mappings::{Mapping, Mappings};
use super::modules::{ModuleId, ModuleKind, Modules};
use super::raw_stacks::{RawFrame, lookup_address};
use super::symbols::jitdump::UnwindInfo;
use super::trampolines::{Trampolines, has_known_trampolines};
use super::unwind::{ProcessUnwinder, jit_unwind_module, unwind_module};
use framehop::Unwinder as _;

/// One process: its address space.
#[derive(Clone, Default)]
pub struct Process {
    pub mappings: Mappings,
    pub unwinder: ProcessUnwinder,
    /// Set once the process maps a CPython interpreter whose perf
    /// trampolines autofold can step over.
    pub trampolines: Option<Trampolines>,
}

impl Process {
    /// The raw frame for user address `avma`; `is_ip` tells a return
    /// address (looked up one byte back, inside its call) from where the
    /// thread was.
    pub fn frame(&self, avma: u64, is_ip: bool) -> RawFrame {
        let lookup = lookup_address(avma, is_ip);
        match self.mappings.find(lookup) {
            Some(mapping) => RawFrame {
                module: mapping.module,
                address: mapping.module_address(lookup),
                unwound: false,
                jit_code: None,
            },
            None => RawFrame::UNKNOWN,
        }
    }
}

/// A new mapping, as an MMAP or MMAP2 record gives it.
#[derive(Debug, Clone, Copy)]
pub struct MapEvent<'a> {
    pub pid: i32,
    pub start: u64,
    pub len: u64,
    pub file_offset: u64,
    pub path: &'a str,
    pub build_id: Option<&'a [u8]>,
}

/// Threads (by tid) and processes (by pid).
#[derive(Default)]
pub struct Processes {
    /// tid → (pid, name).
    threads: FxHashMap<i32, (i32, String)>,
    /// pid → how many of `threads` belong to it.
    thread_counts: FxHashMap<i32, usize>,
    processes: FxHashMap<i32, Process>,
    empty: Process,
}

impl Processes {
    /// The name of thread `tid`, as perf prints it: its last COMM, else
    /// `:tid`.
    pub fn comm(&self, tid: i32) -> Cow<'_, str> {
        match self.threads.get(&tid) {
            Some((_, comm)) => Cow::Borrowed(comm),
            None => Cow::Owned(format!(":{tid}")),
        }
    }

    /// Process `pid` (an empty one if nothing was recorded about it).
    pub fn process(&self, pid: i32) -> &Process {
        self.processes.get(&pid).unwrap_or(&self.empty)
    }

    /// A COMM record: thread `tid` is now called `name`; after an `exec`
    /// its process's address space starts empty.
    pub fn set_comm(&mut self, pid: i32, tid: i32, name: &str, exec: bool) {
        self.add_thread(tid, pid, name.to_owned());
        if exec {
            self.processes.insert(pid, Process::default());
        }
    }

    /// A FORK record: a new thread `tid` of process `pid`, created by
    /// `ptid` of `ppid`. A new process starts with a copy of its parent's
    /// address space; a new thread shares its process's.
    pub fn fork(&mut self, pid: i32, ppid: i32, tid: i32, ptid: i32) {
        let comm = self.threads.get(&ptid).map(|(_, comm)| comm.clone());
        let comm = comm.unwrap_or_else(|| format!(":{tid}"));
        self.add_thread(tid, pid, comm);
        if pid != ppid {
            let parent = self.processes.get(&ppid).cloned().unwrap_or_default();
            self.processes.insert(pid, parent);
        }
    }

    /// An EXIT record: thread `tid` of process `pid` is gone; so is the
    /// process once it has no thread left.
    pub fn exit(&mut self, pid: i32, tid: i32) {
        let Some((owner, _)) = self.threads.remove(&tid) else {
            return;
        };
        self.count_thread(owner, false);
        if !self.thread_counts.contains_key(&pid) {
            self.processes.remove(&pid);
        }
    }

    /// Notes thread `tid` of process `pid`, called `name`.
    fn add_thread(&mut self, tid: i32, pid: i32, name: String) {
        if let Some((owner, _)) = self.threads.insert(tid, (pid, name)) {
            self.count_thread(owner, false);
        }
        self.count_thread(pid, true);
    }

    /// One more (`added`) or one fewer thread of process `pid`.
    fn count_thread(&mut self, pid: i32, added: bool) {
        let count = self.thread_counts.entry(pid).or_default();
        if added {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.thread_counts.remove(&pid);
            }
        }
    }

    /// JIT code at `code` in process `pid` that its runtime gave unwinding
    /// information for: unwound by it from now on, not by frame pointers.
    pub fn add_jit_unwinding(&mut self, pid: i32, code: Range<u64>, unwinding: &UnwindInfo) {
        let process = self.processes.entry(pid).or_default();
        process.unwinder.remove_module(code.start);
        process
            .unwinder
            .add_module(jit_unwind_module(code, unwinding));
    }

    /// An MMAP or MMAP2 record of executable memory.
    pub fn map(&mut self, modules: &mut Modules, event: MapEvent<'_>) {
        if is_jitdump(event.path) {
            modules.add_jitdump(event.pid, Path::new(event.path));
            return;
        }
        let end = event.start.saturating_add(event.len);
        let module = module_of(modules, event);
        let image = modules.get(module).image().cloned();
        // JIT addresses are their own; a file without an image is guessed
        // to be mapped at its file offsets.
        let bias = match (&modules.get(module).kind, &image) {
            (ModuleKind::Jit { .. }, _) => Some(0),
            (_, Some(image)) => image.bias(event.file_offset, event.start),
            (_, None) => None,
        };
        let bias = bias.unwrap_or(event.start.wrapping_sub(event.file_offset));
        let trampolines = image
            .as_deref()
            .is_some_and(has_known_trampolines)
            .then(|| Trampolines {
                jit_module: modules.jit(event.pid),
            });
        let process = self.processes.entry(event.pid).or_default();
        process.trampolines = process.trampolines.or(trampolines);
        for start in process.mappings.insert(Mapping {
            start: event.start,
            end,
            module,
            bias,
        }) {
            process.unwinder.remove_module(start);
        }
        if let Some(unwind) = image.and_then(|image| unwind_module(&image, event.start..end, bias))
        {
            process.unwinder.add_module(unwind);
        }
    }
}

/// Whether `path` is a jitdump file (`…/jit-PID.dump`): not code, a marker
/// a JIT runtime maps so that the recording tells where its dump is.
fn is_jitdump(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("jit-") && name.ends_with(".dump")
}

/// Paths perf gives anonymous memory: JIT code lives there.
fn is_anonymous(path: &str) -> bool {
    path.is_empty()
        || path == "//anon"
        || path == "/dev/zero"
        || path.starts_with("/anon_hugepage")
        || path.starts_with("[anon:")
        || path.starts_with("/memfd:")
}

/// The module a mapping event maps.
fn module_of(modules: &mut Modules, event: MapEvent<'_>) -> ModuleId {
    if is_anonymous(event.path) {
        modules.jit(event.pid)
    } else {
        modules.file(event.path, event.build_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_mapping(processes: &mut Processes, pid: i32) {
        let mut modules = Modules::new(Default::default());
        processes.map(
            &mut modules,
            MapEvent {
                pid,
                start: 0x1000,
                len: 0x1000,
                file_offset: 0,
                path: "//anon",
                build_id: None,
            },
        );
    }

    #[test]
    fn a_process_is_forgotten_when_its_last_thread_exits() {
        let mut processes = Processes::default();
        processes.set_comm(10, 10, "main", true);
        processes.fork(10, 10, 11, 10);
        with_mapping(&mut processes, 10);
        processes.exit(10, 10);
        assert!(
            processes.process(10).mappings.find(0x1800).is_some(),
            "thread 11 still runs"
        );
        assert_eq!(processes.comm(11), "main");
        processes.exit(10, 11);
        assert!(processes.process(10).mappings.find(0x1800).is_none());
        assert_eq!(processes.comm(11), ":11");
    }

    #[test]
    fn a_thread_renamed_is_counted_once() {
        let mut processes = Processes::default();
        processes.set_comm(20, 20, "a", true);
        processes.set_comm(20, 20, "b", false);
        with_mapping(&mut processes, 20);
        processes.exit(20, 20);
        assert!(processes.process(20).mappings.find(0x1800).is_none());
    }
}

#[cfg(test)]
mod jit_unwinding_tests {
    use super::super::symbols::jitdump::{self, JitRecord};
    use super::super::unwind::UnwindCache;
    use super::*;
    use framehop::FrameAddress;
    use framehop::x86_64::UnwindRegsX86_64;

    /// The first trampoline of the jitdump CPython 3.13 wrote for
    /// `fixtures/python/perf_jit.py`, and its unwinding information.
    fn first_trampoline() -> (Range<u64>, jitdump::UnwindInfo) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/python/perf_jit.dump");
        let dump = std::fs::read(path).unwrap();
        let header = jitdump::header(&dump).unwrap().unwrap();
        let (records, ..) = jitdump::records(&dump[header.size..]);
        match &records[..2] {
            [
                JitRecord::Unwinding(info),
                JitRecord::Load { start, size, .. },
            ] => (*start..start + size, info.clone()),
            other => panic!("{other:?}"),
        }
    }

    /// The caller found by unwinding from `pc` with the stack pointer at
    /// 0x10000, the return address 0x4444 one word above it (the
    /// trampoline pushed one word) and no frame pointer.
    fn caller(processes: &Processes, pid: i32, pc: u64) -> Option<u64> {
        let sp = 0x10000u64;
        let stack = [0x1111u64, 0x4444, 0, 0];
        let mut read = |address: u64| -> Result<u64, ()> {
            let index = usize::try_from(address.checked_sub(sp).ok_or(())? / 8).map_err(|_| ())?;
            stack.get(index).copied().ok_or(())
        };
        let mut cache = UnwindCache::new();
        let unwinder = &processes.process(pid).unwinder;
        let regs = UnwindRegsX86_64::new(pc, sp, 0);
        let mut frames = unwinder.iter_frames(pc, regs, &mut cache, &mut read);
        assert_eq!(
            frames.next(),
            Ok(Some(FrameAddress::InstructionPointer(pc)))
        );
        match frames.next() {
            Ok(Some(FrameAddress::ReturnAddress(address))) => Some(address.get()),
            _ => None,
        }
    }

    #[test]
    fn jit_code_with_the_runtimes_cfi_is_unwound_by_it() {
        let (code, info) = first_trampoline();
        assert_eq!(code.end - code.start, 11, "CPython 3.13's trampoline");
        let mut processes = Processes::default();
        // Inside the trampoline, after it pushed a word: frame pointers
        // (none here) cannot find its caller, its CFI can.
        let pc = code.start + 5;
        assert_eq!(caller(&processes, 7, pc), None);
        processes.add_jit_unwinding(7, code, &info);
        assert_eq!(caller(&processes, 7, pc), Some(0x4444));
    }
}
