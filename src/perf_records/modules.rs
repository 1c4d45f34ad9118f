//! The modules code was mapped from: ELF files, the kernel, the vdso, JIT
//! code. Each is opened once, whatever number of processes map it.
//!
//! A module's file is looked for where perf looks: the path the recording
//! names, then perf's build-id cache (`~/.debug/.build-id/xx/…/elf`), which
//! also holds the vdso and kallsyms as they were when perf recorded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::elf_files::ElfImage;
use super::symbols::jit_code::{JitCode, Reading};
use super::symbols::jit_file::process_uid;

/// Index of a module in [`Modules`].
pub type ModuleId = u32;

/// What a module is, for unwinding and naming its frames.
#[derive(Debug)]
pub enum ModuleKind {
    /// Addresses in no known mapping.
    Unknown,
    /// The kernel image and its modules; symbols from kallsyms.
    Kernel,
    /// An ELF file (executable, shared library); `None` if it could not be
    /// found or read.
    File(Option<Arc<ElfImage>>),
    /// JIT code (anonymous executable memory) of process `pid`, named by
    /// `/tmp/perf-PID.map` (then the module's path) and by the jitdump
    /// files the process mapped: see [`Modules::jit_code`].
    Jit {
        /// The process.
        pid: i32,
    },
    /// No code: a frame autofold adds, named by the module's path in
    /// brackets (`[off-cpu]`).
    Marker,
}

/// A module: its name as recorded, its build id, and what it is.
#[derive(Debug)]
pub struct Module {
    /// The path (or pseudo-path such as `[vdso]`) the recording names.
    pub path: String,
    pub build_id: Option<Vec<u8>>,
    pub kind: ModuleKind,
}

impl Module {
    /// The pseudo-frame perf's output gives a frame of this module that has
    /// no symbol: `[libfoo.so]`, `[unknown]`.
    pub fn pseudo_frame(&self) -> String {
        match self.kind {
            ModuleKind::Unknown => "[unknown]".to_owned(),
            _ => {
                let base = self.path.rsplit('/').next().unwrap_or(&self.path);
                format!("[{base}]")
            }
        }
    }

    /// The ELF image behind this module, if it has one.
    pub fn image(&self) -> Option<&Arc<ElfImage>> {
        match &self.kind {
            ModuleKind::File(image) => image.as_ref(),
            _ => None,
        }
    }
}

/// The id of the module for addresses in no mapping.
pub const UNKNOWN_MODULE: ModuleId = 0;

/// Every module of a recording.
#[derive(Debug)]
pub struct Modules {
    list: Vec<Module>,
    by_path: HashMap<(String, Option<Vec<u8>>), ModuleId>,
    jit_modules: HashMap<i32, ModuleId>,
    /// The JIT code of each process that has some, by pid.
    jit_code: HashMap<i32, JitCode>,
    /// How JIT files are read: live, or after a recording.
    jit_reading: Reading,
    /// Build ids perf wrote in the header, by path.
    header_build_ids: HashMap<String, Vec<u8>>,
    /// perf's build-id cache, `~/.debug`.
    cache_dir: Option<PathBuf>,
    /// The vdso of this machine's running kernel, for a recording made here
    /// and now: the kernel names the vdso's mapping but gives no file.
    own_vdso: Option<Arc<ElfImage>>,
}

impl Modules {
    /// A table holding only the unknown module; `header_build_ids` are the
    /// build ids (by path) from the recording's header.
    pub fn new(header_build_ids: HashMap<String, Vec<u8>>) -> Self {
        let unknown = Module {
            path: "[unknown]".to_owned(),
            build_id: None,
            kind: ModuleKind::Unknown,
        };
        Self {
            list: vec![unknown],
            by_path: HashMap::new(),
            jit_modules: HashMap::new(),
            jit_code: HashMap::new(),
            jit_reading: Reading::Recorded { monotonic: false },
            header_build_ids,
            cache_dir: std::env::var_os("HOME").map(|home| Path::new(&home).join(".debug")),
            own_vdso: None,
        }
    }

    /// The modules of a recording being made on this machine: no header
    /// build ids; the vdso is the running kernel's, read from autofold's own
    /// address space.
    pub fn live() -> Self {
        Self {
            own_vdso: super::vdso::this_kernels(),
            jit_reading: Reading::Live,
            ..Self::new(HashMap::new())
        }
    }

