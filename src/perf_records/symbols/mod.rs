//! The symbolize phase: every distinct raw frame (module, address) becomes
//! its function frames — several where functions were inlined — once, at
//! the end, module by module.

mod address_table;
mod debug_file;
mod dwarf;
mod elf_symbols;
mod growing_file;
pub(super) mod jit_code;
pub(super) mod jit_file;
mod jit_names;
pub(super) mod jitdump;
mod kallsyms;
mod perf_map;
mod plt;
mod symtab;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use rustc_hash::FxHashMap;

use super::modules::{Module, ModuleId, ModuleKind, Modules};
use super::raw_stacks::RawFrame;
use super::{Frame, FrameId, Options};
use crate::demangle::function_label;
use crate::profile::{FrameModule, ModuleCode, Origin, SourceLocation};

/// A function frame before it is interned: printed name (demangled),
/// identity (see [`Frame::identity`]), whose code it is and where it is
/// written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SymbolFrame {
    pub name: String,
    pub identity: Option<String>,
    pub origin: Origin,
    pub source: Option<SourceLocation>,
}

/// The frames of every raw frame.
#[derive(Debug, Default)]
pub struct Symbolized {
    /// Interned frames, indexed by [`FrameId`].
    pub frames: Vec<Frame>,
    frame_ids: FxHashMap<Frame, FrameId>,
    /// For each raw frame (by id), its frames outermost first.
    pub expansions: Vec<Box<[FrameId]>>,
}

impl Symbolized {
    /// The id of `frame`, interned on first use.
    pub fn intern(&mut self, frame: Frame) -> FrameId {
        if let Some(&id) = self.frame_ids.get(&frame) {
            return id;
        }
        let id = FrameId::try_from(self.frames.len()).expect("fewer than 2^32 frames");
        self.frames.push(frame.clone());
        self.frame_ids.insert(frame, id);
        id
    }
}

/// Symbolizes `raw_frames` (indexed by raw frame id), modules in parallel.
pub fn symbolize(modules: &Modules, raw_frames: &[RawFrame], options: &Options) -> Symbolized {
    let mut by_module: FxHashMap<ModuleId, Vec<usize>> = FxHashMap::default();
    for (index, frame) in raw_frames.iter().enumerate() {
        by_module.entry(frame.module).or_default().push(index);
    }
    let mut jobs: Vec<(ModuleId, Vec<usize>)> = by_module.into_iter().collect();
    // Largest files first, so that no big one starts last.
    jobs.sort_by_key(|(id, _)| {
        let size = modules
            .get(*id)
            .image()
            .map_or(0, |image| image.data().len());
        std::cmp::Reverse(size)
    });
    let results = parallel_map(&jobs, |(module_id, indices)| {
        let lookups: Vec<Lookup> = indices
            .iter()
            .map(|&i| Lookup {
                address: raw_frames[i].address,
                jit_code: raw_frames[i].jit_code,
                inline: options.inline && (raw_frames[i].unwound || !options.perf_compat),
            })
            .collect();
        module_frames(modules, *module_id, &lookups)
    });
    let mut expanded: Vec<Vec<SymbolFrame>> = vec![Vec::new(); raw_frames.len()];
    let mut module_of: Vec<Option<FrameModule>> = vec![None; raw_frames.len()];
    for ((module_id, indices), frames) in jobs.into_iter().zip(results) {
        let module = modules.get(module_id);
        let library = library_of(module);
        for (index, mut frames) in indices.into_iter().zip(frames) {
            module_of[index] = library.clone();
            if frames.is_empty() {
                frames.push(SymbolFrame {
                    name: module.pseudo_frame(),
                    identity: None,
                    origin: Origin::Unknown,
                    source: None,
                });
            } else if !matches!(module.kind, ModuleKind::Jit { .. }) {
                frames = frames.into_iter().filter_map(labelled).collect();
            }
            expanded[index] = frames;
        }
    }
    let mut symbolized = Symbolized::default();
    symbolized.expansions = expanded
        .into_iter()
        .zip(module_of)
        .map(|(frames, module)| {
            frames
                .into_iter()
                .map(|frame| {
                    symbolized.intern(Frame {
                        name: frame.name,
                        identity: frame.identity,
                        origin: frame.origin,
                        source: frame.source,
                        module: module.clone(),
                    })
                })
                .collect()
        })
        .collect();
    symbolized
}

