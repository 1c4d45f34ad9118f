//! The fold engine as one call: profile in, folded profile and report out.
//!
//! `fold`, `report` and `record` all go through [`analyse`], so there is one
//! engine whatever the front end; `diff` analyses its two sides together
//! ([`analyse_together`]), through the same steps.

pub mod analyse;
pub mod authors;
pub mod cycle_names;
pub mod fold;
pub mod graph;
pub mod recursion;
pub mod refold;
pub mod report;
pub mod reroot;
pub mod sort;
pub mod split;
pub mod stats;
pub mod timeline;

pub use crate::engine::analyse::analyse_together;
use crate::engine::fold::FoldOptions;
use crate::engine::graph::FrameFilter;
use crate::engine::refold::Refold;
use crate::engine::report::Report;
use crate::engine::timeline::FoldedTimeline;
use crate::profile::{Profile, ReadProfile};

/// How the engine treats frames.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Which frames may join a cycle.
    pub filter: FrameFilter,
    /// Re-rooting and which cycles to fold.
    pub fold: FoldOptions,
    /// Keep the profile as it was before the fold, to fold it again with
    /// one cycle left out ([`Analysis::refold`], for the HTML page).
    pub refold: bool,
}

/// The engine's result.
#[derive(Debug)]
pub struct Analysis {
    /// The folded stacks, merged and sorted.
    pub folded: Profile,
    /// The cycles found and what was folded.
    pub report: Report,
    /// The profile before the fold, to fold again with one cycle left out;
    /// kept only when [`EngineOptions::refold`] asks.
    pub refold: Option<Refold>,
    /// A recording's samples in time order, each with its stack folded as
    /// the profile's: kept only where the reader kept a timeline.
    pub timeline: Option<FoldedTimeline>,
}

/// Finds the cycles of `profile`, names them and folds them.
pub fn analyse(read: ReadProfile, options: &EngineOptions) -> Analysis {
    analyse_together(vec![read], options)
        .pop()
        .expect("one analysis per profile")
}