    /// Says that the recording's samples are stamped with
    /// `CLOCK_MONOTONIC` (`perf record -k mono`), the clock of jitdumps'
    /// times: then they are compared.
    pub fn set_monotonic_samples(&mut self, monotonic: bool) {
        if let Reading::Recorded { .. } = self.jit_reading {
            self.jit_reading = Reading::Recorded { monotonic };
        }
    }

    /// The module with id `id`.
    pub fn get(&self, id: ModuleId) -> &Module {
        &self.list[id as usize]
    }

    /// The module mapped from `path` (`build_id` as the MMAP2 record gave
    /// it, else from the header), opened on first use.
    pub fn file(&mut self, path: &str, build_id: Option<&[u8]>) -> ModuleId {
        let build_id = build_id
            .filter(|id| !id.is_empty())
            .map(<[u8]>::to_vec)
            .or_else(|| self.header_build_ids.get(path).cloned());
        let key = (path.to_owned(), build_id);
        if let Some(&id) = self.by_path.get(&key) {
            return id;
        }
        let (path, build_id) = key.clone();
        let kind = if path == "[vdso]" {
            let cached = self.cached_file(build_id.as_deref(), "vdso");
            ModuleKind::File(cached.or_else(|| self.own_vdso.clone()))
        } else if path.starts_with('[') {
            ModuleKind::File(None)
        } else {
            ModuleKind::File(self.find_file(&path, build_id.as_deref()))
        };
        let id = self.push(Module {
            path,
            build_id,
            kind,
        });
        self.by_path.insert(key, id);
        id
    }

    /// The kernel module (one for the kernel and its loadable modules).
    pub fn kernel(&mut self) -> ModuleId {
        let key = ("[kernel.kallsyms]".to_owned(), None);
        if let Some(&id) = self.by_path.get(&key) {
            return id;
        }
        let build_id = self.header_build_ids.get("[kernel.kallsyms]").cloned();
        let id = self.push(Module {
            path: key.0.clone(),
            build_id,
            kind: ModuleKind::Kernel,
        });
        self.by_path.insert(key, id);
        id
    }

    /// The JIT code of process `pid`. Its path is `/tmp/perf-PID.map` if
    /// that exists, else `//anon` (`[anon]` frames, as perf names them).
    pub fn jit(&mut self, pid: i32) -> ModuleId {
        if let Some(&id) = self.jit_modules.get(&pid) {
            return id;
        }
        let map = format!("/tmp/perf-{pid}.map");
        let path = if Path::new(&map).exists() {
            map
        } else {
            "//anon".to_owned()
        };
        let uid = process_uid(pid);
        let id = self.push(Module {
            path,
            build_id: None,
            kind: ModuleKind::Jit { pid },
        });
        self.jit_modules.insert(pid, id);
        self.jit_code_of(pid, uid);
        id
    }

    /// The JIT code of process `pid`, made on first use. The user it runs
    /// as, where known (it was running when its JIT code was first seen),
    /// may own its JIT files.
    fn jit_code_of(&mut self, pid: i32, uid: Option<u32>) -> &mut JitCode {
        let reading = self.jit_reading;
        self.jit_code.entry(pid).or_insert_with(|| {
            JitCode::new(Path::new(&format!("/tmp/perf-{pid}.map")), uid, reading)
        })
    }

    /// The JIT code of process `pid`, if it has some.
    pub fn jit_code(&self, pid: i32) -> Option<&JitCode> {
        self.jit_code.get(&pid)
    }

    /// The entry of the JIT code at `address` of module `id` when a sample
    /// was taken at `time`; `None` for a module of no JIT code, or where
    /// no code is known at the address yet.
    pub fn jit_code_at(&mut self, id: ModuleId, address: u64, time: Option<u64>) -> Option<u32> {
        let ModuleKind::Jit { pid, .. } = self.list[id as usize].kind else {
            return None;
        };
        self.jit_code.get_mut(&pid)?.code_at(address, time)
    }

    /// The JIT code of process `pid` whose unwinding information is known
    /// by `time` and was not asked for before.
    pub fn jit_unwinding(
        &mut self,
        pid: i32,
        time: Option<u64>,
    ) -> Vec<(std::ops::Range<u64>, super::symbols::jitdump::UnwindInfo)> {
        self.jit_code
            .get_mut(&pid)
            .map(|code| code.unwinding_by(time))
            .unwrap_or_default()
    }

