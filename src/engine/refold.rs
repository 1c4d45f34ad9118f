//! The profile as it was before the fold, kept to fold it again with one
//! cycle left out: the HTML page's "unfold" shows a cycle's members' tower
//! back in the flame graph, and folds it again, where every other tool's
//! fold is one-way.

use crate::engine::fold::{FoldOptions, fold};
use crate::engine::graph::{CycleId, Cycles};
use crate::profile::{FrameId, Profile};

/// Everything needed to fold a profile again, differently.
#[derive(Debug, Clone)]
pub struct Refold {
    /// The profile before the fold, with the cycles' frames interned.
    raw: Profile,
    /// The cycles it was folded with.
    cycles: Cycles,
    /// Each cycle's frame.
    cycle_frames: Vec<FrameId>,
    /// How it was folded.
    options: FoldOptions,
}

impl Refold {
    /// Keeps `raw` (about to be folded with `cycles`) for folding again.
    pub fn new(
        raw: Profile,
        cycles: &Cycles,
        cycle_frames: &[FrameId],
        options: FoldOptions,
    ) -> Self {
        Self {
            raw,
            cycles: cycles.clone(),
            cycle_frames: cycle_frames.to_vec(),
            options: FoldOptions {
                calls: false,
                ..options
            },
        }
    }

    /// The profile folded as before but for the cycle named `name`, whose
    /// members stay in the stacks; `None` if no cycle has that name.
    pub fn unfolding(&self, name: &str) -> Option<Profile> {
        let cycle = self.cycle_named(name)?;
        let options = FoldOptions {
            unfolded: Some(cycle),
            ..self.options
        };
        Some(fold(self.raw.clone(), &self.cycles, &self.cycle_frames, &options).profile)
    }

    fn cycle_named(&self, name: &str) -> Option<CycleId> {
        self.cycle_frames
            .iter()
            .position(|&f| self.raw.frames.name(f) == name)
            .map(|c| c as CycleId)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{EngineOptions, analyse};
    use crate::profile::ProfileBuilder;

    #[test]
    fn one_cycle_unfolds_the_others_stay_folded() {
        let mut raw = ProfileBuilder::new();
        for line in [
            "p;main;even;odd;even;odd;walk;walk;walk;leaf",
            "p;main;even;odd;even;odd;x",
        ] {
            raw.push_names(line.split(';'), 1);
        }
        let options = EngineOptions {
            refold: true,
            ..EngineOptions::default()
        };
        let analysis = analyse(raw.finish(), &options);
        assert_eq!(
            analysis.folded.lines(),
            ["p;main;{even,odd};walk;leaf 1", "p;main;{even,odd};x 1"]
        );
        let refold = analysis.refold.expect("kept");
        let unfolded = refold.unfolding("{even,odd}").unwrap();
        assert_eq!(
            unfolded.lines(),
            [
                "p;main;even;odd;even;odd;walk;leaf 1",
                "p;main;even;odd;even;odd;x 1"
            ]
        );
        let other = refold.unfolding("walk").unwrap();
        assert_eq!(
            other.lines(),
            [
                "p;main;{even,odd};walk;walk;walk;leaf 1",
                "p;main;{even,odd};x 1"
            ]
        );
        assert!(refold.unfolding("no such cycle").is_none());
    }

    #[test]
    fn the_profile_is_kept_only_when_asked() {
        let mut raw = ProfileBuilder::new();
        raw.push_names("p;main;a;a;x".split(';'), 1);
        assert!(
            analyse(raw.finish(), &EngineOptions::default())
                .refold
                .is_none()
        );
    }
}
