//! The lines a flame graph needs: stacks under frames too narrow to be drawn
//! are collapsed before inferno sees them, so a profile of hundreds of
//! thousands of distinct stacks renders from the few thousand lines that
//! make its visible frames, and the SVG is byte for byte the same.
//!
//! inferno merges a frame over consecutive lines (sorted by their text) that
//! share it at the same depth, and leaves out every merged frame whose
//! samples are fewer than `min_width` percent of the total. Every frame
//! above a left-out one is narrower still, so a run of lines under a frame
//! left out can become one line without changing any drawn frame: the same
//! frames down to that one and one below it (so that it sorts where the run
//! did, and cannot merge with another run of the same frame that a
//! differently sorted name separates), with the run's samples.

use crate::output::folded::{NO_FRAMES, line_text};
use crate::profile::{FrameId, Profile, printed, shared_prefix};

/// The folded lines to draw `profile` with frames narrower than
/// `min_width` percent of its samples left out, as inferno leaves them
/// out; every line of [`crate::output::folded::folded_lines`] where nothing
/// is narrow.
pub fn drawn_lines(profile: &Profile, min_width: f64) -> Vec<String> {
    let stacks: Vec<(&[FrameId], u64)> = profile
        .stacks()
        .map(|(ids, count)| (printed(ids), count))
        .collect();
    let total = profile.total_samples();
    // The threshold as inferno computes it, so that the same frames fall
    // under it.
    let widthpertime_pct = 100.0 / total as f64;
    let minwidth_time = min_width / widthpertime_pct;
    let (cuts, shared) = narrow_depths(&stacks, minwidth_time);
    let mut lines = Vec::new();
    let mut i = 0;
    while i < stacks.len() {
        let (frames, count) = stacks[i];
        let cut = cuts[i];
        if frames.is_empty() {
            lines.push(format!("{NO_FRAMES} {count}"));
            i += 1;
            continue;
        }
        let (mut next, mut samples) = run_end(&stacks, &shared, i, cut);
        if cut < frames.len() {
            // The runs under narrow siblings that follow (the same frames
            // above, another narrow one at `cut`) join this one while
            // their frames together stay narrow: then this line's frame at
            // `cut` stands for them all, and is left out too. Not where
            // that would make it adjacent to another run of its own frame
            // (text order can part them: `b`, `b::c`, `b;x`), which inferno
            // would merge with it.
            // Every stack from `i` to `next` shares this one's frames above
            // `cut`: another does where it shares them with the one before
            // it, and then its frame at `cut` tells whether it is this
            // one's (without comparing the stacks again: they lie all over
            // the arenas).
            let same_frame = |n: usize| stacks[n].0.get(cut) == Some(&frames[cut]);
            while next < stacks.len()
                && cuts[next] == cut
                && shared[next] >= cut
                && !same_frame(next)
            {
                let (end, more) = run_end(&stacks, &shared, next, cut);
                let same_frame_after = end < stacks.len() && shared[end] >= cut && same_frame(end);
                if ((samples + more) as f64) >= minwidth_time || same_frame_after {
                    break;
                }
                (next, samples) = (end, samples + more);
            }
        }
        let kept = (cut + 2).min(frames.len());
        lines.push(line_text(profile, &frames[..kept], samples));
        i = next;
    }
    lines
}

/// The end of the run of stacks from `first` that share its frames down to
/// depth `cut` (the frame there narrow), and the run's samples; just
/// `first` where it has no frame at `cut`. `shared` holds how many frames
/// each stack shares with the one before: a stack shares the run's frames
/// where it shares them with the last stack of the run.
fn run_end(
    stacks: &[(&[FrameId], u64)],
    shared: &[usize],
    first: usize,
    cut: usize,
) -> (usize, u64) {
    let (frames, mut samples) = stacks[first];
    let mut next = first + 1;
    if cut < frames.len() {
        while next < stacks.len() && shared[next] > cut {
            samples += stacks[next].1;
            next += 1;
        }
    }
    (next, samples)
}

