//! Which functions are the profiled program's own: the naming rule lists
//! them first, and the report says which members they are.
//!
//! Where the reader knew where a frame's code came from (its source file
//! in the debug info, its script: [`Origin`]), that decides. For frames
//! known only by name (folded stacks, pprof, …), the crate rule: a
//! function whose path starts with the crate a process name stands for
//! (`serde-nested` → `serde_nested::…`) is the author's. The rule is
//! documented in `docs/NAMING.md`.

use rustc_hash::FxHashSet;

use crate::engine::graph::Cycles;
use crate::profile::{FrameId, Frames, NO_LABEL, Origin, Profile};

/// For every frame id of `frames` (the table all `profiles` share),
/// whether it is a cycle member written by the profiled program's author;
/// false for frames in no cycle.
pub fn authors_of(profiles: &[Profile], frames: &Frames, cycles: &Cycles) -> Vec<bool> {
    let mut authors = vec![false; frames.len()];
    if cycles.is_empty() {
        return authors;
    }
    let crates = own_crates(profiles, frames);
    for &member in cycles.iter().flat_map(|c| &c.members) {
        authors[member as usize] = match frames.origin(member) {
            Origin::Author => true,
            Origin::Other => false,
            Origin::Unknown => is_in_own_crate(frames.name(member), &crates),
        };
    }
    authors
}

/// The crates of the profiled programs: one per distinct root label.
fn own_crates(profiles: &[Profile], frames: &Frames) -> FxHashSet<String> {
    let labels: FxHashSet<FrameId> = profiles
        .iter()
        .flat_map(|p| p.stacks())
        .filter_map(|(stack, _)| stack.first().copied())
        .filter(|&label| label != NO_LABEL)
        .collect();
    labels
        .into_iter()
        .map(|label| crate_of_process(frames.name(label)))
        .collect()
}

/// Whether a function's path starts in one of `crates` (`even_odd::even`,
/// `<even_odd::Tree as core::fmt::Debug>::fmt`).
fn is_in_own_crate(name: &str, crates: &FxHashSet<String>) -> bool {
    let path = name
        .trim_start_matches(['<', '&'])
        .trim_start_matches("mut ");
    path.split_once("::")
        .is_some_and(|(first, _)| crates.contains(first))
}

/// The crate a process name stands for: `even-odd` → `even_odd` (cargo's
/// rule for a binary's crate name).
pub fn crate_of_process(name: &str) -> String {
    name.replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{CallGraph, FrameFilter, cycles_of};
    use crate::profile::ReadProfile;

    fn authors(read: &ReadProfile) -> Vec<String> {
        let profile = &read.profile;
        let cycles = cycles_of(
            &CallGraph::new(read, &FrameFilter::default()),
            &profile.frames,
        );
        let authors = authors_of(std::slice::from_ref(profile), &profile.frames, &cycles);
        let mut names: Vec<String> = (0..authors.len())
            .filter(|&f| authors[f])
            .map(|f| profile.frames.name(f as FrameId).to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn by_name_the_process_names_the_crate() {
        let p = ReadProfile::of_lines(&["my-app;main;my_app::walk;lib::poll;my_app::walk"]);
        assert_eq!(authors(&p), ["my_app::walk"]);
    }

    #[test]
    fn a_readers_origin_overrides_the_name() {
        let mut p = ReadProfile::of_lines(&["doc;main;Printer::visit;std::visit;Printer::visit"]);
        let printer = p.profile.frames.get("Printer::visit").unwrap();
        let visit = p.profile.frames.get("std::visit").unwrap();
        assert_eq!(authors(&p), Vec::<String>::new());
        p.profile.frames.set_origin(printer, Origin::Author);
        p.profile.frames.set_origin(visit, Origin::Other);
        assert_eq!(authors(&p), ["Printer::visit"]);
    }
}
