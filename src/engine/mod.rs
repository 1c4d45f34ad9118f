//! The fold engine as one call: profile in, folded profile and report out.
//!
//! `fold`, `report` and `record` all go through [`analyse`], so there is one
//! engine whatever the front end; `diff` analyses its two sides together
//! ([`analyse_together`]), through the same steps.

pub mod authors;
pub mod fold;
pub mod graph;
pub mod naming;
pub mod recursion;
pub mod report;
pub mod reroot;
pub mod split;
pub mod stats;
pub mod together;

use crate::engine::fold::FoldOptions;
use crate::engine::graph::FrameFilter;
use crate::engine::report::Report;
pub use crate::engine::together::analyse_together;
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
pub fn analyse(profile: Profile, options: &EngineOptions) -> Analysis {
    analyse_together(vec![profile], options)
        .pop()
        .expect("one analysis per profile")
}
