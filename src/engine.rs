//! The fold engine as one call: profile in, folded profile and report out.
//!
//! `fold`, `report` and `record` all go through [`analyse`], so there is one
//! engine whatever the front end.

use crate::fold::fold;
use crate::graph::{FrameFilter, cycles_of};
use crate::naming::name_cycles;
use crate::profile::Profile;
use crate::report::Report;

/// How the engine treats frames.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Which frames may join a cycle.
    pub filter: FrameFilter,
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
    let cycles = cycles_of(&profile, &options.filter);
    let cycle_frames = name_cycles(&cycles, &mut profile.frames);
    let total_samples = profile.total_samples();
    let folded = fold(profile, &cycles, &cycle_frames);
    let report = Report::new(&folded, &cycles, &cycle_frames, total_samples);
    Analysis {
        folded: folded.profile,
        report,
    }
}
