//! The assemble phase: raw stacks become stacks of frames (CPython's call
//! machinery between Python frames left out, [`cpython_calls`]); raw stacks
//! that symbolize alike (different addresses in the same functions) merge.

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use super::cpython_calls::CallMachinery;
use super::frame_text::comm_label;
use super::records::Recording;
use super::symbols::Symbolized;
use super::{Frame, FrameId, PerfStacks, Stack};

/// The profile of `recording`, with frames from `symbolized`.
pub fn assemble(recording: Recording, mut symbolized: Symbolized) -> PerfStacks {
    let comm_frames: Vec<FrameId> = recording
        .raw
        .comms()
        .iter()
        .map(|comm| {
            symbolized.intern(Frame {
                name: comm_label(comm),
                identity: None,
                origin: crate::profile::Origin::Unknown,
                source: None,
                module: None,
            })
        })
        .collect();
    let machinery = CallMachinery::new(&symbolized.frames);
    let python = machinery.has_python();
    let mut merged: IndexMap<Vec<FrameId>, u64, FxBuildHasher> = IndexMap::default();
    // By raw stack id, the index of its stack in `merged`: for a timeline's
    // samples, kept only when there is one.
    let logged = recording.samples.is_some();
    let mut merged_of: Vec<u32> = Vec::new();
    let mut frames = Vec::new();
    for (comm, raw_frames, count) in recording.raw.stacks() {
        frames.clear();
        frames.push(comm_frames[comm as usize]);
        for &raw in raw_frames {
            frames.extend_from_slice(&symbolized.expansions[raw as usize]);
        }
        if python {
            machinery.strip(&mut frames);
        }
        let index = match merged.get_full_mut(&frames) {
            Some((index, _, total)) => {
                *total += count;
                index
            }
            None => merged.insert_full(frames.clone(), count).0,
        };
        if logged {
            merged_of.push(index as u32);
        }
    }
    // An off-CPU recording weighs nanoseconds: the profile counts
    // microseconds, each stack's sum rounded.
    let timed = recording.off_cpu.is_some();
    let count_of = |weight: u64| match timed {
        true => weight.saturating_add(500) / 1000,
        false => weight,
    };
    let (stacks, kept_as) = counted_stacks(merged, count_of);
    let timeline = recording.samples.and_then(|log| {
        let stack_of: Vec<Option<u32>> = merged_of.iter().map(|&m| kept_as[m as usize]).collect();
        match timed {
            true => log.into_timeline(&stack_of, count_of),
            false => log.into_timeline(&stack_of, |weight| weight),
        }
    });
    PerfStacks {
        frames: symbolized.frames,
        stacks,
        stats: recording.stats,
        off_cpu: recording.off_cpu,
        timeline,
    }
}

/// The stacks of `merged` with their weights as counts (`count_of`), those
/// that count nothing left out; and, by index in `merged`, each one's
/// index among them.
fn counted_stacks(
    merged: IndexMap<Vec<FrameId>, u64, FxBuildHasher>,
    count_of: impl Fn(u64) -> u64,
) -> (Vec<Stack>, Vec<Option<u32>>) {
    let mut kept_as: Vec<Option<u32>> = Vec::with_capacity(merged.len());
    let mut stacks = Vec::with_capacity(merged.len());
    for (frames, weight) in merged {
        let count = count_of(weight);
        kept_as.push((count > 0).then_some(stacks.len() as u32));
        if count > 0 {
            stacks.push(Stack {
                frames: frames.into_boxed_slice(),
                count,
            });
        }
    }
    (stacks, kept_as)
}
