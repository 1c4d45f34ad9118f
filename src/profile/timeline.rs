//! A recording's samples in time order, beside its profile: when each
//! sample was taken, on which thread, how much it weighs and which of the
//! profile's stacks it had.
//!
//! The profile merges identical stacks as they are read, so it keeps counts,
//! not time. The viewers' exports (`--firefox`, `--speedscope`) show a
//! recording's threads and the order of its samples: only then does a
//! reader keep a timeline (a fixed-size entry per sample, the stack by its
//! index in the profile), so memory stays flat otherwise.

/// One sample of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedSample {
    /// When it was taken: the record's time, in nanoseconds (the
    /// recording's clock; only differences mean anything).
    pub time: u64,
    /// What it weighs, in the profile's unit (one sample, or microseconds
    /// on or off the CPU for an off-CPU recording).
    pub weight: u64,
    /// The process it was taken in.
    pub pid: i32,
    /// The thread it was taken on.
    pub tid: i32,
    /// Its stack: an index into the profile's stacks, in the order they
    /// were added.
    pub stack: u32,
}

/// A thread the samples were taken on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadName {
    /// Its process.
    pub pid: i32,
    /// The thread.
    pub tid: i32,
    /// Its name (its last COMM record), as perf prints `comm`.
    pub name: String,
}

/// The samples of one recording in the order they were read, and the
/// threads they were taken on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Every sample; in time order per thread except for off-CPU waits,
    /// which are added when they end (the exports sort each thread's).
    pub samples: Vec<TimedSample>,
    /// Every thread with samples, and the main thread of each of their
    /// processes (which names it), in order of first sample.
    pub threads: Vec<ThreadName>,
}

impl Timeline {
    /// The name of process `pid`: its main thread's (the thread whose id is
    /// the pid), else that of its first thread.
    pub fn process_name(&self, pid: i32) -> &str {
        let of_process = || self.threads.iter().filter(move |t| t.pid == pid);
        of_process()
            .find(|t| t.tid == pid)
            .or_else(|| of_process().next())
            .map_or("", |t| t.name.as_str())
    }

    /// This timeline with every sample's stack index `i` replaced by
    /// `stack_of[i]`; samples whose stack has none are left out.
    pub fn renumbered(mut self, stack_of: &[Option<u32>]) -> Timeline {
        self.samples.retain_mut(|sample| {
            let new = stack_of.get(sample.stack as usize).copied().flatten();
            if let Some(new) = new {
                sample.stack = new;
            }
            new.is_some()
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(pid: i32, tid: i32, name: &str) -> ThreadName {
        ThreadName {
            pid,
            tid,
            name: name.to_string(),
        }
    }

    #[test]
    fn a_sample_takes_32_bytes() {
        assert_eq!(std::mem::size_of::<TimedSample>(), 32);
    }

    #[test]
    fn a_process_is_named_after_its_main_thread() {
        let timeline = Timeline {
            samples: Vec::new(),
            threads: vec![
                thread(7, 8, "worker"),
                thread(7, 7, "app"),
                thread(9, 10, "w"),
            ],
        };
        assert_eq!(timeline.process_name(7), "app");
        assert_eq!(timeline.process_name(9), "w");
        assert_eq!(timeline.process_name(11), "");
    }

    #[test]
    fn renumbering_drops_samples_of_stacks_that_are_gone() {
        let sample = |stack| TimedSample {
            time: 1,
            weight: 1,
            pid: 1,
            tid: 1,
            stack,
        };
        let timeline = Timeline {
            samples: vec![sample(0), sample(1), sample(2)],
            threads: Vec::new(),
        };
        let renumbered = timeline.renumbered(&[Some(5), None, Some(3)]);
        let stacks: Vec<u32> = renumbered.samples.iter().map(|s| s.stack).collect();
        assert_eq!(stacks, [5, 3]);
    }
}
