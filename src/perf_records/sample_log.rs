//! The samples of a recording in the order they are read, kept beside the
//! raw stacks when a timeline is asked for ([`super::Options::timeline`]):
//! one fixed-size entry per sample (its time, thread, weight and raw stack
//! id), and each thread's name as its COMM records give it.

use std::borrow::Cow;

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use super::raw_stacks::RawStackId;
use crate::profile::{ThreadName, TimedSample, Timeline};

/// The samples read so far and their threads.
#[derive(Debug, Default)]
pub struct SampleLog {
    /// Each sample, its stack a [`RawStackId`], its weight as recorded.
    samples: Vec<TimedSample>,
    /// tid → (pid, name), in order of first sample (a process's main
    /// thread before its others).
    threads: IndexMap<i32, (i32, String), FxBuildHasher>,
    /// Set once a sample came without a time: the log is then of no use
    /// (and no longer grows).
    untimed: bool,
}

impl SampleLog {
    /// Notes thread `tid` of process `pid`, and the process's main thread
    /// (whose name is the process's, sampled or not), each named
    /// `comm(tid)` unless known.
    pub fn note_thread<'a>(&mut self, pid: i32, tid: i32, comm: impl Fn(i32) -> Cow<'a, str>) {
        for thread in [pid, tid] {
            self.threads
                .entry(thread)
                .or_insert_with(|| (pid, comm(thread).into_owned()));
        }
    }

    /// Thread `tid` is now called `name` (a COMM record): a thread is named
    /// as it was last called.
    pub fn rename(&mut self, tid: i32, name: &str) {
        if let Some((_, known)) = self.threads.get_mut(&tid)
            && known != name
        {
            *known = name.to_owned();
        }
    }

    /// The process of thread `tid`, where noted.
    pub fn pid_of(&self, tid: i32) -> Option<i32> {
        self.threads.get(&tid).map(|&(pid, _)| pid)
    }

    /// One sample of raw stack `stack` weighing `weight`, on thread `tid`
    /// (noted before) of process `pid`, at `time` (`None` where the record
    /// has none: the log is then dropped).
    pub fn sample(
        &mut self,
        time: Option<u64>,
        pid: i32,
        tid: i32,
        weight: u64,
        stack: RawStackId,
    ) {
        let Some(time) = time.filter(|_| !self.untimed) else {
            self.untimed = true;
            self.samples = Vec::new();
            return;
        };
        self.samples.push(TimedSample {
            time,
            weight,
            pid,
            tid,
            stack,
        });
    }

    /// The timeline of the samples, where every one had a time: each raw
    /// stack id `r` becomes `stack_of[r]` (samples of stacks without one
    /// are left out), each weight `weight_of(weight)`.
    pub fn into_timeline(
        self,
        stack_of: &[Option<u32>],
        weight_of: impl Fn(u64) -> u64,
    ) -> Option<Timeline> {
        if self.untimed {
            return None;
        }
        let mut samples = self.samples;
        for sample in &mut samples {
            sample.weight = weight_of(sample.weight);
        }
        let threads = self
            .threads
            .into_iter()
            .map(|(tid, (pid, name))| ThreadName { pid, tid, name })
            .collect();
        Some(Timeline { samples, threads }.renumbered(stack_of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_keep_their_last_name_and_samples_their_stacks() {
        let mut log = SampleLog::default();
        log.note_thread(5, 6, |tid| Cow::Owned(format!("old {tid}")));
        log.note_thread(5, 6, |_| unreachable!("noted once"));
        log.rename(6, "new");
        log.rename(7, "unsampled");
        log.sample(Some(10), 5, 6, 1, 0);
        log.sample(Some(20), 5, 6, 2_600, 1);
        assert_eq!(log.pid_of(6), Some(5));
        let timeline = log
            .into_timeline(&[Some(3), Some(4)], |ns| (ns + 500) / 1000)
            .unwrap();
        let names: Vec<(i32, &str)> = (timeline.threads.iter())
            .map(|t| (t.tid, t.name.as_str()))
            .collect();
        assert_eq!(names, [(5, "old 5"), (6, "new")], "the main thread too");
        let kept: Vec<(u64, u64, u32)> = timeline
            .samples
            .iter()
            .map(|s| (s.time, s.weight, s.stack))
            .collect();
        assert_eq!(kept, [(10, 0, 3), (20, 3, 4)]);
    }

    #[test]
    fn a_sample_without_a_time_leaves_no_timeline() {
        let mut log = SampleLog::default();
        log.sample(Some(10), 1, 1, 1, 0);
        log.sample(None, 1, 1, 1, 0);
        log.sample(Some(30), 1, 1, 1, 0);
        assert!(log.into_timeline(&[Some(0)], |w| w).is_none());
    }
}
