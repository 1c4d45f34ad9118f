//! The folded profile as other profilers' viewers see it (speedscope, the
//! Firefox Profiler): its stacks grouped into threads by root label, and the
//! recursion cycle each cycle frame stands for.
//!
//! Both exports share this so that they split and name alike: a recording's
//! stacks start with the process name (their root label), which becomes a
//! profile (speedscope) or a thread (Firefox) of its own instead of one more
//! frame; inputs without labels are one thread. A recording read with a
//! timeline is split by its own threads instead ([`timed_threads`]), each
//! sample in time order with its folded stack.

use rustc_hash::FxHashMap;

use crate::engine::report::{CycleReport, Report};
use crate::engine::timeline::FoldedTimeline;
use crate::profile::{FrameId, NO_LABEL, Profile};

/// The stacks of one root label, in the profile's order.
pub struct Thread<'p> {
    /// The root label ([`NO_LABEL`] for stacks without one).
    pub label: FrameId,
    /// Each stack's frames below the label (root first) and its count.
    pub stacks: Vec<(&'p [FrameId], u64)>,
}

impl Thread<'_> {
    /// The thread's name: its root label, or `fallback` where it has none.
    pub fn name<'a>(&self, profile: &'a Profile, fallback: &'a str) -> &'a str {
        match self.label {
            NO_LABEL => fallback,
            label => profile.frames.name(label),
        }
    }

    /// The sum of its stacks' counts.
    pub fn total(&self) -> u64 {
        self.stacks
            .iter()
            .fold(0u64, |sum, &(_, count)| sum.saturating_add(count))
    }
}

/// The stacks of `profile` grouped by root label, labels in order of first
/// appearance: one thread per process name, one in all without labels.
pub fn threads(profile: &Profile) -> Vec<Thread<'_>> {
    let mut index_of: FxHashMap<FrameId, usize> = FxHashMap::default();
    let mut threads: Vec<Thread<'_>> = Vec::new();
    for (frames, count) in profile.stacks() {
        let (label, below) = match frames {
            [label, below @ ..] => (*label, below),
            [] => (NO_LABEL, frames),
        };
        let index = *index_of.entry(label).or_insert_with(|| {
            threads.push(Thread {
                label,
                stacks: Vec::new(),
            });
            threads.len() - 1
        });
        threads[index].stacks.push((below, count));
    }
    threads
}

/// One recorded thread: its samples in time order.
pub struct TimedThread<'p> {
    /// Its process's id.
    pub pid: i32,
    /// Its process's name (the main thread's name).
    pub process: &'p str,
    /// Its id.
    pub tid: i32,
    /// Its name (its last COMM record).
    pub name: &'p str,
    /// Its samples, by time (ties in recording order).
    pub samples: Vec<TimedStack<'p>>,
}

impl TimedThread<'_> {
    /// The thread as one name: `process (pid) / thread (tid)`.
    pub fn title(&self) -> String {
        format!(
            "{} ({}) / {} ({})",
            self.process, self.pid, self.name, self.tid
        )
    }
}

/// One sample of a [`TimedThread`].
pub struct TimedStack<'p> {
    /// Nanoseconds since the recording's first sample.
    pub since_start: u64,
    /// Which stack of the timeline it had (`FoldedTimeline::stack`).
    pub stack: u32,
    /// That stack's folded frames below its root label, root first.
    pub frames: &'p [FrameId],
    /// Its weight, in the profile's unit.
    pub weight: u64,
}

/// The samples of `timed` grouped by thread, threads in order of first
/// sample, each thread's samples sorted by time.
pub fn timed_threads(timed: &FoldedTimeline) -> Vec<TimedThread<'_>> {
    let timeline = &timed.timeline;
    let start = timeline.samples.iter().map(|s| s.time).min().unwrap_or(0);
    let index_of: FxHashMap<i32, usize> = (timeline.threads.iter().enumerate())
        .map(|(i, thread)| (thread.tid, i))
        .collect();
    let mut threads: Vec<TimedThread<'_>> = (timeline.threads.iter())
        .map(|thread| TimedThread {
            pid: thread.pid,
            process: timeline.process_name(thread.pid),
            tid: thread.tid,
            name: &thread.name,
            samples: Vec::new(),
        })
        .collect();
    for sample in &timeline.samples {
        let Some(&i) = index_of.get(&sample.tid) else {
            continue;
        };
        let frames = timed.stack(sample.stack);
        threads[i].samples.push(TimedStack {
            since_start: sample.time - start,
            stack: sample.stack,
            frames: frames.get(1..).unwrap_or_default(),
            weight: sample.weight,
        });
    }
    threads.retain(|thread| !thread.samples.is_empty());
    for thread in &mut threads {
        thread.samples.sort_by_key(|sample| sample.since_start);
    }
    threads
}

/// A name for the whole profile: its inputs' names, else `autofold`.
pub fn profile_name(profile: &Profile) -> String {
    let sources: Vec<&str> = profile.inputs.iter().map(|i| i.source.as_str()).collect();
    match sources.is_empty() {
        true => "autofold".to_string(),
        false => sources.join(", "),
    }
}

/// The cycle each frame of the folded profile stands for, by frame id:
/// every frame printed as the name of a folded cycle is that cycle's frame
/// (a direct recursion's frame keeps its one member's name).
pub fn cycle_frames<'r>(
    profile: &Profile,
    report: &'r Report,
) -> FxHashMap<FrameId, &'r CycleReport> {
    let by_name: FxHashMap<&str, &CycleReport> = report
        .cycles
        .iter()
        .filter(|cycle| cycle.folded)
        .map(|cycle| (cycle.name.as_str(), cycle))
        .collect();
    if by_name.is_empty() {
        return FxHashMap::default();
    }
    profile
        .frames
        .iter()
        .filter_map(|(id, name)| Some((id, *by_name.get(name)?)))
        .collect()
}

/// What a viewer shows of a cycle's members: `recursion cycle: a, b`
/// (members sorted by name, as the report lists them), or `direct
/// recursion: f` for a function that calls itself.
pub fn members_note(cycle: &CycleReport) -> String {
    match cycle.members.as_slice() {
        [only] => format!("direct recursion: {only}"),
        members => format!("recursion cycle: {}", members.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_grouped_by_root_label_in_order_of_appearance() {
        let profile = Profile::of_lines(&["b;f;g", "a;f", "b;h"]);
        let threads = threads(&profile);
        let names: Vec<&str> = threads.iter().map(|t| t.name(&profile, "-")).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(threads[0].stacks.len(), 2);
        assert_eq!(threads[0].total(), 2);
        let below: Vec<&str> = threads[0].stacks[1]
            .0
            .iter()
            .map(|&f| profile.frames.name(f))
            .collect();
        assert_eq!(below, ["h"]);
    }
}