    /// Reads what JIT files gained since their last read (at the end of a
    /// live recording: runtimes list code at exit), and says in one note
    /// how many JIT frames were named with no time to tell which of
    /// several codes was at their address.
    pub fn finish_jit_code(&mut self) {
        let mut guesses = 0;
        for code in self.jit_code.values_mut() {
            code.read_last();
            guesses += code.guesses();
        }
        if guesses > 0 {
            crate::console::note(format!(
                "{guesses} JIT frames were at addresses that held several functions, with no time to tell which ran (a perf map has none): named after the last"
            ));
        }
    }

    /// Looks again for the perf map of each JIT module that had none when
    /// its code was mapped: a runtime may write it only at exit (a JVM), or
    /// when asked after recording (`jcmd PID Compiler.perfmap`). For a
    /// recording read while it is made.
    pub fn find_late_perf_maps(&mut self) {
        for module in &mut self.list {
            if let ModuleKind::Jit { pid, .. } = module.kind {
                let map = format!("/tmp/perf-{pid}.map");
                if module.path == "//anon" && Path::new(&map).exists() {
                    module.path = map;
                }
            }
        }
    }

    /// The marker module `name`, whose one frame prints `[name]`.
    pub fn marker(&mut self, name: &str) -> ModuleId {
        if let Some(&id) = self.by_path.get(&(name.to_owned(), None)) {
            return id;
        }
        let id = self.push(Module {
            path: name.to_owned(),
            build_id: None,
            kind: ModuleKind::Marker,
        });
        self.by_path.insert((name.to_owned(), None), id);
        id
    }

    /// Notes that process `pid` mapped the jitdump file at `path` (JIT
    /// runtimes map it so that the recording names it).
    pub fn add_jitdump(&mut self, pid: i32, path: &Path) {
        let uid = process_uid(pid);
        self.jit_code_of(pid, uid).add_jitdump(path, uid);
    }

    /// Where perf keeps the copy of the file with `build_id` under `name`
    /// (`elf`, `vdso`, `kallsyms`) in its build-id cache: a directory per
    /// first byte. `None` for an id of one byte or none (a corrupt
    /// recording's), which perf never caches.
    pub fn cache_path(&self, build_id: &[u8], name: &str) -> Option<PathBuf> {
        let hex = hex(build_id);
        let (first, rest) = hex
            .split_at_checked(2)
            .filter(|(_, rest)| !rest.is_empty())?;
        let dir = self.cache_dir.as_ref()?.join(".build-id").join(first);
        Some(dir.join(rest).join(name))
    }

    fn cached_file(&self, build_id: Option<&[u8]>, name: &str) -> Option<Arc<ElfImage>> {
        ElfImage::open(&self.cache_path(build_id?, name)?)
    }

    /// The file at `path` if its build id is the recorded one, else perf's
    /// cached copy of the recorded build id.
    fn find_file(&self, path: &str, build_id: Option<&[u8]>) -> Option<Arc<ElfImage>> {
        let on_disk = ElfImage::open(Path::new(path));
        match (on_disk, build_id) {
            (Some(image), None) => Some(image),
            (Some(image), Some(id)) if image.build_id().as_deref() == Some(id) => Some(image),
            (_, Some(_)) => self.cached_file(build_id, "elf"),
            (None, None) => None,
        }
    }

    fn push(&mut self, module: Module) -> ModuleId {
        let id = ModuleId::try_from(self.list.len()).expect("fewer than 2^32 modules");
        self.list.push(module);
        id
    }
}

/// Lower-case hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cache() -> Modules {
        Modules {
            cache_dir: Some(PathBuf::from("/cache")),
            ..Modules::new(HashMap::new())
        }
    }

    #[test]
    fn a_build_id_is_cached_under_its_first_byte() {
        let path = with_cache().cache_path(&[0xab, 0xcd, 0xef], "elf");
        assert_eq!(path, Some(PathBuf::from("/cache/.build-id/ab/cdef/elf")));
    }

    #[test]
    fn a_build_id_of_one_byte_or_none_is_in_no_cache() {
        // An empty one (a corrupt header's) panicked, sliced past its end.
        assert_eq!(with_cache().cache_path(&[], "elf"), None);
        assert_eq!(with_cache().cache_path(&[0xab], "elf"), None);
    }
}