/// For each stack, the depth of its outermost frame that inferno would
/// leave out (fewer than `minwidth_time` samples over the consecutive
/// stacks that share it), or its length where none is; and how many frames
/// it shares with the stack before it.
fn narrow_depths(stacks: &[(&[FrameId], u64)], minwidth_time: f64) -> (Vec<usize>, Vec<usize>) {
    let mut cuts: Vec<usize> = stacks.iter().map(|(frames, _)| frames.len()).collect();
    let mut shared_before = Vec::with_capacity(stacks.len());
    // The frames open at each depth: when each began, and on which stack.
    let mut open: Vec<(u64, usize)> = Vec::new();
    let mut time = 0u64;
    let mut previous: &[FrameId] = &[];
    for (i, &(frames, count)) in stacks.iter().enumerate() {
        let shared = match frames.is_empty() || previous.is_empty() {
            true => 0,
            false => shared_prefix(previous, frames),
        };
        shared_before.push(shared);
        close_frames(&mut open, shared, time, i, minwidth_time, &mut cuts);
        open.extend((shared..frames.len()).map(|_| (time, i)));
        time += count;
        previous = frames;
    }
    close_frames(&mut open, 0, time, stacks.len(), minwidth_time, &mut cuts);
    (cuts, shared_before)
}

/// Closes the frames open deeper than `depth` at `time` (before stack
/// `end`): a frame narrower than `minwidth_time` cuts the stacks it spans
/// at its depth.
fn close_frames(
    open: &mut Vec<(u64, usize)>,
    depth: usize,
    time: u64,
    end: usize,
    minwidth_time: f64,
    cuts: &mut [usize],
) {
    while open.len() > depth {
        let (start, first) = open.pop().expect("open is longer than depth");
        let at = open.len();
        if ((time - start) as f64) < minwidth_time {
            for cut in &mut cuts[first..end] {
                *cut = (*cut).min(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::folded::folded_lines;
    use crate::output::render::{RenderOptions, Titles, render_lines};
    use crate::profile::NO_LABEL;
    use proptest::prelude::*;

    /// Names where one starts another followed by bytes on both sides of
    /// `;` (Rust paths do: `app::run` and `app::run::{{closure}}`).
    const NAMES: &[&str] = &["a", "a::b", "a.b", "a b", "ab", "b", "b::c", "z"];

    fn svg(lines: &[String], min_width: f64) -> String {
        let options = RenderOptions {
            min_width,
            ..RenderOptions::default()
        };
        let titles = Titles {
            title: "t".into(),
            subtitle: None,
        };
        let mut out = Vec::new();
        render_lines(lines, &[], &[], &titles, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn profile(stacks: &[(Vec<&str>, u64)]) -> Profile {
        let mut profile = Profile::new();
        for (names, count) in stacks {
            let ids: Vec<FrameId> = std::iter::once(NO_LABEL)
                .chain(names.iter().map(|n| profile.frames.intern(n)))
                .collect();
            profile.push_stack(&ids, *count);
        }
        let (frames, segments, refs) = profile.parts_mut();
        crate::engine::sort::sort_and_merge(refs, segments, frames);
        profile
    }

    proptest! {
        #[test]
        fn the_flame_graph_is_the_same_from_fewer_lines(
            stacks in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(NAMES), 0..6), 1u64..1000),
                1..80,
            ),
            min_width in prop::sample::select(vec![0.1, 1.0, 5.0, 20.0]),
        ) {
            let profile = profile(&stacks);
            let all = folded_lines(&profile);
            let drawn = drawn_lines(&profile, min_width);
            prop_assert!(drawn.len() <= all.len());
            prop_assert_eq!(svg(&drawn, min_width), svg(&all, min_width));
        }
    }

    #[test]
    fn runs_under_a_narrow_frame_become_one_line() {
        let mut stacks = vec![(vec!["main", "big"], 100_000)];
        for i in 0..50 {
            stacks.push((vec!["main", "small", if i % 2 == 0 { "x" } else { "y" }], 1));
        }
        let profile = profile(&stacks);
        let drawn = drawn_lines(&profile, 0.1);
        // 50 samples under main;small: under 0.1 % of 100,050.
        assert_eq!(drawn, ["main;big 100000", "main;small;x 50"]);
    }

    #[test]
    fn narrow_siblings_become_one_line_while_they_stay_narrow() {
        let mut stacks = vec![(vec!["main", "big"], 10_000)];
        let names: Vec<String> = (0..40).map(|i| format!("h{i:02}")).collect();
        for name in &names {
            stacks.push((vec!["main", "helpers", name.as_str(), "leaf"], 1));
        }
        let profile = profile(&stacks);
        // 0.1 % of 10,040 samples is 10.04: nine or ten helpers at a time
        // (each of one sample) stay narrower; the parent, 40 wide, is drawn.
        let drawn = drawn_lines(&profile, 0.1);
        assert_eq!(
            drawn,
            [
                "main;big 10000",
                "main;helpers;h00;leaf 10",
                "main;helpers;h10;leaf 10",
                "main;helpers;h20;leaf 10",
                "main;helpers;h30;leaf 10",
            ]
        );
        assert_eq!(svg(&drawn, 0.1), svg(&folded_lines(&profile), 0.1));
    }
}
