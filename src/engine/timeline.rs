//! A recording's timeline folded as its profile is: each sample's stack
//! with every maximal run of a cycle's members replaced by the cycle's
//! frame, and a stack cut mid-recursion re-attached under the cycle's entry
//! path, exactly as in the folded profile.
//!
//! The fold merges and sorts the profile's stacks, so a sample can no longer
//! find its own among them. The profile as read (its stacks in the order the
//! samples index them) is folded a second time in place
//! ([`fold_in_place`]): the same pass, the same cycles, the same entry
//! paths (re-rooting sees the same stacks), without the sort.

use crate::engine::fold::{FoldOptions, fold_in_place};
use crate::engine::graph::Cycles;
use crate::profile::{FrameId, Profile, Timeline};

/// The samples of a recording, each with its folded stack.
#[derive(Debug, Clone)]
pub struct FoldedTimeline {
    /// The profile's stacks as read, each folded where it is: stack `i` is
    /// the folded stack of the samples whose `stack` is `i`. Its frame
    /// table names the frames (cycle frames included).
    pub stacks: Profile,
    /// The samples and their threads.
    pub timeline: Timeline,
}

impl FoldedTimeline {
    /// The folded frames of stack `index`, root label first.
    pub fn stack(&self, index: u32) -> &[FrameId] {
        self.stacks
            .stacks_in(index as usize..index as usize + 1)
            .next()
            .map_or(&[], |(frames, _)| frames)
    }
}

/// `timeline`'s samples with their stacks, those of `read` (the profile
/// they index, its frame table holding the cycles' frames), folded with
/// `cycles` as the profile is.
pub fn fold_timeline(
    timeline: Timeline,
    read: Profile,
    cycles: &Cycles,
    cycle_frames: &[FrameId],
    options: &FoldOptions,
) -> FoldedTimeline {
    let options = FoldOptions {
        calls: false,
        ..*options
    };
    let folded = fold_in_place(read, cycles, cycle_frames, &options);
    FoldedTimeline {
        stacks: folded.profile,
        timeline,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{EngineOptions, analyse};
    use crate::profile::ReadProfile;

    #[test]
    fn each_sample_gets_its_stack_folded_and_rerooted_as_the_profile_has_it() {
        let lines = [
            "p;main;even;odd;even;leaf",
            "p;[unknown];odd;even;odd;leaf",
            "p;main;work",
        ];
        // One sample per line, the last line's first.
        let samples = [(0, 1, 2, 2), (1, 1, 2, 1), (2, 1, 2, 0)];
        let read = ReadProfile::recorded(&lines, &samples, &[(1, 2, "p")]);
        let analysis = analyse(read, &EngineOptions::default());
        let timed = analysis.timeline.expect("a timeline");
        let text = |stack: u32| {
            let frames = timed.stack(stack).iter();
            frames
                .map(|&f| timed.stacks.frames.name(f))
                .collect::<Vec<_>>()
                .join(";")
        };
        let stacks: Vec<String> = timed
            .timeline
            .samples
            .iter()
            .map(|s| text(s.stack))
            .collect();
        // Samples keep their order; the cut stack goes under the path
        // complete stacks enter the cycle by.
        assert_eq!(
            stacks,
            [
                "p;main;work",
                "p;main;{even,odd};leaf",
                "p;main;{even,odd};leaf"
            ]
        );
        assert_eq!(analysis.folded.lines().len(), 2, "the profile merges them");
    }

    #[test]
    fn a_profile_without_a_timeline_folds_none() {
        let read = ReadProfile::of_lines(&["p;main;f;f"]);
        assert!(analyse(read, &EngineOptions::default()).timeline.is_none());
    }
}
