//! Which module each frame of a recording came from: the ELF file (its
//! path), `[kernel.kallsyms]`, or a process's JIT code (its map). The
//! Firefox export names a frame's library by it; inputs that know no
//! modules (folded text and the other formats) leave it empty and pay
//! nothing for it.

use std::sync::Arc;

use indexmap::IndexSet;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::frames::FrameId;

/// What code a module holds, as the recording knew it: the Firefox
/// export's Kernel and JIT categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleCode {
    /// An ELF file: a program or a shared library.
    File,
    /// The kernel (`[kernel.kallsyms]`).
    Kernel,
    /// A process's JIT code (its perf map, jitdump or `//anon`).
    Jit,
}

/// The module a recorded frame's code is in: its path and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameModule {
    /// The ELF file's path, `[kernel.kallsyms]`, or the JIT map's path.
    pub path: Arc<str>,
    /// What code it holds.
    pub code: ModuleCode,
}

/// Index of a module's path in a [`FrameModules`].
pub type ModuleIndex = u32;

#[cfg(test)]
impl FrameModule {
    /// The ELF file at `path`, as a test's recorded frame's module.
    pub fn file(path: &str) -> Self {
        Self {
            path: path.into(),
            code: ModuleCode::File,
        }
    }
}

/// The modules of the frames that have one: each path stored once (with
/// what code it holds), and a map from frame to path for those frames only.
#[derive(Debug, Clone, Default)]
pub struct FrameModules {
    paths: IndexSet<Box<str>, FxBuildHasher>,
    /// By path index: what code the module holds.
    codes: Vec<ModuleCode>,
    of_frame: FxHashMap<FrameId, ModuleIndex>,
}

impl FrameModules {
    /// Records that frame `id` came from the module at `path`, holding
    /// `code`, unless it already has a module (frames merged into one keep
    /// the first one's).
    pub fn set(&mut self, id: FrameId, path: &str, code: ModuleCode) {
        if self.of_frame.contains_key(&id) {
            return;
        }
        let index = match self.paths.get_index_of(path) {
            Some(index) => index,
            None => {
                self.codes.push(code);
                self.paths.insert_full(path.into()).0
            }
        };
        self.of_frame.insert(id, index as ModuleIndex);
    }

    /// The path of the module frame `id` came from, if known.
    pub fn path(&self, id: FrameId) -> Option<&str> {
        let index = *self.of_frame.get(&id)?;
        Some(&self.paths[index as usize])
    }

    /// What code the module frame `id` came from holds, if known.
    pub fn code(&self, id: FrameId) -> Option<ModuleCode> {
        let index = *self.of_frame.get(&id)?;
        Some(self.codes[index as usize])
    }

    /// The index of frame `id`'s module, if it has one.
    pub fn index(&self, id: FrameId) -> Option<ModuleIndex> {
        self.of_frame.get(&id).copied()
    }

    /// Gives frame `id` the module at `index`, or none.
    pub fn set_index(&mut self, id: FrameId, index: Option<ModuleIndex>) {
        match index {
            Some(index) => self.of_frame.insert(id, index),
            None => self.of_frame.remove(&id),
        };
    }

    /// Whether no frame has a module.
    pub fn is_empty(&self) -> bool {
        self.of_frame.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_keeps_its_first_module_and_paths_are_stored_once() {
        let mut modules = FrameModules::default();
        modules.set(3, "/usr/lib/libc.so.6", ModuleCode::File);
        modules.set(3, "/bin/app", ModuleCode::File);
        modules.set(5, "/usr/lib/libc.so.6", ModuleCode::File);
        modules.set(6, "[kernel.kallsyms]", ModuleCode::Kernel);
        assert_eq!(modules.path(3), Some("/usr/lib/libc.so.6"));
        assert_eq!(modules.path(5), Some("/usr/lib/libc.so.6"));
        assert_eq!(modules.path(4), None);
        assert_eq!(modules.paths.len(), 2);
        assert_eq!(modules.code(5), Some(ModuleCode::File));
        assert_eq!(modules.code(6), Some(ModuleCode::Kernel));
        assert_eq!(modules.code(4), None);
    }
}