/// The module `module`'s frames are in, as a library to name: its path
/// and what code it holds, for files, the kernel and JIT code; none for
/// addresses in no known mapping and for autofold's markers, which are no
/// code.
fn library_of(module: &Module) -> Option<FrameModule> {
    let code = match module.kind {
        ModuleKind::File(_) => ModuleCode::File,
        ModuleKind::Kernel => ModuleCode::Kernel,
        ModuleKind::Jit { .. } => ModuleCode::Jit,
        ModuleKind::Unknown | ModuleKind::Marker => return None,
    };
    Some(FrameModule {
        path: module.path.as_str().into(),
        code,
    })
}

/// A native function's frame with its name as `perf script` output
/// collapses to (see [`function_label`]); `None` for one it drops. JIT
/// names are made by [`jit_names`] and left alone.
fn labelled(frame: SymbolFrame) -> Option<SymbolFrame> {
    Some(SymbolFrame {
        name: function_label(&frame.name)?,
        ..frame
    })
}

/// `f` of each job, on as many threads as there are cores; results in the
/// order of `jobs`.
fn parallel_map<J: Sync, R: Send>(jobs: &[J], f: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, AtomicOrdering::Relaxed);
                        let Some(job) = jobs.get(index) else {
                            return done;
                        };
                        done.push((index, f(job)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a symbolizing thread panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// An address to symbolize, and whether to expand its inline frames.
#[derive(Debug, Clone, Copy)]
pub struct Lookup {
    pub address: u64,
    /// For JIT code, the code that was there when the sample was taken.
    pub jit_code: Option<u32>,
    pub inline: bool,
}

/// The frames at each lookup of one module, outermost first (empty where
/// nothing names the address).
fn module_frames(modules: &Modules, id: ModuleId, lookups: &[Lookup]) -> Vec<Vec<SymbolFrame>> {
    let module = modules.get(id);
    let table = match &module.kind {
        ModuleKind::File(Some(image)) => {
            return elf_symbols::symbolize(image, module, lookups);
        }
        ModuleKind::Kernel => {
            let cached = module
                .build_id
                .as_deref()
                .and_then(|build_id| modules.cache_path(build_id, "kallsyms"))
                .and_then(|path| kallsyms::load(&path));
            cached.or_else(|| kallsyms::load(Path::new("/proc/kallsyms")))
        }
        ModuleKind::Jit { pid, .. } => {
            return jit_frames(modules.jit_code(*pid), lookups);
        }
        ModuleKind::File(None) | ModuleKind::Unknown | ModuleKind::Marker => None,
    };
    let table = table.unwrap_or_default();
    lookups
        .iter()
        .map(|lookup| {
            table
                .lookup(lookup.address)
                .map(kernel_frame)
                .into_iter()
                .collect()
        })
        .collect()
}

/// The frames of JIT code: each named after the code that was at its
/// address when its sample was taken, else after the last code listed
/// there (code listed after the sample, such as a JVM's map at exit).
fn jit_frames(code: Option<&jit_code::JitCode>, lookups: &[Lookup]) -> Vec<Vec<SymbolFrame>> {
    lookups
        .iter()
        .map(|lookup| {
            let name = code.and_then(|code| match lookup.jit_code {
                Some(entry) => code.name(entry),
                None => code.last_name_at(lookup.address),
            });
            name.map(jit_names::jit_frame).into_iter().collect()
        })
        .collect()
}

/// A kernel function's frame: its name is its identity.
fn kernel_frame(name: &str) -> SymbolFrame {
    SymbolFrame {
        name: name.to_owned(),
        identity: None,
        origin: Origin::Other,
        source: None,
    }
}
