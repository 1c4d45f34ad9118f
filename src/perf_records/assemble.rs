//! The assemble phase: raw stacks become stacks of frames (CPython's call
//! machinery between Python frames left out, [`cpython_calls`]); raw stacks
//! that symbolize alike (different addresses in the same functions) merge.

use rustc_hash::FxHashMap;

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
            })
        })
        .collect();
    let machinery = CallMachinery::new(&symbolized.frames);
    let python = machinery.has_python();
    let mut merged: FxHashMap<Vec<FrameId>, u64> = FxHashMap::default();
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
        match merged.get_mut(&frames) {
            Some(total) => *total += count,
            None => {
                merged.insert(frames.clone(), count);
            }
        }
    }
    // An off-CPU recording weighs nanoseconds: the profile counts
    // microseconds, each stack's sum rounded.
    let timed = recording.off_cpu.is_some();
    let count_of = |weight: u64| match timed {
        true => weight.saturating_add(500) / 1000,
        false => weight,
    };
    PerfStacks {
        frames: symbolized.frames,
        stacks: merged
            .into_iter()
            .map(|(frames, weight)| Stack {
                frames: frames.into_boxed_slice(),
                count: count_of(weight),
            })
            .filter(|stack| stack.count > 0)
            .collect(),
        stats: recording.stats,
        off_cpu: recording.off_cpu,
    }
}
