//! The libraries of the Firefox export: a recording knows which module
//! (ELF file, `[kernel.kallsyms]`, JIT map) each frame's code is in, and
//! the Firefox Profiler names a function's library only for a frame that
//! is an address in it. So each module becomes a library with a synthetic
//! symbol table, one symbol per function of that module at an address of
//! its own (its index × [`SYMBOL_SIZE`]), and each such frame that address:
//! the crate resolves it to the function's name with the module as its
//! library. The addresses are not the code's; the profile is marked
//! symbolicated so that no viewer looks them up again.

use std::collections::BTreeMap;
use std::sync::Arc;

use fxprof_processed_profile as fx;
use fxprof_processed_profile::debugid::DebugId;
use fxprof_processed_profile::{LibraryHandle, LibraryInfo, Symbol, SymbolTable};
use rustc_hash::FxHashMap;

use crate::profile::{FrameId, Frames};

/// The bytes each synthetic symbol spans.
pub const SYMBOL_SIZE: u32 = 16;

/// Each frame with a module as an address in its module's library.
#[derive(Debug, Default)]
pub struct Libraries {
    addresses: FxHashMap<FrameId, (LibraryHandle, u32)>,
}

impl Libraries {
    /// The libraries of the frames of `frames` that have a module, except
    /// those `is_label` keeps as labels (cycle frames), added to `profile`;
    /// the profile is marked symbolicated where there is one.
    pub fn new(
        frames: &Frames,
        is_label: impl Fn(FrameId) -> bool,
        profile: &mut fx::Profile,
    ) -> Self {
        let mut libraries = Self::default();
        for (path, ids) in frames_by_module(frames, is_label) {
            let handle = profile.add_lib(library_info(path, symbol_table(frames, &ids)));
            for (index, id) in ids.into_iter().enumerate() {
                libraries.addresses.insert(id, (handle, address_of(index)));
            }
        }
        if !libraries.addresses.is_empty() {
            profile.set_symbolicated(true);
        }
        libraries
    }

    /// Frame `id` as an address in its module's library, if it has one.
    pub fn frame(&self, id: FrameId) -> Option<fx::Frame> {
        let &(library, address) = self.addresses.get(&id)?;
        Some(fx::Frame::RelativeAddressFromInstructionPointer(
            library, address,
        ))
    }
}

/// The frames of each module (by path, in path order), in id order; past
/// the last address a `u32` holds, a module's further frames stay labels.
fn frames_by_module(
    frames: &Frames,
    is_label: impl Fn(FrameId) -> bool,
) -> BTreeMap<&str, Vec<FrameId>> {
    let max = (u32::MAX / SYMBOL_SIZE) as usize;
    let mut by_module: BTreeMap<&str, Vec<FrameId>> = BTreeMap::new();
    for (id, _) in frames.iter() {
        let Some(path) = frames.module(id).filter(|_| !is_label(id)) else {
            continue;
        };
        let ids = by_module.entry(path).or_default();
        if ids.len() < max {
            ids.push(id);
        }
    }
    by_module
}

/// The address of a module's `index`th function.
fn address_of(index: usize) -> u32 {
    index as u32 * SYMBOL_SIZE
}

/// A symbol per frame of `ids`, named as it prints, at its address.
fn symbol_table(frames: &Frames, ids: &[FrameId]) -> Arc<SymbolTable> {
    let symbols = ids.iter().enumerate().map(|(index, &id)| Symbol {
        address: address_of(index),
        size: Some(SYMBOL_SIZE),
        name: frames.name(id).to_owned(),
    });
    Arc::new(SymbolTable::new(symbols.collect()))
}

/// The library of the module at `path`: named by its file name, with no
/// debug or code id (the export has none to give, and needs none: its
/// frames come symbolicated).
fn library_info(path: &str, symbols: Arc<SymbolTable>) -> LibraryInfo {
    let name = path.rsplit('/').next().filter(|name| !name.is_empty());
    let name = name.unwrap_or(path).to_owned();
    LibraryInfo {
        name: name.clone(),
        debug_name: name,
        path: path.to_owned(),
        debug_path: path.to_owned(),
        debug_id: DebugId::nil(),
        code_id: None,
        arch: None,
        symbol_table: Some(symbols),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_function_of_a_module_has_its_own_address_resolving_to_its_name() {
        let mut frames = Frames::default();
        let main = frames.intern("main");
        let even = frames.intern("even");
        let read = frames.intern("read");
        let cycle = frames.intern("cycle");
        let label = frames.intern("label");
        frames.set_module(main, &crate::profile::FrameModule::file("/bin/app"));
        frames.set_module(even, &crate::profile::FrameModule::file("/bin/app"));
        frames.set_module(
            read,
            &crate::profile::FrameModule::file("/usr/lib/libc.so.6"),
        );
        frames.set_module(cycle, &crate::profile::FrameModule::file("/bin/app"));
        let by_module = frames_by_module(&frames, |id| id == cycle);
        let paths: Vec<&str> = by_module.keys().copied().collect();
        assert_eq!(paths, ["/bin/app", "/usr/lib/libc.so.6"]);
        let app = &by_module["/bin/app"];
        assert_eq!(app, &[main, even]);
        let table = symbol_table(&frames, app);
        // Every byte of a function's span is that function; past the last
        // one, nothing.
        assert_eq!(table.lookup(0).unwrap().name, "main");
        assert_eq!(table.lookup(SYMBOL_SIZE - 1).unwrap().name, "main");
        assert_eq!(table.lookup(SYMBOL_SIZE).unwrap().name, "even");
        assert!(table.lookup(2 * SYMBOL_SIZE).is_none());
        let mut profile = fx::Profile::new(
            "p",
            std::time::SystemTime::now().into(),
            fx::SamplingInterval::from_millis(1),
        );
        let libraries = Libraries::new(&frames, |id| id == cycle, &mut profile);
        assert!(libraries.frame(label).is_none());
        assert!(libraries.frame(cycle).is_none());
        let Some(fx::Frame::RelativeAddressFromInstructionPointer(_, address)) =
            libraries.frame(even)
        else {
            panic!("even is no address in a library");
        };
        assert_eq!(address, SYMBOL_SIZE);
    }

    #[test]
    fn a_library_is_named_by_its_file_name() {
        let table = Arc::new(SymbolTable::new(Vec::new()));
        let libc = library_info("/usr/lib/libc.so.6", table.clone());
        assert_eq!(
            (libc.name.as_str(), libc.path.as_str()),
            ("libc.so.6", "/usr/lib/libc.so.6")
        );
        assert_eq!(
            library_info("[kernel.kallsyms]", table).name,
            "[kernel.kallsyms]"
        );
    }
}
