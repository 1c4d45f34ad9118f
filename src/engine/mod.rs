//! The fold engine as one call: profile in, folded profile and report out.
//!
//! `fold`, `report` and `record` all go through [`analyse`], so there is one
//! engine whatever the front end.

pub mod fold;
pub mod graph;
pub mod naming;
pub mod reroot;
pub mod split;
pub mod stats;

use crate::engine::fold::{FoldOptions, fold};
use crate::engine::graph::{CallGraph, FrameFilter, cycles_of};
use crate::engine::naming::name_cycles;
use crate::engine::split::suggest_split;
use crate::output::report::Report;
use crate::profile::Profile;

/// How the engine treats frames.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Which frames may join a cycle.
    pub filter: FrameFilter,
    /// Re-rooting and which cycles to fold.
    pub fold: FoldOptions,
}

/// The engine's result.
#[derive(Debug)]
pub struct Analysis {
    /// The folded stacks, merged and sorted.
    pub folded: Profile,
    /// The cycles found and what was folded.
    pub report: Report,
}

/// Finds the cycles of `profile`, names them and folds them.
pub fn analyse(mut profile: Profile, options: &EngineOptions) -> Analysis {
    let graph = CallGraph::new(&profile, &options.filter);
    let cycles = cycles_of(&graph, &profile.frames);
    let splits: Vec<_> = cycles.iter().map(|c| suggest_split(&graph, c)).collect();
    drop(graph);
    let cycle_frames = name_cycles(&cycles, &mut profile.frames);
    let folded = fold(profile, &cycles, &cycle_frames, &options.fold);
    let report = Report::new(&folded, &cycles, &cycle_frames, &splits, &options.fold);
    Analysis {
        folded: folded.profile,
        report,
    }
}
