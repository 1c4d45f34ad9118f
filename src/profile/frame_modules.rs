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

    /// Where several frames become frame `to` (`merged` holds a `(from,
    /// to)` pair for each), its module: the one all of them that have one
    /// (`to` included) agree on; none where they disagree, as one frame of
    /// two libraries has no one library.
    pub fn merge(&mut self, merged: impl Iterator<Item = (FrameId, FrameId)>) {
        let mut agreed: FxHashMap<FrameId, Option<ModuleIndex>> = FxHashMap::default();
        for (from, to) in merged {
            let Some(&module) = self.of_frame.get(&from) else {
                continue;
            };
            let own = self.of_frame.get(&to).copied();
            let known = agreed.entry(to).or_insert(own.or(Some(module)));
            if *known != Some(module) {
                *known = None;
            }
        }
        for (to, module) in agreed {
            match module {
                Some(module) => self.of_frame.insert(to, module),
                None => self.of_frame.remove(&to),
            };
        }
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

    #[test]
    fn merged_frames_keep_a_module_only_where_they_agree() {
        let mut modules = FrameModules::default();
        modules.set(1, "/bin/app");
        modules.set(2, "/bin/app");
        modules.set(3, "/lib/a.so");
        modules.set(4, "/lib/b.so");
        modules.set(6, "/lib/c.so");
        // 1 and 2 become 7; 3 and 4 become 8; 5 (no module) and 6 become 9.
        modules.merge([(1, 7), (2, 7), (3, 8), (4, 8), (5, 9), (6, 9)].into_iter());
        assert_eq!(modules.path(7), Some("/bin/app"));
        assert_eq!(modules.path(8), None);
        assert_eq!(modules.path(9), Some("/lib/c.so"));
    }
}
