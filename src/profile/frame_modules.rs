//! Which module each frame of a recording came from: the ELF file (its
//! path), `[kernel.kallsyms]`, or a process's JIT code (its map). The
//! Firefox export names a frame's library by it; inputs that know no
//! modules (folded text and the other formats) leave it empty and pay
//! nothing for it.

use indexmap::IndexSet;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::frames::FrameId;

/// Index of a module's path in a [`FrameModules`].
pub type ModuleIndex = u32;

/// The modules of the frames that have one: each path stored once, and a
/// map from frame to path for those frames only.
#[derive(Debug, Clone, Default)]
pub struct FrameModules {
    paths: IndexSet<Box<str>, FxBuildHasher>,
    of_frame: FxHashMap<FrameId, ModuleIndex>,
}

impl FrameModules {
    /// Records that frame `id` came from the module at `path`, unless it
    /// already has a module (frames merged into one keep the first one's).
    pub fn set(&mut self, id: FrameId, path: &str) {
        if self.of_frame.contains_key(&id) {
            return;
        }
        let index = match self.paths.get_index_of(path) {
            Some(index) => index,
            None => self.paths.insert_full(path.into()).0,
        };
        self.of_frame.insert(id, index as ModuleIndex);
    }

    /// The path of the module frame `id` came from, if known.
    pub fn path(&self, id: FrameId) -> Option<&str> {
        let index = *self.of_frame.get(&id)?;
        Some(&self.paths[index as usize])
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
        modules.set(3, "/usr/lib/libc.so.6");
        modules.set(3, "/bin/app");
        modules.set(5, "/usr/lib/libc.so.6");
        assert_eq!(modules.path(3), Some("/usr/lib/libc.so.6"));
        assert_eq!(modules.path(5), Some("/usr/lib/libc.so.6"));
        assert_eq!(modules.path(4), None);
        assert_eq!(modules.paths.len(), 1);
    }
}
